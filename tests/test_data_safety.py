"""Data safety on real engines: queries read without writing, sample data never replaces a
user's tables, `kpiframe test` cleans up after itself, and no password reaches the output.

Each check runs the way a user meets it (the CLI, in process) against DuckDB and SQLite
files and the throwaway PostgreSQL server of tests/engines.py.
"""

from __future__ import annotations

import datetime as dt
import os
import pwd
import shutil
import stat
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import duckdb
import psycopg
import pytest
from click.testing import CliRunner

from kpiframe import canonical
from kpiframe.cli import main
from kpiframe.engines.duckdb import DuckDBConnection
from kpiframe.engines.postgres import PostgresConnection
from kpiframe.engines.sqlite import SQLiteConnection
from kpiframe.problems import KpiframeError, Problem, redact
from kpiframe.testing import canonical_columns
from tests.engines import canonical_table

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
"""

#: post_daily rows per platform: (post_id, date, likes, impressions)
ROWS = {
    "alpha": [("1", dt.date(2025, 1, 5), 10, 200), ("2", dt.date(2025, 2, 7), 4, 40)],
    "beta": [("9", dt.date(2025, 1, 9), 1, 50)],
}

TESTS = """\
tests:
  - name: alpha_likes
    kpis: [likes]
    given:
      alpha:
        post_daily:
          - {post_id: "1", date: 2025-01-03, likes: 10}
    expect:
      - {likes: 10}
  - name: alpha_likes_wrong
    kpis: [likes]
    given:
      alpha:
        post_daily:
          - {post_id: "1", date: 2025-01-03, likes: 10}
    expect:
      - {likes: 11}
