#!/usr/bin/env python3
"""kpiframe's SQL for six query shapes against SQL written by hand, on the sample data.

    python benchmarks/shapes.py [--rows 10000000] [--repeat 5] [--db PATH] [--no-memory]
    python benchmarks/shapes.py --engine postgres [--rows 1000000]

The data is kpiframe's own sample data (`kpiframe.sample.build`, every installed platform,
canonical layout) in a DuckDB file. `--rows` is the number of `post_daily` rows wanted; the
sample scale is derived from it (about 19,350 `post_daily` and 8,395 `account_daily` rows
per unit of scale, so 10 million `post_daily` rows is scale ~517, with ~4.3 million
`account_daily` rows). The script prints the rows it really used. `--db` keeps the file
between runs (it is rebuilt only when its scale differs).

For each shape, kpiframe's query (`catalog.compile(..., dialect=...)` over the small
benchmark catalog below) and a hand-written query computing the same numbers run on the
same connection, interleaved (the order alternates every round), after one warm-up run
each, --repeat times; the script prints the medians and their ratio, and fails loudly if
the two return different rows.

Peak memory (DuckDB only, Linux): each query runs once in a fresh Python process that
opens the database read-only; the figure is how far that process's peak resident size rose
above its resident size just before the query (the peak, VmHWM, is reset to the current
size through /proc/self/clear_refs first). A fresh process, because a peak never goes down:
in one process the first query's peak would hide every later one. Not getrusage's
ru_maxrss: Linux carries it over from the parent across fork and exec, so a child of a large
process starts with its parent's peak. Resident size rather than DuckDB's own buffer
accounting, because not every allocation of a window sort or hash table goes through the
buffer manager, and the resident size is what the user's machine pays. Both queries read
the same columns, so the pages read count the same in both.

`--engine postgres` loads the DuckDB-built `post_daily` and `account_daily` rows into a
throwaway PostgreSQL server (initdb/pg_ctl, as the `postgres` user when run as root) and
compares the four main shapes with hand-written PostgreSQL (default 1 million rows).
"""

from __future__ import annotations

import argparse
import datetime as dt
import decimal
import math
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

#: post_daily and account_daily rows per unit of sample scale (measured at scale 40;
#: small scales give a little more per unit)
POST_DAILY_PER_SCALE = 19_355
ACCOUNT_DAILY_PER_SCALE = 8_395

INTERACTIONS = ("likes", "comments", "shares", "saves", "clicks")

TWENTY = ("impressions", "reach", "video_views", "likes", "comments", "shares", "saves",
          "clicks", "photo_likes", "post_days", "avg_impressions", "peak_reach",
          "video_likes", "engagements", "engagement_rate", "click_through_rate",
          "virality_rate", "likes_per_post_day", "comment_share", "minimum_clicks")

CATALOG = "kpis:\n" + "".join(
    f"  - name: {m}\n    type: simple\n    source: post_daily\n    agg: sum\n    expr: {m}\n"
    + ("    # kpiframe: ignore[sum-non-additive]\n" if m == "reach" else "")
    for m in ("impressions", "reach", "video_views", *INTERACTIONS)
) + """\
  - name: photo_likes
    type: simple
    source: post_daily
    agg: sum
    expr: likes
    filter: post_type = 'photo'
  - name: video_likes
    type: simple
    source: post_daily
    agg: sum
    expr: likes
    filter: post_type = 'video'
  - name: post_days
    type: simple
    source: post_daily
    agg: count
  - name: avg_impressions
    type: simple
    source: post_daily
    agg: avg
    expr: impressions
  - name: peak_reach
    type: simple
    source: post_daily
    agg: max
    expr: reach
  - name: minimum_clicks
    type: simple
    source: post_daily
    agg: min
    expr: clicks
  - name: engagements
    type: weighted
    source: post_daily
    weights: {likes: 1, comments: 1, shares: 1, saves: 1, clicks: 1}
  - name: engagement_rate
    type: ratio
    numerator: engagements
    denominator: impressions
    scale: 100
  - name: click_through_rate
    type: ratio
    numerator: clicks
    denominator: impressions
    scale: 100
  - name: virality_rate
    type: ratio
    numerator: shares
    denominator: impressions
    scale: 100
  - name: likes_per_post_day
    type: derived
    expr: likes / post_days
  - name: comment_share
    type: derived
    expr: comments * 100 / engagements
  - name: followers
    type: simple
    source: account_daily
    agg: last
    expr: followers
  - name: impressions_7d
    type: cumulative
    of: impressions
    window: 7 days
  - name: impressions_mtd
    type: cumulative
    of: impressions
    grain_to_date: month
"""


