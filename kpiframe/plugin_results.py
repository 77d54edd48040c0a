"""Check what a plugin's hooks return before kpiframe relies on it.

Every hook promises a list of one kind of thing. A plugin that returns something else, or
a platform whose binding SQL does not parse, would otherwise surface later as an internal
error on every query, far from the plugin that caused it. Each check here raises
`BadResult` with a sentence that names what is wrong; the plugin manager reports it with
the plugin's name and drops only that item.
"""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Iterable, Mapping
from typing import Any

from kpiframe import canonical, sql_shapes
from kpiframe.platform import Engine, Layout, Platform, Select, Table
from kpiframe.problems import Problem


class BadResult(Exception):
    """A hook returned something kpiframe cannot use."""


PLATFORM_NAME = re.compile(r"^[a-z][a-z0-9_]{0,62}$")


def as_list(result: Any) -> list[Any]:
    """A hook's answer as a list. Generators and other iterators are drained here, inside
    the time limit and exception guard the caller runs this in."""
    if isinstance(result, (str, bytes, Mapping)) or not isinstance(result, Iterable):
        raise BadResult(f"must return a list, not {_kind(result)}")
    return list(result)


def _kind(value: Any) -> str:
    return f"{type(value).__name__} {_short(value)}"


def _short(value: Any) -> str:
    try:
        text = repr(value)
    except Exception:  # a hostile __repr__
        return "(unprintable)"
    return text if len(text) <= 80 else text[:77] + "..."


def engine(item: Any) -> Engine:
    if not isinstance(item, Engine):
        raise BadResult(f"returned {_kind(item)}, not an Engine")
    if not isinstance(item.scheme, str) or not item.scheme.strip():
        raise BadResult(f"engine scheme must be a non-empty string, not {_short(item.scheme)}")
    if item.scheme != item.scheme.lower() or ":" in item.scheme or "/" in item.scheme:
        raise BadResult(f"engine scheme '{item.scheme}' must be lower case, without ':' or '/'")
    from kpiframe.dialect_names import is_dialect

    if not is_dialect(item.dialect):
        raise BadResult(f"engine '{item.scheme}': sqlglot has no dialect {_short(item.dialect)}")
    if not callable(item.connect):
        raise BadResult(f"engine '{item.scheme}': connect must be callable")
    return item


def definition(item: Any) -> str:
    if not isinstance(item, (str, os.PathLike)):
        raise BadResult(
            f"returned {_kind(item)}, not a file or folder path")
    return os.fspath(item)


def problem(item: Any) -> Problem:
    if not isinstance(item, Problem):
        raise BadResult(f"returned {_kind(item)}, not a kpiframe.Problem")
    return item


def platform(item: Any) -> Platform:
    """A platform whose every layout and binding is well formed, SQL parsed once here."""
    if not isinstance(item, Platform):
        raise BadResult(f"returned {_kind(item)}, not a Platform")
    if not isinstance(item.name, str) or not item.name.strip():
        raise BadResult(f"platform name must be a non-empty string, not {_short(item.name)}")
    if not PLATFORM_NAME.match(item.name):
        # names go into kpiframe.yaml keys, schema names and (platform, id) identities
        raise BadResult(f"platform name '{_short(item.name)}' must be lower-case letters, "
                        "digits and '_', starting with a letter")
    if isinstance(item.layouts, (str, bytes)) or not isinstance(item.layouts, Iterable):
        raise BadResult(f"platform '{item.name}': layouts must be a list of Layout")
    layouts = list(item.layouts)
    if not layouts:
        raise BadResult(f"platform '{item.name}' has no layout")
    seen: set[str] = set()
    for layout in layouts:
        if not isinstance(layout, Layout):
            raise BadResult(f"platform '{item.name}': {_kind(layout)} is not a Layout")
        if layout.name in seen:
            raise BadResult(f"platform '{item.name}' has two layouts named '{layout.name}'")
        seen.add(layout.name)
        for kind, entries in (("source", layout.sources), ("encoder", layout.encoders),
                              ("conform query", layout.conform)):
            if not isinstance(entries, Mapping):
                raise BadResult(f"platform '{item.name}', layout '{layout.name}': "
                                f"{kind}s must be a mapping")
            for source, binding in entries.items():
                where = f"platform '{item.name}', layout '{layout.name}', {kind} '{source}'"
                try:
                    if kind == "source":
                        _binding(source, binding)
                    elif not isinstance(binding, Select):
                        raise BadResult(f"must be a Select, not {_kind(binding)}")
                    else:
                        _query(binding.sql, binding.dialect)
                except BadResult as exc:
                    raise BadResult(f"{where}: {exc}") from None
    return item


