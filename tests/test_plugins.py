"""The plugin system: loading, isolation of broken plugins, `kpiframe plugins`, and a
platform defined inside the test suite (tests/plugins/testplatforms.py, never installed)
loaded with --plugin, validated and queried."""

from __future__ import annotations

import datetime as dt
import inspect
import json
import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from kpiframe import hookspecs, load_catalog
from kpiframe.cli import main
from kpiframe.engines.duckdb import DuckDBConnection
from kpiframe.plugins import Registry, clear_cache, load_registry
from kpiframe.testing import canonical_columns

ROOT = Path(__file__).resolve().parents[1]

CATALOG = """\
kpis:
  - name: likes
    type: simple
    source: post_daily
    agg: sum
    expr: likes
  - name: alpha_reach
    type: simple
    source: post_daily
    agg: max
    expr: reach
    platforms: [alpha]
"""


@pytest.fixture
def project(tmp_path: Path) -> Path:
    (tmp_path / "definitions").mkdir()
    (tmp_path / "definitions" / "kpis.yaml").write_text(CATALOG)
    url = f"duckdb:///{tmp_path / 'data.duckdb'}"
    (tmp_path / "kpiframe.yaml").write_text(f"engine: {url}\n")
    con = DuckDBConnection(url)
    for platform, likes in (("alpha", [3, 4]), ("beta", [10])):
        rows = [
            {"post_id": f"{platform}{i}", "date": dt.date(2024, 5, 1 + i), "likes": n,
             "reach": 7 * n}
            for i, n in enumerate(likes)
        ]
        columns = canonical_columns("post_daily")
        con.create_table(platform, "post_daily", columns,
                         [[r.get(c) for c, _ in columns] for r in rows])
    con.close()
    return tmp_path


def invoke(project: Path, *args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, ["--project", str(project), *args])
    assert "Traceback" not in result.output
    return result.exit_code, result.output


def test_a_platform_from_the_test_suite_loads_with_plugin_and_runs(project: Path) -> None:
    code, out = invoke(project, "--plugin", "testplatforms", "validate",
                       str(project / "definitions"))
    assert code == 0, out
    code, out = invoke(project, "--plugin", "testplatforms", "query", "likes", "--by",
                       "platform", "--format", "json")
    assert code == 0, out
    assert json.loads(out) == [{"platform": "alpha", "likes": 7},
                               {"platform": "beta", "likes": 10}]


def test_plugins_in_project_file_load_too(project: Path) -> None:
    config = project / "kpiframe.yaml"
    config.write_text(config.read_text() + "plugins: [testplatforms]\n")
    code, out = invoke(project, "query", "likes", "--format", "json")
    assert code == 0, out
    assert json.loads(out) == [{"likes": 17}]


@pytest.mark.parametrize("broken", ["importerror_plugin", "brokenplugins"])
def test_a_broken_plugin_is_reported_and_the_rest_still_work(project: Path, broken: str) -> None:
    """A broken plugin fails every command, by name (an answer without what it provides
    would look complete); --disable-plugin gets the others' unchanged numbers back."""
    args = ("--plugin", "testplatforms", "--plugin", broken)
    code, out = invoke(project, *args, "validate", str(project / "definitions"))
    assert code == 1, out
    assert f"error[plugin-error] plugin '{broken}' failed" in out
    code, out = invoke(project, *args, "plugins")
    assert code == 1, out
    assert "alpha" in out and f"plugin '{broken}' failed" in out
    code, out = invoke(project, *args, "query", "likes", "--by", "platform", "--format", "csv")
    assert code == 1, out
    assert f"plugin '{broken}' failed" in out and "--disable-plugin" in out
    code, out = invoke(project, *args, "--disable-plugin", broken, "query", "likes", "--by",
                       "platform", "--format", "csv")
    assert code == 0, out
    assert out.splitlines() == ["platform,likes", "alpha,7", "beta,10"]


def test_broken_plugin_messages_name_the_plugin_and_its_error() -> None:
    registry = load_registry(["testplatforms", "importerror_plugin", "brokenplugins"])
    failures = {(f.plugin, f.stage): f.error for f in registry.failures}
    assert "ModuleNotFoundError" in failures[("importerror_plugin", "import")]
    assert "the platform API is down" in failures[("brokenplugins", "kpiframe_platforms")]
    assert set(registry.platforms) == {"alpha", "beta"}


def test_validate_hook_failure_is_reported(tmp_path: Path) -> None:
    (tmp_path / "k.yaml").write_text(CATALOG)
    catalog = load_catalog(tmp_path / "k.yaml", project=tmp_path,
                           plugins=["testplatforms", "brokenplugins"])
    problems = catalog.validate()
    assert any(p.rule == "plugin-error" and "house rules could not be loaded" in p.message
               for p in problems)


def test_misspelled_hook_is_a_registration_failure() -> None:
    class Plugin:
        @hookspecs.hookimpl
        def kpiframe_platform(self) -> list[object]:  # missing the final s
            return []

    registry = Registry()
    from kpiframe.plugins import PluginInfo

    registry.register_module(Plugin(), PluginInfo(name="typo", module="typo"))
    assert [f.stage for f in registry.failures] == ["registration"]
    assert "kpiframe_platform" in registry.failures[0].error


