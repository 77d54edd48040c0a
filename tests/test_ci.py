"""CI for metric catalogs: `kpiframe test`, `kpiframe diff`, and reports that CI systems
read (JUnit XML checked against the JUnit XSD, SARIF against the SARIF 2.1.0 schema)."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from kpiframe.cli import main
from tests.ci_schemas import schema_file

ROOT = Path(__file__).resolve().parents[1]

KPIS = """\
kpis:
  - name: likes
    type: simple
    source: post_daily
    agg: sum
    expr: likes
  - name: impressions
    type: simple
    source: post_daily
    agg: sum
    expr: impressions
  - name: like_rate
    type: ratio
    numerator: likes
    denominator: impressions
    scale: 100
  - name: followers
    type: simple
    source: account_daily
    agg: last
    expr: followers
  - name: audience_growth_rate
    type: change
    of: followers
    calc: percent
"""

PASSING = """\
tests:
  - name: like_rate_divides_sums
    kpis: [likes, like_rate]
    query: {grain: month, by: [platform]}
    given:
      alpha:
        post_daily:
          - {post_id: "1", date: 2025-01-03, likes: 10, impressions: 100}
          - {post_id: "2", date: 2025-01-20, likes: 0, impressions: 0}
          - {post_id: "2", date: 2025-03-02, likes: 5, impressions: 50}
      beta:
        post_daily:
          - {post_id: "9", date: 2025-01-05, likes: 3, impressions: 10}
    expect:
      # January: 10 / 100 (the zero-impression day adds nothing), not the mean of 10% and NULL
      - {period: 2025-01-01, platform: alpha, likes: 10, like_rate: 10.0}
      - {period: 2025-01-01, platform: beta, likes: 3, like_rate: 30.0}
      - {period: 2025-02-01, platform: alpha, likes: null, like_rate: null}
      - {period: 2025-02-01, platform: beta, likes: null, like_rate: null}
      - {period: 2025-03-01, platform: alpha, likes: 5, like_rate: 10.0}
      - {period: 2025-03-01, platform: beta, likes: null, like_rate: null}
  - name: followers_are_a_snapshot
    kpis: [followers, audience_growth_rate]
    query: {grain: month}
    given:
      alpha:
        account_daily:
          - {account_id: a, date: 2025-01-30, followers: 100}
          - {account_id: a, date: 2025-01-31, followers: 110}
          - {account_id: a, date: 2025-02-28, followers: 121}
    expect:
      - {period: 2025-01-01, followers: 110, audience_growth_rate: null}
      - {period: 2025-02-01, followers: 121, audience_growth_rate: 10.0}
"""

FAILING = """\
tests:
  - name: wrong_rate
    kpis: [like_rate]
    query: {grain: month}
    given:
      alpha:
        post_daily:
          - {post_id: "1", date: 2025-01-03, likes: 10, impressions: 100}
          - {post_id: "1", date: 2025-01-04, likes: 30, impressions: 100}
    expect:
      - {period: 2025-01-01, like_rate: 25.0}
  - name: missing_month
    kpis: [likes]
    query: {grain: month, from: 2025-01-01, to: 2025-02-28}
    given:
      alpha:
        post_daily:
          - {post_id: "1", date: 2025-01-03, likes: 10}
    expect:
      - {period: 2025-01-01, likes: 10}
"""


def project(tmp_path: Path, *files: tuple[str, str]) -> Path:
    folder = tmp_path / "definitions"
    folder.mkdir(exist_ok=True)
    for name, text in files:
        (folder / name).write_text(text)
    return tmp_path


@pytest.fixture(autouse=True)
def _in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Run where a CI job would: in the project folder, so paths print relative to it."""
    monkeypatch.chdir(tmp_path)


def invoke(root: Path, *args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, ["--project", str(root), "--plugin", "testplatforms",
                                       *args], catch_exceptions=False)
    assert "Traceback" not in result.output
    return result.exit_code, result.output


def without_timing(text: str) -> str:
    return re.sub(r"in \d+\.\d+s", "in Xs", text)


# -- kpiframe test ------------------------------------------------------------------------


def test_a_passing_suite(tmp_path: Path) -> None:
    root = project(tmp_path, ("kpis.yaml", KPIS), ("tests.yaml", PASSING))
    code, out = invoke(root, "test")
    assert code == 0, out
    assert without_timing(out) == (
        "PASS like_rate_divides_sums (definitions/tests.yaml:2:11)\n"
        "PASS followers_are_a_snapshot (definitions/tests.yaml:22:11)\n"
        "2 passed, 0 failed in Xs\n")


