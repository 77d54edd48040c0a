"""Hostile input: every way a user's text reaches SQL, attacked, on DuckDB, SQLite and
PostgreSQL.

Each engine holds a planted secret table (`vault.secrets`), a planted victim table
(`victim.victims`) and the two test platforms' `post_daily`; the environment holds secret
variables and the disk a secret file. Payloads go in through `--where` (`query`,
`compile`), `filter:` and `expr:` in a definition file (`validate --strict`, `query`,
`compile --dialect`) and a KPI test's `query.where` (`test` in every format). A payload
that could change what runs must be refused with a located error (exit 1 or 2, no
traceback); a payload whose dangerous text is only data (inside a string literal, or a
comment, which kpiframe drops) must give the same numbers as the harmless query. Either
way: no secret in any output, no file written, no table dropped, no command run.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import secrets
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from kpiframe.cli import main
from kpiframe.engines.duckdb import DuckDBConnection
from kpiframe.engines.postgres import PostgresConnection
from kpiframe.engines.sqlite import SQLiteConnection
from kpiframe.platform import Connection
from kpiframe.testing import canonical_columns
from tests.engines import canonical_table

TABLE_SECRET = f"TOPSECRET-{secrets.token_hex(8)}"
ENV_SECRET = f"ENVSECRET-{secrets.token_hex(8)}"
AWS_SECRET = f"AWSSECRET-{secrets.token_hex(8)}"
FILE_SECRET = f"FILESECRET-{secrets.token_hex(8)}"
SECRETS = (TABLE_SECRET, ENV_SECRET, AWS_SECRET, FILE_SECRET)
VICTIMS = [["v1"], ["v2"], ["v3"]]
DIALECTS = ("snowflake", "spark", "tsql", "postgres", "duckdb", "sqlite")
ENGINES = ("duckdb", "sqlite", "postgres")

#: a number every entry point accepts: `platform` is a field of post_daily and a dimension
N = "length(platform)"
#: a date every entry point accepts, for extract(... FROM <date>)
D = "CAST('2025-01-03' AS DATE)"


@dataclass(frozen=True)
class Paths:
    """Where payloads aim: files they would read, write or create."""

    secret_file: Path
    out: Path
    marker: Path
    secret_db: Path


# A payload is a numeric expression; entry points use it as `expr: P` or `P > 0`.
# {secret_file}, {out}, {marker} and {secret_db} are filled in per test.
REFUSED: dict[str, str] = {
    # quoted identifiers as type parameters: sqlglot printed their text raw
    "cast-param-subquery": f'CAST({N} AS DECIMAL("1)) + (SELECT CAST(s AS INT) FROM '
                           f'vault.secrets) --"))',
    "cast-param-second-param": f'CAST({N} AS DECIMAL(18, "2)); DROP TABLE victim.victims; --"))',
    "cast-param-copy": f'CAST({N} AS DECIMAL("1)); COPY (SELECT s FROM vault.secrets) TO '
                       "'{out}'; --\"))",
    "cast-param-do-program": f'CAST({N} AS DECIMAL("1)); DO $$ BEGIN EXECUTE ' "''COPY "
                             "(SELECT 1) TO PROGRAM ''''touch {marker}''''''; END $$; --\"))",
    "cast-param-getenv": f'CAST({N} AS VARCHAR("1)) || getenv(\'KPIFRAME_TEST_SECRET\') --"))',
    "cast-param-read-text": f'CAST({N} AS DECIMAL("1)) + (SELECT CAST(content AS INT) FROM '
                            "read_text('{secret_file}')) --\"))",
    "cast-param-pg-read-file": f'CAST({N} AS DECIMAL("1)) + CAST(pg_read_file('
                               "'{secret_file}') AS INT) --\"))",
    "cast-param-backquoted": f"CAST({N} AS DECIMAL(`1)); DROP TABLE victim.victims; --`))",
    "cast-param-bracketed": f"CAST({N} AS DECIMAL([1)); DROP TABLE victim.victims; --]))",
    "cast-param-string": f"CAST({N} AS DECIMAL('1)); DROP TABLE victim.victims; --'))",
    "cast-param-expression": f"CAST({N} AS DECIMAL((SELECT 1)))",
    "cast-type-unknown": f'CAST({N} AS "INT); DROP TABLE victim.victims; --")',
    # date-part units
    "extract-ident": f'extract("epoch FROM now()) + (SELECT CAST(s AS INT) FROM vault.secrets) '
                     f'+ extract(epoch" FROM {D})',
    "extract-string": f"extract('year FROM now()); DROP TABLE victim.victims; --' FROM {D})",
    "extract-drop": f'extract("year FROM now())); DROP TABLE victim.victims; --" FROM {D})',
    "extract-unknown-part": f"extract(epoch FROM {D})",
    # comments that hide a second statement
    "comment-line-stacked": f"{N} -- x\n; DROP TABLE victim.victims",
    "comment-block-stacked": f"{N} /* x */; DROP TABLE victim.victims /* y */",
    "comment-unclosed": f"{N} /* ; DROP TABLE victim.victims",
    # stacked statements
    "stacked-drop": f"{N}; DROP TABLE victim.victims; --",
    "stacked-copy": f"{N}; COPY (SELECT s FROM vault.secrets) TO '{{out}}'; --",
    "stacked-copy-program": f"{N}; COPY (SELECT 1) TO PROGRAM 'touch {{marker}}'; --",
    "stacked-do": f"{N}; DO $$ BEGIN EXECUTE 'COPY (SELECT 1) TO PROGRAM ''touch {{marker}}'''; "
                  "END $$; --",
    "stacked-attach": f"{N}; ATTACH '{{secret_db}}' AS leak; --",
    "stacked-pragma": f"{N}; PRAGMA database_list; --",
    "stacked-delete": f"{N}; DELETE FROM victim.victims; --",
    # subqueries
    "subquery-scalar": f"{N} + (SELECT length(s) FROM vault.secrets LIMIT 1)",
    "subquery-in": f"CASE WHEN platform IN (SELECT s FROM vault.secrets) THEN 1 ELSE {N} END",
    "subquery-exists": f"CASE WHEN EXISTS (SELECT 1 FROM vault.secrets) THEN 1 ELSE {N} END",
    "subquery-union": f"{N} + 0 UNION SELECT length(s) FROM vault.secrets",
    # table functions and server functions
    "fn-getenv": f"{N} + length(getenv('KPIFRAME_TEST_SECRET'))",
    "fn-read-csv": f"{N} + (SELECT count(*) FROM read_csv('{{secret_file}}'))",
    "fn-read-text-scalar": f"{N} + length(read_text('{{secret_file}}'))",
    "fn-pg-read-file": f"{N} + length(pg_read_file('{{secret_file}}'))",
    "fn-current-setting": f"{N} + length(current_setting('data_directory'))",
    "fn-pg-sleep": f"{N} + pg_sleep(5)",
    "fn-pragma-table-info": f"{N} + (SELECT count(*) FROM pragma_table_info('secrets'))",
    "fn-load-extension": f"{N} + load_extension('{{secret_db}}')",
    # string escapes that try to close the literal
    "escape-backslash-quote": f"{N} + length('\\'); DROP TABLE victim.victims; --')",
    "escape-concat": f"{N} + length(platform || (SELECT s FROM vault.secrets))",
    "escape-e-string": f"{N} + length(E'\\x27); DROP TABLE victim.victims; --')",
    "escape-dollar-quote": f"{N} + length($$x$$); DROP TABLE victim.victims; --",
    # quoted identifiers naming other tables and columns
    "ident-other-table": f'{N} + length("secrets")',
    "ident-dotted-text": f'{N} + length("vault.secrets")',
    "ident-schema-table": f'{N} + length("vault"."secrets")',
    "ident-three-part": f'{N} + length("vault"."secrets"."s")',
    "ident-injection": f'{N} + length("platform"" FROM vault.secrets --")',
    "ident-star": f"{N} + count(*)",
    # ATTACH / PRAGMA as expressions
    "attach-expr": "ATTACH '{secret_db}' AS leak",
    "pragma-expr": "PRAGMA database_list",
    "placeholder": f"{N} + ?",
}

#: dangerous text that is only data: accepted, and the answer is the harmless one
NEUTRAL: dict[str, str] = {
    "literal-doubled-quote": f"{N} + 0 * length('x''); DROP TABLE victim.victims; --')",
    "literal-backslash": f"{N} + 0 * length('x\\'' ) FROM vault.secrets; --')",
    "literal-trailing-backslash": f"{N} + 0 * length('\\\\')",
    "literal-unicode": f"{N} + 0 * length('ʼ＇\u2019); DROP TABLE victim.victims; --')",
    "literal-unicode-escape-text": f"{N} + 0 * length('\\u0027); DROP TABLE victim.victims; --')",
    "literal-dollar": f"{N} + 0 * length('$$; DROP TABLE victim.victims; $$')",
    "literal-comment-text": f"{N} + 0 * length('*/ DROP TABLE victim.victims /*')",
    "comment-line": f"{N} -- ); DROP TABLE victim.victims\n",
    "comment-block": f"{N} /* */ ; DROP TABLE victim.victims; /* */ + 0",
}
# the last one has `;` outside the comment: it is refused, not neutral
REFUSED["comment-block-semicolon"] = NEUTRAL.pop("comment-block")

#: NUL in a string: PostgreSQL has no way to store it; an error is fine, a traceback is not
NUL = f"{N} + 0 * length('a\x00b')"


@dataclass
class Planted:
    engine: str
    url: str
    folder: Path
    connect: Callable[[], Connection]

    def victims(self) -> list[Any]:
        con = self.connect()
        try:
            return [list(r) for r in con.execute(
                'SELECT "v" FROM "victim"."victims" ORDER BY "v"').rows]
        finally:
            con.close()


def _rows() -> list[list[Any]]:
    return canonical_table("post_daily", [
        {"post_id": "1", "date": dt.date(2025, 1, 3), "likes": 10, "impressions": 100},
        {"post_id": "2", "date": dt.date(2025, 1, 9), "likes": 5, "impressions": 0},
    ])[1]


def _plant(con: Connection) -> None:
    columns = canonical_columns("post_daily")
    try:
        con.create_table("alpha", "post_daily", columns, _rows())
        con.create_table("beta", "post_daily", columns, _rows()[:1])
        con.create_table("alpha", "account_daily", canonical_columns("account_daily"), [])
        con.create_table("beta", "account_daily", canonical_columns("account_daily"), [])
        con.create_table("vault", "secrets", [("s", "text")], [[TABLE_SECRET]])
        con.create_table("victim", "victims", [("v", "text")], VICTIMS)
    finally:
        con.close()


def plant(name: str, request: pytest.FixtureRequest,
          tmp_path_factory: pytest.TempPathFactory) -> Planted:
    """One database on engine `name` with the platforms' rows, a secret and a victim."""
    folder = tmp_path_factory.mktemp(f"hostile-{name}")
    if name == "duckdb":
        url = f"duckdb:///{folder / 'social.duckdb'}"
        _plant(DuckDBConnection(url, write=True))
        return Planted(name, url, folder, lambda: DuckDBConnection(url))
    if name == "sqlite":
        url = f"sqlite:///{folder / 'main.db'}"
        _plant(SQLiteConnection(url))
        return Planted(name, url, folder, lambda: SQLiteConnection(url))
    import psycopg

    server = request.getfixturevalue("postgres_url")
    with psycopg.connect(server, autocommit=True) as admin:
        admin.execute("DROP DATABASE IF EXISTS kpiframe_hostile")
        admin.execute("CREATE DATABASE kpiframe_hostile")
    url = server.replace("/postgres?", "/kpiframe_hostile?")
    _plant(PostgresConnection(url))
    return Planted(name, url, folder, lambda: PostgresConnection(url))


