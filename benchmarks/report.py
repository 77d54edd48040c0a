"""`kpiframe report` at size: 20 KPIs x 24 months x 7 platforms, written in <= 2 s, <= 2 MB.

    .venv/bin/python benchmarks/report.py [--db /tmp/report-bench.duckdb] [--repeat 3]

Builds two years of sample data for the seven first-party platforms (kept in `--db` for
the next run), then, in this one process, writes the report of the 20 KPIs the standard
dashboards show (plus posts published), the last 24 complete months, broken down by
platform: 20 tiles, each a chart of 24 periods beside a breakdown of 7 platforms. It
prints the time of each stage (the queries; drawing and writing the page), the total and
the file's size. The first run includes starting vl-convert's JavaScript engine (about
half a second, overlapped with the queries); the later runs show a warm process. No
time is asserted: the figures depend on the machine (and on what else runs on it).
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PLATFORMS = "x,facebook,instagram,linkedin,tiktok,youtube,pinterest"
MONTHS = 24
BUDGET_SECONDS, BUDGET_BYTES = 2.0, 2_000_000


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", default=None, help="sample database to build or reuse")
    parser.add_argument("--repeat", type=int, default=3, help="reports to write (default 3)")
    args = parser.parse_args(argv)
    os.environ["KPIFRAME_LOAD_PLUGINS"] = PLATFORMS
    os.chdir(ROOT)

    from kpiframe import dashboards
    from kpiframe.catalog import load_catalog
    from kpiframe.report import build, html
    from kpiframe.sample import build as build_sample
    from kpiframe.sample import database_state

    folder = Path(tempfile.mkdtemp(prefix="kpiframe-report-bench-"))
    db = Path(args.db) if args.db else folder / "sample.duckdb"
    url = f"duckdb:///{db}"
    start = dt.date(2024, 1, 1)
    days = (dt.date(2026, 1, 1) - start).days
    state, info = database_state(url)
    if state != "sample" or info is None or info.days != days or info.start != start:
        print(f"building {days} days of sample data for 7 platforms in {db} ...", flush=True)
        build_sample(url, scale=1, seed=42, start=start, days=days)

    catalog = load_catalog(ROOT / "definitions")
    kpis = list(dict.fromkeys(
        k for d in dashboards.of(catalog).values() for k in d.kpis))
    kpis = [*kpis, *(k for k in ("posts_published", "engagements", "likes") if k not in kpis)]
    kpis = kpis[:20]
    print(f"{len(kpis)} KPIs x {MONTHS} months x 7 platforms: {', '.join(kpis)}")
    totals: list[float] = []
    for run in range(1, args.repeat + 1):
        began, cpu = time.perf_counter(), time.process_time()
        report = build(catalog, kpis, engine=url, last=MONTHS, by=["platform"],
                       title="Benchmark: 20 KPIs")
        queried, cpu_queried = time.perf_counter(), time.process_time()
        page = html(report)
        out = folder / "report.html"
        out.write_text(page, "utf-8")
        done, cpu_done = time.perf_counter(), time.process_time()
        size = out.stat().st_size
        sec = report.sections[0]
        tiles = len(sec.tiles)
        periods = len(sec.tiles[0].periods) if sec.tiles else 0
        members = len(sec.tiles[0].breakdowns.get("platform", [])) if sec.tiles else 0
        totals.append(done - began)
        print(f"run {run}: queries {queried - began:.2f} s, charts and page "
              f"{done - queried:.2f} s, total {done - began:.2f} s (CPU: "
              f"{cpu_queried - cpu:.2f} + {cpu_done - cpu_queried:.2f} s); {size / 1e6:.2f} MB "
              f"({tiles} tiles, {periods} periods, {members} platforms)")
    best = min(totals)
    print(f"first run {totals[0]:.2f} s, best {best:.2f} s, median "
          f"{statistics.median(totals):.2f} s; budget {BUDGET_SECONDS:.0f} s and "
          f"{BUDGET_BYTES / 1e6:.0f} MB: time {'within' if best <= BUDGET_SECONDS else 'OVER'}"
          f", size {'within' if size <= BUDGET_BYTES else 'OVER'}")
    print(f"cores: {os.cpu_count()}, load average: {os.getloadavg()[0]:.2f}; the page: {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
