"""A request's checks follow the request, not the catalog.

Compiling one KPI checks that KPI and the KPIs it is computed from, and nothing else: a
problem elsewhere in the catalog (a cycle, an unknown reference, a broken definition)
does not stop it, while `validate` still reports it; a problem in its own closure stops
it with the same located problem `validate` gives. Timings are in benchmarks/, not here.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from collections.abc import Iterable
from pathlib import Path

import pytest

from kpiframe import checks, load_catalog
from kpiframe.catalog import Catalog
from kpiframe.problems import KpiframeError, Problem

PLUGINS = ["testplatforms"]

GOOD = """\
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
  - name: like_rate
    type: ratio
    numerator: likes
    denominator: impressions
  - name: like_rate_change
    type: change
    of: like_rate
"""
#: problems the request for `like_rate_change` must not see
ELSEWHERE = """\
kpis:
  - name: loop_a
    type: derived
    expr: loop_b + likes
  - name: loop_b
    type: derived
    expr: loop_a * 2
  - name: dangling
    type: ratio
    numerator: likes
    denominator: no_such_kpi
  - name: bad_source
    type: simple
    source: nowhere
    agg: sum
    expr: likes
  - name: schema_broken
    type: simple
    source: post_daily
    agg: total
    expr: likes
"""


def _catalog(tmp_path: Path, **files: str) -> Catalog:
    folder = tmp_path / "definitions"
    folder.mkdir(exist_ok=True)
    for name, text in files.items():
        (folder / f"{name}.yaml").write_text(text)
    return load_catalog([folder], project=tmp_path, plugins=PLUGINS)


def _refused(catalog: Catalog, kpi: str) -> list[Problem]:
    with pytest.raises(KpiframeError) as caught:
        catalog.compile(kpi, grain="month")
    return caught.value.problems


@pytest.fixture
def mixed(tmp_path: Path) -> Catalog:
    return _catalog(tmp_path, good=GOOD, elsewhere=ELSEWHERE)


def test_problems_elsewhere_do_not_block_a_request(mixed: Catalog) -> None:
    sql = mixed.compile("like_rate_change", grain="month")
    assert "SELECT" in sql.upper()
    rules = {(p.rule, p.kpi) for p in mixed.validate() if p.is_error}
    assert rules >= {("cycle", "loop_a"), ("unknown-kpi", "dangling"),
                     ("unknown-source", "bad_source"), ("bad-value", "schema_broken")}


def test_a_request_checks_only_its_closure(mixed: Catalog,
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    checked: list[str] = []
    searched: list[list[str]] = []
    for kind in ("simple", "weighted", "ratio", "derived", "cumulative", "change"):
        original = getattr(checks._Checker, kind)

        def spy(self: checks._Checker, kpi: object, original: object = original) -> None:
            checked.append(kpi.name)  # type: ignore[attr-defined]
            original(self, kpi)  # type: ignore[operator]
        monkeypatch.setattr(checks._Checker, kind, spy)
    cycles = checks.cycles

    def cycle_spy(kpis: dict[str, object]) -> list[Problem]:
        searched.append(list(kpis))
        return cycles(kpis)  # type: ignore[arg-type]
    monkeypatch.setattr(checks, "cycles", cycle_spy)
    mixed.compile("like_rate_change", grain="month")
    assert sorted(checked) == ["impressions", "like_rate", "like_rate_change", "likes"]
    assert [sorted(s) for s in searched] == [sorted(checked)]


def _located(problems: Iterable[Problem]) -> list[str]:
    return sorted(p.format() for p in problems if p.is_error)


@pytest.mark.parametrize(("kpi", "culprit"), [
    ("loop_a", "loop_a"),             # itself in a cycle
    ("dangling", "dangling"),         # refers to no KPI
    ("bad_source", "bad_source"),     # reads no source
    ("schema_broken", "schema_broken"),  # the schema refused it
])
def test_a_broken_kpi_is_refused_with_validates_problem(mixed: Catalog, kpi: str,
                                                        culprit: str) -> None:
    expected = [p for p in mixed.validate() if p.is_error and p.kpi == culprit]
    assert expected
    problems = _refused(mixed, kpi)
    assert _located(problems) == _located(expected)


def test_a_broken_dependency_refuses_the_request_at_its_place(tmp_path: Path) -> None:
    catalog = _catalog(tmp_path, good=GOOD, elsewhere=ELSEWHERE, users="""\
