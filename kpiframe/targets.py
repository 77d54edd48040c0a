"""Targets as success indicators: the stage after execution.

A KPI's `target` is a goal per period of its grain. For every requested KPI that has one,
the rows of a query gain three columns right after the KPI's own: `<kpi>.target` (the goal
for the row's period), `<kpi>.attainment` (percent of the goal reached, inverted for
`lower_is_better`) and `<kpi>.status`: `met`/`missed` for a complete period,
`on_track`/`behind` for the period holding the data's last day (judged against the goal
pro-rated by the days elapsed), None where no target applies. KPI names cannot hold dots,
so the columns never clash with a KPI's.

This is plain Python over the rows the engine returned, plus one small query for the
first and last day with data: statuses depend on how far the data reaches, and a monthly
row cannot say which of its days had data. docs/targets.md has the rules with examples.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Collection, Sequence
from dataclasses import dataclass, replace
from fractions import Fraction
from typing import TYPE_CHECKING, Any

from kpiframe.compiler.dates import py_shift, py_trunc
from kpiframe.definitions import Cumulative, Kpi, Simple, Target, Weighted

if TYPE_CHECKING:
    from kpiframe.catalog import Catalog
    from kpiframe.compiler import Request
    from kpiframe.platform import Connection, Engine
    from kpiframe.run import Rows

#: the suffixes of the three columns a target adds, in their order
SUFFIXES = ("target", "attainment", "status")
MET, MISSED, ON_TRACK, BEHIND = "met", "missed", "on_track", "behind"
#: statuses a reader should see as good news
GOOD = frozenset({MET, ON_TRACK})


def columns_of(kpi: str) -> tuple[str, str, str]:
    """`<kpi>.target`, `<kpi>.attainment`, `<kpi>.status`."""
    return (f"{kpi}.target", f"{kpi}.attainment", f"{kpi}.status")


def additive(kpi: Kpi) -> bool:
    """Whether a KPI's value over a span is the sum of its values over the span's days (a
    sum, a count or a weighted sum), so a goal can be scaled by days. Ratios, averages,
    `last`, distinct counts, derived, cumulative and change KPIs are not."""
    return isinstance(kpi, Weighted) or (isinstance(kpi, Simple) and kpi.additive)


def to_date(kpi: Kpi) -> bool:
    """A grain-to-date cumulative whose target is per its to-date period: its rows are
    running totals toward that period's goal (validate insists on the same grain)."""
    return (isinstance(kpi, Cumulative) and kpi.grain_to_date is not None
            and kpi.target is not None and kpi.target.grain == kpi.grain_to_date)


@dataclass(frozen=True)
class DataDays:
    """The first and last day with data among the rows the query reads (its sources, in
    its range, on its platforms, after --where): None for both when there are none."""

    first: dt.date | None
    last: dt.date | None


def applies(request: Request) -> bool:
    """Whether targets can apply to this request's rows. A target is the goal of the KPI
    as defined, for all platforms or for one: rows of a subset some other way (`--where`,
    `--by` a dimension other than platform) have none, and their target columns stay
    empty."""
    return request.where is None and all(d == "platform" for d in request.by)


def wanted(catalog: Catalog, request: Request) -> list[Kpi]:
    """The requested KPIs that have a target: each gets the three columns."""
    found: list[Kpi] = []
    for name in dict.fromkeys(request.kpis):
        kpi = catalog.kpis.get(name)
        if kpi is not None and kpi.target is not None:
            found.append(kpi)
    return found


#: how much an aggregate costs an engine, cheapest first: the probe reads each source
#: through its cheapest KPI (a windowed `last` sorts every row)
_COST = {"count": 0, "sum": 1, "min": 1, "max": 1, "avg": 2, "weighted": 2,
         "count_distinct": 3, "last": 4}


def readers(leaves: Sequence[Simple | Weighted]) -> tuple[str, ...]:
    """Of the simple and weighted KPIs a request reads, a few that read the same rows:
    per source, its cheapest KPI over every platform, or, when each of them is restricted
    to some platforms, all of them (their platforms add up to what the source reads).
    A KPI's own filter does not decide which rows a source's scan holds."""
    by_source: dict[str, list[Simple | Weighted]] = {}
    for kpi in leaves:
        by_source.setdefault(kpi.source, []).append(kpi)
    chosen: list[str] = []
    for kpis in by_source.values():
        everywhere = [k for k in kpis if k.platforms is None]
        if everywhere:
            best = min(everywhere, key=lambda k: (
                _COST.get(k.agg if isinstance(k, Simple) else "weighted", 5),
                isinstance(k, Simple) and k.filter is not None))
            chosen.append(best.name)
        else:
            chosen.extend(k.name for k in kpis)
    return tuple(chosen)