# --------------------------------------------------------------------------- hand-written
# The hand-written queries read the platforms' tables directly, naming the columns each
# platform has (NULL for the ones it lacks, as a person reading the schemas would).

Columns = dict[tuple[str, str], set[str]]


def union(platforms: Sequence[str], columns: Columns, table: str,
          fields: Sequence[str]) -> str:
    """One table's rows over every platform, with a `platform` column."""
    parts = []
    for platform in platforms:
        have = columns[(platform, table)]
        values = ", ".join(f if f in have else f"NULL AS {f}" for f in fields)
        parts.append(f"SELECT '{platform}' AS platform, {values} FROM \"{platform}\".{table}")
    return "\n    UNION ALL ".join(parts)


@dataclass(frozen=True)
class Dialect:
    """What differs between the DuckDB and the PostgreSQL hand-written queries."""

    name: str
    month: Callable[[str], str]
    #: periods from lo to hi, a column `period`, given `FROM` text yielding lo and hi
    series: Callable[[str, str, str, str], str]
    #: per account and month: period, followers at the latest time
    last: str
    week_interval: str
    hundred: str


def _duck_series(lo: str, hi: str, step: str, source: str) -> str:
    return (f"SELECT CAST(unnest(generate_series({lo}, {hi}, INTERVAL 1 {step})) AS DATE)"
            f" AS period FROM {source}")


def _pg_series(lo: str, hi: str, step: str, source: str) -> str:
    return (f"SELECT CAST(generate_series({lo}, {hi}, INTERVAL '1 {step}') AS DATE)"
            f" AS period FROM {source}")


#: arg_max skips rows whose value is NULL: the last non-NULL followers per account and month
DUCK_LAST = """
    SELECT CAST(date_trunc('month', date) AS DATE) AS period, platform, account_id,
           arg_max(followers, date) AS followers
    FROM rows
    GROUP BY ALL"""


#: each account's latest day with followers in the month, then its followers that day:
#: two hash aggregates and a hash join, faster on PostgreSQL than DISTINCT ON or
#: ROW_NUMBER(), which sort every row (measured at 1M rows: 0.57 s against 0.69-0.89 s).
#: One row per account and day, the table's key, so the join finds one row.
PG_LAST = """
    SELECT l.period, r.followers
    FROM (
        SELECT platform, account_id, CAST(date_trunc('month', date) AS DATE) AS period,
               MAX(date) AS date
        FROM rows WHERE followers IS NOT NULL GROUP BY 1, 2, 3
    ) l
    JOIN rows r ON r.platform = l.platform AND r.account_id = l.account_id
               AND r.date = l.date"""


DUCKDB = Dialect("duckdb", lambda c: f"CAST(date_trunc('month', {c}) AS DATE)", _duck_series,
                 DUCK_LAST, "INTERVAL 6 DAYS", "100.0")
POSTGRES = Dialect("postgres", lambda c: f"CAST(date_trunc('month', {c}) AS DATE)",
                   _pg_series, PG_LAST, "INTERVAL '6 days'", "100.0")


def hand_likes(d: Dialect, platforms: Sequence[str], columns: Columns) -> str:
    return f"""
WITH rows AS (
    {union(platforms, columns, "post_daily", ("date", "likes"))}
), agg AS (
    SELECT {d.month("date")} AS period, platform, SUM(likes) AS likes
    FROM rows GROUP BY 1, 2
), months AS (
    {d.series("lo", "hi", "MONTH", "(SELECT MIN(period) AS lo, MAX(period) AS hi FROM agg) b")}
)
SELECT m.period, p.platform, a.likes
FROM months m CROSS JOIN (SELECT DISTINCT platform FROM agg) p
LEFT JOIN agg a ON a.period = m.period AND a.platform = p.platform
ORDER BY 1, 2"""


