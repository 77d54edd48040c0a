"""One scan per canonical source: its rows in range, and every simple or weighted KPI over
it as an aggregate column (`agg: last` through a window per entity)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence

from sqlglot import exp

from kpiframe import canonical
from kpiframe.compiler import dates
from kpiframe.compiler.adapters import adapt_row_expr, adapter
from kpiframe.compiler.adapters import usable as usable_row
from kpiframe.compiler.calendar import Calendar
from kpiframe.compiler.kinds import Kind, value_kind
from kpiframe.compiler.plan import Measure, Scan
from kpiframe.compiler.sources import quoted, source_relation
from kpiframe.compiler.state import col, conjoin, number
from kpiframe.exprbuild import safe_div
from kpiframe.sqltypes import datatype

#: the type a weighted KPI's sums are weighted in: exact, and wider than 64 bits
WEIGHTED = datatype("DECIMAL(38, 0)")


def when(expr: exp.Expr, cond: exp.Expr | None) -> exp.Expr:
    """`expr` on rows meeting `cond` (NULL elsewhere, which aggregates skip)."""
    return expr if cond is None else exp.Case().when(cond.copy(), expr, copy=False)


def usable(value: exp.Expr, cond: exp.Expr | None) -> exp.Expr:
    """A row `last` may take: it meets the condition and has a value and a time."""
    return usable_row(value, col("_t"), cond)


def last_kinds(scan: Scan, m: Measure) -> tuple[Kind, str]:
    """What the adapter needs to order a `last` measure's rows: the kind of number its
    value is, and its source's time type (date or timestamp)."""
    assert m.value is not None
    source = scan.source
    return value_kind(m.value, source.fields), source.fields[source.time].type