@pytest.fixture(scope="module", params=[
    pytest.param(name, marks=pytest.mark.postgres) if name == "postgres" else name
    for name in ENGINES])
def planted(request: pytest.FixtureRequest,
            tmp_path_factory: pytest.TempPathFactory) -> Planted:
    return plant(request.param, request, tmp_path_factory)


@pytest.fixture(scope="module")
def planted_duckdb(request: pytest.FixtureRequest,
                   tmp_path_factory: pytest.TempPathFactory) -> Planted:
    """validate and compile never touch the engine: their attacks run once, on DuckDB."""
    return plant("duckdb", request, tmp_path_factory)


BASE_KPIS = """\
kpis:
  - name: likes
    type: simple
    source: post_daily
    agg: sum
    expr: likes
"""


def _yaml(text: str) -> str:
    """A YAML double-quoted scalar: JSON's escapes are YAML's."""
    return json.dumps(text)


def hostile_kpi(key: str, payload: str) -> tuple[str, int]:
    """A definition file whose KPI `hostile` carries the payload in `key`, and its line."""
    expr = payload if key == "expr" else "likes"
    text = "kpis:\n" + (
        "  - name: hostile\n    type: simple\n    source: post_daily\n    agg: sum\n"
        f"    expr: {_yaml(expr)}\n")
    line = text.count("\n")  # the expr line
    if key == "filter":
        text += f"    filter: {_yaml(payload + ' > 0')}\n"
        line += 1
    return text, line


