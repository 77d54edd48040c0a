"""Rough edges a newcomer hit, each fixed and kept fixed: definitions outside a project,
absolute DuckDB paths, plugins tried from the working directory, an empty catalog that
says where it looked, `diff REF` against the working tree, JUnit failures with values,
a platform without data, and one error per typo."""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from kpiframe.cli import main
from kpiframe.engines.duckdb import DuckDBConnection
from kpiframe.problems import KpiframeError
from kpiframe.testing import canonical_columns

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
"""

#: likes and impressions per platform, on one day each
ROWS = {"alpha": (10, 200), "beta": (1, 50)}


def _build(url: str, platforms: tuple[str, ...]) -> None:
    con = DuckDBConnection(url)
    columns = canonical_columns("post_daily")
    names = [n for n, _ in columns]
    for platform in platforms:
        likes, impressions = ROWS[platform]
        row = dict.fromkeys(names)
        row.update(post_id="1", date=dt.date(2025, 1, 5), likes=likes, impressions=impressions)
        con.create_table(platform, "post_daily", columns, [[row[n] for n in names]])
        con.create_table(platform, "account_daily", canonical_columns("account_daily"), [])
    con.close()


@pytest.fixture
def outside(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A folder that is not a project: definitions in `defs/`, data in `data.duckdb`."""
    (tmp_path / "defs").mkdir()
    (tmp_path / "defs" / "kpis.yaml").write_text(KPIS)
    _build(f"duckdb:///{tmp_path / 'data.duckdb'}", ("alpha", "beta"))
    monkeypatch.chdir(tmp_path)
    return tmp_path


def cli(*args: str) -> Result:
    result = CliRunner().invoke(main, ["--plugin", "testplatforms", *args])
    assert "Traceback" not in result.output, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), (
        repr(result.exception))
    return result


# ----------------------------------------------------------- definitions outside a project


def test_list_show_compile_query_take_definitions(outside: Path) -> None:
    listed = cli("list", "--definitions", "defs")
    assert listed.exit_code == 0, listed.output
    assert "like_rate" in listed.stdout and "3 KPIs" in listed.stdout
    shown = cli("show", "--definitions", "defs", "like_rate")
    assert shown.exit_code == 0 and "like_rate" in shown.stdout
    compiled = cli("compile", "--definitions", "defs/kpis.yaml", "likes")
    assert compiled.exit_code == 0 and "SELECT" in compiled.stdout
    queried = cli("query", "--definitions", "defs", "likes", "impressions", "--format", "csv",
                  "--engine", "duckdb:///data.duckdb")
    assert queried.exit_code == 0, queried.output
    assert queried.stdout.splitlines() == ["likes,impressions", "11,250"]


def test_definitions_repeat_and_a_missing_one_is_a_usage_error(outside: Path) -> None:
    (outside / "more.yaml").write_text(
        "kpis:\n  - name: n_posts\n    type: simple\n    source: post_daily\n    agg: count\n")
    listed = cli("list", "--definitions", "defs", "--definitions", "more.yaml",
                 "--format", "json")
    assert listed.exit_code == 0, listed.output
    assert "n_posts" in listed.stdout and "likes" in listed.stdout
    missing = cli("query", "--definitions", "nowhere", "likes")
    assert missing.exit_code == 2 and "nowhere" in missing.output


def test_an_empty_catalog_says_where_kpiframe_looked(outside: Path) -> None:
    result = cli("list", "--allow-empty")
    assert result.exit_code == 0
    assert "0 KPIs" in result.stdout
    assert "'definitions' (not found)" in result.stderr
    assert "no kpiframe.yaml" in result.stderr and "--definitions" in result.stderr
    (outside / "empty").mkdir()
    result = cli("list", "--allow-empty", "--definitions", "empty")
    assert "'empty'" in result.stderr and "(not found)" not in result.stderr


# ----------------------------------------------------------- diff against the working tree


def _git(folder: Path, *args: str) -> None:
    subprocess.run(["git", "-C", str(folder), "-c", "user.name=t", "-c", "user.email=t@t",
                    *args], check=True, capture_output=True)