def _binding(source: str, binding: Any) -> None:
    if source not in canonical.SOURCES:
        raise BadResult("no such canonical source; sources: " + ", ".join(canonical.SOURCES))
    if isinstance(binding, Select):
        fields = _query(binding.sql, binding.dialect)
    elif isinstance(binding, Table):
        if not isinstance(binding.table, str) or not binding.table:
            raise BadResult(f"table must be a name, not {_short(binding.table)}")
        if not isinstance(binding.columns, Mapping):
            raise BadResult("columns must map canonical fields to SQL")
        for field, sql in binding.columns.items():
            _expression(sql, binding.dialect, f"column '{field}'")
        if binding.where is not None:
            _expression(binding.where, binding.dialect, "where")
        fields = tuple(binding.columns)
    else:
        raise BadResult(f"must be a Table or a Select, not {_kind(binding)}")
    known = canonical.SOURCES[source].fields
    bad = [f for f in fields if f not in known or f == "platform"]
    if bad:
        raise BadResult(f"maps unknown field(s): {', '.join(map(str, bad))}")


def _shape(sql: Any, dialect: Any) -> sql_shapes.Shape:
    """What `sql` parses to in `dialect`. The same text is parsed once per sqlglot version
    (sql_shapes.py): the first-party plugins share most of theirs, and it does not change
    between runs."""
    if not isinstance(sql, str) or not sql.strip():
        raise BadResult(f"SQL must be a non-empty string, not {_short(sql)}")
    if not isinstance(dialect, str):
        raise BadResult(f"dialect must be a string, not {_short(dialect)}")
    known = sql_shapes.CACHE.get(sql, dialect)
    if known is not None:
        return known
    tree = _parse(sql, dialect)
    from sqlglot import exp

    is_query = isinstance(tree, exp.Query)
    shape = sql_shapes.Shape(
        kind=type(tree).__name__,
        is_query=is_query,
        is_statement=isinstance(tree, (exp.Select, exp.SetOperation, exp.Command)),
        selects=tuple(name.lower() for name in tree.named_selects) if is_query else (),
    )
    sql_shapes.CACHE.put(sql, dialect, shape)
    return shape


def _parse(sql: str, dialect: str) -> Any:
    import sqlglot

    from kpiframe.sqlerrors import UNREADABLE

    unreadable: tuple[type[Exception], ...] = (*UNREADABLE, ValueError)
    logger = logging.getLogger("sqlglot")
    level = logger.level
    logger.setLevel(logging.ERROR)  # "falling back to parsing as a Command" is ours to say
    try:
        return sqlglot.parse_one(sql, read=dialect)
    except unreadable as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise BadResult(f"SQL does not parse as {dialect}: {first}") from None
    finally:
        logger.setLevel(level)


def _query(sql: Any, dialect: Any) -> tuple[str, ...]:
    shape = _shape(sql, dialect)
    if not shape.is_query:
        raise BadResult(f"SQL must be one SELECT query, not {shape.kind}: "
                        f"{_short(sql)}")
    return shape.selects


def _expression(sql: Any, dialect: Any, what: str) -> None:
    try:
        shape = _shape(sql, dialect)
    except BadResult as exc:
        raise BadResult(f"{what}: {exc}") from None
    if shape.is_statement:
        raise BadResult(f"{what}: must be one SQL expression, not {_short(sql)}")
