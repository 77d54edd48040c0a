"""Run a plugin's code so that nothing it does can stop kpiframe.

A plugin is third-party code run inside every command. Whatever it raises, including
`SystemExit` (a stray `sys.exit(0)` would otherwise end `validate` green with no output),
`KeyboardInterrupt` and `GeneratorExit`, is caught and handed back as an `Outcome` so the
caller can report it with the plugin's name. A hook that never returns is abandoned after
a time limit: it runs in a daemon thread and kpiframe stops waiting for it, so a hanging
plugin costs seconds, not the whole run. A real Ctrl-C still interrupts kpiframe, because
the main thread only waits.
"""

from __future__ import annotations

import os
import threading
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any

from kpiframe.problems import KpiframeError, Problem

#: seconds a plugin's import or hook may take; 0 runs plugins in the main thread, unlimited
TIMEOUT_ENV = "KPIFRAME_HOOK_TIMEOUT"
DEFAULT_TIMEOUT = 10.0

_CORE = (
    str(Path(__file__).resolve().parent),
    str(Path(threading.__file__).resolve().parent),
)


@dataclass(frozen=True)
class Outcome:
    """What running a plugin's code gave: a value, an exception, or nothing in time."""

    value: Any = None
    error: BaseException | None = None
    timed_out: bool = False

    @property
    def ok(self) -> bool:
        return self.error is None and not self.timed_out


def timeout() -> float:
    """The time limit from KPIFRAME_HOOK_TIMEOUT (seconds), default 10."""
    raw = os.environ.get(TIMEOUT_ENV, "").strip()
    if not raw:
        return DEFAULT_TIMEOUT
    try:
        value = float(raw)
    except ValueError:
        value = -1.0
    if not value >= 0 or value == float("inf"):
        raise KpiframeError(Problem(
            "bad-setting", f"{TIMEOUT_ENV} must be a number of seconds, not '{raw}'",
            hint="e.g. 10; 0 runs plugins without a time limit"))
    return value


def run(func: Callable[[], Any], limit: float) -> Outcome:
    """Call `func()`, containing any exception and giving up after `limit` seconds."""
    if limit <= 0:
        try:
            return Outcome(value=func())
        except KeyboardInterrupt:
            raise  # in the main thread this may be the user's Ctrl-C
        except BaseException as exc:
            return Outcome(error=exc)
    box: dict[str, Any] = {}

    def target() -> None:
        try:
            box["value"] = func()
        except BaseException as exc:
            box["error"] = exc

    thread = threading.Thread(target=target, name="kpiframe-plugin", daemon=True)
    thread.start()
    thread.join(limit)
    if thread.is_alive():
        return Outcome(timed_out=True)
    return Outcome(value=box.get("value"), error=box.get("error"))


def describe(exc: BaseException) -> str:
    """`Type: message` on one line, as problems show it."""
    text = "".join(traceback.format_exception_only(type(exc), exc)).strip()
    return " ".join(text.split()) or type(exc).__name__


def where(exc: BaseException, home: str | None = None) -> tuple[str | None, int | None]:
    """The file and line in plugin code where `exc` was raised: the innermost frame under
    `home` (the plugin's file or package folder), else the innermost one that is neither
    kpiframe's, pluggy's, the standard library's nor the import system's."""
    mine: tuple[str | None, int | None] = (None, None)
    other: tuple[str | None, int | None] = (None, None)
    tb: TracebackType | None = exc.__traceback__
    while tb is not None:
        name = tb.tb_frame.f_code.co_filename
        if home is not None and _under(name, home):
            mine = (name, tb.tb_lineno)
        elif _is_plugin_code(name):
            other = (name, tb.tb_lineno)
        tb = tb.tb_next
    return mine if mine[0] is not None else other


def home_of(module: object) -> str | None:
    """Where a plugin's own code is: its package folder, or its single file."""
    file = getattr(module, "__file__", None)
    if not isinstance(file, str):
        return None
    path = Path(file).resolve()
    return str(path.parent if path.name == "__init__.py" else path)


def _under(filename: str, home: str) -> bool:
    if filename.startswith("<"):
        return False
    path = str(Path(filename).resolve())
    return path == home or path.startswith(home + os.sep)


def _is_plugin_code(filename: str) -> bool:
    if filename.startswith("<"):
        return False
    path = str(Path(filename).resolve())
    if path.startswith(_CORE) and not path.startswith(str(Path(_CORE[1]) / "site-packages")):
        return False
    return f"{os.sep}pluggy{os.sep}" not in path and f"{os.sep}importlib{os.sep}" not in path
