"""A query request: which KPIs, at which grain, by what, over which rows.

Everything a user types on the command line is checked here, before any SQL exists, so
a wrong grain, a dimension a KPI's source lacks or an unsafe `--where` is a located
problem and not an engine error.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol
from weakref import WeakKeyDictionary

from kpiframe import canonical
from kpiframe.compiler.dates import GRAINS
from kpiframe.definitions import Change, Cumulative, Kpi, Simple, Weighted
from kpiframe.expressions import Expr, ExprError, row_expr
from kpiframe.problems import KpiframeError, Location, Problem, did_you_mean
from kpiframe.resolve import ResolvedCatalog

if TYPE_CHECKING:
    from kpiframe.catalog import Catalog


class KpiLookup(Protocol):
    """What `closure` needs: a Catalog (stage 1) or a ResolvedCatalog (stage 2)."""

    def get(self, name: str) -> Kpi: ...


@dataclass(frozen=True)
class Request:
    kpis: tuple[str, ...]
    grain: str | None = None
    by: tuple[str, ...] = ()
    where: Expr | None = None
    start: dt.date | None = None
    end: dt.date | None = None
    platforms: tuple[str, ...] | None = None


def closure(catalog: KpiLookup, names: Sequence[str]) -> list[Kpi]:
    """The KPIs named and every KPI they are computed from, dependencies first."""
    order: list[Kpi] = []
    seen: set[str] = set()

    def visit(name: str) -> None:
        if name in seen:
            return
        seen.add(name)
        kpi = catalog.get(name)
        for ref in kpi.refs:
            visit(ref)
        order.append(kpi)

    for name in names:
        visit(name)
    return order


def common_dimensions(sources: Sequence[str]) -> set[str]:
    """The dimensions every one of `sources` has: what a query's `where` may use."""
    common = set(canonical.DIMENSIONS)
    for source in sources:
        common &= set(canonical.SOURCES[source].dimensions)
    return common


def where_expr(text: str, sources: Sequence[str]) -> Expr:
    """A query's row filter (`--where`, a KPI test's `query.where`): a condition over the
    dimensions all its sources share."""
    return row_expr(text, common_dimensions(sources), what="dimension", want=("boolean",))


def sources_of(kpi: Kpi, catalog: KpiLookup) -> list[str]:
    """The canonical sources a KPI reads, directly or through the KPIs it refers to."""
    found: list[str] = []
    for item in closure(catalog, [kpi.name]):
        if isinstance(item, (Simple, Weighted)) and item.source not in found:
            found.append(item.source)
    return found


def needed(catalog: Catalog, names: Sequence[str]) -> tuple[list[Kpi], set[str]]:
    """The KPIs of a request's closure that exist, dependencies first, and every name the
    closure refers to, including names no valid KPI has (unknown, or broken in its file)."""
    order: list[Kpi] = []
    seen: set[str] = set()
    for name in names:
        if name in seen:
            continue
        seen.add(name)
        if name not in catalog.kpis:
            continue
        # depth first without recursion: a long chain of KPIs is not a RecursionError
        stack = [(catalog.kpis[name], iter(catalog.kpis[name].refs))]
        while stack:
            kpi, refs = stack[-1]
            ref = next(refs, None)
            if ref is None:
                stack.pop()
                order.append(kpi)
            elif ref not in seen:
                seen.add(ref)
                found = catalog.kpis.get(ref)
                if found is not None:
                    stack.append((found, iter(found.refs)))
    return order, seen


def _refuse_broken(catalog: Catalog, names: Sequence[str]) -> None:
    """Refuse a request whose KPIs, or any KPI they are computed from, have an error: the
    same located problems `validate` reports about them. Only the request's closure is
    checked, so the cost follows the request, not the catalog, and a problem elsewhere
    in the catalog (a cycle among other KPIs, say) does not stop it."""
    from kpiframe import checks

    for name in names:
        if name not in catalog.broken:
            catalog.get(name)  # a name the user typed that is no KPI: say so first
    members, referred = needed(catalog, names)
    own = _checked(catalog, [k.name for k in members])
    problems = [p for k in members for p in own[k.name] if p.is_error]
    problems.extend(p for p in checks.cycles({k.name: k for k in members}) if p.is_error)
    problems.extend(p for p in catalog.load_problems if p.is_error and p.kpi in referred)
    if problems:
        raise KpiframeError(sorted(dict.fromkeys(problems), key=Problem.sort_key))


def _checked(catalog: Catalog, names: Sequence[str]) -> Mapping[str, list[Problem]]:
    """The KPIs `names`' own problems (checks.each), remembered for the catalog's
    resolved state: a KPI's checks read only the catalog's KPIs and platforms, which a
    ResolvedCatalog freezes, so a server answering many requests checks each KPI once."""
    from kpiframe import checks

    resolved = catalog.resolved
    with _CHECKED_LOCK:
        known = _CHECKED.setdefault(resolved, {})
        missing = [name for name in names if name not in known]
    if missing:
        found = checks.each(catalog, missing)
        with _CHECKED_LOCK:
            known.update(found)
    return known


