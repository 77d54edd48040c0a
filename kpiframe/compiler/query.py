"""Compile a request into one SQL statement, built only from sqlglot expressions.

The statement is a chain of CTEs, each a step a reader can check:

    agg_<source>   one scan per source: every simple/weighted KPI over it, aggregated to
                   (period, dims); `agg: last` through a window over each entity
    day_<source>   the same at day grain, for cumulative KPIs (their windows)
    avg_<kpi>      per-entity ratios averaged (`average_over`)
    bounds, spine  the period range and every period in it (a date spine)
    keys, base     the rows of the answer: every period x dimension values with data
    cum_<kpi>      cumulative values as of each period's last day
    final SELECT   base LEFT JOIN each relation (once per period offset a change needs),
                   and each KPI's value as an expression over those columns: ratios and
                   derived KPIs divide aggregated values, never average row ratios

A KPI's value is built by `value(kpi, chain)`, where `chain` lists the period offsets
applied on the way down (a change reads its input one offset earlier). Relations are
registered as values need them, then emitted, so only what the request uses is scanned.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from sqlglot import exp

from kpiframe import canonical
from kpiframe.compiler import dates
from kpiframe.compiler.request import Request, closure
from kpiframe.compiler.sources import quoted, source_relation
from kpiframe.definitions import (
    Change,
    Cumulative,
    Derived,
    Duration,
    Kpi,
    Ratio,
    Simple,
    Weighted,
)
from kpiframe.expressions import kpi_expr, row_expr

if TYPE_CHECKING:
    from kpiframe.catalog import Catalog

Offset = int | Duration
Chain = tuple[Offset, ...]
DOUBLE = exp.DataType.Type.DOUBLE


def col(name: str, table: str | None = None) -> exp.Column:
    return exp.column(quoted(name), table=quoted(table) if table else None)


def safe_div(numerator: exp.Expr, denominator: exp.Expr) -> exp.Expr:
    """Divide as doubles; a zero or NULL denominator gives NULL on every engine."""
    return exp.Div(
        this=exp.cast(numerator, DOUBLE),
        expression=exp.Nullif(this=exp.cast(denominator, DOUBLE), expression=exp.Literal.number(0)),
    )


def _and(*conditions: exp.Expr | None) -> exp.Expr | None:
    present = [c for c in conditions if c is not None]
    if not present:
        return None
    return exp.and_(*present, copy=False) if len(present) > 1 else present[0]


def _null_safe_eq(left: exp.Expr, right: exp.Expr) -> exp.Expr:
    return exp.NullSafeEQ(this=left, expression=right)


@dataclass
class Measure:
    """One simple or weighted KPI as an aggregate column of its source's scan."""

    kpi: Simple | Weighted
    agg: str
    value: exp.Expr | None  # None: COUNT(*)
    condition: exp.Expr | None
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


