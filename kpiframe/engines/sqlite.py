"""SQLite. It has no schemas, so a schema is an attached database: `<schema>.db` in the
main database's folder (in memory when the main database is).

A schema's file is attached when a statement names it (found with sqlglot), not every
`*.db` in the folder: an unrelated file there (a text file called notes.db, or more
files than SQLite can attach at once) concerns no query that does not read it. Reading
opens files read-only and never creates one; only kpiframe's own writers
(`create_table`, `ensure_schema`) reopen for writing.
"""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Iterable, Sequence
from decimal import Decimal
from typing import Any
from urllib.parse import quote

from kpiframe.engines.base import (
    create_table_sql,
    drop_table_sql,
    insert_sql,
    no_database,
    parse_url,
    refuse_misread_absolute,
)
from kpiframe.platform import Result
from kpiframe.problems import KpiframeError, Problem

#: schemas every connection has
BUILT_IN = frozenset({"main", "temp"})


class SQLiteConnection:
    """`missing_ok=False` makes a missing database file an error when connecting (how
    queries connect); otherwise it is an error only when read before anything is
    written."""

    dialect = "sqlite"

    def __init__(self, url: str, *, missing_ok: bool = True) -> None:
        parsed = parse_url(url)
        path = parsed.path if parsed.path != ":memory:" else None
        refuse_misread_absolute(path, url)
        self.path = os.path.abspath(path) if path else None
        self.shown = path or ":memory:"
        self.writing = self.path is None
        self.attached: set[str] = set(BUILT_IN)
        self.exists = self.path is None or os.path.isfile(self.path)
        if not self.exists and (not missing_ok or os.path.exists(self.shown)):
            raise self._no_database()
        self.con = self._open()

    def _no_database(self) -> KpiframeError:
        return no_database(self.shown, "SQLite", builds=True)

    def _uri(self, path: str) -> str:
        return f"file:{quote(path)}?mode={'rwc' if self.writing else 'ro'}"

    def _open(self) -> sqlite3.Connection:
        if self.path is None:
            return sqlite3.connect(":memory:", isolation_level=None)
        if not self.exists and not self.writing:
            # nothing to read yet: a placeholder until the first write creates the file
            return sqlite3.connect(":memory:", isolation_level=None)
        con = sqlite3.connect(self._uri(self.path), uri=True, isolation_level=None)
        self._check(con, "main", self.shown)
        self.exists = True
        return con

    @staticmethod
    def _check(con: sqlite3.Connection, schema: str, shown: str) -> None:
        """SQLite opens any file and fails at the first read: read now, and name it."""
        try:
            con.execute(f"SELECT count(*) FROM {_quote(schema)}.sqlite_master").fetchone()
        except sqlite3.DatabaseError as error:
            if schema != "main":
                con.execute("DETACH DATABASE " + _quote(schema))
            raise _not_sqlite(shown, error) from None

    def _for_writing(self) -> None:
        if self.writing:
            return
        self.con.close()
        self.writing = True
        self.attached = set(BUILT_IN)
        if self.path is not None:
            os.makedirs(os.path.dirname(self.path), exist_ok=True)
        self.con = self._open()

    def _file(self, schema: str) -> str | None:
        """The file of a schema, or None when the name cannot be one (no paths)."""
        if self.path is None or not schema or os.path.basename(schema) != schema \
                or schema.startswith("."):
            return None
        return os.path.join(os.path.dirname(self.path), f"{schema}.db")

    def ensure_schema(self, schema: str) -> None:
        self._for_writing()
        self.attach(schema)

    def attach(self, schema: str) -> None:
        if schema.lower() in {a.lower() for a in self.attached}:
            return
        if self.path is None:
            target = ":memory:"
        else:
            file = self._file(schema)
            if file is None:
                raise KpiframeError(Problem(
                    "bad-schema", f"'{schema}' cannot be a SQLite schema: it names a file "
                    "next to the main database", hint="use a plain name"))
            if not self.writing and not os.path.isfile(file):
                return  # nothing to read: SQLite reports the table as missing
            self._make_room(1)
            target = self._uri(file)
        shown = os.path.join(os.path.dirname(self.shown), f"{schema}.db")
        try:
            self.con.execute("ATTACH DATABASE ? AS " + _quote(schema), (target,))
        except sqlite3.DatabaseError as error:
            raise _not_sqlite(shown, error) from None
        if self.path is not None:
            self._check(self.con, schema, shown)
        self.attached.add(schema)

    def _make_room(self, wanted: int, keep: Iterable[str] = ()) -> None:
        """Detach schemas this statement does not read when SQLite's limit is near."""
        limit = self.con.getlimit(sqlite3.SQLITE_LIMIT_ATTACHED)
        extra = sorted(self.attached - BUILT_IN - set(keep))
        while extra and len(self.attached - BUILT_IN) + wanted > limit:
            name = extra.pop()
            self.con.execute("DETACH DATABASE " + _quote(name))
            self.attached.discard(name)

    def _attach_for(self, sql: str) -> None:
        """Attach the schemas a statement's tables name (files only: in memory, a schema
        exists once it was made)."""
        if self.path is None:
            return
        import sqlglot
        from sqlglot import exp

        from kpiframe.sqlerrors import UNREADABLE

        try:
            statements = sqlglot.parse(sql, read="sqlite")
        except UNREADABLE:
            return  # SQLite reports what it cannot read
        needed = {t.db for s in statements if s is not None for t in s.find_all(exp.Table)
                  if t.db}
        known = {a.lower() for a in self.attached}
        missing = sorted(n for n in needed if n.lower() not in known)
        if missing:
            self._make_room(len(missing), keep=needed)
            for name in missing:
                self.attach(name)

    def execute(self, sql: str) -> Result:
        if not self.exists:
            raise self._no_database()
        self._attach_for(sql)
        cur = self.con.execute(sql)
        columns = [d[0] for d in cur.description] if cur.description else []
        return Result(columns, [tuple(r) for r in cur.fetchall()])

    def create_table(
        self,
        schema: str,
        table: str,
        columns: Sequence[tuple[str, str]],
        rows: Iterable[Sequence[Any]],
    ) -> None:
        self.ensure_schema(schema)
        names = [n for n, _ in columns]
        kinds = [k for _, k in columns]
        data = [tuple(_value(v, k) for v, k in zip(r, kinds, strict=True)) for r in rows]
        # one transaction: in autocommit every row would be its own commit and fsync
        self.con.execute("BEGIN")
        try:
            self.con.execute(drop_table_sql("sqlite", schema, table))
            self.con.execute(create_table_sql("sqlite", schema, table, columns))
            if data:
                self.con.executemany(insert_sql("sqlite", schema, table, names, "?"), data)
            self.con.execute("COMMIT")
        except BaseException:
            self.con.execute("ROLLBACK")
            raise

    def drop_schema(self, schema: str) -> None:
        """Remove a schema kpiframe made (a KPI test's): detach it and delete its file."""
        if schema.lower() in BUILT_IN:
            return
        for name in [a for a in self.attached if a.lower() == schema.lower()]:
            self.con.execute("DETACH DATABASE " + _quote(name))
            self.attached.discard(name)
        file = self._file(schema)
        if file is not None:
            for suffix in ("", "-journal", "-wal", "-shm"):
                if os.path.isfile(file + suffix):
                    os.remove(file + suffix)

    def close(self) -> None:
        self.con.close()

    def columns(self, schema: str, table: str) -> frozenset[str] | None:
        """The columns of `schema.table` from pragma_table_info, None when there is no
        such table (or no such schema file): checked before a query runs."""
        if not self.exists:
            raise self._no_database()
        if schema.lower() not in BUILT_IN:
            self.attach(schema)
        if schema.lower() not in {a.lower() for a in self.attached}:
            return None
        rows = self.con.execute("SELECT name FROM pragma_table_info(?, ?)",
                                (table, schema)).fetchall()
        return frozenset(str(r[0]) for r in rows) if rows else None


def _not_sqlite(shown: str, error: Exception) -> KpiframeError:
    return KpiframeError(Problem(
        "bad-database", f"{shown} is not a SQLite database ({error})",
        hint="move the file away or rename it: the SQLite engine reads <schema>.db files "
        "next to its main database as schemas"))


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _value(value: Any, kind: str) -> Any:
    """Dates and timestamps as ISO text, the form SQLite's date functions read."""
    if value is None:
        return None
    if kind == "date":
        return value.isoformat() if hasattr(value, "isoformat") else str(value)
    if kind == "timestamp":
        if hasattr(value, "isoformat"):
            if getattr(value, "tzinfo", None) is not None:
                from datetime import timezone

                value = value.astimezone(timezone.utc).replace(tzinfo=None)
            return value.isoformat(sep=" ")
        return str(value)
    if kind == "boolean":
        return int(bool(value))
    if isinstance(value, Decimal):  # SQLite keeps decimals as REAL; sqlite3 cannot bind one
        return float(value)
    return value
