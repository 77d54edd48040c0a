"""User expressions (`expr`, `filter`, `--where`, derived KPIs) in a small, safe SQL subset.

Parsed with sqlglot, then walked against an allow-list of node types: a block-list would
let `DROP TABLE` through (it is not an `exp.DDL`) and would miss `pg_sleep(10)` (an
`exp.Anonymous`). Anything not on the list is a located error; the compiler re-quotes
every identifier on output, so user text is never spliced into SQL.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterator, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

import sqlglot
from sqlglot import Token, Tokenizer, TokenType, exp
from sqlglot.errors import ParseError, TokenError

from kpiframe import canonical
from kpiframe.exprbuild import CAST_NAMES, CASTS, FIELD_TYPES, Builder, BuildError, Type, type_hint
from kpiframe.problems import did_you_mean
from kpiframe.sqlerrors import UNREADABLE

#: node types a row expression may contain besides columns, literals and functions below
_ROW_NODES: tuple[type[exp.Expr], ...] = (
    exp.Column, exp.Identifier, exp.Literal, exp.Boolean, exp.Null, exp.Paren, exp.Neg,
    exp.Add, exp.Sub, exp.Mul, exp.Div, exp.Mod,
    exp.EQ, exp.NEQ, exp.GT, exp.GTE, exp.LT, exp.LTE,
    exp.And, exp.Or, exp.Not, exp.In, exp.Between, exp.Is, exp.Like, exp.ILike,
    exp.Case, exp.If, exp.Cast, exp.DataType, exp.DataTypeParam, exp.Var,
)

#: scalar functions allowed in row expressions, by the name users write
ROW_FUNCTIONS: dict[str, type[exp.Expr]] = {
    "coalesce": exp.Coalesce, "nullif": exp.Nullif, "abs": exp.Abs, "round": exp.Round,
    "least": exp.Least, "greatest": exp.Greatest, "floor": exp.Floor, "ceil": exp.Ceil,
    "lower": exp.Lower, "upper": exp.Upper, "length": exp.Length, "trim": exp.Trim,
    "substring": exp.Substring, "sqrt": exp.Sqrt, "ln": exp.Ln, "power": exp.Pow,
    "exp": exp.Exp, "sign": exp.Sign, "extract": exp.Extract, "if": exp.If,
}

#: derived KPIs: KPI names, numbers, + - * /, parentheses and these functions
_DERIVED_NODES: tuple[type[exp.Expr], ...] = (
    exp.Column, exp.Identifier, exp.Literal, exp.Paren, exp.Neg,
    exp.Add, exp.Sub, exp.Mul, exp.Div,
)
DERIVED_FUNCTIONS: dict[str, type[exp.Expr]] = {
    "coalesce": exp.Coalesce, "nullif": exp.Nullif, "abs": exp.Abs, "round": exp.Round,
    "least": exp.Least, "greatest": exp.Greatest,
}

_ROW_HINT = (
    "expressions may use fields, literals, arithmetic, comparisons, AND/OR/NOT, IN, "
    "BETWEEN, IS NULL, LIKE, CASE, CAST and allowed functions"
)
_DERIVED_HINT = (
    "a derived KPI combines KPI names and numbers with + - * /, parentheses and "
    "coalesce, nullif, abs, round, least, greatest"
)

_STATEMENTS = (
    exp.Drop, exp.Create, exp.Insert, exp.Update, exp.Delete, exp.Alter, exp.Command,
    exp.Merge, exp.TruncateTable, exp.Use, exp.Set, exp.Transaction, exp.Commit,
    exp.Rollback, exp.Pragma, exp.Copy, exp.Describe, exp.Grant,
)


@dataclass(frozen=True)
class ExprError(Exception):
    rule: str
    message: str
    offset: int = 0
    hint: str | None = None


@dataclass(frozen=True)
class Expr:
    """A checked expression. `names` are the columns (or KPIs) it refers to, in order."""

    text: str
    tree: exp.Expr
    names: tuple[str, ...]
    #: what it computes: number, text, boolean, date, timestamp (null: only NULL)
    type: Type = "number"
    offsets: Mapping[str, int] = field(default_factory=dict)

    def copy_tree(self) -> exp.Expr:
        return self.tree.copy()

    def offset_of(self, name: str) -> int:
        """Where the first reference to column (or KPI) `name` starts in `text`."""
        return self.offsets.get(name, 0)


def _offset(node: exp.Expr) -> int:
    """Where a node starts: its leftmost token (only tokens carry positions)."""
    starts = [
        int(meta["start"])
        for candidate in node.walk()
        if "start" in (meta := getattr(candidate, "_meta", None) or {})
    ]
    return min(starts, default=0)


def _token_offset(text: str, kind: TokenType) -> int:
    """Where the first token of a kind starts (an operator, which carries no position)."""
    return next((t.start for t in _tokens(text) if t.token_type == kind), 0)


def _statement_offset(text: str, node: exp.Expr) -> int:
    """Subqueries and statements start at their keyword, which carries no position."""
    if isinstance(node, exp.Table):
        return _offset(node)
    keyword = "select" if isinstance(node, (exp.Select, exp.Subquery)) else node.key
    found = text.lower().find(keyword.lower())
    return found if found >= 0 else 0


def _describe(node: exp.Expr) -> str:
    if isinstance(node, (exp.Select, exp.Subquery, exp.Union, exp.Exists)):
        return "a subquery"
    if isinstance(node, exp.Table):
        return "a table reference"
    if isinstance(node, _STATEMENTS):
        return f"a {node.key.upper()} statement"
    if isinstance(node, exp.Star):
        return "'*'"
    if isinstance(node, exp.Placeholder):
        return "a parameter placeholder"
    if isinstance(node, exp.DPipe):
        return "string concatenation ('||')"
    if isinstance(node, (exp.Binary, exp.Unary)):
        return f"'{node.sql()[:40]}'"
    return f"'{node.key}'"


def _function_name(node: exp.Expr) -> str:
    if isinstance(node, exp.Anonymous):
        return str(node.name).lower()
    return str(node.sql_name()).lower() if isinstance(node, exp.Func) else node.key


_WRITE_AN_EXPRESSION = ("write a SQL expression such as `likes + comments` or "
                        "`sentiment = 'positive'`")


@lru_cache(maxsize=65536)
def _parse(text: str) -> exp.Expr:
    try:
        statements = sqlglot.parse(text)
    except RecursionError:
        raise ExprError("expr-too-deep", "expression is nested too deeply", 0,
                        "split it into several KPIs and combine them with a derived KPI"
                        ) from None
    except (ParseError, TokenError) as error:
        offset = 0
        message = str(error).splitlines()[0]
        if isinstance(error, ParseError) and error.errors:
            message, offset = _syntax_error(text, error.errors[0], message)
        raise ExprError("expr-syntax", f"cannot parse expression: {message}", offset,
                        _WRITE_AN_EXPRESSION) from None
    except UNREADABLE:  # compiled sqlglot's own type checks: see kpiframe/sqlerrors.py
        raise ExprError("expr-syntax", "cannot parse expression: it is not a SQL "
                        "expression", 0, _WRITE_AN_EXPRESSION) from None
    parts = [s for s in statements if s is not None]
    if len(parts) != 1 or isinstance(parts[0], exp.Block):
        second = text.find(";")
        raise ExprError("expr-multiple-statements",
                        "an expression must be a single SQL expression, not several statements",
                        max(second, 0), "remove the ';' and what follows it")
    return parts[0]


_REQUIRED = re.compile(r"Required keyword: '(\w+)' missing for <class '(?:[\w.]*\.)?(\w+)'>")


def _syntax_error(text: str, error: dict[str, Any], message: str) -> tuple[str, int]:
    """sqlglot's first error in words a KPI author reads, at the token it is about
    (sqlglot gives the column where that token ends)."""
    description = str(error.get("description") or message)
    token = str(error.get("highlight") or "")
    end = _line_col_to_offset(text, error.get("line", 1), error.get("col", 1))
    offset = max(end - len(token) + 1, 0) if text[end - len(token) + 1 : end + 1] == token \
        else end
    if description.startswith("Expecting )"):
        unclosed = _unclosed_paren(text)
        if unclosed is not None:
            return "this '(' is never closed", unclosed
    required = _REQUIRED.match(description)
    if required and required.group(1) != "expression":
        return f"incomplete {required.group(2).upper()} (missing its {required.group(1)})", \
            offset
    if required and not text[offset + len(token) :].strip():
        return f"'{token}' needs something after it", offset
    if required or description.startswith("Invalid expression / Unexpected token"):
        return f"unexpected '{token}'", offset
    return description, offset


def _tokens(text: str) -> list[Token]:
    try:
        return list(Tokenizer().tokenize(text))
    except TokenError:  # pragma: no cover - the text tokenized before
        return []


def _unclosed_paren(text: str) -> int | None:
    opened: list[int] = []
    for token in _tokens(text):
        if token.token_type == TokenType.L_PAREN:
            opened.append(token.start)
        elif token.token_type == TokenType.R_PAREN and opened:
            opened.pop()
    return opened[-1] if opened else None


def _line_col_to_offset(text: str, line: int, col: int) -> int:
    lines = text.split("\n")
    offset = sum(len(x) + 1 for x in lines[: max(line - 1, 0)])
    return max(min(offset + col - 1, len(text)), 0)


def _check(
    text: str,
    tree: exp.Expr,
    nodes: tuple[type[exp.Expr], ...],
    functions: dict[str, type[exp.Expr]],
    names: Collection[str] | None,
    what: str,
    hint: str,
) -> tuple[str, ...]:
    allowed_funcs = tuple(functions.values())
    seen: list[str] = []
    for node in tree.walk():
        if isinstance(node, exp.Column):
            if node.table:
                raise ExprError("expr-forbidden",
                                f"'{node.sql()}' refers to a table; name {what}s alone",
                                _offset(node), f"write '{node.name}'")
            name = node.name if node.this.quoted else node.name.lower()
            if names is not None and name not in names:
                hint = did_you_mean(name, names) or f"known {what}s: " + ", ".join(sorted(names))
                raise ExprError(f"unknown-{what.lower()}", f"unknown {what} '{name}'",
                                _offset(node), hint)
            if name not in seen:
                seen.append(name)
            continue
        if isinstance(node, exp.Alias):
            _alias(text, node)
        if isinstance(node, (*_STATEMENTS, exp.Select, exp.Subquery, exp.Table, exp.Exists)):
            raise ExprError("expr-forbidden",
                            f"{_describe(node)} is not allowed in an expression",
                            _statement_offset(text, node),
                            "an expression computes a value; it cannot read tables or run "
                            "statements")
        if isinstance(node, (exp.Anonymous, exp.Func)) and not isinstance(node, nodes):
            if isinstance(node, allowed_funcs):
                continue
            fname = _function_name(node)
            if isinstance(node, exp.AggFunc):
                advice = (
                    "aggregate with `agg:`; `expr` is computed per row"
                    if what == "field"
                    else "a KPI is already aggregated; refer to it by name"
                )
            else:
                advice = did_you_mean(fname, functions) or "allowed functions: " + ", ".join(
                    sorted(functions)
                )
            raise ExprError(
                "unknown-function",
                f"function '{fname}' is not allowed in an expression",
                _offset(node),
                advice,
            )
        if isinstance(node, exp.DataType):
            if node.this not in CASTS:
                raise ExprError("expr-forbidden", f"cannot cast to {node.sql()}", _offset(node),
                                f"cast to {CAST_NAMES}")
            continue
        if not isinstance(node, nodes):
            at = _token_offset(text, TokenType.DPIPE) if isinstance(node, exp.DPipe) \
                else _offset(node)
            raise ExprError("expr-forbidden",
                            f"{_describe(node)} is not allowed in an expression", at, hint)
    return tuple(seen)


def _alias(text: str, node: exp.Alias) -> None:
    """`likes comments` parses as `likes AS comments`: almost always a missing operator."""
    ident = node.args.get("alias")
    at = _offset(ident) if ident is not None else _offset(node)
    tokens = _tokens(text)
    before = [t for t in tokens if t.start < at]
    if before and before[-1].token_type == TokenType.ALIAS:
        raise ExprError("expr-forbidden",
                        f"an alias ('AS {node.alias}') is not allowed in an expression",
                        before[-1].start, "remove it: a KPI's column is named after the KPI")
    raise ExprError("expr-syntax",
                    f"cannot parse expression: an operator is missing before '{node.alias}'",
                    at, "write e.g. `likes + comments`, not `likes comments`")


#: deepest nesting of parentheses a user expression may have: sqlglot's parser recurses per
#: level, and no KPI needs more than a handful
MAX_DEPTH = 24
#: longest user expression, in characters
MAX_LENGTH = 10_000


def _limits(text: str) -> None:
    if len(text) > MAX_LENGTH:
        raise ExprError("expr-too-long", f"expression is {len(text):,} characters long "
                        f"(at most {MAX_LENGTH:,})", MAX_LENGTH,
                        "split it into several KPIs and combine them with a derived KPI")
    depth = 0
    for token in _tokens(text):
        if token.token_type == TokenType.L_PAREN:
            depth += 1
            if depth > MAX_DEPTH:
                raise ExprError("expr-too-deep", f"expression nests parentheses more than "
                                f"{MAX_DEPTH} deep", token.start,
                                "remove redundant parentheses, or split it into KPIs")
        elif token.token_type == TokenType.R_PAREN:
            depth = max(depth - 1, 0)


def _tree_depth(tree: exp.Expr) -> int:
    deepest = 0
    stack = [(tree, 1)]
    while stack:
        node, depth = stack.pop()
        deepest = max(deepest, depth)
        stack.extend((child, depth + 1) for child in node.iter_expressions())
    return deepest


class _AnyName(Mapping[str, Type]):
    """Derived KPIs name other KPIs, checked later against the catalog: every name is a
    number here."""

    def __getitem__(self, key: str) -> Type:
        return "number"

    def __contains__(self, key: object) -> bool:
        return isinstance(key, str)

    def __iter__(self) -> Iterator[str]:
        return iter(())

    def __len__(self) -> int:
        return 0


def _field_types(fields: Collection[str] | Mapping[str, Any] | None) -> Mapping[str, Type]:
    if fields is None:
        return _AnyName()
    if isinstance(fields, Mapping):
        return {str(name): FIELD_TYPES[str(getattr(f, "type", f))]
                for name, f in fields.items()}
    return {name: _CANONICAL_TYPES.get(name, "text") for name in fields}


_CANONICAL_TYPES: dict[str, Type] = {
    name: FIELD_TYPES[f.type]
    for source in reversed(list(canonical.SOURCES.values()))
    for name, f in source.fields.items()
}


def _build(text: str, tree: exp.Expr, fields: Mapping[str, Type], what: str,
           want: tuple[Type, ...] | None, safe_division: bool) -> tuple[exp.Expr, Type]:
    """The expression as kpiframe rebuilds it: no parsed node reaches the SQL."""
    if _tree_depth(tree) > 4 * MAX_DEPTH:
        raise ExprError("expr-too-deep", "expression is nested too deeply", 0,
                        "split it into several KPIs and combine them with a derived KPI")
    builder = Builder(fields, what, safe_division)
    try:
        built = builder.build(tree)
        if want is not None and built.type != "null" and built.type not in want:
            raise BuildError(
                "expr-type", f"{_WANTED[want]}, but this is "
                f"{'a ' if built.type in ('number', 'date', 'timestamp') else ''}"
                f"{'condition' if built.type == 'boolean' else built.type}",
                tree, type_hint(built.type, want))
    except BuildError as error:
        at = _locate(text, error.node) if error.node is not None else 0
        raise ExprError(error.rule, error.message, at, error.hint) from None
    return built.tree, built.type


def _locate(text: str, node: exp.Expr) -> int:
    """Where a node starts. Names inside a type or a date part carry no position: find
    their token by its text."""
    if any("start" in (getattr(n, "_meta", None) or {}) for n in node.walk()):
        return _offset(node)
    name = node.name if isinstance(node, (exp.Var, exp.Identifier, exp.Literal)) else ""
    for token in _tokens(text):
        if name and token.text.upper() == name.upper():
            return token.start
    return 0


_WANTED: dict[tuple[Type, ...], str] = {
    ("boolean",): "a filter must be a condition (true or false)",
    ("number",): "this expression must compute a number",
}


@lru_cache(maxsize=65536)
def _row_expr(text: str, fields: tuple[tuple[str, Type], ...] | None, what: str,
              want: tuple[Type, ...] | None) -> Expr:
    _limits(text)
    tree = _parse(text).copy()
    names = _check(text, tree, _ROW_NODES, ROW_FUNCTIONS,
                   None if fields is None else dict(fields), what, _ROW_HINT)
    types = _AnyName() if fields is None else dict(fields)
    built, kind = _build(text, tree, types, what, want, safe_division=True)
    return Expr(text, built, names, kind, _offsets(tree))


def row_expr(text: str, fields: Collection[str] | Mapping[str, Any] | None = None,
             what: str = "field", want: tuple[Type, ...] | None = None) -> Expr:
    """A row-level expression (`expr`, `filter`, `--where`) over `fields` (None: any name),
    rebuilt by kpiframe and typed; `want` the types its place accepts."""
    types = None if fields is None else tuple(sorted(_field_types(fields).items()))
    return _row_expr(text, types, what, want)


_KPI_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_]{0,62}$")


def _quote_names(text: str) -> tuple[str, list[tuple[int, int]]]:
    """A derived expression names KPIs, and a KPI may be called `call` or `order`: SQL
    keywords that would parse as something else. Every bare word that is not a function
    call is quoted before parsing. Returns the new text and (new offset, shift) pairs to
    map positions back to what the user wrote."""
    tokens = _tokens(text)
    out: list[str] = []
    shifts: list[tuple[int, int]] = []
    last = 0
    shift = 0
    for index, token in enumerate(tokens):
        following = tokens[index + 1] if index + 1 < len(tokens) else None
        is_call = following is not None and following.token_type == TokenType.L_PAREN
        raw = text[token.start : token.end + 1]
        if is_call or token.token_type in (TokenType.IDENTIFIER, TokenType.STRING,
                                           TokenType.NUMBER) or not _KPI_NAME.match(raw):
            continue
        out.append(text[last : token.start])
        out.append(f'"{raw.lower()}"')
        last = token.end + 1
        shifts.append((token.start + shift, shift))
        shift += 2
        shifts.append((token.end + 1 + shift, shift))
    out.append(text[last:])
    return "".join(out), shifts


def _back(offset: int, shifts: list[tuple[int, int]]) -> int:
    """An offset in the quoted text, as an offset in the text the user wrote."""
    moved = 0
    for start, shift in shifts:
        if offset >= start:
            moved = shift
    return max(offset - moved, 0)


@lru_cache(maxsize=65536)
def _kpi_expr(text: str) -> Expr:
    _limits(text)
    quoted, shifts = _quote_names(text)
    try:
        tree = _parse(quoted).copy()
        names = _check(quoted, tree, _DERIVED_NODES, DERIVED_FUNCTIONS, None, "KPI",
                       _DERIVED_HINT)
        built, kind = _build(quoted, tree, _AnyName(), "KPI", ("number",), safe_division=False)
    except ExprError as error:
        raise ExprError(error.rule, error.message, _back(error.offset, shifts),
                        error.hint) from None
    offsets = {name: _back(at, shifts) for name, at in _offsets(tree).items()}
    return Expr(text, built, names, kind, offsets)


def wanted(key: str, agg: str | None = None) -> tuple[Type, ...] | None:
    """What a KPI's `filter` or `expr` must compute: a condition; a number to aggregate
    (anything goes for `count` and `count_distinct`, which only count values)."""
    if key == "filter":
        return ("boolean",)
    if agg in ("count", "count_distinct"):
        return None
    return ("number",)


def kpi_expr(text: str) -> Expr:
    """A derived KPI's expression over other KPI names."""
    return _kpi_expr(text)


def _offsets(tree: exp.Expr) -> dict[str, int]:
    """Where each name is first referred to in the text (the rebuilt tree has no positions)."""
    found: dict[str, int] = {}
    for column in tree.find_all(exp.Column):
        name = column.name if column.this.quoted else column.name.lower()
        at = _offset(column)
        found[name] = min(found.get(name, at), at)
    return found


def names_of(tree: exp.Expr) -> list[str]:
    return [c.name for c in tree.find_all(exp.Column)]
