"""Shared fixtures: the core's tests see only the test platforms, never whatever
first-party plugins happen to be installed, so their expectations are stable."""

from __future__ import annotations

import os
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

HERE = Path(__file__).parent
sys.path.insert(0, str(HERE / "plugins"))

TEST_PLUGINS = ("testplatforms",)


@pytest.fixture(autouse=True)
def _isolate_plugins(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    from kpiframe.plugins import clear_cache

    monkeypatch.setenv("KPIFRAME_LOAD_PLUGINS", "")
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join([str(HERE / "plugins"),
                                                      os.environ.get("PYTHONPATH", "")]))
    clear_cache()
    yield
    clear_cache()
    _forget_modules_written_by_tests()


#: where tests write throwaway plugin modules (tmp_path lives under it)
TEMP = tuple({tempfile.gettempdir() + os.sep, os.path.realpath(tempfile.gettempdir()) + os.sep})
#: never forgotten, though CI's checkout (and its virtualenv) lives under the temp folder
#: too (`mktemp -d`): the project's own modules and everything installed
KEEP = tuple({str(p) + os.sep for base in (HERE.parent, Path(sys.prefix))
              for p in (base, base.resolve())})


def _forget_modules_written_by_tests() -> None:
    """A plugin module a test writes into its tmp_path (`shipping_plugin.py`, say) stays in
    sys.modules after the test: the next test that writes its own module of the same name
    would import the first one's. Which test runs first depends on the order, which
    pytest-xdist changes, so forget them after every test."""
    for name, module in list(sys.modules.items()):
        file = getattr(module, "__file__", None)
        if isinstance(file, str) and file.startswith(TEMP) and not file.startswith(KEEP):
            del sys.modules[name]


#: a test that asks for one of these fixtures needs that engine, marked or not: the marker
#: is what `-m "not postgres and not spark"` (`dev.py test --quick`) goes by
ENGINE_FIXTURES = {"postgres_url": "postgres", "spark_url": "spark",
                   "spark_connect_url": "spark"}


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark every test that uses a PostgreSQL server or Spark, so the quick run leaves all
    of them out."""
    for item in items:
        for fixture in getattr(item, "fixturenames", ()):
            marker = ENGINE_FIXTURES.get(fixture)
            if marker and not item.get_closest_marker(marker):
                item.add_marker(getattr(pytest.mark, marker))


from tests.engines import postgres_url, spark_url  # noqa: E402, F401  (session fixtures)
