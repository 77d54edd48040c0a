"""Targets as success indicators, checked against plain Python over fixture rows.

Daily rows for two platforms run from 2025-01-01 to 2025-03-17, so January and February
are complete and March is in progress. The expected target, attainment and status of
every row are computed here day by day, without kpiframe, and compared with what each
engine's query returns: met, missed, on_track and behind; pro-rating; lower_is_better;
a target at another grain (additive KPIs scaled by days, others empty); per-platform
targets.
"""

from __future__ import annotations

import calendar
import datetime as dt
import json
from collections.abc import Iterator
from dataclasses import replace
from fractions import Fraction
from pathlib import Path
from typing import Any

import click
import pytest
from click.testing import CliRunner

from kpiframe import load_catalog
from kpiframe.catalog import Catalog
from kpiframe.cli import main
from kpiframe.compiler import Request
from kpiframe.targets import goal_for, readers
from kpiframe.testing import canonical_columns
from tests.engines import engine_under_test

FIRST, LAST = dt.date(2025, 1, 1), dt.date(2025, 3, 17)
#: beta's rows stop two days earlier: a query of beta alone is judged as of that day
BETA_LAST = dt.date(2025, 3, 15)

KPIS = """\
kpis:
  - name: likes
    type: simple
    source: post_daily
    agg: sum
    expr: likes
    target: {value: 3100, grain: month, platforms: {alpha: 2000, beta: 1000}}
  - name: daily_rows
    type: simple
    source: post_daily
    agg: count
    target: {value: 13, grain: week}
  - name: avg_likes
    type: simple
    source: post_daily
    agg: avg
    expr: likes
    target: {value: 50, grain: month}
  - name: complaints
    type: simple
    source: post_daily
    agg: sum
    expr: comments
    direction: lower_is_better
    target: {value: 100, grain: month}
  - name: likes_mtd
    type: cumulative
    of: likes
    grain_to_date: month
    target: {value: 3100, grain: month}
  - name: shares
    type: simple
    source: post_daily
    agg: sum
    expr: shares
  - name: beta_likes
    type: simple
    source: post_daily
    agg: sum
    expr: likes
    platforms: [beta]
    target: {value: 1000, grain: month}
  - name: latest_likes
    type: simple
    source: post_daily
    agg: last
    expr: likes
"""

# ------------------------------------------------------------------------ the fixture rows


def _days(first: dt.date, last: dt.date) -> Iterator[dt.date]:
    day = first
    while day <= last:
        yield day
        day += dt.timedelta(days=1)


def _likes(platform: str, day: dt.date) -> int:
    base = {"alpha": {1: 70, 2: 55, 3: 90}, "beta": {1: 35, 2: 40, 3: 25}}[platform][day.month]
    return base + day.day % (5 if platform == "alpha" else 3)


def _comments(platform: str, day: dt.date) -> int:
    return {"alpha": {1: 2, 2: 5, 3: 2}, "beta": {1: 1, 2: 1, 3: 1}}[platform][day.month]


DATA = [(platform, day, _likes(platform, day), _comments(platform, day))
        for platform in ("alpha", "beta")
        for day in _days(FIRST, LAST if platform == "alpha" else BETA_LAST)]


