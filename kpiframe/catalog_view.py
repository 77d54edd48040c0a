"""What a `kpiframe_validate` hook sees: a read-only copy of the catalog.

House rules only need to read. Handing a plugin the live `Catalog` let one empty it and
turn `validate` green; this view is a frozen snapshot instead, made of copies, so nothing
a hook does to it reaches what kpiframe reports or runs.
"""

from __future__ import annotations

import copy
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from kpiframe.catalog import Catalog
    from kpiframe.definitions import Kpi
    from kpiframe.plugins import ActivePlatform
    from kpiframe.problems import Problem


@dataclass(frozen=True)
class CatalogView:
    """A read-only snapshot of a catalog, for `kpiframe_validate` hooks.

    - `kpis`: KPI name -> `Kpi` (copies; `kpi.loc("field")` locates a problem)
    - `files`: the definition files read, as problems show them
    - `problems`: the problems kpiframe found before the hooks ran
    - `platforms`: platform name -> the platform as this project uses it
    """

    kpis: Mapping[str, Kpi]
    files: tuple[str, ...]
    problems: tuple[Problem, ...]
    platforms: Mapping[str, ActivePlatform]

    @classmethod
    def of(cls, catalog: Catalog, problems: tuple[Problem, ...] = ()) -> CatalogView:
        kpis = copy.deepcopy(dict(catalog.kpis))
        return cls(
            kpis=MappingProxyType(kpis),
            files=tuple(f.display for f in catalog.files),
            problems=tuple(problems),
            platforms=MappingProxyType(dict(catalog.platforms)),
        )

    def __iter__(self) -> Iterator[Kpi]:
        return iter(self.kpis.values())

    def __len__(self) -> int:
        return len(self.kpis)

    def __contains__(self, name: object) -> bool:
        return name in self.kpis
