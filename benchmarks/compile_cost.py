#!/usr/bin/env python3
"""What a compile costs, and whether that cost follows the request or the catalog.

    python benchmarks/compile_cost.py [--repeat 200]

Prints, over catalogs generated as in catalog_10k.py (200 and 10,000 KPIs):

- in-process, warm: one simple KPI compiled with 200 and with 10,000 KPIs loaded (the
  ratio should stay near 1: a request's checks touch only the KPIs it needs), and
  requests of 20 and 1,000 KPIs;
- as a whole process: `kpiframe compile X` on the 200-KPI catalog and `kpiframe --help`
  (byte-compile first, `python -m compileall -q kpiframe plugins`, when
  PYTHONDONTWRITEBYTECODE is set: a process that compiles its own modules measures that).

Figures are medians (and best) of repeated runs; there are no pass/fail thresholds here.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from catalog_10k import generate

import kpiframe


def _timed(action: Callable[[], object], repeat: int) -> list[float]:
    action()  # warm: first-use caches (sqlglot dialects, parsed expressions)
    runs = []
    for _ in range(repeat):
        started = time.perf_counter()
        action()
        runs.append(time.perf_counter() - started)
    return runs


def _ms(runs: list[float]) -> str:
    return f"median {statistics.median(runs) * 1000:.2f} ms, best {min(runs) * 1000:.2f} ms"


def _catalog(root: Path, count: int) -> tuple[kpiframe.Catalog, Path]:
    folder = root / f"c{count}" / "definitions"
    folder.mkdir(parents=True)
    generate(folder, count)
    return kpiframe.load_catalog([folder], project=folder.parent), folder.parent


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=200)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        small, small_dir = _catalog(Path(tmp), 200)
        large, _ = _catalog(Path(tmp), 10_000)
        one = "k00000_simple"
        per_size = {}
        for label, catalog in (("200", small), ("10,000", large)):
            runs = _timed(lambda c=catalog: c.compile(one, grain="month"), args.repeat)
            per_size[label] = statistics.median(runs)
            print(f"compile 1 simple KPI, {label} KPIs loaded: {_ms(runs)}")
        print(f"  ratio 10,000 / 200 loaded: {per_size['10,000'] / per_size['200']:.2f}x")
        plain = [k.name for k in large if k.type in ("simple", "weighted")]
        for size, repeat in ((20, max(10, args.repeat // 10)), (1000, 3)):
            names = plain[:size]
            runs = _timed(lambda n=names: large.compile(n, grain="month"), repeat)
            print(f"compile a {size}-KPI request (simple and weighted): {_ms(runs)}")

        kpiframe_bin = shutil.which("kpiframe") or str(Path(sys.executable).parent / "kpiframe")
        command = [kpiframe_bin, "--project", str(small_dir), "compile", one, "--grain", "month"]
        subprocess.run(command, check=True, capture_output=True)
        runs = _timed(lambda: subprocess.run(command, check=True, capture_output=True), 7)
        print(f"`kpiframe compile {one}` on the 200-KPI catalog, whole process: {_ms(runs)}")
        runs = _timed(lambda: subprocess.run([kpiframe_bin, "--help"], check=True,
                                             capture_output=True), 7)
        print(f"`kpiframe --help`, whole process: {_ms(runs)}")


if __name__ == "__main__":
    main()
