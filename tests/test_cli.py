"""The CLI as a user meets it: listings, SQL, query output formats, and errors that are
located problems with the right exit status, never tracebacks."""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from kpiframe.cli import main
from kpiframe.engines.duckdb import DuckDBConnection
from kpiframe.testing import canonical_columns
from tests.engines import canonical_table

KPIS = """\
kpis:
  - name: likes
    type: simple
    source: post_daily
    agg: sum
    expr: likes
    label: Likes
    unit: count
    tags: [engagement]
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
    unit: percent
    description: Likes per hundred impressions.
  - name: followers
    type: simple
    source: account_daily
    agg: last
    expr: followers
"""


@pytest.fixture
def root(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    (tmp_path / "definitions").mkdir()
    (tmp_path / "definitions" / "kpis.yaml").write_text(KPIS)
    url = f"duckdb:///{tmp_path / 'social.duckdb'}"
    (tmp_path / "kpiframe.yaml").write_text(f"engine: {url}\nplugins: [testplatforms]\n")
    con = DuckDBConnection(url)
    rows = {
        "alpha": [("1", dt.date(2025, 1, 5), 10, 200), ("2", dt.date(2025, 2, 7), 4, 0)],
        "beta": [("9", dt.date(2025, 1, 9), 1, 50)],
    }
    for platform, data in rows.items():
        columns, table = canonical_table("post_daily", [
            {"post_id": post_id, "date": day, "likes": likes, "impressions": impressions}
            for post_id, day, likes, impressions in data])
        con.create_table(platform, "post_daily", columns, table)
        con.create_table(platform, "account_daily", canonical_columns("account_daily"), [])
    con.close()
    monkeypatch.chdir(tmp_path)
    return tmp_path


def run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, list(args))
    assert "Traceback" not in result.output, result.output
    return result.exit_code, result.output


def test_list_and_show(root: Path) -> None:
    code, out = run("list")
    assert code == 0
    assert out.splitlines()[2].split() == ["followers", "simple", "–", "Followers",
                                           "definitions/kpis.yaml:22"]
    code, out = run("list", "--tag", "engagement", "--format", "json")
    assert json.loads(out) == [{"name": "likes", "type": "simple", "unit": "count",
                                "label": "Likes", "tags": "engagement",
                                "file": "definitions/kpis.yaml:2"}]
    code, out = run("show", "like_rate")
    assert code == 0
    assert out.startswith("like_rate  (ratio)  Like Rate\n  defined at definitions/kpis.yaml:15")
    assert "= likes / impressions × 100" in out
    assert "├─ likes  simple: sum(likes) over post_daily" in out
    assert "post_daily: alpha, beta" in out and 'FROM "alpha"."post_daily"' in out


def test_query_formats(root: Path) -> None:
    code, out = run("query", "likes", "like_rate", "--grain", "month", "--by", "platform",
                    "--format", "json")
    assert code == 0, out
    assert json.loads(out) == [
        {"period": "2025-01-01", "platform": "alpha", "likes": 10, "like_rate": 5.0},
        {"period": "2025-01-01", "platform": "beta", "likes": 1, "like_rate": 2.0},
        {"period": "2025-02-01", "platform": "alpha", "likes": 4, "like_rate": None},
        {"period": "2025-02-01", "platform": "beta", "likes": None, "like_rate": None},
    ]
    code, out = run("query", "likes", "--grain", "month", "--format", "csv")
    assert out == "period,likes\n2025-01-01,11\n2025-02-01,4\n"
    code, out = run("query", "likes", "like_rate", "--grain", "month")
    assert out.splitlines() == [
        "period      Likes  Like Rate",
        "──────────  ─────  ─────────",
        "2025-01-01     11       4.40",
        "2025-02-01      4          –",
    ]