def kpi_test(where: str) -> str:
    return f"""\
tests:
  - name: hostile_where
    kpis: [likes]
    query: {{grain: month, where: {_yaml(where)}}}
    given:
      alpha:
        post_daily:
          - {{post_id: "1", date: 2025-01-03, likes: 10, impressions: 100}}
    expect:
      - {{period: 2025-01-01, likes: 10}}
"""


@dataclass
class Attack:
    root: Path
    paths: Paths
    planted: Planted
    watched: tuple[Path, ...]

    def listing(self) -> set[str]:
        """Every file under the watched folders but the definitions the test writes."""
        mine = self.root / "definitions"
        return {str(p) for folder in self.watched for p in folder.rglob("*")
                if not p.name.endswith((".wal", "-journal")) and mine not in p.parents}

    def fill(self, payload: str) -> str:
        return (payload.replace("{secret_file}", str(self.paths.secret_file))
                .replace("{out}", str(self.paths.out))
                .replace("{marker}", str(self.paths.marker))
                .replace("{secret_db}", str(self.paths.secret_db)))

    def write(self, name: str, text: str) -> None:
        (self.root / "definitions" / name).write_text(text, encoding="utf-8")

    def run(self, *args: str) -> tuple[int, str]:
        result = CliRunner().invoke(main, list(args))
        out = result.output
        assert "Traceback" not in out, out
        assert result.exception is None or isinstance(result.exception, SystemExit), (
            repr(result.exception), out)
        for secret in SECRETS:
            assert secret not in out, f"a secret leaked through {args}:\n{out}"
        return result.exit_code, out


