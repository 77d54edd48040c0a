"""Dashboards as config: the `dashboards:` section of definition files, typed and checked.

A dashboard names KPIs the catalog already defines and says how to look at them: the
grain, how many recent periods, which dimensions to break each tile down by, and rows of
tiles. It computes nothing itself; `kpiframe report` turns it into queries and charts.
Like KPIs, dashboards are built only from mappings the JSON Schema accepted, keep their
YAML node so every problem points at a line and column, and are checked against the
whole catalog (unknown KPI, unknown dimension, a target that cannot apply) here.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from functools import cache
from typing import TYPE_CHECKING, Any

from kpiframe.definitions import GRAIN_ORDER, Cumulative, Kpi
from kpiframe.problems import KpiframeError, Location, Problem, did_you_mean, one_of
from kpiframe.yamlsource import YMap

if TYPE_CHECKING:
    from kpiframe.catalog import Catalog

CHARTS = ("line", "bar", "area")
DEFAULT_GRAIN = "month"
DEFAULT_LAST = 12
DEFAULT_BY = ("platform",)


@dataclass(frozen=True, eq=False)
class Tile:
    """One KPI on a dashboard, drawn as `chart` over the dashboard's periods."""

    kpi: str
    chart: str = "line"
    title: str | None = None
    node: YMap | None = field(default=None, repr=False)


@dataclass(frozen=True, eq=False)
class Row:
    tiles: tuple[Tile, ...]
    title: str | None = None


@dataclass(frozen=True, eq=False)
class Dashboard:
    """A named view of KPIs: `last` complete periods of `grain` (plus the one in progress
    when `current`), each tile broken down by the `by` dimensions."""

    name: str
    title: str
    file: str
    node: YMap = field(repr=False)
    description: str | None = None
    grain: str = DEFAULT_GRAIN
    last: int = DEFAULT_LAST
    current: bool = False
    by: tuple[str, ...] = DEFAULT_BY
    rows: tuple[Row, ...] = ()
    plugin: str | None = None

    @property
    def tiles(self) -> tuple[Tile, ...]:
        return tuple(tile for row in self.rows for tile in row.tiles)

    @property
    def kpis(self) -> tuple[str, ...]:
        """The KPIs on the dashboard, each once, in the order they first appear."""
        return tuple(dict.fromkeys(tile.kpi for tile in self.tiles))

    def loc(self, key: str | None = None) -> Location:
        pos = self.node.value_pos.get(key, self.node.pos) if key else self.node.pos
        return Location(self.file, pos.line, pos.column)

    def key_loc(self, key: str) -> Location:
        pos = self.node.key_pos.get(key, self.node.pos)
        return Location(self.file, pos.line, pos.column)

    def tile_loc(self, tile: Tile, key: str = "kpi") -> Location:
        node = tile.node
        if node is None:
            return self.loc("rows")
        pos = node.value_pos.get(key, node.pos)
        return Location(self.file, pos.line, pos.column)

    def by_loc(self, index: int) -> Location:
        items = self.node.get("by")
        positions = getattr(items, "item_pos", None)
        if positions and index < len(positions):
            return Location(self.file, positions[index].line, positions[index].column)
        return self.loc("by")

    def body(self) -> dict[str, Any]:
        """The definition as plain data (for `diff` and `show --format json`)."""
        return {str(k): _plain(v) for k, v in self.node.items()}