#: each KPI's own problems, per ResolvedCatalog (gone with it)
_CHECKED: WeakKeyDictionary[ResolvedCatalog, dict[str, list[Problem]]] = WeakKeyDictionary()
_CHECKED_LOCK = threading.Lock()


def _date(value: dt.date | str | None, flag: str) -> dt.date | None:
    if value is None or isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise KpiframeError(
            Problem("bad-date", f"{flag} {value!r} is not a date", hint="write dates as YYYY-MM-DD")
        ) from None


def make_request(
    catalog: Catalog,
    kpis: Sequence[str] | str,
    grain: str | None = None,
    by: Sequence[str] = (),
    where: str | None = None,
    start: dt.date | str | None = None,
    end: dt.date | str | None = None,
    platforms: Sequence[str] | str | None = None,
) -> Request:
    names = (kpis,) if isinstance(kpis, str) else tuple(kpis)
    if not names:
        raise KpiframeError(
            Problem("no-kpi", "name at least one KPI", hint="`kpiframe list` shows the catalog")
        )
    if grain is not None and grain not in GRAINS:
        raise KpiframeError(
            Problem(
                "bad-grain",
                f"unknown grain '{grain}'",
                hint=did_you_mean(grain, GRAINS) or "grains: " + ", ".join(GRAINS),
            )
        )
    _refuse_broken(catalog, names)
    members = closure(catalog, names)
    sources = [s for k in names for s in sources_of(catalog.get(k), catalog)]
    for kpi in members:
        if isinstance(kpi, Change) and grain is None:
            raise KpiframeError(
                Problem.at(
                    kpi.loc(),
                    "change-needs-grain",
                    f"change '{kpi.name}' compares periods, and the query has no grain",
                    kpi=kpi.name,
                    hint="add --grain day|week|month|quarter|year",
                )
            )
        if (
            isinstance(kpi, Cumulative)
            and kpi.grain_to_date
            and grain is not None
            and GRAINS.index(grain) > GRAINS.index(kpi.grain_to_date)
        ):
            raise KpiframeError(
                Problem.at(
                    kpi.loc("grain_to_date"),
                    "grain-too-coarse",
                    f"cumulative '{kpi.name}' is {kpi.grain_to_date}-to-date, which a {grain} "
                    "grain cannot show",
                    kpi=kpi.name,
                    hint=f"query it at a {kpi.grain_to_date} grain or finer",
                )
            )
    dims = tuple(by)
    for dim in dims:
        if dim not in canonical.DIMENSIONS:
            raise KpiframeError(
                Problem(
                    "unknown-dimension",
                    f"--by {dim}: not a dimension",
                    hint=did_you_mean(dim, canonical.DIMENSIONS)
                    or "dimensions: " + ", ".join(canonical.DIMENSIONS),
                )
            )
        for kpi in members:
            if (
                isinstance(kpi, (Simple, Weighted))
                and dim not in canonical.SOURCES[kpi.source].dimensions
            ):
                raise KpiframeError(
                    Problem.at(
                        kpi.loc("source"),
                        "dimension-not-in-source",
                        f"{kpi.type} '{kpi.name}' reads {kpi.source}, which has no dimension "
                        f"'{dim}' to group by",
                        kpi=kpi.name,
                        hint=f"{kpi.source} has: "
                        + ", ".join(canonical.SOURCES[kpi.source].dimensions),
                    )
                )
        if len(set(dims)) != len(dims):
            raise KpiframeError(Problem("duplicate-dimension", "a dimension is repeated in --by"))
    expr = None
    if where is not None:
        common = common_dimensions(sources)
        try:
            expr = where_expr(where, sources)
        except ExprError as error:
            raise KpiframeError(
                Problem.at(
                    Location("--where", 1, error.offset + 1),
                    error.rule,
                    f"--where: {error.message}",
                    hint=error.hint
                    if error.rule != "unknown-dimension"
                    else (error.hint or "")
                    + "; --where may use dimensions every queried KPI's source "
                    "has: " + ", ".join(sorted(common)),
                )
            ) from None
    first, last = _date(start, "--from"), _date(end, "--to")
    if first and last and first > last:
        raise KpiframeError(
            Problem("bad-range", f"--from {first} is after --to {last}", hint="swap them")
        )
    chosen = None
    if platforms is not None:
        chosen = (platforms,) if isinstance(platforms, str) else tuple(platforms)
        for name in chosen:
            if name not in catalog.platforms:
                raise KpiframeError(
                    Problem(
                        "unknown-platform",
                        f"--platform {name}: no such platform in this project",
                        hint=did_you_mean(name, catalog.platforms)
                        or "platforms: " + ", ".join(sorted(catalog.platforms)),
                    )
                )
    return Request(names, grain, dims, expr, first, last, chosen)
