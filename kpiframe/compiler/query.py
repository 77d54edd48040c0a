"""Stage 4, the SQL writer: a plan as one statement, built only from sqlglot expressions.

The statement is a chain of CTEs, each a step a reader can check:

    agg_<source>   one scan per source: every simple/weighted KPI over it, aggregated to
                   (period, dims); `agg: last` through the dialect's arg-max or a window
    day_<source>   the same at day grain, for cumulative KPIs (their windows)
    avg_<kpi>      per-entity ratios averaged (`average_over`)
    bounds, spine  the period range and every period in it (a date spine)
    keys, base     the rows of the answer: every period x dimension values with data
    cum_<kpi>      cumulative values as of each period's last day
    final SELECT   base LEFT JOIN each relation (once per period offset a change needs),
                   and each KPI's value as an expression over those columns: ratios and
                   derived KPIs divide aggregated values, never average row ratios

What to compute was decided by the planner (planner.py, a frozen `Plan`); this module and
the writer parts it stacks on (`Scans` over `Calendar` over `State`) only write it.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections import OrderedDict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING
from weakref import WeakKeyDictionary

from sqlglot import exp

from kpiframe import canonical
from kpiframe import columns as physical_columns
from kpiframe.compiler import dates
from kpiframe.compiler.adapters import adapt_row_expr, adapter
from kpiframe.compiler.plan import Plan
from kpiframe.compiler.planner import plan_query
from kpiframe.compiler.request import Request
from kpiframe.compiler.scans import Scans
from kpiframe.compiler.sources import quoted
from kpiframe.compiler.state import col, conjoin
from kpiframe.compiler.trees import cross_join, left_join
from kpiframe.compiler.verify import allowed_tables, verify
from kpiframe.definitions import Cumulative, Kpi, Ratio, Simple, Weighted
from kpiframe.exprbuild import safe_div
from kpiframe.expressions import row_expr
from kpiframe.gcpause import gc_paused
from kpiframe.resolve import ResolvedCatalog

if TYPE_CHECKING:
    from kpiframe.catalog import Catalog


class Writer(Scans):
    """Stage 4: a plan written as one statement for one dialect."""

    def cumulative(self, cum: Cumulative) -> exp.Select:
        inner = self.kpis[cum.of]
        assert isinstance(inner, (Simple, Weighted))
        if self.plan.framed(cum):
            return self.cumulative_frame(cum, inner)
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
            conditions.append(adapter(self.dialect).null_safe_eq(col(dim, "d"), col(dim, "k")))
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
            query = cross_join(query, exp.Table(this=quoted("keys"),
                                                alias=exp.TableAlias(this=quoted("k"))))
        on = conjoin(*conditions)
        assert on is not None
        query = left_join(query, exp.Table(this=quoted(day),
                                           alias=exp.TableAlias(this=quoted("d"))), on)
        if group:
            query = query.group_by(*group, copy=False)
        return query

    def cumulative_frame(self, cum: Cumulative, inner: Simple | Weighted) -> exp.Select:
        """By day, a rolling or to-date sum is a window frame over the day spine (every day,
        each --by key) left-joined to the daily values: one pass over a few thousand rows,
        where the general form joins every day to every day of its window. The spine starts
        early enough for the first day's window (`spine_start`)."""
        partition: list[exp.Expr] = [col(dim, "k") for dim in self.by]
        if cum.grain_to_date is not None:
            partition.append(dates.trunc(col("period", "s"), cum.grain_to_date, self.dialect))
        start: exp.Expr | str = "UNBOUNDED"
        if cum.window is not None:
            _, count = cum.window.days_or_months
            start = exp.Literal.number(count - 1)
        spec = exp.WindowSpec(kind="ROWS", start=start, start_side="PRECEDING",
                              end="CURRENT ROW")
        total = exp.Window(
            this=exp.Sum(this=col("m_" + inner.name, "d")),
            partition_by=partition or None,
            order=exp.Order(expressions=[adapter(self.dialect).ascending(col("period", "s"))]),
            spec=spec,
        )
        query = exp.select(col("period", "s"), *(col(d, "k") for d in self.by),
                           exp.alias_(total, quoted("v"), copy=False), copy=False).from_(
            exp.Table(this=quoted("spine"), alias=exp.TableAlias(this=quoted("s"))), copy=False)
        if self.by:
            query = cross_join(query, exp.Table(this=quoted("keys"),
                                                alias=exp.TableAlias(this=quoted("k"))))
        on: list[exp.Expr] = [exp.EQ(this=col("period", "d"), expression=col("period", "s"))]
        on += [adapter(self.dialect).null_safe_eq(col(dim, "d"), col(dim, "k")) for dim in self.by]
        frame_on = conjoin(*on)
        assert frame_on is not None
        return left_join(query, exp.Table(this=quoted(f"day_{inner.source}"),
                                          alias=exp.TableAlias(this=quoted("d"))), frame_on)

    def average(self, ratio: Ratio) -> exp.Select:
        """Per-entity ratios, averaged: Hootsuite's "average engagement rate by reach"."""
        key = ratio.average_over
        assert key is not None
        parts = []
        for role, name in (("num", ratio.numerator), ("den", ratio.denominator)):
            leaf = self.kpis[name]
            assert isinstance(leaf, (Simple, Weighted))
            scan = self.scans[leaf.source]
            measure = scan.measures[leaf.name]
            lower = self.plan.agg_lower(scan)
            rows = self.rows(scan, lower, daily=False, extra=("platform", key))
            reaches_back = self.plan.reaches_back(scan)
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
            current = conjoin(measure.condition, self.in_range() if reaches_back else None)
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
            adapter(self.dialect).null_safe_eq(col(c, "a"), col(c, "b"))
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
        )
        joined = left_join(joined, exp.Subquery(this=den, alias=exp.TableAlias(this=quoted("b"))),
                           conjoin(*on) or exp.true())
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

    def build(self) -> exp.Select:
        ctes: list[tuple[str, exp.Query]] = []
        for name, scan in self.scans.items():
            if not scan.from_days:
                ctes.append((f"agg_{name}", self.aggregate(scan, daily=False)))
        for name, scan in self.scans.items():
            if scan.daily:
                ctes.append((f"day_{name}", self.aggregate(scan, daily=True)))
            if scan.from_days:  # read the source once, not once more for the range
                ctes.append((f"agg_{name}", self.aggregate_from_days(scan)))
        for name, average in self.avgs.items():
            ctes.append((f"avg_{name}", self.average(average.kpi)))
        if self.plan.needs_bounds:
            ctes.append(("bounds", self.bounds()))
        if self.grain:
            helpers, spine = self.spine()
            ctes.extend(helpers)
            ctes.append(("spine", spine))
        if self.by:
            ctes.append(("keys", self.keys()))
        for name, window in self.cums.items():
            ctes.append((f"cum_{name}", self.cumulative(window.kpi)))
        ctes.append(("base", self.base()))

        columns: list[exp.Expr] = []
        order: list[exp.Expr] = []
        if self.grain:
            columns.append(col("period", "base"))
            order.append(exp.Ordered(this=col("period", "base"), nulls_first=False))
        for dim in self.by:
            columns.append(col(dim, "base"))
            order.append(exp.Ordered(this=col(dim, "base"), nulls_first=False))
        for name, value in self.plan.outputs:
            # a derived KPI's functions as this engine computes them (ROUND on PostgreSQL)
            columns.append(exp.alias_(adapt_row_expr(value.copy(), self.dialect),
                                      quoted(name), copy=False))
        query = exp.select(*columns, copy=False).from_(exp.Table(this=quoted("base")), copy=False)
        for join in self.plan.joins:
            key, chain, alias = join.relation, join.chain, join.alias
            on: list[exp.Expr | None] = []
            if self.grain:
                on.append(exp.EQ(this=col("period", alias), expression=self.chain_period(chain)))
            for dim in self.by:
                on.append(adapter(self.dialect).null_safe_eq(col(dim, alias), col(dim, "base")))
            query = left_join(query, exp.Table(this=quoted(key),
                                               alias=exp.TableAlias(this=quoted(alias))),
                              conjoin(*on) or exp.true())
        if order:
            query = query.order_by(*order, copy=False)
        for name, cte in ctes:
            query = query.with_(quoted(name), as_=cte, copy=False)
        return query


