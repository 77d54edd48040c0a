"""Stage 3, the logical plan: what one request reads, aggregates and joins, before any SQL.

The planner (planner.py) turns a `Request` over a `ResolvedCatalog` into a `Plan`; the SQL
writer (query.py over scans.py, calendar.py, writer.py) turns a plan into one statement
for a dialect. The plan names no dialect: the same plan gives every engine's SQL, and
`kpiframe show KPI --plan` prints it. Every decision about the shape of the answer that
does not depend on the engine (how far a scan reaches back, whether the data decides the
range, which cumulative is a window frame) is a method here, so the writer only
translates.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cached_property

from sqlglot import exp

from kpiframe import canonical
from kpiframe.compiler import dates
from kpiframe.compiler.request import Request
from kpiframe.definitions import Cumulative, Duration, Kpi, Ratio, Simple, Weighted
from kpiframe.platform import Binding

Offset = int | Duration
#: the period offsets applied on the way down to a value (a change reads one offset back)
Chain = tuple[Offset, ...]
#: a weighted KPI's term: (weight, interaction, the platforms that weight applies to;
#: None: all the KPI reads)
Term = tuple[float, str, tuple[str, ...] | None]


@dataclass(frozen=True)
class Measure:
    """One simple or weighted KPI as an aggregate column of its source's scan."""

    kpi: Simple | Weighted
    agg: str  # sum, count, ..., last, or "weighted"
    value: exp.Expr | None  # the checked row expression; None: COUNT(*), or weighted
    condition: exp.Expr | None  # the KPI's filter and platforms
    terms: tuple[Term, ...] = ()  # a weighted KPI's, summed as weight x SUM(interaction)
    current: bool = False  # needed for rows in range
    whole: bool = False  # needed for whole periods (a change's earlier side)
    daily: bool = False  # needed per day (a cumulative's input)


@dataclass(frozen=True)
class Scan:
    """One read of a canonical source: its rows in range, aggregated to (period, --by)."""

    source: canonical.Source
    measures: Mapping[str, Measure]
    #: the platforms whose tables it reads, sorted, each with its binding and schema
    reads: tuple[tuple[str, Binding, str], ...]
    #: the canonical fields its measures read (besides time, platform, --by, --where)
    fields: frozenset[str]
    #: the period offsets its values are read at
    chains: frozenset[Chain]

    @property
    def name(self) -> str:
        return self.source.name

    @property
    def platforms(self) -> tuple[str, ...]:
        return tuple(name for name, _, _ in self.reads)

    @property
    def daily(self) -> bool:
        """Whether a day_<source> aggregate is needed (a cumulative's input)."""
        return any(m.daily for m in self.measures.values())

    @property
    def from_days(self) -> bool:
        """Whether `agg_<source>` only decides the range and the --by keys for daily
        inputs (a cumulative's): then it is made from `day_<source>`, which reads the same
        rows, instead of reading the source a second time."""
        measures = self.measures.values()
        return self.daily and not any(m.current or m.whole for m in measures)


@dataclass(frozen=True)
class Window:
    """A cumulative KPI: a running total of a daily input over a window or to date."""

    kpi: Cumulative
    chains: frozenset[Chain]


@dataclass(frozen=True)
class Average:
    """A ratio averaged over entities (`average_over`): per-entity ratios, then AVG."""

    kpi: Ratio
    chains: frozenset[Chain]


@dataclass(frozen=True)
class Join:
    """A relation joined to the answer's rows at a period offset, under an alias."""

    relation: str
    chain: Chain
    alias: str


