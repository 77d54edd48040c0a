"""Load YAML and remember where everything came from.

PyYAML's safe loader, with four changes that matter for a KPI catalog in CI:
- every mapping and sequence remembers the line and column of its keys and values, so a
  problem found later (a bad reference, an unknown field in an expression) points at the
  exact spot in the file, also inside quoted and block scalars (`Pos.locate`);
- duplicate keys are an error, not a silent overwrite;
- files are capped in size, and alias expansion and nesting depth are measured before
  anything walks the document, so a billion-laughs file is a quick, clear error;
- every YAML failure becomes a located `Problem`, never a traceback, at the place the fix
  goes (an unclosed bracket where it opens, a line without ':' on that line).
"""

from __future__ import annotations

import dataclasses
import math
import re
from collections.abc import Hashable
from dataclasses import dataclass, field
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


#: nesting a definition file may have (its own, before aliases); a few levels are normal
MAX_DEPTH = 100


@dataclass(frozen=True)
class Pos:
    """1-based position of a node, and its scalar style (for locating inside strings).

    `raw` is the scalar's source text, kept for quoted, block and multi-line scalars,
    where the value's characters are not where a column count would put them."""

    line: int
    column: int
    style: str | None = None
    raw: str | None = field(default=None, compare=False, repr=False)

    def locate(self, value: str, offset: int) -> tuple[int, int]:
        """The (line, column) in the file of character `offset` of this scalar's `value`."""
        offset = max(0, min(offset, len(value)))
        if self.raw is None:
            return self.line, self.column + offset
        raw = self.raw
        start = 0
        if self.style in ("|", ">"):  # skip the header: indicators and a comment
            start = raw.find("\n") + 1 if "\n" in raw else len(raw)
        elif self.style in ('"', "'"):
            start = 1
        j = _match(value, raw, offset, start)
        before = raw[:j]
        if "\n" not in before:
            return self.line, self.column + len(before)
        return self.line + before.count("\n"), len(before) - before.rfind("\n")


class YMap(dict[Any, Any]):
    """A mapping that knows where it, each key and each value start."""

    pos: Pos
    key_pos: dict[Hashable, Pos]
    value_pos: dict[Hashable, Pos]


class YList(list[Any]):
    pos: Pos
    item_pos: list[Pos]


def _pos(node: yaml.Node, text: str | None = None) -> Pos:
    mark = node.start_mark
    style = getattr(node, "style", None)
    raw = None
    if text is not None and isinstance(node, yaml.ScalarNode) and (
        style or node.end_mark.line != mark.line
    ):
        raw = text[mark.index : node.end_mark.index]
    return Pos(mark.line + 1, mark.column + 1, style, raw)


def _match(value: str, raw: str, offset: int, j: int) -> int:
    """Index in `raw` (a scalar's source, from index `j`) of `value[offset]`.

    The value's characters appear in the source in order; what only the source has
    (indentation, quotes, escapes) is skipped, and whitespace in the value matches
    whitespace in the source (a folded line break). 0 (the scalar's start) if lost."""
    for k, char in enumerate(value):
        if char.isspace():
            while j < len(raw) and not raw[j].isspace() and raw[j] != "\\":
                j += 1
        else:
            while j < len(raw) and raw[j] != char:
                j += 1
        if j >= len(raw):
            return 0
        if k == offset:
            return j
        j += 2 if raw[j] == "\\" and char.isspace() else 1  # an escaped \t, \n
    return min(j, len(raw))


class DuplicateKey(yaml.MarkedYAMLError):
    pass


class UnreadableValue(yaml.MarkedYAMLError):
    pass


class NotFinite(yaml.MarkedYAMLError):
    """`.inf` and `.nan` are YAML floats; as a weight, scale or tolerance they make every
    number infinite, NaN, or every test pass."""


_TAG_WORDS = {"timestamp": "a date", "int": "an integer", "float": "a number",
              "bool": "a boolean", "binary": "base64 data"}