def _plain(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


# --------------------------------------------------------------------------- loading


@cache
def _item_check() -> Any:
    """A yes/no check of one dashboard against its schema: an item the schema rejects is
    reported by the schema's located problems and not built (like a broken KPI)."""
    from kpiframe.schema import schema
    from kpiframe.schema_fastpath import compile_check

    root = schema()
    return compile_check(root["$defs"]["dashboard"], root)


def read(doc: Mapping[str, Any], file: str, plugin: str | None = None) -> list[Dashboard]:
    """The schema-valid dashboards of one definition file's document."""
    items = doc.get("dashboards")
    if not isinstance(items, list):
        return []
    check = _item_check()
    return [build(item, file, plugin) for item in items if check(item)]


def build(item: YMap, file: str, plugin: str | None = None) -> Dashboard:
    """A dashboard from a schema-valid mapping."""
    span = item.get("range") or {}
    rows = tuple(
        Row(
            tiles=tuple(
                Tile(kpi=t["kpi"], chart=t.get("chart", "line"), title=t.get("title"), node=t)
                for t in row["tiles"]
            ),
            title=row.get("title"),
        )
        for row in item["rows"]
    )
    return Dashboard(
        name=item["name"],
        title=item["title"],
        file=file,
        node=item,
        description=item.get("description"),
        grain=item.get("grain", DEFAULT_GRAIN),
        last=int(span.get("last", DEFAULT_LAST)),
        current=bool(span.get("current", False)),
        by=tuple(item["by"]) if "by" in item else DEFAULT_BY,
        rows=rows,
        plugin=plugin,
    )


def of(catalog: Catalog) -> dict[str, Dashboard]:
    """The catalog's dashboards by name. As for KPIs, the project's own dashboard wins
    over one a plugin ships (`overridden-dashboard`); otherwise the first of a name wins
    (a later one is a `duplicate-dashboard` problem)."""
    found: dict[str, Dashboard] = {}
    for file in catalog.files:
        for dashboard in getattr(file, "dashboards", ()):
            earlier = found.get(dashboard.name)
            if earlier is None or (earlier.plugin is not None and dashboard.plugin is None):
                found[dashboard.name] = dashboard
    return found


def get(catalog: Catalog, name: str) -> Dashboard | None:
    return of(catalog).get(name)


# --------------------------------------------------------------------------- checks


def check(catalog: Catalog) -> list[Problem]:
    """Every dashboard problem in the catalog: duplicate names, unknown KPIs (with a
    did-you-mean), dimensions a tile's KPI cannot be broken down by, and targets that
    stay empty at the dashboard's grain."""
    problems: list[Problem] = []
    first: dict[str, Dashboard] = {}
    for file in catalog.files:
        for dashboard in getattr(file, "dashboards", ()):
            earlier = first.setdefault(dashboard.name, dashboard)
            if earlier is not dashboard and (earlier.plugin is None) != (dashboard.plugin is None):
                own, shipped = (dashboard, earlier) if dashboard.plugin is None \
                    else (earlier, dashboard)
                problems.append(Problem.at(
                    own.loc("name"), "overridden-dashboard",
                    f"dashboard '{own.name}' overrides the one plugin '{shipped.plugin}' ships "
                    f"in {shipped.file}", severity="warning",
                    hint="rename it to keep both, or delete it to use the plugin's"))
                first[dashboard.name] = own
                if own is earlier:
                    continue
            elif earlier is not dashboard:
                problems.append(Problem.at(
                    dashboard.loc("name"), "duplicate-dashboard",
                    f"dashboard '{dashboard.name}' is already defined at {earlier.loc('name')}",
                    hint="dashboard names are unique across the whole catalog"))
                continue
            if dashboard.name in catalog.kpis:
                kpi = catalog.kpis[dashboard.name]
                problems.append(Problem.at(
                    dashboard.loc("name"), "dashboard-name-clash",
                    f"dashboard '{dashboard.name}' has the name of a KPI "
                    f"({kpi.file}:{kpi.node.pos.line}): `kpiframe report {dashboard.name}` "
                    "draws the dashboard and `kpiframe show` the KPI",
                    severity="warning", hint="give the dashboard a name no KPI has"))
            problems.extend(_check(catalog, dashboard))
    return problems


def check_one(catalog: Catalog, dashboard: Dashboard) -> list[Problem]:
    """One dashboard's problems (what `kpiframe report` refuses to draw)."""
    return list(_check(catalog, dashboard))


def _check(catalog: Catalog, dashboard: Dashboard) -> Iterator[Problem]:
    from kpiframe.compiler.request import common_dimensions, sources_of

    known = set(catalog.kpis) | catalog.broken
    warned: set[str] = set()
    for tile in dashboard.tiles:
        if tile.kpi not in catalog.kpis:
            if tile.kpi in catalog.broken:
                continue  # its own problems say what is wrong with it
            yield Problem.at(
                dashboard.tile_loc(tile), "unknown-kpi",
                f"dashboard '{dashboard.name}' shows '{tile.kpi}', which is not a KPI",
                hint=did_you_mean(tile.kpi, known) or "`kpiframe list` shows the catalog")
            continue
        kpi = catalog.kpis[tile.kpi]
        try:
            sources = sources_of(kpi, catalog)
        except (KpiframeError, KeyError):  # the KPI's own problems report it
            sources = []
        dims = common_dimensions(sources) if sources else set()
        for index, dim in enumerate(dashboard.by):
            if sources and dim not in dims:
                yield Problem.at(
                    dashboard.by_loc(index), "unknown-dimension",
                    f"dashboard '{dashboard.name}' breaks tiles down by '{dim}', which "
                    f"'{kpi.name}' (from {', '.join(sorted(set(sources)))}) does not have",
                    kpi=kpi.name,
                    hint=did_you_mean(dim, dims) or f"dimensions of '{kpi.name}': "
                    f"{one_of(dims) or 'none'}; or move the tile to another dashboard")
        if kpi.name in warned:
            continue
        problem = _target_problem(dashboard, tile, kpi)
        if problem is not None:
            warned.add(kpi.name)
            yield problem
    yield from _kinds(catalog, dashboard)


def _target_problem(dashboard: Dashboard, tile: Tile, kpi: Kpi) -> Problem | None:
    """A non-additive KPI's target applies only at its own grain: on a dashboard of
    another grain its target column stays empty, which the author should know."""
    from kpiframe.targets import additive, to_date

    target = kpi.target
    # a to-date total's rows are running totals toward its period's goal, at any grain
    if target is None or additive(kpi) or to_date(kpi) or target.grain == dashboard.grain:
        return None
    return Problem.at(
        dashboard.tile_loc(tile), "target-grain",
        f"dashboard '{dashboard.name}' shows '{kpi.name}' by {dashboard.grain}, but its target "
        f"is per {target.grain} and a {kpi.type} KPI's target cannot be scaled to another "
        "grain: the tile's target column stays empty",
        kpi=kpi.name, severity="warning",
        hint=f"use grain: {target.grain} for this dashboard, or set the KPI's target per "
        f"{dashboard.grain}")


def _kinds(catalog: Catalog, dashboard: Dashboard) -> Iterator[Problem]:
    """KPIs that cannot be read at the dashboard's grain: a grain-to-date total (or a KPI
    computed from one) coarser than its reset period, which a query would refuse."""
    from kpiframe.compiler.request import closure

    for tile in dashboard.tiles:
        if tile.kpi not in catalog.kpis:
            continue
        try:
            members = closure(catalog, [tile.kpi])
        except (KpiframeError, RecursionError):
            continue
        for kpi in members:
            if isinstance(kpi, Cumulative) and kpi.grain_to_date and \
                    GRAIN_ORDER.index(dashboard.grain) > GRAIN_ORDER.index(kpi.grain_to_date):
                yield Problem.at(
                    dashboard.tile_loc(tile), "dashboard-grain",
                    f"dashboard '{dashboard.name}' shows '{tile.kpi}' by {dashboard.grain}, "
                    f"but '{kpi.name}' is {kpi.grain_to_date}-to-date and a {dashboard.grain} "
                    "grain cannot show it",
                    kpi=tile.kpi,
                    hint=f"use grain: {kpi.grain_to_date} or finer for this dashboard, or "
                    "another KPI")
                break


# --------------------------------------------------------------------------- views


def listing(catalog: Catalog) -> list[dict[str, Any]]:
    """One row per dashboard, for `kpiframe list`."""
    return [
        {"name": d.name, "title": d.title, "grain": d.grain, "periods": d.last,
         "tiles": len(d.tiles), "file": f"{d.file}:{d.node.pos.line}"}
        for d in sorted(of(catalog).values(), key=lambda d: d.name)
    ]


def describe(catalog: Catalog, dashboard: Dashboard, fmt: str = "text") -> str:
    """`kpiframe show DASHBOARD`: what it shows, and how to draw it."""
    import json

    if fmt == "json":
        return json.dumps({"name": dashboard.name, "kind": "dashboard",
                           "file": dashboard.file, "line": dashboard.node.pos.line,
                           "definition": dashboard.body()}, indent=2, default=str)
    span = f"last {dashboard.last} complete {dashboard.grain}s"
    if dashboard.current:
        span += f" and the {dashboard.grain} in progress"
    lines = [
        f"{dashboard.name}  (dashboard)  {dashboard.title}",
        f"  defined at {dashboard.file}:{dashboard.node.pos.line}",
        f"  periods: {span}; broken down by {', '.join(dashboard.by) or 'nothing'}",
    ]
    if dashboard.description:
        lines += ["", *("  " + line for line in dashboard.description.strip().splitlines())]
    for number, row in enumerate(dashboard.rows, 1):
        lines += ["", f"  row {number}" + (f": {row.title}" if row.title else "")]
        for tile in row.tiles:
            kpi = catalog.kpis.get(tile.kpi)
            if kpi is None:
                lines.append(f"    {tile.kpi}  (missing)")
                continue
            target = "no target"
            if kpi.target is not None:
                target = f"target {kpi.target.value:g} per {kpi.target.grain}"
            lines.append(f"    {kpi.name}  {tile.chart} chart · {kpi.title} · {target}")
    lines += ["", f"kpiframe report {dashboard.name} --output {dashboard.name}.html"]
    return "\n".join(lines)


def where(dashboard: Dashboard) -> str:
    return f"{dashboard.file}:{dashboard.node.pos.line}"
