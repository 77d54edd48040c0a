"""The compiled yes/no schema check agrees with jsonschema, and validation through it
reports exactly what jsonschema alone reports.

The fast path may only ever skip jsonschema for a document jsonschema accepts; these
tests compare the two on every definition file in the repository (the standard catalog,
the broken-definitions corpus, plugins' and examples' files) and on generated mutations
of valid KPIs, KPI tests and project files.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kpiframe import schema, yamlsource
from kpiframe.schema_fastpath import compile_check, equal

ROOT = Path(__file__).resolve().parents[1]
FILES = sorted(
    p for folder in ("definitions", "tests/corpus", "plugins", "examples")
    for p in (ROOT / folder).rglob("*.y*ml")
)


def _doc(path: Path) -> Any:
    doc, problems = yamlsource.load(path.read_bytes(), str(path))
    return None if problems else doc


DOCS = [(p, d) for p in FILES if (d := _doc(p)) is not None]


def _slow(doc: Any, kind: str = schema.DEFINITIONS) -> list[str]:
    """Problems as jsonschema alone finds them (the fast path switched off)."""
    original = schema._fast_path
    try:
        schema._fast_path = lambda kind: None  # type: ignore[assignment]
        problems, broken = schema.validate(doc, "f.yaml", kind)
    finally:
        schema._fast_path = original  # type: ignore[method-assign]
    return [p.format() for p in problems] + sorted(map(str, broken))


def _fast(doc: Any, kind: str = schema.DEFINITIONS) -> list[str]:
    problems, broken = schema.validate(doc, "f.yaml", kind)
    return [p.format() for p in problems] + sorted(map(str, broken))


def test_the_fast_path_compiles_both_schemas() -> None:
    assert schema._fast_path(schema.DEFINITIONS) is not None
    assert schema._fast_path(schema.PROJECT) is not None
    assert len(DOCS) > 50, "the repository's definition files are the first comparison"


@pytest.mark.parametrize("path", [p for p, _ in DOCS], ids=lambda p: str(p.relative_to(ROOT)))
def test_repository_files_give_the_same_problems(path: Path) -> None:
    doc = dict(DOCS)[path]
    from jsonschema import Draft202012Validator

    assert compile_check(schema.schema())(doc) == Draft202012Validator(
        schema.schema()).is_valid(doc)
    assert _fast(doc) == _slow(doc)


# -------------------------------------------------------------------- generated cases

_SCALARS = st.one_of(
    st.none(), st.booleans(), st.integers(-3, 3), st.sampled_from([0.5, 1.0, -1.0, 100.0]),
    st.sampled_from(["", "sum", "count", "last", "day", "month", "week", "7 days", "1 month",
                     "0 days", "k1", "Bad-Name", "post_daily", "posts", "likes + 1", "x",
                     "percent", "difference", "alpha", "likes", "higher_is_better"]),
    st.just(dt.date(2025, 1, 1)),
)
_VALUES = st.recursive(
    _SCALARS,
    lambda inner: st.one_of(st.lists(inner, max_size=3),
                            st.dictionaries(st.sampled_from(["a", "likes", "grain", "value",
                                                             "alpha", "x"]), inner,
                                            max_size=3)),
    max_leaves=6,
)
_KPIS: list[dict[str, Any]] = [
    {"name": "k1", "type": "simple", "source": "post_daily", "agg": "sum", "expr": "likes",
     "filter": "likes > 0", "platforms": ["alpha"], "tags": ["a"], "unit": "count",
     "target": {"value": 1, "grain": "month"}, "meta": {"a": 1}},
    {"name": "k2", "type": "simple", "source": "posts", "agg": "count"},
    {"name": "k3", "type": "weighted", "source": "post_daily", "weights": {"likes": 1},
     "platform_weights": {"alpha": {"likes": 2}}, "interactions": ["likes"]},
    {"name": "k4", "type": "ratio", "numerator": "k1", "denominator": "k2", "scale": 100,
     "average_over": "post_id"},
    {"name": "k5", "type": "derived", "expr": "k1 + k2", "fill_nulls_with": 0},
    {"name": "k6", "type": "cumulative", "of": "k1", "window": "7 days"},
    {"name": "k7", "type": "cumulative", "of": "k1", "grain_to_date": "month"},
    {"name": "k8", "type": "change", "of": "k1", "offset": "1 month", "calc": "percent"},
    {"name": "k9", "type": "change", "of": "k1", "offset": 2},
]
_KEYS = sorted({k for kpi in _KPIS for k in kpi} | {"bogus", "owner", "label", "direction",
                                                    "description"})
#: values some KPI above has for each key, and near misses
_PLAUSIBLE: dict[str, list[Any]] = {}
for _kpi in _KPIS:
    for _key, _value in _kpi.items():
        _PLAUSIBLE.setdefault(_key, []).append(_value)
for _key, _extra in {"agg": ["avg", "count_distinct", "median"], "window": ["4 weeks", "1 year"],
                     "offset": [1, 0, "2 weeks", 1.5], "platforms": [["alpha", "alpha"], []],
                     "tags": [[], ["a", "a"]], "scale": [True, 1.5],
                     "target": [{"value": 1}, {"value": True, "grain": "day"}],
                     "calc": ["ratio"], "direction": ["lower_is_better", "up"]}.items():
    _PLAUSIBLE.setdefault(_key, []).extend(_extra)
_TEST = {"name": "t1", "kpi": "k1", "query": {"grain": "month"},
         "fixtures": {"post_daily": [{"date": "2025-01-01", "likes": 1}]},
         "expect": [{"k1": 1}]}


@st.composite
def _mutated(draw: st.DrawFn, base: dict[str, Any], keys: list[str]) -> dict[str, Any]:
    item = dict(base)
    for _ in range(draw(st.integers(1, 3))):
        key = draw(st.sampled_from(keys))
        choice = draw(st.integers(0, 4))
        if choice == 0 and key in item:
            del item[key]
        elif choice in (1, 2) and _PLAUSIBLE.get(key):
            item[key] = draw(st.sampled_from(_PLAUSIBLE[key]))  # often valid: the edge cases
        else:
            item[key] = draw(_VALUES)
    return item


_FAST = settings(max_examples=300, deadline=None,
                 suppress_health_check=[HealthCheck.too_slow])


@_FAST
@given(st.sampled_from(_KPIS).flatmap(lambda k: _mutated(k, _KEYS)), st.integers(0, 2))
def test_mutated_kpis_agree(kpi: dict[str, Any], place: int) -> None:
    others = [dict(k) for k in _KPIS[:2]]
    doc = {"kpis": [*others[:place], kpi, *others[place:]], "tests": [_TEST]}
    assert _fast(doc) == _slow(doc)


@_FAST
@given(_mutated(_TEST, ["name", "kpi", "query", "fixtures", "expect", "bogus"]))
def test_mutated_kpi_tests_agree(test: dict[str, Any]) -> None:
    doc = {"kpis": [_KPIS[0]], "tests": [test]}
    assert _fast(doc) == _slow(doc)


@_FAST
@given(_mutated({"definitions": ["definitions"], "engine": "duckdb:///x.duckdb"},
                ["definitions", "engine", "plugins", "disable_plugins", "prefer", "platforms",
                 "bogus"]))
def test_mutated_project_files_agree(project: dict[str, Any]) -> None:
    assert _fast(project, schema.PROJECT) == _slow(project, schema.PROJECT)


@_FAST
@given(_VALUES, _VALUES)
def test_json_equality_is_jsonschemas(one: Any, two: Any) -> None:
    from jsonschema._utils import equal as jsonschema_equal

    assert equal(one, two) == jsonschema_equal(one, two)