def hand_engagement_rate(d: Dialect, platforms: Sequence[str], columns: Columns) -> str:
    engagements = " + ".join(f"COALESCE({f}, 0)" for f in INTERACTIONS)
    return f"""
WITH rows AS (
    {union(platforms, columns, "post_daily", ("date", "impressions", *INTERACTIONS))}
), agg AS (
    SELECT {d.month("date")} AS period,
           SUM({engagements}) * {d.hundred} / NULLIF(SUM(impressions), 0) AS engagement_rate
    FROM rows GROUP BY 1
), months AS (
    {d.series("lo", "hi", "MONTH", "(SELECT MIN(period) AS lo, MAX(period) AS hi FROM agg) b")}
)
SELECT m.period, a.engagement_rate
FROM months m LEFT JOIN agg a ON a.period = m.period
ORDER BY 1"""


def hand_followers(d: Dialect, platforms: Sequence[str], columns: Columns) -> str:
    rows = union(platforms, columns, "account_daily", ("account_id", "date", "followers"))
    return f"""
WITH rows AS (
    {rows}
), last AS ({d.last}
), agg AS (
    SELECT period, SUM(followers) AS followers FROM last GROUP BY 1
), months AS (
    {d.series("lo", "hi", "MONTH", "(SELECT MIN(period) AS lo, MAX(period) AS hi FROM agg) b")}
)
SELECT m.period, a.followers
FROM months m LEFT JOIN agg a ON a.period = m.period
ORDER BY 1"""


def _daily_impressions(d: Dialect, platforms: Sequence[str], columns: Columns) -> str:
    return f"""
WITH rows AS (
    {union(platforms, columns, "post_daily", ("date", "impressions"))}
), daily AS (
    SELECT date AS period, SUM(impressions) AS impressions FROM rows GROUP BY 1
), days AS (
    {d.series("lo", "hi", "DAY", "(SELECT MIN(period) AS lo, MAX(period) AS hi FROM daily) b")}
)"""


def hand_rolling(d: Dialect, platforms: Sequence[str], columns: Columns) -> str:
    return _daily_impressions(d, platforms, columns) + f"""
SELECT days.period,
       SUM(daily.impressions) OVER (
           ORDER BY days.period RANGE BETWEEN {d.week_interval} PRECEDING AND CURRENT ROW
       ) AS impressions_7d
FROM days LEFT JOIN daily ON daily.period = days.period
ORDER BY 1"""


def hand_month_to_date(d: Dialect, platforms: Sequence[str], columns: Columns) -> str:
    return _daily_impressions(d, platforms, columns) + f"""
SELECT days.period,
       SUM(daily.impressions) OVER (
           PARTITION BY {d.month("days.period")} ORDER BY days.period
           ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW
       ) AS impressions_mtd
FROM days LEFT JOIN daily ON daily.period = days.period
ORDER BY 1"""


def hand_twenty(d: Dialect, platforms: Sequence[str], columns: Columns) -> str:
    fields = ("date", "post_type", "impressions", "reach", "video_views", *INTERACTIONS)
    engagements = " + ".join(f"COALESCE({f}, 0)" for f in INTERACTIONS)
    return f"""
WITH rows AS (
    {union(platforms, columns, "post_daily", fields)}
), agg AS (
    SELECT {d.month("date")} AS period, platform,
           SUM(impressions) AS impressions, SUM(reach) AS reach,
           SUM(video_views) AS video_views, SUM(likes) AS likes, SUM(comments) AS comments,
           SUM(shares) AS shares, SUM(saves) AS saves, SUM(clicks) AS clicks,
           SUM(CASE WHEN post_type = 'photo' THEN likes END) AS photo_likes,
           COUNT(*) AS post_days, AVG(impressions) AS avg_impressions,
           MAX(reach) AS peak_reach,
           SUM(CASE WHEN post_type = 'video' THEN likes END) AS video_likes,
           SUM({engagements}) AS engagements,
           MIN(clicks) AS minimum_clicks
    FROM rows GROUP BY 1, 2
), months AS (
    {d.series("lo", "hi", "MONTH", "(SELECT MIN(period) AS lo, MAX(period) AS hi FROM agg) b")}
)
SELECT m.period, p.platform, a.impressions, a.reach, a.video_views, a.likes, a.comments,
       a.shares, a.saves, a.clicks, a.photo_likes, COALESCE(a.post_days, 0) AS post_days,
       a.avg_impressions, a.peak_reach, a.video_likes, a.engagements,
       a.engagements * {d.hundred} / NULLIF(a.impressions, 0) AS engagement_rate,
       a.clicks * {d.hundred} / NULLIF(a.impressions, 0) AS click_through_rate,
       a.shares * {d.hundred} / NULLIF(a.impressions, 0) AS virality_rate,
       a.likes * 1.0 / NULLIF(a.post_days, 0) AS likes_per_post_day,
       a.comments * {d.hundred} / NULLIF(a.engagements, 0) AS comment_share,
       a.minimum_clicks
FROM months m CROSS JOIN (SELECT DISTINCT platform FROM agg) p
LEFT JOIN agg a ON a.period = m.period AND a.platform = p.platform
ORDER BY 1, 2"""


