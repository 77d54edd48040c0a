"""The standard social media KPI catalog, shipped as a kpiframe plugin.

kpiframe itself ships no KPIs: a project writes its own in definitions/. This plugin adds
the standard catalog (the YAML files in `kpiframe_social/definitions`, with their unit
tests and dashboards) through the `kpiframe_definitions` hook, so `kpiframe demo`, `list`,
`query` and `report` work in any folder once it is installed. A project KPI of the same
name overrides the plugin's, with a warning naming both files.

It provides no platform: install the platform plugins (kpiframe-x, kpiframe-facebook, ...)
whose data the KPIs should read.
"""

from __future__ import annotations

from pathlib import Path

from kpiframe import hookimpl

#: the catalog's folder inside the installed package
DEFINITIONS = Path(__file__).resolve().parent / "definitions"


@hookimpl
def kpiframe_definitions() -> list[str | Path]:
    """The standard catalog: one folder of definition files (and their tests)."""
    return [DEFINITIONS]