@dataclass(frozen=True)
class Compiled:
    """A compiled query: its SQL tree and the types of its columns."""

    tree: exp.Select
    dialect: str
    request: Request
    columns: Sequence[tuple[str, str]]
    #: the (schema, table) names the statement may read: its platforms' bindings
    tables: frozenset[tuple[str, str]] = frozenset()
    #: periods the date spine holds when the data decides the range (None: --from/--to)
    spine_cap: int | None = None
    #: bounds known at compile time (spine_lo, hi), as dates; None where the data decides
    known_bounds: Mapping[str, dt.date | None] = field(default_factory=dict)
    #: the statement's text, pretty and not, once printed and checked
    _texts: dict[bool, str] = field(default_factory=dict, compare=False, repr=False)
    #: one print at a time: a compiled statement may be shared (compile_query remembers)
    _printing: threading.Lock = field(default_factory=threading.Lock, compare=False,
                                      repr=False)

    def bounds_probe(self) -> str:
        """`SELECT spine_lo, hi FROM bounds` over this statement's CTEs: what the data
        decided, to check that the spine covered it."""
        with_ = self.tree.args["with_"].copy()
        probe = exp.select(col("spine_lo"), col("hi"), copy=False).from_(
            exp.Table(this=quoted("bounds")), copy=False)
        probe.set("with_", with_)
        sql = probe.sql(dialect=self.dialect, identify=True, copy=False)
        verify(sql, self.dialect, self.tables)
        return sql

    def sql(self, pretty: bool = False) -> str:
        """The statement, checked as the engine will read it (verify.py) before anyone
        can run it. Printed once per form: the tree never changes after compile."""
        text = self._texts.get(pretty)
        if text is not None:
            return text
        with self._printing:
            text = self._texts.get(pretty)
            if text is None:
                # the first print may transform the tree in place (no copy: it is
                # large); later prints copy what it left
                text = self.tree.sql(dialect=self.dialect, identify=True, pretty=pretty,
                                     copy=bool(self._texts))
                verify(text, self.dialect, self.tables)
                self._texts[pretty] = text
        return text


