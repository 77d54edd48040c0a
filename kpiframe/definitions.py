"""KPI definitions as typed objects, one class per KPI type (docs/definitions.md).

A `Kpi` is built only from a mapping the JSON Schema accepted, so its fields have the
right shapes; what they *mean* (does the source exist, is the reference a KPI) is
checked later, across the whole catalog, in `kpiframe.checks`. Each KPI keeps its YAML
node, so anything said about it can point at the line and column it came from.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, ClassVar

from kpiframe.problems import KpiframeError, Location, Problem, did_you_mean
from kpiframe.yamlsource import Pos, YMap

GRAIN_ORDER = ("day", "week", "month", "quarter", "year")


@dataclass(frozen=True)
class Duration:
    """`7 days`, `1 month`: a calendar span."""

    count: int
    unit: str  # day, week, month, quarter, year

    @classmethod
    def parse(cls, text: str) -> Duration:
        match = re.fullmatch(r"\s*([1-9][0-9]*)\s+(day|week|month|quarter|year)s?\s*", text)
        if not match:
            raise ValueError(f"not a duration: {text!r}")
        return cls(int(match.group(1)), match.group(2))

    @property
    def days_or_months(self) -> tuple[str, int]:
        """As a count of the two units every engine can add: DAY or MONTH."""
        if self.unit == "day":
            return "DAY", self.count
        if self.unit == "week":
            return "DAY", 7 * self.count
        if self.unit == "month":
            return "MONTH", self.count
        if self.unit == "quarter":
            return "MONTH", 3 * self.count
        return "MONTH", 12 * self.count

    def __str__(self) -> str:
        return f"{self.count} {self.unit}{'s' if self.count != 1 else ''}"


@dataclass(frozen=True)
class Target:
    """A KPI's goal per period of `grain`; `platforms` holds goals for single platforms
    (pairs, so the target stays hashable), `value` is the goal for all of them."""

    value: float
    grain: str
    platforms: tuple[tuple[str, float], ...] = ()

    @property
    def by_platform(self) -> dict[str, float]:
        return dict(self.platforms)


@dataclass(frozen=True, kw_only=True, eq=False)
class Kpi:
    type: ClassVar[str] = ""

    name: str
    file: str
    node: YMap = field(repr=False)
    label: str | None = None
    description: str | None = None
    owner: str | None = None
    tags: tuple[str, ...] = ()
    unit: str | None = None
    direction: str = "higher_is_better"
    target: Target | None = None
    fill_nulls_with: float | None = None
    meta: Mapping[str, Any] = field(default_factory=dict)
    #: the plugin that shipped this definition, None for the project's own
    plugin: str | None = None

    @property
    def title(self) -> str:
        return self.label or self.name.replace("_", " ").title()

    @property
    def refs(self) -> tuple[str, ...]:
        """Names of the KPIs this one is computed from."""
        return ()

    def pos(self, key: str | None = None) -> Pos:
        if key is not None and key in self.node.value_pos:
            return self.node.value_pos[key]
        return self.node.pos

    def loc(self, key: str | None = None) -> Location:
        pos = self.pos(key)
        return Location(self.file, pos.line, pos.column)

    def key_loc(self, key: str) -> Location:
        pos = self.node.key_pos.get(key, self.node.pos)
        return Location(self.file, pos.line, pos.column)

    def body(self) -> dict[str, Any]:
        """The definition minus presentation: what decides the numbers (for `diff`)."""
        skip = {"name", "label", "description", "owner", "tags", "meta", "direction", "target"}
        return {k: _plain(v) for k, v in self.node.items() if k not in skip}


def _plain(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


@dataclass(frozen=True, kw_only=True, eq=False)
class Simple(Kpi):
    type: ClassVar[str] = "simple"
    source: str
    agg: str
    expr: str | None = None
    filter: str | None = None
    platforms: tuple[str, ...] | None = None

    @property
    def additive(self) -> bool:
        return self.agg in ("sum", "count")


@dataclass(frozen=True, kw_only=True, eq=False)
class Weighted(Kpi):
    type: ClassVar[str] = "weighted"
    source: str
    weights: Mapping[str, float] = field(default_factory=dict)
    platform_weights: Mapping[str, Mapping[str, float]] = field(default_factory=dict)
    filter: str | None = None
    platforms: tuple[str, ...] | None = None
    #: the interactions counted, when the KPI lists them
    interactions: tuple[str, ...] | None = None

    def counted(self, platform: str | None, available: Sequence[str]) -> tuple[str, ...]:
        """The interactions counted on `platform`: those listed in `interactions`, else
        those `weights` names, else all of `available`; plus any `platform_weights` adds
        for that platform."""
        named = self.interactions or tuple(self.weights)
        base = [i for i in named if i in available] if named else list(available)
        extra = self.platform_weights.get(platform, {}) if platform else {}
        return tuple(i for i in available if i in base or i in extra)

    def weight(self, platform: str | None, interaction: str,
               defaults: Mapping[str, float]) -> float:
        """platform_weights, then weights, then the plugin's default, then 1."""
        own = self.platform_weights.get(platform, {}) if platform else {}
        return float(own.get(interaction, self.weights.get(interaction,
                                                             defaults.get(interaction, 1.0))))


