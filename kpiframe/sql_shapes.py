"""What a plugin's SQL parses to, remembered within a process and across processes.

Every kpiframe process registers every installed plugin, and registering checks each
binding's SQL by parsing it (plugin_results.py): about 400 statements and expressions for
the first-party plugins, a third of a `kpiframe compile` process. The plugins share much
of that text, and it does not change between runs. So the outcome of a successful parse
(the kind of tree and a query's column names, nothing else) is kept per process, and in a
small JSON file in the user's cache folder keyed by the sqlglot version and a SHA-256 of
the dialect and the text.

What this does not weaken: only successful parses are remembered (a broken binding is
parsed, and reported, on every run); a missing, unreadable or corrupt file is ignored; the
file is written atomically and never read as code. The SQL kpiframe builds from bindings is
parsed again when it is compiled (compiler/sources.py), and every generated statement is
read back before it runs (compiler/verify.py), so a tampered cache cannot make a statement
run that the checks would refuse.

`KPIFRAME_CACHE_DIR` chooses the folder; `KPIFRAME_CACHE_DIR=off` turns the file off.
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

CACHE_ENV = "KPIFRAME_CACHE_DIR"
#: bump when the meaning of an entry changes
_FORMAT = 1


@dataclass(frozen=True)
class Shape:
    """The part of a parsed tree the registration checks look at."""

    #: the tree's class name, for messages ("Select", "Column", "Command")
    kind: str
    #: an `exp.Query`: a SELECT, a UNION, ...
    is_query: bool
    #: a statement rather than an expression: a SELECT, a set operation or a Command
    is_statement: bool
    #: a query's output column names, lower-cased (empty for an expression)
    selects: tuple[str, ...] = ()


def cache_dir() -> Path | None:
    """The folder for kpiframe's caches, or None when caching to disk is off."""
    chosen = os.environ.get(CACHE_ENV)
    if chosen is not None:
        return None if chosen.strip().lower() in ("", "off", "0", "none") else Path(chosen)
    try:
        home = Path.home()
    except RuntimeError:  # no home directory to be found
        return None
    if sys.platform == "win32":
        base = os.environ.get("LOCALAPPDATA") or str(home / "AppData" / "Local")
    elif sys.platform == "darwin":
        base = str(home / "Library" / "Caches")
    else:
        base = os.environ.get("XDG_CACHE_HOME") or str(home / ".cache")
    # a relative folder (no HOME, `~` left unexpanded) would land in the working directory
    return Path(base) / "kpiframe" if Path(base).is_absolute() else None


def _sqlglot_version() -> str:
    import sqlglot

    return str(getattr(sqlglot, "__version__", "unknown"))


def _key(sql: str, dialect: str) -> str:
    return hashlib.sha256(f"{dialect}\0{sql}".encode("utf-8", "surrogatepass")).hexdigest()


class ShapeCache:
    """Shapes by (sql, dialect): in memory, backed by one JSON file per sqlglot version."""

    def __init__(self) -> None:
        self._memory: dict[tuple[str, str], Shape] = {}
        self._stored: dict[str, list[object]] | None = None  # loaded lazily
        self._new: dict[str, list[object]] = {}
        self._file: Path | None = None

    def _path(self) -> Path | None:
        folder = cache_dir()
        return None if folder is None else folder / f"plugin-sql-{_sqlglot_version()}.json"

    def _load(self) -> dict[str, list[object]]:
        if self._stored is None:
            self._stored = {}
            self._file = self._path()
            if self._file is not None:
                try:
                    data = json.loads(self._file.read_text("utf-8"))
                    if isinstance(data, dict) and data.get("format") == _FORMAT \
                            and isinstance(data.get("shapes"), dict):
                        self._stored = data["shapes"]
                except (OSError, ValueError):
                    pass  # no file yet, or not ours to trust: parse as if there were none
        return self._stored

    def get(self, sql: str, dialect: str) -> Shape | None:
        found = self._memory.get((sql, dialect))
        if found is not None:
            return found
        entry = self._load().get(_key(sql, dialect))
        shape = _decode(entry)
        if shape is not None:
            self._memory[(sql, dialect)] = shape
        return shape

    def put(self, sql: str, dialect: str, shape: Shape) -> None:
        self._memory[(sql, dialect)] = shape
        key = _key(sql, dialect)
        if _decode(self._load().get(key)) != shape:
            self._new[key] = [shape.kind, shape.is_query, shape.is_statement,
                              list(shape.selects)]

    def save(self) -> None:
        """Write what this process parsed for the first time; any failure is ignored (a
        read-only home, a full disk): the cache only saves time."""
        if not self._new or self._file is None:
            return
        shapes = {**self._load(), **self._new}
        try:
            self._file.parent.mkdir(parents=True, exist_ok=True)
            # re-read: another process may have added entries since this one loaded
            try:
                data = json.loads(self._file.read_text("utf-8"))
                if isinstance(data, dict) and data.get("format") == _FORMAT \
                        and isinstance(data.get("shapes"), dict):
                    shapes = {**data["shapes"], **shapes}
            except (OSError, ValueError):
                pass
            handle, temporary = tempfile.mkstemp(dir=self._file.parent, prefix=".plugin-sql-")
            try:
                with os.fdopen(handle, "w", encoding="utf-8") as out:
                    json.dump({"format": _FORMAT, "shapes": shapes}, out)
                os.replace(temporary, self._file)
            except BaseException:
                Path(temporary).unlink(missing_ok=True)
                raise
        except OSError:
            return
        self._stored = shapes
        self._new = {}


def _decode(entry: object) -> Shape | None:
    """An entry from the file, if it has the expected form; anything else is a miss."""
    if not isinstance(entry, list) or len(entry) != 4:
        return None
    kind, is_query, is_statement, selects = entry
    if not (isinstance(kind, str) and isinstance(is_query, bool)
            and isinstance(is_statement, bool) and isinstance(selects, list)
            and all(isinstance(s, str) for s in selects)):
        return None
    return Shape(kind, is_query, is_statement, tuple(selects))


#: the process's cache; `reset()` starts a new one (tests, a changed KPIFRAME_CACHE_DIR)
CACHE = ShapeCache()


def reset() -> None:
    global CACHE
    CACHE = ShapeCache()