def test_a_failing_suite_prints_a_readable_diff(tmp_path: Path) -> None:
    root = project(tmp_path, ("kpis.yaml", KPIS), ("tests.yaml", FAILING))
    code, out = invoke(root, "test")
    assert code == 1
    assert without_timing(out) == (
        "FAIL wrong_rate (definitions/tests.yaml:2:11)\n"
        "    row 1 (period=2025-01-01):\n"
        "      like_rate: expected 25, got 20\n"
        "FAIL missing_month (definitions/tests.yaml:12:11)\n"
        "    expected 1 rows, got 2\n"
        "    unexpected row: period=2025-02-01  likes=null\n"
        "0 passed, 2 failed in Xs\n")


def test_select_tests_by_name_and_run_on_sqlite(tmp_path: Path) -> None:
    root = project(tmp_path, ("kpis.yaml", KPIS), ("tests.yaml", PASSING))
    code, out = invoke(root, "test", "-k", "followers_are_a_snapshot", "--engine", "sqlite://")
    assert code == 0, out
    assert "PASS followers_are_a_snapshot" in out and "like_rate" not in out
    code, out = invoke(root, "test", "-k", "no_such_test")
    assert code == 1 and "no test named 'no_such_test'" in out


def test_json_and_github_formats(tmp_path: Path) -> None:
    root = project(tmp_path, ("kpis.yaml", KPIS), ("tests.yaml", FAILING))
    code, out = invoke(root, "test", "--format", "json")
    report = json.loads(out)
    assert code == 1
    assert [(t["name"], t["status"], t["line"]) for t in report["tests"]] == [
        ("wrong_rate", "failed", 2), ("missing_month", "failed", 12)]
    assert report["tests"][0]["failures"] == [
        "row 1 (period=2025-01-01):\n  like_rate: expected 25, got 20"]
    code, out = invoke(root, "test", "--format", "github")
    assert out.splitlines()[0] == (
        "::error file=definitions/tests.yaml,line=2,col=11,title=kpi-test::"
        "KPI test 'wrong_rate' failed:%0Arow 1 (period=2025-01-01):%0A  like_rate: "
        "expected 25, got 20")


def _validate_xml(text: str) -> None:
    from lxml import etree

    schema = etree.XMLSchema(etree.parse(str(schema_file("junit-10.xsd"))))
    document = etree.fromstring(text.encode())
    assert schema.validate(document), schema.error_log


def test_junit_report_of_tests_is_valid_junit(tmp_path: Path) -> None:
    root = project(tmp_path, ("kpis.yaml", KPIS), ("tests.yaml", PASSING + FAILING[7:]))
    code, out = invoke(root, "test", "--format", "junit")
    assert code == 1
    _validate_xml(out)
    assert out.count("<failure ") == 2 and 'tests="4"' in out


def test_tests_are_validated_with_the_catalog(tmp_path: Path) -> None:
    broken = PASSING.replace("kpis: [likes, like_rate]", "kpis: [likes, like_rat]").replace(
        "likes: 5, impressions: 50", "likes: 5, impresions: 50")
    root = project(tmp_path, ("kpis.yaml", KPIS), ("tests.yaml", broken))
    code, out = invoke(root, "validate")
    assert code == 1
    assert ("definitions/tests.yaml:3:19: error[unknown-kpi] test 'like_rate_divides_sums' "
            "queries 'like_rat' (did you mean 'like_rate'?)") in out
    assert ("definitions/tests.yaml:10:56: error[unknown-field] test 'like_rate_divides_sums': "
            "post_daily has no field 'impresions' (did you mean 'impressions'?)") in out
    code, out = invoke(root, "test")
    assert code == 1 and "fix them first" in out


# -- validate reports CI systems read --------------------------------------------------------


BROKEN = KPIS + """\
  - name: bad
    type: ratio
    numerator: likes
    denominator: impresions
  - name: reach_sum
    type: simple
    source: post_daily
    agg: sum
    expr: reach
"""


def test_validate_junit_is_valid_junit(tmp_path: Path) -> None:
    root = project(tmp_path, ("kpis.yaml", BROKEN))
    code, out = invoke(root, "validate", "--format", "junit")
    assert code == 1
    _validate_xml(out)
    assert out.count("<failure ") == 1  # the warning is system-out, not a failure


def test_validate_sarif_is_valid_sarif(tmp_path: Path) -> None:
    from jsonschema import Draft7Validator

    root = project(tmp_path, ("kpis.yaml", BROKEN))
    code, out = invoke(root, "validate", "--format", "sarif")
    assert code == 1
    report = json.loads(out)
    schema = json.loads(schema_file("sarif-schema-2.1.0.json").read_text())
    errors = list(Draft7Validator(schema).iter_errors(report))
    assert not errors, [e.message for e in errors]
    results = report["runs"][0]["results"]
    assert [(r["ruleId"], r["level"]) for r in results] == [
        ("unknown-kpi", "error"), ("sum-non-additive", "warning")]
    region = results[0]["locations"][0]["physicalLocation"]["region"]
    assert region == {"startLine": 29, "startColumn": 18}


# -- kpiframe diff ------------------------------------------------------------------------


