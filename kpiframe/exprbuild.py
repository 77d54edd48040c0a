"""Rebuild a checked user expression from structures kpiframe controls, typing it as it goes.

The allow-list in `expressions` decides which node types a user may write; it cannot
decide what sqlglot prints for the text inside them. `CAST(x AS DECIMAL("…"))` and
`extract("…" FROM x)` are allowed node types whose identifier text sqlglot prints raw. So
no parsed node reaches the SQL: every node is built anew here from the parts that are
safe by construction (a known field's name, a string literal's value, a number that
parses as a finite decimal, a type from a fixed list with integer parameters, a date
part from a fixed keyword set). A node type this module does not know cannot be built,
whatever the allow-list says.

Types are inferred on the same walk, so `filter: likes` (a number where a condition is
needed) or `'a' + 1` is a located error at validation instead of an engine error or a
different meaning on each engine. Row-level division is built as the NULL-safe division
ratios use: a zero denominator gives NULL, never infinity, an error or a wrong number.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any
from typing import Literal as TypingLiteral

from sqlglot import exp

Type = TypingLiteral["number", "text", "boolean", "date", "timestamp", "null"]

#: canonical field type -> expression type
FIELD_TYPES: Mapping[str, Type] = {
    "integer": "number",
    "decimal": "number",
    "double": "number",
    "text": "text",
    "boolean": "boolean",
    "date": "date",
    "timestamp": "timestamp",
}

#: cast targets a user may name, with the parameters each takes and the type it gives
CASTS: Mapping[Any, tuple[int, Type]] = {
    exp.DataType.Type.INT: (0, "number"),
    exp.DataType.Type.BIGINT: (0, "number"),
    exp.DataType.Type.SMALLINT: (0, "number"),
    exp.DataType.Type.DOUBLE: (0, "number"),
    exp.DataType.Type.FLOAT: (0, "number"),
    exp.DataType.Type.DECIMAL: (2, "number"),
    exp.DataType.Type.TEXT: (0, "text"),
    exp.DataType.Type.VARCHAR: (1, "text"),
    exp.DataType.Type.BOOLEAN: (0, "boolean"),
    exp.DataType.Type.DATE: (0, "date"),
    exp.DataType.Type.TIMESTAMP: (0, "timestamp"),
}
CAST_NAMES = "INT, BIGINT, SMALLINT, DOUBLE, FLOAT, DECIMAL(p, s), TEXT, VARCHAR(n), BOOLEAN, " \
    "DATE or TIMESTAMP"

#: date parts `extract` accepts, spelled as every engine knows them
DATE_PARTS = ("year", "quarter", "month", "week", "day", "dow", "doy", "hour", "minute",
              "second")

_NUMBER = re.compile(r"^(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$")
_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,62}$")
DOUBLE = exp.DataType.Type.DOUBLE


class BuildError(Exception):
    """Raised with the node it is about, so the caller can locate it in the text."""

    def __init__(self, rule: str, message: str, node: exp.Expr | None, hint: str | None) -> None:
        super().__init__(message)
        self.rule = rule
        self.message = message
        self.node = node
        self.hint = hint


def safe_div(numerator: exp.Expr, denominator: exp.Expr) -> exp.Expr:
    """Divide as doubles; a zero or NULL denominator gives NULL on every engine."""
    return exp.Div(
        this=exp.cast(numerator, DOUBLE),
        expression=exp.Nullif(this=exp.cast(denominator, DOUBLE),
                              expression=exp.Literal.number(0)),
    )


def safe_mod(left: exp.Expr, right: exp.Expr) -> exp.Expr:
    """`x % 0` is NULL on some engines and an error on others: make it NULL everywhere."""
    return exp.Mod(this=left, expression=exp.Nullif(this=right, expression=exp.Literal.number(0)))


@dataclass(frozen=True)
class Built:
    tree: exp.Expr
    type: Type


_COMPARABLE: Mapping[Type, frozenset[Type]] = {
    "number": frozenset({"number"}),
    "text": frozenset({"text", "date", "timestamp"}),
    "boolean": frozenset({"boolean"}),
    "date": frozenset({"date", "timestamp", "text"}),
    "timestamp": frozenset({"date", "timestamp", "text"}),
}


def _article(kind: Type) -> str:
    return {"number": "a number", "text": "text", "boolean": "a condition (true/false)",
            "date": "a date", "timestamp": "a timestamp", "null": "NULL"}[kind]


class Builder:
    """One expression's rebuild. `fields` maps each name the expression may use to its type;
    `safe_division` builds `/` NULL-safe (row expressions; derived KPIs are made safe later,
    when their operands become subqueries)."""

    def __init__(self, fields: Mapping[str, Type], what: str, safe_division: bool) -> None:
        self.fields = fields
        self.what = what
        self.safe_division = safe_division

    # -- entry -------------------------------------------------------------------------

    def build(self, node: exp.Expr) -> Built:
        handler = _HANDLERS.get(type(node))
        if handler is None:
            raise BuildError("expr-forbidden", f"'{node.key}' is not allowed in an expression",
                             node, None)
        for key, value in node.args.items():
            # a flag that changes the meaning (NOT LIKE's negate) must be one a handler reads
            if value is True and key not in _FLAGS.get(type(node), ("this",)):
                raise BuildError("expr-forbidden", f"this form of '{node.key}' is not allowed "
                                 "in an expression", node, None)
        return handler(self, node)

    def expect(self, node: exp.Expr | None, *kinds: Type, role: str) -> exp.Expr:
        if node is None:
            raise BuildError("expr-syntax", f"{role} is missing", None, None)
        built = self.build(node)
        if built.type != "null" and built.type not in kinds:
            wanted = " or ".join(_article(k) for k in kinds)
            raise BuildError(
                "expr-type", f"{role} must be {wanted}, but '{_short(node)}' is "
                f"{_article(built.type)}", node, type_hint(built.type, kinds))
        return built.tree

    # -- leaves ------------------------------------------------------------------------

    def column(self, node: exp.Column) -> Built:
        ident = node.this
        if node.table or not isinstance(ident, exp.Identifier):
            raise BuildError("expr-forbidden", f"'{_short(node)}' is not a plain {self.what} "
                             "name", node, None)
        name = ident.name if ident.quoted else ident.name.lower()
        if name not in self.fields or not _NAME.match(name):
            raise BuildError(f"unknown-{self.what.lower()}", f"unknown {self.what} '{name}'",
                             node, None)
        return Built(exp.column(exp.to_identifier(name, quoted=True)), self.fields[name])

    def literal(self, node: exp.Literal) -> Built:
        text = str(node.this)
        if node.is_string:
            return Built(exp.Literal.string(text), "text")
        if not _NUMBER.match(text):
            raise BuildError("expr-forbidden", f"'{text}' is not a number", node, None)
        try:
            value = Decimal(text)
        except InvalidOperation:  # pragma: no cover - the pattern admits only decimals
            raise BuildError("expr-forbidden", f"'{text}' is not a number", node, None) from None
        if not math.isfinite(float(value)):
            raise BuildError("expr-forbidden", f"the number {text[:20]} is out of range", node,
                             "write a finite number")
        return Built(exp.Literal.number(text), "number")

    def boolean(self, node: exp.Boolean) -> Built:
        return Built(exp.Boolean(this=bool(node.this)), "boolean")

    def null(self, node: exp.Null) -> Built:
        return Built(exp.Null(), "null")

    # -- operators ---------------------------------------------------------------------

    def paren(self, node: exp.Paren) -> Built:
        inner = self.build(node.this)
        return Built(exp.Paren(this=inner.tree), inner.type)

    def neg(self, node: exp.Neg) -> Built:
        return Built(exp.Neg(this=self.expect(node.this, "number", role="'-'")), "number")

    def arithmetic(self, node: exp.Binary) -> Built:
        symbol = {exp.Add: "+", exp.Sub: "-", exp.Mul: "*", exp.Div: "/", exp.Mod: "%"}[
            type(node)]
        left = self.expect(node.this, "number", role=f"each side of '{symbol}'")
        right = self.expect(node.expression, "number", role=f"each side of '{symbol}'")
        if isinstance(node, exp.Div):
            tree = safe_div(left, right) if self.safe_division else \
                exp.Div(this=left, expression=right)
            return Built(tree, "number")
        if isinstance(node, exp.Mod):
            return Built(safe_mod(left, right), "number")
        return Built(type(node)(this=left, expression=right), "number")

    def comparison(self, node: exp.Binary) -> Built:
        left, right = self.build(node.this), self.build(node.expression)
        self.comparable(node, left.type, right.type)
        return Built(type(node)(this=left.tree, expression=right.tree), "boolean")

    def comparable(self, node: exp.Expr, left: Type, right: Type) -> None:
        if "null" in (left, right) or right in _COMPARABLE[left]:
            return
        raise BuildError("expr-type", f"'{_short(node)}' compares {_article(left)} with "
                         f"{_article(right)}", node,
                         "compare values of one kind; CAST one side if you must")

    def logic(self, node: exp.Binary) -> Built:
        word = "AND" if isinstance(node, exp.And) else "OR"
        left = self.expect(node.this, "boolean", role=f"each side of {word}")
        right = self.expect(node.expression, "boolean", role=f"each side of {word}")
        return Built(type(node)(this=left, expression=right), "boolean")

    def not_(self, node: exp.Not) -> Built:
        return Built(exp.Not(this=self.expect(node.this, "boolean", role="NOT's operand")),
                     "boolean")

    def in_(self, node: exp.In) -> Built:
        if node.args.get("query") or node.args.get("unnest") or node.args.get("field"):
            raise BuildError("expr-forbidden", "IN takes a list of values here", node,
                             "write e.g. `platform IN ('x', 'facebook')`")
        this = self.build(node.this)
        items = []
        for item in node.expressions:
            built = self.build(item)
            self.comparable(node, this.type, built.type)
            items.append(built.tree)
        if not items:
            raise BuildError("expr-syntax", "IN needs at least one value", node, None)
        return Built(exp.In(this=this.tree, expressions=items), "boolean")

    def between(self, node: exp.Between) -> Built:
        this = self.build(node.this)
        low, high = self.build(node.args["low"]), self.build(node.args["high"])
        self.comparable(node, this.type, low.type)
        self.comparable(node, this.type, high.type)
        return Built(exp.Between(this=this.tree, low=low.tree, high=high.tree), "boolean")

    def is_(self, node: exp.Is) -> Built:
        this = self.build(node.this)
        other = node.expression
        if isinstance(other, exp.Null):
            right: exp.Expr = exp.Null()
        elif isinstance(other, exp.Boolean) and this.type in ("boolean", "null"):
            right = exp.Boolean(this=bool(other.this))
        else:
            raise BuildError("expr-forbidden", "IS may only be followed by [NOT] NULL, TRUE or "
                             "FALSE", node, None)
        return Built(exp.Is(this=this.tree, expression=right), "boolean")

    def like(self, node: exp.Like | exp.ILike) -> Built:
        word = "LIKE" if isinstance(node, exp.Like) else "ILIKE"
        left = self.expect(node.this, "text", role=f"{word}'s left side")
        right = self.expect(node.expression, "text", role=f"{word}'s pattern")
        built: exp.Expr = type(node)(this=left, expression=right)
        # `x NOT LIKE p` is a LIKE with negate set: dropping it meant x LIKE p
        return Built(exp.Not(this=built) if node.args.get("negate") else built, "boolean")

    def case(self, node: exp.Case) -> Built:
        if node.this is not None:  # CASE x WHEN v THEN ...: compare x with each v
            subject = self.build(node.this)
        ifs: list[exp.Expr] = []
        kinds: list[tuple[exp.Expr, Type]] = []
        for branch in node.args.get("ifs") or []:
            if not isinstance(branch, exp.If):
                raise BuildError("expr-forbidden", "unexpected CASE branch", branch, None)
            if node.this is not None:
                value = self.build(branch.this)
                self.comparable(branch, subject.type, value.type)
                condition = value.tree
            else:
                condition = self.expect(branch.this, "boolean", role="a WHEN condition")
            result = self.build(branch.args["true"])
            kinds.append((branch.args["true"], result.type))
            ifs.append(exp.If(this=condition, true=result.tree))
        default = node.args.get("default")
        built_default = None
        if default is not None:
            d = self.build(default)
            kinds.append((default, d.type))
            built_default = d.tree
        kind = self.unify(node, kinds)
        return Built(exp.Case(this=subject.tree if node.this is not None else None, ifs=ifs,
                              default=built_default), kind)

    def if_(self, node: exp.If) -> Built:
        condition = self.expect(node.this, "boolean", role="IF's condition")
        true = self.build(node.args["true"])
        kinds = [(node.args["true"], true.type)]
        false_node = node.args.get("false")
        false = self.build(false_node) if false_node is not None else None
        if false is not None and false_node is not None:
            kinds.append((false_node, false.type))
        # built as the CASE it means: every engine reads CASE, while sqlglot's IF spelling
        # for some (Exasol's IF ... ENDIF) does not read back after a parenthesised condition
        case = exp.Case().when(condition, true.tree, copy=False)
        if false is not None:
            case = case.else_(false.tree, copy=False)
        return Built(case, self.unify(node, kinds))

    def unify(self, node: exp.Expr, kinds: list[tuple[exp.Expr, Type]]) -> Type:
        known = [(n, k) for n, k in kinds if k != "null"]
        if not known:
            return "null"
        first = known[0][1]
        for other, kind in known[1:]:
            if kind != first and not {kind, first} <= {"date", "timestamp"}:
                raise BuildError("expr-type", f"'{_short(node)}' mixes {_article(first)} and "
                                 f"{_article(kind)}", other, "give every branch one kind of value")
        return first

    # -- CAST and EXTRACT: the two places sqlglot prints user text raw ----------------

    def cast(self, node: exp.Cast) -> Built:
        this = self.build(node.this)
        target = node.args.get("to")
        if not isinstance(target, exp.DataType) or target.this not in CASTS:
            raise BuildError("expr-forbidden", f"cannot cast to {_short(target)}", target or node,
                             f"cast to {CAST_NAMES}")
        arity, kind = CASTS[target.this]
        params = [self.type_param(p, node) for p in target.expressions]
        if len(params) > arity:
            raise BuildError("expr-forbidden", f"{target.this.value} takes at most {arity} "
                             "parameter(s)", target, f"cast to {CAST_NAMES}")
        if target.this == exp.DataType.Type.DECIMAL and params and (
                params[0] < 1 or params[0] > 38 or (len(params) > 1 and params[1] > params[0])):
            raise BuildError("expr-forbidden", "DECIMAL(p, s) needs 1 ≤ p ≤ 38 and s ≤ p",
                             target, "e.g. DECIMAL(18, 2)")
        if target.this == exp.DataType.Type.VARCHAR and params and not 1 <= params[0] <= 65535:
            raise BuildError("expr-forbidden", "VARCHAR(n) needs 1 ≤ n ≤ 65535", target, None)
        built_type = exp.DataType(
            this=target.this,
            expressions=[exp.DataTypeParam(this=exp.Literal.number(p)) for p in params],
            nested=False,
        )
        return Built(exp.Cast(this=this.tree, to=built_type), kind)

    def type_param(self, param: exp.Expr, node: exp.Expr) -> int:
        inner = param.this if isinstance(param, exp.DataTypeParam) else param
        if isinstance(inner, exp.Literal) and not inner.is_string and inner.this.isdigit() \
                and len(inner.this) <= 5:
            return int(inner.this)
        raise BuildError("expr-forbidden", "a type's parameters must be whole numbers",
                         inner if isinstance(inner, exp.Expr) else node, "e.g. DECIMAL(18, 2)")

    def extract(self, node: exp.Extract) -> Built:
        unit = node.this
        name = unit.name.lower() if isinstance(unit, (exp.Var, exp.Column, exp.Identifier,
                                                       exp.Literal)) else ""
        if name not in DATE_PARTS:
            raise BuildError("expr-forbidden", f"extract: unknown date part '{_short(unit)}'",
                             unit, "date parts: " + ", ".join(DATE_PARTS))
        value = self.expect(node.expression, "date", "timestamp", role="extract's argument")
        return Built(exp.Extract(this=exp.var(name.upper()), expression=value), "number")

    # -- functions ---------------------------------------------------------------------

    def function(self, node: exp.Func) -> Built:
        spec = _FUNCTIONS[type(node)]
        name = node.sql_name().lower()
        allowed = set(spec.args)
        for key, value in node.args.items():
            if value is None or value == [] or value is False:
                continue
            if key not in allowed:
                raise BuildError("expr-forbidden", f"{name}: this form is not allowed", node,
                                 f"write {name}({', '.join(spec.args)})")
        args: dict[str, exp.Expr | list[exp.Expr]] = {}
        kinds: list[tuple[exp.Expr, Type]] = []
        for key, wanted in spec.args.items():
            value = node.args.get(key)
            if value is None:
                continue
            values = value if isinstance(value, list) else [value]
            built = []
            for item in values:
                if wanted == "same":
                    b = self.build(item)
                    kinds.append((item, b.type))
                    built.append(b.tree)
                else:
                    built.append(self.expect(item, wanted, role=f"{name}'s argument"))
            args[key] = built if isinstance(value, list) else built[0]
        kind = spec.result if spec.result != "same" else self.unify(node, kinds)
        return Built(type(node)(**args), kind)


@dataclass(frozen=True)
class _Function:
    #: argument key -> the type it needs ("same": any, all alike; the result then)
    args: Mapping[str, Type | TypingLiteral["same"]]
    result: Type | TypingLiteral["same"]


_NUM: Mapping[str, Type] = {"this": "number"}
_FUNCTIONS: Mapping[type[exp.Expr], _Function] = {
    exp.Coalesce: _Function({"this": "same", "expressions": "same"}, "same"),
    exp.Nullif: _Function({"this": "same", "expression": "same"}, "same"),
    exp.Least: _Function({"this": "same", "expressions": "same"}, "same"),
    exp.Greatest: _Function({"this": "same", "expressions": "same"}, "same"),
    exp.Abs: _Function(_NUM, "number"),
    exp.Round: _Function({"this": "number", "decimals": "number"}, "number"),
    exp.Floor: _Function(_NUM, "number"),
    exp.Ceil: _Function(_NUM, "number"),
    exp.Sqrt: _Function(_NUM, "number"),
    exp.Ln: _Function(_NUM, "number"),
    exp.Exp: _Function(_NUM, "number"),
    exp.Sign: _Function(_NUM, "number"),
    exp.Pow: _Function({"this": "number", "expression": "number"}, "number"),
    exp.Lower: _Function({"this": "text"}, "text"),
    exp.Upper: _Function({"this": "text"}, "text"),
    exp.Trim: _Function({"this": "text"}, "text"),
    exp.Length: _Function({"this": "text"}, "number"),
    exp.Substring: _Function({"this": "text", "start": "number", "length": "number"}, "text"),
}


def _short(node: exp.Expr | None) -> str:
    if node is None:
        return "?"
    try:
        text = node.sql()
    except Exception:
        text = node.key
    return text if len(text) <= 40 else text[:37] + "..."


def type_hint(found: Type, wanted: tuple[Type, ...]) -> str:
    if "boolean" in wanted and found != "boolean":
        return "a condition compares something, e.g. `likes > 0` or `is_paid = true`"
    if "number" in wanted and found == "text":
        return "CAST it to a number, or use a numeric field"
    return "use a value of the kind this place needs"


#: the boolean flags each node's handler honours (any other set flag is refused)
_FLAGS: dict[type[exp.Expr], tuple[str, ...]] = {
    exp.Like: ("negate",), exp.ILike: ("negate",), exp.Literal: ("is_string",),
    exp.Identifier: ("quoted",), exp.Boolean: ("this",),
}

_Handler = Callable[[Builder, exp.Expr], Built]
_HANDLERS: dict[type[exp.Expr], _Handler] = {
    exp.Column: Builder.column,  # type: ignore[dict-item]
    exp.Literal: Builder.literal,  # type: ignore[dict-item]
    exp.Boolean: Builder.boolean,  # type: ignore[dict-item]
    exp.Null: Builder.null,  # type: ignore[dict-item]
    exp.Paren: Builder.paren,  # type: ignore[dict-item]
    exp.Neg: Builder.neg,  # type: ignore[dict-item]
    exp.Not: Builder.not_,  # type: ignore[dict-item]
    exp.In: Builder.in_,  # type: ignore[dict-item]
    exp.Between: Builder.between,  # type: ignore[dict-item]
    exp.Is: Builder.is_,  # type: ignore[dict-item]
    exp.Like: Builder.like,  # type: ignore[dict-item]
    exp.ILike: Builder.like,  # type: ignore[dict-item]
    exp.Case: Builder.case,  # type: ignore[dict-item]
    exp.If: Builder.if_,  # type: ignore[dict-item]
    exp.Cast: Builder.cast,  # type: ignore[dict-item]
    exp.Extract: Builder.extract,  # type: ignore[dict-item]
    exp.And: Builder.logic,  # type: ignore[dict-item]
    exp.Or: Builder.logic,  # type: ignore[dict-item]
}
_HANDLERS.update(dict.fromkeys((exp.Add, exp.Sub, exp.Mul, exp.Div, exp.Mod),
                               Builder.arithmetic))  # type: ignore[arg-type]
_HANDLERS.update(dict.fromkeys((exp.EQ, exp.NEQ, exp.GT, exp.GTE, exp.LT, exp.LTE),
                               Builder.comparison))  # type: ignore[arg-type]
for _fn in _FUNCTIONS:
    _HANDLERS[_fn] = Builder.function  # type: ignore[assignment]