class _Loader(_Base):  # type: ignore[misc, valid-type]
    source_text: str | None = None

    def construct_object(self, node: yaml.Node, deep: bool = False) -> Any:
        """A scalar YAML resolves to a type it then cannot build (`2024-02-30`, a
        5,000-digit integer, `!!int abc`) is a located error, not a ValueError."""
        try:
            value = super().construct_object(node, deep)
        except (ValueError, TypeError, AttributeError, OverflowError) as exc:
            kind = node.tag.rsplit(":", 1)[-1]
            word = _TAG_WORDS.get(kind, f"'{kind}'")
            value = str(node.value if isinstance(node, yaml.ScalarNode) else "")
            value = value if len(value) <= 40 else value[:37] + "..."
            why = f" ({exc})" if isinstance(exc, ValueError) and len(str(exc)) <= 60 else ""
            raise UnreadableValue(None, None, f"cannot read {value!r} as {word}{why}",
                                  node.start_mark) from None
        if isinstance(value, float) and not math.isfinite(value):
            raise NotFinite(None, None, f"{node.value!r} is not a finite number",
                            node.start_mark)
        return value

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
            data.value_pos[key] = _pos(value_node, self.source_text)

    def construct_yaml_seq(self, node: yaml.SequenceNode) -> Any:
        data = YList()
        data.pos = _pos(node)
        data.item_pos = [_pos(child) for child in node.value]
        yield data
        data.extend(self.construct_object(child, deep=True) for child in node.value)


_Loader.add_constructor("tag:yaml.org,2002:map", _Loader.construct_yaml_map)
_Loader.add_constructor("tag:yaml.org,2002:seq", _Loader.construct_yaml_seq)


def _children(node: yaml.Node) -> list[yaml.Node]:
    if isinstance(node, yaml.SequenceNode):
        return node.value  # type: ignore[no-any-return]
    if isinstance(node, yaml.MappingNode):
        return [n for pair in node.value for n in pair]
    return []


@dataclass
class _Measure:
    """Per collection node (by id): how many nodes it expands to when aliases are
    followed, and how deep it nests; and how many nodes the document has of its own.
    Computed without recursion, each node once, so a billion-laughs file or a runaway
    nesting costs as much as its text, not as much as its expansion."""

    size: dict[int, int]
    height: dict[int, int]
    own: int

    def size_of(self, node: yaml.Node) -> int:
        return self.size.get(id(node), 1)

    def height_of(self, node: yaml.Node) -> int:
        return self.height.get(id(node), 1)


def _measure(root: yaml.Node) -> _Measure:
    size: dict[int, int] = {}
    height: dict[int, int] = {}
    own = 1 if isinstance(root, yaml.ScalarNode) else 0
    on_path: set[int] = set()
    stack = [] if isinstance(root, yaml.ScalarNode) else [root]
    scalar = yaml.ScalarNode
    while stack:
        node = stack[-1]
        key = id(node)
        if key in on_path:  # second visit: every collection in it is measured
            stack.pop()
            on_path.discard(key)
            total, tallest = 1, 0  # a scalar counts 1 node and 1 level
            for kid in _children(node):
                if kid.__class__ is scalar:
                    total += 1
                    own += 1
                    tallest = tallest or 1
                else:
                    total += size[id(kid)]
                    tallest = max(tallest, height[id(kid)])
            size[key] = total
            height[key] = tallest + 1
            own += 1
        elif key in size:  # reached again through an alias
            stack.pop()
        else:
            on_path.add(key)
            for kid in _children(node):
                if kid.__class__ is not scalar:
                    if id(kid) in on_path:
                        raise _Recursive(kid)
                    if id(kid) not in size:
                        stack.append(kid)
    return _Measure(size, height, own)


def _too_deep(root: yaml.Node, measure: _Measure) -> yaml.Node:
    """The first node nested deeper than MAX_DEPTH, on the deepest path."""
    node = root
    for _ in range(MAX_DEPTH):
        node = max(_children(node), key=measure.height_of)
    return node


def _bomb(root: yaml.Node, measure: _Measure, limit: int) -> yaml.Node:
    """The innermost node whose aliases expand it beyond `limit`: where it blows up."""
    node = root
    while True:
        bigger = [k for k in _children(node) if measure.size_of(k) > limit]
        if not bigger:
            return node
        node = bigger[0]


def _recursive_alias(text: str) -> Any:
    """Where the alias that refers to an anchor it is inside is (its start mark)."""
    open_anchors: list[str | None] = []
    try:
        for event in yaml.parse(text, Loader=_Base):
            if isinstance(event, yaml.CollectionStartEvent):
                open_anchors.append(event.anchor)
            elif isinstance(event, yaml.CollectionEndEvent):
                open_anchors.pop()
            elif isinstance(event, yaml.AliasEvent) and event.anchor in open_anchors:
                return event.start_mark
    except yaml.YAMLError:  # pragma: no cover - the text composed before
        pass
    return None