class Builder:
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

    # -- period arithmetic -------------------------------------------------------------------

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

    # -- registering what values need ----------------------------------------------------

    def scan(self, source: str) -> SourceScan:
        if source not in self.scans:
            self.scans[source] = SourceScan(canonical.SOURCES[source])
        return self.scans[source]

    def measure(self, kpi: Simple | Weighted) -> Measure:
        scan = self.scan(kpi.source)
        if kpi.name in scan.measures:
            return scan.measures[kpi.name]
        fields = scan.source.fields
        condition = None
        if kpi.filter:
            tree = row_expr(kpi.filter, fields).copy_tree()
            scan.fields.update(c.name for c in tree.find_all(exp.Column))
            condition = tree
        if kpi.platforms is not None:
            condition = _and(
                condition,
                col("platform").isin(*(exp.Literal.string(p) for p in kpi.platforms), copy=False),
            )
        if scan.platforms is not None:
            if kpi.platforms is None:
                scan.platforms = None
            else:
                scan.platforms.update(kpi.platforms)
        value: exp.Expr | None
        if isinstance(kpi, Weighted):
            value = self.weighted_value(kpi, scan)
            agg = "sum"
        else:
            agg = kpi.agg
            value = row_expr(kpi.expr, fields).copy_tree() if kpi.expr else None
            if value is not None:
                scan.fields.update(c.name for c in value.find_all(exp.Column))
            if agg == "last":
                scan.fields.update(scan.source.entity)
        measure = Measure(kpi, agg, value, condition)
        scan.measures[kpi.name] = measure
        return measure

    def weighted_value(self, kpi: Weighted, scan: SourceScan) -> exp.Expr:
        available = scan.source.interactions
        platforms = [
            p
            for p in self.platform_names(scan.source.name)
            if kpi.platforms is None or p in kpi.platforms
        ]

        def terms_for(platform: str | None) -> tuple[tuple[str, float], ...]:
            defaults = self.catalog.platforms[platform].platform.weights if platform else {}
            return tuple(
                (i, kpi.weight(platform, i, defaults))
                for i in kpi.counted(platform, available)
            )

        def combination(terms: tuple[tuple[str, float], ...]) -> exp.Expr:
            parts: list[exp.Expr] = []
            for name, weight in terms:
                if weight == 0:
                    continue
                scan.fields.add(name)
                term: exp.Expr = exp.Coalesce(this=col(name), expressions=[exp.Literal.number(0)])
                if weight != 1:
                    term = exp.Mul(this=_number(weight), expression=term)
                parts.append(term)
            if not parts:
                return exp.Literal.number(0)
            total = parts[0]
            for extra in parts[1:]:
                total = exp.Add(this=total, expression=extra)
            return total

        per_platform = {p: terms_for(p) for p in platforms}
        distinct = set(per_platform.values())
        if len(distinct) <= 1:
            return combination(distinct.pop() if distinct else terms_for(None))
        case = exp.Case()
        for platform, terms in per_platform.items():
            case = case.when(
                col("platform").eq(exp.Literal.string(platform)), combination(terms), copy=False
            )
        return case

    def platform_names(self, source: str) -> list[str]:
        wanted = self.req.platforms
        return [
            name
            for name, active in self.catalog.platforms.items()
            if active.binding(source) is not None and (wanted is None or name in wanted)
        ]

    def relation(self, key: str, chain: Chain) -> str:
        """The alias under which relation `key` is joined for `chain`."""
        if (key, chain) not in self.joins:
            self.joins[(key, chain)] = f"j{len(self.joins) + 1}"
        return self.joins[(key, chain)]

    @property
    def lookback(self) -> bool:
        """Whether anything reads before --from (a change's earlier periods)."""
        return self.req.start is not None

    # -- values ------------------------------------------------------------------------

    def value(self, name: str, chain: Chain = ()) -> exp.Expr:
        kpi = self.kpis[name]
        result = self._value(kpi, chain)
        if kpi.fill_nulls_with is not None:
            result = exp.Coalesce(this=result, expressions=[_number(kpi.fill_nulls_with)])
        return result

    def _value(self, kpi: Kpi, chain: Chain) -> exp.Expr:
        if isinstance(kpi, (Simple, Weighted)):
            measure = self.measure(kpi)
            whole = bool(chain) and self.lookback
            if whole:
                measure.whole = True
            else:
                measure.current = True
            scan = self.scans[kpi.source]
            scan.chains.add(chain)
            alias = self.relation(f"agg_{kpi.source}", chain)
            column: exp.Expr = col(("w_" if whole else "m_") + kpi.name, alias)
            if measure.agg in ("count", "count_distinct"):
                column = exp.Coalesce(this=column, expressions=[exp.Literal.number(0)])
            return column
        if isinstance(kpi, Ratio):
            if kpi.average_over:
                self.avgs.setdefault(kpi.name, (kpi, set()))[1].add(chain)
                for part in (kpi.numerator, kpi.denominator):
                    self.scan(self.kpis[part].source).chains.add(chain)  # type: ignore[attr-defined]
                alias = self.relation(f"avg_{kpi.name}", chain)
                result: exp.Expr = col("w" if chain and self.lookback else "v", alias)
            else:
                result = safe_div(
                    self.value(kpi.numerator, chain), self.value(kpi.denominator, chain)
                )
            if kpi.scale is not None:
                result = exp.Mul(this=exp.Paren(this=result), expression=_number(kpi.scale))
            return result
        if isinstance(kpi, Derived):
            return self.lower(kpi_expr(kpi.expr).copy_tree(), chain)
        if isinstance(kpi, Cumulative):
            self.cums.setdefault(kpi.name, (kpi, set()))[1].add(chain)
            inner = self.kpis[kpi.of]
            assert isinstance(inner, (Simple, Weighted))
            self.measure(inner).daily = True
            self.scan(inner.source)
            alias = self.relation(f"cum_{kpi.name}", chain)
            return col("v", alias)
        assert isinstance(kpi, Change)
        current = self.value(kpi.of, chain)
        before = self.value(kpi.of, (*chain, kpi.offset))
        # sqlglot prints the tree as built: parenthesise, or a - (b - c) prints a - b - c
        difference = exp.Sub(this=exp.Paren(this=current), expression=exp.Paren(this=before))
        if kpi.calc == "difference":
            return difference
        if kpi.calc == "ratio":
            return safe_div(current, before)
        return exp.Mul(
            this=exp.Paren(this=safe_div(difference, before.copy())),
            expression=exp.Literal.number(100),
        )

    def lower(self, node: exp.Expr, chain: Chain) -> exp.Expr:
        """A derived KPI's expression with KPI names replaced by their values and every
        division made safe. Built bottom-up so no replaced subtree is visited twice."""
        if isinstance(node, exp.Column):
            return exp.Paren(this=self.value(node.name, chain))
        if isinstance(node, exp.Div):
            return safe_div(self.lower(node.this, chain), self.lower(node.expression, chain))
        for key, child in list(node.args.items()):
            if isinstance(child, exp.Expr):
                node.set(key, self.lower(child, chain))
            elif isinstance(child, list):
                node.set(
                    key, [self.lower(c, chain) if isinstance(c, exp.Expr) else c for c in child]
                )
        if isinstance(node, exp.Round) and self.dialect == "postgres":
            # PostgreSQL rounds only NUMERIC to a number of digits
            node.set("this", exp.cast(node.this, exp.DataType.Type.DECIMAL))
        return node

    # -- rows of a source ----------------------------------------------------------------

    def rows(self, scan: SourceScan, lower: dt.date | None, daily: bool) -> exp.Select:
        """One source's rows in range, with `_t` (time), `_day` (its date) and `period`."""
        src = scan.source
        platforms = self.platform_names(src.name)
        if scan.platforms is not None:
            platforms = [p for p in platforms if p in scan.platforms]
        fields = [
            f
            for f in src.fields
            if f in scan.fields
            or f in self.by
            or f == "platform"
            or f == src.time
            or (self.req.where is not None and f in self.req.where.names)
        ]
        bindings = []
        for name in platforms:
            active = self.catalog.platforms[name]
            binding = active.binding(src.name)
            assert binding is not None
            bindings.append((name, binding, active.schema))
        relation = source_relation(src, bindings, fields, self.dialect)
        day = dates.to_date(col(src.time), self.dialect)
        columns: list[exp.Expr] = [col(f) for f in fields]
        columns.append(exp.alias_(col(src.time), quoted("_t"), copy=False))
        columns.append(exp.alias_(day.copy(), quoted("_day"), copy=False))
        grain = "day" if daily else self.grain
        if grain is not None:
            columns.append(
                exp.alias_(
                    dates.trunc(day.copy(), grain, self.dialect), quoted("period"), copy=False
                )
            )
        query = exp.select(*columns, copy=False).from_(
            exp.Subquery(this=relation, alias=exp.TableAlias(this=quoted("s"))), copy=False
        )
        conditions: list[exp.Expr | None] = []
        if lower is not None:
            conditions.append(
                exp.GTE(this=day.copy(), expression=dates.literal(lower, self.dialect))
            )
        if self.req.end is not None:
            conditions.append(
                exp.LTE(this=day.copy(), expression=dates.literal(self.req.end, self.dialect))
            )
        if self.req.where is not None:
            conditions.append(self.req.where.copy_tree())
        condition = _and(*conditions)
        if condition is not None:
            query = query.where(condition, copy=False)
        return query

    def in_range(self) -> exp.Expr:
        assert self.req.start is not None
        return exp.GTE(this=col("_day"), expression=dates.literal(self.req.start, self.dialect))

    def agg_lower(self, scan: SourceScan) -> dt.date | None:
        if self.req.start is None:
            return None
        if self.grain is None:
            return self.req.start
        lo = dates.py_trunc(self.req.start, self.grain)
        earliest = min((self.py_earlier(lo, chain) for chain in scan.chains), default=lo)
        return min(earliest, self.req.start)

    def aggregate(self, scan: SourceScan, daily: bool) -> exp.Select:
        """The aggregate CTE of one source: a row per (period, dims), a column per KPI."""
        measures = [
            m for m in scan.measures.values() if (m.daily if daily else (m.current or m.whole))
        ]
        lower = self.day_lower(scan) if daily else self.agg_lower(scan)
        rows = self.rows(scan, lower, daily)
        grain = "day" if daily else self.grain
        # current-period columns exclude rows before --from when the scan reaches further back
        reaches_back = self.req.start is not None and lower != self.req.start
        variants: list[tuple[str, Measure, exp.Expr | None]] = []
        for m in measures:
            if daily:
                variants.append(("m_", m, m.condition))
                continue
            if m.current:
                variants.append(
                    ("m_", m, _and(m.condition, self.in_range() if reaches_back else None))
                )
            if m.whole:
                variants.append(("w_", m, m.condition))
        partition = [col(k) for k in scan.source.entity]
        if grain is not None:
            partition.append(col("period"))
        windows: list[exp.Expr] = []
        selects: list[exp.Expr] = []
        group: list[exp.Expr] = []
        if grain is not None:
            selects.append(col("period"))
            group.append(col("period"))
        for dim in self.by:
            selects.append(col(dim))
            group.append(col(dim))
        for prefix, m, condition in variants:
            name = prefix + m.kpi.name
            selects.append(
                exp.alias_(
                    self.aggregate_expr(m, condition, name, windows, partition),
                    quoted(name),
                    copy=False,
                )
            )
        if not daily and self.by and reaches_back:
            # rows in range decide which --by values the answer shows; without a look-back
            # every row is in range and the column is not needed
            present = exp.Count(
                this=exp.Case().when(self.in_range(), exp.Literal.number(1), copy=False)
            )
            selects.append(exp.alias_(present, quoted("_n"), copy=False))
            scan.counts_in_range = True
        if not daily and self.needs_last_day:  # the last day with data
            selects.append(exp.alias_(exp.Max(this=col("_day")), quoted("_last"), copy=False))
        source: exp.Expr = exp.Subquery(this=rows, alias=exp.TableAlias(this=quoted("r")))
        if windows:
            inner = exp.select(exp.Star(), *windows, copy=False).from_(source, copy=False)
            source = exp.Subquery(this=inner, alias=exp.TableAlias(this=quoted("w")))
        query = exp.select(*selects, copy=False).from_(source, copy=False)
        if group:
            query = query.group_by(*group, copy=False)
        return query

    def aggregate_expr(
        self,
        m: Measure,
        condition: exp.Expr | None,
        name: str,
        windows: list[exp.Expr],
        partition: Sequence[exp.Expr],
    ) -> exp.Expr:
        value = m.value.copy() if m.value is not None else None

        def when(expr: exp.Expr, cond: exp.Expr | None) -> exp.Expr:
            return expr if cond is None else exp.Case().when(cond.copy(), expr, copy=False)

        def latest_when(cond: exp.Expr | None) -> exp.Expr:
            assert value is not None
            has_value = exp.Not(
                this=exp.Is(this=exp.Paren(this=value.copy()), expression=exp.null())
            )
            full = _and(cond.copy() if cond is not None else None, has_value)
            assert full is not None
            return exp.Case().when(full, col("_t"), copy=False)

        if m.agg == "count":
            if value is None and condition is None:
                return exp.Count(this=exp.Star())
            return exp.Count(
                this=when(value if value is not None else exp.Literal.number(1), condition)
            )
        assert value is not None
        if m.agg == "count_distinct":
            return exp.Count(this=exp.Distinct(expressions=[when(value, condition)]))
        if m.agg == "last":
            latest = "_lt_" + name
            windows.append(
                exp.alias_(
                    exp.Window(
                        this=exp.Max(this=latest_when(condition)),
                        partition_by=[p.copy() for p in partition],
                    ),
                    quoted(latest),
                    copy=False,
                )
            )
            at_latest = exp.EQ(this=col("_t"), expression=col(latest))
            return exp.Sum(this=when(value, _and(at_latest, condition)))
        functions: dict[str, type[exp.Expr]] = {
            "sum": exp.Sum,
            "avg": exp.Avg,
            "min": exp.Min,
            "max": exp.Max,
        }
        return functions[m.agg](this=when(value, condition))

    def day_lower(self, scan: SourceScan) -> dt.date | None:
        """How far back daily inputs of cumulative KPIs over this source must reach."""
        if self.req.start is None:
            return None
        earliest: dt.date | None = self.req.start
        first_period = self.spine_lo() if self.grain else self.req.start
        for cum, _ in self.cums.values():
            inner = self.kpis[cum.of]
            if getattr(inner, "source", None) != scan.source.name:
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

    # -- bounds, spine, keys, base ------------------------------------------------------------

    @property
    def spine_reaches_back(self) -> bool:
        """The spine starts before the first period shown (a change reads a cumulative)."""
        return any(chain for _, chains in self.cums.values() for chain in chains)

    def spine_lo(self) -> dt.date:
        assert self.req.start is not None and self.grain is not None
        lo = dates.py_trunc(self.req.start, self.grain)
        chains = [c for _, cs in self.cums.values() for c in cs]
        return min((self.py_earlier(lo, c) for c in chains), default=lo)

    def literal_bounds(self) -> dict[str, exp.Expr | None]:
        """Bounds known at compile time, as literals; None where the data decides them.

        Known bounds are written into the SQL rather than read from a one-row CTE: Spark's
        join reordering fails an assertion on cross joins with a constant one-row relation.
        """

        def lit(day: dt.date) -> exp.Expr:
            return dates.literal(day, self.dialect)

        grain = self.grain or "day"
        found: dict[str, exp.Expr | None] = dict.fromkeys(("lo", "spine_lo", "last_day", "hi"))
        if self.req.start is not None:
            found["lo"] = lit(dates.py_trunc(self.req.start, grain))
            found["spine_lo"] = lit(self.spine_lo()) if self.grain else lit(self.req.start)
        if self.req.end is not None:
            found["last_day"] = lit(self.req.end)
            found["hi"] = lit(dates.py_trunc(self.req.end, grain))
        return found

    def bound(self, name: str) -> exp.Expr:
        known = self.literal_bounds()[name]
        return known if known is not None else col(name, "b")

    def cross_bounds(self, query: exp.Select, *names: str) -> exp.Select:
        """Join the one-row `bounds` CTE when any of `names` comes from the data."""
        known = self.literal_bounds()
        if any(known[n] is None for n in names):
            query = query.join(
                exp.Table(this=quoted("bounds"), alias=exp.TableAlias(this=quoted("b"))),
                join_type="cross",
                copy=False,
            )
        return query

    @property
    def data_bounds(self) -> bool:
        return self.req.start is None or self.req.end is None

    @property
    def needs_bounds(self) -> bool:
        """Whether a `bounds` CTE computes the range from the data."""
        return self.data_bounds and bool(self.grain or self.cums)

    @property
    def needs_last_day(self) -> bool:
        """Whether the data's last day matters (the as-of day of cumulative KPIs); without
        them the last period is enough, and that is a group key already."""
        return self.req.end is None and bool(self.cums)

    def bounds(self) -> exp.Select:
        """One row of the bounds the data decides: the first period (lo, where the spine
        starts too), the last period (hi) and, for cumulative KPIs, the last day."""
        last_day = self.needs_last_day
        parts: list[exp.Select] = []
        for name in self.scans:
            cols: list[exp.Expr] = [
                col("period") if self.grain else exp.alias_(exp.null(), "period", copy=False)
            ]
            if last_day:
                cols.append(col("_last"))
            parts.append(
                exp.select(*cols, copy=False).from_(
                    exp.Table(this=quoted(f"agg_{name}")), copy=False
                )
            )
        union: exp.Query = parts[0]
        for part in parts[1:]:
            union = exp.union(union, part, distinct=False, copy=False)
        found = [exp.alias_(exp.Min(this=col("period")), quoted("lo"), copy=False)]
        if last_day:
            found.append(exp.alias_(exp.Max(this=col("_last")), quoted("last_day"), copy=False))
        else:
            found.append(exp.alias_(exp.Max(this=col("period")), quoted("hi"), copy=False))
        data = exp.select(*found, copy=False).from_(
            exp.Subquery(this=union, alias=exp.TableAlias(this=quoted("d"))), copy=False
        )
        columns: dict[str, exp.Expr] = {"lo": col("lo", "d"), "spine_lo": col("lo", "d")}
        if last_day:
            columns["last_day"] = col("last_day", "d")
            if self.grain is not None:
                columns["hi"] = dates.trunc(col("last_day", "d"), self.grain, self.dialect)
        elif self.grain is not None:
            columns["hi"] = col("hi", "d")
        return exp.select(
            *(exp.alias_(v, quoted(k), copy=False) for k, v in columns.items()), copy=False
        ).from_(exp.Subquery(this=data, alias=exp.TableAlias(this=quoted("d"))), copy=False)

    def spine(self) -> tuple[list[tuple[str, exp.Query]], exp.Select]:
        """Every period from spine_lo to hi, with its as-of day for cumulative KPIs."""
        assert self.grain is not None
        if self.req.start is not None and self.req.end is not None:
            count = 0
            period = self.spine_lo()
            while period <= self.req.end:
                count += 1
                period = dates.py_shift(period, 1, self.grain)
        else:
            count = {"day": 100_000, "week": 10_000, "month": 10_000}.get(self.grain, 1_000)
        digits = max(1, len(str(max(count - 1, 0))))
        digit_rows: exp.Query = exp.select(
            exp.alias_(exp.Literal.number(0), quoted("d"), copy=False), copy=False
        )
        for i in range(1, 10):
            digit_rows = exp.union(
                digit_rows,
                exp.select(exp.Literal.number(i), copy=False),
                distinct=False,
                copy=False,
            )
        number: exp.Expr = col("d", "d0")
        for i in range(1, digits):
            number = exp.Add(
                this=number,
                expression=exp.Mul(this=exp.Literal.number(10**i), expression=col("d", f"d{i}")),
            )
        nums = exp.select(exp.alias_(number, quoted("n"), copy=False), copy=False).from_(
            exp.Table(this=quoted("digits"), alias=exp.TableAlias(this=quoted("d0"))), copy=False
        )
        for i in range(1, digits):
            nums = nums.join(
                exp.Table(this=quoted("digits"), alias=exp.TableAlias(this=quoted(f"d{i}"))),
                join_type="cross",
                copy=False,
            )
        unit, size = dates.STEP[self.grain]
        step: exp.Expr = col("n", "n")
        if size != 1:
            step = exp.Mul(this=step, expression=exp.Literal.number(size))
        first = dates.add(self.bound("spine_lo"), step, unit, self.dialect)
        periods = self.cross_bounds(
            exp.select(exp.alias_(first, quoted("period"), copy=False), copy=False).from_(
                exp.Table(this=quoted("nums"), alias=exp.TableAlias(this=quoted("n"))), copy=False
            ),
            "spine_lo",
        ).where(exp.LT(this=col("n", "n"), expression=exp.Literal.number(count)), copy=False)
        columns: list[exp.Expr] = [col("period", "p")]
        needed = ["hi"]
        if self.cums:  # the as-of day of cumulative KPIs
            if self.grain == "day":
                as_of: exp.Expr = col("period", "p")
            else:
                # CASE rather than LEAST: sqlglot rewrites LEAST for DuckDB in a way that
                # does not print back the same, and both sides are never NULL here
                end = dates.period_end(col("period", "p"), self.grain, self.dialect)
                last = self.bound("last_day")
                as_of = (
                    exp.Case()
                    .when(exp.LTE(this=end, expression=last), end.copy(), copy=False)
                    .else_(last.copy(), copy=False)
                )
                needed.append("last_day")
            columns.append(exp.alias_(as_of, quoted("as_of"), copy=False))
        spine = self.cross_bounds(
            exp.select(*columns, copy=False).from_(
                exp.Subquery(this=periods, alias=exp.TableAlias(this=quoted("p"))), copy=False
            ),
            *needed,
        ).where(exp.LTE(this=col("period", "p"), expression=self.bound("hi")), copy=False)
        return [("digits", digit_rows), ("nums", nums)], spine

    def keys(self) -> exp.Query:
        """Every combination of --by values with data in range."""
        parts: list[exp.Select] = []
        for source in self.scans:
            query = exp.select(*(col(d) for d in self.by), copy=False).from_(
                exp.Table(this=quoted(f"agg_{source}")), copy=False
            )
            if self.scans[source].counts_in_range:
                query = query.where(
                    exp.GT(this=col("_n"), expression=exp.Literal.number(0)), copy=False
                )
            parts.append(query)
        union: exp.Query = parts[0]
        for part in parts[1:]:
            union = exp.union(union, part, distinct=True, copy=False)
        if len(parts) == 1:
            union = parts[0].distinct(copy=False)
        return union

    def base(self) -> exp.Select:
        columns: list[exp.Expr] = []
        if self.grain:
            columns.append(col("period", "s"))
        columns.extend(col(d, "k") for d in self.by)
        if not columns:
            return exp.select(
                exp.alias_(exp.Literal.number(1), quoted("_one"), copy=False), copy=False
            )
        query: exp.Select
        if self.grain:
            query = exp.select(*columns, copy=False).from_(
                exp.Table(this=quoted("spine"), alias=exp.TableAlias(this=quoted("s"))), copy=False
            )
            if self.by:
                query = query.join(
                    exp.Table(this=quoted("keys"), alias=exp.TableAlias(this=quoted("k"))),
                    join_type="cross",
                    copy=False,
                )
            if self.req.start is not None or self.spine_reaches_back:
                query = self.cross_bounds(query, "lo").where(
                    exp.GTE(this=col("period", "s"), expression=self.bound("lo")), copy=False
                )
        else:
            query = exp.select(*columns, copy=False).from_(
                exp.Table(this=quoted("keys"), alias=exp.TableAlias(this=quoted("k"))), copy=False
            )
        return query

    def cumulative(self, cum: Cumulative) -> exp.Select:
        inner = self.kpis[cum.of]
        assert isinstance(inner, (Simple, Weighted))
        day = f"day_{inner.source}"
        d_period = col("period", "d")
        if self.grain:
            as_of: exp.Expr = col("as_of", "s")
        else:
            as_of = self.bound("last_day")
        conditions: list[exp.Expr | None] = [exp.LTE(this=d_period, expression=as_of)]
        if cum.window is not None:
            unit, count = cum.window.days_or_months
            conditions.append(
                exp.GT(
                    this=d_period.copy(),
                    expression=dates.add(as_of.copy(), -count, unit, self.dialect),
                )
            )
        elif cum.grain_to_date is not None:
            conditions.append(
                exp.GTE(
                    this=d_period.copy(),
                    expression=dates.trunc(as_of.copy(), cum.grain_to_date, self.dialect),
                )
            )
        for dim in self.by:
            conditions.append(_null_safe_eq(col(dim, "d"), col(dim, "k")))
        value = exp.alias_(exp.Sum(this=col("m_" + inner.name, "d")), quoted("v"), copy=False)
        columns: list[exp.Expr] = []
        group: list[exp.Expr] = []
        if self.grain:
            columns.append(col("period", "s"))
            group.append(col("period", "s"))
        for dim in self.by:
            columns.append(col(dim, "k"))
            group.append(col(dim, "k"))
        if self.grain:
            query = exp.select(*columns, value, copy=False).from_(
                exp.Table(this=quoted("spine"), alias=exp.TableAlias(this=quoted("s"))), copy=False
            )
        elif self.by:
            query = self.cross_bounds(
                exp.select(*columns, value, copy=False).from_(
                    exp.Table(this=quoted("keys"), alias=exp.TableAlias(this=quoted("k"))),
                    copy=False,
                ),
                "last_day",
            )
        elif self.req.end is None:
            query = exp.select(value, copy=False).from_(
                exp.Table(this=quoted("bounds"), alias=exp.TableAlias(this=quoted("b"))), copy=False
            )
        else:
            one = exp.select(
                exp.alias_(exp.Literal.number(1), quoted("_one"), copy=False), copy=False
            )
            query = exp.select(value, copy=False).from_(
                exp.Subquery(this=one, alias=exp.TableAlias(this=quoted("s"))), copy=False
            )
        if self.by and self.grain:
            query = query.join(
                exp.Table(this=quoted("keys"), alias=exp.TableAlias(this=quoted("k"))),
                join_type="cross",
                copy=False,
            )
        query = query.join(
            exp.Table(this=quoted(day), alias=exp.TableAlias(this=quoted("d"))),
            on=_and(*conditions),
            join_type="left",
            copy=False,
        )
        if group:
            query = query.group_by(*group, copy=False)
        return query

    def average(self, ratio: Ratio, chains: set[Chain]) -> exp.Select:
        """Per-entity ratios, averaged: Hootsuite's "average engagement rate by reach"."""
        key = ratio.average_over
        assert key is not None
        parts = []
        for role, name in (("num", ratio.numerator), ("den", ratio.denominator)):
            leaf = self.kpis[name]
            assert isinstance(leaf, (Simple, Weighted))
            scan = self.scan(leaf.source)
            measure = self.measure(leaf)
            scan.fields.update(("platform", key))
            lower = self.agg_lower(scan)
            rows = self.rows(scan, lower, daily=False)
            reaches_back = self.req.start is not None and lower != self.req.start
            selects: list[exp.Expr] = []
            group: list[exp.Expr] = []
            if self.grain:
                selects.append(col("period"))
                group.append(col("period"))
            entity = [*self.by, *(k for k in ("platform", key) if k not in self.by)]
            for dim in entity:
                selects.append(col(dim))
                group.append(col(dim))
            windows: list[exp.Expr] = []
            partition = [col(k) for k in scan.source.entity] + (
                [col("period")] if self.grain else []
            )
            current = _and(measure.condition, self.in_range() if reaches_back else None)
            selects.append(
                exp.alias_(
                    self.aggregate_expr(measure, current, role, windows, partition),
                    quoted(role),
                    copy=False,
                )
            )
            selects.append(
                exp.alias_(
                    self.aggregate_expr(measure, measure.condition, "w" + role, windows, partition),
                    quoted("w" + role),
                    copy=False,
                )
            )
            source: exp.Expr = exp.Subquery(this=rows, alias=exp.TableAlias(this=quoted("r")))
            if windows:
                source = exp.Subquery(
                    this=exp.select(exp.Star(), *windows, copy=False).from_(source, copy=False),
                    alias=exp.TableAlias(this=quoted("w")),
                )
            parts.append(
                (
                    exp.select(*selects, copy=False)
                    .from_(source, copy=False)
                    .group_by(*group, copy=False),
                    entity,
                )
            )
        (num, entity), (den, _) = parts
        on = [
            _null_safe_eq(col(c, "a"), col(c, "b"))
            for c in (["period"] if self.grain else []) + entity
        ]
        joined = (
            exp.select(
                *([col("period", "a")] if self.grain else []),
                *(col(d, "a") for d in self.by),
                exp.alias_(safe_div(col("num", "a"), col("den", "b")), quoted("r"), copy=False),
                exp.alias_(safe_div(col("wnum", "a"), col("wden", "b")), quoted("wr"), copy=False),
                copy=False,
            )
            .from_(exp.Subquery(this=num, alias=exp.TableAlias(this=quoted("a"))), copy=False)
            .join(
                exp.Subquery(this=den, alias=exp.TableAlias(this=quoted("b"))),
                on=_and(*on),
                join_type="left",
                copy=False,
            )
        )
        outer_group = [col("period")] if self.grain else []
        outer_group += [col(d) for d in self.by]
        query = exp.select(
            *outer_group,
            exp.alias_(exp.Avg(this=col("r")), quoted("v"), copy=False),
            exp.alias_(exp.Avg(this=col("wr")), quoted("w"), copy=False),
            copy=False,
        ).from_(exp.Subquery(this=joined, alias=exp.TableAlias(this=quoted("e"))), copy=False)
        if outer_group:
            query = query.group_by(*[g.copy() for g in outer_group], copy=False)
        return query

    # -- assembly ------------------------------------------------------------------------

    def build(self) -> exp.Select:
        outputs = [(name, self.value(name)) for name in self.req.kpis]
        # every source read by a requested KPI gets a scan, for keys and bounds
        for kpi in self.kpis.values():
            if isinstance(kpi, (Simple, Weighted)):
                self.scan(kpi.source)
        ctes: list[tuple[str, exp.Query]] = []
        for name, scan in self.scans.items():
            ctes.append((f"agg_{name}", self.aggregate(scan, daily=False)))
        for name, scan in self.scans.items():
            if any(m.daily for m in scan.measures.values()):
                ctes.append((f"day_{name}", self.aggregate(scan, daily=True)))
        for name, (ratio, chains) in self.avgs.items():
            ctes.append((f"avg_{name}", self.average(ratio, chains)))
        if self.needs_bounds:
            ctes.append(("bounds", self.bounds()))
        if self.grain:
            helpers, spine = self.spine()
            ctes.extend(helpers)
            ctes.append(("spine", spine))
        if self.by:
            ctes.append(("keys", self.keys()))
        for name, (cum, _) in self.cums.items():
            ctes.append((f"cum_{name}", self.cumulative(cum)))
        ctes.append(("base", self.base()))

        columns: list[exp.Expr] = []
        order: list[exp.Expr] = []
        if self.grain:
            columns.append(col("period", "base"))
            order.append(exp.Ordered(this=col("period", "base"), nulls_first=False))
        for dim in self.by:
            columns.append(col(dim, "base"))
            order.append(exp.Ordered(this=col(dim, "base"), nulls_first=False))
        for name, value in outputs:
            columns.append(exp.alias_(value, quoted(name), copy=False))
        query = exp.select(*columns, copy=False).from_(exp.Table(this=quoted("base")), copy=False)
        for (key, chain), alias in self.joins.items():
            on: list[exp.Expr | None] = []
            if self.grain:
                on.append(exp.EQ(this=col("period", alias), expression=self.chain_period(chain)))
            for dim in self.by:
                on.append(_null_safe_eq(col(dim, alias), col(dim, "base")))
            query = query.join(
                exp.Table(this=quoted(key), alias=exp.TableAlias(this=quoted(alias))),
                on=_and(*on) or exp.true(),
                join_type="left",
                copy=False,
            )
        if order:
            query = query.order_by(*order, copy=False)
        for name, cte in ctes:
            query = query.with_(quoted(name), as_=cte, copy=False)
        return query


def _number(value: float) -> exp.Expr:
    if float(value).is_integer():
        return exp.Literal.number(int(value))
    return exp.Literal.number(repr(float(value)))


@dataclass(frozen=True)
class Compiled:
    """A compiled query: its SQL tree and the types of its columns."""

    tree: exp.Select
    dialect: str
    request: Request
    columns: Sequence[tuple[str, str]]

    def sql(self, pretty: bool = False) -> str:
        # the tree is built once per compile and never reused: no need to copy it
        return self.tree.sql(dialect=self.dialect, identify=True, pretty=pretty, copy=False)


def compile_query(catalog: Catalog, request: Request, dialect: str) -> Compiled:
    builder = Builder(catalog, request, dialect)
    tree = builder.build()
    columns: list[tuple[str, str]] = []
    if request.grain:
        columns.append(("period", "date"))
    for dim in request.by:
        field_type = next(s.fields[dim].type for s in canonical.SOURCES.values() if dim in s.fields)
        columns.append((dim, field_type))
    columns.extend((name, "number") for name in request.kpis)
    return Compiled(tree, dialect, request, columns)
