"""Stage 2, resolve: the catalog joined with what the plugins provide, frozen.

Loading and validating (stage 1) give a `Catalog`, which still holds files, the project
and the plugin registry. Everything after it needs less and must not change it: which
KPIs exist, which platforms are active in which layout and schema, and what each
provides. `resolve` answers that once per run, in a `ResolvedCatalog` that the planner
(stage 3) and the SQL writer (stage 4) read and nobody can modify, so no stage can
leave a surprise for the next one.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import TYPE_CHECKING

from kpiframe.definitions import Kpi, unknown_kpi
from kpiframe.plugins import ActivePlatform

if TYPE_CHECKING:
    from kpiframe.catalog import Catalog


@dataclass(frozen=True, eq=False)
class ResolvedCatalog:
    """Every KPI by name and every active platform by name, read-only. Compared and
    hashed by identity: what was compiled against one is remembered for it alone."""

    kpis: Mapping[str, Kpi]
    platforms: Mapping[str, ActivePlatform]

    def get(self, name: str) -> Kpi:
        try:
            return self.kpis[name]
        except KeyError:
            raise unknown_kpi(name, self.kpis) from None

    def platform_names(self, source: str, wanted: tuple[str, ...] | None = None) -> list[str]:
        """The active platforms that bind `source`, among `wanted` (None: all), sorted."""
        return [
            name
            for name, active in self.platforms.items()
            if active.binding(source) is not None and (wanted is None or name in wanted)
        ]

    def weights(self, platform: str) -> Mapping[str, float]:
        """The platform's own interaction weights (a KPI's `weights` override them)."""
        return self.platforms[platform].platform.weights


def resolve(catalog: Catalog) -> ResolvedCatalog:
    """Freeze what a catalog's requests are compiled against."""
    return ResolvedCatalog(
        kpis=MappingProxyType(dict(catalog.kpis)),
        platforms=MappingProxyType(dict(catalog.platforms)),
    )