def _attack(planted: Planted, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
            ) -> Iterator[Attack]:
    root = tmp_path / "project"
    (root / "definitions").mkdir(parents=True)
    (root / "definitions" / "kpis.yaml").write_text(BASE_KPIS)
    (root / "kpiframe.yaml").write_text(f"engine: {planted.url}\nplugins: [testplatforms]\n")
    outside = tmp_path / "outside"
    outside.mkdir()
    secret_file = outside / "secret.txt"
    secret_file.write_text(f"{FILE_SECRET}\n")
    secret_db = outside / "vault.db"
    SQLiteConnection(f"sqlite:///{secret_db}").close()
    paths = Paths(secret_file, outside / "leak.csv", outside / "pwned", secret_db)
    monkeypatch.setenv("KPIFRAME_TEST_SECRET", ENV_SECRET)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", AWS_SECRET)
    monkeypatch.chdir(root)
    state = Attack(root, paths, planted, (tmp_path, planted.folder))
    before = state.listing()
    victims = planted.victims()
    assert victims == VICTIMS
    yield state
    assert not paths.out.exists(), "a COPY payload wrote its file"
    assert not paths.marker.exists(), "a payload ran an OS command"
    assert planted.victims() == VICTIMS, "a payload dropped or changed the victim table"
    assert state.listing() == before, "a payload wrote a file"


@pytest.fixture
def attack(planted: Planted, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
           ) -> Iterator[Attack]:
    yield from _attack(planted, tmp_path, monkeypatch)