"""


def load_rows(con: Any) -> None:
    """Every canonical source for alpha and beta (post_daily with ROWS, the rest empty)."""
    for platform in ("alpha", "beta"):
        for source in canonical.SOURCES:
            columns, rows = canonical_table(source, [
                {"post_id": post_id, "date": day, "likes": likes, "impressions": impressions}
                for post_id, day, likes, impressions in ROWS[platform]
            ] if source == "post_daily" else [])
            con.create_table(platform, source, columns, rows)
    con.close()


def make_project(folder: Path, engine: str | None = None, extra: str = "") -> Path:
    (folder / "definitions").mkdir(parents=True, exist_ok=True)
    (folder / "definitions" / "kpis.yaml").write_text(KPIS)
    config = "plugins: [testplatforms]\n" + (f"engine: {engine}\n" if engine else "") + extra
    (folder / "kpiframe.yaml").write_text(config)
    return folder


def duckdb_file(folder: Path) -> str:
    url = f"duckdb:///{folder / 'social.duckdb'}"
    load_rows(DuckDBConnection(url))
    return url


def cli(project: Path, *args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, ["--project", str(project), *args])
    assert "Traceback" not in result.output, result.output
    assert "internal error" not in result.output, result.output
    return result.exit_code, result.output


def tree(folder: Path) -> set[str]:
    return {str(p.relative_to(folder)) for p in folder.rglob("*")}


# --------------------------------------------------------------------------- reading only


@pytest.mark.parametrize("url", [
    "duckdb:///{tmp}/typo/dir/social.duckdb",
    "duckdb:///{tmp}/social.duckdb",
    "sqlite:///{tmp}/typo/dir/main.db",
    "sqlite:///{tmp}/main.db",
])
def test_a_mistyped_path_is_an_error_and_creates_nothing(tmp_path: Path, url: str) -> None:
    project = make_project(tmp_path / "project")
    (project / "definitions" / "tests.yaml").write_text(TESTS)
    data = tmp_path / "data"
    data.mkdir()
    before = tree(tmp_path)
    url = url.format(tmp=data)
    code, out = cli(project, "query", "likes", "--engine", url)
    assert code == 1
    assert "error[no-database]" in out and str(data) in out, out
    code, out = cli(project, "test", "--engine", url)
    assert code == 1 and "error[no-database]" in out, out
    assert tree(tmp_path) == before


def test_a_folder_is_not_a_database(tmp_path: Path) -> None:
    project = make_project(tmp_path)
    code, out = cli(project, "query", "likes", "--engine", f"duckdb:///{tmp_path}")
    assert code == 1 and "is a folder, not a DuckDB database" in out, out


@pytest.mark.parametrize("path", ["md:my_db", "http://127.0.0.1:9/x.duckdb",
                                  "https://example.com/x.duckdb", "s3://bucket/x.duckdb"])
def test_an_engine_url_never_loads_an_extension(tmp_path: Path, path: str) -> None:
    project = make_project(tmp_path)
    extensions = Path.home() / ".duckdb" / "extensions"
    before = set(extensions.rglob("*")) if extensions.exists() else set()
    for command in (("query", "likes"), ("sample-data",)):
        code, out = cli(project, *command, "--engine", f"duckdb:///{path}")
        assert code == 1, out
        assert "error[engine-url]" in out and "extension" in out, out
    after = set(extensions.rglob("*")) if extensions.exists() else set()
    assert after == before


def test_a_query_connection_cannot_reach_files_or_change_its_settings(tmp_path: Path) -> None:
    url = duckdb_file(tmp_path)
    con = DuckDBConnection(url, missing_ok=False)
    try:
        assert con.execute("SELECT sum(likes) FROM alpha.post_daily").rows == [(14,)]
        for statement in (
            f"SELECT * FROM read_csv('{tmp_path / 'x.csv'}')",
            f"COPY (SELECT 1) TO '{tmp_path / 'leak.csv'}'",
            f"ATTACH '{tmp_path / 'other.duckdb'}' AS other",
            "SET enable_external_access = true",
            "SET autoload_known_extensions = true",
            "LOAD httpfs",
            "CREATE TABLE alpha.planted (x INTEGER)",
            "DROP TABLE alpha.post_daily",
        ):
            with pytest.raises(duckdb.Error):
                con.execute(statement)
    finally:
        con.close()
    assert not (tmp_path / "leak.csv").exists() and not (tmp_path / "other.duckdb").exists()
    assert DuckDBConnection(url).execute("SELECT count(*) FROM alpha.post_daily").rows == [(2,)]


def test_a_read_only_file_can_be_queried(tmp_path: Path) -> None:
    url = duckdb_file(tmp_path)
    path = tmp_path / "social.duckdb"
    project = make_project(tmp_path, url)
    path.chmod(stat.S_IRUSR | stat.S_IRGRP | stat.S_IROTH)
    try:
        code, out = cli(project, "query", "likes", "--format", "csv")
        assert code == 0, out
        assert out.splitlines()[-1] == "15"
        assert not os.path.exists(f"{path}.wal")
    finally:
        path.chmod(0o644)


def _as_nobody(run: Callable[[], tuple[int, str]]) -> tuple[int, str]:
    """`run()` in a forked child that has become `nobody`. Forking keeps the interpreter and
    the modules already imported, so the check does not depend on `nobody` being able to
    reach the virtualenv (a clone in a 0700 temporary folder is out of its reach)."""
    nobody = pwd.getpwnam("nobody")
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: never returns into pytest
        status = 1
        try:
            os.close(read)
            os.setgroups([])
            os.setgid(nobody.pw_gid)
            os.setuid(nobody.pw_uid)
            code, out = run()
            os.write(write, f"{code}\n{out}".encode())
            status = 0
        finally:
            os._exit(status)
    os.close(write)
    with os.fdopen(read, "rb") as pipe:
        data = pipe.read().decode()
    _, status = os.waitpid(pid, 0)
    assert status == 0 and data, f"the child running as nobody failed: {data!r}"
    code, _, out = data.partition("\n")
    return int(code), out


@pytest.mark.skipif(os.geteuid() != 0, reason="becoming an unprivileged user needs root")
def test_a_read_only_file_can_be_queried_by_a_user_who_cannot_write_it() -> None:
    """Root may write a chmod 444 file anyway; `nobody` really cannot."""
    base = Path(tempfile.mkdtemp(prefix="kpiframe-ro-"))
    try:
        url = duckdb_file(base)
        project = make_project(base, url)
        (base / "social.duckdb").chmod(0o444)
        base.chmod(0o555)  # nobody may not create anything next to it either
        # once as root, so every module the query needs is imported before the fork
        assert cli(project, "query", "likes", "--format", "csv")[0] == 0
        code, out = _as_nobody(lambda: cli(project, "query", "likes", "--format", "csv"))
        assert code == 0, out
        assert out.splitlines()[-1] == "15"
        assert sorted(p.name for p in base.iterdir()) == ["definitions", "kpiframe.yaml",
                                                           "social.duckdb"]
    finally:
        base.chmod(0o755)
        shutil.rmtree(base, ignore_errors=True)


# --------------------------------------------------------------------------- SQLite schemas


def test_sqlite_reads_only_the_schema_files_a_query_names(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'main.db'}"
    load_rows(SQLiteConnection(url))
    (tmp_path / "notes.db").write_text("my notes, not a database\n")
    extra = SQLiteConnection(url)
    for index in range(12):  # more files than SQLite can attach at once
        extra.create_table(f"other{index}", "t", [("x", "integer")], [[index]])
    extra.close()
    project = make_project(tmp_path, url)
    code, out = cli(project, "query", "likes", "--by", "platform", "--format", "csv")
    assert code == 0, out
    assert out.splitlines()[1:] == ["alpha,14", "beta,1"]
    # a platform whose schema is that text file: the error names the file
    (tmp_path / "kpiframe.yaml").write_text(
        f"plugins: [testplatforms]\nengine: {url}\nplatforms:\n  alpha:\n    schema: notes\n")
    code, out = cli(project, "query", "likes")
    assert code == 1
    assert "error[bad-database]" in out and "notes.db is not a SQLite database" in out, out
    # a statement naming a dozen schemas still runs: SQLite's limit is per statement
    con = SQLiteConnection(url, missing_ok=False)
    try:
        assert sum(con.execute(f"SELECT x FROM other{i}.t").rows[0][0] for i in range(12)) == 66
    finally:
        con.close()


# --------------------------------------------------------------------------- sample data


def test_sample_data_never_replaces_a_users_own_table(tmp_path: Path) -> None:
    path = tmp_path / "warehouse.duckdb"
    url = f"duckdb:///{path}"
    con = duckdb.connect(str(path))
    con.execute("CREATE SCHEMA alpha")
    con.execute("CREATE TABLE alpha.posts (id INTEGER, note VARCHAR)")
    con.execute("INSERT INTO alpha.posts VALUES (1, 'mine')")
    con.close()
    project = make_project(tmp_path, url)  # the engine comes from the project
    small = ("--scale", "0.05", "--days", "10")
    code, out = cli(project, "sample-data", *small)
    assert code == 1
    assert "error[sample-overwrite]" in out and "alpha.posts" in out and "--force" in out, out
    check = duckdb.connect(str(path), read_only=True)
    assert check.execute("SELECT * FROM alpha.posts").fetchall() == [(1, "mine")]
    assert check.execute("SELECT count(*) FROM information_schema.tables "
                         "WHERE table_schema <> 'alpha'").fetchone() == (0,)
    check.close()
    # the same through --engine, then replaced on request, then rebuilt as its own
    code, out = cli(make_project(tmp_path / "other"), "sample-data", "--engine", url, *small)
    assert code == 1 and "alpha.posts" in out, out
    code, out = cli(project, "sample-data", "--force", *small)
    assert code == 0, out
    code, out = cli(project, "sample-data", "--seed", "3", *small)
    assert code == 0, out
    check = duckdb.connect(str(path), read_only=True)
    assert "note" not in {r[0] for r in check.execute("DESCRIBE alpha.posts").fetchall()}
    check.close()


# --------------------------------------------------------------------------- kpiframe test


def schemas_of(engine: str, url: str, folder: Path) -> set[str]:
    if engine == "duckdb":
        con = duckdb.connect(str(folder / "social.duckdb"), read_only=True)
        try:
            return {r[0] for r in con.execute(
                "SELECT schema_name FROM information_schema.schemata").fetchall()}
        finally:
            con.close()
    if engine == "sqlite":
        return {p.stem for p in folder.glob("*.db")}
    with psycopg.connect(url) as pg:
        return {r[0] for r in pg.execute(
            "SELECT schema_name FROM information_schema.schemata").fetchall()}


@pytest.fixture(params=["duckdb", "sqlite", "postgres"])
def real_engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[str, str]]:
    name = request.param
    if name == "duckdb":
        yield name, f"duckdb:///{tmp_path / 'social.duckdb'}"
    elif name == "sqlite":
        yield name, f"sqlite:///{tmp_path / 'social.db'}"
    else:
        yield name, request.getfixturevalue("postgres_url")


def test_kpi_tests_on_a_real_engine_leave_it_as_it_was(real_engine: tuple[str, str],
                                                       tmp_path: Path) -> None:
    engine, url = real_engine
    connection: Any = {"duckdb": DuckDBConnection, "sqlite": SQLiteConnection,
                       "postgres": PostgresConnection}[engine](url)
    # someone's schema with the name kpiframe used to load tests into
    connection.create_table("kpitest_alpha", "post_daily", canonical_columns("post_daily"),
                            [[None] * len(canonical_columns("post_daily"))])
    connection.close()
    before = schemas_of(engine, url, tmp_path)
    project = make_project(tmp_path / "project")
    (project / "definitions" / "tests.yaml").write_text(TESTS)
    code, out = cli(project, "test", "--engine", url)
    assert code == 1, out  # one test fails on purpose: cleanup runs on failure too
    assert "PASS alpha_likes " in out and "FAIL alpha_likes_wrong" in out, out
    assert schemas_of(engine, url, tmp_path) == before
    con: Any = {"duckdb": DuckDBConnection, "sqlite": SQLiteConnection,
                "postgres": PostgresConnection}[engine](url)
    try:
        assert con.execute('SELECT count(*) FROM "kpitest_alpha"."post_daily"').rows == [(1,)]
        if engine == "postgres":
            con.drop_schema("kpitest_alpha")
    finally:
        con.close()


# --------------------------------------------------------------------------- secrets

SECRET = "S3cret-Pw_42"


def with_password(url: str, database: str = "postgres") -> str:
    """The throwaway server's URL with a password (its trust auth ignores it)."""
    rest = url.split("postgres@/postgres", 1)[1]
    return f"postgresql://postgres:{SECRET}@/{database}{rest}"