def test_diff_ref_compares_with_the_working_tree(outside: Path) -> None:
    (outside / "defs").rename(outside / "definitions")
    _git(outside, "init", "-q")
    _git(outside, "add", "definitions")
    _git(outside, "commit", "-q", "-m", "kpis")
    kpis = outside / "definitions" / "kpis.yaml"
    kpis.write_text(KPIS.replace("expr: likes", "expr: likes + 1"))
    result = cli("diff", "HEAD", "--format", "json")
    assert result.exit_code == 0, result.output
    changes = {c["name"]: c["kind"] for c in json.loads(result.stdout)["changes"]}
    assert changes["likes"] == "changed" and changes["like_rate"] == "affected"
    assert "impressions" not in changes
    # no change at all: nothing to report, and --exit-code says so
    _git(outside, "commit", "-q", "-am", "likes + 1")
    same = cli("diff", "HEAD", "--exit-code")
    assert same.exit_code == 0, same.output


# ----------------------------------------------------------- JUnit failures carry the values

FAILING_TEST = """\
tests:
  - name: likes_add_up
    kpis: [likes, impressions]
    given:
      alpha:
        post_daily:
          - {post_id: a, date: 2025-01-05, likes: 2, impressions: 10}
          - {post_id: b, date: 2025-01-06, likes: 3, impressions: 10}
    expect:
      - {likes: 6, impressions: 21}
"""


def test_junit_failure_message_carries_expected_and_actual(outside: Path) -> None:
    (outside / "defs" / "tests.yaml").write_text(FAILING_TEST)
    result = cli("test", "defs", "--format", "junit")
    assert result.exit_code == 1, result.output
    (failure,) = ET.fromstring(result.stdout).iter("failure")
    message = failure.get("message", "")
    assert "likes: expected 6, got 5" in message
    assert "impressions: expected 21, got 20" in message
    assert "\n" not in message


# ----------------------------------------------------------- a plugin tried before installing


PLUGIN = '''\
from kpiframe.hookspecs import hookimpl
from kpiframe.platform import Platform, canonical_layout


@hookimpl
def kpiframe_platforms():
    return [Platform(name="gamma", label="Gamma", layouts=[canonical_layout({})])]
'''


def test_plugin_module_in_the_working_directory_loads(outside: Path) -> None:
    (outside / "rough_edges_gamma.py").write_text(PLUGIN)
    assert str(outside) not in sys.path
    result = cli("--plugin", "rough_edges_gamma", "plugins", "--format", "json")
    assert result.exit_code == 0, result.output
    assert "gamma" in result.stdout
    assert str(outside) not in sys.path  # the working directory is not left on the path
    sys.modules.pop("rough_edges_gamma", None)


# ----------------------------------------------------------- absolute DuckDB and SQLite paths


@pytest.mark.parametrize("scheme", ["duckdb", "sqlite"])
def test_three_slash_absolute_path_is_diagnosed(outside: Path, scheme: str) -> None:
    """`duckdb:///tmp/x.duckdb` in a folder without ./tmp: one error giving the URL with
    four slashes; nothing is created under the working directory."""
    top = outside.parts[1]  # /tmp (or wherever pytest's folders are): a root folder
    absolute = outside / "data.duckdb"
    assert not (outside / top).exists()
    result = cli("query", "--definitions", "defs", "likes",
                 "--engine", f"{scheme}://{absolute}")
    assert result.exit_code == 1, result.output
    assert f"{scheme}:///{absolute}" in result.stderr  # the four-slash URL, in the hint
    assert "error[engine-url]" in result.stderr
    # a writer (sample data, test fixtures) refuses too, before it makes ./tmp
    from kpiframe.engines.sqlite import SQLiteConnection

    with pytest.raises(KpiframeError, match="four slashes"):
        writer = DuckDBConnection if scheme == "duckdb" else SQLiteConnection
        writer(f"{scheme}://{absolute}.new")
    assert not (outside / top).exists()


