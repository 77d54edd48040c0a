"""Helpers for plugin authors: test a platform's bindings against fixture rows on DuckDB.

    from kpiframe.testing import read_source

    def test_posts():
        rows = read_source(PLATFORM, "posts", {"tweet": [{"id": 1, ...}]}, layout="fivetran")
        assert rows == [{"platform": "x", "post_id": "1", ...}]

The rows come out exactly as every KPI query sees them: canonical field names and types,
one dict per row, ordered by the source's key.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlglot import exp

from kpiframe import canonical
from kpiframe.platform import Connection, Platform


@dataclass(frozen=True)
class Fixture:
    """Rows of one native table with explicit column types (`text`, `integer`, `decimal`,
    `boolean`, `date`, `timestamp`), for when inference from Python values is not enough
    (an all-NULL column, an id that must be stored as a bigint)."""

    columns: Sequence[tuple[str, str]]
    rows: Sequence[Sequence[Any] | Mapping[str, Any]]


TableData = Fixture | Sequence[Mapping[str, Any]]


def infer_type(values: Iterable[Any]) -> str:
    for value in values:
        if value is None:
            continue
        if isinstance(value, bool):
            return "boolean"
        if isinstance(value, int):
            return "integer"
        if isinstance(value, (float, Decimal)):
            return "decimal"
        if isinstance(value, dt.datetime):
            return "timestamp"
        if isinstance(value, dt.date):
            return "date"
        return "text"
    return "text"


def as_fixture(data: TableData) -> Fixture:
    if isinstance(data, Fixture):
        return data
    names: list[str] = []
    for row in data:
        names.extend(k for k in row if k not in names)
    columns = [(n, infer_type(row.get(n) for row in data)) for n in names]
    return Fixture(columns, [[row.get(n) for n in names] for row in data])


def load_tables(con: Connection, schema: str, tables: Mapping[str, TableData]) -> None:
    """Create `schema.<table>` for each fixture table on any engine connection."""
    for name, data in tables.items():
        fixture = as_fixture(data)
        names = [n for n, _ in fixture.columns]
        rows = [
            [row.get(n) for n in names] if isinstance(row, Mapping) else list(row)
            for row in fixture.rows
        ]
        con.create_table(schema, name, fixture.columns, rows)


def read_source(
    platform: Platform,
    source: str,
    tables: Mapping[str, TableData],
    layout: str | None = None,
    schema: str | None = None,
    con: Connection | None = None,
) -> list[dict[str, Any]]:
    """Load fixture tables, read one canonical source through the platform's binding."""
    from kpiframe.compiler.sources import source_relation
    from kpiframe.engines.duckdb import DuckDBConnection

    chosen = platform.layout(layout)
    schema = schema or chosen.default_schema or platform.name
    connection = con or DuckDBConnection("duckdb://")
    load_tables(connection, schema, tables)
    src = canonical.SOURCES[source]
    binding = chosen.sources[source]
    fields = list(src.fields)
    relation = source_relation(src, [(platform.name, binding, schema)], fields, connection.dialect)
    query = (
        exp.select(*(exp.column(exp.to_identifier(f, quoted=True)) for f in fields))
        .from_(exp.Subquery(this=relation, alias=exp.TableAlias(this=exp.to_identifier("s"))))
        .order_by(*(exp.column(exp.to_identifier(k, quoted=True)) for k in src.key))
    )
    result = connection.execute(query.sql(dialect=connection.dialect, identify=True))
    return [dict(zip(result.columns, row, strict=True)) for row in result.rows]


def canonical_columns(source: str) -> list[tuple[str, str]]:
    """(name, type) of a canonical source's columns, `platform` excluded."""
    return [(n, f.type) for n, f in canonical.SOURCES[source].fields.items() if n != "platform"]