@pytest.fixture
def offline(planted_duckdb: Planted, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
            ) -> Iterator[Attack]:
    yield from _attack(planted_duckdb, tmp_path, monkeypatch)


WHERE_LOC = re.compile(r"^--where:1:\d+: error\[[a-z-]+\] ", re.M)


def assert_refused(code: int, out: str, located: re.Pattern[str]) -> None:
    assert code in (1, 2), out
    assert located.search(out), out


def _def_loc(file: str, line: int) -> re.Pattern[str]:
    return re.compile(rf"^definitions/{file}:{line}:\d+: error\[[a-z-]+\] ", re.M)


def _ids(table: dict[str, str]) -> list[Any]:
    return [pytest.param(v, id=k) for k, v in table.items()]


# -- refused payloads, through every entry point ------------------------------------------


@pytest.mark.parametrize("payload", _ids(REFUSED))
def test_where_is_refused(attack: Attack, payload: str) -> None:
    where = attack.fill(payload) + " > 0"
    assert_refused(*attack.run("query", "likes", "--where", where), WHERE_LOC)


@pytest.mark.parametrize("key", ["filter", "expr"])
@pytest.mark.parametrize("payload", _ids(REFUSED))
def test_definition_is_refused(attack: Attack, payload: str, key: str) -> None:
    text, line = hostile_kpi(key, attack.fill(payload))
    attack.write("hostile.yaml", text)
    located = _def_loc("hostile.yaml", line)
    assert_refused(*attack.run("query", "hostile"), located)


@pytest.mark.parametrize("payload", _ids(REFUSED))
def test_kpi_test_where_is_refused(attack: Attack, payload: str) -> None:
    attack.write("tests.yaml", kpi_test(attack.fill(payload) + " > 0"))
    engine = attack.planted.url
    code, out = attack.run("test", "--engine", engine)
    assert code == 1 and "FAIL hostile_where" in out and "error[" in out, out
    code, out = attack.run("test", "--engine", engine, "--format", "json")
    report = json.loads(out)
    assert code == 1 and report["tests"][0]["status"] != "passed", out
    code, out = attack.run("test", "--engine", engine, "--format", "github")
    assert code == 1 and out.startswith("::error file=definitions/tests.yaml,line="), out
    code, out = attack.run("test", "--engine", engine, "--format", "junit")
    assert code == 1 and "hostile_where" in out and ("<failure" in out or "<error" in out), out


# -- engine-independent: validation and printed SQL ---------------------------------------


@pytest.mark.parametrize("key", ["filter", "expr"])
@pytest.mark.parametrize("payload", _ids(REFUSED))
def test_validate_and_compile_refuse(offline: Attack, payload: str, key: str) -> None:
    text, line = hostile_kpi(key, offline.fill(payload))
    offline.write("hostile.yaml", text)
    located = _def_loc("hostile.yaml", line)
    assert_refused(*offline.run("validate", "--strict"), located)
    code, out = offline.run("validate", "--strict", "--format", "github")
    assert code == 1 and f"::error file=definitions/hostile.yaml,line={line}," in out, out
    for dialect in DIALECTS:
        assert_refused(*offline.run("compile", "hostile", "--dialect", dialect), located)


@pytest.mark.parametrize("payload", _ids(REFUSED))
def test_compile_where_refuses(offline: Attack, payload: str) -> None:
    where = offline.fill(payload) + " > 0"
    for dialect in DIALECTS:
        assert_refused(*offline.run("compile", "likes", "--where", where, "--dialect", dialect),
                       WHERE_LOC)


@pytest.mark.parametrize("payload", _ids(REFUSED))
def test_validate_checks_a_kpi_tests_where(offline: Attack, payload: str) -> None:
    """A test's query is part of the catalog CI validates: a hostile one is not green."""
    offline.write("tests.yaml", kpi_test(offline.fill(payload) + " > 0"))
    code, out = offline.run("validate", "--strict")
    assert_refused(code, out, re.compile(r"^definitions/tests.yaml:\d+:\d+: error\[", re.M))


# -- neutral payloads: dangerous text that is only data ---------------------------------


def _json(out: str) -> Any:
    return json.loads(out)


