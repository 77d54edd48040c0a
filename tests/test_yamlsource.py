"""The located YAML loader: where every key, value and list item is, and every way a
YAML file can be wrong turned into one located problem, never an exception."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from kpiframe import yamlsource
from kpiframe.problems import Problem
from kpiframe.yamlsource import YList, YMap, load

F = "defs.yaml"


def _ok(text: str | bytes) -> Any:
    data, problems = load(text, F)
    assert problems == [], [p.format() for p in problems]
    return data


def _problem(text: str | bytes) -> Problem:
    data, problems = load(text, F)
    assert data is None
    assert len(problems) == 1, [p.format() for p in problems]
    assert problems[0].file == F
    return problems[0]


def _at(problem: Problem) -> tuple[str, int | None, int | None]:
    return problem.rule, problem.line, problem.column


# ------------------------------------------------------------------------ positions

DOC = """\
# a comment
kpis:
  - name: post_likes
    type: simple
    tags: [engagement, likes]
    target: {value: 100, grain: month}
  - name: reach
    tags:
      - awareness
      -   people
"""


def test_positions_of_keys_values_and_items() -> None:
    doc = _ok(DOC)
    assert isinstance(doc, YMap)
    assert (doc.pos.line, doc.pos.column) == (2, 1)
    assert (doc.key_pos["kpis"].line, doc.key_pos["kpis"].column) == (2, 1)
    kpis = doc["kpis"]
    assert isinstance(kpis, YList)
    assert [(p.line, p.column) for p in kpis.item_pos] == [(3, 5), (7, 5)]
    first = kpis[0]
    assert isinstance(first, YMap)
    assert (first.pos.line, first.pos.column) == (3, 5)
    assert (first.key_pos["type"].line, first.key_pos["type"].column) == (4, 5)
    assert (first.value_pos["type"].line, first.value_pos["type"].column) == (4, 11)
    tags = first["tags"]
    assert tags == ["engagement", "likes"]
    assert [(p.line, p.column) for p in tags.item_pos] == [(5, 12), (5, 24)]
    target = first["target"]
    assert (target.key_pos["grain"].line, target.key_pos["grain"].column) == (6, 26)
    assert (target.value_pos["grain"].line, target.value_pos["grain"].column) == (6, 33)
    block_tags = kpis[1]["tags"]
    assert [(p.line, p.column) for p in block_tags.item_pos] == [(9, 9), (10, 11)]


def test_values_are_plain_python() -> None:
    doc = _ok("a: 1\nb: 2.5\nc: true\nd: ~\ne: '7'\nf: 2024-01-31\n")
    assert doc == {"a": 1, "b": 2.5, "c": True, "d": None, "e": "7", "f": dt.date(2024, 1, 31)}
    assert isinstance(doc, dict)


def test_a_document_that_is_one_string_is_located() -> None:
    doc = _ok("# notes\n\n  just some text\n")
    assert doc == "just some text"
    assert (doc.pos.line, doc.pos.column) == (3, 3)


# ------------------------------------------------------------------------ inside strings


def _locate(text: str, key: str, token: str) -> tuple[int, int]:
    doc = _ok(text)
    value = doc[key]
    return doc.value_pos[key].locate(value, value.index(token))


@pytest.mark.parametrize(
    ("text", "where"),
    [
        ("expr: likes + sharez\n", (1, 15)),
        ('expr: "likes + sharez"\n', (1, 16)),
        ('expr: "\\"likes\\" + sharez"\n', (1, 20)),
        ("expr: 'likes > ''a'' OR sharez'\n", (1, 25)),
        ("expr: |\n  likes\n    + sharez\n", (3, 7)),
        ("expr: |  # a comment, with sharez in it\n    likes\n    + sharez\n", (3, 7)),
        ("expr: |-\n      likes +\n      sharez\n", (3, 7)),
        ("expr: >\n  likes\n  + sharez\n", (3, 5)),
        ("expr: likes\n  + sharez\n", (2, 5)),
        ('expr: "likes\n  + sharez"\n', (2, 5)),
        ("expr: |\r\n  likes\r\n    + sharez\r\n", (3, 7)),
        ("kpis:\n  - expr: >-\n        likes\n        + sharez\n", None),
    ],
    ids=["plain", "double-quoted", "escaped-quotes", "single-quoted", "literal",
         "literal-with-comment", "literal-deeper", "folded", "multi-line-plain",
         "multi-line-double-quoted", "crlf", "nested-folded"],
)
def test_locate_a_character_inside_a_scalar(text: str, where: tuple[int, int] | None) -> None:
    if where is None:  # nested: go through the list
        doc = _ok(text)
        item = doc["kpis"][0]
        value = item["expr"]
        assert item.value_pos["expr"].locate(value, value.index("sharez")) == (4, 11)
        return
    assert _locate(text, "expr", "sharez") == where
    lines = text.replace("\r\n", "\n").split("\n")
    line, column = where
    assert lines[line - 1][column - 1 :].startswith("sharez")


def test_locate_clamps_and_falls_back() -> None:
    doc = _ok('expr: "a\\tb"\n')
    pos = doc.value_pos["expr"]
    assert pos.locate(doc["expr"], 0) == (1, 8)
    assert pos.locate(doc["expr"], -5) == (1, 8)
    assert pos.locate(doc["expr"], 2) == (1, 11)  # 'b', after the escape
    line, column = pos.locate(doc["expr"], 99)  # past the end: still in the file
    assert line == 1 and column >= 7


# ------------------------------------------------------------------------ duplicate keys


@pytest.mark.parametrize(
    ("text", "where", "key"),
    [
        ("kpis: []\nkpis: []\n", (2, 1), "kpis"),
        ("kpis:\n  - name: a\n    type: simple\n    name: b\n", (4, 5), "name"),
        ("kpis: [{name: a, type: simple, name: b}]\n", (1, 32), "name"),
        ("a:\n  b:\n    c: 1\n    c: 2\n", (4, 5), "c"),
        ("true: 1\nyes: 2\n", (2, 1), "True"),  # YAML 1.1 reads both as true
    ],
    ids=["top-level", "in-a-kpi", "flow", "nested", "same-value"],
)
def test_duplicate_keys_are_errors(text: str, where: tuple[int, int], key: str) -> None:
    problem = _problem(text)
    assert _at(problem) == ("duplicate-key", *where)
    assert f"'{key}'" in problem.message
    assert problem.hint


def test_same_key_in_different_mappings_is_fine() -> None:
    _ok("kpis:\n  - name: a\n  - name: b\nmeta: {name: c}\n")


# ------------------------------------------------------------------------ merge keys

MERGE = """\
defaults: &simple_posts
  type: simple
  source: posts
