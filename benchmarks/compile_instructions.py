#!/usr/bin/env python3
"""What a compile costs in machine instructions, counted by valgrind: a figure that does
not move with the machine's load.

    python benchmarks/compile_instructions.py [--kpis 1 20] [--catalog 200] [--count 40]
                                              [--code DIR]

On a shared machine a compile's time swings by half from one minute to the next, which
hides a change of 5%. Valgrind's callgrind counts the instructions a process runs,
the same on every run (with PYTHONHASHSEED fixed). For each request size this script
runs a child process twice under callgrind, once loading the catalog and compiling
nothing, once compiling `--count` new statements (each with the memory of compiled and
checked statements cleared, as compile_cost.py does), and prints the difference per
compile.

Instructions are not time: work that waits on memory (the cycle collector walking a large
tree, say) costs more time per instruction than the parser does. Use it to compare two
versions of the code, not against a target in milliseconds:

    mkdir -p /tmp/before && git archive HEAD kpiframe | tar -x -C /tmp/before
    .venv/bin/python benchmarks/compile_instructions.py --code /tmp/before
    .venv/bin/python benchmarks/compile_instructions.py

Needs `valgrind` (Debian: `apt-get install valgrind`); a run takes a minute or two.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

#: the child: load a generated catalog, warm every cache, collect, then compile
CHILD = """
import gc, sys, tempfile
from pathlib import Path
code, size, kpis, count = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
if code:
    sys.path.insert(0, code)
sys.path.insert(0, {benchmarks!r})
from catalog_10k import generate
import kpiframe
from kpiframe.compiler import query, verify
folder = Path(tempfile.mkdtemp()) / "definitions"
folder.mkdir()
generate(folder, size)
catalog = kpiframe.load_catalog([folder], project=folder.parent)
names = [k.name for k in catalog if k.type in ("simple", "weighted")][:kpis]
def compile_new():
    query._MEMO.clear()
    verify.VERIFIED.clear()
    return catalog.compile(names, grain="month")
for _ in range(3):
    compile_new()
gc.collect()
for _ in range(count):
    compile_new()
"""


def instructions(code: str, size: int, kpis: int, count: int) -> int:
    child = CHILD.format(benchmarks=str(ROOT / "benchmarks"))
    env = {**os.environ, "PYTHONHASHSEED": "0"}
    with tempfile.TemporaryDirectory() as tmp:
        script = Path(tmp) / "child.py"
        script.write_text(child)
        done = subprocess.run(
            ["valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null",
             sys.executable, str(script), code, str(size), str(kpis), str(count)],
            capture_output=True, text=True, env=env, check=True)
    found = re.search(r"Collected : (\d+)", done.stderr)
    if found is None:
        raise SystemExit(f"no instruction count in valgrind's output:\n{done.stderr[-2000:]}")
    return int(found.group(1))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--kpis", type=int, nargs="+", default=[1, 20],
                        help="request sizes (simple and weighted KPIs)")
    parser.add_argument("--catalog", type=int, default=200, help="KPIs in the catalog")
    parser.add_argument("--count", type=int, default=40, help="compiles counted")
    parser.add_argument("--code", default="",
                        help="a folder holding another version's kpiframe package")
    args = parser.parse_args()
    if shutil.which("valgrind") is None:
        raise SystemExit("valgrind is not installed (Debian: apt-get install valgrind)")
    print(f"code: {args.code or 'this checkout'}; catalog of {args.catalog} KPIs; "
          f"{args.count} new statements counted")
    for kpis in args.kpis:
        base = instructions(args.code, args.catalog, kpis, 0)
        total = instructions(args.code, args.catalog, kpis, args.count)
        print(f"compile a {kpis}-KPI request: {(total - base) / args.count / 1e6:.2f} M "
              "instructions")


if __name__ == "__main__":
    main()
