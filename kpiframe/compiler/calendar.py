"""The rows of the answer: the period range (known, or decided by the data), the date
spine of every period in it, the dimension values with data, and their product."""

from __future__ import annotations

from sqlglot import exp

from kpiframe.compiler import dates
from kpiframe.compiler.adapters import adapter
from kpiframe.compiler.sources import quoted
from kpiframe.compiler.state import State, col
from kpiframe.compiler.trees import cross_join


class Calendar(State):
    """bounds, digits/nums/spine, keys and base: the CTEs that decide the answer's rows."""

    def literal_bounds(self) -> dict[str, exp.Expr | None]:
        """Bounds known at compile time, as literals; None where the data decides them.

        Known bounds are written into the SQL rather than read from a one-row CTE: Spark's
        join reordering fails an assertion on cross joins with a constant one-row relation.
        """
        return {name: None if day is None else dates.literal(day, self.dialect)
                for name, day in self.plan.known_bounds().items()}

    def bound(self, name: str) -> exp.Expr:
        known = self.literal_bounds()[name]
        return known if known is not None else col(name, "b")

    def cross_bounds(self, query: exp.Select, *names: str) -> exp.Select:
        """Join the one-row `bounds` CTE when any of `names` comes from the data."""
        known = self.literal_bounds()
        if any(known[n] is None for n in names):
            query = cross_join(query, exp.Table(this=quoted("bounds"),
                                                alias=exp.TableAlias(this=quoted("b"))))
        return query

    def bounds(self) -> exp.Select:
        """One row of the bounds the data decides: the first period (lo, where the spine
        starts too), the last period (hi) and, for cumulative KPIs, the last day."""
        last_day = self.plan.needs_last_day
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
        unit, size = dates.STEP[self.grain]
        series = adapter(self.dialect).series(self.bound("spine_lo"), self.bound("hi"), unit,
                                              size)
        if series is None:
            helpers, periods = self.numbered_periods()
        else:  # the engine generates exactly the periods in range
            helpers = []
            periods = exp.select(exp.alias_(series, quoted("period"), copy=False), copy=False)
            known = self.literal_bounds()
            if known["spine_lo"] is None or known["hi"] is None:
                periods = periods.from_(
                    exp.Table(this=quoted("bounds"), alias=exp.TableAlias(this=quoted("b"))),
                    copy=False)
        return helpers, self.finish_spine(periods)

    def numbered_periods(self) -> tuple[list[tuple[str, exp.Query]], exp.Select]:
        """The portable periods: numbers 0..cap-1 from cross joins of ten digits, each
        the first period plus that many steps (`finish_spine` drops those past the end)."""
        assert self.grain is not None
        count, _ = self.plan.spine_periods
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
            nums = cross_join(nums, exp.Table(this=quoted("digits"),
                                              alias=exp.TableAlias(this=quoted(f"d{i}"))))
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
        return [("digits", digit_rows), ("nums", nums)], periods

    def finish_spine(self, periods: exp.Select) -> exp.Select:
        """The spine's columns over its periods: the period, and the as-of day of
        cumulative KPIs."""
        assert self.grain is not None
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
        return spine

    def keys(self) -> exp.Query:
        """Every combination of --by values with data in range."""
        parts: list[exp.Select] = []
        for source in self.scans:
            query = exp.select(*(col(d) for d in self.by), copy=False).from_(
                exp.Table(this=quoted(f"agg_{source}")), copy=False
            )
            if self.plan.counts_in_range(self.scans[source]):
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
                query = cross_join(query, exp.Table(this=quoted("keys"),
                                                    alias=exp.TableAlias(this=quoted("k"))))
            if self.req.start is not None or self.plan.spine_reaches_back:
                query = self.cross_bounds(query, "lo").where(
                    exp.GTE(this=col("period", "s"), expression=self.bound("lo")), copy=False
                )
        else:
            query = exp.select(*columns, copy=False).from_(
                exp.Table(this=quoted("keys"), alias=exp.TableAlias(this=quoted("k"))), copy=False
            )
        return query
