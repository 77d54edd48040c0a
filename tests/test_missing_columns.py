"""Real warehouses miss columns: the five Fivetran-layout plugins read a warehouse built from
their own fixture rows that lacks one optional column (the query answers, with a warning
naming platform, schema, table and column) or one required column (a located error naming
it, exit 1 from the CLI, no traceback). Numbers are checked against plain Python over the
plugins' hand-written expected rows, never against SQL kpiframe generated."""

from __future__ import annotations

import importlib.util
import json
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from click.testing import CliRunner

from kpiframe import load_catalog
from kpiframe.cli import main
from kpiframe.platform import Connection
from kpiframe.plugins import clear_cache
from kpiframe.problems import KpiframeError
from kpiframe.testing import Fixture, TableData, as_fixture, load_tables

PLUGINS = Path(__file__).resolve().parents[1] / "plugins"

DEFINITIONS = """\
kpis:
  - name: n_posts
    type: simple
    source: posts
    agg: count
  - name: post_likes
    type: simple
    source: posts
    agg: sum
    expr: likes
"""


@dataclass(frozen=True)
class Case:
    platform: str
    #: a column whose loss the query can do without: (table, column)
    optional: tuple[str, str]
    #: a column the query cannot do without: (table, column)
    required: tuple[str, str]


CASES = [
    Case("x", ("organic_tweet_report", "video_total_views"), ("tweet", "id")),
    Case("facebook", ("post_history", "share_count"), ("post_history", "id")),
    Case("instagram", ("media_insights", "story_reach"), ("media_history", "id")),
    Case("linkedin", ("organization_ugc_post", "organization_id"),
         ("ugc_post_history", "lifecycle_state")),
    Case("youtube", ("channel_basic_a_2", "shares"), ("channel_basic_a_2", "video_id")),
]


