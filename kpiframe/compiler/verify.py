"""Check the statement the compiler printed, as the engine will read it.

Building SQL only from structures kpiframe controls is the first defence; this is the
second, and it does not trust the first. The printed statement is parsed back in its own
dialect and must be one query (no second statement, no DDL, DML or command anywhere in
it) that reads only tables the project's platform bindings name, or its own CTEs. A
compiler bug, a sqlglot printing quirk or a hostile plugin binding that would make the
engine do anything else fails here with a clear error instead of running.
"""

from __future__ import annotations

import logging
import threading
from collections import OrderedDict
from collections.abc import Iterable, Mapping
from functools import lru_cache

import sqlglot
from sqlglot import exp

from kpiframe.compiler.sources import parse
from kpiframe.gcpause import gc_paused
from kpiframe.platform import Select, Table
from kpiframe.plugins import ActivePlatform
from kpiframe.problems import KpiframeError, Problem
from kpiframe.sqlerrors import UNREADABLE

#: anything that is not a read: statements, and clauses that write (SELECT ... INTO)
_FORBIDDEN: tuple[type[exp.Expr], ...] = (
    exp.DDL, exp.DML, exp.Command, exp.Drop, exp.Create, exp.Insert, exp.Update,
    exp.Delete, exp.Merge, exp.Alter, exp.TruncateTable, exp.Copy, exp.Pragma, exp.Set,
    exp.Use, exp.Transaction, exp.Commit, exp.Rollback, exp.Grant, exp.Describe, exp.Into,
    exp.Block, exp.Show, exp.Cache, exp.Uncache, exp.LoadData, exp.Refresh, exp.Analyze,
    exp.Kill, exp.Execute, exp.Lock, exp.Attach, exp.Detach, exp.Install,
)

TableName = tuple[str, str]

#: what the read-back walk does with a node, by its class (a statement has hundreds of
#: nodes of a few dozen classes: one dict lookup each instead of an isinstance over the
#: whole _FORBIDDEN tuple)
_PLAIN, _WRITE, _CTE, _TABLE = "plain", "write", "cte", "table"
_KINDS: dict[type[exp.Expr], str] = {}


def _kind(cls: type[exp.Expr]) -> str:
    kind = (_WRITE if issubclass(cls, _FORBIDDEN) else _CTE if issubclass(cls, exp.CTE)
            else _TABLE if issubclass(cls, exp.Table) else _PLAIN)
    _KINDS[cls] = kind
    return kind



def _read_as(dialect: str) -> str:
    """The dialect `dialect`'s output is parsed back with (its adapter says)."""
    from kpiframe.compiler.adapters import adapter

    read_as = adapter(dialect).read_as
    return dialect if read_as is None else read_as


def _name(table: exp.Table) -> TableName:
    return (table.db.casefold(), table.name.casefold())


def binding_tables(bindings: Iterable[tuple[Table | Select, str]]) -> frozenset[TableName]:
    """The physical tables (schema, table) that (binding, schema) pairs may read."""
    found: set[TableName] = set()
    for binding, schema in bindings:
        if isinstance(binding, Table):
            found.add(_table_name(binding.table, schema))
        else:
            found |= _select_tables(binding.sql, binding.dialect, schema)
    return frozenset(found)


@lru_cache(maxsize=4096)
def _table_name(table: str, schema: str) -> TableName:
    """A Table binding's (schema, table); parsed once per process, as every compile asks
    for every binding of the project."""
    ref = exp.to_table(table)
    return ((ref.db or schema).casefold(), ref.name.casefold())


@lru_cache(maxsize=4096)
def _select_tables(sql: str, dialect: str, schema: str) -> frozenset[TableName]:
    """The tables a plugin's SELECT reads; its SQL is parsed once per process (every
    compile asks), through the compiler's own parse cache."""
    tree = parse(sql, dialect)
    ctes = {cte.alias.casefold() for cte in tree.find_all(exp.CTE)}
    return frozenset(
        ((table.db or schema).casefold(), table.name.casefold())
        for table in tree.find_all(exp.Table)
        if table.db or table.name.casefold() not in ctes
    )


