"""A yes/no JSON Schema check compiled to plain Python closures: the fast path for valid
items.

jsonschema walks the schema for every instance (about 33 `descend` calls per KPI, each
building a new validator), which is most of the cost of validating a large catalog where
nearly every KPI is valid. This module compiles the same schema once into nested
closures that only answer "valid or not". jsonschema stays the authority: whatever this
says is invalid is handed to it for the located error detail, so this check may be
stricter than jsonschema but must never accept what jsonschema rejects
(tests/test_schema_fastpath.py compares the two).

Only the keywords kpiframe's own schemas use are compiled; a schema with any other
keyword raises `Unsupported`, and the caller keeps to jsonschema alone.
"""

from __future__ import annotations

import numbers
import re
from collections.abc import Callable, Mapping, Sequence
from typing import Any

Check = Callable[[Any], bool]

#: keywords that never affect validity
_ANNOTATIONS = frozenset({"$schema", "$id", "$comment", "title", "description", "default",
                          "examples", "deprecated", "readOnly", "writeOnly", "format"})


class Unsupported(Exception):
    """The schema uses a keyword this compiler does not know."""


def _is_integer(value: Any) -> bool:
    if isinstance(value, bool):
        return False
    if isinstance(value, float):
        return value.is_integer()
    return isinstance(value, int)


def _is_number(value: Any) -> bool:
    return not isinstance(value, bool) and isinstance(value, numbers.Number)


#: JSON types as jsonschema's draft 2020-12 type checker sees Python values
_TYPES: dict[str, Check] = {
    "object": lambda v: isinstance(v, dict),
    "array": lambda v: isinstance(v, list),
    "string": lambda v: isinstance(v, str),
    "boolean": lambda v: isinstance(v, bool),
    "null": lambda v: v is None,
    "integer": _is_integer,
    "number": _is_number,
}


def _unbool(value: Any) -> Any:
    """`true` and `false` as values equal to no number."""
    if value is True:
        return _TRUE
    if value is False:
        return _FALSE
    return value


_TRUE, _FALSE = object(), object()


def equal(one: Any, two: Any) -> bool:
    """JSON equality as jsonschema's `enum`, `const` and `uniqueItems` see it: `true` is
    not `1`, lists and mappings compare item by item."""
    if one is two:
        return True
    if isinstance(one, str) or isinstance(two, str):
        return bool(one == two)
    if isinstance(one, Sequence) and isinstance(two, Sequence):
        return len(one) == len(two) and all(
            equal(a, b) for a, b in zip(one, two, strict=True))
    if isinstance(one, Mapping) and isinstance(two, Mapping):
        return len(one) == len(two) and all(
            key in two and equal(value, two[key]) for key, value in one.items())
    return bool(_unbool(one) == _unbool(two))


def _unique(items: list[Any]) -> bool:
    """No two items `equal`: compared pairwise, so at least as strict as jsonschema."""
    if all(type(i) is str for i in items):
        return len(set(items)) == len(items)
    return not any(equal(items[i], items[j])
                   for i in range(len(items)) for j in range(i + 1, len(items)))


