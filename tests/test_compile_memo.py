"""What the compiler keeps between compiles in one process, and that it leaks nothing.

compiler/sources.py builds each canonical source's UNION of platform SELECTs once per
(source, bindings, fields, dialect) and hands every compile its own copy; a Table
binding's column SQL is parsed once. A caller that changes its copy must not change the
next compile's SQL, and the SQL must be the same as without the memory.
"""

from __future__ import annotations

from pathlib import Path

from sqlglot import exp

from kpiframe import canonical, load_catalog
from kpiframe.catalog import Catalog
from kpiframe.compiler import sources

DEFINITIONS = """\
kpis:
  - name: likes
    type: simple
    source: post_daily
    agg: sum
    expr: likes
  - name: followers
    type: simple
    source: account_daily
    agg: last
    expr: followers
"""


def _catalog(tmp_path: Path) -> Catalog:
    folder = tmp_path / "definitions"
    folder.mkdir()
    (folder / "k.yaml").write_text(DEFINITIONS)
    return load_catalog([folder], project=tmp_path, plugins=["testplatforms"])


def _bindings(catalog: Catalog, source: str) -> list[tuple[str, object, str]]:
    return [(name, active.layout.sources[source], active.schema)
            for name, active in catalog.platforms.items() if source in active.layout.sources]


def test_every_caller_gets_its_own_copy(tmp_path: Path) -> None:
    catalog = _catalog(tmp_path)
    src = canonical.SOURCES["post_daily"]
    bindings = _bindings(catalog, "post_daily")
    assert bindings
    fields = ["platform", "date", "likes"]
    first = sources.source_relation(src, bindings, fields, "duckdb")  # type: ignore[arg-type]
    text = first.sql("duckdb")
    for node in list(first.find_all(exp.Identifier)):
        node.set("this", "tampered")
    second = sources.source_relation(src, bindings, fields, "duckdb")  # type: ignore[arg-type]
    assert second is not first
    assert second.sql("duckdb") == text
    built = sources._build_relation(src, bindings, fields, "duckdb")  # type: ignore[arg-type]
    assert built.sql("duckdb") == text


def test_the_same_request_compiles_to_the_same_sql_every_time(tmp_path: Path) -> None:
    catalog = _catalog(tmp_path)
    for dialect in ("duckdb", "postgres", "sqlite", "snowflake"):
        sources._RELATIONS.clear()
        sources._native_tree.cache_clear()
        cold = catalog.compile(["likes", "followers"], dialect=dialect, grain="month",
                               by=["platform"])
        again = [catalog.compile(["likes", "followers"], dialect=dialect, grain="month",
                                 by=["platform"]) for _ in range(2)]
        assert again == [cold, cold]


def test_other_fields_make_another_relation(tmp_path: Path) -> None:
    catalog = _catalog(tmp_path)
    src = canonical.SOURCES["post_daily"]
    bindings = _bindings(catalog, "post_daily")
    narrow = sources.source_relation(src, bindings, ["platform", "date"], "duckdb")  # type: ignore[arg-type]
    wide = sources.source_relation(src, bindings, ["platform", "date", "likes"], "duckdb")  # type: ignore[arg-type]
    assert narrow.sql("duckdb") != wide.sql("duckdb")
    assert '"likes"' in wide.sql("duckdb", identify=True)
