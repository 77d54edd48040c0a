"""Parsing plugin SQL once per sqlglot version, and what that must not change.

Registering plugins checks every binding's SQL (plugin_results.py); sql_shapes.py keeps the
outcome of each successful parse in memory and in a JSON file in the cache folder, so the
next process does not parse the same text again. These tests pin what the cache may and
may not do: a second process parses nothing it already parsed; a binding that does not
parse is reported on every run and never remembered; a missing, corrupt or tampered file,
or one written by another sqlglot version, is a miss; a folder that cannot be written is
no error; `KPIFRAME_CACHE_DIR=off` writes nothing.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from kpiframe import plugin_results, sql_shapes
from kpiframe.plugins import clear_cache, load_registry

PLUGINS = ("testplatforms",)


@pytest.fixture
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    folder = tmp_path / "cache"
    monkeypatch.setenv(sql_shapes.CACHE_ENV, str(folder))
    sql_shapes.reset()
    yield folder
    sql_shapes.reset()


@pytest.fixture
def parses(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, str]]:
    """Every text plugin_results really parses."""
    seen: list[tuple[str, str]] = []
    original = plugin_results._parse

    def spy(sql: str, dialect: str) -> Any:
        seen.append((sql, dialect))
        return original(sql, dialect)
    monkeypatch.setattr(plugin_results, "_parse", spy)
    return seen


def _new_process() -> None:
    """What a new kpiframe process starts with: no registry, no in-memory shapes."""
    clear_cache()
    sql_shapes.reset()


def _file(folder: Path) -> Path:
    (found,) = folder.glob("plugin-sql-*.json")
    return found


def test_a_second_process_parses_nothing_the_first_parsed(
        cache: Path, parses: list[tuple[str, str]]) -> None:
    first = load_registry(PLUGINS)
    assert parses, "the first process parses the bindings"
    assert len(parses) == len(set(parses)), "one text is parsed once per process"
    platforms = {name: platform for name, (platform, _) in first.platforms.items()}
    _new_process()
    parses.clear()
    second = load_registry(PLUGINS)
    assert parses == []
    assert {name: p for name, (p, _) in second.platforms.items()} == platforms
    assert not first.problems and not second.problems


def test_the_file_is_keyed_by_sqlglot_version(cache: Path, parses: list[tuple[str, str]],
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    load_registry(PLUGINS)
    import sqlglot

    assert _file(cache).name == f"plugin-sql-{sqlglot.__version__}.json"
    _new_process()
    parses.clear()
    monkeypatch.setattr(sql_shapes, "_sqlglot_version", lambda: "99.0.0")
    load_registry(PLUGINS)
    assert parses, "another sqlglot version parses again"
    assert {p.name for p in cache.glob("*.json")} == {
        f"plugin-sql-{sqlglot.__version__}.json", "plugin-sql-99.0.0.json"}


def test_sql_that_does_not_parse_is_reported_every_time_and_never_kept(
        cache: Path, parses: list[tuple[str, str]]) -> None:
    broken = "SELEC post_id, date FROM daily"
    for _ in range(2):
        _new_process()
        registry = load_registry((*PLUGINS, "fault_bad_sql"))
        assert any("SQL does not parse as duckdb" in p.message for p in registry.problems)
    assert parses.count((broken, "duckdb")) == 2
    entries = json.loads(_file(cache).read_text())["shapes"]
    assert sql_shapes._key(broken, "duckdb") not in entries


@pytest.mark.parametrize("content", [
    "not json at all {",
    json.dumps({"format": 0, "shapes": {}}),
    json.dumps(["a", "list"]),
])
def test_a_corrupt_file_is_ignored_and_replaced(cache: Path, parses: list[tuple[str, str]],
                                                content: str) -> None:
    load_registry(PLUGINS)
    path = _file(cache)
    path.write_text(content)
    _new_process()
    parses.clear()
    registry = load_registry(PLUGINS)
    assert parses and not registry.problems
    assert json.loads(path.read_text())["format"] == sql_shapes._FORMAT


def test_a_tampered_entry_is_a_miss(cache: Path, parses: list[tuple[str, str]]) -> None:
    """An entry of the wrong form is parsed again; a well-formed lie cannot make kpiframe
    run anything: the compiled statement is still read back before it runs (verify.py)."""
    load_registry(PLUGINS)
    path = _file(cache)
    data = json.loads(path.read_text())
    key = next(iter(data["shapes"]))
    data["shapes"][key] = ["Select", "yes", True, [1]]
    path.write_text(json.dumps(data))
    _new_process()
    parses.clear()
    load_registry(PLUGINS)
    assert len(parses) == 1


def test_cache_off_writes_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                  parses: list[tuple[str, str]]) -> None:
    monkeypatch.setenv(sql_shapes.CACHE_ENV, "off")
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    _new_process()
    load_registry(PLUGINS)
    assert sql_shapes.cache_dir() is None
    assert list(tmp_path.rglob("*.json")) == []
    _new_process()
    count = len(parses)
    load_registry(PLUGINS)
    assert len(parses) == 2 * count


def test_a_folder_that_cannot_be_written_is_no_error(tmp_path: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    monkeypatch.setenv(sql_shapes.CACHE_ENV, str(blocker / "cache"))  # under a file
    _new_process()
    registry = load_registry(PLUGINS)
    assert not registry.problems and registry.platforms
    assert os.listdir(tmp_path) == ["a-file"]


def test_the_default_folder_is_the_users_cache(monkeypatch: pytest.MonkeyPatch,
                                               tmp_path: Path) -> None:
    monkeypatch.delenv(sql_shapes.CACHE_ENV, raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    if os.name == "posix" and not str(sql_shapes.sys.platform).startswith("darwin"):
        assert sql_shapes.cache_dir() == tmp_path / "kpiframe"
    else:  # pragma: no cover - the CI runs on Linux
        assert sql_shapes.cache_dir() is not None


def test_no_home_means_no_file_in_the_working_directory(monkeypatch: pytest.MonkeyPatch,
                                                        tmp_path: Path) -> None:
    monkeypatch.delenv(sql_shapes.CACHE_ENV, raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", "relative/cache")
    monkeypatch.chdir(tmp_path)
    if os.name == "posix" and not str(sql_shapes.sys.platform).startswith("darwin"):
        assert sql_shapes.cache_dir() is None
    _new_process()
    load_registry(PLUGINS)
    assert list(tmp_path.iterdir()) == []