def data_days(catalog: Catalog, request: Request, engine: Engine, con: Connection) -> DataDays:
    """Ask the engine for the first and last day with data, with a second compiled query.

    The probe is the same request at a day grain over KPIs that read the same sources,
    rows, range and platforms as the request (`readers`); only its per-source aggregates
    are read: `SELECT MIN(period), MAX(period)` over them. Engines skip the CTEs a
    statement never references."""
    from sqlglot import exp

    from kpiframe.columns import discovering
    from kpiframe.compiler import compile_query
    from kpiframe.compiler.request import closure
    from kpiframe.compiler.verify import verify
    from kpiframe.run import execute, normalise

    leaves = readers([k for k in closure(catalog, request.kpis)
                      if isinstance(k, (Simple, Weighted))])
    if not leaves:
        return DataDays(None, None)
    probe = replace(request, kpis=leaves, grain="day", by=())
    label = engine.label or engine.scheme
    with discovering(catalog, probe, con, label):
        compiled = compile_query(catalog, probe, engine.dialect)
    with_ = compiled.tree.args.get("with_")
    names = [cte.alias for cte in (with_.expressions if with_ else [])
             if cte.alias.startswith("agg_")]
    if with_ is None or not names:
        return DataDays(None, None)
    union: exp.Query | None = None
    for name in names:
        part = exp.select(exp.column("period", quoted=True)).from_(
            exp.Table(this=exp.to_identifier(name, quoted=True)))
        union = part if union is None else exp.union(union, part, distinct=False)
    assert union is not None
    period = exp.column("period", table="d", quoted=True)
    query = exp.select(exp.Min(this=period.copy()), exp.Max(this=period.copy())).from_(
        exp.Subquery(this=union, alias=exp.TableAlias(this=exp.to_identifier("d", quoted=True))))
    query.set("with_", with_.copy())
    sql = query.sql(dialect=engine.dialect, identify=True)
    verify(sql, engine.dialect, compiled.tables)
    rows = execute(engine, con, sql).rows
    if not rows:
        return DataDays(None, None)
    first, last = rows[0][0], rows[0][1]
    return DataDays(normalise(first, "date"), normalise(last, "date"))


# -- the arithmetic -------------------------------------------------------------------------


def _end(start: dt.date, grain: str) -> dt.date:
    """The last day of the period of `grain` starting on `start`."""
    return py_shift(start, 1, grain) - dt.timedelta(days=1)


def over_days(value: Fraction, grain: str, first: dt.date, last: dt.date) -> Fraction:
    """A goal of `value` per period of `grain`, over the days first..last: each day counts
    `value / days in its own period`. A monthly goal of 3,100 is 100 a day in January and
    about 110.7 a day in February; a quarter gets the sum of its three months' goals, a
    week across two months takes its days from each."""
    if last < first:
        return Fraction(0)
    if grain == "day":
        return value * ((last - first).days + 1)
    total = Fraction(0)
    start = py_trunc(first, grain)
    while start <= last:
        end = _end(start, grain)
        days = (min(end, last) - max(start, first)).days + 1
        total += value * days / ((end - start).days + 1)
        start = end + dt.timedelta(days=1)
    return total


def goal_for(kpi: Kpi, target: Target, request: Request, platform: str | None,
             active: Collection[str] = ()) -> Fraction | None:
    """The goal per target period that applies to rows of `platform` (None: every platform
    the request reads, out of the `active` ones). Several platforms but not all of them
    get the sum of their own goals, for an additive KPI that has one for each."""
    if platform is not None:
        return _exact(target.by_platform.get(platform))
    chosen = request.platforms
    if chosen is None or (active and set(chosen) >= set(active)):
        return _exact(target.value)
    if len(chosen) == 1:
        return goal_for(kpi, target, request, chosen[0])
    goals = [_exact(target.by_platform.get(p)) for p in chosen]
    if not additive(kpi) or any(g is None for g in goals):
        return None
    return sum((g for g in goals if g is not None), Fraction(0))


def _exact(goal: float | None) -> Fraction | None:
    """A goal as an exact fraction, so a month's 31 daily shares add up to it exactly;
    None for none (or a non-finite number, which validate refuses when it is read)."""
    return Fraction(goal) if goal is not None and math.isfinite(goal) else None


@dataclass(frozen=True)
class Judged:
    """One row's target (for its whole span) and the goal its value is judged against
    (pro-rated for a period in progress); `state` is complete, current or future."""

    target: Fraction
    judged: Fraction
    state: str


def judge(kpi: Kpi, goal: Fraction, grain: str | None, first: dt.date, last: dt.date,
          days: DataDays, open_ended: bool = False) -> Judged | None:
    """The goal for a row whose values cover the days first..last (its period, cut by
    --from/--to), as of the data's last day. An `open_ended` row (no grain and no --to:
    everything so far) is never complete."""
    target = kpi.target
    assert target is not None
    as_of = days.last
    if as_of is None or first > as_of:
        state = "future"
    elif last <= as_of and not open_ended:
        state = "complete"
    else:
        state = "current"
    if to_date(kpi):
        # a running total from the start of its to-date period to the row's as-of day
        day = as_of if state == "current" and as_of is not None else last
        start = py_trunc(day, target.grain)
        end = _end(start, target.grain)
        pro_rated = goal * ((day - start).days + 1) / ((end - start).days + 1)
        if state == "complete" and day != end:
            state = "current"  # a day's running total is on its way to the month's goal
        return Judged(goal, goal if day == end else pro_rated, state)
    if additive(kpi):
        whole = over_days(goal, target.grain, first, last)
        if state == "current":
            assert as_of is not None
            return Judged(whole, over_days(goal, target.grain, first, min(as_of, last)), state)
        return Judged(whole, whole, state)
    if grain != target.grain:
        return None  # a rate, an average or a level is a goal at its own grain only
    return Judged(goal, goal, state)