class Scans(Calendar):
    """agg_<source> and day_<source>: the only CTEs that read platform tables."""

    def weighted(self, m: Measure, condition: exp.Expr | None, name: str,
                 part: Callable[[str, exp.Expr], exp.Expr] | None = None) -> exp.Expr:
        """Σ weight x SUM(interaction), NULL for a cell without rows (as a sum is). `part`
        (two-level aggregation) turns each per-entity aggregate, named after `name`, into
        a column of the per-entity level, summed again here."""

        def agg(alias: str, expr: exp.Expr) -> exp.Expr:
            return exp.Sum(this=part(alias, expr)) if part else expr

        rows = exp.Count(this=exp.Star()) if condition is None else \
            exp.Count(this=when(exp.Literal.number(1), condition))
        total: exp.Expr | None = None
        for index, (weight, name, platforms) in enumerate(m.terms):
            field: exp.Expr = col(name)
            if platforms is not None:
                field = when(field, col("platform").isin(
                    *(exp.Literal.string(p) for p in platforms), copy=False))
            summed = agg(f"p_{name}_{index}", exp.Sum(this=when(field, condition)))
            # exact and wide on every engine before the weight multiplies it
            term: exp.Expr = exp.Coalesce(this=exp.Cast(this=summed, to=WEIGHTED.copy()),
                                          expressions=[exp.Literal.number(0)])
            if weight != 1:
                term = exp.Mul(this=number(weight), expression=term)
            total = term if total is None else exp.Add(this=total, expression=term)
        present = exp.GT(this=agg(f"p_{name}_n", rows),
                         expression=exp.Literal.number(0))
        return exp.Case().when(present, total if total is not None else exp.Literal.number(0),
                               copy=False)

    def rows(self, scan: Scan, lower: dt.date | None, daily: bool,
             extra: tuple[str, ...] = ()) -> exp.Select:
        """One source's rows in range, with `_t` (time), `_day` (its date) and `period`;
        `extra` fields too (an average's entity)."""
        src = scan.source
        fields = [
            f
            for f in src.fields
            if f in scan.fields
            or f in extra
            or f in self.by
            or f == "platform"
            or f == src.time
            or (self.req.where is not None and f in self.req.where.names)
        ]
        relation = source_relation(src, list(scan.reads), fields, self.dialect)
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
            conditions.append(adapt_row_expr(self.req.where.copy_tree(), self.dialect))
        condition = conjoin(*conditions)
        if condition is not None:
            query = query.where(condition, copy=False)
        return query

    def in_range(self) -> exp.Expr:
        assert self.req.start is not None
        return exp.GTE(this=col("_day"), expression=dates.literal(self.req.start, self.dialect))

    def aggregate_from_days(self, scan: Scan) -> exp.Select:
        """`agg_<source>` from `day_<source>`: periods, keys, rows in range, last day."""
        lower = self.plan.agg_lower(scan)
        reaches_back = self.plan.reaches_back(scan)
        day = col("period")
        selects: list[exp.Expr] = []
        group: list[exp.Expr] = []
        if self.grain is not None:
            period = dates.trunc(day.copy(), self.grain, self.dialect)
            selects.append(exp.alias_(period, quoted("period"), copy=False))
            group.append(period.copy())
        for dim in self.by:
            selects.append(col(dim))
            group.append(col(dim))
        if self.by and reaches_back:
            assert self.req.start is not None
            in_range = exp.GTE(this=day.copy(),
                               expression=dates.literal(self.req.start, self.dialect))
            selects.append(exp.alias_(
                exp.Sum(this=exp.Case().when(in_range, col("_rows"), copy=False)),
                quoted("_n"), copy=False))
        if self.plan.needs_last_day:
            selects.append(exp.alias_(exp.Max(this=day.copy()), quoted("_last"), copy=False))
        if not selects:
            selects.append(exp.alias_(exp.Sum(this=col("_rows")), quoted("_rows"), copy=False))
        query = exp.select(*selects, copy=False).from_(
            exp.Table(this=quoted(f"day_{scan.source.name}")), copy=False)
        if lower is not None and lower != self.plan.day_lower(scan):
            query = query.where(
                exp.GTE(this=day.copy(), expression=dates.literal(lower, self.dialect)),
                copy=False)
        if group:
            query = query.group_by(*group, copy=False)
        return query

    def aggregate(self, scan: Scan, daily: bool) -> exp.Select:
        """The aggregate CTE of one source: a row per (period, dims), a column per KPI."""
        measures = [
            m for m in scan.measures.values() if (m.daily if daily else (m.current or m.whole))
        ]
        lower = self.plan.day_lower(scan) if daily else self.plan.agg_lower(scan)
        rows = self.rows(scan, lower, daily)
        grain = "day" if daily else self.grain
        # current-period columns exclude rows before --from when the scan reaches further back
        reaches_back = self.plan.reaches_back(scan)
        variants: list[tuple[str, Measure, exp.Expr | None]] = []
        for m in measures:
            if daily:
                variants.append(("m_", m, m.condition))
                continue
            if m.current:
                variants.append(
                    ("m_", m, conjoin(m.condition, self.in_range() if reaches_back else None))
                )
            if m.whole:
                variants.append(("w_", m, m.condition))
        if self.two_level(scan, variants):
            return self.aggregate_two_level(scan, rows, grain, variants, daily, reaches_back)
        # `last` takes one value per entity in each cell (period and --by values)
        partition = [col(k) for k in scan.source.entity]
        partition += [col(d) for d in self.by if d not in scan.source.entity]
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
        if daily and scan.from_days:  # agg_<source> counts rows from it
            selects.append(exp.alias_(exp.Count(this=exp.Star()), quoted("_rows"), copy=False))
        if not daily and self.by and reaches_back:
            # rows in range decide which --by values the answer shows; without a look-back
            # every row is in range and the column is not needed
            present = exp.Count(
                this=exp.Case().when(self.in_range(), exp.Literal.number(1), copy=False)
            )
            selects.append(exp.alias_(present, quoted("_n"), copy=False))
        if not daily and self.plan.needs_last_day:  # the last day with data
            selects.append(exp.alias_(exp.Max(this=col("_day")), quoted("_last"), copy=False))
        if not selects:  # read only for its range or keys (an average_over's source)
            selects.append(exp.alias_(exp.Count(this=exp.Star()), quoted("_rows"), copy=False))
        source: exp.Expr = exp.Subquery(this=rows, alias=exp.TableAlias(this=quoted("r")))
        if windows:
            inner = exp.select(exp.Star(), *windows, copy=False).from_(source, copy=False)
            source = exp.Subquery(this=inner, alias=exp.TableAlias(this=quoted("w")))
        query = exp.select(*selects, copy=False).from_(source, copy=False)
        if group:
            query = query.group_by(*group, copy=False)
        return query

    def two_level(self, scan: Scan,
                  variants: Sequence[tuple[str, Measure, exp.Expr | None]]) -> bool:
        """Whether the scan takes `last` by grouping twice (per entity, then per cell) with
        the engine's arg-max aggregate: a hash aggregate where the window path sorts every
        row. COUNT(DISTINCT) does not decompose into per-entity parts, so a scan with one
        stays on the window path, as does one whose `last` values the engine cannot order
        in an aggregate."""
        aggs = {m.agg for _, m, _ in variants}
        rules = adapter(self.dialect)
        return "last" in aggs and "count_distinct" not in aggs and all(
            rules.takes_last(*last_kinds(scan, m)) for _, m, _ in variants if m.agg == "last")

    def aggregate_two_level(
        self,
        scan: Scan,
        rows: exp.Select,
        grain: str | None,
        variants: Sequence[tuple[str, Measure, exp.Expr | None]],
        daily: bool,
        reaches_back: bool,
    ) -> exp.Select:
        """GROUP BY cell and entity, computing each measure's part; then GROUP BY cell,
        combining the parts. `last` is the arg-max of the value by (time, value) per entity,
        summed over entities."""
        arg_max = adapter(self.dialect).arg_max
        cell = (["period"] if grain is not None else []) + list(self.by)
        entity = [k for k in scan.source.entity if k not in cell]
        inner: list[exp.Expr] = [col(c) for c in (*cell, *entity)]
        outer: list[exp.Expr] = [col(c) for c in cell]

        def part(alias: str, expr: exp.Expr) -> exp.Expr:
            inner.append(exp.alias_(expr, quoted(alias), copy=False))
            return col(alias)

        for prefix, m, condition in variants:
            name = prefix + m.kpi.name
            value = m.value.copy() if m.value is not None else None
            combined: exp.Expr
            if m.agg == "weighted":
                combined = self.weighted(m, condition, name, part)
            elif m.agg == "count":
                counted = exp.Count(this=exp.Star()) if value is None and condition is None \
                    else exp.Count(this=when(value or exp.Literal.number(1), condition))
                combined = exp.Sum(this=part(f"p_{name}", counted))
            elif m.agg == "last":
                assert value is not None
                latest = arg_max(value.copy(), col("_t"), condition,
                                 *last_kinds(scan, m))
                combined = exp.Sum(this=part(f"p_{name}", latest))
            elif m.agg == "avg":
                assert value is not None
                total = part(f"p_{name}_s", exp.Sum(this=when(value.copy(), condition)))
                count = part(f"p_{name}_c", exp.Count(this=when(value, condition)))
                combined = safe_div(exp.Sum(this=total), exp.Sum(this=count))
            else:
                assert value is not None
                kind = {"sum": exp.Sum, "min": exp.Min, "max": exp.Max}[m.agg]
                combined = kind(this=part(f"p_{name}", kind(this=when(value, condition))))
            outer.append(exp.alias_(combined, quoted(name), copy=False))
        if not daily and self.by and reaches_back:
            in_range = exp.Count(
                this=exp.Case().when(self.in_range(), exp.Literal.number(1), copy=False))
            outer.append(exp.alias_(exp.Sum(this=part("p__n", in_range)), quoted("_n"),
                                    copy=False))
        if not daily and self.plan.needs_last_day:
            outer.append(exp.alias_(exp.Max(this=part("p__last", exp.Max(this=col("_day")))),
                                    quoted("_last"), copy=False))
        per_entity = exp.select(*inner, copy=False).from_(
            exp.Subquery(this=rows, alias=exp.TableAlias(this=quoted("r"))), copy=False
        ).group_by(*(col(c) for c in (*cell, *entity)), copy=False)
        query = exp.select(*outer, copy=False).from_(
            exp.Subquery(this=per_entity, alias=exp.TableAlias(this=quoted("e"))), copy=False)
        if cell:
            query = query.group_by(*(col(c) for c in cell), copy=False)
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

        if m.agg == "weighted":
            return self.weighted(m, condition, name)
        if m.agg == "count":
            if value is None and condition is None:
                return exp.Count(this=exp.Star())
            return exp.Count(
                this=when(value if value is not None else exp.Literal.number(1), condition)
            )
        assert value is not None
        if m.agg == "count_distinct":
            return exp.Count(
                this=exp.Distinct(expressions=[when(self.identity(m, value), condition)]))
        if m.agg == "last":
            # per entity (and cell), the usable row with the latest time, and of rows tied
            # at that time the largest value: one value per entity, never a sum of ties
            first = "_rn_" + name
            order = [
                exp.Ordered(this=exp.Case().when(usable(value, condition), exp.Literal.number(0),
                                                 copy=False).else_(exp.Literal.number(1),
                                                                   copy=False)),
                exp.Ordered(this=col("_t"), desc=True, nulls_first=False),
                exp.Ordered(this=value.copy(), desc=True, nulls_first=False),
            ]
            windows.append(exp.alias_(
                exp.Window(this=exp.RowNumber(), partition_by=[p.copy() for p in partition],
                           order=exp.Order(expressions=order)),
                quoted(first), copy=False))
            chosen = exp.EQ(this=col(first), expression=exp.Literal.number(1))
            return exp.Sum(this=when(value, conjoin(chosen, usable(value, condition))))
        functions: dict[str, type[exp.Expr]] = {
            "sum": exp.Sum,
            "avg": exp.Avg,
            "min": exp.Min,
            "max": exp.Max,
        }
        return functions[m.agg](this=when(value, condition))

    def identity(self, m: Measure, value: exp.Expr) -> exp.Expr:
        """What count_distinct counts. An id that means something only on its platform
        (post_id, account_id...) counts (platform, id) pairs, as `last` and `average_over`
        treat entities: the same id on two platforms is two posts. The pair is written as
        `platform:id` (platform names never hold ':'); a NULL id stays NULL."""
        source = canonical.SOURCES[m.kpi.source]
        if not isinstance(value, exp.Column) or not source.fields[value.name].per_platform:
            return value
        text = exp.DataType.build("TEXT")
        pair = exp.DPipe(
            this=exp.DPipe(this=exp.cast(col("platform"), text), expression=exp.Literal.string(":"),
                           safe=True),
            expression=exp.cast(value, text),
            safe=True,
        )
        return exp.Case().when(exp.Is(this=value.copy(), expression=exp.null()), exp.null(),
                               copy=False).else_(pair, copy=False)
