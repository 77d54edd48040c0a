"""What kind of number a row expression gives: a whole number, an exact decimal, or other.

`agg: last` orders a source's rows by (time, value). An engine compares a pair of
columns much more slowly than one number, so where both are whole numbers the dialect
adapter packs them into one (adapters.py). That is only exact when the value is known to
be a whole number, which this module decides from the canonical field types, the way
the engines type the expression: conservatively, "other" whenever it is not certain.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Literal

from sqlglot import exp

from kpiframe import canonical

Kind = Literal["integer", "decimal", "other"]

_WHOLE_TYPES = frozenset({
    exp.DataType.Type.BIGINT, exp.DataType.Type.INT, exp.DataType.Type.SMALLINT,
    exp.DataType.Type.TINYINT,
})
_DECIMAL_TYPES = frozenset({exp.DataType.Type.DECIMAL})
_RANK: dict[Kind, int] = {"integer": 0, "decimal": 1, "other": 2}


def _widest(kinds: list[Kind]) -> Kind:
    return max(kinds, key=_RANK.__getitem__) if kinds else "other"


def value_kind(tree: exp.Expr, fields: Mapping[str, canonical.Field]) -> Kind:
    """The kind of number `tree` computes over a source whose fields are `fields`.

    Sums, differences and products of whole numbers are whole; with an exact decimal
    among them, exact decimals. A division, a function or a field of another type gives
    "other"."""
    if isinstance(tree, exp.Column):
        field = fields.get(tree.name)
        if field is not None and field.type == "integer":
            return "integer"
        return "decimal" if field is not None and field.type == "decimal" else "other"
    if isinstance(tree, exp.Literal):
        text = "" if tree.is_string else str(tree.this)
        if text.isdigit():
            return "integer"
        whole, dot, fraction = text.partition(".")
        return "decimal" if dot and (whole + fraction).isdigit() else "other"
    if isinstance(tree, (exp.Paren, exp.Neg)):
        return value_kind(tree.this, fields)
    if isinstance(tree, (exp.Add, exp.Sub, exp.Mul)):
        return _widest([value_kind(tree.this, fields), value_kind(tree.expression, fields)])
    if isinstance(tree, exp.Cast):
        to = tree.to.this
        if to in _WHOLE_TYPES:
            return "integer"
        return "decimal" if to in _DECIMAL_TYPES else "other"
    if isinstance(tree, exp.Coalesce):
        parts = [tree.this, *tree.expressions]
        return _widest([value_kind(p, fields) for p in parts if not isinstance(p, exp.Null)])
    if isinstance(tree, exp.Case):
        results = [w.args["true"] for w in tree.args.get("ifs") or []]
        if tree.args.get("default") is not None:
            results.append(tree.args["default"])
        return _widest([value_kind(r, fields) for r in results if not isinstance(r, exp.Null)])
    return "other"