@dataclass(frozen=True)
class Shape:
    label: str
    kpis: tuple[str, ...]
    grain: str
    by: tuple[str, ...]
    hand: Callable[[Dialect, Sequence[str], Columns], str]
    target: str
    postgres: bool = True


SHAPES = (
    Shape("sum of likes by month and platform", ("likes",), "month", ("platform",),
          hand_likes, "<= 1.05x"),
    Shape("engagement rate (ratio of sums) by month", ("engagement_rate",), "month", (),
          hand_engagement_rate, "<= 1.05x"),
    Shape("followers (agg: last) by month", ("followers",), "month", (), hand_followers,
          "<= 1.1x, memory <= 1.2x"),
    Shape("impressions over a rolling 7 days, by day", ("impressions_7d",), "day", (),
          hand_rolling, "<= 1.1x"),
    Shape("impressions month to date, by day", ("impressions_mtd",), "day", (),
          hand_month_to_date, "<= 1.1x", postgres=False),
    Shape("20 KPIs from post_daily in one query, by month and platform", TWENTY, "month",
          ("platform",), hand_twenty, "<= 1.05x", postgres=False),
)


# --------------------------------------------------------------------------- comparing

def _number(value: object) -> bool:
    return isinstance(value, (int, float, decimal.Decimal)) and not isinstance(value, bool)


def same_value(a: object, b: object) -> bool:
    if _number(a) and _number(b):
        if isinstance(a, float) or isinstance(b, float):
            return math.isclose(float(a), float(b), rel_tol=1e-9)  # type: ignore[arg-type]
        return a == b
    if isinstance(a, dt.datetime) and not isinstance(b, dt.datetime):
        a = a.date()
    if isinstance(b, dt.datetime) and not isinstance(a, dt.datetime):
        b = b.date()
    return a == b


def first_difference(left: Sequence[Sequence[object]],
                     right: Sequence[Sequence[object]]) -> str | None:
    if len(left) != len(right):
        return f"{len(left)} rows against {len(right)}"
    for number, (a, b) in enumerate(zip(left, right, strict=True)):
        if len(a) != len(b) or not all(same_value(x, y) for x, y in zip(a, b, strict=True)):
            return f"row {number + 1}: kpiframe {tuple(a)!r}, hand-written {tuple(b)!r}"
    return None


# --------------------------------------------------------------------------- timing

Run = Callable[[str], list[tuple[object, ...]]]


@dataclass(frozen=True)
class Timing:
    """Medians in seconds: elapsed, and CPU time of this process (all its threads)."""

    ours: float
    hand: float
    cpu_ours: float
    cpu_hand: float
    #: the 1-minute load average when the runs ended (the machine may be shared)
    load: float


def compare(run: Run, ours: str, hand: str, repeat: int) -> Timing:
    """Medians of kpiframe's and the hand-written query, interleaved after a warm-up.

    Elapsed time is what a user waits; on a shared machine it swings with other work. An
    in-process engine's CPU time (DuckDB's threads are this process's) swings much less,
    so both are measured; for a server (PostgreSQL) only the elapsed time means anything.
    """
    rows_ours, rows_hand = run(ours), run(hand)
    difference = first_difference(rows_ours, rows_hand)
    if difference is not None:
        raise SystemExit(f"FAIL: kpiframe and the hand-written SQL disagree: {difference}")
    times: dict[str, list[float]] = {"ours": [], "hand": []}
    cpu: dict[str, list[float]] = {"ours": [], "hand": []}
    for round_ in range(repeat):
        order = (("ours", ours), ("hand", hand))
        for key, sql in order if round_ % 2 == 0 else order[::-1]:
            started, started_cpu = time.perf_counter(), time.process_time()
            run(sql)
            times[key].append(time.perf_counter() - started)
            cpu[key].append(time.process_time() - started_cpu)
    return Timing(statistics.median(times["ours"]), statistics.median(times["hand"]),
                  statistics.median(cpu["ours"]), statistics.median(cpu["hand"]),
                  os.getloadavg()[0])


