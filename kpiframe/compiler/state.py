"""What every stage of building one query shares: the request, the relations registered
so far, period arithmetic, and the small expression helpers they are built from."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from sqlglot import exp

from kpiframe import canonical
from kpiframe.compiler import dates
from kpiframe.compiler.request import Request, closure
from kpiframe.compiler.sources import quoted
from kpiframe.definitions import (
    Cumulative,
    Duration,
    Ratio,
    Simple,
    Weighted,
)

if TYPE_CHECKING:
    from kpiframe.catalog import Catalog

Offset = int | Duration
Chain = tuple[Offset, ...]
DOUBLE = exp.DataType.Type.DOUBLE


def col(name: str, table: str | None = None) -> exp.Column:
    return exp.column(quoted(name), table=quoted(table) if table else None)


def conjoin(*conditions: exp.Expr | None) -> exp.Expr | None:
    present = [c for c in conditions if c is not None]
    if not present:
        return None
    return exp.and_(*present, copy=False) if len(present) > 1 else present[0]


def null_safe_eq(left: exp.Expr, right: exp.Expr) -> exp.Expr:
    return exp.NullSafeEQ(this=left, expression=right)


@dataclass
class Measure:
    """One simple or weighted KPI as an aggregate column of its source's scan."""

    kpi: Simple | Weighted
    agg: str
    value: exp.Expr | None  # None: COUNT(*), or a weighted KPI (see `terms`)
    condition: exp.Expr | None
    #: a weighted KPI: (weight, interaction, the platforms that weight applies to; None:
    #: all the KPI reads), summed as weight x SUM(interaction)
    terms: tuple[tuple[float, str, tuple[str, ...] | None], ...] = ()
    current: bool = False  # needed for rows in range
    whole: bool = False  # needed for whole periods (a change's earlier side)
    daily: bool = False  # needed per day (a cumulative's input)


@dataclass
class SourceScan:
    source: canonical.Source
    measures: dict[str, Measure] = field(default_factory=dict)
    #: platforms any KPI over this source may read (None: all)
    platforms: set[str] | None = field(default_factory=set)
    fields: set[str] = field(default_factory=set)
    chains: set[Chain] = field(default_factory=set)
    #: the aggregate has `_n`, its rows in range (a look-back reads rows before --from)
    counts_in_range: bool = False


def number(value: float) -> exp.Expr:
    if float(value).is_integer():
        return exp.Literal.number(int(value))
    return exp.Literal.number(repr(float(value)))


class State:
    """The request and what values have registered so far."""

    def __init__(self, catalog: Catalog, request: Request, dialect: str) -> None:
        self.catalog = catalog
        self.req = request
        self.dialect = dialect
        self.grain = request.grain
        self.by = request.by
        self.scans: dict[str, SourceScan] = {}
        self.joins: dict[tuple[str, Chain], str] = {}
        self.cums: dict[str, tuple[Cumulative, set[Chain]]] = {}
        self.avgs: dict[str, tuple[Ratio, set[Chain]]] = {}
        self.kpis = {k.name: k for k in closure(catalog, request.kpis)}
        #: how many periods the date spine holds when the data decides its range
        self.spine_cap: int | None = None

    def earlier(self, period: exp.Expr, offset: Offset) -> exp.Expr:
        assert self.grain is not None
        if isinstance(offset, int):
            return dates.shift(period, -offset, self.grain, self.dialect)
        unit, count = offset.days_or_months
        moved = dates.add(period, -count, unit, self.dialect)
        return dates.trunc(moved, self.grain, self.dialect)

    def py_earlier(self, period: dt.date, chain: Chain) -> dt.date:
        assert self.grain is not None
        for offset in chain:
            if isinstance(offset, int):
                period = dates.py_shift(period, -offset, self.grain)
            else:
                unit, count = offset.days_or_months
                period = dates.py_trunc(dates.py_add(period, -count, unit), self.grain)
        return period

    def chain_period(self, chain: Chain) -> exp.Expr:
        period: exp.Expr = col("period", "base")
        for offset in chain:
            period = self.earlier(period, offset)
        return period

    def scan(self, source: str) -> SourceScan:
        if source not in self.scans:
            self.scans[source] = SourceScan(canonical.SOURCES[source])
        return self.scans[source]

    def relation(self, key: str, chain: Chain) -> str:
        """The alias under which relation `key` is joined for `chain`."""
        if (key, chain) not in self.joins:
            self.joins[(key, chain)] = f"j{len(self.joins) + 1}"
        return self.joins[(key, chain)]

    @property
    def lookback(self) -> bool:
        """Whether anything reads before --from (a change's earlier periods)."""
        return self.req.start is not None

    def platform_names(self, source: str) -> list[str]:
        wanted = self.req.platforms
        return [
            name
            for name, active in self.catalog.platforms.items()
            if active.binding(source) is not None and (wanted is None or name in wanted)
        ]
