"""The shape of the code: stages hand one immutable type to the next, no module imports a
later stage, and no import cycle. Read from the source, so a new import that breaks the
rule fails here, not in a review."""

from __future__ import annotations

import ast
import dataclasses
import datetime as dt
from pathlib import Path

import pytest

import kpiframe
from kpiframe.compiler.plan import Plan
from kpiframe.compiler.planner import plan_query
from kpiframe.compiler.request import make_request
from kpiframe.resolve import ResolvedCatalog

PACKAGE = Path(kpiframe.__file__).parent
ROOT = PACKAGE.parent

#: the stages in order, each a set of modules; a module may import its own stage's and
#: earlier stages' modules, never a later stage's
STAGES: list[set[str]] = [
    {"kpiframe.definitions", "kpiframe.schema", "kpiframe.yamlsource", "kpiframe.checks",
     "kpiframe.expressions", "kpiframe.exprbuild", "kpiframe.project", "kpiframe.plugins"},
    {"kpiframe.resolve"},
    {"kpiframe.compiler.plan", "kpiframe.compiler.planner"},
    {"kpiframe.compiler.query", "kpiframe.compiler.scans", "kpiframe.compiler.calendar",
     "kpiframe.compiler.state", "kpiframe.compiler.verify"},
    {"kpiframe.run"},
    {"kpiframe.targets", "kpiframe.render", "kpiframe.kpitests", "kpiframe.diff",
     "kpiframe.report", "kpiframe.demo", "kpiframe.cli"},
]
#: the facade the Python API promises (`catalog.compile`, `catalog.query`...): its methods
#: import later stages when called, which is what a facade is for
FACADE = {"kpiframe.catalog", "kpiframe"}


def _module(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _imports() -> dict[str, set[str]]:
    """Each module's imports of other kpiframe modules, at import or call time, leaving
    out `if TYPE_CHECKING:` blocks (annotations only)."""
    modules = {_module(p): p for p in PACKAGE.rglob("*.py")}
    graph: dict[str, set[str]] = {}
    for name, path in modules.items():
        tree = ast.parse(path.read_text("utf-8"))
        typing_only: set[int] = set()
        for node in ast.walk(tree):
            if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
                typing_only |= {id(n) for n in ast.walk(node)}
        found: set[str] = set()
        for node in ast.walk(tree):
            if id(node) in typing_only:
                continue
            targets: list[str] = []
            if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                targets = [f"{node.module}.{a.name}" for a in node.names] + [node.module]
            elif isinstance(node, ast.Import):
                targets = [a.name for a in node.names]
            for target in targets:
                if target in modules and target != name:
                    found.add(target)
                    break
        graph[name] = found
    return graph


def _cycle(graph: dict[str, set[str]]) -> list[str] | None:
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(graph[node]):
            if state.get(nxt) == 1:
                return [*stack[stack.index(nxt):], nxt]
            if nxt not in state:
                found = visit(nxt)
                if found:
                    return found
        stack.pop()
        state[node] = 2
        return None

    for node in sorted(graph):
        if node not in state:
            found = visit(node)
            if found:
                return found
    return None


def test_no_import_cycle() -> None:
    cycle = _cycle(_imports())
    assert cycle is None, " -> ".join(cycle or ())


def test_no_module_imports_a_later_stage() -> None:
    graph = _imports()
    stage_of = {m: i for i, stage in enumerate(STAGES) for m in stage}
    assert set(stage_of) <= set(graph), set(stage_of) - set(graph)
    wrong = [
        f"{module} (stage {stage_of[module] + 1}) imports {target} "
        f"(stage {stage_of[target] + 1})"
        for module, targets in graph.items() if module in stage_of and module not in FACADE
        for target in targets if target in stage_of and stage_of[target] > stage_of[module]
    ]
    assert not wrong, "\n".join(wrong)


def test_the_compiler_never_imports_the_catalog_at_run_time() -> None:
    graph = _imports()
    for module, targets in graph.items():
        if module.startswith(("kpiframe.compiler", "kpiframe.resolve")):
            assert "kpiframe.catalog" not in targets, module
            assert "kpiframe.run" not in targets, module


@pytest.fixture(scope="module")
def standard() -> kpiframe.Catalog:
    return kpiframe.load_catalog(ROOT / "definitions")


def test_the_resolved_catalog_is_frozen(standard: kpiframe.Catalog) -> None:
    resolved = standard.resolved
    assert isinstance(resolved, ResolvedCatalog)
    assert standard.resolved is resolved  # built once per run
    with pytest.raises(dataclasses.FrozenInstanceError):
        resolved.kpis = {}  # type: ignore[misc]
    with pytest.raises(TypeError):
        resolved.kpis["x"] = resolved.kpis["likes"]  # type: ignore[index]
    with pytest.raises(TypeError):
        del resolved.platforms["x"]  # type: ignore[attr-defined]


def test_a_plan_is_frozen_and_names_no_dialect(standard: kpiframe.Catalog) -> None:
    request = make_request(standard, ["audience_growth_rate", "engagements_ytd"],
                           grain="week", start=dt.date(2025, 3, 1), end=dt.date(2025, 5, 31))
    plan = plan_query(standard.resolved, request)
    assert isinstance(plan, Plan)
    with pytest.raises(dataclasses.FrozenInstanceError):
        plan.joins = ()  # type: ignore[misc]
    for scan in plan.scans.values():
        with pytest.raises(dataclasses.FrozenInstanceError):
            scan.fields = frozenset()  # type: ignore[misc]
    # one plan, written for two engines, gives each its own statement; the plan is unchanged
    from kpiframe.compiler.query import write

    before = repr(plan)
    duck = write(plan, standard.resolved, "duckdb").sql()
    spark = write(plan, standard.resolved, "spark").sql()
    assert duck != spark
    assert repr(plan) == before
    assert standard.compile(["audience_growth_rate", "engagements_ytd"], grain="week",
                            start="2025-03-01", end="2025-05-31", pretty=False) == duck


def test_show_plan_prints_scans_windows_and_joins(standard: kpiframe.Catalog) -> None:
    from click.testing import CliRunner

    from kpiframe.cli import main

    result = CliRunner().invoke(main, ["show", "audience_growth_rate", "--plan"],
                                catch_exceptions=False)
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0] == "plan"
    assert "  scan account_daily" in lines
    assert any(line.startswith("    measure followers = last(") for line in lines)
    assert "  join agg_account_daily as j2 at 1 period back" in lines
    assert any(line.startswith("  output audience_growth_rate = ") for line in lines)
    result = CliRunner().invoke(main, ["show", "engagements_ytd", "--plan", "--grain", "day"],
                                catch_exceptions=False)
    assert "  window engagements_ytd = sum of engagements, year to date " \
        "(window frame over the day spine)" in result.output.splitlines()


