"""Plan one request: walk each requested KPI down to the scans, windows and joins it needs.

A KPI's value is planned by `value(kpi, chain)`, where `chain` lists the period offsets
applied on the way down (a change reads its input one offset earlier). Each simple or
weighted KPI it reaches registers a measure in its source's scan, each cumulative a
window, each `average_over` ratio an average, and each relation read at an offset a join.
What is registered is exactly what the request uses: a source no requested KPI reads is
never scanned. The drafts are mutable while the walk runs; `plan()` hands on a frozen
`Plan`.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field, replace
from weakref import WeakKeyDictionary

from sqlglot import exp

from kpiframe import canonical
from kpiframe.compiler.plan import Average, Chain, Join, Measure, Plan, Scan, Term, Window
from kpiframe.compiler.request import Request, closure
from kpiframe.compiler.trees import col, conjoin, number
from kpiframe.definitions import Change, Cumulative, Derived, Kpi, Ratio, Simple, Weighted
from kpiframe.exprbuild import safe_div
from kpiframe.expressions import kpi_expr, row_expr, wanted
from kpiframe.resolve import ResolvedCatalog


@dataclass
class _ScanDraft:
    source: canonical.Source
    measures: dict[str, Measure] = field(default_factory=dict)
    #: platforms any KPI over this source may read (None: all)
    platforms: set[str] | None = field(default_factory=set)
    fields: set[str] = field(default_factory=set)
    chains: set[Chain] = field(default_factory=set)


class Planner:
    """The walk from requested KPIs to what the statement must compute."""

    def __init__(self, catalog: ResolvedCatalog, request: Request) -> None:
        self.catalog = catalog
        self.req = request
        self.kpis = {k.name: k for k in closure(catalog, request.kpis)}
        self.scans: dict[str, _ScanDraft] = {}
        self.joins: dict[tuple[str, Chain], str] = {}
        self.windows: dict[str, tuple[Cumulative, set[Chain]]] = {}
        self.averages: dict[str, tuple[Ratio, set[Chain]]] = {}

    def plan(self) -> Plan:
        outputs = tuple((name, self.value(name)) for name in self.req.kpis)
        # every source read by a requested KPI gets a scan, for keys and bounds
        for kpi in self.kpis.values():
            if isinstance(kpi, (Simple, Weighted)):
                self.scan(kpi.source)
        return Plan(
            request=self.req,
            kpis=self.kpis,
            scans={name: self._freeze(draft) for name, draft in self.scans.items()},
            averages={n: Average(r, frozenset(c)) for n, (r, c) in self.averages.items()},
            windows={n: Window(k, frozenset(c)) for n, (k, c) in self.windows.items()},
            joins=tuple(Join(key, chain, alias) for (key, chain), alias in self.joins.items()),
            outputs=outputs,
        )

    def _freeze(self, draft: _ScanDraft) -> Scan:
        platforms = self.catalog.platform_names(draft.source.name, self.req.platforms)
        if draft.platforms is not None:
            platforms = [p for p in platforms if p in draft.platforms]
        reads = []
        for name in platforms:
            active = self.catalog.platforms[name]
            binding = active.binding(draft.source.name)
            assert binding is not None
            reads.append((name, binding, active.schema))
        return Scan(draft.source, dict(draft.measures), tuple(reads),
                    frozenset(draft.fields), frozenset(draft.chains))

    # -- registration ------------------------------------------------------------------

    def scan(self, source: str) -> _ScanDraft:
        if source not in self.scans:
            self.scans[source] = _ScanDraft(canonical.SOURCES[source])
        return self.scans[source]

    def relation(self, key: str, chain: Chain) -> str:
        """The alias under which relation `key` is joined for `chain`."""
        if (key, chain) not in self.joins:
            self.joins[(key, chain)] = f"j{len(self.joins) + 1}"
        return self.joins[(key, chain)]

    def need(self, kpi: Simple | Weighted, current: bool = False, whole: bool = False,
             daily: bool = False) -> Measure:
        """The measure of `kpi`, marked as needed for rows in range (`current`), whole
        periods (`whole`) or each day (`daily`)."""
        measure = self.measure(kpi)
        marked = replace(measure, current=measure.current or current,
                         whole=measure.whole or whole, daily=measure.daily or daily)
        self.scan(kpi.source).measures[kpi.name] = marked
        return marked

    def measure(self, kpi: Simple | Weighted) -> Measure:
        draft = self.scan(kpi.source)
        if kpi.name in draft.measures:
            return draft.measures[kpi.name]
        fields = draft.source.fields
        condition = None
        if kpi.filter:
            tree = row_expr(kpi.filter, fields, want=wanted("filter")).copy_tree()
            draft.fields.update(c.name for c in tree.find_all(exp.Column))
            condition = tree
        if kpi.platforms is not None:
            condition = conjoin(
                condition,
                col("platform").isin(*(exp.Literal.string(p) for p in kpi.platforms), copy=False),
            )
        if draft.platforms is not None:
            if kpi.platforms is None:
                draft.platforms = None
            else:
                draft.platforms.update(kpi.platforms)
        value: exp.Expr | None
        terms: tuple[Term, ...] = ()
        if isinstance(kpi, Weighted):
            value, agg, terms = None, "weighted", self.weighted_terms(kpi, draft)
        else:
            agg = kpi.agg
            value = (row_expr(kpi.expr, fields, want=wanted("expr", agg)).copy_tree()
                     if kpi.expr else None)
            if value is not None:
                draft.fields.update(c.name for c in value.find_all(exp.Column))
            if agg == "last":
                draft.fields.update(draft.source.entity)
        measure = Measure(kpi, agg, value, condition, terms=terms)
        draft.measures[kpi.name] = measure
        return measure

    def weighted_terms(self, kpi: Weighted, draft: _ScanDraft) -> tuple[Term, ...]:
        terms = weighted_terms(self.catalog, kpi, self.req.platforms)
        draft.fields.update(name for _, name, _ in terms)
        return terms

    # -- values --------------------------------------------------------------------------

    def value(self, name: str, chain: Chain = ()) -> exp.Expr:
        kpi = self.kpis[name]
        result = self._value(kpi, chain)
        if kpi.fill_nulls_with is not None:
            result = exp.Coalesce(this=result, expressions=[number(kpi.fill_nulls_with)])
        return result

    def _value(self, kpi: Kpi, chain: Chain) -> exp.Expr:
        if isinstance(kpi, (Simple, Weighted)):
            whole = bool(chain) and self.req.start is not None
            measure = self.need(kpi, whole=True) if whole else self.need(kpi, current=True)
            self.scan(kpi.source).chains.add(chain)
            alias = self.relation(f"agg_{kpi.source}", chain)
            column: exp.Expr = col(("w_" if whole else "m_") + kpi.name, alias)
            if measure.agg in ("count", "count_distinct"):
                column = exp.Coalesce(this=column, expressions=[exp.Literal.number(0)])
            return column
        if isinstance(kpi, Ratio):
            if kpi.average_over:
                self.averages.setdefault(kpi.name, (kpi, set()))[1].add(chain)
                for part in (kpi.numerator, kpi.denominator):
                    leaf = self.kpis[part]
                    assert isinstance(leaf, (Simple, Weighted))
                    # register the measure now, so the source's scan (which decides the
                    # range and the --by keys) reads the platforms and fields it needs
                    self.measure(leaf)
                    self.scan(leaf.source).chains.add(chain)
                alias = self.relation(f"avg_{kpi.name}", chain)
                result: exp.Expr = col("w" if chain and self.req.start else "v", alias)
            else:
                result = safe_div(
                    self.value(kpi.numerator, chain), self.value(kpi.denominator, chain)
                )
            if kpi.scale is not None:
                result = exp.Mul(this=exp.Paren(this=result), expression=number(kpi.scale))
            return result
        if isinstance(kpi, Derived):
            return self.lower(kpi_expr(kpi.expr).copy_tree(), chain)
        if isinstance(kpi, Cumulative):
            self.windows.setdefault(kpi.name, (kpi, set()))[1].add(chain)
            inner = self.kpis[kpi.of]
            assert isinstance(inner, (Simple, Weighted))
            self.need(inner, daily=True)
            alias = self.relation(f"cum_{kpi.name}", chain)
            return col("v", alias)
        assert isinstance(kpi, Change)
        current = self.value(kpi.of, chain)
        before = self.value(kpi.of, (*chain, kpi.offset))
        # sqlglot prints the tree as built: parenthesise, or a - (b - c) prints a - b - c
        difference = exp.Sub(this=exp.Paren(this=current), expression=exp.Paren(this=before))
        if kpi.calc == "difference":
            return difference
        if kpi.calc == "ratio":
            return safe_div(current, before)
        return exp.Mul(
            this=exp.Paren(this=safe_div(difference, before.copy())),
            expression=exp.Literal.number(100),
        )

    def lower(self, node: exp.Expr, chain: Chain) -> exp.Expr:
        """A derived KPI's expression with KPI names replaced by their values and every
        division made safe. Built bottom-up so no replaced subtree is visited twice."""
        if isinstance(node, exp.Column):
            return exp.Paren(this=self.value(node.name, chain))
        if isinstance(node, exp.Div):
            return safe_div(self.lower(node.this, chain), self.lower(node.expression, chain))
        for key, child in list(node.args.items()):
            if isinstance(child, exp.Expr):
                node.set(key, self.lower(child, chain))
            elif isinstance(child, list):
                node.set(
                    key, [self.lower(c, chain) if isinstance(c, exp.Expr) else c for c in child]
                )
        return node


def weighted_terms(catalog: ResolvedCatalog, kpi: Weighted,
                   wanted: tuple[str, ...] | None) -> tuple[Term, ...]:
    """A weighted KPI as weight x SUM(interaction) terms, one per interaction and weight,
    each over the platforms that give the interaction that weight. Summing first and
    weighting after is exact (a sum widens; 3 x 2^62 likes overflowed 64-bit
    multiplication row by row) and costs plain sums, not arithmetic on every row.

    A function of the frozen catalog, the KPI and the request's platforms alone, so it
    is worked out once per catalog for each: weighing every platform's defaults and
    overrides is a loop over platforms x interactions."""
    key = (kpi.name, wanted)
    with _TERMS_LOCK:
        known = _TERMS.setdefault(catalog, {})
        hit = known.get(key)
    if hit is not None and hit[0] is kpi:
        return hit[1]
    source = canonical.SOURCES[kpi.source]
    available = source.interactions
    platforms = [
        p
        for p in catalog.platform_names(source.name, wanted)
        if kpi.platforms is None or p in kpi.platforms
    ]
    chosen: list[str | None] = [*platforms] or [None]
    weights: dict[tuple[str, float], list[str]] = {}
    for platform in chosen:
        defaults = catalog.weights(platform) if platform else {}
        for name in kpi.counted(platform, available):
            weight = kpi.weight(platform, name, defaults)
            if weight != 0:
                weights.setdefault((name, weight), []).append(platform or "")
    terms: list[Term] = []
    for (name, weight), which in weights.items():
        every = set(which) >= set(platforms)
        terms.append((weight, name, None if every else tuple(sorted(which))))
    found = tuple(terms)
    with _TERMS_LOCK:
        known[key] = (kpi, found)
    return found


#: weighted_terms' answers, per ResolvedCatalog (gone with it)
_TERMS: WeakKeyDictionary[
    ResolvedCatalog, dict[tuple[str, tuple[str, ...] | None], tuple[Weighted, tuple[Term, ...]]]
] = WeakKeyDictionary()
_TERMS_LOCK = threading.Lock()


def plan_query(catalog: ResolvedCatalog, request: Request) -> Plan:
    """Stage 3: the plan of one checked request."""
    return Planner(catalog, request).plan()
