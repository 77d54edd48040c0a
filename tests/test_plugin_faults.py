"""Plugin faults: no plugin can silently change an answer.

Each fault plugin in tests/plugins/fault_*.py breaks one way (raises in a hook, returns
garbage, exits, is interrupted at import, hangs, clashes with a first-party name, is
loaded twice, does not exist). For each: the failure names the plugin, `validate` fails,
commands that would answer without it refuse, and the other platforms' numbers, queried
on DuckDB through the CLI, are exactly those of a run without the fault plugin.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from kpiframe import load_catalog
from kpiframe.cli import main
from kpiframe.engines.duckdb import DuckDBConnection
from kpiframe.plugins import load_registry
from kpiframe.testing import canonical_columns

ROOT = Path(__file__).resolve().parents[1]
BASE = ("--plugin", "testplatforms")
QUERY = ("query", "likes", "--by", "platform", "--format", "csv")
#: (schema, likes per row): alpha and beta from the test platforms, x for the first-party
#: X plugin, impostor for fault_clash_platform's look-alike X
DATA = {"alpha": [3, 4], "beta": [10], "x": [100, 200], "impostor": [5]}


@pytest.fixture(scope="module")
def database(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("faults") / "data.duckdb"
    con = DuckDBConnection(f"duckdb:///{path}")
    columns = canonical_columns("post_daily")
    for schema, likes in DATA.items():
        rows = [{"post_id": f"{schema}{i}", "date": dt.date(2024, 5, 1 + i), "likes": n}
                for i, n in enumerate(likes)]
        con.create_table(schema, "post_daily", columns,
                         [[r.get(c) for c, _ in columns] for r in rows])
    con.close()
    return path


@pytest.fixture
def project(tmp_path: Path, database: Path) -> Path:
    (tmp_path / "definitions").mkdir()
    (tmp_path / "definitions" / "kpis.yaml").write_text(
        "kpis:\n  - name: likes\n    type: simple\n    source: post_daily\n    agg: sum\n"
        "    expr: likes\n")
    (tmp_path / "kpiframe.yaml").write_text(f"engine: duckdb:///{database}\n")
    return tmp_path


def configure(project: Path, extra: str) -> None:
    config = project / "kpiframe.yaml"
    config.write_text(config.read_text() + extra)


def invoke(project: Path, *args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, ["--project", str(project), *args])
    assert "Traceback" not in result.output and "internal error" not in result.output, (
        result.output)
    assert not isinstance(result.exception, (KeyboardInterrupt, GeneratorExit))
    return result.exit_code, result.output


def numbers(project: Path, *args: str) -> list[str]:
    code, out = invoke(project, *args, *QUERY)
    assert code == 0, out
    return out.splitlines()


@pytest.fixture
def with_x(monkeypatch: pytest.MonkeyPatch) -> None:
    """Load the installed first-party X plugin through its entry point."""
    pytest.importorskip("kpiframe_x")
    monkeypatch.setenv("KPIFRAME_LOAD_PLUGINS", "x")


# --------------------------------------------------------------------------- faults


FAULTS = [
    ("fault_raise_platforms", "kpiframe_platforms", "RuntimeError: fault: platforms exploded"),
    ("fault_raise_engines", "kpiframe_engines", "RuntimeError: fault: engines exploded"),
    ("fault_raise_definitions", "kpiframe_definitions",
     "RuntimeError: fault: definitions exploded"),
    ("fault_garbage", "kpiframe_platforms", "must return a list, not dict"),
    ("fault_bad_sql", "kpiframe_platforms",
     "platform 'delta', layout 'export', source 'post_daily': SQL does not parse as duckdb"),
    ("fault_exit", "kpiframe_platforms", "SystemExit: 0"),
    ("fault_interrupt_import", "import", "KeyboardInterrupt"),
    ("fault_no_such_module", "import",
     "ModuleNotFoundError: No module named 'fault_no_such_module'"),
]


@pytest.mark.parametrize(("plugin", "stage", "error"), FAULTS, ids=[f[0] for f in FAULTS])
def test_a_faulty_plugin_is_named_and_changes_no_number(project: Path, plugin: str,
                                                        stage: str, error: str) -> None:
    baseline = numbers(project, *BASE)
    assert baseline == ["platform,likes", "alpha,7", "beta,10"]
    args = (*BASE, "--plugin", plugin)
    expected = f"error[plugin-error] plugin '{plugin}' failed in {stage}: {error}"

    code, out = invoke(project, *args, "validate")
    assert code == 1 and expected in out, out
    for command in (QUERY, ("compile", "likes"), ("show", "likes"), ("list",)):
        code, out = invoke(project, *args, *command)
        assert code == 1, out
        assert expected in out and f"--disable-plugin {plugin}" in out, out
        assert "alpha" not in out  # no answer at all rather than a partial one

    # loaded, it took nothing from the others; left out, the answer is the baseline's
    registry = load_registry(["testplatforms", plugin])
    assert sorted(registry.platforms) == ["alpha", "beta"]
    assert {"duckdb", "sqlite", "postgresql"} <= set(registry.engines)
    assert numbers(project, *args, "--disable-plugin", plugin) == baseline
    configure(project, f"plugins: [{plugin}]\ndisable_plugins: [{plugin}]\n")
    assert numbers(project, *BASE) == baseline


def test_located_at_the_line_that_raised(project: Path) -> None:
    code, out = invoke(project, *BASE, "--plugin", "fault_raise_platforms", "validate")
    assert code == 1
    assert "fault_raise_platforms.py:9: error[plugin-error]" in out, out
    code, out = invoke(project, *BASE, "--plugin", "fault_bad_sql", "validate")
    assert "fault_bad_sql.py:10: error[plugin-error]" in out, out  # the hook's definition


def test_garbage_from_every_hook_is_reported_by_hook(project: Path) -> None:
    code, out = invoke(project, *BASE, "--plugin", "fault_garbage", "validate")
    assert code == 1
    for stage, error in (
        ("kpiframe_platforms", "must return a list, not dict {'name': 'gamma'}"),
        ("kpiframe_engines", "returned int 42, not an Engine"),
        ("kpiframe_definitions", "ValueError: fault: the generator broke half way"),
        ("kpiframe_validate", "must return a list, not str 'not a problem'"),
    ):
        assert f"plugin 'fault_garbage' failed in {stage}: {error}" in out, out


def test_a_raising_validate_hook_fails_validate_only(project: Path) -> None:
    baseline = numbers(project, *BASE)
    args = (*BASE, "--plugin", "fault_raise_validate")
    code, out = invoke(project, *args, "validate")
    assert code == 1
    assert ("plugin 'fault_raise_validate' failed in kpiframe_validate: RuntimeError: "
            "fault: house rules exploded") in out
    # no command but validate and test asks for house rules: the numbers stand
    assert numbers(project, *args) == baseline


def test_validate_sees_a_copy_it_cannot_empty(project: Path) -> None:
    import fault_empty_catalog

    (project / "definitions" / "broken.yaml").write_text(
        "kpis:\n  - name: broken\n    type: simple\n    source: post_daily\n    agg: avg\n"
        "    expr: no_such_field\n")
    code, without = invoke(project, *BASE, "validate")
    assert code == 1
    code, out = invoke(project, *BASE, "--plugin", "fault_empty_catalog", "validate")
    assert code == 1 and out == without
    attempts = dict(a.split(": ") for a in fault_empty_catalog.ATTEMPTS)
    assert attempts["kpis.clear()"] == "AttributeError"
    assert attempts["del kpis[...]"] == "AttributeError"
    assert attempts["problems = ()"] == "FrozenInstanceError"
    catalog = load_catalog(None, project=project,
                           plugins=["testplatforms", "fault_empty_catalog"])
    before = catalog.validate()
    assert catalog.validate() == before  # the hook emptied its copy's KPIs, not ours
    assert catalog.kpis["likes"].node["expr"] == "likes"


def test_a_hanging_hook_is_abandoned_and_named(project: Path,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    import fault_hang

    baseline = numbers(project, *BASE)
    monkeypatch.setenv("KPIFRAME_HOOK_TIMEOUT", "0.3")
    args = (*BASE, "--plugin", "fault_hang")
    try:
        started = time.perf_counter()
        code, out = invoke(project, *args, "validate")
        assert time.perf_counter() - started < 5
        assert code == 1
        assert ("error[plugin-timeout] plugin 'fault_hang' failed in kpiframe_platforms: "
                "did not return within 0.3 s") in out, out
        code, out = invoke(project, *args, *QUERY)
        assert code == 1 and "plugin 'fault_hang'" in out
        assert numbers(project, *args, "--disable-plugin", "fault_hang") == baseline
    finally:
        fault_hang.RELEASE.set()


def test_a_bad_time_limit_is_a_problem(project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KPIFRAME_HOOK_TIMEOUT", "soon")
    code, out = invoke(project, *BASE, *QUERY)
    assert code == 1 and "KPIFRAME_HOOK_TIMEOUT must be a number of seconds" in out, out


# --------------------------------------------------------------------------- clashes


@pytest.mark.usefixtures("with_x")
def test_a_platform_clash_with_a_first_party_plugin_names_both(project: Path) -> None:
    baseline = numbers(project, *BASE)
    assert baseline == ["platform,likes", "alpha,7", "beta,10", "x,300"]
    args = (*BASE, "--plugin", "fault_clash_platform")
    message = "error[plugin-clash] plugins 'x' and 'fault_clash_platform' both register " \
              "platform 'x'"
    code, out = invoke(project, *args, "validate")
    assert code == 1 and message in out, out
    code, out = invoke(project, *args, *QUERY)
    assert code == 1 and message in out and "prefer:" in out, out
    configure(project, "prefer: {x: x}\n")
    assert numbers(project, *args) == baseline


@pytest.mark.usefixtures("with_x")
def test_prefer_can_hand_a_platform_to_the_newcomer(project: Path) -> None:
    from dataclasses import replace

    import fault_clash_platform

    impostor = fault_clash_platform.IMPOSTOR
    layout = replace(impostor.layouts[0], default_schema="impostor")
    fault_clash_platform.IMPOSTOR = replace(impostor, layouts=[layout])
    try:
        configure(project, "prefer: {x: fault_clash_platform}\n")
        assert numbers(project, *BASE, "--plugin", "fault_clash_platform") == [
            "platform,likes", "alpha,7", "beta,10", "x,5"]
    finally:
        fault_clash_platform.IMPOSTOR = impostor


def test_an_engine_clash_with_a_built_in_engine_names_both(project: Path) -> None:
    import fault_clash_engine

    baseline = numbers(project, *BASE)
    args = (*BASE, "--plugin", "fault_clash_engine")
    message = "error[plugin-clash] plugins 'kpiframe.engines' and 'fault_clash_engine' both " \
              "register engine scheme 'duckdb'"
    code, out = invoke(project, *args, "validate")
    assert code == 1 and message in out, out
    code, out = invoke(project, *args, *QUERY)
    assert code == 1 and message in out, out
    configure(project, "prefer: {duckdb: kpiframe.engines}\n")
    assert numbers(project, *args) == baseline
    assert fault_clash_engine.LOGGED == []  # never silently handed a query


# --------------------------------------------------------------------------- loaded twice


@pytest.mark.usefixtures("with_x")
def test_an_entry_point_also_named_by_module_registers_once(project: Path) -> None:
    baseline = numbers(project, *BASE)
    assert "x,300" in baseline
    twice = (*BASE, "--plugin", "kpiframe_x", "--plugin", "testplatforms")
    assert numbers(project, *twice) == baseline
    configure(project, "plugins: [kpiframe_x, testplatforms]\n")
    assert numbers(project, *twice) == baseline
    code, out = invoke(project, *twice, "validate")
    assert code == 0, out
    code, out = invoke(project, *twice, "plugins", "--format", "json")
    assert code == 0, out
    data = json.loads(out)
    assert [p["name"] for p in data["plugins"]].count("x") == 1
    assert not any(p["name"] == "kpiframe_x" for p in data["plugins"])
    assert data["failures"] == []


# --------------------------------------------------------------------------- real exits


@pytest.fixture
def run_cli(project: Path) -> Iterator[Callable[..., subprocess.CompletedProcess[str]]]:
    env = {**os.environ, "KPIFRAME_LOAD_PLUGINS": "",
           "PYTHONPATH": os.pathsep.join([str(ROOT / "tests" / "plugins"),
                                          os.environ.get("PYTHONPATH", "")])}

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "kpiframe.cli", "--project",
                               str(project), *args], capture_output=True, text=True,
                              env=env, timeout=120)

    yield run


@pytest.mark.parametrize(("plugin", "error"), [
    ("fault_exit", "failed in kpiframe_platforms: SystemExit: 0"),
    ("fault_interrupt_import", "failed in import: KeyboardInterrupt"),
])
def test_exit_and_interrupt_in_a_real_process(
        run_cli: Callable[..., subprocess.CompletedProcess[str]], plugin: str,
        error: str) -> None:
    done = run_cli(*BASE, "--plugin", plugin, "validate")
    assert done.returncode == 1, (done.stdout, done.stderr)
    assert f"plugin '{plugin}' {error}" in done.stdout
    assert "Traceback" not in done.stderr