MEMORY_PROBE = """
import sys
import duckdb


def status(field):
    with open("/proc/self/status") as lines:
        for line in lines:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    raise SystemExit("no " + field + " in /proc/self/status")


con = duckdb.connect(sys.argv[1], read_only=True)
con.execute("SET threads = " + sys.argv[2])
con.execute("SET enable_progress_bar = false")
sql = sys.stdin.read()
with open("/proc/self/clear_refs", "w") as clear:
    clear.write("5")  # the peak (VmHWM) starts again from the current resident size
before = status("VmRSS")
con.execute(sql).fetchall()
print(status("VmHWM") - before)
"""


def peak_memory_mib(db: Path, threads: int, sql: str) -> float:
    """Peak resident memory the query added, in a fresh process (see the module doc)."""
    done = subprocess.run([sys.executable, "-c", MEMORY_PROBE, str(db), str(threads)],
                          input=sql, capture_output=True, text=True, check=False)
    if done.returncode:
        raise SystemExit(f"FAIL: the memory probe failed:\n{done.stderr}")
    last_line = done.stdout.strip().splitlines()[-1]
    return int(last_line) / 1024  # /proc/self/status counts in KiB


# --------------------------------------------------------------------------- data

def build_data(db: Path, scale: float) -> None:
    from kpiframe.sample import build, database_state

    url = f"duckdb:///{db}"
    state, info = database_state(url)
    if state == "sample" and info is not None and math.isclose(info.scale, scale):
        print(f"reusing {db} (sample data at scale {scale:g})")
        return
    started = time.perf_counter()
    build(url, scale=scale)
    print(f"built sample data at scale {scale:g} in {db} "
          f"in {time.perf_counter() - started:.1f} s")


def platforms_and_columns(con: Any) -> tuple[list[str], Columns]:
    columns: Columns = {}
    for schema, table, column in con.execute(
            "SELECT table_schema, table_name, column_name FROM information_schema.columns "
            "WHERE table_name IN ('post_daily', 'account_daily')").fetchall():
        columns.setdefault((schema, table), set()).add(column)
    platforms = sorted({s for s, t in columns if t == "post_daily" and s != "main"})
    return platforms, columns


def count_rows(run: Run, platforms: Sequence[str], table: str) -> int:
    total = " + ".join(f"(SELECT COUNT(*) FROM \"{p}\".{table})" for p in platforms)
    count = run(f"SELECT {total}")[0][0]
    assert isinstance(count, int)
    return count


def load_catalog_for(folder: Path) -> Any:
    from kpiframe import load_catalog

    (folder / "kpis.yaml").write_text(CATALOG)
    catalog = load_catalog(folder / "kpis.yaml", project=folder)
    problems = [p for p in catalog.validate() if p.is_error]
    if problems:
        raise SystemExit(f"FAIL: the benchmark catalog is refused: {problems}")
    return catalog


# --------------------------------------------------------------------------- postgres

def _find(binary: str) -> str | None:
    found = shutil.which(binary)
    if found:
        return found
    for root in sorted(Path("/usr/lib/postgresql").glob("*/bin"), reverse=True):
        if (root / binary).exists():
            return str(root / binary)
    return None


def _as_postgres_user(command: list[str]) -> list[str]:
    """initdb refuses to run as root: run the server as the `postgres` user then."""
    if os.geteuid() == 0:
        runuser = shutil.which("runuser")
        if runuser:
            return [runuser, "-u", "postgres", "--", *command]
        return ["su", "postgres", "-c", " ".join(command)]
    return command


def _run(command: list[str]) -> None:
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    if done.returncode:
        raise SystemExit(f"FAIL: {' '.join(command)}:\n{done.stdout}\n{done.stderr}")