def fixtures(platform: str) -> ModuleType:
    """The plugin's own test module: its fixture tables and the rows it expects."""
    path = PLUGINS / f"kpiframe-{platform}" / "tests" / f"test_{platform}_plugin.py"
    spec = importlib.util.spec_from_file_location(f"_fixtures_{platform}", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def expected_posts(module: ModuleType) -> list[dict[str, Any]]:
    expected = getattr(module, "EXPECTED", None)
    rows = expected["posts"] if expected is not None else module.EXPECTED_POSTS
    return list(rows)


def without(tables: Mapping[str, TableData], table: str, column: str) -> dict[str, TableData]:
    """The fixture tables with one column of one table dropped."""
    fixture = as_fixture(tables[table])
    names = [n for n, _ in fixture.columns]
    assert column in names, f"{table} has no column {column} in the fixture"
    keep = [i for i, n in enumerate(names) if n != column]
    rows = [[row.get(names[i]) for i in keep] if isinstance(row, Mapping)
             else [list(row)[i] for i in keep] for row in fixture.rows]
    return {**tables, table: Fixture([fixture.columns[i] for i in keep], rows)}


@pytest.fixture
def plugins(monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[[str], None]]:
    """Load only the platform under test: the others have no tables in the warehouse."""

    def load(platform: str) -> None:
        monkeypatch.setenv("KPIFRAME_LOAD_PLUGINS", platform)
        clear_cache()

    yield load
    clear_cache()


Warehouse = Callable[[str, dict[str, TableData]], Path]


def warehouse_on(url: str, connect: Callable[[], Connection], base: Path,
                 plugins: Callable[[str], None]) -> Warehouse:
    """Load tables into schema `mc_<platform>` and write a project reading them there."""

    def build(platform: str, tables: dict[str, TableData]) -> Path:
        plugins(platform)
        schema = f"mc_{platform}"
        con = connect()
        try:
            for name in list(tables):
                con.create_table(schema, name, [("x", "integer")], [])  # replace stale ones
            load_tables(con, schema, tables)
        finally:
            con.close()
        project = base / f"{platform}-{len(list(base.iterdir()))}"
        project.mkdir()
        (project / "kpis.yaml").write_text(DEFINITIONS)
        (project / "kpiframe.yaml").write_text(
            f"engine: {url}\ndefinitions: [kpis.yaml]\nplatforms:\n"
            f"  {platform}: {{layout: fivetran, schema: {schema}}}\n")
        return project

    return build


@pytest.fixture
def duckdb_warehouse(tmp_path: Path, plugins: Callable[[str], None]) -> Warehouse:
    from kpiframe.engines.duckdb import DuckDBConnection

    url = f"duckdb:///{tmp_path / 'warehouse.duckdb'}"
    (tmp_path / "projects").mkdir()
    return warehouse_on(url, lambda: DuckDBConnection(url, write=True), tmp_path / "projects",
                        plugins)


@pytest.fixture
def postgres_warehouse(postgres_url: str, tmp_path: Path, plugins: Callable[[str], None]
                       ) -> Warehouse:
    from kpiframe.engines.postgres import PostgresConnection

    (tmp_path / "projects").mkdir()
    return warehouse_on(postgres_url, lambda: PostgresConnection(postgres_url),
                        tmp_path / "projects", plugins)


def cli(project: Path, *args: str) -> Any:
    return CliRunner().invoke(main, ["--project", str(project), "query", *args])


def numbers(posts: list[dict[str, Any]]) -> dict[str, Any]:
    likes = [p["likes"] for p in posts if p["likes"] is not None]
    return {"n_posts": len(posts), "post_likes": sum(likes) if likes else None}


def check_optional(case: Case, build: Warehouse) -> None:
    module = fixtures(case.platform)
    table, column = case.optional
    project = build(case.platform, without(module.TABLES, table, column))
    result = cli(project, "n_posts", "post_likes", "--format", "json")
    assert result.exit_code == 0, result.output
    assert "Traceback" not in result.output
    assert json.loads(result.stdout) == [numbers(expected_posts(module))]
    warning = result.stderr
    assert warning.startswith("warning[missing-column]")
    for word in (case.platform, f"mc_{case.platform}.{table}", f"'{column}'", "NULL"):
        assert word in warning
    # the Python API answers the same, with the same warning
    rows = load_catalog(project=project).query(["n_posts", "post_likes"])
    assert list(rows) == [numbers(expected_posts(module))]
    assert [w.format() for w in rows.warnings] == warning.strip().splitlines()


def check_required(case: Case, build: Warehouse) -> None:
    module = fixtures(case.platform)
    table, column = case.required
    project = build(case.platform, without(module.TABLES, table, column))
    result = cli(project, "n_posts", "post_likes")
    assert result.exit_code == 1, result.output
    assert "Traceback" not in result.output and "internal error" not in result.output
    assert result.stdout == ""
    error = result.stderr
    assert "error[missing-column]" in error
    for word in (f"'{case.platform}'", f"mc_{case.platform}.{table}", f"'{column}'",
                 "kpis.yaml:", "KPI 'n_posts'", "enabled: false"):
        assert word in error
    with pytest.raises(KpiframeError) as raised:
        load_catalog(project=project).query(["n_posts"])
    (problem,) = raised.value.problems
    assert problem.rule == "missing-column" and problem.kpi == "n_posts"
    assert problem.file is not None and problem.file.endswith("kpis.yaml")
    assert problem.line == 2


@pytest.mark.parametrize("case", CASES, ids=[c.platform for c in CASES])
def test_optional_column_is_null_with_a_warning(case: Case, duckdb_warehouse: Warehouse
                                                ) -> None:
    check_optional(case, duckdb_warehouse)


@pytest.mark.parametrize("case", CASES, ids=[c.platform for c in CASES])
def test_required_column_is_a_located_error(case: Case, duckdb_warehouse: Warehouse) -> None:
    check_required(case, duckdb_warehouse)


def test_linkedin_on_postgres(postgres_warehouse: Warehouse) -> None:
    case = next(c for c in CASES if c.platform == "linkedin")
    check_optional(case, postgres_warehouse)
    check_required(case, postgres_warehouse)


def test_linkedin_account_falls_back_to_the_author(duckdb_warehouse: Warehouse) -> None:
    """Fivetran's seed misspells organization_ugc_post.organization_id: read as NULL, the
    account of a UGC post falls back to its author's organization, as Fivetran's own
    staging does, and grouping by account answers."""
    module = fixtures("linkedin")
    tables = without(module.TABLES, "organization_ugc_post", "organization_id")
    tables["organization_ugc_post"] = Fixture(
        [("organiation_id", "integer"), *as_fixture(tables["organization_ugc_post"]).columns],
        [[None, *row] for row in as_fixture(tables["organization_ugc_post"]).rows])
    project = duckdb_warehouse("linkedin", tables)

    def bare(urn: Any) -> str:
        return str(urn).rsplit(":", 1)[-1]

    bridged = {bare(row[1]) for row in module.ORGANIZATION_UGC_POST.rows}
    latest: dict[str, Any] = {}
    for row in sorted(module.UGC_POST_HISTORY.rows, key=lambda r: r[4]):
        latest[bare(row[0])] = row
    counts: dict[str, int] = {}
    for post in expected_posts(module):
        account = post["account_id"]
        if post["post_id"] in bridged and post["post_id"] in latest:
            author = latest[post["post_id"]][1]
            assert author.startswith("urn:li:organization:")
            account = bare(author)
        counts[account] = counts.get(account, 0) + 1

    result = cli(project, "n_posts", "--by", "account_id", "--format", "json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == [
        {"account_id": a, "n_posts": n} for a, n in sorted(counts.items())]
    assert "falls back" in result.stderr and "'organiation_id'" in result.stderr


def test_missing_table_is_one_clear_error(duckdb_warehouse: Warehouse) -> None:
    module = fixtures("linkedin")
    tables = {k: v for k, v in module.TABLES.items() if k != "share_history"}
    project = duckdb_warehouse("linkedin", tables)
    result = cli(project, "n_posts", "post_likes")
    assert result.exit_code == 1 and result.stdout == ""
    (line,) = result.stderr.strip().splitlines()
    assert line.startswith("error[missing-table]")
    for word in ("'linkedin'", "mc_linkedin.share_history", "sample-data", "enabled: false"):
        assert word in line