def test_four_slashes_and_dot_slash_paths_work(outside: Path) -> None:
    four = cli("query", "--definitions", "defs", "likes", "--format", "csv",
               "--engine", f"duckdb:///{outside / 'data.duckdb'}")
    assert four.exit_code == 0 and four.stdout.splitlines()[1] == "11"
    dot = cli("query", "--definitions", "defs", "likes", "--format", "csv",
              "--engine", "duckdb:///./data.duckdb")
    assert dot.exit_code == 0 and dot.stdout.splitlines()[1] == "11"


# ----------------------------------------------------------- a platform without data


def test_platform_without_tables_is_one_error_with_both_ways_out(outside: Path) -> None:
    """Data built before platform `beta` was installed: every query that reads beta says
    so once, naming its tables; no total quietly made of alpha alone."""
    (outside / "defs" / "more.yaml").write_text(
        "kpis:\n  - name: followers\n    type: simple\n    source: account_daily\n"
        "    agg: last\n    expr: followers\n")
    _build("duckdb:///alpha_only.duckdb", ("alpha",))
    result = cli("query", "--definitions", "defs", "likes", "followers", "like_rate",
                 "--engine", "duckdb:///alpha_only.duckdb")
    assert result.exit_code == 1 and result.stdout == ""
    (line,) = result.stderr.strip().splitlines()
    assert line.startswith("error[missing-table] platform 'beta'")
    for words in ("beta.post_daily", "beta.account_daily", "kpiframe sample-data",
                  "kpiframe.yaml", "{beta: {enabled: false}}"):
        assert words in line
    # the way out the message gives: disable the platform, and alpha's numbers come back
    (outside / "kpiframe.yaml").write_text("platforms:\n  beta: {enabled: false}\n")
    fixed = cli("query", "--definitions", "defs", "likes", "--format", "csv",
                "--engine", "duckdb:///alpha_only.duckdb")
    assert fixed.exit_code == 0, fixed.output
    assert fixed.stdout.splitlines() == ["likes", "10"]


# ----------------------------------------------------------- a file that does not parse

UNPARSED = Path(__file__).parent / "corpus" / "broken" / "unparsed"


@pytest.mark.parametrize("args", [["query", "views_per_story"], ["show", "story_views_total"],
                                  ["compile", "stories_posted"]])
def test_kpis_of_a_file_that_does_not_parse_are_broken_not_unknown(
        outside: Path, args: list[str]) -> None:
    """A query reaching a KPI of a.yaml (whose YAML is broken) gets a.yaml's own error,
    never "no KPI named ..." with a did-you-mean sending the user after a typo."""
    command, name = args
    result = cli(command, "--definitions", str(UNPARSED), name)
    assert result.exit_code == 1
    assert "error[yaml-syntax]" in result.stderr and "a.yaml:6:12" in result.stderr
    assert "unknown-kpi" not in result.output and "did you mean" not in result.output


# ----------------------------------------------------------- one error per typo

MISSPELT = """\
kpis:
  - name: n_posts
    type: simple
    source: post_daily
    agregate: count
  - name: likes_x
    type: simple
    source: post_daily
    agg: sum
    exr: likes
  - name: shares_x
    type: simple
    source: post_daily
    agg: sum
    filters: likes > 1
"""


def test_a_misspelt_required_key_is_one_error(outside: Path) -> None:
    (outside / "misspelt.yaml").write_text(MISSPELT)
    result = cli("validate", "misspelt.yaml")
    assert result.exit_code == 1
    lines = [line for line in result.stdout.splitlines() if "error[" in line]
    assert [line.split(" ", 2)[:2] for line in lines] == [
        ["misspelt.yaml:5:5:", "error[unknown-key]"],
        ["misspelt.yaml:10:5:", "error[unknown-key]"],
        # `filters` is no misspelling of the missing `expr`: both are reported
        ["misspelt.yaml:11:5:", "error[missing-field]"],
        ["misspelt.yaml:15:5:", "error[unknown-key]"],
    ]
    assert "did you mean 'agg'? it is required here for a simple KPI" in lines[0]
    assert "did you mean 'expr'?" in lines[1]