@contextmanager
def postgres_server() -> Iterator[str]:
    """A throwaway PostgreSQL server on a Unix socket; its URL."""
    initdb, pg_ctl = _find("initdb"), _find("pg_ctl")
    if not initdb or not pg_ctl:
        raise SystemExit("FAIL: PostgreSQL binaries (initdb, pg_ctl) are not installed")
    base = Path(tempfile.mkdtemp(prefix="kpiframe-bench-pg-"))
    data = base / "data"
    if os.geteuid() == 0:
        shutil.chown(base, "postgres")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = int(s.getsockname()[1])
    _run(_as_postgres_user([initdb, "-D", str(data), "-U", "postgres", "--auth=trust",
                            "-E", "UTF8", "--no-locale"]))
    options = f"-k {base} -p {port} -c listen_addresses='' -c fsync=off"
    _run(_as_postgres_user([pg_ctl, "-D", str(data), "-o", options, "-l", str(base / "log"),
                            "-w", "start"]))
    try:
        yield f"postgresql://postgres@/postgres?host={base}&port={port}"
    finally:
        subprocess.run(_as_postgres_user([pg_ctl, "-D", str(data), "-m", "fast", "stop"]),
                       capture_output=True, check=False)
        shutil.rmtree(base, ignore_errors=True)


PG_TYPES = {"VARCHAR": "TEXT", "DOUBLE": "DOUBLE PRECISION", "FLOAT": "REAL"}


def load_postgres(duck: Any, pg: Any, platforms: Sequence[str], tmp: Path) -> None:
    """Copy every platform's post_daily and account_daily from DuckDB, through CSV."""
    for platform in platforms:
        pg.execute(f'CREATE SCHEMA IF NOT EXISTS "{platform}"')
        for table in ("post_daily", "account_daily"):
            described = duck.execute(
                "SELECT column_name, data_type FROM information_schema.columns "
                "WHERE table_schema = ? AND table_name = ? ORDER BY ordinal_position",
                [platform, table]).fetchall()
            columns = ", ".join(f'"{n}" {PG_TYPES.get(t, t)}' for n, t in described)
            pg.execute(f'CREATE TABLE "{platform}".{table} ({columns})')
            csv = tmp / f"{platform}.{table}.csv"
            duck.execute(f"COPY \"{platform}\".{table} TO '{csv}' (HEADER false)")
            with pg.cursor() as cursor, cursor.copy(
                    f'COPY "{platform}".{table} FROM STDIN (FORMAT csv)') as copy, \
                    csv.open("rb") as source:
                while chunk := source.read(1 << 20):
                    copy.write(chunk)
            csv.unlink()
            pg.execute(f'ANALYZE "{platform}".{table}')
    pg.commit()


# --------------------------------------------------------------------------- main

def scalar(con: Any, sql: str) -> object:
    row: tuple[object, ...] | None = con.execute(sql).fetchone()
    assert row is not None
    return row[0]


def report(shape: Shape, timing: Timing, memory: tuple[float, float] | None,
           cpu: bool) -> None:
    ours, hand = timing.ours, timing.hand
    line = (f"{shape.label:<62} kpiframe {ours * 1000:8.1f} ms  hand-written "
            f"{hand * 1000:8.1f} ms  ratio {ours / hand:5.2f}x")
    if cpu:
        line += (f"  | cpu {timing.cpu_ours * 1000:7.1f} ms vs {timing.cpu_hand * 1000:7.1f} ms, "
                 f"{timing.cpu_ours / max(timing.cpu_hand, 1e-9):4.2f}x")
    line += f"  | load {timing.load:4.1f}"
    if memory is not None:
        line += (f"  | peak memory {memory[0]:6.0f} MiB vs {memory[1]:6.0f} MiB, "
                 f"{memory[0] / max(memory[1], 1.0):4.2f}x")
    print(f"{line}  (target {shape.target})", flush=True)


