"""Whether a name is a sqlglot dialect, without importing every dialect to find out.

`Dialect.classes` imports all of sqlglot's ~30 dialect modules (about a fifth of a
`kpiframe compile` process); a name is checked against sqlglot's list of dialect module
names instead, and only a name outside that list (a plugin's own dialect) is looked up,
which loads that one dialect at most.
"""

from __future__ import annotations


def is_dialect(name: object) -> bool:
    """True for a name sqlglot can read and write: its own dialects and any a plugin
    registered (a Dialect subclass, or a `sqlglot.dialects` entry point)."""
    if not isinstance(name, str) or not name:
        return False
    from sqlglot.dialects import DIALECT_MODULE_NAMES
    from sqlglot.dialects.dialect import Dialect

    return name in DIALECT_MODULE_NAMES or Dialect.get(name) is not None


def dialect_names() -> list[str]:
    """Every dialect name, sorted: for a did-you-mean after a name was refused (this one
    does import them all)."""
    from sqlglot.dialects.dialect import Dialect

    return sorted(d for d in Dialect.classes if d)
