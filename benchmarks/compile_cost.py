#!/usr/bin/env python3
"""What a compile costs, and whether that cost follows the request or the catalog.

    python benchmarks/compile_cost.py [--repeat 200] [--no-process]

Prints, over catalogs generated as in catalog_10k.py (200 and 10,000 KPIs), each figure
with its target beside it:

- in-process, warm: one simple KPI compiled with 200 and with 10,000 KPIs loaded (the
  ratio should stay near 1: a request's checks touch only the KPIs it needs); the same
  compile repeated, and a different KPI each time with the read-back check's memory
  cleared (what a new statement costs); requests of 20 and 1,000 KPIs;
- as a whole process: `kpiframe compile X` on the 200-KPI catalog, with the plugin SQL
  cache warm (every run after the first) and empty (the first run after an upgrade), and
  `kpiframe --help`. The script byte-compiles kpiframe and plugins first (`python -m
  compileall`): with PYTHONDONTWRITEBYTECODE set, a process would otherwise compile its
  own modules, and measure that.

Figures are medians (and best) of repeated runs: in-process as CPU time unless `--clock
wall` (a compile is single-threaded; CPU time is what load on a shared machine disturbs
least), whole processes as both wall and CPU time (the child's user + system). The
targets are printed, not asserted: timings belong in a report, not in the test suite.
"""

from __future__ import annotations

import argparse
import gc
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Mapping
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from catalog_10k import generate

import kpiframe
from kpiframe.compiler import verify

ROOT = Path(__file__).resolve().parents[1]


#: the in-process clock: CPU time by default (a compile is single-threaded, and on a
#: machine shared with other work CPU time varies far less than wall time); --clock wall
CLOCK: Callable[[], float] = time.process_time


def _timed(action: Callable[[], object], repeat: int,
           clock: Callable[[], float] | None = None) -> list[float]:
    tick = clock or CLOCK
    action()  # warm: first-use caches (sqlglot dialects, parsed expressions)
    runs = []
    for _ in range(repeat):
        started = tick()
        action()
        runs.append(tick() - started)
    return runs


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _ms(runs: list[float]) -> str:
    return f"median {statistics.median(runs) * 1000:.2f} ms, best {min(runs) * 1000:.2f} ms"


def _verdict(value: float, limit: float) -> str:
    return "ok" if value <= limit else "OVER"


def _report(label: str, runs: list[float], limit_ms: float) -> float:
    median = statistics.median(runs)
    print(f"{label}: {_ms(runs)}  [target <= {limit_ms:g} ms: "
          f"{_verdict(median * 1000, limit_ms)}]")
    return median


def _catalog(root: Path, count: int) -> tuple[kpiframe.Catalog, Path]:
    folder = root / f"c{count}" / "definitions"
    folder.mkdir(parents=True)
    generate(folder, count)
    return kpiframe.load_catalog([folder], project=folder.parent), folder.parent


def _forget() -> None:
    """As if nothing had been compiled or checked in this process: compile_query
    remembers statements per resolved catalog, and verify remembers statements it
    passed. The compile figures below measure the work, not those memories."""
    from kpiframe.compiler import query

    memo = getattr(query, "_MEMO", None)  # absent in versions that keep nothing
    if memo is not None:
        memo.clear()
    checked = getattr(verify, "VERIFIED", None)
    if checked is not None:
        checked.clear()


def _new(catalog: kpiframe.Catalog, names: str | list[str]) -> Callable[[], object]:
    def action() -> object:
        _forget()
        return catalog.compile(names, grain="month")
    return action


def in_process(small: kpiframe.Catalog, large: kpiframe.Catalog, repeat: int) -> None:
    one = "k00000_simple"
    per_size = {}
    for label, catalog in (("200", small), ("10,000", large)):
        runs = _timed(_new(catalog, one), repeat)
        per_size[label] = statistics.median(runs)
        print(f"compile 1 simple KPI, {label} KPIs loaded: {_ms(runs)}")
    ratio = per_size["10,000"] / per_size["200"]
    print(f"  ratio 10,000 / 200 loaded: {ratio:.2f}x  [target <= 1.2x: "
          f"{_verdict(ratio, 1.2)}]")
    _report("compile 1 simple KPI, warm process, a new statement each time",
            _timed(_new(small, one), repeat), 1)
    _report("compile 1 simple KPI, the same request again (remembered)",
            _timed(lambda: small.compile(one, grain="month"), repeat), 1)

    plain = [k.name for k in large if k.type in ("simple", "weighted")]
    twenty = plain[:20]
    runs20 = _timed(_new(large, twenty), repeat)
    median20 = _report("compile a 20-KPI request (simple and weighted)", runs20, 5)
    thousand = plain[:1000]
    runs1000 = _timed(_new(large, thousand), 7)
    print(f"compile a 1000-KPI request (simple and weighted): {_ms(runs1000)}")
    ratio = statistics.median(runs1000) / median20
    print(f"  ratio 1,000 / 20 KPIs: {ratio:.1f}x  [target <= 60x (linear: 50x): "
          f"{_verdict(ratio, 60)}]")


def whole_process(project: Path, cache: Path) -> None:
    subprocess.run([sys.executable, "-m", "compileall", "-q", "kpiframe", "plugins"],
                   cwd=ROOT, check=True)
    kpiframe_bin = shutil.which("kpiframe") or str(Path(sys.executable).parent / "kpiframe")
    one = "k00000_simple"
    command = [kpiframe_bin, "--project", str(project), "compile", one, "--grain", "month"]
    warm_env = {**os.environ, "KPIFRAME_CACHE_DIR": str(cache)}

    def run(env: Mapping[str, str]) -> None:
        subprocess.run(command, check=True, capture_output=True, env=env)

    empties = iter(range(10**9))

    def cold() -> None:
        run({**os.environ, "KPIFRAME_CACHE_DIR": str(cache / f"empty{next(empties)}")})

    def help_() -> None:
        subprocess.run([kpiframe_bin, "--help"], check=True, capture_output=True)

    for label, action, limit in (
        (f"`kpiframe compile {one}` on the 200-KPI catalog, whole process",
         lambda: run(warm_env), 250),
        ("  the same with an empty plugin SQL cache (first run after an upgrade)", cold, 250),
        ("`kpiframe --help`, whole process", help_, 100),
    ):
        _report(label + ", wall", _timed(action, 7, time.perf_counter), limit)
        _report(label + ", CPU", _timed(action, 7, _children_cpu), limit)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=200)
    parser.add_argument("--no-process", action="store_true",
                        help="skip the whole-process figures")
    parser.add_argument("--clock", choices=("cpu", "wall"), default="cpu",
                        help="in-process timings as process CPU time (default) or wall time")
    args = parser.parse_args()
    global CLOCK
    CLOCK = time.process_time if args.clock == "cpu" else time.perf_counter
    print(f"in-process figures: {'CPU' if args.clock == 'cpu' else 'wall'} time")
    with tempfile.TemporaryDirectory() as tmp:
        small, small_dir = _catalog(Path(tmp), 200)
        large, _ = _catalog(Path(tmp), 10_000)
        # a warm process has long since collected what loading left behind: without this,
        # the first compiles timed pay for walking the 10,000 KPIs just loaded
        gc.collect()
        in_process(small, large, args.repeat)
        if not args.no_process:
            whole_process(small_dir, Path(tmp) / "cache")


if __name__ == "__main__":
    main()