def test_load_plugins_env_allow_list(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KPIFRAME_LOAD_PLUGINS", "no-such-plugin")
    clear_cache()
    registry = load_registry()
    assert [p.name for p in registry.plugins] == ["kpiframe.engines"]


def test_plugins_command_lists_platforms_and_fields(project: Path) -> None:
    code, out = invoke(project, "--plugin", "testplatforms", "plugins", "--format", "json")
    assert code == 0, out
    data = json.loads(out)
    by_name = {p["name"]: p for p in data["platforms"]}
    assert by_name["beta"]["layout"] == "canonical" and by_name["beta"]["schema"] == "beta"
    assert "reach" in by_name["alpha"]["sources"]["post_daily"]
    assert "reach" not in by_name["beta"]["sources"]["post_daily"]
    assert "mentions" not in by_name["beta"]["sources"]
    code, out = invoke(project, "--plugin", "testplatforms", "plugins")
    assert code == 0
    assert re.search(r"^reach\s+✓\s+·$", out, re.M), out  # alpha has reach, beta not


def test_restricting_to_a_platform_without_the_field_names_the_platform(tmp_path: Path) -> None:
    (tmp_path / "k.yaml").write_text(
        "kpis:\n  - name: r\n    type: simple\n    source: post_daily\n    agg: max\n"
        "    expr: reach\n    platforms: [beta]\n")
    catalog = load_catalog(tmp_path / "k.yaml", project=tmp_path, plugins=["testplatforms"])
    [problem] = catalog.validate()
    assert problem.rule == "platform-missing-field"
    assert "'beta'" in problem.message and (problem.line, problem.column) == (6, 11)


def test_project_overrides_a_plugin_definition_with_a_warning(tmp_path: Path,
                                                              monkeypatch: pytest.MonkeyPatch
                                                              ) -> None:
    shipped = tmp_path / "shipped.yaml"
    shipped.write_text(CATALOG)
    module = tmp_path / "shipping_plugin.py"
    module.write_text(
        "from kpiframe import hookimpl\n"
        f"@hookimpl\ndef kpiframe_definitions():\n    return [{str(shipped)!r}]\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    own = tmp_path / "own.yaml"
    own.write_text(CATALOG.split("  - name: alpha_reach")[0])
    catalog = load_catalog(own, project=tmp_path, plugins=["testplatforms", "shipping_plugin"])
    problems = catalog.validate()
    assert [p.rule for p in problems] == ["overridden-kpi"]
    assert str(shipped.name) in problems[0].message
    assert catalog.kpis["likes"].plugin is None
    assert catalog.kpis["alpha_reach"].plugin == "shipping_plugin"


def test_every_hook_is_documented_and_tested() -> None:
    """datasette's meta-tests: a new hook needs docs and a test."""
    hooks = [name for name, _ in inspect.getmembers(hookspecs, inspect.isfunction)
             if name.startswith("kpiframe_")]
    assert len(hooks) == 4
    docs = (ROOT / "docs" / "plugins.md").read_text()
    tests = "".join(p.read_text() for p in (ROOT / "tests").glob("test_*.py"))
    tests += "".join(p.read_text() for p in (ROOT / "tests" / "plugins").glob("*.py"))
    for hook in hooks:
        assert f"### `{hook}(" in docs, f"{hook} is not documented in docs/plugins.md"
        assert hook in tests, f"{hook} has no test"


def test_the_guide_shows_the_example_plugin_as_it_is() -> None:
    """Every code block of docs/plugins.md marked with a file is that file, verbatim."""
    docs = (ROOT / "docs" / "plugins.md").read_text()
    blocks = re.findall(r"<!-- file: (\S+) -->\n```\w*\n(.*?)```", docs, re.S)
    assert len(blocks) >= 3
    for path, body in blocks:
        assert (ROOT / path).read_text() == body, f"{path} differs from docs/plugins.md"


def test_the_example_plugin_loads_with_plugin_flag(monkeypatch: pytest.MonkeyPatch,
                                                   tmp_path: Path) -> None:
    monkeypatch.syspath_prepend(str(ROOT / "examples" / "kpiframe-bluesky"))
    (tmp_path / "k.yaml").write_text(CATALOG.split("  - name: alpha_reach")[0])
    catalog = load_catalog(tmp_path / "k.yaml", project=tmp_path, plugins=["kpiframe_bluesky"])
    assert catalog.validate() == []
    assert catalog.platforms["bluesky"].provides("post_daily")[:3] == (
        "platform", "post_id", "date")


def test_an_engine_plugin_runs_queries(project: Path) -> None:
    import aliasengine

    url = f"alias:///{project / 'data.duckdb'}"
    code, out = invoke(project, "--plugin", "testplatforms", "--plugin", "aliasengine",
                       "query", "likes", "--engine", url, "--format", "json")
    assert code == 0, out
    assert json.loads(out) == [{"likes": 17}]
    assert [url] == aliasengine.CONNECTIONS
    registry = load_registry(["aliasengine"])
    assert registry.engines["alias"].dialect == "duckdb"
    assert "kpiframe_engines" in next(p for p in registry.plugins if p.name == "aliasengine").hooks


def test_the_canonical_model_page_is_current() -> None:
    import subprocess
    import sys

    done = subprocess.run([sys.executable, str(ROOT / "scripts" / "canonical_docs.py"),
                           "--check"], capture_output=True, text=True)
    assert done.returncode == 0, done.stdout