class _Recursive(Exception):
    def __init__(self, node: yaml.Node) -> None:
        self.node = node


def _problem(file: str, rule: str, message: str, mark: Any, hint: str | None) -> Problem:
    line = mark.line + 1 if mark is not None else 1
    column = mark.column + 1 if mark is not None else 1
    return Problem.at(Location(file, line, column), rule, message, hint=hint)


_SYNTAX_HINT = "check indentation, quoting and the ':' after each key"


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
    if isinstance(exc, NotFinite):
        return _problem(file, "not-finite", f"YAML {exc.problem}", exc.problem_mark,
                        "write a finite number; infinity and NaN are never a weight, scale, "
                        "target, fill value or tolerance")
    if isinstance(exc, UnreadableValue):
        return _problem(file, "yaml-syntax", f"YAML {exc.problem}", exc.problem_mark,
                        "fix the value, or quote it to keep it as text")
    if isinstance(exc, yaml.reader.ReaderError):
        # libyaml counts UTF-8 bytes, the pure-Python reader characters
        before = text.encode("utf-8")[: exc.position].decode("utf-8", "replace") \
            if _Base is not yaml.SafeLoader else text[: exc.position]
        line = before.count("\n") + 1
        column = len(before) - (before.rfind("\n") + 1) + 1
        return Problem.at(Location(file, line, column), "yaml-syntax",
                          f"YAML cannot contain the control character U+{exc.character:04X}",
                          hint="remove it; a definition file is plain text")
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
        if "undefined alias" in problem and mark is not None:
            rows = text.splitlines()
            row = rows[mark.line] if mark.line < len(rows) else ""
            alias = re.match(r"\*[^\s,\[\]{}]+", row[mark.column :])
            name = f"'{alias.group(0)}'" if alias else "an alias"
            return _problem(file, "yaml-syntax",
                            f"YAML syntax error: {name} refers to an anchor that is not "
                            "defined before it", mark,
                            "define the anchor (`&name`) before its first alias (`*name`)")
        if "maximum nesting depth" in problem:
            return _problem(file, "yaml-too-deep", "YAML nesting is too deep", mark,
                            "definition files are a few levels deep; check for runaway "
                            "brackets")
        better = _unclosed(exc, text) or _over_indented(exc, text) or _no_colon(exc, text) \
            or _misaligned(exc)
        if better is not None:
            line, column, message, hint = better
            return Problem.at(Location(file, line, column), "yaml-syntax",
                              f"YAML syntax error: {message}", hint=hint)
        message = problem
        if exc.context and exc.context != problem:
            message = f"{problem} ({exc.context})"
        return _problem(file, "yaml-syntax", f"YAML syntax error: {message}", mark,
                        _SYNTAX_HINT)
    return _problem(file, "yaml-syntax", f"YAML error: {exc}", None, None)


def _within(problem: Problem, text: str) -> Problem:
    """libyaml marks the end of a file without a final newline on the line after it:
    keep positions on lines that exist."""
    lines = text.split("\n")
    if problem.line is None or problem.line <= len(lines):
        return problem
    return dataclasses.replace(problem, line=len(lines), column=len(lines[-1]) + 1)


def _unclosed(exc: yaml.MarkedYAMLError, text: str) -> tuple[int, int, str, str] | None:
    """A quote or bracket left open is found at the end of the file, or lines later:
    point at where it was opened, which is where the fix goes."""
    start, found = exc.context_mark, exc.problem_mark
    context = exc.context or ""
    if start is None or found is None:
        return None
    at_end = not text[found.index :].strip()
    if "quoted scalar" in context and at_end:
        return (start.line + 1, start.column + 1, "this quoted string is never closed",
                "close it with the quote it starts with")
    if ("flow sequence" in context or "flow mapping" in context) and (
        at_end or found.line != start.line
    ):
        opener, closer = ("[", "]") if "sequence" in context else ("{", "}")
        return (start.line + 1, start.column + 1, f"this '{opener}' is never closed",
                f"close it with '{closer}', or write one '- item' per line")
    return None


