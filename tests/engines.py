"""Real engines for the test suite: DuckDB and SQLite files, a throwaway PostgreSQL server
started from `initdb`/`pg_ctl`, and a local Spark session.

Each `Engine` fixture yields a URL kpiframe can query and a loader that writes fixture
rows into a schema there, so a test can load the same rows everywhere and compare.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from kpiframe.platform import Connection
from kpiframe.testing import canonical_columns

Loader = Callable[[str, Mapping[str, tuple[Sequence[tuple[str, str]], Sequence[Sequence[Any]]]]],
                  None]


def canonical_table(source: str, rows: Iterable[Mapping[str, Any]]
                    ) -> tuple[list[tuple[str, str]], list[list[Any]]]:
    """A canonical source's columns, and `rows` (values by field name) as lists in column
    order, NULL where a row gives no value: what `EngineUnderTest.load` and
    `Connection.create_table` take."""
    columns = canonical_columns(source)
    return columns, [[row.get(name) for name, _ in columns] for row in rows]


@dataclass
class EngineUnderTest:
    name: str
    url: str
    connect: Callable[[], Connection]

    def load(self, schema: str,
             tables: Mapping[str, tuple[Sequence[tuple[str, str]], Sequence[Sequence[Any]]]]
             ) -> None:
        con = self.connect()
        try:
            for table, (columns, rows) in tables.items():
                con.create_table(schema, table, columns, rows)
        finally:
            con.close()


def _run(command: list[str]) -> None:
    done = subprocess.run(command, capture_output=True, text=True)
    if done.returncode:
        raise RuntimeError(f"{' '.join(command)} failed:\n{done.stdout}\n{done.stderr}")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _find(binary: str) -> str | None:
    found = shutil.which(binary)
    if found:
        return found
    for root in sorted(Path("/usr/lib/postgresql").glob("*/bin"), reverse=True):
        candidate = root / binary
        if candidate.exists():
            return str(candidate)
    return None


def _as_postgres_user(command: list[str]) -> list[str]:
    """initdb refuses to run as root: run the server as the `postgres` user then."""
    if os.geteuid() == 0:
        runuser = shutil.which("runuser")
        if runuser:
            return [runuser, "-u", "postgres", "--", *command]
        return ["su", "postgres", "-c", " ".join(command)]
    return command


@pytest.fixture(scope="session")
def postgres_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    initdb, pg_ctl = _find("initdb"), _find("pg_ctl")
    if not initdb or not pg_ctl:
        pytest.fail("PostgreSQL binaries (initdb, pg_ctl) are not installed; the test suite "
                    "needs them to start a throwaway server")
    # not under pytest's own temp root: that is private to root, and the server runs as
    # the postgres user when the tests run as root
    base = Path(tempfile.mkdtemp(prefix="kpiframe-pg-"))
    data = base / "data"
    if os.geteuid() == 0:
        shutil.chown(base, "postgres")
    port = _free_port()
    _run(_as_postgres_user([initdb, "-D", str(data), "-U", "postgres", "--auth=trust",
                            "-E", "UTF8", "--no-locale"]))
    options = f"-k {base} -p {port} -c listen_addresses='' -c fsync=off"
    _run(_as_postgres_user([pg_ctl, "-D", str(data), "-o", options, "-l", str(base / "log"),
                            "-w", "start"]))
    try:
        url = f"postgresql://postgres@/postgres?host={base}&port={port}"
        deadline = time.time() + 30
        import psycopg

        while True:
            try:
                psycopg.connect(url).close()
                break
            except psycopg.OperationalError:
                if time.time() > deadline:
                    raise
                time.sleep(0.2)
        yield url
    finally:
        subprocess.run(_as_postgres_user([pg_ctl, "-D", str(data), "-m", "immediate", "stop"]),
                       capture_output=True)
        shutil.rmtree(base, ignore_errors=True)


@pytest.fixture(scope="session")
def spark_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    """One Spark session for the whole run (one per xdist worker): every SparkConnection
    in this process shares it."""
    from kpiframe.engines.spark import SparkConnection

    warehouse = tmp_path_factory.mktemp("spark-warehouse")
    os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
    os.environ.setdefault("PYSPARK_PYTHON", os.environ.get("PYSPARK_PYTHON", "python3"))
    # the in-memory catalog: the suite's tables live as long as its one Spark session, and
    # it skips booting a metastore (tests/test_engines_cli.py covers the persistent one)
    url = f"spark://local?warehouse={warehouse}&partitions=1&catalog=memory"
    # Adaptive query execution re-plans a query at run time from its shuffle stages' sizes:
    # on the suite's few hundred rows its extra rounds cost more than they save (measured:
    # 15-45% of each oracle query, minutes of a run). The answers do not depend on it;
    # tests/test_engines_cli.py still runs Spark as users do, with it on.
    SparkConnection(url).spark.conf.set("spark.sql.adaptive.enabled", "false")
    return url


def engine_under_test(name: str, request: pytest.FixtureRequest,
                      tmp_path_factory: pytest.TempPathFactory) -> EngineUnderTest:
    """A fresh database on engine `name` (DuckDB and SQLite: new files each time)."""
    from kpiframe.engines.duckdb import DuckDBConnection
    from kpiframe.engines.postgres import PostgresConnection
    from kpiframe.engines.spark import SparkConnection
    from kpiframe.engines.sqlite import SQLiteConnection

    if name == "duckdb":
        path = tmp_path_factory.mktemp("duckdb") / "test.duckdb"
        url = f"duckdb:///{path}"
        return EngineUnderTest(name, url, lambda: DuckDBConnection(url))
    if name == "sqlite":
        path = tmp_path_factory.mktemp("sqlite") / "main.db"
        url = f"sqlite:///{path}"
        return EngineUnderTest(name, url, lambda: SQLiteConnection(url))
    if name == "postgres":
        url = request.getfixturevalue("postgres_url")
        return EngineUnderTest(name, url, lambda: PostgresConnection(url))
    assert name == "spark"
    url = request.getfixturevalue("spark_url")
    return EngineUnderTest(name, url, lambda: SparkConnection(url))


ENGINES = ("duckdb", "sqlite", "postgres", "spark")