@dataclass(frozen=True)
class Plan:
    """Everything one request computes, in the order the statement is written."""

    request: Request
    #: the requested KPIs and every KPI they are computed from
    kpis: Mapping[str, Kpi]
    scans: Mapping[str, Scan]
    averages: Mapping[str, Average]
    windows: Mapping[str, Window]
    joins: tuple[Join, ...]
    #: each requested KPI's value, an expression over the joined relations' columns
    outputs: tuple[tuple[str, exp.Expr], ...]

    # -- the request ---------------------------------------------------------------------

    @property
    def grain(self) -> str | None:
        return self.request.grain

    @property
    def by(self) -> tuple[str, ...]:
        return self.request.by

    @property
    def lookback(self) -> bool:
        """Whether anything reads before --from (a change's earlier periods)."""
        return self.request.start is not None

    # -- periods -------------------------------------------------------------------------

    def py_earlier(self, period: dt.date, chain: Chain) -> dt.date:
        assert self.grain is not None
        for offset in chain:
            if isinstance(offset, int):
                period = dates.py_shift(period, -offset, self.grain)
            else:
                unit, count = offset.days_or_months
                period = dates.py_trunc(dates.py_add(period, -count, unit), self.grain)
        return period

    def agg_lower(self, scan: Scan) -> dt.date | None:
        """The first day `agg_<source>` reads: --from, or earlier for a change's look-back."""
        start = self.request.start
        if start is None:
            return None
        if self.grain is None:
            return start
        lo = dates.py_trunc(start, self.grain)
        earliest = min((self.py_earlier(lo, chain) for chain in scan.chains), default=lo)
        return min(earliest, start)

    def reaches_back(self, scan: Scan) -> bool:
        """Whether the scan reads rows before --from: its current-period columns then
        leave those rows out, and it counts its rows in range for the --by keys."""
        return self.request.start is not None and self.agg_lower(scan) != self.request.start

    def counts_in_range(self, scan: Scan) -> bool:
        """Whether `agg_<source>` has `_n`, its rows in range, which decide the --by
        values the answer shows (without a look-back every row is in range)."""
        return bool(self.by) and self.reaches_back(scan)

    def day_lower(self, scan: Scan) -> dt.date | None:
        """How far back daily inputs of cumulative KPIs over this source must reach."""
        if self.request.start is None:
            return None
        earliest: dt.date | None = self.request.start
        first_period = self.spine_lo() if self.grain else self.request.start
        for window in self.windows.values():
            cum = window.kpi
            inner = self.kpis[cum.of]
            if getattr(inner, "source", None) != scan.name:
                continue
            if cum.window is None and cum.grain_to_date is None:
                return None  # all-time: every row ever
            if cum.window is not None:
                unit, count = cum.window.days_or_months
                start = dates.py_add(first_period, -count, unit)
            else:
                assert cum.grain_to_date is not None
                start = dates.py_trunc(first_period, cum.grain_to_date)
            earliest = min(earliest, start) if earliest else start
        return earliest

    # -- the range and the spine ----------------------------------------------------------

    @property
    def spine_reaches_back(self) -> bool:
        """The spine starts before the first period shown (a change reads a cumulative)."""
        return any(chain for w in self.windows.values() for chain in w.chains)

    def spine_lo(self) -> dt.date:
        assert self.request.start is not None and self.grain is not None
        lo = dates.py_trunc(self.request.start, self.grain)
        chains = [c for w in self.windows.values() for c in w.chains]
        return min((self.py_earlier(lo, c) for c in chains), default=lo)

    def framed(self, cum: Cumulative) -> bool:
        """Whether a cumulative is a window frame over the day spine: by day, for a window
        in days or weeks or a to-date, which look back a known number of days (or to the
        start of the period). A window in months varies in length; an all-time total with
        --from looks back to the data's first day: both keep the general join."""
        if self.grain != "day":
            return False
        if cum.window is not None:
            return cum.window.days_or_months[0] == "DAY"
        return cum.grain_to_date is not None or self.request.start is None

    def spine_start(self) -> dt.date:
        """Where the spine starts: spine_lo, and earlier by what a framed cumulative's
        first window reaches back (those days are read, not shown)."""
        first = self.spine_lo()
        start = first
        for window in self.windows.values():
            cum = window.kpi
            if not self.framed(cum):
                continue
            if cum.window is not None:
                start = min(start, dates.py_add(first, -(cum.window.days_or_months[1] - 1),
                                                "DAY"))
            elif cum.grain_to_date is not None:
                start = min(start, dates.py_trunc(first, cum.grain_to_date))
        return start

    def known_bounds(self) -> dict[str, dt.date | None]:
        """The range's bounds known before the data is read; None where the data decides.
        lo: the first period shown; spine_lo: where the spine starts; last_day: the as-of
        day of cumulative KPIs; hi: the last period."""
        start, end = self.request.start, self.request.end
        grain = self.grain or "day"
        found: dict[str, dt.date | None] = dict.fromkeys(("lo", "spine_lo", "last_day", "hi"))
        if start is not None:
            found["lo"] = dates.py_trunc(start, grain)
            found["spine_lo"] = self.spine_start() if self.grain else start
        if end is not None:
            found["last_day"] = end
            found["hi"] = dates.py_trunc(end, grain)
        return found

    @property
    def data_bounds(self) -> bool:
        return self.request.start is None or self.request.end is None

    @property
    def needs_bounds(self) -> bool:
        """Whether a `bounds` CTE computes the range from the data."""
        return self.data_bounds and bool(self.grain or self.windows)

    @property
    def needs_last_day(self) -> bool:
        """Whether the data's last day matters (the as-of day of cumulative KPIs); without
        them the last period is enough, and that is a group key already."""
        return self.request.end is None and bool(self.windows)

    @cached_property
    def spine_periods(self) -> tuple[int, bool]:
        """How many periods the spine holds, and whether that is a cap (the data decides
        the range; run.check_spine checks the data fits in it)."""
        assert self.grain is not None
        if self.request.start is not None and self.request.end is not None:
            count = 0
            period = self.spine_start()
            while period <= self.request.end:
                count += 1
                period = dates.py_shift(period, 1, self.grain)
            return count, False
        return {"day": 100_000, "week": 10_000, "month": 10_000}.get(self.grain, 1_000), True

    @property
    def spine_cap(self) -> int | None:
        """The spine's size when the data decides the range (None: --from and --to)."""
        if self.grain is None:
            return None
        count, capped = self.spine_periods
        return count if capped else None