def value_kind(kpi: Kpi) -> str:
    """`decimal` for a sum, min, max or last of a decimal field (money), which engines
    without exact decimals (SQLite) give as a float to round; `number` otherwise."""
    if isinstance(kpi, Simple) and kpi.agg in ("sum", "min", "max", "last") and kpi.expr:
        source = canonical.SOURCES[kpi.source]
        names = row_expr(kpi.expr, source.fields).names  # checked when the request was made
        if names and all(source.fields[n].type == "decimal" for n in names):
            return "decimal"
    return "number"


def write(plan: Plan, catalog: ResolvedCatalog, dialect: str) -> Compiled:
    """Stage 4: the statement of a plan in one dialect."""
    request = plan.request
    tree = Writer(plan, dialect).build()
    adapter(dialect).finish(tree)
    columns: list[tuple[str, str]] = []
    if request.grain:
        columns.append(("period", "date"))
    for dim in request.by:
        field_type = next(s.fields[dim].type for s in canonical.SOURCES.values() if dim in s.fields)
        columns.append((dim, field_type))
    columns.extend((name, value_kind(plan.kpis[name])) for name in request.kpis)
    known: dict[str, dt.date | None] = {"spine_lo": None, "hi": None}
    if plan.spine_cap is not None and request.start is not None:
        known["spine_lo"] = plan.spine_start()
    if plan.spine_cap is not None and request.end is not None and request.grain:
        known["hi"] = dates.py_trunc(request.end, request.grain)
    tables = allowed_tables(catalog.platforms) | adapter(dialect).constant_tables
    return Compiled(tree, dialect, request, columns, tables, plan.spine_cap, known)


def compile_query(catalog: ResolvedCatalog | Catalog, request: Request,
                  dialect: str) -> Compiled:
    """Plan a checked request, then write it for `dialect` (a Catalog is resolved first)."""
    resolved = catalog if isinstance(catalog, ResolvedCatalog) else catalog.resolved
    if physical_columns.current() is not None:  # checked against a live connection's tables
        with gc_paused():
            return write(plan_query(resolved, request), resolved, dialect)
    # a ResolvedCatalog never changes, so the same request compiles to the same statement
    where = request.where.text if request.where is not None else None
    key = (request.kpis, request.grain, request.by, where, request.start, request.end,
           request.platforms, dialect)
    with _MEMO_LOCK:
        memo = _MEMO.setdefault(resolved, OrderedDict())
        compiled = memo.get(key)
        if compiled is not None:
            memo.move_to_end(key)
            return compiled
    with gc_paused():  # tens of thousands of sqlglot nodes: see kpiframe/gcpause.py
        compiled = write(plan_query(resolved, request), resolved, dialect)
    with _MEMO_LOCK:
        memo[key] = compiled
        if len(memo) > 64:
            memo.popitem(last=False)
    return compiled


#: compiled statements by request, per ResolvedCatalog (gone with it)
_MEMO: WeakKeyDictionary[ResolvedCatalog, OrderedDict[tuple[object, ...], Compiled]] = \
    WeakKeyDictionary()
_MEMO_LOCK = threading.Lock()
