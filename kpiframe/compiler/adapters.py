"""The shapes of a statement that differ by engine: one adapter per dialect.

sqlglot prints one tree in every dialect, but some trees are not the best (or not valid)
statement everywhere. Those choices live here, one class per dialect overriding the
portable behaviour of `Adapter`, as sqlglot keeps dialect quirks in dialect classes,
never as `if dialect == ...` branches through the compiler:

- `agg: last` needs, per entity, the value at the latest time. Engines with an arg-max
  aggregate (DuckDB's ARG_MAX, Spark's MAX_BY) take it in one hash aggregate; the others
  rank rows in a window. Ties at the latest time resolve to the largest value everywhere.
- Oracle (before 23c) refuses a SELECT without FROM; its constant rows read DUAL.

Row expressions (a KPI's `filter` and `expr`, `--where`) have their own adapters in
`dialects.py`.
"""

from __future__ import annotations

from typing import ClassVar

from sqlglot import exp


class Adapter:
    """The portable statement: no arg-max aggregate, SELECT without FROM allowed."""

    #: the sqlglot dialect names this adapter serves
    names: ClassVar[tuple[str, ...]] = ()
    #: the table a SELECT of constants reads, where the engine needs one
    constant_from: ClassVar[str | None] = None

    @property
    def has_arg_max(self) -> bool:
        return False

    @property
    def constant_tables(self) -> frozenset[tuple[str, str]]:
        """(schema, table) names a statement may read besides the platforms' tables."""
        if self.constant_from is None:
            return frozenset()
        return frozenset({("", self.constant_from.casefold())})

    def arg_max(self, value: exp.Expr, time: exp.Expr, keep: exp.Expr) -> exp.Expr:
        """`value` at the latest `time` among rows where `keep` holds; the largest value
        among rows tied at that time."""
        raise NotImplementedError("this dialect takes `last` through a window")

    def finish(self, tree: exp.Expr) -> exp.Expr:
        """The whole statement, once built: what this engine needs added."""
        if self.constant_from is None:
            return tree
        for select in tree.find_all(exp.Select):
            if not select.args.get("from_"):
                select.from_(exp.Table(this=exp.to_identifier(self.constant_from)), copy=False)
        return tree


class _ArgMaxFilter(Adapter):
    """ARG_MAX / MAX_BY keyed by the (time, value) row, with a FILTER clause."""

    @property
    def has_arg_max(self) -> bool:
        return True

    def key(self, time: exp.Expr, value: exp.Expr) -> exp.Expr:
        return exp.Tuple(expressions=[time, value])

    def arg_max(self, value: exp.Expr, time: exp.Expr, keep: exp.Expr) -> exp.Expr:
        return exp.Filter(this=exp.ArgMax(this=value, expression=self.key(time, value.copy())),
                          expression=exp.Where(this=keep))


class DuckDB(_ArgMaxFilter):
    names = ("duckdb",)


class Spark(_ArgMaxFilter):
    names = ("spark", "databricks")

    def key(self, time: exp.Expr, value: exp.Expr) -> exp.Expr:
        return exp.Struct(expressions=[time, value])


class Oracle(Adapter):
    names = ("oracle",)
    constant_from = "DUAL"


_BY_NAME: dict[str, Adapter] = {
    name: cls() for cls in (DuckDB, Spark, Oracle) for name in cls.names
}
_PORTABLE = Adapter()


def adapter(dialect: str) -> Adapter:
    """The adapter for a sqlglot dialect name (the portable one when it has none)."""
    return _BY_NAME.get(dialect, _PORTABLE)