def run_duckdb(db: Path, catalog: Any, repeat: int, memory: bool) -> None:
    import duckdb

    con = duckdb.connect(str(db), read_only=True)
    # the bar draws on the terminal from a thread while long queries run: not timed here
    con.execute("SET enable_progress_bar = false")
    threads = int(str(scalar(con, "SELECT current_setting('threads')")))

    def run(sql: str) -> list[tuple[object, ...]]:
        return list(con.execute(sql).fetchall())

    platforms, columns = platforms_and_columns(con)
    print(f"rows used: {count_rows(run, platforms, 'post_daily'):,} post_daily, "
          f"{count_rows(run, platforms, 'account_daily'):,} account_daily, "
          f"over {len(platforms)} platforms ({', '.join(platforms)})")
    print(f"DuckDB {duckdb.__version__}, {threads} threads, median of {repeat} runs "
          f"after a warm-up, interleaved", flush=True)
    for shape in SHAPES:
        ours = catalog.compile(list(shape.kpis), dialect="duckdb", grain=shape.grain,
                               by=list(shape.by), pretty=False)
        hand = shape.hand(DUCKDB, platforms, columns)
        timing = compare(run, ours, hand, repeat)
        peaks = None
        if memory:
            peaks = (peak_memory_mib(db, threads, ours), peak_memory_mib(db, threads, hand))
        report(shape, timing, peaks, cpu=True)
    con.close()


def run_postgres(db: Path, catalog: Any, repeat: int, tmp: Path) -> None:
    import duckdb
    import psycopg

    duck = duckdb.connect(str(db), read_only=True)
    platforms, columns = platforms_and_columns(duck)
    with postgres_server() as url, psycopg.connect(url) as pg:
        started = time.perf_counter()
        load_postgres(duck, pg, platforms, tmp)
        duck.close()
        version = str(scalar(pg, "SHOW server_version"))
        # the server's defaults, as a user would have them: JIT compiles a query whose
        # estimated cost is high, which can cost more than the query itself at this size
        settings = ", ".join(f"{name} {scalar(pg, f'SHOW {name}')}"
                             for name in ("jit", "work_mem", "max_parallel_workers_per_gather"))

        def run(sql: str) -> list[tuple[object, ...]]:
            rows = list(pg.execute(sql).fetchall())
            pg.rollback()
            return rows

        print(f"loaded into PostgreSQL {version} "
              f"in {time.perf_counter() - started:.1f} s; rows used: "
              f"{count_rows(run, platforms, 'post_daily'):,} post_daily, "
              f"{count_rows(run, platforms, 'account_daily'):,} account_daily; "
              f"median of {repeat} runs after a warm-up, interleaved; {settings}", flush=True)
        for shape in SHAPES:
            if not shape.postgres:
                continue
            ours = catalog.compile(list(shape.kpis), dialect="postgres", grain=shape.grain,
                                   by=list(shape.by), pretty=False)
            timing = compare(run, ours, shape.hand(POSTGRES, platforms, columns), repeat)
            report(Shape(shape.label, shape.kpis, shape.grain, shape.by, shape.hand,
                         "within 1.2x"), timing, None, cpu=False)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else "")
    parser.add_argument("--engine", choices=("duckdb", "postgres"), default="duckdb")
    parser.add_argument("--rows", type=int, default=None,
                        help="post_daily rows wanted (default 10,000,000 on DuckDB, "
                             "1,000,000 on PostgreSQL)")
    parser.add_argument("--scale", type=float, default=None,
                        help="sample-data scale (instead of --rows)")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--db", type=Path, default=None,
                        help="DuckDB file to build into and reuse between runs")
    parser.add_argument("--no-memory", action="store_true",
                        help="skip the peak-memory probes")
    args = parser.parse_args()
    rows = args.rows or (1_000_000 if args.engine == "postgres" else 10_000_000)
    scale = args.scale or round(rows / POST_DAILY_PER_SCALE, 2)
    print(f"{args.engine}: sample scale {scale:g} for ~{rows:,} post_daily rows "
          f"(~{scale * POST_DAILY_PER_SCALE:,.0f} post_daily, "
          f"~{scale * ACCOUNT_DAILY_PER_SCALE:,.0f} account_daily expected)", flush=True)

    with tempfile.TemporaryDirectory(prefix="kpiframe-bench-") as temporary:
        tmp = Path(temporary)
        db = (args.db or tmp / "bench.duckdb").resolve()
        build_data(db, scale)
        catalog = load_catalog_for(tmp)
        if args.engine == "postgres":
            run_postgres(db, catalog, args.repeat, tmp)
        else:
            run_duckdb(db, catalog, args.repeat, not args.no_memory)


if __name__ == "__main__":
    main()