@pytest.fixture(scope="module", params=[
    "duckdb", "sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def project(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A project whose engine holds DATA, in schemas of its own."""
    engine = engine_under_test(request.param, request, tmp_path_factory)
    columns = canonical_columns("post_daily")
    names = [n for n, _ in columns]
    for platform in ("alpha", "beta"):
        table = []
        for index, (p, day, likes, comments) in enumerate(DATA):
            if p != platform:
                continue
            row = dict.fromkeys(names)
            row.update(post_id=f"{p}{index}", account_id="acc", date=day, likes=likes,
                       comments=comments, shares=1)
            table.append([row[n] for n in names])
        engine.load(f"tgt_{platform}", {"post_daily": (columns, table)})
    root = tmp_path_factory.mktemp("targets")
    (root / "kpis.yaml").write_text(KPIS)
    (root / "kpiframe.yaml").write_text(
        f"definitions: [kpis.yaml]\nplugins: [testplatforms]\nengine: {engine.url}\n"
        "platforms:\n  alpha: {schema: tgt_alpha}\n  beta: {schema: tgt_beta}\n")
    return root


@pytest.fixture
def catalog(project: Path) -> Catalog:
    return load_catalog(project=project)


# ------------------------------------------------------------------------ plain Python


def _period(day: dt.date, grain: str) -> tuple[dt.date, dt.date]:
    """The first and last day of the period of `grain` holding `day`."""
    if grain == "day":
        return day, day
    if grain == "week":
        start = day - dt.timedelta(days=day.weekday())
        return start, start + dt.timedelta(days=6)
    if grain == "month":
        return day.replace(day=1), day.replace(day=calendar.monthrange(day.year, day.month)[1])
    if grain == "quarter":
        first_month = (day.month - 1) // 3 * 3 + 1
        last_month = first_month + 2
        return (dt.date(day.year, first_month, 1),
                dt.date(day.year, last_month, calendar.monthrange(day.year, last_month)[1]))
    return dt.date(day.year, 1, 1), dt.date(day.year, 12, 31)


def _goal(value: float, grain: str, first: dt.date, last: dt.date) -> Fraction:
    """A goal per period of `grain` over first..last, day by day."""
    total = Fraction(0)
    for day in _days(first, last):
        start, end = _period(day, grain)
        total += Fraction(value) / ((end - start).days + 1)
    return total


def _value(kpi: str, platforms: tuple[str, ...], first: dt.date, last: dt.date) -> float | None:
    rows = [r for r in DATA if r[0] in platforms and first <= r[1] <= last]
    if kpi == "likes":
        return sum(r[2] for r in rows) if rows else None
    if kpi == "complaints":
        return sum(r[3] for r in rows) if rows else None
    if kpi == "daily_rows":
        return len(rows)
    if kpi == "avg_likes":
        return sum(r[2] for r in rows) / len(rows) if rows else None
    raise AssertionError(kpi)


def _expected(value: float | None, whole: Fraction | None, judged: Fraction | None,
              state: str, lower: bool = False) -> tuple[Any, Any, Any]:
    """(target, attainment, status) as docs/targets.md says."""
    if whole is None or judged is None:
        return None, None, None
    if state == "future" or value is None:
        return float(whole), None, None
    if lower:
        attained = float(judged / Fraction(value) * 100) if value > 0 else None
        good = value <= judged
    else:
        attained = float(Fraction(value) / judged * 100)
        good = value >= judged
    if state == "complete":
        return float(whole), attained, "met" if good else "missed"
    return float(whole), attained, "on_track" if good else "behind"


def _state(first: dt.date, last: dt.date, as_of: dt.date = LAST) -> str:
    if first > as_of:
        return "future"
    return "complete" if last <= as_of else "current"


def _got(row: dict[str, Any], kpi: str) -> tuple[Any, Any, Any]:
    return row[f"{kpi}.target"], row[f"{kpi}.attainment"], row[f"{kpi}.status"]


def _same(got: tuple[Any, Any, Any], want: tuple[Any, Any, Any]) -> None:
    assert got[2] == want[2], (got, want)
    for g, w in zip(got[:2], want[:2], strict=True):
        assert (g is None) == (w is None), (got, want)
        if w is not None:
            assert g == pytest.approx(w, rel=1e-9), (got, want)


def _additive_rows(catalog: Catalog, kpi: str, grain: str, on: tuple[str, ...],
                   goal: float, target_grain: str, lower: bool = False,
                   as_of: dt.date = LAST, **options: Any) -> list[str]:
    """Query `kpi` at `grain` and check every row's target columns, judged as of the
    data's last day `as_of`; the statuses seen."""
    rows = catalog.query([kpi], grain=grain, **options)
    seen = []
    for row in rows:
        start, end = _period(row["period"], grain)
        if options.get("start"):
            start = max(start, dt.date.fromisoformat(options["start"]))
        value = _value(kpi, on, start, end)
        assert row[kpi] == pytest.approx(value)
        state = _state(start, end, as_of)
        judged = _goal(goal, target_grain, start, min(end, as_of)) if state == "current" \
            else _goal(goal, target_grain, start, end)
        want = _expected(value, _goal(goal, target_grain, start, end), judged, state, lower)
        _same(_got(row, kpi), want)
        seen.append(want[2])
    return seen


# ------------------------------------------------------------------------ the numbers


def test_met_missed_and_on_track_by_month(catalog: Catalog) -> None:
    rows = catalog.query(["likes"], grain="month")
    assert rows.columns == ["period", "likes", "likes.target", "likes.attainment",
                            "likes.status"]
    seen = _additive_rows(catalog, "likes", "month", ("alpha", "beta"), 3100, "month")
    assert seen == ["met", "missed", "on_track"]
    # March is judged against 17 days of its 31-day goal, and shows the whole goal
    march = rows[2]
    assert march["likes.target"] == 3100
    assert march["likes.attainment"] == pytest.approx(march["likes"] / (3100 * 17 / 31) * 100)


def test_per_platform_targets_by_platform(catalog: Catalog) -> None:
    rows = catalog.query(["likes"], grain="month", by=["platform"])
    seen = set()
    for row in rows:
        platform = row["platform"]
        start, end = _period(row["period"], "month")
        goal = {"alpha": 2000, "beta": 1000}[platform]
        state = _state(start, end)
        judged = _goal(goal, "month", start, min(end, LAST))
        want = _expected(_value("likes", (platform,), start, end),
                         _goal(goal, "month", start, end), judged, state)
        _same(_got(row, "likes"), want)
        seen.add(want[2])
    assert seen == {"met", "missed", "on_track", "behind"}


def test_a_query_of_one_platform_takes_its_target(catalog: Catalog) -> None:
    seen = _additive_rows(catalog, "likes", "month", ("beta",), 1000, "month",
                          as_of=BETA_LAST, platforms=["beta"])
    assert seen == ["met", "met", "behind"]
    (march,) = catalog.query(["likes"], grain="month", platforms=["beta"], start="2025-03-01")
    assert march["likes.attainment"] == pytest.approx(march["likes"] / (1000 * 15 / 31) * 100)


def test_several_platforms_add_up_their_targets(catalog: Catalog) -> None:
    # every platform of the project: the all-platforms target, as without --platform
    seen = _additive_rows(catalog, "likes", "month", ("alpha", "beta"), 3100, "month",
                          platforms=["alpha", "beta"])
    assert seen == ["met", "missed", "on_track"]
    # some of them: the sum of their own targets (additive KPIs), else none
    likes, mean = catalog.get("likes"), catalog.get("avg_likes")
    assert likes.target and mean.target
    some = Request(("likes",), platforms=("alpha", "beta"))
    active = ("alpha", "beta", "gamma")
    assert goal_for(likes, likes.target, some, None, active) == 3000
    assert goal_for(likes, likes.target, Request(("likes",), platforms=("alpha", "gamma")),
                    None, active) is None
    assert goal_for(mean, replace(mean.target, platforms=(("alpha", 1), ("beta", 2))), some,
                    None, active) is None


def test_a_target_without_the_platform_is_empty(catalog: Catalog) -> None:
    rows = catalog.query(["complaints"], grain="month", by=["platform"])
    assert rows and all(_got(r, "complaints") == (None, None, None) for r in rows)


def test_additive_target_scaled_to_a_coarser_grain(catalog: Catalog) -> None:
    # a weekly goal of 13 rows: a month gets 13/7 per day; so does the quarter
    assert _additive_rows(catalog, "daily_rows", "month", ("alpha", "beta"), 13,
                          "week") == ["met", "met", "on_track"]
    _additive_rows(catalog, "daily_rows", "quarter", ("alpha", "beta"), 13, "week")
    # a monthly goal at quarter grain is the sum of its months' goals
    (q1,) = catalog.query(["likes"], grain="quarter")
    assert q1["likes.target"] == 3 * 3100
    _additive_rows(catalog, "likes", "quarter", ("alpha", "beta"), 3100, "month")


def test_additive_target_scaled_to_a_finer_grain(catalog: Catalog) -> None:
    # weeks straddling two months take each day's share of its own month's goal
    seen = _additive_rows(catalog, "likes", "week", ("alpha", "beta"), 3100, "month")
    assert {"met", "missed"} <= set(seen)
    seen = _additive_rows(catalog, "likes", "day", ("alpha", "beta"), 3100, "month",
                          start="2025-03-10")
    assert seen[-1] in ("met", "missed")  # the data's last day is a complete day


def test_a_period_cut_by_from_gets_the_goal_of_its_days(catalog: Catalog) -> None:
    rows = catalog.query(["likes"], grain="month", start="2025-01-11", end="2025-02-20")
    assert rows[0]["likes.target"] == pytest.approx(3100 * 21 / 31)
    assert rows[1]["likes.target"] == pytest.approx(3100 * 20 / 28)
    _additive_rows(catalog, "likes", "month", ("alpha", "beta"), 3100, "month",
                   start="2025-01-11")


def test_without_a_grain_the_range_is_one_period(catalog: Catalog) -> None:
    (row,) = catalog.query(["likes"])
    whole = _goal(3100, "month", FIRST, LAST)
    want = _expected(_value("likes", ("alpha", "beta"), FIRST, LAST), whole, whole, "current")
    _same(_got(row, "likes"), want)
    (row,) = catalog.query(["likes"], start="2025-01-01", end="2025-02-28")
    whole = _goal(3100, "month", FIRST, dt.date(2025, 2, 28))
    want = _expected(_value("likes", ("alpha", "beta"), FIRST, dt.date(2025, 2, 28)),
                     whole, whole, "complete")
    _same(_got(row, "likes"), want)
    # the range reaching past the data: judged on the days up to the data's last day
    (row,) = catalog.query(["likes"], start="2025-03-01", end="2025-03-31")
    march = dt.date(2025, 3, 1), dt.date(2025, 3, 31)
    want = _expected(_value("likes", ("alpha", "beta"), *march), _goal(3100, "month", *march),
                     _goal(3100, "month", march[0], LAST), "current")
    _same(_got(row, "likes"), want)


def test_lower_is_better_inverts_attainment_and_status(catalog: Catalog) -> None:
    seen = _additive_rows(catalog, "complaints", "month", ("alpha", "beta"), 100, "month",
                          lower=True)
    assert seen == ["met", "missed", "on_track"]
    (jan, *_) = catalog.query(["complaints"], grain="month")
    assert jan["complaints"] == 93
    assert jan["complaints.attainment"] == pytest.approx(100 / 93 * 100)


def test_a_non_additive_target_applies_at_its_own_grain_only(catalog: Catalog) -> None:
    rows = catalog.query(["avg_likes"], grain="month")
    seen = []
    for row in rows:
        start, end = _period(row["period"], "month")
        state = _state(start, end)
        # not pro-rated: an average is judged against the goal as it is
        want = _expected(_value("avg_likes", ("alpha", "beta"), start, end), Fraction(50),
                         Fraction(50), state)
        _same(_got(row, "avg_likes"), want)
        seen.append(want[2])
    assert seen == ["met", "missed", "on_track"]
    for grain in ("quarter", "week", None):
        rows = catalog.query(["avg_likes"], grain=grain)
        assert all(_got(r, "avg_likes") == (None, None, None) for r in rows), grain


def test_a_to_date_total_is_paced_against_its_period_goal(catalog: Catalog) -> None:
    rows = catalog.query(["likes_mtd"], grain="day", start="2025-01-28", end="2025-02-03")
    for row in rows:
        day = row["period"]
        start, end = _period(day, "month")
        value = _value("likes", ("alpha", "beta"), start, day)
        assert row["likes_mtd"] == value
        judged = _goal(3100, "month", start, day)
        state = "complete" if day == end else "current"
        _same(_got(row, "likes_mtd"), _expected(value, Fraction(3100), judged, state))
    assert [r["likes_mtd.status"] for r in rows][3] == "met"  # January 31st
    by_month = catalog.query(["likes_mtd"], grain="month")
    assert [r["likes_mtd.status"] for r in by_month] == ["met", "missed", "on_track"]


def test_no_target_no_columns_and_no_targets_flag(catalog: Catalog) -> None:
    rows = catalog.query(["shares", "likes"], grain="month")
    assert rows.columns == ["period", "shares", "likes", "likes.target", "likes.attainment",
                            "likes.status"]
    plain = catalog.query(["shares", "likes"], grain="month", targets=False)
    assert plain.columns == ["period", "shares", "likes"]
    # a subset the target is not about: --where, or --by another dimension
    for options in ({"where": "platform = 'alpha'"}, {"by": ["account_id"]}):
        rows = catalog.query(["likes"], grain="month", **options)
        assert all(_got(r, "likes") == (None, None, None) for r in rows), options


def test_periods_after_the_data_have_a_target_and_no_status(catalog: Catalog) -> None:
    rows = catalog.query(["likes"], grain="month", start="2025-01-01", end="2025-05-31")
    assert [r["likes.status"] for r in rows] == ["met", "missed", "on_track", None, None]
    assert rows[4]["likes.target"] == 3100 and rows[4]["likes.attainment"] is None


def test_the_data_days_follow_the_platforms_a_kpi_reads(catalog: Catalog) -> None:
    # beta_likes reads beta only, whose rows stop on BETA_LAST: March is judged as of then
    rows = catalog.query(["beta_likes"], grain="month")
    march = rows[2]
    assert march["beta_likes"] == _value("likes", ("beta",), dt.date(2025, 3, 1), LAST)
    assert march["beta_likes.attainment"] == pytest.approx(
        march["beta_likes"] / (1000 * 15 / 31) * 100)
    # read beside a KPI over every platform, the data runs to alpha's last day
    rows = catalog.query(["beta_likes", "shares"], grain="month")
    assert rows[2]["beta_likes.attainment"] == pytest.approx(
        march["beta_likes"] / (1000 * 17 / 31) * 100)


def test_the_probe_reads_each_source_through_its_cheapest_kpi(catalog: Catalog) -> None:
    kpis = [catalog.get(n) for n in ("latest_likes", "likes", "daily_rows", "beta_likes")]
    assert readers(kpis) == ("daily_rows",)  # type: ignore[arg-type]
    assert readers([catalog.get("beta_likes")]) == ("beta_likes",)  # type: ignore[list-item]


# ------------------------------------------------------------------------ the CLI


def _cli(project: Path, *args: str, color: bool = False) -> Any:
    result = CliRunner().invoke(main, ["--project", str(project), *args], color=color)
    assert result.exit_code == 0, result.output
    return result


def test_cli_json_csv_and_table(project: Path, catalog: Catalog) -> None:
    expected = catalog.query(["likes"], grain="month")
    got = json.loads(_cli(project, "query", "likes", "--grain", "month",
                          "--format", "json").stdout)
    assert [r["likes.status"] for r in got] == [r["likes.status"] for r in expected]
    assert got[2]["likes.attainment"] == pytest.approx(expected[2]["likes.attainment"])
    csv = _cli(project, "query", "likes", "--grain", "month", "--format", "csv").stdout
    assert csv.splitlines()[0] == "period,likes,likes.target,likes.attainment,likes.status"
    assert csv.splitlines()[1].endswith(",met")
    plain = _cli(project, "query", "likes", "--grain", "month", "--format", "csv",
                 "--no-targets").stdout
    assert plain.splitlines()[0] == "period,likes"
    table = _cli(project, "query", "likes", "--grain", "month").stdout
    assert "\x1b[" not in table and "on_track" in table
    coloured = _cli(project, "query", "likes", "--grain", "month", color=True).stdout
    assert click.style("missed", fg="red", bold=True) in coloured
    assert click.style("on_track", fg="green", bold=False) in coloured
    # the colours do not shift the columns
    assert [click.unstyle(line) for line in coloured.splitlines()] == table.splitlines()