def attainment(value: Fraction, judged: Fraction, lower_is_better: bool) -> float | None:
    """Percent of the goal reached; for lower_is_better, goal / value (half the allowed
    response time is 200%). None where a division would be by zero or a negative number."""
    if lower_is_better:
        return float(judged / value * 100) if value > 0 and judged >= 0 else None
    return float(value / judged * 100) if judged > 0 else None


def status(value: Fraction, judged: Fraction, state: str, lower_is_better: bool) -> str | None:
    if state == "future":
        return None
    good = value <= judged if lower_is_better else value >= judged
    if state == "complete":
        return MET if good else MISSED
    return ON_TRACK if good else BEHIND


def _number(value: Fraction) -> int | float:
    return value.numerator if value.denominator == 1 else float(value)


def _value(raw: Any) -> Fraction | None:
    if raw is None or isinstance(raw, bool):
        return None
    try:
        return Fraction(raw)
    except (TypeError, ValueError, OverflowError):  # NaN or infinity: nothing to judge
        return None


def span(row: dict[str, Any], request: Request, days: DataDays) -> tuple[dt.date, dt.date] | None:
    """The days a row's values cover: its period cut by --from/--to; without a grain, the
    whole range (from --from, or the data's first day, to --to, or its last)."""
    grain = request.grain
    if grain is None:
        first, last = request.start or days.first, request.end or days.last
        if first is None or last is None:
            return None
        return first, last
    period = row.get("period")
    if not isinstance(period, dt.date):
        return None
    first, last = period, _end(period, grain)
    if request.start is not None and request.start > first:
        first = request.start
    if request.end is not None and request.end < last:
        last = request.end
    return first, last


def add(catalog: Catalog, request: Request, rows: Rows, days: DataDays | None,
        kpis: Sequence[Kpi] | None = None) -> Rows:
    """`rows` with the three target columns after each KPI that has a target; `days`
    from data_days(), None where targets do not apply (the columns are then empty)."""
    from kpiframe.run import Rows

    chosen = list(wanted(catalog, request) if kpis is None else kpis)
    if not chosen:
        return rows
    by_platform = "platform" in request.by
    open_ended = request.grain is None and request.end is None
    columns: list[str] = []
    for name in rows.columns:
        columns.append(name)
        if any(k.name == name for k in chosen):
            columns.extend(columns_of(name))
    out: list[dict[str, Any]] = []
    for row in rows:
        new = dict(row)
        covered = span(row, request, days) if days is not None else None
        for kpi in chosen:
            target = kpi.target
            assert target is not None
            cells: list[Any] = [None, None, None]
            platform = row.get("platform") if by_platform else None
            goal = goal_for(kpi, target, request, platform if by_platform else None,
                            catalog.platforms)
            if by_platform and platform is None:
                goal = None
            found = judge(kpi, goal, request.grain, *covered, days, open_ended) \
                if goal is not None and covered is not None and days is not None else None
            if found is not None:
                cells[0] = _number(found.target)
                value = _value(row.get(kpi.name))
                if value is not None and found.state != "future":
                    lower = kpi.direction == "lower_is_better"
                    cells[1] = attainment(value, found.judged, lower)
                    cells[2] = status(value, found.judged, found.state, lower)
            new.update(zip(columns_of(kpi.name), cells, strict=True))
        out.append(new)
    ordered = [{c: r.get(c) for c in columns} for r in out]
    return Rows(ordered, columns, rows.warnings)


def annotate(catalog: Catalog, request: Request, answer: Rows, engine: Engine,
             con: Connection) -> Rows:
    """`answer` with the target columns of each KPI that has a target; asks the engine on
    `con` for the data's first and last day when a status needs them."""
    chosen = wanted(catalog, request)
    if not chosen:
        return answer
    days = data_days(catalog, request, engine, con) if applies(request) else None
    return add(catalog, request, answer, days, chosen)


def run_with_targets(catalog: Catalog, request: Request, url: str,
                     connection: tuple[Engine, Connection] | None = None) -> Rows:
    """`run.run`, then `annotate`, on one connection (left open when it was given)."""
    from kpiframe.run import connect, run

    engine, con = connection or connect(catalog, url)
    try:
        answer = run(catalog, request, url, connection=(engine, con))
        return annotate(catalog, request, answer, engine, con)
    finally:
        if connection is None:
            con.close()


def status_style(text: str) -> str:
    """A status coloured for a terminal: green for good news, red or yellow for bad."""
    import click

    colour = {MET: "green", ON_TRACK: "green", MISSED: "red", BEHIND: "yellow"}.get(text)
    return click.style(text, fg=colour, bold=text in (MISSED, BEHIND)) if colour else text