@pytest.mark.parametrize("payload", _ids(NEUTRAL))
def test_data_that_looks_like_sql_stays_data(attack: Attack, payload: str) -> None:
    text = attack.fill(payload)
    code, baseline = attack.run("query", "likes", "--where", f"{N} > 0", "--format", "json")
    assert code == 0, baseline
    code, out = attack.run("query", "likes", "--where", f"{text} > 0", "--format", "json")
    assert code == 0, out
    assert _json(out) == _json(baseline)
    for key in ("filter", "expr"):
        attack.write("hostile.yaml", hostile_kpi(key, text)[0])
        code, out = attack.run("query", "hostile", "--format", "json")
        assert code == 0, out
        attack.write("hostile.yaml", hostile_kpi(key, N)[0])
        code, want = attack.run("query", "hostile", "--format", "json")
        assert code == 0 and _json(out) == _json(want), (out, want)


@pytest.mark.parametrize("payload", _ids(NEUTRAL))
def test_printed_sql_keeps_data_in_its_literal(offline: Attack, payload: str) -> None:
    """Comments are dropped and string literals stay one literal, in every dialect."""
    import sqlglot
    from sqlglot import exp

    text = offline.fill(payload)
    wanted = sorted(str(lit.this) for lit in sqlglot.parse_one(text).find_all(exp.Literal)
                    if lit.is_string)
    offline.write("hostile.yaml", hostile_kpi("filter", text)[0])
    for dialect in DIALECTS:
        code, sql = offline.run("compile", "hostile", "--dialect", dialect)
        assert code == 0, sql
        statements = [s for s in sqlglot.parse(sql, read=dialect) if s is not None]
        assert len(statements) == 1 and isinstance(statements[0], exp.Query), sql
        # no comment anywhere (a literal may hold '--' or '/*' as data: the parser knows)
        assert not any(node.comments for node in statements[0].walk()), (dialect, sql)
        found = sorted(str(lit.this) for lit in statements[0].find_all(exp.Literal)
                       if lit.is_string)
        for value in wanted:
            assert found.count(value) == wanted.count(value), (dialect, value, sql)
        # names compare as the warehouse resolves them (Snowflake keeps them upper-case)
        tables = {(t.db.casefold(), t.name.casefold())
                  for t in statements[0].find_all(exp.Table) if t.db}
        assert tables <= {("alpha", "post_daily"), ("beta", "post_daily")}, (dialect, sql)


def test_nul_in_a_string_is_an_error_or_data(attack: Attack) -> None:
    code, out = attack.run("query", "likes", "--where", f"{NUL} > 0", "--format", "json")
    if code:
        assert code in (1, 2) and "error[" in out, out
    else:
        code, baseline = attack.run("query", "likes", "--where", f"{N} > 0", "--format", "json")
        assert _json(out) == _json(baseline)


def test_the_planted_secret_is_there_to_steal(attack: Attack) -> None:
    """The suite is only meaningful if the secret is readable by a query on this engine."""
    con = attack.planted.connect()
    try:
        assert con.execute('SELECT "s" FROM "vault"."secrets"').rows[0][0] == TABLE_SECRET
    finally:
        con.close()


# -- row-level division by zero ------------------------------------------------------------


def test_row_level_division_by_zero_is_null(attack: Attack) -> None:
    """`avg(likes / impressions)` over 10/100 and 5/0: the 5/0 row is NULL, left out."""
    attack.write("ratio.yaml", "kpis:\n  - name: avg_rate\n    type: simple\n"
                 "    source: post_daily\n    agg: avg\n    expr: likes / impressions\n")
    code, out = attack.run("query", "avg_rate", "--platform", "alpha", "--format", "json")
    assert code == 0, out
    ratios = [likes / impressions for _, _, likes, impressions in
              [(r[0], r[1], r[names().index("likes")], r[names().index("impressions")])
               for r in _rows()] if impressions]
    (row,) = _json(out)
    assert row["avg_rate"] == pytest.approx(sum(ratios) / len(ratios))
    assert row["avg_rate"] == pytest.approx(0.1)


def names() -> list[str]:
    return [n for n, _ in canonical_columns("post_daily")]
