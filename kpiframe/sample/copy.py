"""Sample data on engines other than DuckDB: copy the tables built in DuckDB across.

The generator is DuckDB SQL (set-based, seconds for millions of rows); any other engine
(SQLite, PostgreSQL, Spark, Spark Connect, a third-party plugin's) gets the finished
tables through its connector's `create_table`, which every engine implements for test
fixtures anyway. Column types survive the trip as canonical column types: a DuckDB BIGINT
is an `integer` column, a DOUBLE a `double`, a DECIMAL a `decimal`, and so on.

Unlike a DuckDB target, the copy is not one transaction: a failure part-way leaves the
tables written so far, and running the command again replaces them.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import Any

from sqlglot import exp

from kpiframe.platform import Connection
from kpiframe.plugins import Registry
from kpiframe.problems import KpiframeError

#: DuckDB type name (before any parenthesis) -> canonical column type
_KINDS = {
    "BIGINT": "integer", "INTEGER": "integer", "SMALLINT": "integer", "TINYINT": "integer",
    "HUGEINT": "integer", "UBIGINT": "integer", "UINTEGER": "integer",
    "USMALLINT": "integer", "UTINYINT": "integer",
    "DOUBLE": "double", "FLOAT": "double", "REAL": "double",
    "DECIMAL": "decimal",
    "BOOLEAN": "boolean",
    "DATE": "date",
    "TIMESTAMP": "timestamp", "TIMESTAMP WITH TIME ZONE": "timestamp",
    "TIMESTAMP_S": "timestamp", "TIMESTAMP_MS": "timestamp", "TIMESTAMP_NS": "timestamp",
    "VARCHAR": "text",
}


def scheme_of(url: str) -> str:
    return url.split(":", 1)[0].lower() if ":" in url else ""


def forgets(url: str) -> str | None:
    """Why tables written to `url` are gone when the process ends, or None: an in-memory
    database, or local Spark on its in-memory catalog. A command that only writes sample
    data there would leave nothing behind."""
    from kpiframe.engines.base import parse_url

    scheme = scheme_of(url)
    parsed = parse_url(url)
    if scheme in ("duckdb", "sqlite") and parsed.path in (None, ":memory:"):
        return f"{url} is a database in memory"
    if scheme == "spark" and (parsed.host or "local") == "local":
        from kpiframe.engines.spark import catalog_of

        if catalog_of(url, parsed.query) == "memory":
            return f"{url} keeps its tables in Spark's in-memory catalog"
    return None


def open_target(url: str, registry: Registry) -> Connection:
    """A connection that may write to `url`, through the engine registered for its
    scheme. SQLite's reading connector refuses a missing file; sample data creates it."""
    from kpiframe.run import engine_in, open_with

    if scheme_of(url) == "sqlite":
        from kpiframe.engines.sqlite import SQLiteConnection

        return SQLiteConnection(url)
    return open_with(engine_in(registry.engines, url), url)


def existing(target: Connection, names: Iterable[tuple[str, str]]) -> set[tuple[str, str]]:
    """Which of the (schema, table) pairs exist on the target, lower case."""
    columns = getattr(target, "columns", None)
    if columns is None:
        return set()
    try:
        return {(s.lower(), t.lower()) for s, t in names if columns(s, t) is not None}
    except KpiframeError as error:
        if any(p.rule == "no-database" for p in error.problems):
            return set()  # a database file sample data is about to create
        raise


def recorded(target: Connection, schema: str, table: str) -> set[tuple[str, str]] | None:
    """The tables an earlier build recorded in `schema.table`, None when there is none."""
    if not existing(target, [(schema, table)]):
        return None
    query = exp.select(exp.to_identifier("value", quoted=True)).from_(
        exp.Table(this=exp.to_identifier(table, quoted=True),
                  db=exp.to_identifier(schema, quoted=True))).where(
        exp.EQ(this=exp.column(exp.to_identifier("key", quoted=True)),
               expression=exp.Literal.string("tables")))
    try:
        rows = target.execute(query.sql(dialect=target.dialect)).rows
        names = json.loads(rows[0][0]) if rows else None
    except Exception:
        return None
    if not isinstance(names, dict):
        return None
    return {tuple(str(n).lower().rsplit(".", 1)) for n in names}  # type: ignore[misc]


def _kind(duckdb_type: str) -> str | None:
    name = duckdb_type.upper()
    return _KINDS.get(name) or _KINDS.get(name.split("(", 1)[0].strip())


def copy_table(staging: Any, schema: str, table: str, target: Connection,
               to_schema: str, to_table: str) -> int:
    """Copy one table from the staging DuckDB connection to the target; its row count.

    A type without a canonical equivalent (a list, a struct...) travels as text; a
    timestamp with a time zone as the UTC timestamp the DuckDB session shows."""
    source = exp.Table(this=exp.to_identifier(table, quoted=True),
                       db=exp.to_identifier(schema, quoted=True))
    described = staging.execute(
        exp.Describe(this=exp.select(exp.Star()).from_(source)).sql("duckdb")).fetchall()
    columns: list[tuple[str, str]] = []
    select: list[exp.Expr] = []
    for row in described:
        name, kind = str(row[0]), _kind(str(row[1]))
        column = exp.column(exp.to_identifier(name, quoted=True))
        if kind is None:
            kind = "text"
            select.append(exp.cast(column, "VARCHAR"))
        elif kind == "timestamp" and str(row[1]).upper() != "TIMESTAMP":
            select.append(exp.cast(column, "TIMESTAMP"))
        else:
            select.append(column)
        columns.append((name, kind))
    rows = staging.execute(exp.select(*select).from_(source).sql("duckdb")).fetchall()
    target.create_table(to_schema, to_table, columns, rows)
    return len(rows)


def record(target: Connection, schema: str, table: str, info: Mapping[str, Any]) -> None:
    """What was built, as `_kpiframe.sample` holds it in DuckDB: key and JSON value."""
    target.create_table(schema, table, [("key", "text"), ("value", "text")],
                        [(k, json.dumps(v)) for k, v in info.items()])
