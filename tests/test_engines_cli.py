"""Sample data and queries on every engine, from the CLI alone, as a user runs them.

Each test runs the real `kpiframe` executable in fresh processes: `kpiframe sample-data
--engine URL`, then `kpiframe query --engine URL` in another process, which sees only what
the first one left in the engine (a file, a server, a warehouse with a persistent
catalog). The numbers must be DuckDB's, for a simple KPI, a ratio, a `last` snapshot and
a rolling (cumulative) one, by month and platform.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[1]
DEFINITIONS = ROOT / "definitions"
KPIFRAME = Path(sys.executable).with_name("kpiframe")
#: two platforms, three months: small, and still every KPI shape
PLUGINS = "x,linkedin"
SAMPLE = ("--scale", "0.1", "--days", "90", "--seed", "7")
#: a simple sum, a ratio, a `last` snapshot, a rolling (cumulative) window
KPIS = ("impressions", "engagement_rate_by_impressions", "followers", "impressions_7d")

Rows = list[dict[str, Any]]


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env["KPIFRAME_LOAD_PLUGINS"] = PLUGINS
    env.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
    # short-lived JVMs on small data: the quick JIT and the serial collector start Spark
    # in about half the time (measured: 28 s -> 16 s for a query on a busy machine)
    env.setdefault("JDK_JAVA_OPTIONS", "-XX:TieredStopAtLevel=1 -XX:+UseSerialGC")
    return env


def kpiframe(cwd: Path, *args: str) -> str:
    """Run the installed `kpiframe` in a new process; its stdout (it must succeed)."""
    done = subprocess.run([str(KPIFRAME), *args], cwd=cwd, env=_env(), capture_output=True,
                          text=True, timeout=900)
    shown = f"kpiframe {' '.join(args)}\n{done.stdout}\n{done.stderr}"
    assert done.returncode == 0, shown
    assert "Traceback" not in done.stderr, shown
    return done.stdout


def sample_then_query(cwd: Path, url: str) -> Rows:
    """sample-data into `url`, then query it from a second process."""
    cwd.mkdir(parents=True, exist_ok=True)
    built = kpiframe(cwd, "sample-data", "--engine", url, *SAMPLE)
    assert "Wrote" in built and "linkedin" in built and " x " in built, built
    out = kpiframe(cwd, "query", *KPIS, "--grain", "month", "--by", "platform", "--engine",
                   url, "--definitions", str(DEFINITIONS), "--format", "json", "--no-targets")
    rows: Rows = json.loads(out)
    return sorted(rows, key=lambda r: (r["period"], r["platform"]))


def assert_same_numbers(rows: Rows, expected: Rows) -> None:
    assert [(r["period"], r["platform"]) for r in rows] == \
        [(r["period"], r["platform"]) for r in expected]
    for row, want in zip(rows, expected, strict=True):
        assert set(row) == set(want)
        for kpi in KPIS:
            if want[kpi] is None:
                assert row[kpi] is None, (row, want)
            else:
                assert row[kpi] == pytest.approx(want[kpi], rel=1e-9), (kpi, row, want)


@pytest.fixture(scope="module")
def duckdb_numbers(tmp_path_factory: pytest.TempPathFactory) -> Rows:
    cwd = tmp_path_factory.mktemp("cli-duckdb")
    rows = sample_then_query(cwd, "duckdb:///sample.duckdb")
    # three months of two platforms, every KPI with numbers: a comparison that can fail
    assert len(rows) == 6, rows
    assert {r["platform"] for r in rows} == {"x", "linkedin"}
    for kpi in KPIS:
        assert all(isinstance(r[kpi], (int, float)) for r in rows), (kpi, rows)
    return rows


def test_sqlite_file(tmp_path: Path, duckdb_numbers: Rows) -> None:
    rows = sample_then_query(tmp_path, "sqlite:///sample.db")
    assert (tmp_path / "sample.db").is_file() and (tmp_path / "linkedin.db").is_file()
    assert_same_numbers(rows, duckdb_numbers)


def test_postgresql(tmp_path: Path, postgres_url: str, duckdb_numbers: Rows) -> None:
    import psycopg

    # a database of its own on the shared server: its schemas clash with no other test's
    with psycopg.connect(postgres_url, autocommit=True) as con:
        con.execute("DROP DATABASE IF EXISTS kpiframe_cli")
        con.execute("CREATE DATABASE kpiframe_cli")
    url = postgres_url.replace("/postgres?", "/kpiframe_cli?", 1)
    assert url != postgres_url
    assert_same_numbers(sample_then_query(tmp_path, url), duckdb_numbers)


@pytest.mark.spark
def test_spark_warehouse_with_a_persistent_catalog(tmp_path: Path,
                                                   duckdb_numbers: Rows) -> None:
    warehouse = tmp_path / "warehouse"
    url = f"spark://local?warehouse={warehouse}&partitions=1"
    rows = sample_then_query(tmp_path / "work", url)
    assert (warehouse / "metastore_db").is_dir()
    assert not (tmp_path / "work" / "derby.log").exists()  # Derby logs into the warehouse
    assert_same_numbers(rows, duckdb_numbers)


# --------------------------------------------------------------------------- in process


@pytest.fixture
def two_platforms(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    from kpiframe.plugins import clear_cache

    monkeypatch.setenv("KPIFRAME_LOAD_PLUGINS", PLUGINS)
    clear_cache()
    yield
    clear_cache()


def invoke(*args: str) -> Any:
    from click.testing import CliRunner

    from kpiframe.cli import main

    result = CliRunner().invoke(main, list(args))
    assert "Traceback" not in result.output, result.output
    return result


@pytest.mark.parametrize("url", ["duckdb://", "sqlite://", "spark://local",
                                 "spark://local?warehouse=w&catalog=memory"])
def test_sample_data_refuses_an_engine_that_forgets(tmp_path: Path, two_platforms: None,
                                                    url: str) -> None:
    result = invoke("--project", str(tmp_path), "sample-data", "--engine", url)
    assert result.exit_code == 1, result.output
    assert "error[sample-engine]" in result.output
    assert "gone when this command ends" in result.output
    assert "spark://local?warehouse=DIR" in result.output


def test_sample_data_on_sqlite_replaces_only_its_own_tables(tmp_path: Path,
                                                           two_platforms: None) -> None:
    import sqlite3

    url = f"sqlite:///{tmp_path / 'main.db'}"
    args = ("--project", str(tmp_path), "sample-data", "--engine", url, "--scale", "0.1",
            "--days", "10")
    first = invoke(*args)
    assert first.exit_code == 0, first.output
    # the demo reads DuckDB files only: not suggested for SQLite
    assert "kpiframe query" in first.output and "kpiframe demo" not in first.output
    again = invoke(*args)  # its own tables, recorded in _kpiframe.db: replaced
    assert again.exit_code == 0, again.output
    with sqlite3.connect(tmp_path / "_kpiframe.db") as con:
        assert dict(con.execute('SELECT "key", "value" FROM "sample"'))["days"] == "10"
    # someone's own table where sample data would write: kept, unless --force
    (tmp_path / "_kpiframe.db").unlink()
    with sqlite3.connect(tmp_path / "x.db") as con:
        con.execute('DROP TABLE "posts"')
        con.execute('CREATE TABLE "posts" ("mine" INTEGER)')
    refused = invoke(*args)
    assert refused.exit_code == 1
    assert "error[sample-overwrite]" in refused.output and "x.posts" in refused.output
    with sqlite3.connect(tmp_path / "x.db") as con:
        assert [c[1] for c in con.execute("PRAGMA table_info(posts)")] == ["mine"]
    forced = invoke(*args, "--force")
    assert forced.exit_code == 0, forced.output


def test_spark_urls_that_cannot_work_fail_fast(tmp_path: Path, two_platforms: None) -> None:
    # nothing listens: an error at once, not the Connect client's minutes of retries
    port = _free_port()
    started = time.monotonic()
    result = invoke("--project", str(tmp_path), "sample-data", "--engine",
                    f"sc://127.0.0.1:{port}")
    assert result.exit_code == 1 and "error[engine-connect]" in result.output, result.output
    assert f"no Spark Connect server answers at 127.0.0.1:{port}" in result.output
    assert time.monotonic() - started < 60
    result = invoke("--project", str(tmp_path), "query", "impressions", "--definitions",
                    str(DEFINITIONS), "--engine", "spark://local?warehouse=w&catalog=mine")
    assert result.exit_code == 1 and "error[engine-url]" in result.output, result.output
    assert "unknown catalog 'mine'" in result.output


def test_a_warehouse_another_process_has_open_is_one_clear_error(tmp_path: Path) -> None:
    import fcntl

    metastore = tmp_path / "warehouse" / "metastore_db"
    metastore.mkdir(parents=True)
    # Derby's lock, held by this process as a running Spark would hold it
    with (metastore / "dbex.lck").open("w") as lock:
        fcntl.lockf(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        done = subprocess.run(
            [str(KPIFRAME), "query", "impressions", "--definitions", str(DEFINITIONS),
             "--engine", "spark://local?warehouse=warehouse"],
            cwd=tmp_path, env=_env(), capture_output=True, text=True, timeout=300)
    assert done.returncode == 1, done.stderr
    assert "error[engine-connect]" in done.stderr and "another process has" in done.stderr
    assert "sc://host:port" in done.stderr
    assert "Traceback" not in done.stderr and "at org.apache" not in done.stderr


# --------------------------------------------------------------------------- Spark Connect

#: a Spark Connect server on a free local port; stops when its stdin closes
SERVER = """
import sys
from pyspark.sql import SparkSession

