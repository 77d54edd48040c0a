"""The hooks a kpiframe plugin can implement. Only hookspecs (and the names plugins are
found by) live here.

A plugin is a module with functions decorated by `kpiframe.hookimpl` whose names match
these. Each hook is called once per plugin, through pluggy with the other plugins left
out, under a time limit (KPIFRAME_HOOK_TIMEOUT seconds, default 10). A plugin whose hook
raises (anything, `SystemExit` included), hangs or returns something other than a list of
the promised items is reported by name, and every other plugin's answers are kept.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pluggy

if TYPE_CHECKING:
    from pathlib import Path

    from kpiframe.catalog_view import CatalogView
    from kpiframe.platform import Engine, Platform
    from kpiframe.problems import Problem

#: the entry-point group (and pluggy project name) plugins register under
GROUP = "kpiframe"
#: Built-in plugins, registered before any other (datasette's DEFAULT_PLUGINS).
DEFAULT_PLUGINS = ("kpiframe.engines",)

hookspec = pluggy.HookspecMarker("kpiframe")
hookimpl = pluggy.HookimplMarker("kpiframe")


@hookspec
def kpiframe_platforms() -> list[Platform]:
    """Return the social platforms this plugin provides.

    Each `kpiframe.platform.Platform` says which canonical sources it has, how each is
    read in every layout it supports, its native names for interactions and its default
    interaction weights.
    """
    raise NotImplementedError


@hookspec
def kpiframe_engines() -> list[Engine]:
    """Return execution engines: a URL scheme, a sqlglot dialect and a connector."""
    raise NotImplementedError


@hookspec
def kpiframe_definitions() -> list[str | Path]:
    """Return KPI definition files (or folders of them) this plugin ships.

    They join the catalog; a project KPI of the same name overrides one of these, with a
    warning naming both files.
    """
    raise NotImplementedError


@hookspec
def kpiframe_validate(catalog: CatalogView) -> list[Problem]:
    """Return extra problems found in a catalog: house rules a CI pipeline enforces.

    `catalog` is a read-only copy (`kpiframe.catalog_view.CatalogView`: `kpis` by name,
    `files`, the `problems` found so far, `platforms`): a hook can read it, never change
    what kpiframe reports.
    """
    raise NotImplementedError
