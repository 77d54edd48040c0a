"""The JSON Schemas of definition files and of `kpiframe.yaml`, and their errors turned
into located problems.

Each schema (draft 2020-12) is a file in the package so editors can use it through the
`# yaml-language-server: $schema=` comment; `kpiframe schema` prints them. jsonschema's
errors say *what* is wrong at a JSON path; the located YAML tree says *where*. Both kinds
of file share this one translation, so a project file is reported like a definition file.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

from kpiframe.problems import Location, Problem, did_you_mean
from kpiframe.yamlsource import Pos, YList, YMap

_JSON_TYPES = {
    dict: "a mapping",
    list: "a list",
    str: "a string",
    bool: "a boolean",
    int: "a number",
    float: "a number",
    type(None): "empty",
}


@dataclass(frozen=True)
class _Kind:
    """One kind of YAML file kpiframe reads, and how its problems speak."""

    resource: str
    #: what a problem outside any KPI is about ("": the location says it all)
    subject: str
    #: the last-resort hint: where the format is described
    reference: str


DEFINITIONS = "kpiframe"
PROJECT = "project"
_KINDS = {
    DEFINITIONS: _Kind("schema/kpiframe.schema.json", "file",
                       "see `kpiframe schema` for the format"),
    PROJECT: _Kind("schema/project.schema.json", "",
                   "`kpiframe schema project` prints the settings"),
}


def schema_text(kind: str = DEFINITIONS) -> str:
    return resources.files("kpiframe").joinpath(_KINDS[kind].resource).read_text("utf-8")


@cache
def schema(kind: str = DEFINITIONS) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(schema_text(kind))
    return loaded


@cache
def _validator(kind: str = DEFINITIONS) -> Any:
    from jsonschema import Draft202012Validator

    return Draft202012Validator(schema(kind))


#: the lists of items in each kind of file whose items are checked one at a time
_ITEM_LISTS = {DEFINITIONS: ("kpis", "tests"), PROJECT: ()}


#: the keywords a document's top level, and an item list, may have for the items to be
#: checked one by one: none of them can report an item's problem anywhere but at the item
_PLAIN_ROOT = frozenset({"$schema", "$id", "title", "description", "$defs", "type",
                         "properties", "required", "additionalProperties"})
_PLAIN_LIST = frozenset({"type", "items", "description", "title"})


@dataclass(frozen=True)
class _FastPath:
    """Yes/no checks compiled once per kind of file: the whole document, the document with
    its item lists' items left unchecked (the "shell"), and each item list's items."""

    document: Callable[[Any], bool]
    shell: Callable[[Any], bool]
    items: dict[str, tuple[Callable[[Any], bool], Any]]  # list key -> (check, item schema)


@cache
def _fast_path(kind: str) -> _FastPath | None:
    """None when the schema uses a keyword the fast path does not compile: jsonschema then
    checks every document in full, as it always may."""
    from kpiframe.schema_fastpath import Unsupported, compile_check

    root = schema(kind)
    one_by_one = set(root) <= _PLAIN_ROOT and all(
        set(root["properties"][key]) <= _PLAIN_LIST for key in _ITEM_LISTS[kind])
    try:
        document = compile_check(root)
        if not one_by_one:  # an item's errors could show elsewhere too: whole documents only
            return _FastPath(document, document, {})
        shell = dict(root)
        shell["properties"] = dict(root.get("properties", {}))
        items: dict[str, tuple[Callable[[Any], bool], Any]] = {}
        for key in _ITEM_LISTS[kind]:
            listed = dict(shell["properties"][key])
            items[key] = (compile_check(listed["items"], root), listed["items"])
            listed["items"] = True
            shell["properties"][key] = listed
        return _FastPath(document, compile_check(shell, root), items)
    except (Unsupported, KeyError, TypeError):
        return None


def _errors(doc: Any, kind: str) -> list[Any]:
    """jsonschema's errors for `doc`, in the order it reports them for the whole document,
    computed in full only where they are: nothing when the fast path accepts the
    document; for each item of `kpis` and `tests` it rejects, that item's errors, at the
    same paths as a whole-document check puts them; the whole document when its top level
    is wrong."""
    fast = _fast_path(kind)
    if fast is not None and fast.document(doc):
        return []  # nor even an import of jsonschema: a fifth of a short command's time
    validator = _validator(kind)
    if fast is None or not fast.shell(doc):
        return list(validator.iter_errors(doc))
    found: list[Any] = []
    for key, (check, item_schema) in fast.items.items():
        items = doc.get(key) if isinstance(doc, dict) else None
        for index, item in enumerate(items if isinstance(items, list) else ()):
            if check(item):
                continue
            for error in validator.descend(item, item_schema, path=index):
                error.relative_path.appendleft(key)
                found.append(error)
    return found


def _kind(value: Any) -> str:
    for cls, name in _JSON_TYPES.items():
        if type(value) is cls or (cls in (dict, list) and isinstance(value, cls)):
            return name
    if isinstance(value, (dt.date, dt.datetime)):  # YAML reads 2025-01-01 as a date
        return "a date"
    return type(value).__name__


def position(doc: Any, path: Sequence[Any], key: Any = None) -> Pos | None:
    """Where the value at `path` starts (or where `key` of the mapping at `path` is)."""
    node = doc
    pos: Pos | None = getattr(doc, "pos", None)
    for step in path:
        if isinstance(node, YMap) and step in node:
            pos = node.value_pos.get(step, pos)
            node = node[step]
        elif isinstance(node, YList) and isinstance(step, int) and step < len(node):
            pos = node.item_pos[step]
            node = node[step]
        else:
            break
    if key is not None and isinstance(node, YMap) and key in node.key_pos:
        return node.key_pos[key]
    return pos


def _kpi_of(doc: Any, path: Sequence[Any]) -> str | None:
    """The name of the KPI (or KPI test) a path is inside."""
    if len(path) >= 2 and path[0] in ("kpis", "tests", "dashboards") and isinstance(doc, dict):
        kpis = doc.get(path[0])
        if isinstance(kpis, list) and isinstance(path[1], int) and path[1] < len(kpis):
            item = kpis[path[1]]
            if isinstance(item, dict) and isinstance(item.get("name"), str):
                return str(item["name"])
    return None


def _field_name(path: Sequence[Any]) -> str:
    parts = [str(p) for p in path if not isinstance(p, int)]
    if parts and parts[0] in ("kpis", "tests", "dashboards"):
        parts = parts[1:]
    return ".".join(parts) or "file"


def _allowed(error: Any) -> list[str]:
    props = error.schema.get("properties", {})
    return sorted(props)


def _type_hint(expected: str, instance: Any, reference: str) -> str:
    if isinstance(instance, (dict, list)) and expected not in ("object", "array"):
        return "write a single value here, not a list or a mapping"
    if expected == "string":
        return "quote strings that YAML would read as numbers, booleans or dates"
    if expected in ("number", "integer"):
        return "write a plain number: no quotes, units or '%'"
    if expected == "array":
        return "write a list: `[a, b]`, or one `- item` per line"
    if expected.startswith("object"):
        return "write a mapping: one `key: value` per line, indented under this key"
    if expected == "boolean":
        return "write true or false, without quotes"
    return reference


def _problems(error: Any, doc: Any, file: str, kind: _Kind,
              meant: dict[str, str] | None = None) -> Iterator[Problem]:
    """The problems of one jsonschema error; `meant` maps an unknown key to the missing
    required field it misspells."""
    path = list(error.absolute_path)
    name = _kpi_of(doc, path)
    noun = {"kpis": "kpi", "tests": "test", "dashboards": "dashboard"}.get(
        path[0] if path and isinstance(path[0], str) else "")
    kpi = name if noun == "kpi" else None
    where = f"{noun} '{name}'" if name else kind.subject
    if name is None and noun and len(path) >= 2 and isinstance(path[1], int):
        where = f"{noun} #{path[1] + 1} (no valid name)"
    #: what the message is about; a project file's problems need no subject but the place
    lead = f"{where}: " if where else ""
    validator = error.validator

    def at(pos: Pos | None) -> Location:
        return Location(file, pos.line if pos else 1, pos.column if pos else 1)

    if validator == "additionalProperties":
        allowed = _allowed(error)
        instance = error.instance if isinstance(error.instance, dict) else {}
        for extra in sorted((k for k in instance if k not in allowed), key=str):
            hint = did_you_mean(str(extra), allowed) or f"allowed here: {', '.join(allowed)}"
            if meant and str(extra) in meant:
                needed = f" for a {instance['type']} KPI" if isinstance(
                    instance.get("type"), str) and path[:1] == ["kpis"] else ""
                hint = f"did you mean '{meant[str(extra)]}'? it is required here{needed}"
            context = (where if path[:1] in (["kpis"], ["tests"])
                       else f"'{_field_name(path)}'" if path else "top level")
            yield Problem.at(
                at(position(doc, path, extra)),
                "unknown-key",
                f"{context}: unknown key '{extra}'",
                kpi=kpi,
                hint=hint,
            )
        return
    if validator == "required":
        missing = _missing(error)
        type_hint = ""
        if isinstance(error.instance, dict) and isinstance(error.instance.get("type"), str):
            type_hint = f" for a {error.instance['type']} KPI"
        yield Problem.at(
            at(position(doc, path)),
            "missing-field",
            f"{lead}missing required field '{missing}'{type_hint}",
            kpi=kpi,
            hint=f"add '{missing}:'",
        )
        return
    field = _field_name(path)
    pos = position(doc, path)
    if validator == "type":
        expected = error.validator_value
        expected = expected if isinstance(expected, str) else " or ".join(expected)
        article = "an" if expected[0] in "aeiou" else "a"
        yield Problem.at(
            at(pos),
            "wrong-type",
            f"{lead}'{field}' must be {article} {expected}, not {_kind(error.instance)}",
            kpi=kpi,
            hint=_type_hint(expected, error.instance, kind.reference),
        )
        return
    if validator == "pattern" and path and path[-1] == "name":
        yield Problem.at(
            at(pos),
            "bad-name",
            f"{lead}name {error.instance!r} is not a valid KPI name",
            kpi=kpi,
            hint="use lowercase letters, digits and underscores, starting with a letter, "
            "at most 63 characters",
        )
        return
    if validator == "enum":
        options = [str(o) for o in error.validator_value]
        hint = (
            did_you_mean(str(error.instance), options)
            if isinstance(error.instance, str)
            else None
        ) or f"use one of: {', '.join(options)}"
        yield Problem.at(
            at(pos),
            "bad-value",
            f"{lead}'{field}' is {error.instance!r}, not one of the allowed values",
            kpi=kpi,
            hint=hint,
        )
        return
    if validator == "not" and isinstance(error.instance, dict):
        yield Problem.at(
            at(position(doc, path, "grain_to_date")),
            "conflicting-fields",
            f"{lead}a cumulative KPI has either 'window' or 'grain_to_date', not both",
            kpi=kpi,
            hint="a rolling window and a grain-to-date total are different KPIs",
        )
        return
    if validator == "oneOf" and path and path[-1] == "offset":
        yield Problem.at(
            at(pos),
            "bad-value",
            f"{lead}offset {error.instance!r} is neither a number of periods nor a duration",
            kpi=kpi,
            hint="write a positive integer (periods of the query's grain) or e.g. '1 month', "
            "'7 days'",
        )
        return
    if validator == "pattern":
        examples = {
            "window": "e.g. '7 days', '4 weeks', '3 months'",
            "offset": "e.g. '1 month', '7 days'",
            "plugins": "a Python module path, e.g. my_company.kpi_plugin",
        }
        named = [str(p) for p in path if not isinstance(p, int)]
        yield Problem.at(
            at(pos),
            "bad-value",
            f"{lead}'{field}' is {error.instance!r}, which is not valid here",
            kpi=kpi,
            hint=examples.get(named[-1] if named else "", kind.reference),
        )
        return
    if validator == "uniqueItems" and isinstance(error.instance, list):
        items = error.instance
        again = next((i for i, item in enumerate(items) if item in items[:i]), None)
        if again is not None:
            yield Problem.at(
                at(position(doc, [*path, again])),
                "schema",
                f"{lead}'{field}' lists {items[again]!r} twice",
                kpi=kpi,
                hint="remove the repeated item",
            )
            return
    if validator in ("minLength", "minItems"):
        yield Problem.at(at(pos), "bad-value", f"{lead}'{field}' is empty", kpi=kpi,
                         hint="remove the field or give it a value")
        return
    yield Problem.at(
        at(pos),
        "schema",
        f"{lead}'{field}': {error.message}",
        kpi=kpi,
        hint=kind.reference,
    )


def _missing(error: Any) -> str:
    """The field a `required` error says is missing."""
    return str(error.message.split("'")[1]) if "'" in error.message else str(error.message)


def _misspellings(errors: Sequence[Any]) -> dict[tuple[str, ...], dict[str, str]]:
    """For each mapping with both an unknown key and a missing required field, which
    unknown key is a misspelling of which missing field (`agregate` for `agg`): that pair
    is one mistake, reported once, as the unknown key with a did-you-mean."""
    import difflib

    extras: dict[tuple[str, ...], list[str]] = {}
    missing: dict[tuple[str, ...], list[str]] = {}
    for error in errors:
        where = tuple(map(str, error.absolute_path))
        if error.validator == "required":
            missing.setdefault(where, []).append(_missing(error))
        elif error.validator == "additionalProperties" and isinstance(error.instance, dict):
            allowed = _allowed(error)
            extras.setdefault(where, []).extend(
                str(k) for k in error.instance if k not in allowed)
    found: dict[tuple[str, ...], dict[str, str]] = {}
    for where, keys in extras.items():
        wanted = list(dict.fromkeys(missing.get(where, ())))
        for key in dict.fromkeys(keys):
            close = difflib.get_close_matches(key, wanted, n=1, cutoff=0.5)
            if close:
                found.setdefault(where, {})[key] = close[0]
                wanted.remove(close[0])
    return found


def validate(doc: Any, file: str, kind: str = DEFINITIONS,
             ) -> tuple[list[Problem], set[tuple[str, int]]]:
    """Every schema violation in one document (a definition file, or with `kind=PROJECT`
    a kpiframe.yaml), located; and which items of `kpis` and `tests` have one, as
    (key, index)."""
    errors = sorted(_errors(doc, kind), key=lambda e: list(map(str, e.absolute_path)))
    problems: list[Problem] = []
    broken: set[tuple[str, int]] = set()
    seen: set[tuple[Any, ...]] = set()
    misspelt = _misspellings(errors)
    for error in errors:
        path = list(error.absolute_path)
        if len(path) >= 2 and path[0] in ("kpis", "tests") and isinstance(path[1], int):
            broken.add((path[0], path[1]))
        meant = misspelt.get(tuple(map(str, path)), {})
        if error.validator == "required" and _missing(error) in meant.values():
            continue  # the unknown key's did-you-mean says it: one error per typo
        for problem in _problems(error, doc, file, _KINDS[kind], meant):
            key = (problem.line, problem.column, problem.rule, problem.message)
            if key not in seen:
                seen.add(key)
                problems.append(problem)
    return problems, broken
