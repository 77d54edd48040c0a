"""Property: whatever a user writes as a row expression, kpiframe either refuses it with an
ExprError or prints, for every sqlglot dialect, one query over the expected tables whose
string literals are exactly the ones the user wrote.

Hypothesis generates expressions from the allowed grammar (fields, numbers, strings with
hostile characters, arithmetic, comparisons, AND/OR/NOT, IN, BETWEEN, IS NULL, LIKE, CASE,
CAST with parameters, extract, allowed functions) and mixes in hostile tokens (quoted
identifiers, `;`, comments, DROP/COPY/ATTACH, table functions, subqueries). The printed SQL
is checked here by parsing it back independently, not by kpiframe's own verifier.
"""

from __future__ import annotations

import dataclasses
import tempfile
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlglot
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from sqlglot import exp
from sqlglot.dialects.dialect import Dialect
from sqlglot.parser import Parser
from sqlglot.tokens import Tokenizer

from kpiframe import load_catalog
from kpiframe.catalog import Catalog
from kpiframe.compiler.adapters import adapt_row_expr
from kpiframe.expressions import ExprError, row_expr

DIALECTS = sorted(d for d in Dialect.classes if d)
#: PRQL's parser reads PRQL while its generator prints SQL with backquoted names and
#: doubled quotes in strings, as SQLite reads them
READ_AS = {"prql": "sqlite"}
TABLES = {("alpha", "post_daily"), ("beta", "post_daily")}
MARKER = "kpiframe-property-marker"

FIELDS = {"platform": "text", "post_id": "text", "date": "date", "account_id": "text",
          "post_type": "text", "impressions": "integer", "video_views": "integer",
          "likes": "integer", "comments": "integer", "shares": "integer", "clicks": "integer"}
NUMERIC = [f for f, t in FIELDS.items() if t == "integer"]
TEXT = [f for f, t in FIELDS.items() if t == "text"]

KPIS = f"""\
kpis:
  - name: probe_filter
    type: simple
    source: post_daily
    agg: sum
    expr: likes
    filter: "post_type = '{MARKER}'"
  - name: probe_expr
    type: simple
    source: post_daily
    agg: sum
    expr: "CASE WHEN post_type = '{MARKER}' THEN likes ELSE 0 END"
"""

FORBIDDEN = (
    exp.DDL, exp.DML, exp.Command, exp.Drop, exp.Create, exp.Insert, exp.Update, exp.Delete,
    exp.Merge, exp.Alter, exp.TruncateTable, exp.Copy, exp.Pragma, exp.Set, exp.Use,
    exp.Transaction, exp.Commit, exp.Rollback, exp.Grant, exp.Into, exp.Block, exp.Attach,
    exp.Detach, exp.Install,
)


@pytest.fixture(scope="module")
def catalog() -> Iterator[Catalog]:
    from kpiframe.plugins import clear_cache

    with tempfile.TemporaryDirectory() as folder, pytest.MonkeyPatch.context() as patch:
        patch.setenv("KPIFRAME_LOAD_PLUGINS", "")
        clear_cache()
        (Path(folder) / "kpis.yaml").write_text(KPIS)
        yield load_catalog(Path(folder) / "kpis.yaml", project=folder,
                           plugins=["testplatforms"])


# -- the grammar --------------------------------------------------------------------------

HOSTILE_CHARS = st.sampled_from(["'", "''", "\\", '"', "`", ";", "--", "/*", "*/", "$$", "%",
                                 "_", "\n", "\u2019", "\uff07", "é", "\\'", "$1", "?", " "])
strings = st.lists(st.one_of(HOSTILE_CHARS, st.text(
    alphabet="abcDROP TABLE()x;", max_size=6)), max_size=5).map("".join)


