#!/usr/bin/env python3
"""`kpiframe validate` on a generated 10,000-KPI catalog, and the CLI's cold start.

    python benchmarks/catalog_10k.py [--kpis 10000] [--sizes 200,1000,10000]

Prints the time to load and validate catalogs of each of `--sizes` in-process (the first
run, which parses every expression, and per KPI: the cost should grow linearly with the
catalog; then the best of two more, with the expression caches warm), then of
`kpiframe validate` over the `--kpis` catalog (wall clock, best of three, in a fresh
process each time, as CI would run it), the problems it reports (the catalog has a known
number of planted errors, so the count is checked too), and the cold start of
`kpiframe --help`.
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

TYPES = ("simple", "weighted", "ratio", "derived", "cumulative", "change")


def generate(folder: Path, count: int, per_file: int = 500) -> int:
    """Write `count` KPIs over 20-odd files; plant one unknown reference per 1,000 KPIs.
    Returns the number of planted errors."""
    planted = 0
    kpis: list[str] = []
    for i in range(count):
        kind = TYPES[i % len(TYPES)]
        name = f"k{i:05d}_{kind}"
        base = f"k{(i // 6) * 6:05d}_simple"
        if kind == "simple":
            body = (f"    type: simple\n    source: post_daily\n    agg: sum\n"
                    f"    expr: likes + comments * {i % 7}\n"
                    f"    filter: post_type IN ('photo', 'video') AND platform <> 'zz{i}'\n")
        elif kind == "weighted":
            body = ("    type: weighted\n    source: post_daily\n"
                    f"    weights: {{likes: 1, comments: {i % 5 + 1}, shares: 3}}\n")
        elif kind == "ratio":
            body = (f"    type: ratio\n    numerator: {base}\n"
                    f"    denominator: k{(i // 6) * 6 + 1:05d}_weighted\n    scale: 100\n")
        elif kind == "derived":
            body = f"    type: derived\n    expr: ({base} + 1) / 2\n"
        elif kind == "cumulative":
            body = f"    type: cumulative\n    of: {base}\n    window: {i % 28 + 1} days\n"
        else:
            ref = base if i % 1000 != 5 else "no_such_kpi"
            planted += ref == "no_such_kpi"
            body = f"    type: change\n    of: {ref}\n    calc: percent\n"
        kpis.append(f"  - name: {name}\n{body}    label: KPI {i}\n    tags: [generated]\n")
    for start in range(0, count, per_file):
        text = "kpis:\n" + "".join(kpis[start:start + per_file])
        (folder / f"part{start // per_file:03d}.yaml").write_text(text)
    return planted


def timed(command: list[str], cwd: Path) -> tuple[float, subprocess.CompletedProcess[str]]:
    started = time.perf_counter()
    done = subprocess.run(command, cwd=cwd, capture_output=True, text=True)
    return time.perf_counter() - started, done


def in_process(root: Path, count: int) -> None:
    """Load and validate a `count`-KPI catalog in this process: what an editor
    integration or a test suite pays, without the interpreter's start-up."""
    import kpiframe

    folder = root / f"inproc{count}" / "definitions"
    folder.mkdir(parents=True)
    planted = generate(folder, count)
    runs = []
    for _ in range(3):
        started = time.perf_counter()
        problems = kpiframe.load_catalog([folder], project=folder.parent).validate()
        runs.append(time.perf_counter() - started)
    errors = [p for p in problems if p.is_error]
    print(f"in-process load + validate {count:,} KPIs: first {runs[0]:.3f} s "
          f"({runs[0] / count * 1e6:.0f} us per KPI), then best {min(runs[1:]):.3f} s "
          f"({len(errors)} errors, {planted} planted)")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--kpis", type=int, default=10_000)
    parser.add_argument("--sizes", default="200,1000,10000",
                        help="catalog sizes to validate in-process (comma-separated)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        import kpiframe

        warm = Path(tmp) / "warm" / "definitions"  # imports, first-use caches: not per KPI
        warm.mkdir(parents=True)
        generate(warm, 12)
        kpiframe.load_catalog([warm], project=warm.parent).validate()
        for count in (int(s) for s in args.sizes.split(",") if s.strip()):
            in_process(Path(tmp), count)
    kpiframe = shutil.which("kpiframe") or str(Path(sys.executable).parent / "kpiframe")
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "definitions"
        folder.mkdir()
        planted = generate(folder, args.kpis)
        runs = []
        for _ in range(3):
            seconds, done = timed([kpiframe, "validate", str(folder), "--format", "json"],
                                  Path(tmp))
            runs.append(seconds)
        report = json.loads(done.stdout)
        errors = [p for p in report["problems"] if p["severity"] == "error"]
        print(f"validate {report['kpis']:,} KPIs in {report['files']} files: "
              f"best {min(runs):.2f} s, median {statistics.median(runs):.2f} s "
              f"(exit {done.returncode}, {len(errors)} errors, {planted} planted)")
        if len(errors) != planted or {p["rule"] for p in errors} != {"unknown-kpi"}:
            print("UNEXPECTED REPORT:", json.dumps(report["problems"][:5], indent=2))
            sys.exit(1)
        starts = [timed([kpiframe, "--help"], Path(tmp))[0] for _ in range(7)]
        help_ms = statistics.median(starts) * 1000
        print(f"kpiframe --help cold start: best {min(starts) * 1000:.0f} ms, "
              f"median {help_ms:.0f} ms  [target < 100 ms: "
              f"{'ok' if help_ms < 100 else 'OVER'}]")
        probe = subprocess.run(
            [sys.executable, "-X", "importtime", "-c", "import kpiframe.cli"],
            capture_output=True, text=True)
        heavy = [line for line in probe.stderr.splitlines()
                 if any(m in line for m in ("sqlglot", "duckdb", "jsonschema", "yaml"))]
        print("heavy modules imported at start-up:", "none" if not heavy else len(heavy))


if __name__ == "__main__":
    main()
