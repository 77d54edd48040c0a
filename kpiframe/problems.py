"""Problems: what kpiframe says when input is wrong.

Every problem a user can cause carries where it is (file, line, column), which KPI, which
rule, and a hint. The CLI never shows a traceback for one: bad input is a `Problem`, and a
`KpiframeError` carries problems up to wherever they are reported.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from typing import Any, Literal

Severity = Literal["error", "warning"]

#: `scheme://user:SECRET@host`: everything between the user's colon and the last `@` of
#: the URL (a password may hold an unencoded `@`; hiding too much is the safe mistake)
_URL_PASSWORD = re.compile(r"(?P<head>[A-Za-z][A-Za-z0-9+.-]*://[^\s:/@'\"]*):[^\s'\"]*@")
#: `password=SECRET` in a libpq conninfo string or a URL's query (quoted or not)
_KEY_PASSWORD = re.compile(
    r"(?P<head>(?:password|passwd|pwd)\s*=\s*)"
    r"(?:'(?:[^'\\]|\\.)*'|\"(?:[^\"\\]|\\.)*\"|[^\s&;'\",)]+)",
    re.IGNORECASE)
REDACTED = "***"


def redact(text: str) -> str:
    """`text` with every password in a connection URL or conninfo replaced by ***.

    Engine URLs reach messages through errors (a driver's, or kpiframe's own "cannot
    connect to URL"), and messages reach CI logs; so every message is redacted where it
    is built (`Problem`) and where the CLI prints an unexpected error, not call by call.
    """
    if "=" not in text and "@" not in text:
        return text
    text = _URL_PASSWORD.sub(lambda m: f"{m.group('head')}:{REDACTED}@", text)
    return _KEY_PASSWORD.sub(lambda m: f"{m.group('head')}{REDACTED}", text)


@dataclass(frozen=True)
class Location:
    file: str | None = None
    line: int | None = None
    column: int | None = None

    def __str__(self) -> str:
        parts = [self.file or "<input>"]
        if self.line is not None:
            parts.append(str(self.line))
            if self.column is not None:
                parts.append(str(self.column))
        return ":".join(parts)


@dataclass(frozen=True)
class Problem:
    rule: str
    message: str
    file: str | None = None
    line: int | None = None
    column: int | None = None
    kpi: str | None = None
    severity: Severity = "error"
    hint: str | None = None

    def __post_init__(self) -> None:
        # frozen: redact once, here, so format(), to_dict() and every report agree
        object.__setattr__(self, "message", redact(self.message))
        if self.hint is not None:
            object.__setattr__(self, "hint", redact(self.hint))

    @classmethod
    def at(
        cls,
        loc: Location | None,
        rule: str,
        message: str,
        *,
        kpi: str | None = None,
        hint: str | None = None,
        severity: Severity = "error",
    ) -> Problem:
        loc = loc or Location()
        return cls(rule, message, loc.file, loc.line, loc.column, kpi, severity, hint)

    @property
    def location(self) -> Location:
        return Location(self.file, self.line, self.column)

    @property
    def is_error(self) -> bool:
        return self.severity == "error"

    def format(self) -> str:
        text = f"{self.severity}[{self.rule}] {self.message}"
        if self.file is not None:
            text = f"{self.location}: {text}"
        if self.hint:
            text += f" ({self.hint})"
        return text

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def sort_key(self) -> tuple[str, int, int, str]:
        return (self.file or "", self.line or 0, self.column or 0, self.rule)


class KpiframeError(Exception):
    """A user error: one or more problems, reported without a traceback."""

    def __init__(self, problems: Problem | Iterable[Problem]) -> None:
        self.problems = [problems] if isinstance(problems, Problem) else list(problems)
        super().__init__("\n".join(p.format() for p in self.problems))


def did_you_mean(word: str, candidates: Iterable[str]) -> str | None:
    """A hint naming the closest candidate, or None when nothing is close."""
    match = difflib.get_close_matches(word, list(candidates), n=1, cutoff=0.6)
    return f"did you mean '{match[0]}'?" if match else None


def one_of(candidates: Iterable[str], limit: int = 12) -> str:
    names = sorted(candidates)
    shown = ", ".join(names[:limit])
    return shown + (f", ... ({len(names)} in all)" if len(names) > limit else "")