kpis:
  - name: uses_dangling
    type: change
    of: dangling
  - name: uses_loop
    type: derived
    expr: loop_b * 2
  - name: uses_schema_broken
    type: cumulative
    of: schema_broken
  - name: uses_bad_source
    type: derived
    expr: bad_source + likes
""")
    reported = catalog.validate()
    for kpi, culprit in (("uses_dangling", "dangling"), ("uses_loop", "loop_a"),
                         ("uses_schema_broken", "schema_broken"),
                         ("uses_bad_source", "bad_source")):
        problems = _refused(catalog, kpi)
        assert all(p.file and p.line for p in problems), [p.format() for p in problems]
        assert _located(problems) == _located(p for p in reported if p.kpi == culprit), kpi


def test_a_cycle_is_found_among_the_requested_kpis(tmp_path: Path) -> None:
    catalog = _catalog(tmp_path, good=GOOD, loop=textwrap.dedent("""\
        kpis:
          - name: c1
            type: change
            of: c2
          - name: c2
            type: derived
            expr: c3 + 1
          - name: c3
            type: ratio
            numerator: c1
            denominator: likes
        """))
    (problem,) = _refused(catalog, "c2")
    assert problem.rule == "cycle" and "c1 -> c2 -> c3 -> c1" in problem.message
    assert [problem] == [p for p in catalog.validate() if p.rule == "cycle"]
    catalog.compile("likes")


def test_a_long_chain_of_references_is_no_recursion_error(tmp_path: Path) -> None:
    depth = sys.getrecursionlimit() + 100
    chain = "".join(f"  - name: d{i}\n    type: change\n    of: d{i + 1}\n"
                    for i in range(depth))
    catalog = _catalog(tmp_path, chain="kpis:\n" + chain)
    (problem,) = _refused(catalog, "d0")
    assert problem.rule == "unknown-kpi" and f"'d{depth}'" in problem.message


def test_compile_imports_only_the_dialects_it_uses(tmp_path: Path) -> None:
    """A fresh process (module state is the point): checking `--dialect` must not import
    sqlglot's other ~30 dialects."""
    folder = tmp_path / "definitions"
    folder.mkdir()
    (folder / "good.yaml").write_text(GOOD)
    probe = textwrap.dedent(f"""
        import json
        import sys
        import kpiframe
        catalog = kpiframe.load_catalog([{str(folder)!r}], project={str(tmp_path)!r},
                                        plugins=["testplatforms"])
        before = {{m for m in sys.modules if m.startswith("sqlglot.dialects.")}}
        catalog.compile("likes", dialect="postgres", grain="month")
        after = {{m for m in sys.modules if m.startswith("sqlglot.dialects.")}}
        print(json.dumps(sorted(after - before)))
    """)
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                          check=True, cwd=tmp_path)
    new = json.loads(done.stdout)
    assert set(new) <= {"sqlglot.dialects.postgres", "sqlglot.dialects.duckdb"}, new


def test_unknown_dialect_is_still_refused_with_a_suggestion(mixed: Catalog) -> None:
    with pytest.raises(KpiframeError) as caught:
        mixed.compile("likes", dialect="postgress")
    (problem,) = caught.value.problems
    assert problem.rule == "unknown-dialect" and "postgres" in (problem.hint or "")
    for name in ("DuckDB", ""):
        with pytest.raises(KpiframeError):
            mixed.compile("likes", dialect=name)
