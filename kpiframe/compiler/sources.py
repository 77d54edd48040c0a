"""Canonical sources as SQL: one SELECT per platform binding, unioned with its platform.

This is where a plugin's declaration (a table with a column mapping, or a SELECT in its
own dialect) becomes rows of the canonical model (docs/canonical.md), typed the same way for every
platform so that a UNION ALL is valid on every engine.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Sequence
from functools import lru_cache

import sqlglot
from sqlglot import exp
from sqlglot.dialects.dialect import Dialect

from kpiframe import canonical
from kpiframe import columns as physical_columns
from kpiframe.compiler import dates
from kpiframe.platform import Select, Table
from kpiframe.sqltypes import SQL_TYPES


@lru_cache(maxsize=4096)
def _parse(sql: str, dialect: str) -> exp.Expr:
    return sqlglot.parse_one(sql, read=dialect)


def parse(sql: str, dialect: str) -> exp.Expr:
    """Parse a plugin's SQL once per process; callers get their own copy to mutate."""
    return _parse(sql, dialect).copy()


def quoted(name: str) -> exp.Identifier:
    return exp.to_identifier(name, quoted=True)


@lru_cache(maxsize=64)
def _dialect(dialect: str) -> Dialect:
    return Dialect.get_or_raise(dialect)


def physical(name: str | exp.Identifier, dialect: str) -> exp.Identifier:
    """A warehouse name a plugin or a project wrote unquoted (a schema, a table, a column),
    as the target resolves it, then quoted: Snowflake and Oracle keep unquoted names
    upper-case, PostgreSQL lower-case. Quoting as written made `"likes"` miss the column
    LIKES that Snowflake created from `likes`."""
    ident = exp.to_identifier(name) if isinstance(name, str) else name
    ident = _dialect(dialect).normalize_identifier(ident)
    ident.set("quoted", True)
    return ident


def table_ref(name: str, schema: str, dialect: str) -> exp.Table:
    """`schema.name`, unless the plugin already qualified the name itself."""
    table = exp.to_table(name)
    db = table.args.get("db")
    return exp.Table(
        this=physical(table.this.copy(), dialect),
        db=physical(db.copy() if db is not None else schema, dialect),
        catalog=physical(table.args["catalog"].copy(), dialect) if table.catalog else None,
    )


def _requote(node: exp.Expr, dialect: str) -> exp.Expr:
    for ident in node.find_all(exp.Identifier):
        physical(ident, dialect)
    return node


@lru_cache(maxsize=4096)
def _native_tree(sql: str, written_in: str, dialect: str) -> exp.Expr:
    return portable(_requote(parse(sql, written_in), dialect), dialect)


def _native(sql: str, written_in: str, dialect: str) -> exp.Expr:
    """A Table binding's column or `where` SQL, ready for `dialect`: parsed, its names
    resolved as the target resolves them, made portable. Built once per process; every
    caller gets its own copy."""
    return _native_tree(sql, written_in, dialect).copy()


def portable(tree: exp.Expr, dialect: str) -> exp.Expr:
    """Rewrites where sqlglot's output for a target does not run there.

    Spark's DATE_ADD takes a number of days only; sqlglot prints `DATE_ADD(ts, INTERVAL '12'
    HOUR)` for it, which Spark rejects. `ts + INTERVAL '12' HOUR` runs.
    """
    if dialect not in ("spark", "spark2", "databricks"):
        return tree

    def fix(node: exp.Expr) -> exp.Expr:
        if isinstance(node, exp.DateAdd) and isinstance(node.expression, exp.Interval):
            return exp.Add(this=node.this, expression=node.expression)
        return node

    return tree.transform(fix, copy=False)


def typed(value: exp.Expr, field: canonical.Field, dialect: str) -> exp.Expr:
    if field.type == "timestamp":
        return value
    if field.type == "date":
        return dates.to_date(value, dialect)
    return exp.cast(value, SQL_TYPES[field.type])


def null_of(field: canonical.Field) -> exp.Expr:
    return exp.cast(exp.null(), SQL_TYPES[field.type])