def _over_indented(exc: yaml.MarkedYAMLError, text: str) -> tuple[int, int, str, str] | None:
    """`key: value` on a line indented deeper than the key above it reads as the
    continuation of that key's value, and YAML then trips over its ':'. Point at the key."""
    mark = exc.problem_mark
    if mark is None or "mapping values are not allowed" not in (exc.problem or ""):
        return None
    lines = text.splitlines()
    if not 0 < mark.line < len(lines):
        return None
    line = lines[mark.line]
    key = line[: mark.column].strip()
    if not key or not all(c.isalnum() or c in "_-" for c in key):
        return None
    indent = len(line) - len(line.lstrip(" "))
    above = next((x for x in reversed(lines[: mark.line])
                  if x.strip() and not x.lstrip().startswith("#")), "")
    if indent <= len(above) - len(above.lstrip(" -")):
        return None
    return (mark.line + 1, indent + 1,
            f"'{key}' is indented more than the key above it, so YAML reads it as part "
            "of that key's value",
            "align it with the other keys of its mapping")


def _no_colon(exc: yaml.MarkedYAMLError, text: str) -> tuple[int, int, str, str] | None:
    """A line without ':' is noticed on the next line: point at the line itself."""
    start = exc.context_mark
    if start is None or "simple key" not in (exc.context or "") \
            or "expected ':'" not in (exc.problem or ""):
        return None
    lines = text.splitlines()
    words = lines[start.line][start.column :].strip() if start.line < len(lines) else ""
    return (start.line + 1, start.column + 1, f"'{words}' has no ':' after its key",
            "write `key: value`; a value that goes on over several lines must be indented "
            "deeper than its key")


def _misaligned(exc: yaml.MarkedYAMLError) -> tuple[int, int, str, str] | None:
    mark, problem = exc.problem_mark, exc.problem or ""
    if mark is None or "block collection" not in (exc.context or "") or not (
        "expected '-' indicator" in problem or problem.startswith("expected <block end>")
    ):  # libyaml's words, then PyYAML's
        return None
    return (mark.line + 1, mark.column + 1,
            "this line is indented differently from the list items above it",
            "line up each '- ' item of a list, and each key of a mapping, with the others")


def _tab_at(text: str, mark: Any) -> bool:
    if mark is None:
        return False
    lines = text.splitlines()
    if mark.line >= len(lines):
        return False
    line = lines[mark.line]
    return "\t" in line[: mark.column + 1] or line[mark.column : mark.column + 1] == "\t"


class YStr(str):
    """A document that is a single string, located (so 'not a mapping' can say where)."""

    pos: Pos


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
            line_start = raw.rfind(b"\n", 0, exc.start) + 1
            line = raw[: exc.start].count(b"\n") + 1
            column = len(raw[line_start : exc.start].decode("utf-8", errors="replace")) + 1
            return None, [
                Problem.at(
                    Location(file, line, column),
                    "not-utf8",
                    f"file is not valid UTF-8 (byte 0x{raw[exc.start]:02x})",
                    hint="save definition files as UTF-8",
                )
            ]
    loader = None
    try:
        loader = _Loader(text)  # the pure-Python reader checks characters right here
        loader.source_text = text
        root = loader.get_single_node()
        if root is None:
            return None, []
        try:
            measure = _measure(root)
        except _Recursive as rec:
            mark = _recursive_alias(text) or rec.node.start_mark
            return None, [
                _problem(file, "yaml-alias", "recursive alias: a node contains itself",
                         mark, "remove the alias that refers to its own anchor")
            ]
        if measure.height_of(root) > MAX_DEPTH:
            return None, [
                _problem(file, "yaml-too-deep",
                         f"YAML nesting is too deep (over {MAX_DEPTH} levels)",
                         _too_deep(root, measure).start_mark,
                         "definition files are a few levels deep; check for runaway brackets")
            ]
        expanded = measure.size_of(root)
        own = measure.own
        if expanded > MAX_EXPANDED_NODES and expanded > 10 * own:
            blown = _bomb(root, measure, max(MAX_EXPANDED_NODES, 10 * own))
            return None, [
                _problem(
                    file,
                    "yaml-alias-bomb",
                    f"aliases expand this document to {expanded:,} nodes "
                    f"(it has {own:,} of its own); this value alone expands to "
                    f"{measure.size_of(blown):,}",
                    blown.start_mark,
                    "anchors and aliases may share values, not multiply them",
                )
            ]
        data = loader.construct_document(root)
        if isinstance(data, str):
            data = YStr(data)
            data.pos = _pos(root)
        return data, []
    except yaml.YAMLError as exc:
        return None, [_within(_yaml_error(file, exc, text), text)]
    except RecursionError:
        return None, [
            Problem.at(Location(file, 1, 1), "yaml-too-deep", "YAML nesting is too deep",
                       hint="definition files are a few levels deep; check for runaway brackets")
        ]
    finally:
        if loader is not None:
            loader.dispose()