def encode(
    platform: Platform,
    layout: str,
    canonical_tables: Mapping[str, Sequence[Mapping[str, Any]]],
    con: Connection | None = None,
    schema: str | None = None,
) -> Connection:
    """Write canonical rows in a layout through the layout's encoders (DuckDB by default).

    The canonical rows go to schema `kpiframe_canonical`, each encoder's SELECT reads them
    there, and its result becomes `<schema>.<native table>`. Returns the connection, ready
    for `read_source(..., con=...)` with `tables={}`.
    """
    from kpiframe.compiler.sources import parse, quoted
    from kpiframe.engines.duckdb import DuckDBConnection

    chosen = platform.layout(layout)
    schema = schema or chosen.default_schema or platform.name
    connection = con or DuckDBConnection("duckdb://")
    staging = "kpiframe_canonical"
    for source in canonical.SOURCES:
        columns = canonical_columns(source)
        rows = canonical_tables.get(source, [])
        connection.create_table(
            staging, source, columns, [[row.get(n) for n, _ in columns] for row in rows]
        )
    connection.ensure_schema(schema)
    for native, select in chosen.encoders.items():
        tree = parse(select.sql, select.dialect)
        for table in tree.find_all(exp.Table):
            if not table.args.get("db") and table.name in canonical.SOURCES:
                table.set("db", quoted(staging))
        target = exp.Table(this=quoted(native), db=quoted(schema))
        connection.execute(exp.Drop(kind="TABLE", tables=[target.copy()], exists=True)
                           .sql(dialect=connection.dialect))
        create = exp.Create(kind="TABLE", this=target, expression=tree)
        connection.execute(create.sql(dialect=connection.dialect, identify=True))
    return connection


def conform(
    platform: Platform,
    layout: str,
    canonical_tables: Mapping[str, Sequence[Mapping[str, Any]]],
) -> dict[str, list[dict[str, Any]]]:
    """Canonical rows adjusted by the layout's `conform` queries (unchanged where it has
    none): what sample data looks like before it is written in that layout."""
    from kpiframe.compiler.sources import parse, quoted
    from kpiframe.engines.duckdb import DuckDBConnection

    chosen = platform.layout(layout)
    connection = DuckDBConnection("duckdb://")
    staging = "kpiframe_canonical"
    for source in canonical.SOURCES:
        columns = canonical_columns(source)
        rows = canonical_tables.get(source, [])
        connection.create_table(
            staging, source, columns, [[row.get(n) for n, _ in columns] for row in rows]
        )
    out: dict[str, list[dict[str, Any]]] = {}
    for source in canonical.SOURCES:
        select = chosen.conform.get(source)
        names = [n for n, _ in canonical_columns(source)]
        if select is None:
            out[source] = [dict(row) for row in canonical_tables.get(source, [])]
            continue
        tree = parse(select.sql, select.dialect)
        for table in tree.find_all(exp.Table):
            if not table.args.get("db") and table.name in canonical.SOURCES:
                table.set("db", quoted(staging))
        result = connection.execute(tree.sql(dialect="duckdb", identify=True))
        out[source] = [
            {n: row[result.columns.index(n)] for n in names if n in result.columns}
            for row in result.rows
        ]
    connection.close()
    return out


def roundtrip(
    platform: Platform,
    layout: str,
    canonical_tables: Mapping[str, Sequence[Mapping[str, Any]]],
) -> dict[str, list[dict[str, Any]]]:
    """Encode canonical rows in `layout`, read every source back: what a KPI would see."""
    con = encode(platform, layout, canonical_tables)
    return {
        source: read_source(platform, source, {}, layout=layout, con=con)
        for source in platform.layout(layout).sources
    }


def as_text(rows: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Rows with dates and timestamps as ISO text and booleans as 0/1: the form SQLite
    returns them in, to compare rows read there with expected Python values."""

    def text(value: Any) -> Any:
        if isinstance(value, dt.datetime):
            return value.isoformat(sep=" ")
        if isinstance(value, dt.date):
            return value.isoformat()
        if isinstance(value, bool):
            return int(value)
        return value

    return [{k: text(v) for k, v in row.items()} for row in rows]


def provided(
    platform: Platform, layout: str, source: str, rows: Sequence[Mapping[str, Any]]
) -> list[dict[str, Any]]:
    """Rows restricted to the fields `layout` provides for `source`, ordered by its key:
    what a round trip through that layout can be expected to give back."""
    fields = platform.layout(layout).sources[source].fields
    key = [k for k in canonical.SOURCES[source].key if k != "platform"]
    out = [{f: row.get(f) for f in fields} for row in rows]
    return sorted(out, key=lambda r: tuple(str(r[k]) for k in key))