port, warehouse = sys.argv[1], sys.argv[2]
(SparkSession.builder.master("local[2]").appName("kpiframe-test-connect")
 .config("spark.ui.enabled", "false")
 .config("spark.ui.showConsoleProgress", "false")
 .config("spark.sql.shuffle.partitions", "1")
 .config("spark.sql.warehouse.dir", warehouse)
 .config("spark.plugins", "org.apache.spark.sql.connect.SparkConnectPlugin")
 .config("spark.connect.grpc.binding.address", "127.0.0.1")
 .config("spark.connect.grpc.binding.port", port)
 .getOrCreate())
print("ready", flush=True)
sys.stdin.read()
"""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="session")
def spark_connect_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    base = tmp_path_factory.mktemp("spark-connect")
    port = _free_port()
    log = (base / "server.log").open("w")
    server = subprocess.Popen(
        [sys.executable, "-c", SERVER, str(port), str(base / "warehouse")],
        stdin=subprocess.PIPE, stdout=log, stderr=subprocess.STDOUT, env=_env(), cwd=base,
        start_new_session=True)  # its own process group: the JVM goes with it
    try:
        deadline = time.monotonic() + 300
        while True:
            if server.poll() is not None:
                pytest.fail("the Spark Connect server stopped:\n"
                            + (base / "server.log").read_text()[-3000:])
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                if time.monotonic() > deadline:
                    pytest.fail("the Spark Connect server did not start in 300 s:\n"
                                + (base / "server.log").read_text()[-3000:])
                time.sleep(0.5)
        yield f"sc://127.0.0.1:{port}"
    finally:
        assert server.stdin is not None
        server.stdin.close()
        try:
            server.wait(timeout=60)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait()
        log.close()


@pytest.mark.spark
def test_spark_connect_server(tmp_path: Path, spark_connect_url: str,
                              duckdb_numbers: Rows) -> None:
    assert_same_numbers(sample_then_query(tmp_path, spark_connect_url), duckdb_numbers)
