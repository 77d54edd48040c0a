"""The JSON Schema of definition files: a valid draft 2020-12 schema that accepts what
SPEC §2 allows and rejects, with the right validator at the right place, what it does not.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from jsonschema import Draft202012Validator

from kpiframe import schema as kpischema
from kpiframe.cli import main
from kpiframe.yamlsource import load

ROOT = Path(__file__).resolve().parents[1]
SCHEMA_FILE = ROOT / "kpiframe" / "schema" / "kpiframe.schema.json"
TYPES = ("simple", "weighted", "ratio", "derived", "cumulative", "change")


def _errors(kpi: dict[str, Any]) -> list[tuple[str, tuple[Any, ...], str]]:
    """(validator, path inside the KPI, message) of each error for a file with this KPI."""
    validator = Draft202012Validator(kpischema.schema())
    found = []
    for error in validator.iter_errors({"kpis": [kpi]}):
        path = tuple(error.absolute_path)
        assert path[:2] == ("kpis", 0)
        found.append((str(error.validator), path[2:], error.message))
    return found


# --------------------------------------------------------------------- the schema itself


def test_schema_is_valid_draft_2020_12() -> None:
    document = kpischema.schema()
    Draft202012Validator.check_schema(document)
    assert document["$schema"] == "https://json-schema.org/draft/2020-12/schema"


def test_package_file_is_what_the_loader_reads() -> None:
    assert kpischema.schema_text() == SCHEMA_FILE.read_text("utf-8")


def test_cli_prints_the_schema() -> None:
    result = CliRunner().invoke(main, ["schema"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == json.loads(SCHEMA_FILE.read_text("utf-8"))
    assert result.stdout == SCHEMA_FILE.read_text("utf-8")


def test_every_type_allows_the_common_fields() -> None:
    """Each type's branch closes the KPI (additionalProperties: false), so it must list
    every field all KPIs have, or that field would be rejected for that type."""
    kpi = kpischema.schema()["$defs"]["kpi"]
    common = set(kpi["properties"])
    branches = {b["if"]["properties"]["type"]["const"]: b["then"] for b in kpi["allOf"]}
    assert set(branches) == set(TYPES) == set(kpi["properties"]["type"]["enum"])
    for name, branch in branches.items():
        assert branch["additionalProperties"] is False, name
        assert common <= set(branch["properties"]), (name, common - set(branch["properties"]))


# --------------------------------------------------------------------- per type

VALID: dict[str, list[dict[str, Any]]] = {
    "simple": [
        {"name": "post_likes", "type": "simple", "source": "posts", "agg": "sum",
         "expr": "likes"},
        {"name": "video_posts", "type": "simple", "source": "posts", "agg": "count",
         "filter": "post_type = 'video'", "platforms": ["x", "instagram"], "label": "Videos",
         "description": "Videos *published*.", "owner": "social", "tags": ["video"],
         "unit": "count", "direction": "higher_is_better",
         "target": {"value": 12, "grain": "month"}, "fill_nulls_with": 0,
         "meta": {"dashboard": {"tab": 2}}},
        {"name": "followers", "type": "simple", "source": "account_daily", "agg": "last",
         "expr": "followers"},
    ],
    "weighted": [
        {"name": "interactions", "type": "weighted", "source": "posts"},
        {"name": "weighted_engagement", "type": "weighted", "source": "post_daily",
         "weights": {"likes": 1, "comments": 2.5, "shares": 3},
         "platform_weights": {"linkedin": {"comments": 4}}, "filter": "NOT is_paid",
         "platforms": ["linkedin", "x"]},
    ],
    "ratio": [
        {"name": "engagement_rate", "type": "ratio", "numerator": "interactions",
         "denominator": "impressions"},
        {"name": "engagement_rate_by_reach", "type": "ratio", "numerator": "interactions",
         "denominator": "reach", "scale": 100, "average_over": "post_id", "unit": "percent"},
    ],
    "derived": [
        {"name": "net_followers", "type": "derived", "expr": "gained - lost"},
        {"name": "interactions_per_post", "type": "derived",
         "expr": "coalesce(interactions, 0) / nullif(posts, 0)", "unit": "ratio",
         "direction": "higher_is_better"},
    ],
    "cumulative": [
        {"name": "all_time_posts", "type": "cumulative", "of": "posts"},
        {"name": "rolling_likes", "type": "cumulative", "of": "likes", "window": "28 days"},
        {"name": "likes_mtd", "type": "cumulative", "of": "likes", "grain_to_date": "month",
         "target": {"value": 1000, "grain": "month"}},
    ],
    "change": [
        {"name": "likes_change", "type": "change", "of": "likes"},
        {"name": "audience_growth_rate", "type": "change", "of": "followers",
         "offset": "1 month", "calc": "percent", "unit": "percent"},
        {"name": "likes_vs_two_periods_ago", "type": "change", "of": "likes", "offset": 2,
         "calc": "ratio"},
    ],
}

#: (KPI, the validator that fails, where inside the KPI, a word of the message)
INVALID: dict[str, list[tuple[dict[str, Any], str, tuple[Any, ...], str]]] = {
    "simple": [
        ({"name": "a", "type": "simple", "source": "posts"}, "required", (), "'agg'"),
        ({"name": "a", "type": "simple", "source": "posts", "agg": "sum"},
         "required", (), "'expr'"),
        ({"name": "a", "type": "simple", "source": "posts", "agg": "total", "expr": "likes"},
         "enum", ("agg",), "total"),
        ({"name": "a", "type": "simple", "source": "posts", "agg": "count",
          "weights": {"likes": 1}}, "additionalProperties", (), "weights"),
        ({"name": "a", "type": "simple", "source": "posts", "agg": "count", "platforms": []},
         "minItems", ("platforms",), "non-empty"),
        ({"name": "a", "type": "simple", "source": "posts", "agg": "sum", "expr": ""},
         "minLength", ("expr",), "non-empty"),
    ],
    "weighted": [
        ({"name": "a", "type": "weighted"}, "required", (), "'source'"),
        ({"name": "a", "type": "weighted", "source": "posts", "weights": {"likes": "high"}},
         "type", ("weights", "likes"), "number"),
        ({"name": "a", "type": "weighted", "source": "posts", "agg": "sum"},
         "additionalProperties", (), "agg"),
        ({"name": "a", "type": "weighted", "source": "posts",
          "platform_weights": {"X": {"likes": 1}}}, "pattern", ("platform_weights",), "X"),
    ],
    "ratio": [
        ({"name": "a", "type": "ratio", "numerator": "likes"}, "required", (),
         "'denominator'"),
        ({"name": "a", "type": "ratio", "numerator": "likes", "denominator": "reach",
          "scale": "100"}, "type", ("scale",), "number"),
        ({"name": "a", "type": "ratio", "numerator": "Post Likes", "denominator": "reach"},
         "pattern", ("numerator",), "Post Likes"),
        ({"name": "a", "type": "ratio", "numerator": "likes", "denominator": "reach",
          "expr": "likes / reach"}, "additionalProperties", (), "expr"),
    ],
    "derived": [
        ({"name": "a", "type": "derived"}, "required", (), "'expr'"),
        ({"name": "a", "type": "derived", "expr": ""}, "minLength", ("expr",), "non-empty"),
        ({"name": "a", "type": "derived", "expr": "a + b", "source": "posts"},
         "additionalProperties", (), "source"),
        ({"name": "a", "type": "derived", "expr": ["a", "b"]}, "type", ("expr",), "string"),
    ],
    "cumulative": [
        ({"name": "a", "type": "cumulative", "window": "7 days"}, "required", (), "'of'"),
        ({"name": "a", "type": "cumulative", "of": "likes", "window": "7d"},
         "pattern", ("window",), "7d"),
        ({"name": "a", "type": "cumulative", "of": "likes", "window": "7 days",
          "grain_to_date": "month"}, "not", (), "should not be valid"),
        ({"name": "a", "type": "cumulative", "of": "likes", "grain_to_date": "day"},
         "enum", ("grain_to_date",), "day"),
    ],
    "change": [
        ({"name": "a", "type": "change", "calc": "percent"}, "required", (), "'of'"),
        ({"name": "a", "type": "change", "of": "likes", "offset": 0}, "oneOf", ("offset",),
         "0"),
        ({"name": "a", "type": "change", "of": "likes", "offset": "last month"},
         "oneOf", ("offset",), "last month"),
        ({"name": "a", "type": "change", "of": "likes", "calc": "pct"}, "enum", ("calc",),
         "pct"),
    ],
}


def test_examples_cover_every_type() -> None:
    assert set(VALID) == set(INVALID) == set(TYPES)
    for kpi_type in TYPES:
        assert len(VALID[kpi_type]) >= 2 and len(INVALID[kpi_type]) >= 3, kpi_type
        assert all(k["type"] == kpi_type for k in VALID[kpi_type])
        assert all(k["type"] == kpi_type for k, *_ in INVALID[kpi_type])


@pytest.mark.parametrize(
    "kpi", [k for t in TYPES for k in VALID[t]], ids=lambda k: f"{k['type']}-{k['name']}")
def test_valid_examples_pass(kpi: dict[str, Any]) -> None:
    assert _errors(kpi) == []


@pytest.mark.parametrize(
    ("kpi", "validator", "where", "word"),
    [case for t in TYPES for case in INVALID[t]],
    ids=[f"{t}-{case[1]}-{'.'.join(map(str, case[2])) or 'kpi'}"
         for t in TYPES for case in INVALID[t]],
)
def test_invalid_examples_fail(kpi: dict[str, Any], validator: str,
                               where: tuple[Any, ...], word: str) -> None:
    errors = _errors(kpi)
    assert len(errors) == 1, errors
    assert errors[0][:2] == (validator, where)
    assert word in errors[0][2]


@pytest.mark.parametrize(
    ("kpi", "validator", "where"),
    [
        ({"type": "simple", "source": "posts", "agg": "count"}, "required", ()),
        ({"name": "Likes", "type": "simple", "source": "posts", "agg": "count"},
         "pattern", ("name",)),
        ({"name": "a" * 64, "type": "simple", "source": "posts", "agg": "count"},
         "pattern", ("name",)),
        ({"name": "likes"}, "required", ()),
        ({"name": "likes", "type": "gauge"}, "enum", ("type",)),
        ({"name": "likes", "type": "derived", "expr": "a", "target": {"value": 1}},
         "required", ("target",)),
        ({"name": "likes", "type": "derived", "expr": "a", "tags": ["x", "x"]},
         "uniqueItems", ("tags",)),
        ({"name": "likes", "type": "derived", "expr": "a", "direction": "up"},
         "enum", ("direction",)),
    ],
)
def test_common_fields(kpi: dict[str, Any], validator: str, where: tuple[Any, ...]) -> None:
    errors = _errors(kpi)
    assert [e[:2] for e in errors] == [(validator, where)], errors


def test_name_is_at_most_63_characters() -> None:
    base = {"type": "simple", "source": "posts", "agg": "count"}
    assert _errors({"name": "a" * 63, **base}) == []
    assert _errors({"name": "a" * 64, **base})


def test_top_level() -> None:
    validator = Draft202012Validator(kpischema.schema())
    assert not list(validator.iter_errors({}))
    assert not list(validator.iter_errors({"kpis": [], "tests": []}))
    (error,) = validator.iter_errors({"kpi": []})
    assert error.validator == "additionalProperties"
    (error,) = validator.iter_errors({"kpis": {"name": "likes"}})
    assert (error.validator, list(error.absolute_path)) == ("type", ["kpis"])


# --------------------------------------------------------------------- located problems


def test_schema_errors_become_located_problems() -> None:
    text = (
        "kpis:\n"
        "  - name: likes\n"
        "    type: simple\n"
        "    source: posts\n"
        "    agg: total\n"
        "    expr: likes\n"
        "  - name: rate\n"
        "    type: ratio\n"
        "    numerator: likes\n"
        "    denominator: reach\n"
        "    scal: 100\n"
    )
    doc, problems = load(text, "f.yaml")
    assert problems == []
    found, broken = kpischema.validate(doc, "f.yaml")
    assert [(p.rule, p.line, p.column, p.kpi) for p in found] == [
        ("bad-value", 5, 10, "likes"),
        ("unknown-key", 11, 5, "rate"),
    ]
    assert found[0].hint == "use one of: sum, count, count_distinct, avg, min, max, last"
    assert found[1].hint == "did you mean 'scale'?"
    assert broken == {("kpis", 0), ("kpis", 1)}