def test_compile_for_any_dialect(root: Path) -> None:
    code, out = run("compile", "like_rate", "--grain", "quarter", "--dialect", "snowflake")
    assert code == 0
    assert 'DATE_TRUNC(\'QUARTER\'' in out and 'NULLIF(' in out
    code, out = run("compile", "like_rate", "--dialect", "nosuchsql")
    assert code == 1 and "error[unknown-dialect] sqlglot has no dialect 'nosuchsql'" in out


@pytest.mark.parametrize(("args", "expected"), [
    (("query", "likez"), "error[unknown-kpi] no KPI named 'likez' in the catalog "
                          "(did you mean 'likes'?)"),
    (("query", "likes", "--from", "2025-13-01"), "error[bad-date] --from '2025-13-01' is not a "
                                                 "date (write dates as YYYY-MM-DD)"),
    (("query", "likes", "--from", "2025-03-01", "--to", "2025-01-01"),
     "error[bad-range] --from 2025-03-01 is after --to 2025-01-01"),
    (("query", "likes", "--by", "brand"),
     "definitions/kpis.yaml:4:13: error[dimension-not-in-source] simple 'likes' reads "
     "post_daily, which has no dimension 'brand' to group by"),
    (("query", "likes", "--where", "likes > 1; DROP TABLE x"),
     "--where:1:10: error[expr-multiple-statements]"),
    (("query", "likes", "--where", "brand = 'acme'"),
     "--where:1:1: error[unknown-dimension] --where: unknown dimension 'brand'"),
    (("query", "likes", "--platform", "gamma"),
     "error[unknown-platform] --platform gamma: no such platform in this project"),
    (("query", "likes", "--engine", "sqlite:///nothing-here.db"),
     # a mistyped path is named, and no empty database is created there
     "error[no-database] no SQLite database at nothing-here.db"),
    (("query", "likes", "--engine", "mysql://db"),
     "error[unknown-engine] no engine for URLs starting 'mysql:'"),
])
def test_errors_are_located_problems(root: Path, args: tuple[str, ...], expected: str) -> None:
    code, out = run(*args)
    assert code == 1
    assert expected in out


def test_usage_errors_exit_2(root: Path) -> None:
    code, out = run("validate", "no/such/folder")
    assert code == 2 and "no such file or folder" in out
    code, out = run("query", "likes", "--grain", "fortnight")
    assert code == 2


def test_schema_command_prints_the_package_schema(root: Path) -> None:
    from kpiframe.schema import schema_text

    code, out = run("schema")
    assert code == 0 and out == schema_text()


def test_real_executable_has_no_traceback_on_garbage(root: Path) -> None:
    (root / "definitions" / "broken.yaml").write_bytes(b"kpis:\n  - name: [\n\x00\xff")
    done = subprocess.run([sys.executable, "-m", "kpiframe.cli", "validate"],
                          capture_output=True, text=True)
    assert done.returncode == 1
    assert "Traceback" not in done.stdout + done.stderr
    assert "definitions/broken.yaml:3:2: error[not-utf8]" in done.stdout


def test_a_database_file_named_like_a_platform(tmp_path: Path, monkeypatch: pytest.MonkeyPatch
                                               ) -> None:
    """DuckDB names a database after its file; alpha.duckdb must not hide schema alpha."""
    url = f"duckdb:///{tmp_path / 'alpha.duckdb'}"
    con = DuckDBConnection(url)
    columns, table = canonical_table(
        "post_daily", [{"post_id": "1", "date": dt.date(2025, 1, 5), "likes": 3}])
    con.create_table("alpha", "post_daily", columns, table)
    con.create_table("beta", "post_daily", columns, [])
    con.close()
    (tmp_path / "definitions").mkdir()
    (tmp_path / "definitions" / "kpis.yaml").write_text(KPIS)
    monkeypatch.chdir(tmp_path)
    code, out = run("--plugin", "testplatforms", "query", "likes", "--engine", url,
                    "--format", "csv")
    assert (code, out) == (0, "likes\n3\n")
