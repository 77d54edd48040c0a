"""DuckDB, the embedded default engine.

A connection reads: it attaches the database file read-only, so any number of processes
can query one file at once (a read-write attach takes an exclusive lock), a read-only
file can be queried, and a mistyped path is an error instead of a new empty database.
Only kpiframe's own writers (`create_table`, `ensure_schema`: sample data, test
fixtures) reopen the file for writing, creating it if need be.

An engine URL never makes DuckDB download or load an extension: extension autoloading
is off, paths DuckDB would hand to an extension (`md:`, `http://`, `s3://`...) are
refused, and a reading connection has external access disabled and its configuration
locked once the database is attached.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Sequence
from typing import Any

from kpiframe.engines.base import (
    create_table_sql,
    insert_sql,
    no_database,
    parse_url,
    refuse_misread_absolute,
)
from kpiframe.platform import Result
from kpiframe.problems import KpiframeError, Problem

#: the name a database file is attached under (fixed, so no platform schema collides)
DATABASE = "kpiframe_db"

#: `md:x`, `http://...`, `s3://...`: a prefix DuckDB resolves through an extension (a
#: single letter is a Windows drive, `C:/x.duckdb`)
_REMOTE = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]+:")

#: no extension is installed or loaded behind the user's back
_CONFIG = {"autoinstall_known_extensions": False, "autoload_known_extensions": False}

HINT = "the URL is duckdb:///relative/path.duckdb or duckdb:////absolute/path.duckdb"


def _refuse_remote(path: str, url: str) -> None:
    if path != ":memory:" and _REMOTE.match(path):
        raise KpiframeError(Problem(
            "engine-url", f"DuckDB engine URL {url} names '{path}', which DuckDB would open "
            "through an extension; kpiframe opens only local database files",
            hint=HINT))


class DuckDBConnection:
    """`write=True` opens the file for writing at once (sample data). `missing_ok=False`
    makes a missing file an error when connecting (how queries connect); otherwise it is
    an error only when read before anything is written."""

    dialect = "duckdb"

    def __init__(self, url: str, *, write: bool = False, missing_ok: bool = True) -> None:
        parsed = parse_url(url)
        self.url = url
        self.path = parsed.path or ":memory:"
        _refuse_remote(self.path, url)
        refuse_misread_absolute(parsed.path, url)
        self.read_only = parsed.query.get("read_only") in ("1", "true")
        if write and self.read_only:
            raise self._read_only()
        self.writing = write
        missing = self.path != ":memory:" and not os.path.isfile(self.path)
        if missing and (os.path.exists(self.path) or not (missing_ok or write)):
            raise self._no_database()
        # a missing file is attached (created) by the first write, not before
        self.con = self._open(attach=write or not missing)

    def _no_database(self) -> KpiframeError:
        return no_database(self.path, "DuckDB", builds=True)

    def _read_only(self) -> KpiframeError:
        return KpiframeError(Problem(
            "read-only-database", f"cannot write to {self.path}: the URL opens it read-only",
            hint="drop ?read_only from the URL"))

    def _open(self, *, attach: bool) -> Any:
        import duckdb
        from sqlglot import exp

        con = duckdb.connect(":memory:", config=dict(_CONFIG))
        try:
            if attach and self.path != ":memory:":
                if self.writing:
                    os.makedirs(os.path.dirname(os.path.abspath(self.path)), exist_ok=True)
                # DuckDB names a database after its file: x.duckdb would make "x"."posts"
                # ambiguous between catalog x and schema x. Attach it under a fixed name.
                attach_sql = exp.Attach(
                    this=exp.alias_(exp.Literal.string(self.path), DATABASE),
                    expressions=[] if self.writing else [exp.AttachOption(
                        this=exp.var("READ_ONLY"))],
                ).sql("duckdb")
                con.execute(attach_sql)
                con.execute(f"USE {DATABASE}")
            # timestamps fall into the period of their UTC date (docs/canonical.md)
            con.execute("SET TimeZone = 'UTC'")
            if not self.writing:
                con.execute("SET enable_external_access = false")
                con.execute("SET lock_configuration = true")
        except BaseException:
            con.close()
            raise
        return con

    def _for_writing(self) -> None:
        """Reopen the database read-write: kpiframe is about to write its own tables."""
        if self.writing or self.path == ":memory:":
            return  # an in-memory database is kpiframe's own: writing it touches no file
        if self.read_only:
            raise self._read_only()
        self.con.close()
        self.writing = True
        self.con = self._open(attach=True)

    def execute(self, sql: str) -> Result:
        if self.path != ":memory:" and not self.writing and not os.path.isfile(self.path):
            raise self._no_database()
        cur = self.con.execute(sql)
        if cur.description is None:
            return Result([], [])
        return Result([d[0] for d in cur.description], [tuple(r) for r in cur.fetchall()])

    def ensure_schema(self, schema: str) -> None:
        from sqlglot import exp

        self._for_writing()
        ident = exp.to_identifier(schema, quoted=True).sql("duckdb")
        self.con.execute(f"CREATE SCHEMA IF NOT EXISTS {ident}")

    def drop_schema(self, schema: str) -> None:
        """Remove a schema kpiframe made (a KPI test's), with its tables."""
        from sqlglot import exp

        self._for_writing()
        drop = exp.Drop(kind="SCHEMA", exists=True, cascade=True,
                        tables=[exp.Table(db=exp.to_identifier(schema, quoted=True))])
        self.con.execute(drop.sql("duckdb"))

    def create_table(
        self,
        schema: str,
        table: str,
        columns: Sequence[tuple[str, str]],
        rows: Iterable[Sequence[Any]],
    ) -> None:
        self.ensure_schema(schema)
        self.con.execute(
            create_table_sql("duckdb", schema, table, columns).replace(
                "CREATE TABLE", "CREATE OR REPLACE TABLE", 1
            )
        )
        data = [tuple(r) for r in rows]
        if data:
            names = [n for n, _ in columns]
            self.con.executemany(insert_sql("duckdb", schema, table, names, "?"), data)

    def close(self) -> None:
        self.con.close()

    def columns(self, schema: str, table: str) -> frozenset[str] | None:
        """The columns of `schema.table` from information_schema (views included), None
        when there is no such table: what a query can read, checked before it runs."""
        from sqlglot import exp

        def named(column: str, value: str) -> exp.Expr:
            return exp.EQ(this=exp.Lower(this=exp.column(column)),
                          expression=exp.Lower(this=exp.Literal.string(value)))

        query = exp.select("column_name").from_("information_schema.columns").where(
            exp.EQ(this=exp.column("table_catalog"),
                   expression=exp.func("current_database")),
            named("table_schema", schema), named("table_name", table))
        rows = self.execute(query.sql("duckdb")).rows
        return frozenset(str(r[0]) for r in rows) if rows else None
