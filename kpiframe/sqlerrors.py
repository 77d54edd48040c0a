"""The exceptions that mean "sqlglot cannot read this SQL text".

sqlglot raises its own errors (ParseError, TokenError). Compiled sqlglot (sqlglotc, which
kpiframe installs where a wheel exists, as it parses and prints several times faster)
also checks the types of what it builds while it runs, so some malformed text that
pure-Python sqlglot turns into an odd node, such as a CAST to a quoted "type" that is
really two statements, raises TypeError instead. Either way the text cannot be read, and
kpiframe says so the same way.
"""

from __future__ import annotations

from sqlglot.errors import SqlglotError

UNREADABLE: tuple[type[Exception], ...] = (SqlglotError, TypeError)