def _refuse(sql: str, why: str) -> KpiframeError:
    return KpiframeError(Problem(
        "unsafe-statement",
        f"kpiframe refused to run the SQL it generated: {why}",
        hint="this is a bug in kpiframe or in a plugin's binding; please report it with "
        "the KPI definition and `kpiframe compile` output"))


class _Verified:
    """Statements already found safe, by (text, dialect, allowed tables).

    The check is a pure function of those three, so a statement that passed once passes
    again: a server or notebook compiling the same request again skips parsing it back.
    Only passes are kept, and only the most recent ones up to a total length, so a
    refused statement is checked (and refused) every time and memory stays bounded.
    """

    def __init__(self, max_chars: int = 4_000_000) -> None:
        self._passed: OrderedDict[tuple[str, str, frozenset[TableName]], None] = OrderedDict()
        self._chars = 0
        self._max_chars = max_chars
        self._lock = threading.Lock()

    def __contains__(self, key: tuple[str, str, frozenset[TableName]]) -> bool:
        with self._lock:
            if key in self._passed:
                self._passed.move_to_end(key)
                return True
            return False

    def add(self, key: tuple[str, str, frozenset[TableName]]) -> None:
        if len(key[0]) > self._max_chars // 4:
            return  # a huge statement would push out everything else
        with self._lock:
            if key in self._passed:
                return
            self._passed[key] = None
            self._chars += len(key[0])
            while self._chars > self._max_chars:
                old, _ = self._passed.popitem(last=False)
                self._chars -= len(old[0])

    def clear(self) -> None:
        with self._lock:
            self._passed.clear()
            self._chars = 0


VERIFIED = _Verified()


def verify(sql: str, dialect: str, allowed: frozenset[TableName]) -> None:
    """Raise unless `sql` is one read-only query over `allowed` tables and its own CTEs."""
    key = (sql, dialect, allowed)
    if key in VERIFIED:
        return
    _check(sql, dialect, allowed)
    VERIFIED.add(key)


def _check(sql: str, dialect: str, allowed: frozenset[TableName]) -> None:
    logger = logging.getLogger("sqlglot")
    level = logger.level
    logger.setLevel(logging.ERROR)  # a fallback to Command is reported below, not logged
    try:
        with gc_paused():  # a large statement: mostly collector time otherwise
            statements = [s for s in sqlglot.parse(sql, read=_read_as(dialect))
                          if s is not None]
    except UNREADABLE as error:
        raise _refuse(sql, f"it does not parse back as {dialect} "
                      f"({str(error).splitlines()[0][:200]})") from None
    finally:
        logger.setLevel(level)
    if len(statements) != 1:
        raise _refuse(sql, f"it holds {len(statements)} statements, not one")
    _check_tree(statements[0], sql, dialect, allowed)


def _check_tree(tree: exp.Expr, sql: str, dialect: str, allowed: frozenset[TableName]
                ) -> None:
    if not isinstance(tree, exp.Query):
        raise _refuse(sql, f"it is a {tree.key.upper()} statement, not a query")
    ctes: set[str] = set()
    tables: list[exp.Table] = []
    for node in tree.walk():
        # a parsed tree is a web of parent pointers: cut, it is freed the moment it is
        # dropped, instead of by a later cyclic collection that walks it all again
        node.parent = None
        kind = _KINDS.get(type(node))
        if kind is None:
            kind = _kind(type(node))
        if kind is _PLAIN:
            continue
        if kind is _WRITE:
            raise _refuse(sql, f"it contains a {node.key.upper()}")
        if kind is _CTE:
            ctes.add(node.alias.casefold())
        elif isinstance(node, exp.Table):
            tables.append(node)
    for table in tables:
        if not isinstance(table.this, exp.Identifier):
            raise _refuse(sql, f"it reads from '{table.sql(dialect)[:60]}', not a table")
        name = _name(table)
        if not table.db and name[1] in ctes:
            continue
        if name not in allowed and not (table.catalog and name in allowed):
            raise _refuse(sql, f"it reads table '{table.sql(dialect)[:60]}', which no "
                          "platform binding of this project names")


def allowed_tables(platforms: Mapping[str, ActivePlatform]) -> frozenset[TableName]:
    """Every table the active platforms' bindings name."""
    return binding_tables(
        (binding, active.schema)
        for active in platforms.values()
        for binding in active.layout.sources.values()
    )
