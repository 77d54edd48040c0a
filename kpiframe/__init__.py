"""kpiframe: social-media KPIs as declarative YAML, compiled to SQL for any engine.

The public Python API. Heavy modules load on first use, so `import kpiframe`
and the CLI start fast.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from kpiframe.hookspecs import hookimpl
from kpiframe.problems import KpiframeError, Location, Problem
from kpiframe.version import __version__

if TYPE_CHECKING:
    from kpiframe.catalog import Catalog, load_catalog

__all__ = [
    "Catalog",
    "KpiframeError",
    "Location",
    "Problem",
    "__version__",
    "hookimpl",
    "load_catalog",
]


def __getattr__(name: str) -> Any:
    if name in ("Catalog", "load_catalog"):
        from kpiframe import catalog

        return getattr(catalog, name)
    raise AttributeError(f"module 'kpiframe' has no attribute {name!r}")
