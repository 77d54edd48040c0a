"""The numbers of a report: dashboards turned into queries, and their rows per tile.

A report is only ever queries the CLI could run too: for each dashboard, one query of
all its KPIs over its periods, and one per breakdown dimension over the latest period.
Each `Query` keeps its request, so the report can say (and the tests can check) that
`kpiframe query ... --format json` gives the same numbers. The periods are the dashboard's
last N complete periods as of the data's last day, found by the same probe targets use.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from kpiframe.compiler.dates import py_shift, py_trunc
from kpiframe.dashboards import Dashboard, Row, Tile
from kpiframe.problems import KpiframeError, Problem, did_you_mean

if TYPE_CHECKING:
    from kpiframe.catalog import Catalog
    from kpiframe.definitions import Kpi

#: tiles per row of an ad-hoc report (KPIs named on the command line)
ADHOC_PER_ROW = 2


@dataclass(frozen=True)
class Query:
    """One query a report ran, as `kpiframe query` would take it."""

    kpis: tuple[str, ...]
    grain: str
    start: dt.date
    end: dt.date
    by: tuple[str, ...] = ()

    def args(self) -> list[str]:
        """The `kpiframe query` arguments giving the same rows (add `--format json`)."""
        out = [*self.kpis, "--grain", self.grain]
        for dim in self.by:
            out += ["--by", dim]
        return [*out, "--from", self.start.isoformat(), "--to", self.end.isoformat()]

    def command(self) -> str:
        return "kpiframe query " + " ".join(self.args())


@dataclass
class TileData:
    """One tile's rows: one per period (value, target, attainment, status), and per
    breakdown dimension, one per dimension value in the latest period."""

    tile: Tile
    kpi: Kpi
    periods: list[dict[str, Any]]
    breakdowns: dict[str, list[dict[str, Any]]] = field(default_factory=dict)

    @property
    def title(self) -> str:
        return self.tile.title or self.kpi.title

    @property
    def has_target(self) -> bool:
        return any(p["target"] is not None for p in self.periods)

    @property
    def latest(self) -> dict[str, Any] | None:
        return self.periods[-1] if self.periods else None

    @property
    def previous(self) -> dict[str, Any] | None:
        return self.periods[-2] if len(self.periods) >= 2 else None


@dataclass
class Section:
    """One dashboard's data. `queries` holds the request of every query it ran, and
    `rows` their rows exactly as the query returned them."""

    dashboard: Dashboard
    start: dt.date | None
    end: dt.date | None
    as_of: dt.date | None
    tiles: list[TileData]
    queries: list[Query] = field(default_factory=list)
    rows: list[list[dict[str, Any]]] = field(default_factory=list)
    #: why there are no numbers (no data at all), or None
    empty: str | None = None


@dataclass
class Report:
    title: str
    sections: list[Section]
    engine: str
    generated: dt.datetime


# --------------------------------------------------------------------------- choosing


def resolve(catalog: Catalog, names: Sequence[str], grain: str | None = None,
            last: int | None = None, by: Sequence[str] | None = None) -> list[Dashboard]:
    """The dashboards to report: each name a dashboard or a KPI; KPIs named together
    make one ad-hoc dashboard. No names: every dashboard in the catalog. `grain`, `last`
    and `by` override the dashboards' own."""
    from kpiframe import dashboards

    known = dashboards.of(catalog)
    chosen: list[Dashboard] = []
    loose: list[str] = []
    problems: list[Problem] = []
    for name in names:
        if name in known:
            chosen.append(known[name])
        elif name in catalog.kpis:
            loose.append(name)
        else:
            problems.append(Problem(
                "unknown-name", f"'{name}' is neither a dashboard nor a KPI",
                hint=did_you_mean(name, [*known, *catalog.kpis])
                or "`kpiframe list` shows the KPIs and dashboards"))
    if problems:
        raise KpiframeError(problems)
    if not names:
        chosen = list(known.values())
        if not chosen:
            raise KpiframeError(Problem(
                "no-dashboards", "the catalog has no dashboards to report",
                hint="name KPIs (`kpiframe report likes comments`), or add a `dashboards:` "
                "section to a definition file (see docs/dashboards.md)"))
    if loose:
        chosen.append(adhoc(catalog, loose))
    changes: dict[str, Any] = {}
    if grain is not None:
        changes["grain"] = grain
    if last is not None:
        changes["last"] = last
    if by is not None:
        changes["by"] = tuple(by)
    if changes:
        from dataclasses import replace

        chosen = [replace(d, **changes) for d in chosen]
    return chosen


def adhoc(catalog: Catalog, kpis: Sequence[str]) -> Dashboard:
    """A dashboard of the KPIs named on the command line, two tiles a row."""
    from kpiframe.yamlsource import Pos, YMap

    node = YMap()
    node.pos, node.key_pos, node.value_pos = Pos(1, 1), {}, {}
    tiles = [Tile(kpi=name, chart="line") for name in dict.fromkeys(kpis)]
    rows = tuple(Row(tuple(tiles[i:i + ADHOC_PER_ROW]))
                 for i in range(0, len(tiles), ADHOC_PER_ROW))
    title = ", ".join(catalog.kpis[k].title for k in dict.fromkeys(kpis))
    return Dashboard(name="kpis", title=title, file="<command line>", node=node, rows=rows)