def quote(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


string_lits = strings.map(quote)
numbers = st.one_of(st.integers(0, 10**6).map(str),
                    st.decimals(0, 1000, places=3, allow_nan=False).map(str),
                    st.sampled_from(["1e3", ".5", "0", "2.", "007"]))

HOSTILE = st.sampled_from([
    '"vault"."secrets"', '"secrets"', "vault.secrets.s", "(SELECT s FROM vault.secrets)",
    "(SELECT 1)", "getenv('AWS_SECRET_ACCESS_KEY')", "read_csv('/etc/passwd')",
    "read_text('/etc/passwd')", "pg_read_file('/etc/passwd')",
    "current_setting('data_directory')", "pg_sleep(1)", "load_extension('x')",
    "EXISTS (SELECT 1)", "likes; DROP TABLE victim", "likes -- c", "likes /* c */",
    "1; COPY (SELECT 1) TO '/tmp/x'", "ATTACH 'x.db' AS y", "PRAGMA database_list",
    "CAST(likes AS DECIMAL(\"1)); DROP TABLE x; --\"))", "extract(\"epoch\" FROM date)",
    "extract('year FROM now()); DROP TABLE x; --' FROM date)", "platform || 'x'", "*",
    "count(*)", "sum(likes)", "$$x$$", "?", ":x", "@x", "[likes]", "`likes`",
    '"likes"" FROM x --"', "likes.likes", "CAST(likes AS DECIMAL(likes))",
    "CAST(likes AS DECIMAL(18, '2'))", "DROP", "COPY", "ATTACH", "SELECT",
])


def num(depth: int) -> st.SearchStrategy[str]:
    leaves = st.one_of(st.sampled_from(NUMERIC), numbers)
    if depth <= 0:
        return leaves
    inner, text_, cond = num(depth - 1), text(depth - 1), boolean(depth - 1)
    return st.one_of(
        leaves,
        st.tuples(inner, st.sampled_from(["+", "-", "*", "/", "%"]), inner).map(
            lambda t: f"({t[0]} {t[1]} {t[2]})"),
        inner.map(lambda x: f"-{x}"),
        st.tuples(st.sampled_from(["abs", "floor", "ceil", "sqrt", "ln", "exp", "sign"]),
                  inner).map(lambda t: f"{t[0]}({t[1]})"),
        st.tuples(inner, st.integers(0, 4)).map(lambda t: f"round({t[0]}, {t[1]})"),
        st.tuples(st.sampled_from(["coalesce", "least", "greatest", "nullif", "power"]),
                  inner, inner).map(lambda t: f"{t[0]}({t[1]}, {t[2]})"),
        text_.map(lambda x: f"length({x})"),
        st.tuples(inner, st.sampled_from(["INT", "BIGINT", "DOUBLE", "FLOAT", "DECIMAL",
                                          "DECIMAL(18, 2)", "DECIMAL(5)", "SMALLINT"])).map(
            lambda t: f"CAST({t[0]} AS {t[1]})"),
        st.sampled_from(["year", "quarter", "month", "week", "day", "dow", "doy"]).map(
            lambda p: f"extract({p} FROM date)"),
        st.tuples(cond, inner, inner).map(
            lambda t: f"CASE WHEN {t[0]} THEN {t[1]} ELSE {t[2]} END"),
        st.tuples(text_, string_lits, inner, inner).map(
            lambda t: f"CASE {t[0]} WHEN {t[1]} THEN {t[2]} ELSE {t[3]} END"),
        st.tuples(cond, inner, inner).map(lambda t: f"if({t[0]}, {t[1]}, {t[2]})"),
    )


def text(depth: int) -> st.SearchStrategy[str]:
    leaves = st.one_of(st.sampled_from(TEXT), string_lits)
    if depth <= 0:
        return leaves
    inner, number = text(depth - 1), num(depth - 1)
    return st.one_of(
        leaves,
        st.tuples(st.sampled_from(["lower", "upper", "trim"]), inner).map(
            lambda t: f"{t[0]}({t[1]})"),
        st.tuples(inner, st.integers(1, 5), st.integers(1, 5)).map(
            lambda t: f"substring({t[0]}, {t[1]}, {t[2]})"),
        st.tuples(number, st.sampled_from(["TEXT", "VARCHAR", "VARCHAR(20)"])).map(
            lambda t: f"CAST({t[0]} AS {t[1]})"),
        st.tuples(inner, inner).map(lambda t: f"coalesce({t[0]}, {t[1]})"),
    )


def boolean(depth: int) -> st.SearchStrategy[str]:
    number, text_ = num(max(depth - 1, 0)), text(max(depth - 1, 0))
    leaves = st.one_of(
        st.tuples(number, st.sampled_from(["=", "<>", "!=", "<", "<=", ">", ">="]), number).map(
            " ".join),
        st.tuples(text_, st.sampled_from(["=", "<>"]), text_).map(" ".join),
        st.tuples(text_, st.sampled_from(["LIKE", "NOT LIKE", "ILIKE"]), string_lits).map(
            " ".join),
        st.tuples(text_, st.lists(string_lits, min_size=1, max_size=3)).map(
            lambda t: f"{t[0]} IN ({', '.join(t[1])})"),
        st.tuples(number, number, number).map(lambda t: f"{t[0]} BETWEEN {t[1]} AND {t[2]}"),
        st.tuples(st.one_of(number, text_), st.sampled_from(["IS NULL", "IS NOT NULL"])).map(
            " ".join),
        st.sampled_from(["date >= '2025-01-01'", "date BETWEEN CAST('2025-01-01' AS DATE) AND "
                         "CAST('2025-12-31' AS DATE)", "TRUE", "NOT FALSE"]),
    )
    if depth <= 0:
        return leaves
    inner = boolean(depth - 1)
    return st.one_of(
        leaves,
        st.tuples(inner, st.sampled_from(["AND", "OR"]), inner).map(
            lambda t: f"({t[0]} {t[1]} {t[2]})"),
        inner.map(lambda x: f"NOT ({x})"),
    )


@st.composite
def expressions(draw: st.DrawFn) -> str:
    """A number or a condition from the grammar, sometimes with a hostile token spliced in
    (in place of a word, or appended)."""
    base = draw(st.one_of(num(2), boolean(2)))
    how = draw(st.sampled_from(["clean", "clean", "replace", "append", "prepend"]))
    if how == "clean":
        return base
    token = draw(HOSTILE)
    if how == "append":
        glue = draw(st.sampled_from([" ", "; ", " + ", " AND ", " -- ", " /* ", "\n"]))
        return base + glue + token
    if how == "prepend":
        return token + draw(st.sampled_from([" ", "; ", " + ", " OR "])) + base
    words = base.split(" ")
    at = draw(st.integers(0, len(words) - 1))
    words[at] = token
    return " ".join(words)


# -- the independent check ----------------------------------------------------------------


def string_literals(tree: exp.Expr) -> Counter[str]:
    return Counter(str(node.this) for node in tree.find_all(exp.Literal) if node.is_string)


class DaxPrintedSql(Tokenizer):
    """DAX's parser reads DAX; its generator prints SQL with 'names' and "strings"."""

    QUOTES = ['"']
    IDENTIFIERS = ["'"]
    STRING_ESCAPES = ['"']


def parse_back(sql: str, dialect: str) -> list[exp.Expr | None]:
    if dialect == "dax":
        return Parser().parse(DaxPrintedSql().tokenize(sql), sql)
    return sqlglot.parse(sql, read=READ_AS.get(dialect, dialect))


def one_query(sql: str, dialect: str) -> exp.Query:
    statements = [s for s in parse_back(sql, dialect) if s is not None]
    assert len(statements) == 1, (dialect, sql)
    (tree,) = statements
    assert isinstance(tree, exp.Query), (dialect, sql)
    ctes = {cte.alias.casefold() for cte in tree.find_all(exp.CTE)}
    for node in tree.walk():
        assert not isinstance(node, FORBIDDEN), (dialect, node.key, sql)
    for table in tree.find_all(exp.Table):
        name = (table.db.casefold(), table.name.casefold())
        # Oracle before 23c reads constant rows from DUAL; no other dialect reads it
        dual = dialect == "oracle" and name == ("", "dual")
        assert (not table.db and name[1] in ctes) or name in TABLES or dual, (
            dialect, table.sql(), sql)
    return tree


BASELINES: dict[tuple[str, str], Counter[str]] = {}
WANTS: dict[str, tuple[str, ...]] = {"filter": ("boolean",), "expr": ("number",)}


def check_compiles(catalog: Catalog, kpi: str, key: str, text: str, inputs: Counter[str],
                   patterns: list[exp.Expr]) -> None:
    """Every dialect prints one query over the expected tables, the user's literals in it
    exactly as often as the marker's (the filter is repeated once per platform scan)."""
    original = catalog.kpis[kpi]
    try:
        for dialect in DIALECTS:
            catalog.kpis[kpi] = original
            key_ = (kpi, dialect)
            if key_ not in BASELINES:
                BASELINES[key_] = string_literals(one_query(
                    catalog.compile(kpi, dialect=dialect, pretty=False), dialect))
            baseline = BASELINES[key_]
            copies = baseline[MARKER]
            assert copies >= 1, (dialect, baseline)
            catalog.kpis[kpi] = dataclasses.replace(original, **{key: text})  # type: ignore[arg-type]
            sql = catalog.compile(kpi, dialect=dialect, pretty=False)
            found = string_literals(one_query(sql, dialect))
            # the dialect's adapter may respell a LIKE pattern (a backslash doubled, SQLite's
            # GLOB) and add its own literals (SQLite's strftime formats); every other user
            # literal must reach it unchanged
            # as the dialect prints it: its generator may spell a part with a literal of its
            # own (Teradata's extract(quarter) is TO_CHAR(x, 'Q'))
            adapted_tree = adapt_row_expr(
                row_expr(text, FIELDS, want=WANTS[key]).copy_tree(), dialect)  # type: ignore[arg-type]
            adapted = string_literals(one_query(
                exp.select(adapted_tree).sql(dialect=dialect, identify=True), dialect))
            kept = inputs.copy()
            kept.subtract(Counter(str(node.expression.this) for node in patterns))
            assert not +kept - adapted, (dialect, text, adapted)
            wanted = baseline.copy()
            wanted.subtract({MARKER: copies})
            for value, count in adapted.items():
                wanted[value] += count * copies
            assert +found == +wanted, (dialect, text, sql)
    finally:
        catalog.kpis[kpi] = original


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                    HealthCheck.data_too_large])
@given(text=expressions())
@example(text="(impressions + extract(quarter FROM date))")  # Teradata prints a 'Q'
def test_every_expression_is_refused_or_safe_in_every_dialect(catalog: Catalog,
                                                              text: str) -> None:
    accepted = []
    for key, want in WANTS.items():
        try:
            row_expr(text, FIELDS, want=want)  # type: ignore[arg-type]
        except ExprError:
            continue
        accepted.append(key)
    if not accepted:
        return
    parsed = sqlglot.parse_one(text)
    inputs = string_literals(parsed)
    patterns = [exp.Like(this=exp.column("x"), expression=node.expression.copy())
                if isinstance(node, exp.Like) else
                exp.ILike(this=exp.column("x"), expression=node.expression.copy())
                for node in parsed.find_all(exp.Like, exp.ILike)
                if isinstance(node.expression, exp.Literal) and node.expression.is_string]
    for key in accepted:
        kpi = f"probe_{key}"
        check_compiles(catalog, kpi, key, text, inputs, patterns)
