"""The dialect adapter (kpiframe/compiler/adapters.py): what it rewrites, and that every
engine then computes `extract` and `LIKE`/`ILIKE` as plain Python says they mean.

The engine checks run one query per engine over many dates (every day of twelve years,
so every ISO-week edge) and every pairing of awkward strings and patterns; the oracle
suite (tests/test_oracle.py) checks the same forms inside KPIs."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
import sqlglot
from sqlglot import exp

from kpiframe.compiler.adapters import adapt_row_expr, adapter, glob_pattern
from kpiframe.exprbuild import DATE_PARTS
from kpiframe.expressions import row_expr
from tests.engines import ENGINES, EngineUnderTest, engine_under_test
from tests.oracle.model import extract, like

FIELDS = {"d": "date", "ts": "timestamp", "v": "text", "p": "text"}
DIALECTS = ("duckdb", "sqlite", "postgres", "spark")


def adapted(text: str, dialect: str) -> exp.Expr:
    return adapt_row_expr(row_expr(text, FIELDS).copy_tree(), dialect)


# -- the rewrite --------------------------------------------------------------------------


def test_a_tree_with_nothing_to_adapt_comes_back_as_is() -> None:
    tree = row_expr("v = 'a' AND extract_me IS NULL", {**FIELDS, "extract_me": "text"}).tree
    assert adapt_row_expr(tree, "sqlite") is tree


@pytest.mark.parametrize("dialect", DIALECTS)
def test_the_tree_given_is_not_changed(dialect: str) -> None:
    built = row_expr("v LIKE 'a%' AND extract(dow FROM d) = 1 AND v ILIKE p", FIELDS)
    before = built.tree.sql()
    adapt_row_expr(built.tree, dialect)
    assert built.tree.sql() == before


@pytest.mark.parametrize(("like_pattern", "glob"), [
    ("P%", "P*"),
    ("p_1%", "p?1*"),
    ("%[6]*?", "*[[]6][*][?]"),
    ("a\\b", "a\\b"),
    ("]", "]"),
    ("", ""),
])
def test_sqlite_like_is_glob_with_the_pattern_translated(like_pattern: str, glob: str) -> None:
    tree = adapted(f"v LIKE {exp.Literal.string(like_pattern).sql()}", "sqlite")
    assert isinstance(tree, exp.Glob)
    assert tree.expression == exp.Literal.string(glob)


def test_a_pattern_that_is_not_a_literal_is_translated_in_sql() -> None:
    tree = glob_pattern(exp.column("p"))
    sql = tree.sql("sqlite")
    assert sql.count("REPLACE(") == 5 and sql.startswith("REPLACE(REPLACE(REPLACE(")


@pytest.mark.parametrize("dialect", ["postgres", "spark"])
def test_a_backslash_is_doubled_where_like_escapes_with_it(dialect: str) -> None:
    tree = adapted("v LIKE 'a\\b' AND v ILIKE p", dialect)
    like_node = tree.find(exp.Like)
    assert like_node is not None and like_node.expression == exp.Literal.string("a\\\\b")
    ilike_node = tree.find(exp.ILike)
    assert ilike_node is not None and isinstance(ilike_node.expression, exp.Anonymous)


@pytest.mark.parametrize("dialect", DIALECTS)
@pytest.mark.parametrize("node", [exp.Like, exp.ILike])
def test_a_negated_like_stays_negated(dialect: str, node: type[exp.Like | exp.ILike]) -> None:
    """sqlglot parses `v NOT LIKE p` to a LIKE with `negate` set."""
    tree = node(this=exp.column("v"), expression=exp.Literal.string("a%"), negate=True)
    assert isinstance(adapt_row_expr(tree, dialect), exp.Not)


def test_extract_inside_a_like_operand_is_adapted_too() -> None:
    sql = adapted("CAST(extract(dow FROM d) AS TEXT) LIKE '1%'", "sqlite").sql("sqlite")
    assert "EXTRACT" not in sql.upper() and "GLOB" in sql


def test_spark_counts_the_day_of_week_from_sunday_as_zero() -> None:
    tree = adapted("extract(dow FROM d)", "spark")
    assert isinstance(tree, exp.Sub) and tree.expression == exp.Literal.number(1)


def test_a_dialect_without_an_adapter_of_its_own_gets_the_portable_one() -> None:
    assert type(adapter("snowflake")) is type(adapter("some-plugin-dialect"))
    assert type(adapter("databricks")) is type(adapter("spark"))


@pytest.mark.parametrize("dialect", DIALECTS)
def test_adapted_sql_parses_back_to_the_same_tree(dialect: str) -> None:
    parts = " + ".join(f"extract({p} FROM ts) + extract({p} FROM d)" for p in DATE_PARTS)
    text = f"({parts}) > 0 AND v LIKE 'a[%_*?\\' AND v NOT LIKE p AND v ILIKE 'A%'"
    sql = adapted(text, dialect).sql(dialect)
    tree = sqlglot.parse_one(sql, read=dialect)
    printed = tree.sql(dialect)
    assert sqlglot.parse_one(printed, read=dialect) == tree
    assert sqlglot.parse_one(printed, read=dialect).sql(dialect) == printed


# -- on the engines -------------------------------------------------------------------------

FIRST, DAYS = dt.date(2015, 12, 20), 12 * 366 + 30
VALUES = ("abc", "ABC", "aBc", "a%c", "a_c", "a[b]c", "a*c", "a?c", "a\\c", "a\\%c", "",
          "x\ny", "[", "?")
PATTERNS = ("a%", "A%", "%c", "a_c", "a%c", "a[b]c", "a*c", "a?c", "a\\c", "a\\%", "%\\%%",
            "_", "%", "", "[a]%", "a\\_c", "[", "?", "x%y", "%B%")


def _moment(n: int) -> dt.datetime:
    day = FIRST + dt.timedelta(days=n)
    return dt.datetime.combine(day, dt.time()) + dt.timedelta(
        seconds=n * 7919 % 86400, microseconds=n * 104729 % 1_000_000)


@pytest.fixture(scope="module", params=[
    pytest.param(name, marks=getattr(pytest.mark, name)) if name in ("postgres", "spark")
    else name for name in ENGINES])
def engine(request: pytest.FixtureRequest,
           tmp_path_factory: pytest.TempPathFactory) -> EngineUnderTest:
    under_test = engine_under_test(request.param, request, tmp_path_factory)
    days = [[FIRST + dt.timedelta(days=n), _moment(n)] for n in range(DAYS)]
    pairs = [[v, p] for v in VALUES for p in PATTERNS]
    under_test.load("dialects", {
        "days": ([("d", "date"), ("ts", "timestamp")], days),
        "pairs": ([("v", "text"), ("p", "text")], pairs),
    })
    return under_test


def _select(engine: EngineUnderTest, table: str, columns: list[exp.Expr],
            order: list[str]) -> list[tuple[Any, ...]]:
    dialect = engine.name
    query = exp.select(*columns).from_(exp.table_(table, db="dialects")).order_by(
        *(exp.column(c, quoted=True) for c in order))
    con = engine.connect()
    try:
        return list(con.execute(query.sql(dialect)).rows)
    finally:
        con.close()


def test_extract_of_every_part_matches_python(engine: EngineUnderTest) -> None:
    texts = [f"extract({part} FROM {arg})" for arg in ("ts", "d") for part in DATE_PARTS]
    columns = [exp.column("d", quoted=True)] + [
        adapted(text, engine.name) for text in texts]
    rows = _select(engine, "days", columns, ["d"])
    assert len(rows) == DAYS
    for n, row in enumerate(rows):
        day, moment = FIRST + dt.timedelta(days=n), _moment(n)
        want = [extract(part, value) for value in (moment, day) for part in DATE_PARTS]
        got = list(row[1:])
        assert all(isinstance(g, int) or float(g).is_integer() for g in got), (day, got)
        assert [int(g) for g in got] == want, f"{day} / {moment}: " + ", ".join(
            f"{t} = {g} (want {w})" for t, g, w in zip(texts, got, want, strict=True)
            if int(g) != w)


def _truth(value: Any) -> bool | None:
    return None if value is None else bool(value)


def test_like_and_ilike_match_python(engine: EngineUnderTest) -> None:
    """Each pattern both as a literal (translated at compile time) and as a column (in
    SQL), LIKE and ILIKE: case, wildcards, GLOB's characters, a backslash."""
    texts = ["v LIKE p", "v ILIKE p", "NOT v LIKE p"]
    texts += [f"v LIKE {exp.Literal.string(p).sql()}" for p in PATTERNS]
    texts += [f"v ILIKE {exp.Literal.string(p).sql()}" for p in PATTERNS]
    columns = [exp.column("v", quoted=True), exp.column("p", quoted=True)] + [
        adapted(text, engine.name) for text in texts]
    rows = _select(engine, "pairs", columns, ["v", "p"])
    wrong = []
    for row in rows:
        value, pattern = row[0], row[1]
        want = [like(value, pattern), like(value, pattern, True), not like(value, pattern)]
        want += [like(value, p) for p in PATTERNS] + [like(value, p, True) for p in PATTERNS]
        got = [_truth(g) for g in row[2:]]
        wrong += [f"{value!r} / {t}: got {g}, want {w}"
                  for t, g, w in zip(texts, got, want, strict=True) if g != w]
    assert len(rows) == len(VALUES) * len(PATTERNS)
    assert not wrong, "\n".join(sorted(set(wrong))[:40])