def platform_select(
    source: canonical.Source,
    platform: str,
    binding: Table | Select,
    schema: str,
    fields: Sequence[str],
    dialect: str,
) -> exp.Select:
    """One platform's rows of `source`, with exactly `fields` in that order."""
    provided = set(binding.fields)
    columns: list[exp.Expr] = []
    # on a connection, the tables' real columns are checked and missing ones filled
    discovery = physical_columns.current()
    where: exp.Expr | None = None
    if isinstance(binding, Table):
        ref = table_ref(binding.table, schema, dialect)
        frm: exp.Expr = ref
        # with discovery every mapped column is checked; without, only the ones asked for
        wanted = provided if discovery is not None else provided.intersection(fields)
        values = {f: _native(binding.columns[f], binding.dialect, dialect) for f in wanted}
        if binding.where:
            where = _native(binding.where, binding.dialect, dialect)
        if discovery is not None:
            discovery.adapt_table(source, platform, binding, ref, fields, values, where)
    else:
        inner = parse(binding.sql, binding.dialect)
        for table in inner.find_all(exp.Table):
            if not table.args.get("db") and table.name and not _is_cte(inner, table.name):
                table.set("db", exp.to_identifier(schema))
        if discovery is not None:
            discovery.adapt_select(source, platform, inner, fields)
        frm = exp.Subquery(
            this=portable(_requote(inner, dialect), dialect),
            alias=exp.TableAlias(this=quoted("src")),
        )
        # the SELECT's column names are resolved like every name in it
        values = {f: exp.column(physical(f, dialect), table=quoted("src")) for f in provided}
    for name in fields:
        field = source.fields[name]
        if name == "platform":
            value: exp.Expr = exp.cast(exp.Literal.string(platform), SQL_TYPES["text"])
        elif name in values:
            value = typed(values[name], field, dialect)
        else:
            value = null_of(field)
        columns.append(exp.alias_(value, quoted(name), copy=False))
    query = exp.select(*columns, copy=False).from_(frm, copy=False)
    if where is not None:
        query = query.where(where, copy=False)
    return query


def _is_cte(tree: exp.Expr, name: str) -> bool:
    return any(cte.alias == name for cte in tree.find_all(exp.CTE))


def source_relation(
    source: canonical.Source,
    bindings: Sequence[tuple[str, Table | Select, str]],
    fields: Sequence[str],
    dialect: str,
) -> exp.Query:
    """All platforms' rows of `source`: (platform, binding, schema) triples, UNION ALL.

    With no binding at all (no platform has the source) it is an empty relation of the
    right shape, so KPIs over it give empty results rather than an engine error.
    """
    if physical_columns.current() is not None:  # checked against a live connection
        return _build_relation(source, bindings, fields, dialect)
    key = (id(source), tuple((p, id(b), s) for p, b, s in bindings), tuple(fields), dialect)
    with _RELATIONS_LOCK:
        hit = _RELATIONS.get(key)
        if hit is not None:
            _RELATIONS.move_to_end(key)
    # ids are reused once an object is gone: the entry holds its objects and must match
    if hit is not None and hit[0] is source and all(
            a is b for a, (_, b, _) in zip(hit[1], bindings, strict=True)):
        return hit[2].copy()
    relation = _build_relation(source, bindings, fields, dialect)
    with _RELATIONS_LOCK:
        _RELATIONS[key] = (source, tuple(b for _, b, _ in bindings), _lean(relation.copy()))
        while len(_RELATIONS) > 256:
            _RELATIONS.popitem(last=False)
    return relation


#: built relations by (source, bindings, fields, dialect), as identities: a compile asks
#: for the same few again and again, and copying one costs a fraction of building it
_RELATIONS: OrderedDict[
    tuple[object, ...], tuple[canonical.Source, tuple[Table | Select, ...], exp.Query]
] = OrderedDict()
_RELATIONS_LOCK = threading.Lock()


def _lean(tree: exp.Query) -> exp.Query:
    """`tree` without what only costs when it is copied for every statement: a CAST's
    annotated type (its type is its target type without it) and the parser's positions
    of the binding's names (only error messages about the binding's own text use them)."""
    for node in tree.walk():
        if isinstance(node, exp.Cast):
            node.type = None
        node._meta = None
    return tree


def _build_relation(
    source: canonical.Source,
    bindings: Sequence[tuple[str, Table | Select, str]],
    fields: Sequence[str],
    dialect: str,
) -> exp.Query:
    if not bindings:
        empty = exp.select(
            *(exp.alias_(null_of(source.fields[f]), quoted(f), copy=False) for f in fields),
            copy=False,
        ).where(exp.false(), copy=False)
        return empty
    selects = [platform_select(source, p, b, s, fields, dialect) for p, b, s in bindings]
    query: exp.Query = selects[0]
    for select in selects[1:]:
        query = exp.union(query, select, distinct=False, copy=False)
    return query