def test_a_postgres_password_never_appears_in_output(postgres_url: str, tmp_path: Path
                                                     ) -> None:
    project = make_project(tmp_path)
    (project / "definitions" / "tests.yaml").write_text(TESTS)
    query_string = postgres_url.replace("/postgres?", "/no_such_db?") + f"&password={SECRET}"
    conninfo = f"host=/nonexistent dbname=x user=postgres password={SECRET}"
    urls = [with_password(postgres_url, "no_such_db"), with_password(postgres_url),
            query_string, conninfo,
            f"postgresql://postgres:{SECRET}@127.0.0.1:1/postgres"]
    outputs = []
    for url in urls:
        for args in (("query", "likes"), ("test",), ("test", "--format", "github"),
                     ("test", "--format", "json"), ("sample-data",)):
            code, out = cli(project, *args, "--engine", url)
            # sample-data writes to PostgreSQL: on the server that answers it succeeds, and
            # its summary names the engine, redacted too
            succeeds = args == ("sample-data",) and url == with_password(postgres_url)
            assert (code == 0) if succeeds else (code != 0), (url, args, out)
            outputs.append(out)
    _drop_sample_data(postgres_url)
    text = "\n".join(outputs)
    assert SECRET not in text
    assert "postgres:***@" in text and "password=***" in text
    # the project's engine: too
    (project / "kpiframe.yaml").write_text(
        f"plugins: [testplatforms]\nengine: {with_password(postgres_url, 'nope')}\n")
    code, out = cli(project, "query", "likes")
    assert code == 1 and SECRET not in out and "***" in out, out


