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
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from sqlglot import exp

from kpiframe import canonical
from kpiframe.compiler import dates
from kpiframe.compiler.request import Request
from kpiframe.compiler.sources import quoted
from kpiframe.definitions import (
    Change,
    Cumulative,
    Derived,
    Kpi,
    Ratio,
    Simple,
    Weighted,
)
from kpiframe.expressions import kpi_expr, row_expr

if TYPE_CHECKING:
    from kpiframe.catalog import Catalog
from kpiframe.compiler.adapters import adapt_row_expr, adapter
from kpiframe.compiler.scans import Scans
from kpiframe.compiler.state import Chain, col, conjoin, null_safe_eq, number
from kpiframe.compiler.verify import allowed_tables, verify
from kpiframe.exprbuild import safe_div


class Builder(Scans):
    """Values of KPIs over the scans and the calendar, then the whole statement."""

    def value(self, name: str, chain: Chain = ()) -> exp.Expr:
        kpi = self.kpis[name]
        result = self._value(kpi, chain)
        if kpi.fill_nulls_with is not None:
            result = exp.Coalesce(this=result, expressions=[number(kpi.fill_nulls_with)])
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
                    leaf = self.kpis[part]
                    assert isinstance(leaf, (Simple, Weighted))
                    # register the measure now, so the source's scan (which decides the
                    # range and the --by keys) reads the platforms and fields it needs
                    self.measure(leaf)
                    self.scan(leaf.source).chains.add(chain)
                alias = self.relation(f"avg_{kpi.name}", chain)
                result: exp.Expr = col("w" if chain and self.lookback else "v", alias)
            else:
                result = safe_div(
                    self.value(kpi.numerator, chain), self.value(kpi.denominator, chain)
                )
            if kpi.scale is not None:
                result = exp.Mul(this=exp.Paren(this=result), expression=number(kpi.scale))
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
        return node

    def cumulative(self, cum: Cumulative) -> exp.Select:
        inner = self.kpis[cum.of]
        assert isinstance(inner, (Simple, Weighted))
        if self.framed(cum):
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
            conditions.append(null_safe_eq(col(dim, "d"), col(dim, "k")))
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
            on=conjoin(*conditions),
            join_type="left",
            copy=False,
        )
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
            order=exp.Order(expressions=[exp.Ordered(this=col("period", "s"))]),
            spec=spec,
        )
        query = exp.select(col("period", "s"), *(col(d, "k") for d in self.by),
                           exp.alias_(total, quoted("v"), copy=False), copy=False).from_(
            exp.Table(this=quoted("spine"), alias=exp.TableAlias(this=quoted("s"))), copy=False)
        if self.by:
            query = query.join(
                exp.Table(this=quoted("keys"), alias=exp.TableAlias(this=quoted("k"))),
                join_type="cross", copy=False)
        on: list[exp.Expr] = [exp.EQ(this=col("period", "d"), expression=col("period", "s"))]
        on += [null_safe_eq(col(dim, "d"), col(dim, "k")) for dim in self.by]
        return query.join(
            exp.Table(this=quoted(f"day_{inner.source}"), alias=exp.TableAlias(this=quoted("d"))),
            on=conjoin(*on), join_type="left", copy=False)

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
            null_safe_eq(col(c, "a"), col(c, "b"))
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
                on=conjoin(*on),
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

    def build(self) -> exp.Select:
        outputs = [(name, self.value(name)) for name in self.req.kpis]
        # every source read by a requested KPI gets a scan, for keys and bounds
        for kpi in self.kpis.values():
            if isinstance(kpi, (Simple, Weighted)):
                self.scan(kpi.source)
        ctes: list[tuple[str, exp.Query]] = []
        for name, scan in self.scans.items():
            if not self.from_days(scan):
                ctes.append((f"agg_{name}", self.aggregate(scan, daily=False)))
        for name, scan in self.scans.items():
            if any(m.daily for m in scan.measures.values()):
                ctes.append((f"day_{name}", self.aggregate(scan, daily=True)))
            if self.from_days(scan):  # read the source once, not once more for the range
                ctes.append((f"agg_{name}", self.aggregate_from_days(scan)))
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
            # a derived KPI's functions as this engine computes them (ROUND on PostgreSQL)
            columns.append(exp.alias_(adapt_row_expr(value, self.dialect), quoted(name),
                                      copy=False))
        query = exp.select(*columns, copy=False).from_(exp.Table(this=quoted("base")), copy=False)
        for (key, chain), alias in self.joins.items():
            on: list[exp.Expr | None] = []
            if self.grain:
                on.append(exp.EQ(this=col("period", alias), expression=self.chain_period(chain)))
            for dim in self.by:
                on.append(null_safe_eq(col(dim, alias), col(dim, "base")))
            query = query.join(
                exp.Table(this=quoted(key), alias=exp.TableAlias(this=quoted(alias))),
                on=conjoin(*on) or exp.true(),
                join_type="left",
                copy=False,
            )
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
        can run it."""
        # the tree is built once per compile and never reused: no need to copy it
        sql = self.tree.sql(dialect=self.dialect, identify=True, pretty=pretty, copy=False)
        verify(sql, self.dialect, self.tables)
        return sql


def value_kind(kpi: Kpi) -> str:
    """`decimal` for a sum, min, max or last of a decimal field (money), which engines
    without exact decimals (SQLite) give as a float to round; `number` otherwise."""
    if isinstance(kpi, Simple) and kpi.agg in ("sum", "min", "max", "last") and kpi.expr:
        source = canonical.SOURCES[kpi.source]
        names = row_expr(kpi.expr, source.fields).names  # checked when the request was made
        if names and all(source.fields[n].type == "decimal" for n in names):
            return "decimal"
    return "number"


def compile_query(catalog: Catalog, request: Request, dialect: str) -> Compiled:
    builder = Builder(catalog, request, dialect)
    tree = builder.build()
    adapter(dialect).finish(tree)
    columns: list[tuple[str, str]] = []
    if request.grain:
        columns.append(("period", "date"))
    for dim in request.by:
        field_type = next(s.fields[dim].type for s in canonical.SOURCES.values() if dim in s.fields)
        columns.append((dim, field_type))
    columns.extend((name, value_kind(builder.kpis[name])) for name in request.kpis)
    known: dict[str, dt.date | None] = {"spine_lo": None, "hi": None}
    if builder.spine_cap is not None and request.start is not None:
        known["spine_lo"] = builder.spine_start()
    if builder.spine_cap is not None and request.end is not None and request.grain:
        known["hi"] = dates.py_trunc(request.end, request.grain)
    tables = allowed_tables(catalog.platforms) | adapter(dialect).constant_tables
    return Compiled(tree, dialect, request, columns, tables,
                    builder.spine_cap, known)