class _Compiler:
    def __init__(self, root: Mapping[str, Any]) -> None:
        self.root = root
        #: compiled `$ref` targets by pointer; a list cell so recursive refs can bind late
        self.refs: dict[str, list[Check]] = {}

    def ref(self, pointer: str) -> Check:
        if not pointer.startswith("#/"):
            raise Unsupported(f"$ref {pointer!r}")
        cell = self.refs.get(pointer)
        if cell is None:
            cell = self.refs[pointer] = []
            target: Any = self.root
            for part in pointer[2:].split("/"):
                part = part.replace("~1", "/").replace("~0", "~")
                try:
                    target = target[part]
                except (KeyError, TypeError):
                    raise Unsupported(f"$ref {pointer!r} does not resolve") from None
            cell.append(self.compile(target))
        return lambda value: cell[0](value)

    def compile(self, schema: Any) -> Check:
        if schema is True or schema == {}:
            return lambda value: True
        if schema is False:
            return lambda value: False
        if not isinstance(schema, Mapping):
            raise Unsupported(f"schema {schema!r}")
        checks: list[Check] = []
        for key, arg in schema.items():
            if key in _ANNOTATIONS or key in ("$defs", "then", "else"):
                continue
            checks.append(self.keyword(key, arg, schema))
        if not checks:
            return lambda value: True
        if len(checks) == 1:
            return checks[0]
        return lambda value: all(check(value) for check in checks)

    def keyword(self, key: str, arg: Any, schema: Mapping[str, Any]) -> Check:
        if key == "type":
            names = [arg] if isinstance(arg, str) else list(arg)
            tests = [_TYPES[n] for n in names]
            return lambda value: any(t(value) for t in tests)
        if key == "enum":
            options = list(arg)
            return lambda value: any(equal(value, o) for o in options)
        if key == "const":
            return lambda value: equal(value, arg)
        if key == "$ref":
            return self.ref(arg)
        if key == "properties":
            props = [(name, self.compile(sub)) for name, sub in arg.items()]

            def properties(value: Any) -> bool:
                if not isinstance(value, dict):
                    return True
                return all(check(value[name]) for name, check in props if name in value)
            return properties
        if key == "required":
            names = list(arg)
            return lambda value: not isinstance(value, dict) or all(n in value for n in names)
        if key == "additionalProperties":
            if "patternProperties" in schema:
                raise Unsupported("patternProperties")
            known = frozenset(schema.get("properties", {}))
            extra = self.compile(arg)
            return lambda value: not isinstance(value, dict) or all(
                extra(v) for k, v in value.items() if k not in known)
        if key == "propertyNames":
            names_check = self.compile(arg)
            return lambda value: not isinstance(value, dict) or all(
                names_check(k) for k in value)
        if key == "items":
            if "prefixItems" in schema:
                raise Unsupported("prefixItems")
            item = self.compile(arg)
            return lambda value: not isinstance(value, list) or all(item(v) for v in value)
        if key in ("minItems", "maxItems"):
            bound = int(arg)
            if key == "minItems":
                return lambda value: not isinstance(value, list) or len(value) >= bound
            return lambda value: not isinstance(value, list) or len(value) <= bound
        if key == "uniqueItems":
            if not arg:
                return lambda value: True
            return lambda value: not isinstance(value, list) or _unique(value)
        if key in ("minLength", "maxLength"):
            size = int(arg)
            if key == "minLength":
                return lambda value: not isinstance(value, str) or len(value) >= size
            return lambda value: not isinstance(value, str) or len(value) <= size
        if key == "pattern":
            search = re.compile(arg).search
            return lambda value: not isinstance(value, str) or search(value) is not None
        if key in ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum"):
            limit = arg
            compare: Callable[[Any], bool] = {
                "minimum": lambda v: v >= limit, "maximum": lambda v: v <= limit,
                "exclusiveMinimum": lambda v: v > limit,
                "exclusiveMaximum": lambda v: v < limit,
            }[key]
            return lambda value: not _is_number(value) or compare(value)
        if key == "allOf":
            parts = [self.compile(s) for s in arg]
            return lambda value: all(p(value) for p in parts)
        if key == "anyOf":
            parts = [self.compile(s) for s in arg]
            return lambda value: any(p(value) for p in parts)
        if key == "oneOf":
            parts = [self.compile(s) for s in arg]
            return lambda value: sum(1 for p in parts if p(value)) == 1
        if key == "not":
            inner = self.compile(arg)
            return lambda value: not inner(value)
        if key == "if":
            condition = self.compile(arg)
            then = self.compile(schema.get("then", True))
            otherwise = self.compile(schema.get("else", True))
            return lambda value: then(value) if condition(value) else otherwise(value)
        raise Unsupported(f"keyword {key!r}")


def compile_check(schema: Mapping[str, Any], root: Mapping[str, Any] | None = None) -> Check:
    """`schema` (whose `$ref`s point into `root`, by default itself) as a yes/no check.
    Raises Unsupported for a keyword outside the subset kpiframe's schemas use."""
    return _Compiler(schema if root is None else root).compile(schema)