BASE = KPIS + """\
  - name: comments
    type: simple
    source: post_daily
    agg: sum
    expr: comments
  - name: engagement
    type: derived
    expr: likes + comments
    label: Engagement
  - name: shares
    type: simple
    source: post_daily
    agg: sum
    expr: shares
"""
HEAD = (BASE
        .replace("    expr: likes\n", "    expr: likes\n    filter: \"post_type <> 'story'\"\n", 1)
        .replace("  - name: comments\n", "  - name: replies\n")
        .replace("expr: likes + comments", "expr: likes + replies")
        .replace("    label: Engagement\n", "    label: Engagements\n")
        .replace("    scale: 100\n", "    scale: 100\n    description: Likes per impression.\n")
        .replace("""  - name: shares
    type: simple
    source: post_daily
    agg: sum
    expr: shares
""", """  - name: saves
    type: simple
    source: post_daily
    agg: sum
    expr: saves
"""))


def test_diff_reports_each_kind_of_change(tmp_path: Path) -> None:
    (tmp_path / "base").mkdir()
    (tmp_path / "head").mkdir()
    (tmp_path / "base" / "k.yaml").write_text(BASE)
    (tmp_path / "head" / "k.yaml").write_text(HEAD)
    code, out = invoke(tmp_path, "diff", str(tmp_path / "base"), str(tmp_path / "head"))
    assert code == 0, out
    assert out == (
        "saves: added\n"
        "shares: removed\n"
        "replies: renamed comments → replies\n"
        "engagement: changed (numbers): expr: likes + comments → likes + replies; label: "
        "Engagement → Engagements; compiled SQL changed through likes\n"
        "like_rate: changed (docs only): description: — → Likes per impression.; compiled "
        "SQL changed through likes\n"
        "likes: changed (numbers): filter: — → post_type <> 'story'\n"
        "6 KPI(s) differ; 5 can change numbers\n"
    )
    code, _ = invoke(tmp_path, "diff", str(tmp_path / "base"), str(tmp_path / "head"),
                     "--exit-code")
    assert code == 1


def test_diff_affected_through_a_dependency(tmp_path: Path) -> None:
    (tmp_path / "base").mkdir()
    (tmp_path / "head").mkdir()
    (tmp_path / "base" / "k.yaml").write_text(KPIS)
    (tmp_path / "head" / "k.yaml").write_text(
        KPIS.replace("    expr: impressions\n", "    expr: impressions\n    platforms: [alpha]\n"))
    code, out = invoke(tmp_path, "diff", str(tmp_path / "base"), str(tmp_path / "head"),
                       "--format", "json")
    report = json.loads(out)
    assert [(c["kind"], c["name"], c["via"]) for c in report["changes"]] == [
        ("changed", "impressions", []), ("affected", "like_rate", ["impressions"])]
    assert report["changes"][0]["values"] == {"platforms": {"base": None, "head": ["alpha"]}}
    code, out = invoke(tmp_path, "diff", str(tmp_path / "base"), str(tmp_path / "head"),
                       "--format", "markdown")
    assert code == 0
    assert out.splitlines()[:3] == [
        "### kpiframe: 2 KPI(s) differ, 2 can change numbers", "", "**Changed**"]
    assert "| `impressions` | `platforms` | — | [\"alpha\"] | yes |" in out
    assert "- `like_rate`: compiled SQL changed through impressions" in out


def test_diff_between_git_refs(tmp_path: Path) -> None:
    def git(*args: str) -> None:
        subprocess.run(["git", "-C", str(tmp_path), *args], check=True, capture_output=True)

    git("init", "-q", "-b", "main")
    git("config", "user.email", "t@example.com")
    git("config", "user.name", "t")
    project(tmp_path, ("k.yaml", KPIS))
    git("add", ".")
    git("commit", "-qm", "base")
    (tmp_path / "definitions" / "k.yaml").write_text(KPIS.replace("scale: 100", "scale: 1000"))
    git("commit", "-qam", "head")
    code, out = invoke(tmp_path, "diff", "HEAD~1", "HEAD")
    assert code == 0, out
    assert out.splitlines() == ["like_rate: changed (numbers): scale: 100 → 1000",
                                "1 KPI(s) differ; 1 can change numbers"]
    code, out = invoke(tmp_path, "diff", "no-such-ref", "HEAD")
    assert code == 1 and "neither a folder nor a git commit" in out


# -- pre-commit ---------------------------------------------------------------------------


def test_pre_commit_hooks_run_kpiframe_commands() -> None:
    hooks = yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text())
    by_id = {h["id"]: h for h in hooks}
    assert by_id["kpiframe-validate"]["entry"] == "kpiframe validate"
    assert by_id["kpiframe-test"]["entry"] == "kpiframe test"
    for hook in hooks:
        assert hook["language"] == "python" and hook["pass_filenames"] is False
        assert "yaml" in hook["types_or"] or hook["files"]
