"""The value at the latest time, per entity: how each engine takes it fastest.

`agg: last` needs, per entity and period, the value on the entity's latest time with data.
Engines with an arg-max aggregate (DuckDB's ARG_MAX, Spark's MAX_BY) take it in one hash
aggregate; the others rank rows in a window. Ties at the latest time resolve to the largest
value everywhere, so every engine gives the same number. Each dialect's way lives here, in
one table, rather than in branches through the compiler.
"""

from __future__ import annotations

from collections.abc import Callable

from sqlglot import exp

#: (value, time, keep) -> an aggregate giving `value` at the latest `time` among rows where
#: `keep` holds, the largest value among ties
ArgMax = Callable[[exp.Expr, exp.Expr, exp.Expr], exp.Expr]


def _duckdb(value: exp.Expr, time: exp.Expr, keep: exp.Expr) -> exp.Expr:
    # ordering by the (time, value) row breaks ties by the value
    key = exp.Tuple(expressions=[time, value.copy()])
    return exp.Filter(this=exp.ArgMax(this=value, expression=key),
                      expression=exp.Where(this=keep))


def _spark(value: exp.Expr, time: exp.Expr, keep: exp.Expr) -> exp.Expr:
    key = exp.Struct(expressions=[time, value.copy()])
    return exp.Filter(this=exp.ArgMax(this=value, expression=key),
                      expression=exp.Where(this=keep))


_ARG_MAX: dict[str, ArgMax] = {"duckdb": _duckdb, "spark": _spark, "databricks": _spark}


def arg_max_of(dialect: str) -> ArgMax | None:
    """The dialect's arg-max builder, or None: it takes `last` through a window."""
    return _ARG_MAX.get(dialect)