kpis:
  - <<: *simple_posts
    name: post_likes
    agg: sum
    expr: likes
  - <<: *simple_posts
    name: daily_likes
    source: post_daily
    agg: sum
    expr: likes
  - <<: [*simple_posts, {unit: count}]
    name: post_count
    agg: count
"""


def test_merge_keys_still_work() -> None:
    doc = _ok(MERGE)
    first, second, third = doc["kpis"]
    assert first == {"type": "simple", "source": "posts", "name": "post_likes", "agg": "sum",
                     "expr": "likes"}
    assert second["source"] == "post_daily", "an explicit key overrides a merged one"
    assert third == {"type": "simple", "source": "posts", "unit": "count",
                     "name": "post_count", "agg": "count"}
    assert "<<" not in first
    # merged keys point at where they are written: in the anchored mapping
    assert (first.key_pos["source"].line, first.key_pos["source"].column) == (3, 3)
    assert (second.value_pos["source"].line, second.value_pos["source"].column) == (11, 13)
    assert (first.key_pos["name"].line, first.key_pos["name"].column) == (6, 5)


def test_a_duplicate_next_to_a_merge_is_still_an_error() -> None:
    text = "base: &b {a: 1}\nx:\n  <<: *b\n  c: 2\n  c: 3\n"
    assert _at(_problem(text)) == ("duplicate-key", 5, 3)


# ------------------------------------------------------------------------ aliases


def _bomb(levels: int, fan_out: int) -> str:
    lines = ["kpis:", "  - name: lol", "    type: simple", "    source: posts",
             "    agg: count", "    meta:",
             "      l0: &l0 [" + ", ".join(['"lol"'] * fan_out) + "]"]
    for level in range(1, levels):
        lines.append(f"      l{level}: &l{level} [" + ", ".join([f"*l{level - 1}"] * fan_out)
                     + "]")
    return "\n".join(lines) + "\n"


def test_billion_laughs_is_rejected() -> None:
    problem = _problem(_bomb(9, 9))
    assert problem.rule == "yaml-alias-bomb"
    assert "490,329,0" in problem.message  # nodes it would expand to
    # where the expansion first passes the limit: l5 expands to 9**6 + ... nodes
    assert (problem.line, problem.column) == (12, 11)
    assert problem.hint


def test_a_much_bigger_bomb_is_rejected_without_expanding_it() -> None:
    """10**30 nodes: expanding would never finish, so passing means it was not expanded."""
    problem = _problem(_bomb(30, 10))
    assert problem.rule == "yaml-alias-bomb"


def test_aliases_that_share_values_are_fine() -> None:
    text = ("common: &tags [engagement, organic]\n"
            "kpis:\n" + "".join(f"  - {{name: k{i}, tags: *tags}}\n" for i in range(50)))
    doc = _ok(text)
    assert all(k["tags"] == ["engagement", "organic"] for k in doc["kpis"])


def test_a_cap_on_expansion_not_on_size(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(yamlsource, "MAX_EXPANDED_NODES", 50)
    big = "kpis:\n" + "".join(f"  - {{name: k{i}, type: simple}}\n" for i in range(100))
    _ok(big)  # large, but no aliases: not a bomb
    assert _problem(_bomb(3, 9)).rule == "yaml-alias-bomb"


@pytest.mark.parametrize(
    ("text", "where"),
    [
        ("kpis: &k\n  - name: a\n    meta: *k\n", (3, 11)),
        ("a: &a [1, 2, *a]\n", (1, 14)),
        ("kpis:\n  - &x\n    name: a\n    meta: {copy: [*x]}\n", (4, 19)),
    ],
    ids=["sequence", "flow", "nested"],
)
def test_recursive_alias(text: str, where: tuple[int, int]) -> None:
    problem = _problem(text)
    assert _at(problem) == ("yaml-alias", *where)


def test_undefined_alias() -> None:
    problem = _problem("kpis:\n  - name: a\n    meta: *nowhere\n")
    assert _at(problem) == ("yaml-syntax", 3, 11)
    assert "'*nowhere'" in problem.message


# ------------------------------------------------------------------------ size, depth


def test_file_size_cap(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(yamlsource, "MAX_BYTES", 100)
    text = "kpis:\n" + "  - {name: likes, type: simple, source: posts, agg: count}\n" * 3
    problem = _problem(text.encode("utf-8"))
    assert _at(problem) == ("file-too-large", 1, 1)
    assert "100" in problem.message and problem.hint
    _ok("kpis: []\n")


def test_too_deep_nesting() -> None:
    text = "kpis:\n  - meta: " + "[" * 150 + "]" * 150 + "\n"
    problem = _problem(text)
    # document, kpis, the KPI, then the lists: the 98th '[' is level 101
    assert _at(problem) == ("yaml-too-deep", 2, 11 + 97)


def test_nesting_beyond_what_libyaml_allows() -> None:
    problem = _problem("a: " + "[" * 5000 + "]" * 5000 + "\n")
    assert problem.rule == "yaml-too-deep"
    assert problem.line == 1


def test_reasonable_nesting_is_fine() -> None:
    _ok("a: " + "[" * 90 + "]" * 90 + "\n")


# ------------------------------------------------------------------------ encodings


def test_not_utf8() -> None:
    text = "kpis:\n  - name: likes\n    label: Réactions\n".encode("latin-1")
    problem = _problem(text)
    assert _at(problem) == ("not-utf8", 3, 13)
    assert "0xe9" in problem.message and problem.hint


def test_not_utf8_after_other_non_ascii_characters() -> None:
    text = "kpis:\n  - label: Ça va – très\xff\n".encode().replace(b"\xc3\xbf", b"\xff")
    assert _at(_problem(text)) == ("not-utf8", 2, 24)


def test_utf8_with_a_byte_order_mark() -> None:
    doc = _ok(b"\xef\xbb\xbfkpis: []\n")
    assert doc == {"kpis": []}


def test_control_characters() -> None:
    problem = _problem("kpis:\n  - label: Réactions\x0b(likes)\n")
    assert _at(problem) == ("yaml-syntax", 2, 21)
    assert "U+000B" in problem.message


# ------------------------------------------------------------------------ empty, odd


@pytest.mark.parametrize("text", ["", "\n\n", "# only a comment\n", "---\n", "--- \n...\n"])
def test_empty_documents(text: str) -> None:
    assert load(text, F) == (None, [])


def test_several_documents() -> None:
    problem = _problem("kpis: []\n---\nkpis: []\n")
    assert _at(problem) == ("yaml-syntax", 2, 1)


def test_python_tags_are_not_constructed() -> None:
    problem = _problem("kpis: !!python/object/apply:os.system ['echo pwned']\n")
    assert _at(problem) == ("yaml-syntax", 1, 7)


@pytest.mark.parametrize(
    ("text", "where", "words"),
    [
        ("a: 2024-02-30\n", (1, 4), "as a date"),
        ("a: !!int many\n", (1, 4), "as an integer"),
        ("a: " + "9" * 5000 + "\n", (1, 4), "as an integer"),
        ("a: !!timestamp never\n", (1, 4), "as a date"),
    ],
    ids=["impossible-date", "int-tag", "huge-int", "timestamp-tag"],
)
def test_values_yaml_cannot_build(text: str, where: tuple[int, int], words: str) -> None:
    problem = _problem(text)
    assert _at(problem) == ("yaml-syntax", *where)
    assert words in problem.message and problem.hint


def test_unhashable_key() -> None:
    assert _problem("? [a, b]\n: 1\n").rule == "yaml-syntax"


# ------------------------------------------------------------------------ syntax errors


@pytest.mark.parametrize(
    ("text", "rule", "where", "words"),
    [
        ("kpis:\n  - name: a\n    tags: [a, b\n    agg: sum\n", "yaml-syntax", (3, 11),
         "'[' is never closed"),
        ("kpis:\n  - meta: {a: 1\n    agg: sum\n", "yaml-syntax", (2, 11),
         "'{' is never closed"),
        ("kpis:\n  - tags: [a, b}\n", "yaml-syntax", (2, 16), "expected ',' or ']'"),
        ('kpis:\n  - name: "a\n    type: simple\n', "yaml-syntax", (2, 11),
         "quoted string is never closed"),
        ("kpis:\n  - name: 'it\n", "yaml-syntax", (2, 11), "quoted string is never closed"),
        ("kpis:\n  - name: a\n    type: simple\n      agg: sum\n", "yaml-syntax", (4, 7),
         "'agg' is indented more"),
        ("kpis:\n  - name: a\n    agg sum\n    expr: likes\n", "yaml-syntax", (3, 5),
         "'agg sum' has no ':'"),
        ("kpis:\n  - name: a\n  agg: sum\n", "yaml-syntax", (3, 3), "indented differently"),
        ("kpis:\n  - name: a\n    expr: a: b\n", "yaml-syntax", (3, 12), "not allowed"),
        ('kpis:\n  - label: "Likes" per post\n', "yaml-syntax", (2, 20), None),
        ("kpis:\n  - name: a\n\ttype: simple\n", "yaml-tab", (3, 1), "tab"),
        ("kpis:\n  - name: a\n    type: simple\n    \tagg: sum\n", "yaml-tab", (4, 5), "tab"),
    ],
    ids=["unclosed-bracket", "unclosed-brace", "wrong-bracket", "unclosed-double-quote",
         "unclosed-single-quote", "over-indented", "missing-colon", "under-indented",
         "colon-in-value", "text-after-quote", "tab-indent", "tab-after-spaces"],
)
def test_syntax_errors_are_located(text: str, rule: str, where: tuple[int, int],
                                   words: str | None) -> None:
    problem = _problem(text)
    assert _at(problem) == (rule, *where), problem.format()
    if words:
        assert words in problem.message
    assert problem.hint


def test_never_raises_on_a_truncated_or_damaged_file() -> None:
    """Every prefix of a realistic file, and the file with each special character
    inserted everywhere, loads or fails with located problems; nothing raises."""
    text = MERGE + DOC.replace("# a comment\n", "").replace("kpis:", "more:")
    variants = [text[:i] for i in range(len(text))]
    for char in ("\t", '"', "'", "[", "{", ":", "&", "*", "!", "%", "\x00", "|", ">", "-"):
        variants.extend(text[:i] + char + text[i:] for i in range(0, len(text), 7))
    for variant in variants:
        data, problems = load(variant, F)
        assert data is None or not problems
        for problem in problems:
            assert problem.file == F and problem.line and problem.column
            assert problem.line <= variant.count("\n") + 1
