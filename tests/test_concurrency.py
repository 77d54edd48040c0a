"""Many `kpiframe query` processes on one DuckDB file at once, as CI jobs and dashboards
run them: every one succeeds with the same answer (a read-write attach took DuckDB's
exclusive lock, and 18 of 20 failed with "Could not set lock")."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests.test_data_safety import ROOT, duckdb_file, make_project

PROCESSES = 20


def test_twenty_concurrent_queries_on_one_duckdb_file(tmp_path: Path) -> None:
    url = duckdb_file(tmp_path)
    project = make_project(tmp_path, url)
    env = {**os.environ, "KPIFRAME_LOAD_PLUGINS": "",
           "PYTHONPATH": os.pathsep.join([str(ROOT / "tests" / "plugins"), str(ROOT)])}
    command = [sys.executable, "-m", "kpiframe.cli", "--project", str(project), "query",
               "likes", "impressions", "--by", "platform", "--format", "json"]
    # all started before any is waited for, so their connections overlap
    running = [subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                text=True, env=env, cwd=tmp_path) for _ in range(PROCESSES)]
    outcomes = [p.communicate(timeout=300) for p in running]
    results = [(p.returncode, out, err) for p, (out, err) in zip(running, outcomes, strict=True)]
    failed = [(code, err) for code, _, err in results if code != 0]
    assert not failed, f"{len(failed)} of {PROCESSES} failed: {failed[0]}"
    outputs = {out for _, out, _ in results}
    assert len(outputs) == 1
    assert '"platform": "alpha"' in outputs.pop()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["definitions", "kpiframe.yaml",
                                                          "social.duckdb"]
