"""Load YAML and remember where everything came from.

PyYAML's safe loader, with four changes that matter for a KPI catalog in CI:
- every mapping and sequence remembers the line and column of its keys and values, so a
  problem found later (a bad reference, an unknown field in an expression) points at the
  exact spot in the file;
- duplicate keys are an error, not a silent overwrite;
- files are capped in size, and alias expansion is measured before anything walks the
  document, so a billion-laughs file is a quick, clear error;
- every YAML failure becomes a located `Problem`, never a traceback.
"""

from __future__ import annotations

from collections.abc import Hashable
from dataclasses import dataclass
from typing import Any

import yaml

from kpiframe.problems import Location, Problem

MAX_BYTES = 20 * 1024 * 1024
#: nodes a document may expand to through aliases, beyond its own size
MAX_EXPANDED_NODES = 200_000

try:  # libyaml is 10x faster; fall back to pure Python where it is missing
    _Base: type = yaml.CSafeLoader
except AttributeError:  # pragma: no cover
    _Base = yaml.SafeLoader


@dataclass(frozen=True)
class Pos:
    """1-based position of a node, and its scalar style (for locating inside strings)."""

    line: int
    column: int
    style: str | None = None


class YMap(dict[Any, Any]):
    """A mapping that knows where it, each key and each value start."""

    pos: Pos
    key_pos: dict[Hashable, Pos]
    value_pos: dict[Hashable, Pos]


class YList(list[Any]):
    pos: Pos
    item_pos: list[Pos]


def _pos(node: yaml.Node) -> Pos:
    mark = node.start_mark
    style = getattr(node, "style", None)
    return Pos(mark.line + 1, mark.column + 1, style)


class DuplicateKey(yaml.MarkedYAMLError):
    pass


class _Loader(_Base):  # type: ignore[misc, valid-type]
    def construct_yaml_map(self, node: yaml.MappingNode) -> Any:
        data = YMap()
        data.pos = _pos(node)
        data.key_pos = {}
        data.value_pos = {}
        yield data
        seen: dict[Hashable, yaml.Node] = {}
        for key_node, _ in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge":
                continue
            key = self.construct_object(key_node, deep=True)
            if isinstance(key, Hashable) and key in seen:
                raise DuplicateKey(
                    "while constructing a mapping",
                    seen[key].start_mark,
                    f"found duplicate key '{key}'",
                    key_node.start_mark,
                )
            if isinstance(key, Hashable):
                seen[key] = key_node
        self.flatten_mapping(node)
        for key_node, value_node in node.value:
            key = self.construct_object(key_node, deep=True)
            if not isinstance(key, Hashable):
                raise yaml.constructor.ConstructorError(
                    "while constructing a mapping",
                    node.start_mark,
                    "found an unhashable key",
                    key_node.start_mark,
                )
            data[key] = self.construct_object(value_node, deep=True)
            data.key_pos[key] = _pos(key_node)
            data.value_pos[key] = _pos(value_node)

    def construct_yaml_seq(self, node: yaml.SequenceNode) -> Any:
        data = YList()
        data.pos = _pos(node)
        data.item_pos = [_pos(child) for child in node.value]
        yield data
        data.extend(self.construct_object(child, deep=True) for child in node.value)


_Loader.add_constructor("tag:yaml.org,2002:map", _Loader.construct_yaml_map)
_Loader.add_constructor("tag:yaml.org,2002:seq", _Loader.construct_yaml_seq)


def _expanded_size(root: yaml.Node) -> int:
    """Nodes the document expands to when aliases are followed (memoised, so linear)."""
    sizes: dict[int, int] = {}
    active: set[int] = set()

    def size(node: yaml.Node) -> int:
        key = id(node)
        if key in sizes:
            return sizes[key]
        if key in active:
            raise _Recursive(node)
        active.add(key)
        total = 1
        if isinstance(node, yaml.SequenceNode):
            total += sum(size(child) for child in node.value)
        elif isinstance(node, yaml.MappingNode):
            total += sum(size(k) + size(v) for k, v in node.value)
        active.discard(key)
        sizes[key] = total
        return total

    return size(root)