def _drop_sample_data(url: str) -> None:
    """Drop exactly the tables sample data recorded building, leaving the shared server's
    other schemas as they were."""
    import json

    import psycopg
    from psycopg import sql

    with psycopg.connect(url, autocommit=True) as con:
        row = con.execute('SELECT "value" FROM "_kpiframe"."sample" '
                          "WHERE \"key\" = 'tables'").fetchone()
        assert row is not None
        for name in [*json.loads(row[0]), "_kpiframe.sample"]:
            schema, table = name.rsplit(".", 1)
            con.execute(sql.SQL("DROP TABLE IF EXISTS {}.{}").format(
                sql.Identifier(schema), sql.Identifier(table)))


@pytest.mark.parametrize("text", [
    f"cannot connect to postgresql://bob:{SECRET}@db.example.com:5432/x?sslmode=require",
    f"postgres://bob:{SECRET}@host/db",
    f"host=db user=bob password={SECRET} dbname=x",
    f"host=db password='{SECRET} with spaces' dbname=x",
    f"postgresql://bob@/db?host=/tmp&password={SECRET}&port=5432",
    f"PGPASSWORD={SECRET} kpiframe query",
    f"postgresql://bob:{SECRET}@{SECRET}@host/db",
])
def test_redaction_hides_every_form_of_password(text: str) -> None:
    assert SECRET not in redact(text)
    problem = Problem("r", text, hint=text)
    assert SECRET not in problem.format() and SECRET not in str(problem.to_dict())
    assert SECRET not in str(KpiframeError(problem))


def test_redaction_leaves_other_text_alone() -> None:
    for text in ("duckdb:///data/x.duckdb", "spark://host:7077", "likes = 1 AND x >= 2",
                 "sqlite:///a@b.db"):
        assert redact(text) == text