def test_a_changed_catalog_is_resolved_again(standard: kpiframe.Catalog) -> None:
    """A Python caller may replace a KPI after loading: the frozen snapshot the compiler
    reads is rebuilt, never answers from the KPI that was replaced."""
    import dataclasses as dc

    catalog = kpiframe.load_catalog(ROOT / "definitions")
    before = catalog.resolved
    likes = catalog.kpis["likes"]
    catalog.kpis["likes"] = dc.replace(likes, filter="post_type = 'video'")  # type: ignore[call-arg]
    assert catalog.resolved is not before
    assert getattr(catalog.resolved.kpis["likes"], "filter", None) == "post_type = 'video'"
    assert "video" in catalog.compile("likes", pretty=False)
    catalog.kpis |= {"likes": likes}
    assert "video" not in catalog.compile("likes", pretty=False)


def test_the_same_request_is_compiled_once_per_resolved_catalog(
        standard: kpiframe.Catalog) -> None:
    """A ResolvedCatalog never changes, so a request compiled against it again is the
    statement already written (and already checked), not a new one."""
    from kpiframe.compiler import compile_query

    request = make_request(standard, ["likes"], grain="month")
    first = compile_query(standard.resolved, request, "duckdb")
    assert compile_query(standard.resolved, request, "duckdb") is first
    assert compile_query(standard.resolved, request, "postgres") is not first
    assert first.sql() is first.sql()
    assert first.sql(pretty=True) != first.sql()


def test_remembered_checks_and_weights_follow_a_changed_kpi() -> None:
    """A KPI's checks and a weighted KPI's terms are worked out once per resolved catalog:
    a KPI replaced after a compile is checked and weighed again, never answered from
    what was remembered of the one it replaced."""
    import dataclasses as dc

    from kpiframe.problems import KpiframeError

    catalog = kpiframe.load_catalog(ROOT / "definitions")
    name = next(k.name for k in catalog if k.type == "weighted")
    kpi = catalog.kpis[name]
    first = catalog.compile(name, pretty=False)
    assert "17 * COALESCE" not in first
    catalog.kpis[name] = dc.replace(kpi, weights={"comments": 17})  # type: ignore[call-arg]
    assert "17 * COALESCE(CAST(SUM(\"comments\")" in catalog.compile(name, pretty=False)
    catalog.kpis[name] = dc.replace(kpi, filter="no_such_field = 1")  # type: ignore[call-arg]
    with pytest.raises(KpiframeError, match="no_such_field"):
        catalog.compile(name)
    catalog.kpis[name] = kpi
    assert catalog.compile(name, pretty=False) == first