class _Recursive(Exception):
    def __init__(self, node: yaml.Node) -> None:
        self.node = node


def _problem(file: str, rule: str, message: str, mark: Any, hint: str | None) -> Problem:
    line = mark.line + 1 if mark is not None else 1
    column = mark.column + 1 if mark is not None else 1
    return Problem.at(Location(file, line, column), rule, message, hint=hint)


def _yaml_error(file: str, exc: yaml.YAMLError, text: str) -> Problem:
    if isinstance(exc, DuplicateKey):
        mark = exc.problem_mark
        return _problem(
            file,
            "duplicate-key",
            (exc.problem or "duplicate key").replace("found ", ""),
            mark,
            "each key may appear once per mapping; the second one would silently win",
        )
    if isinstance(exc, yaml.MarkedYAMLError):
        mark = exc.problem_mark or exc.context_mark
        problem = exc.problem or exc.context or "invalid YAML"
        if "\t" in problem or "'\\t'" in problem or _tab_at(text, mark):
            return _problem(
                file,
                "yaml-tab",
                "tab character where YAML expects spaces",
                mark,
                "indent YAML with spaces, never tabs",
            )
        message = problem
        if exc.context and exc.context != problem:
            message = f"{problem} ({exc.context})"
        return _problem(file, "yaml-syntax", f"YAML syntax error: {message}", mark,
                        "check indentation, quoting and the ':' after each key")
    return _problem(file, "yaml-syntax", f"YAML error: {exc}", None, None)


def _tab_at(text: str, mark: Any) -> bool:
    if mark is None:
        return False
    lines = text.splitlines()
    if mark.line >= len(lines):
        return False
    line = lines[mark.line]
    return "\t" in line[: mark.column + 1] or line[mark.column : mark.column + 1] == "\t"


def load(text: str | bytes, file: str) -> tuple[Any, list[Problem]]:
    """Parse one YAML document; return (data, problems). Data is None on any problem."""
    if len(text) > MAX_BYTES:
        return None, [
            Problem.at(
                Location(file, 1, 1),
                "file-too-large",
                f"file is {len(text):,} bytes, over the {MAX_BYTES:,} byte limit",
                hint="split the catalog into several files",
            )
        ]
    if isinstance(text, bytes):
        raw = text
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            line = raw[: exc.start].count(b"\n") + 1
            return None, [
                Problem.at(
                    Location(file, line, 1),
                    "not-utf8",
                    "file is not valid UTF-8",
                    hint="save definition files as UTF-8",
                )
            ]
    loader = _Loader(text)
    try:
        root = loader.get_single_node()
        if root is None:
            return None, []
        try:
            expanded = _expanded_size(root)
        except _Recursive as rec:
            return None, [
                _problem(file, "yaml-alias", "recursive alias: a node contains itself",
                         rec.node.start_mark, "remove the alias that refers to its own anchor")
            ]
        own = _own_size(root)
        if expanded > MAX_EXPANDED_NODES and expanded > 10 * own:
            return None, [
                _problem(
                    file,
                    "yaml-alias-bomb",
                    f"aliases expand this document to {expanded:,} nodes "
                    f"(it has {own:,} of its own)",
                    root.start_mark,
                    "anchors and aliases may share values, not multiply them",
                )
            ]
        return loader.construct_document(root), []
    except yaml.YAMLError as exc:
        return None, [_yaml_error(file, exc, text)]
    except RecursionError:
        return None, [
            Problem.at(Location(file, 1, 1), "yaml-too-deep", "YAML nesting is too deep",
                       hint="definition files are a few levels deep; check for runaway brackets")
        ]
    finally:
        loader.dispose()


def _own_size(root: yaml.Node) -> int:
    seen: set[int] = set()
    stack = [root]
    while stack:
        node = stack.pop()
        if id(node) in seen:
            continue
        seen.add(id(node))
        if isinstance(node, yaml.SequenceNode):
            stack.extend(node.value)
        elif isinstance(node, yaml.MappingNode):
            for k, v in node.value:
                stack.extend((k, v))
    return len(seen)
