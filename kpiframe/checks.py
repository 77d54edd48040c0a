"""Semantic checks over a whole catalog: what the JSON Schema cannot see.

References resolve (with a did-you-mean), there are no cycles, each type's rules hold,
expressions stay in the safe subset and name only their source's fields, and the
platforms a KPI relies on exist and can provide what it reads. Every problem is located
at the YAML node it is about.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from functools import cached_property
from typing import TYPE_CHECKING

from kpiframe import canonical
from kpiframe.definitions import (
    Change,
    Cumulative,
    Derived,
    Kpi,
    Ratio,
    Simple,
    Weighted,
)
from kpiframe.expressions import Expr, ExprError, kpi_expr, row_expr, wanted
from kpiframe.problems import Location, Problem, did_you_mean, one_of

if TYPE_CHECKING:
    from kpiframe.catalog import Catalog


def expr_location(kpi: Kpi, key: str, text: str, offset: int) -> Location:
    """Where character `offset` of the expression in `key` is in the file: through quotes,
    escapes, block scalars and folded lines (the YAML source says where each one is)."""
    line, column = kpi.pos(key).locate(text, offset)
    return Location(kpi.file, line, column)


def _expr_problem(kpi: Kpi, key: str, text: str, error: ExprError) -> Problem:
    return Problem.at(
        expr_location(kpi, key, text, error.offset),
        error.rule,
        f"{kpi.type} '{kpi.name}': {key}: {error.message}",
        kpi=kpi.name,
        hint=error.hint,
    )


def _item_location(kpi: Kpi, key: str, index: int) -> Location:
    items = kpi.node.get(key)
    positions = getattr(items, "item_pos", None)
    if positions and index < len(positions):
        return Location(kpi.file, positions[index].line, positions[index].column)
    return kpi.loc(key)


def _value_location(kpi: Kpi, key: str, inner: str) -> Location:
    """Where `inner` of the mapping in `key` has its value (else where `key` has)."""
    node = kpi.node.get(key)
    value_pos = getattr(node, "value_pos", None)
    if value_pos and inner in value_pos:
        return Location(kpi.file, value_pos[inner].line, value_pos[inner].column)
    return kpi.loc(key)


def _mapping_key_location(kpi: Kpi, key: str, inner: str, outer: str | None = None) -> Location:
    node = kpi.node.get(key)
    if outer is not None and isinstance(node, dict):
        node = node.get(outer)
    key_pos = getattr(node, "key_pos", None)
    if key_pos and inner in key_pos:
        return Location(kpi.file, key_pos[inner].line, key_pos[inner].column)
    return kpi.loc(key)


class _Checker:
    """Checks KPIs one at a time against the catalog. Nothing here walks the whole
    catalog unless a problem needs a did-you-mean, so checking a request's few KPIs costs
    the same in a catalog of 200 or of 10,000."""

    def __init__(self, catalog: Catalog) -> None:
        self.catalog = catalog
        self.kpis = catalog.kpis
        self.active = catalog.platforms
        self.registered = catalog.registry.platforms

    def platform_hint(self, name: str) -> str:
        """The hint for a platform name no plugin provides."""
        return did_you_mean(name, self.registered) or (
            "installed platforms: " + one_of(self.registered)
            if self.registered else "install a platform plugin such as kpiframe-x")

    def is_known(self, name: str) -> bool:
        """A KPI of the catalog, or one whose definition is broken (its own problems say
        so; a reference to it is not also "unknown")."""
        return name in self.kpis or name in self.catalog.broken

    @cached_property
    def known(self) -> set[str]:
        """Every name a reference may use: for the did-you-mean of one that is not."""
        return set(self.kpis) | self.catalog.broken

    # -- references ---------------------------------------------------------------------

    def ref(self, kpi: Kpi, key: str, name: str) -> Iterator[Problem]:
        if self.is_known(name):
            return
        yield Problem.at(
            kpi.loc(key), "unknown-kpi",
            f"{kpi.type} '{kpi.name}' refers to '{name}'",
            kpi=kpi.name,
            hint=did_you_mean(name, self.known) or "no KPI of that name; `kpiframe list` shows "
            "the catalog",
        )

    def leaf(self, name: str) -> Kpi | None:
        return self.kpis.get(name)

    # -- sources, platforms, fields --------------------------------------------------------

    def source(self, kpi: Simple | Weighted) -> canonical.Source | None:
        src = canonical.SOURCES.get(kpi.source)
        if src is None:
            self.problems.append(Problem.at(
                kpi.loc("source"), "unknown-source",
                f"{kpi.type} '{kpi.name}' reads unknown source '{kpi.source}'",
                kpi=kpi.name,
                hint=did_you_mean(kpi.source, canonical.SOURCES)
                or "sources: " + ", ".join(canonical.SOURCES)))
        return src

    def platforms(self, kpi: Simple | Weighted, src: canonical.Source | None) -> list[str]:
        """The active platforms the KPI reads; problems for the ones it cannot."""
        if kpi.platforms is None:
            return [p for p, a in self.active.items() if src and a.binding(src.name)]
        chosen: list[str] = []
        for index, name in enumerate(kpi.platforms):
            where = _item_location(kpi, "platforms", index)
            if name not in self.registered:
                self.problems.append(Problem.at(
                    where, "unknown-platform",
                    f"{kpi.type} '{kpi.name}' restricts to platform '{name}', which no plugin "
                    "provides",
                    kpi=kpi.name,
                    hint=self.platform_hint(name)))
                continue
            if name not in self.active:
                self.problems.append(Problem.at(
                    where, "platform-disabled",
                    f"{kpi.type} '{kpi.name}' restricts to platform '{name}', which "
                    "kpiframe.yaml disables",
                    kpi=kpi.name, severity="warning",
                    hint="enable it, or drop it from `platforms`"))
                continue
            if src is not None and self.active[name].binding(src.name) is None:
                layout = self.active[name].layout.name
                self.problems.append(Problem.at(
                    where, "platform-missing-source",
                    f"{kpi.type} '{kpi.name}': platform '{name}' does not provide source "
                    f"'{src.name}' in its {layout} layout",
                    kpi=kpi.name,
                    hint="`kpiframe plugins` shows what each platform provides"))
                continue
            chosen.append(name)
        return chosen

    def fields_provided(
        self, kpi: Simple | Weighted, src: canonical.Source, platforms: Sequence[str],
        fields: Sequence[str], key: str, expr: Expr | None = None,
    ) -> None:
        if not self.active:
            return
        for field in fields:
            lacking = [p for p in platforms if field not in self.active[p].provides(src.name)]
            where = kpi.loc(key) if expr is None else \
                expr_location(kpi, key, expr.text, expr.offset_of(field))
            if kpi.platforms is not None:
                for name in lacking:
                    self.problems.append(Problem.at(
                        where, "platform-missing-field",
                        f"{kpi.type} '{kpi.name}' uses {src.name}.{field}, which platform "
                        f"'{name}' cannot provide",
                        kpi=kpi.name,
                        hint=f"drop '{name}' from `platforms`, or use another field"))
            elif platforms and len(lacking) == len(platforms):
                self.problems.append(Problem.at(
                    where, "field-not-provided",
                    f"{kpi.type} '{kpi.name}' uses {src.name}.{field}, which none of its "
                    f"platforms provide ({', '.join(lacking)})",
                    kpi=kpi.name,
                    hint="`kpiframe plugins` shows which fields each platform provides"))

    def expression(self, kpi: Kpi, key: str, text: str | None,
                   src: canonical.Source) -> Expr | None:
        if text is None:
            return None
        try:
            return row_expr(text, src.fields, want=wanted(key, getattr(kpi, "agg", None)))
        except ExprError as error:
            self.problems.append(_expr_problem(kpi, key, text, error))
            return None

    # -- per type -------------------------------------------------------------------------

    def simple(self, kpi: Simple) -> None:
        src = self.source(kpi)
        platforms = self.platforms(kpi, src)
        if src is None:
            return
        for key in ("expr", "filter"):
            text = getattr(kpi, key)
            expr = self.expression(kpi, key, text, src)
            names = expr.names if expr else ()
            self.fields_provided(kpi, src, platforms, [n for n in names if n != "platform"], key,
                                 expr)
            if key == "expr" and kpi.agg == "sum":
                for name in names:
                    field = src.fields[name]
                    if not field.additive or field.snapshot:
                        why = ("a snapshot: summing it over days multiplies it; use agg: last"
                               if field.snapshot else
                               "not additive: a sum over-counts people; use max, avg, or a "
                               "ratio")
                        self.problems.append(Problem.at(
                            kpi.loc("expr"), "sum-non-additive",
                            f"simple '{kpi.name}' sums {src.name}.{name}, which is {why}",
                            kpi=kpi.name, severity="warning",
                            hint="if this is really what you want, ignore this warning"))

    def weighted(self, kpi: Weighted) -> None:
        src = self.source(kpi)
        platforms = self.platforms(kpi, src)
        if src is None:
            return
        expr = self.expression(kpi, "filter", kpi.filter, src)
        names = expr.names if expr else ()
        self.fields_provided(kpi, src, platforms, [n for n in names if n != "platform"],
                             "filter", expr)
        interactions = src.interactions
        if not interactions:
            self.problems.append(Problem.at(
                kpi.loc("source"), "weights-not-interaction",
                f"weighted '{kpi.name}' reads '{src.name}', which has no interaction fields",
                kpi=kpi.name, hint="weighted KPIs read posts or post_daily"))
            return

        def not_interaction(where: Location, name: str, what: str) -> None:
            self.problems.append(Problem.at(
                where, "weights-not-interaction",
                f"weighted '{kpi.name}' {what}, which is not an interaction field",
                kpi=kpi.name,
                hint=did_you_mean(name, interactions)
                or "interactions: " + ", ".join(interactions)))

        for index, name in enumerate(kpi.interactions or ()):
            if name not in interactions:
                not_interaction(_item_location(kpi, "interactions", index), name,
                                f"counts '{name}'")
        for name in kpi.weights:
            if name not in interactions:
                not_interaction(_mapping_key_location(kpi, "weights", name), name,
                                f"weights '{name}'")
        for platform, overrides in kpi.platform_weights.items():
            if platform not in self.registered:
                self.problems.append(Problem.at(
                    _mapping_key_location(kpi, "platform_weights", platform), "unknown-platform",
                    f"weighted '{kpi.name}' sets weights for platform '{platform}', which no "
                    "plugin provides",
                    kpi=kpi.name, severity="warning",
                    hint=did_you_mean(platform, self.registered)
                    or "installed platforms: " + one_of(self.registered)))
            for name in overrides:
                if name not in interactions:
                    not_interaction(
                        _mapping_key_location(kpi, "platform_weights", name, platform), name,
                        f"weights '{name}' on {platform}")
        # a NULL interaction counts 0: a platform lacking some is fine, lacking all is not
        if not self.active:
            return
        for platform in platforms:
            counted = kpi.counted(platform, interactions)
            if counted and not set(counted) & set(self.active[platform].provides(src.name)):
                self.problems.append(Problem.at(
                    kpi.loc("source"), "platform-missing-field",
                    f"weighted '{kpi.name}' counts {', '.join(counted)}, none of which "
                    f"platform '{platform}' provides",
                    kpi=kpi.name,
                    hint=f"drop '{platform}' from `platforms`, or weigh an interaction it has"))

    def ratio(self, kpi: Ratio) -> None:
        self.problems.extend(self.ref(kpi, "numerator", kpi.numerator))
        self.problems.extend(self.ref(kpi, "denominator", kpi.denominator))
        if kpi.unit == "percent" and kpi.scale is None:
            self.problems.append(Problem.at(
                kpi.loc("unit") if "unit" in kpi.node else kpi.loc(), "percent-without-scale",
                f"ratio '{kpi.name}' is a percent but has no scale: 0.05 would read as 0.05%",
                kpi=kpi.name, severity="warning", hint="add `scale: 100`"))
        if kpi.average_over is None:
            return
        not_a_key: dict[str, list[str]] = {}  # source -> "numerator 'x'", ...
        for key, name in (("numerator", kpi.numerator), ("denominator", kpi.denominator)):
            part = self.kpis.get(name)
            if part is None:
                continue
            if not isinstance(part, (Simple, Weighted)):
                self.problems.append(Problem.at(
                    kpi.loc(key), "bad-average-over",
                    f"ratio '{kpi.name}' averages per {kpi.average_over}, so its {key} must be "
                    f"a simple or weighted KPI, and '{name}' is {part.type}",
                    kpi=kpi.name,
                    hint="average_over computes the ratio per entity from row-level KPIs"))
                continue
            src = canonical.SOURCES.get(part.source)
            if src is not None and kpi.average_over not in src.entity:
                not_a_key.setdefault(src.name, []).append(f"{key} '{name}'")
        for source, parts in not_a_key.items():  # one problem per source, not per part
            entity = canonical.SOURCES[source].entity
            self.problems.append(Problem.at(
                kpi.loc("average_over"), "bad-average-over",
                f"ratio '{kpi.name}' averages per '{kpi.average_over}', which is not a key "
                f"of {source} ({', '.join(parts)})",
                kpi=kpi.name,
                hint=did_you_mean(kpi.average_over, entity)
                or "keys of " + source + ": " + ", ".join(entity)))

    def derived(self, kpi: Derived) -> None:
        try:
            expr = kpi_expr(kpi.expr)
        except ExprError as error:
            self.problems.append(_expr_problem(kpi, "expr", kpi.expr, error))
            return
        for name in expr.names:
            if not self.is_known(name):
                self.problems.append(Problem.at(
                    expr_location(kpi, "expr", kpi.expr, expr.offset_of(name)), "unknown-kpi",
                    f"derived '{kpi.name}' refers to '{name}'",
                    kpi=kpi.name,
                    hint=did_you_mean(name, self.known) or "no KPI of that name"))

    def cumulative(self, kpi: Cumulative) -> None:
        self.problems.extend(self.ref(kpi, "of", kpi.of))
        inner = self.kpis.get(kpi.of)
        additive = isinstance(inner, Weighted) or (isinstance(inner, Simple) and inner.additive)
        if inner is not None and not additive:
            what = f"{inner.type} with agg: {inner.agg}" if isinstance(inner, Simple) \
                else inner.type
            self.problems.append(Problem.at(
                kpi.loc("of"), "cumulative-not-additive",
                f"cumulative '{kpi.name}' accumulates '{kpi.of}', which is not additive ({what})",
                kpi=kpi.name,
                hint="running totals add up a sum or a count; for a ratio, accumulate its "
                "numerator and denominator and divide them in a derived KPI"))
        if kpi.target and kpi.grain_to_date and kpi.target.grain != kpi.grain_to_date:
            self.problems.append(Problem.at(
                _value_location(kpi, "target", "grain"), "target-grain",
                f"cumulative '{kpi.name}' is {kpi.grain_to_date}-to-date, but its target is per "
                f"{kpi.target.grain}",
                kpi=kpi.name, hint=f"set target.grain to {kpi.grain_to_date}"))

    def change(self, kpi: Change) -> None:
        self.problems.extend(self.ref(kpi, "of", kpi.of))

    def target(self, kpi: Kpi) -> None:
        """A goal must be one a value can reach, and per-platform goals must name
        platforms the KPI can be read on (docs/targets.md)."""
        target = kpi.target
        assert target is not None
        # change and derived values may be negative; everything else counts or measures
        signed = isinstance(kpi, (Change, Derived))
        goals: list[tuple[Location, str, float]] = [
            (_value_location(kpi, "target", "value"), "target", target.value)]
        node = kpi.node.get("target")
        inner = node.get("platforms") if isinstance(node, dict) else None
        value_pos = getattr(inner, "value_pos", {})
        key_pos = getattr(inner, "key_pos", {})
        for name, value in target.platforms:
            pos = value_pos.get(name)
            where = Location(kpi.file, pos.line, pos.column) if pos else kpi.loc("target")
            goals.append((where, f"target for platform '{name}'", value))
            pos = key_pos.get(name)
            at = Location(kpi.file, pos.line, pos.column) if pos else kpi.loc("target")
            if name not in self.registered:
                self.problems.append(Problem.at(
                    at, "unknown-platform",
                    f"{kpi.type} '{kpi.name}' has a target for platform '{name}', which no "
                    "plugin provides",
                    kpi=kpi.name,
                    hint=self.platform_hint(name)))
            elif isinstance(kpi, (Simple, Weighted)) and kpi.platforms is not None \
                    and name not in kpi.platforms:
                self.problems.append(Problem.at(
                    at, "target-platform-unused",
                    f"{kpi.type} '{kpi.name}' has a target for platform '{name}', but reads "
                    f"only {', '.join(kpi.platforms)}: the target never applies",
                    kpi=kpi.name, severity="warning",
                    hint=f"drop '{name}' from target.platforms, or add it to `platforms`"))
        for where, what, value in goals:
            if value < 0 and not signed:
                self.problems.append(Problem.at(
                    where, "target-negative",
                    f"{kpi.type} '{kpi.name}': the {what} is {value:g}, and its value is "
                    "never negative",
                    kpi=kpi.name, hint="a target is the goal per period: a positive number"))
            elif value == 0 and kpi.direction != "lower_is_better":
                self.problems.append(Problem.at(
                    where, "target-zero",
                    f"{kpi.type} '{kpi.name}': the {what} is 0, which every period meets "
                    "(higher is better)",
                    kpi=kpi.name, severity="warning",
                    hint="set the goal to reach, or `direction: lower_is_better` for a "
                    "ceiling such as zero complaints"))

    def run(self, only: Iterable[str] | None = None) -> list[Problem]:
        self.problems: list[Problem] = []
        chosen = self.kpis if only is None else {
            name: self.kpis[name] for name in only if name in self.kpis}
        for kpi in chosen.values():
            self.check(kpi)
        # a cycle through a chosen KPI runs through KPIs it refers to, so among the chosen
        # when they are a request's closure: the search need not leave them
        self.problems.extend(cycles(chosen))
        return self.problems

    def check(self, kpi: Kpi) -> None:
        """`kpi`'s own problems, added to `problems`: all but cycles, which depend on
        which KPIs are looked at together."""
        self._handlers[kpi.type](kpi)  # type: ignore[operator]
        if kpi.target is not None:
            self.target(kpi)

    @cached_property
    def _handlers(self) -> dict[str, object]:
        return {
            "simple": self.simple, "weighted": self.weighted, "ratio": self.ratio,
            "derived": self.derived, "cumulative": self.cumulative, "change": self.change,
        }

    def each(self, names: Iterable[str]) -> dict[str, list[Problem]]:
        found: dict[str, list[Problem]] = {}
        for name in names:
            self.problems = []
            self.check(self.kpis[name])
            found[name] = self.problems
        return found


def cycles(kpis: dict[str, Kpi]) -> list[Problem]:
    """One problem per reference cycle, shown as a path from its first KPI by name."""
    problems: list[Problem] = []
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    reported: set[frozenset[str]] = set()
    for start in kpis:
        if state.get(start):
            continue
        path: list[str] = []
        stack: list[tuple[str, Iterator[str]]] = []

        def push(name: str, path: list[str] = path,
                 stack: list[tuple[str, Iterator[str]]] = stack) -> None:
            state[name] = 1
            path.append(name)
            stack.append((name, iter(r for r in kpis[name].refs if r in kpis)))

        push(start)
        while stack:
            name, refs = stack[-1]
            nxt = next(refs, None)
            if nxt is None:
                stack.pop()
                path.pop()
                state[name] = 2
            elif state.get(nxt) == 1:
                loop = path[path.index(nxt):]
                key = frozenset(loop)
                if key not in reported:
                    reported.add(key)
                    first = min(loop)
                    i = loop.index(first)
                    ordered = [*loop[i:], *loop[:i], first]
                    kpi = kpis[first]
                    ref_key = next((k for k in ("of", "numerator", "denominator")
                                    if kpi.node.get(k) == ordered[1]), None)
                    where = kpi.loc(ref_key)
                    if ref_key is None and isinstance(kpi, Derived):
                        offset = kpi_expr(kpi.expr).offset_of(ordered[1])
                        where = expr_location(kpi, "expr", kpi.expr, offset)
                    problems.append(Problem.at(
                        where, "cycle",
                        f"KPIs refer to each other in a cycle: {' -> '.join(ordered)}",
                        kpi=first,
                        hint="a KPI cannot be computed from itself; break the cycle"))
            elif not state.get(nxt):
                push(nxt)
    return problems


def each(catalog: Catalog, names: Iterable[str]) -> dict[str, list[Problem]]:
    """Each of the KPIs `names`' own problems, cycles aside (see `cycles`): what
    `run(catalog, only=...)` finds for them, kept apart so a caller can remember them."""
    return _Checker(catalog).each(names)


def run(catalog: Catalog, only: Iterable[str] | None = None) -> list[Problem]:
    """Semantic problems of the catalog, or of the KPIs in `only` (in that order), which
    should be closed under reference, as a request's closure is: a cycle is looked for
    among them only."""
    return _Checker(catalog).run(only)
