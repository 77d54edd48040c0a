"""Small sqlglot expression helpers the planner and the SQL writer share."""

from __future__ import annotations

from sqlglot import exp

from kpiframe.compiler.sources import quoted


def col(name: str, table: str | None = None) -> exp.Column:
    """A quoted column, built as a node (`exp.column` copies the names it is given)."""
    return exp.Column(this=quoted(name), table=quoted(table) if table else None)


def conjoin(*conditions: exp.Expr | None) -> exp.Expr | None:
    present = [c for c in conditions if c is not None]
    if not present:
        return None
    return exp.and_(*present, copy=False) if len(present) > 1 else present[0]


def null_safe_eq(left: exp.Expr, right: exp.Expr) -> exp.Expr:
    return exp.NullSafeEQ(this=left, expression=right)


def number(value: float) -> exp.Expr:
    if float(value).is_integer():
        return exp.Literal.number(int(value))
    return exp.Literal.number(repr(float(value)))


def cross_join(query: exp.Select, relation: exp.Expr) -> exp.Select:
    """`query CROSS JOIN relation`, built as a node: `Select.join` parses its join type
    from text on every call, a measurable part of compiling a small request."""
    query.append("joins", exp.Join(this=relation, kind="CROSS"))
    return query


def left_join(query: exp.Select, relation: exp.Expr, on: exp.Expr) -> exp.Select:
    """`query LEFT JOIN relation ON on`, built as a node (see `cross_join`)."""
    query.append("joins", exp.Join(this=relation, side="LEFT", on=on))
    return query