@dataclass(frozen=True, kw_only=True, eq=False)
class Ratio(Kpi):
    type: ClassVar[str] = "ratio"
    numerator: str
    denominator: str
    scale: float | None = None
    average_over: str | None = None

    @property
    def refs(self) -> tuple[str, ...]:
        return (self.numerator, self.denominator)


@dataclass(frozen=True, kw_only=True, eq=False)
class Derived(Kpi):
    type: ClassVar[str] = "derived"
    expr: str

    @cached_property
    def refs(self) -> tuple[str, ...]:  # type: ignore[override]
        from kpiframe.expressions import ExprError, kpi_expr

        try:
            return kpi_expr(self.expr).names
        except ExprError:
            return ()


@dataclass(frozen=True, kw_only=True, eq=False)
class Cumulative(Kpi):
    type: ClassVar[str] = "cumulative"
    of: str
    window: Duration | None = None
    grain_to_date: str | None = None

    @property
    def refs(self) -> tuple[str, ...]:
        return (self.of,)

    @property
    def kind(self) -> str:
        if self.window:
            return f"rolling {self.window}"
        if self.grain_to_date:
            return f"{self.grain_to_date}-to-date"
        return "all-time running total"


@dataclass(frozen=True, kw_only=True, eq=False)
class Change(Kpi):
    type: ClassVar[str] = "change"
    of: str
    offset: int | Duration = 1
    calc: str = "difference"

    @property
    def refs(self) -> tuple[str, ...]:
        return (self.of,)


TYPES: dict[str, type[Kpi]] = {
    cls.type: cls for cls in (Simple, Weighted, Ratio, Derived, Cumulative, Change)
}


def build(item: YMap, file: str, plugin: str | None = None) -> Kpi:
    """A KPI from a schema-valid mapping."""
    cls = TYPES[item["type"]]
    target = item.get("target")
    common: dict[str, Any] = {
        "name": item["name"],
        "file": file,
        "node": item,
        "label": item.get("label"),
        "description": item.get("description"),
        "owner": item.get("owner"),
        "tags": tuple(item.get("tags", ())),
        "unit": item.get("unit"),
        "direction": item.get("direction", "higher_is_better"),
        "target": Target(float(target["value"]), target["grain"],
                         tuple((p, float(v)) for p, v in target.get("platforms", {}).items()))
        if target else None,
        "fill_nulls_with": item.get("fill_nulls_with"),
        "meta": item.get("meta", {}),
        "plugin": plugin,
    }
    if cls is Simple:
        platforms = item.get("platforms")
        return Simple(
            **common,
            source=item["source"],
            agg=item["agg"],
            expr=item.get("expr"),
            filter=item.get("filter"),
            platforms=tuple(platforms) if platforms else None,
        )
    if cls is Weighted:
        platforms = item.get("platforms")
        return Weighted(
            **common,
            source=item["source"],
            weights={k: float(v) for k, v in item.get("weights", {}).items()},
            platform_weights={
                p: {k: float(v) for k, v in w.items()}
                for p, w in item.get("platform_weights", {}).items()
            },
            filter=item.get("filter"),
            platforms=tuple(platforms) if platforms else None,
            interactions=tuple(item["interactions"]) if "interactions" in item else None,
        )
    if cls is Ratio:
        scale = item.get("scale")
        return Ratio(
            **common,
            numerator=item["numerator"],
            denominator=item["denominator"],
            scale=float(scale) if scale is not None else None,
            average_over=item.get("average_over"),
        )
    if cls is Derived:
        return Derived(**common, expr=item["expr"])
    if cls is Cumulative:
        window = item.get("window")
        return Cumulative(
            **common,
            of=item["of"],
            window=Duration.parse(window) if window else None,
            grain_to_date=item.get("grain_to_date"),
        )
    offset = item.get("offset", 1)
    return Change(
        **common,
        of=item["of"],
        offset=offset if isinstance(offset, int) else Duration.parse(offset),
        calc=item.get("calc", "difference"),
    )


def unknown_kpi(name: str, known: Iterable[str]) -> KpiframeError:
    """The error for a name no KPI has, with the closest names as a hint."""
    return KpiframeError(Problem(
        "unknown-kpi", f"no KPI named '{name}' in the catalog",
        hint=did_you_mean(name, known) or "`kpiframe list` shows the catalog"))
