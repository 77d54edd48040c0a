"""The read-back check every generated statement passes before it runs (verify.py).

Two things are pinned here: what the check refuses, and that remembering the statements it
passed (so a repeated compile does not parse the same text again) changes none of that: a
refused statement is refused every time, a passed one passes only with the same dialect
and the same allowed tables, and the memory stays bounded.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlglot

from kpiframe import load_catalog
from kpiframe.compiler import verify as verify_module
from kpiframe.compiler.verify import VERIFIED, _Verified, verify
from kpiframe.problems import KpiframeError

ALLOWED = frozenset({("alpha", "post_daily")})
SAFE = 'WITH "x" AS (SELECT "likes" FROM "alpha"."post_daily") SELECT SUM("likes") FROM "x"'
HOSTILE = {
    "two statements": 'SELECT 1 FROM "alpha"."post_daily"; DROP TABLE "alpha"."post_daily"',
    "DDL": 'CREATE TABLE "alpha"."t" AS SELECT 1',
    "DML": 'DELETE FROM "alpha"."post_daily"',
    "SELECT INTO": 'SELECT 1 INTO "alpha"."copy" FROM "alpha"."post_daily"',
    "another table": 'SELECT * FROM "alpha"."secrets"',
    "another schema": 'SELECT * FROM "beta"."post_daily"',
    "a function as table": "SELECT * FROM read_csv('/etc/passwd')",
    "not SQL": 'SELECT FROM WHERE "',
}


@pytest.fixture(autouse=True)
def _fresh() -> Iterator[None]:
    VERIFIED.clear()
    yield
    VERIFIED.clear()


@pytest.fixture
def parses(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    seen: list[str] = []
    original = sqlglot.parse

    def spy(sql: str, *args: Any, **kwargs: Any) -> Any:
        seen.append(sql)
        return original(sql, *args, **kwargs)
    monkeypatch.setattr(verify_module.sqlglot, "parse", spy)
    return seen


@pytest.mark.parametrize("sql", HOSTILE.values(), ids=HOSTILE.keys())
def test_a_hostile_statement_is_refused_every_time(sql: str, parses: list[str]) -> None:
    for _ in range(3):
        with pytest.raises(KpiframeError) as caught:
            verify(sql, "duckdb", ALLOWED)
        assert caught.value.problems[0].rule == "unsafe-statement"
    assert parses == [sql] * 3


def test_a_passed_statement_is_not_parsed_again(parses: list[str]) -> None:
    for _ in range(3):
        verify(SAFE, "duckdb", ALLOWED)
    assert parses == [SAFE]


def test_a_pass_holds_only_for_the_same_dialect_and_tables(parses: list[str]) -> None:
    verify(SAFE, "duckdb", ALLOWED | {("gamma", "post_daily")})
    with pytest.raises(KpiframeError):
        verify(SAFE, "duckdb", frozenset({("beta", "post_daily")}))
    verify(SAFE, "postgres", ALLOWED)
    assert len(parses) == 3


def test_the_memory_is_bounded() -> None:
    memo = _Verified(max_chars=1000)
    keys = [(f"SELECT {i:0200d}", "duckdb", ALLOWED) for i in range(20)]
    for key in keys:
        memo.add(key)
    assert keys[-1] in memo and keys[0] not in memo
    assert sum(len(k[0]) for k in keys if k in memo) <= 1000
    huge = ("SELECT " + "1" * 600, "duckdb", ALLOWED)
    memo.add(huge)
    assert huge not in memo


def test_a_compile_still_reads_its_statement_back(tmp_path: Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    checked: list[str] = []
    original = verify_module._check

    def spy(sql: str, dialect: str, allowed: frozenset[tuple[str, str]]) -> None:
        checked.append(sql)
        original(sql, dialect, allowed)
    monkeypatch.setattr(verify_module, "_check", spy)
    folder = tmp_path / "definitions"
    folder.mkdir()
    (folder / "k.yaml").write_text(
        "kpis:\n  - name: likes\n    type: simple\n    source: post_daily\n"
        "    agg: sum\n    expr: likes\n")
    catalog = load_catalog([folder], project=tmp_path, plugins=["testplatforms"])
    first = catalog.compile("likes", grain="month")
    assert checked == [first]
    assert catalog.compile("likes", grain="month") == first
    week = catalog.compile("likes", grain="week")
    assert checked == [first, week]


def test_the_collector_is_back_after_a_check_and_after_a_refusal() -> None:
    import gc

    verify(SAFE, "duckdb", ALLOWED)
    assert gc.isenabled()
    with pytest.raises(KpiframeError):
        verify(HOSTILE["not SQL"], "duckdb", ALLOWED)
    assert gc.isenabled()
    gc.disable()
    try:
        verify(SAFE, "postgres", ALLOWED)
        assert not gc.isenabled(), "a caller's pause is the caller's to end"
    finally:
        gc.enable()
