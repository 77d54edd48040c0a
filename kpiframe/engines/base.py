"""What the built-in connectors share: URL parsing and DDL built with sqlglot."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from urllib.parse import parse_qs, urlsplit

from sqlglot import exp

from kpiframe.problems import KpiframeError, Problem

#: canonical column type -> sqlglot type
TYPES = {
    "text": "TEXT",
    "integer": "BIGINT",
    "decimal": "DECIMAL(38, 10)",  # money: exact, as warehouses keep it
    "double": "DOUBLE",
    "boolean": "BOOLEAN",
    "date": "DATE",
    "timestamp": "TIMESTAMP",
}


@dataclass(frozen=True)
class EngineURL:
    scheme: str
    path: str | None  # None: in memory
    host: str | None
    query: dict[str, str]
    raw: str


def parse_url(url: str) -> EngineURL:
    """SQLAlchemy-style: three slashes before a relative path, four before an absolute one."""
    parts = urlsplit(url)
    query = {k: v[-1] for k, v in parse_qs(parts.query).items()}
    path = parts.path
    if path.startswith("/"):
        path = path[1:]
    return EngineURL(parts.scheme, path or None, parts.hostname, query, url)


def refuse_misread_absolute(path: str | None, url: str) -> None:
    """`duckdb:///tmp/x.duckdb` names tmp/x.duckdb in the working directory, not the
    absolute /tmp/x.duckdb (that takes four slashes). When the relative reading names a
    file that is not there, in a folder that is not there either, while the absolute
    reading's top folder exists, the user almost surely meant the absolute path: say so,
    rather than report a missing database or create one in a new ./tmp folder. A
    relative path that starts with ./ is always taken as written."""
    import os

    if not path or path == ":memory:" or os.path.isabs(path) or path.startswith("."):
        return
    top = path.replace("\\", "/").split("/", 1)[0]
    if os.path.exists(path) or os.path.exists(top) or not os.path.isdir("/" + top):
        return
    scheme = url.split(":", 1)[0]
    raise KpiframeError(Problem(
        "engine-url",
        f"engine URL {url} names {path}, relative to the working directory, and there "
        f"is no {top}/ here; /{top} exists",
        hint=f"an absolute path takes four slashes: {scheme}:////{path}; a new folder "
        f"here, ./ first: {scheme}:///./{path}"))


def no_database(path: str, engine: str, builds: bool) -> KpiframeError:
    """A query named a database file that is not there (or is a folder): never created."""
    import os

    what = (f"{path} is a folder, not a {engine} database" if os.path.isdir(path)
            else f"no {engine} database at {path}")
    hint = "check the path in the engine URL (--engine, KPIFRAME_ENGINE or `engine:` in " \
        "kpiframe.yaml)" + (
        "; `kpiframe sample-data --engine URL` builds one with sample data" if builds else "")
    return KpiframeError(Problem("no-database", what, hint=hint))


def column_type(kind: str) -> exp.DataType:
    try:
        return exp.DataType.build(TYPES[kind])
    except KeyError:
        raise KpiframeError(
            Problem(
                "bad-column-type",
                f"unknown column type '{kind}'",
                hint=f"use one of {', '.join(TYPES)}",
            )
        ) from None


def create_table_sql(
    dialect: str, schema: str | None, table: str, columns: Sequence[tuple[str, str]]
) -> str:
    target = exp.Table(
        this=exp.to_identifier(table, quoted=True),
        db=exp.to_identifier(schema, quoted=True) if schema else None,
    )
    create = exp.Create(
        kind="TABLE",
        this=exp.Schema(
            this=target,
            expressions=[
                exp.ColumnDef(this=exp.to_identifier(name, quoted=True), kind=column_type(kind))
                for name, kind in columns
            ],
        ),
    )
    return create.sql(dialect=dialect)


def drop_table_sql(dialect: str, schema: str | None, table: str) -> str:
    target = exp.Table(
        this=exp.to_identifier(table, quoted=True),
        db=exp.to_identifier(schema, quoted=True) if schema else None,
    )
    return exp.Drop(kind="TABLE", tables=[target], exists=True).sql(dialect=dialect)


def insert_sql(
    dialect: str, schema: str | None, table: str, names: Sequence[str], placeholder: str
) -> str:
    target = exp.Table(
        this=exp.to_identifier(table, quoted=True),
        db=exp.to_identifier(schema, quoted=True) if schema else None,
    )
    cols = ", ".join(exp.to_identifier(n, quoted=True).sql(dialect=dialect) for n in names)
    marks = ", ".join([placeholder] * len(names))
    # placeholders are driver syntax, not user text: nothing user-controlled is spliced in
    return f"INSERT INTO {target.sql(dialect=dialect)} ({cols}) VALUES ({marks})"