# --------------------------------------------------------------------------- periods


def periods(grain: str, last: int, current: bool, as_of: dt.date
            ) -> tuple[dt.date, dt.date]:
    """The first and last day of the `last` complete periods before the data's last day
    (`as_of`), plus the period in progress when `current`. A period ending on `as_of` is
    complete. The period in progress is asked for whole (to its last day, after
    `as_of`): cut at `as_of` it would be a complete, shorter period, judged met or missed
    rather than on track or behind."""
    start_of_last = py_trunc(as_of, grain)
    end_of_last = py_shift(start_of_last, 1, grain) - dt.timedelta(days=1)
    complete = end_of_last == as_of
    if current or complete:
        end = end_of_last
        first = py_shift(start_of_last, -(last - 1), grain)
    else:
        end = start_of_last - dt.timedelta(days=1)
        first = py_shift(start_of_last, -last, grain)
    return first, end


# --------------------------------------------------------------------------- gathering


def gather(catalog: Catalog, chosen: Sequence[Dashboard], engine: str | None = None,
           title: str | None = None) -> Report:
    """Run every query of the chosen dashboards on one connection."""
    from kpiframe.compiler import make_request
    from kpiframe.run import connect
    from kpiframe.targets import data_days, run_with_targets

    catalog.refuse_broken_plugins()
    url = catalog.project.engine_url(engine)
    for dashboard in chosen:
        _refuse_problems(catalog, dashboard)
    sections: list[Section] = []
    eng, con = connect(catalog, url)
    try:
        for dashboard in chosen:
            kpis = dashboard.kpis
            probe = make_request(catalog, kpis, dashboard.grain)
            days = data_days(catalog, probe, eng, con)
            if days.last is None:
                sections.append(Section(dashboard, None, None, None, [],
                                        empty="no data for these KPIs"))
                continue
            start, end = periods(dashboard.grain, dashboard.last, dashboard.current, days.last)
            if days.first is not None and days.first > start:
                start = py_trunc(days.first, dashboard.grain)
            if end < start:
                sections.append(Section(dashboard, start, end, days.last, [],
                                        empty="no complete period of data yet"))
                continue
            whole = Query(kpis, dashboard.grain, start, end)
            rows = run_with_targets(
                catalog, make_request(catalog, kpis, whole.grain, (), None, start, end),
                url, connection=(eng, con))
            section = Section(dashboard, start, end, days.last, [], [whole], [list(rows)])
            latest = py_trunc(end, dashboard.grain)
            breakdowns: dict[str, list[dict[str, Any]]] = {}
            for dim in dashboard.by:
                split = Query(kpis, dashboard.grain, max(latest, start), end, (dim,))
                found = run_with_targets(
                    catalog, make_request(catalog, kpis, split.grain, split.by, None,
                                          split.start, split.end),
                    url, connection=(eng, con))
                section.queries.append(split)
                section.rows.append(list(found))
                breakdowns[dim] = list(found)
            section.tiles = [_tile(catalog, tile, rows, breakdowns) for tile in dashboard.tiles]
            sections.append(section)
    finally:
        con.close()
    name = title or (chosen[0].title if len(chosen) == 1 else "kpiframe report")
    return Report(name, sections, _shown_url(url), dt.datetime.now(dt.timezone.utc))


def _refuse_problems(catalog: Catalog, dashboard: Dashboard) -> None:
    """A dashboard with an error (an unknown KPI, say) is not reported: the same
    located problems `kpiframe validate` prints."""
    from kpiframe import dashboards

    if dashboard.file == "<command line>":
        return
    errors = [p for p in dashboards.check_one(catalog, dashboard) if p.is_error]
    if errors:
        raise KpiframeError(errors)


def _shown_url(url: str) -> str:
    from kpiframe.problems import redact

    return redact(url)


def _tile(catalog: Catalog, tile: Tile, rows: Sequence[dict[str, Any]],
          breakdowns: dict[str, list[dict[str, Any]]]) -> TileData:
    kpi = catalog.kpis[tile.kpi]
    name = kpi.name
    periods = [_cells(name, row, {"period": row["period"]}) for row in rows]
    split: dict[str, list[dict[str, Any]]] = {}
    for dim, found in breakdowns.items():
        split[dim] = [_cells(name, row, {"period": row["period"], "member": row.get(dim)})
                      for row in found]
    return TileData(tile, kpi, periods, split)


def _cells(name: str, row: dict[str, Any], base: dict[str, Any]) -> dict[str, Any]:
    out = dict(base)
    out["value"] = row.get(name)
    out["target"] = row.get(f"{name}.target")
    out["attainment"] = row.get(f"{name}.attainment")
    out["status"] = row.get(f"{name}.status")
    return out
