"""The plugin manager: find plugins, register them, ask them questions, survive them.

Plugins come from the `kpiframe` entry-point group, from `--plugin module` and from
`plugins:` in `kpiframe.yaml`. The built-in engines are registered first like any other
plugin, so a third party registering later wins. Each entry point is loaded and each hook
is called inside its own try/except: a broken plugin is reported by name with its error,
and every other plugin keeps working (pluggy's own loader stops at the first failure).
"""

from __future__ import annotations

import importlib
import importlib.metadata
import os
import traceback
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from types import ModuleType
from typing import TYPE_CHECKING, Any

import pluggy

from kpiframe import canonical, hookspecs
from kpiframe.platform import Binding, Engine, Layout, Platform, PlatformSettings, Select, Table
from kpiframe.problems import Problem

if TYPE_CHECKING:
    from kpiframe.catalog import Catalog

GROUP = "kpiframe"
#: Built-in plugins, registered before any other (datasette's DEFAULT_PLUGINS).
DEFAULT_PLUGINS = ("kpiframe.engines",)
#: Comma-separated allow-list of entry-point plugins to load; empty loads none.
LOAD_ENV = "KPIFRAME_LOAD_PLUGINS"


@dataclass
class PluginInfo:
    name: str
    module: str
    version: str | None = None
    distribution: str | None = None
    source: str = "entry point"
    hooks: list[str] = field(default_factory=list)
    platforms: list[str] = field(default_factory=list)
    engines: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class PluginFailure:
    plugin: str
    stage: str
    error: str

    def problem(self) -> Problem:
        return Problem(
            rule="plugin-error",
            message=f"plugin '{self.plugin}' failed in {self.stage}: {self.error}",
            severity="warning",
            hint="the other plugins still work; fix or uninstall this one, or set "
            f"{LOAD_ENV} to the plugins you want",
        )


@dataclass(frozen=True)
class ActivePlatform:
    """A registered platform as this project uses it: one layout, one schema."""

    platform: Platform
    plugin: str
    layout: Layout
    schema: str

    @property
    def name(self) -> str:
        return self.platform.name

    def binding(self, source: str) -> Binding | None:
        return self.layout.sources.get(source)

    def provides(self, source: str) -> tuple[str, ...]:
        binding = self.binding(source)
        if binding is None:
            return ()
        return ("platform", *binding.fields)


def _describe(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}"


def _check_binding(source: str, binding: Any) -> None:
    if source not in canonical.SOURCES:
        raise ValueError(f"unknown canonical source '{source}'")
    if not isinstance(binding, (Table, Select)):
        raise TypeError(f"source '{source}' must be a Table or a Select, not {binding!r}")
    known = canonical.SOURCES[source].fields
    bad = [f for f in binding.fields if f not in known or f == "platform"]
    if bad:
        raise ValueError(f"source '{source}' maps unknown field(s): {', '.join(bad)}")


class Registry:
    """What the loaded plugins provide, behind a typed facade over `pm.hook`."""

    def __init__(self) -> None:
        self.pm = pluggy.PluginManager(GROUP)
        self.pm.add_hookspecs(hookspecs)
        self.plugins: list[PluginInfo] = []
        self.failures: list[PluginFailure] = []
        self.platforms: dict[str, tuple[Platform, str]] = {}
        self.engines: dict[str, Engine] = {}
        self._definitions: list[tuple[str, str]] | None = None

    # -- loading ----------------------------------------------------------------------

    def register_module(self, module: ModuleType | object, info: PluginInfo) -> None:
        try:
            self.pm.register(module, name=info.name)
            self.pm.check_pending()
        except Exception as exc:  # a misspelled hook, a duplicate name...
            if self.pm.is_registered(module):
                self.pm.unregister(module)
            self.failures.append(PluginFailure(info.name, "registration", _describe(exc)))
            return
        info.hooks = sorted(
            impl.name
            for impl in self.pm.get_hookcallers(module) or ()
        )
        self.plugins.append(info)

    def load_module(self, dotted: str, source: str) -> None:
        try:
            module = importlib.import_module(dotted)
        except BaseException as exc:
            if isinstance(exc, KeyboardInterrupt):
                raise
            self.failures.append(PluginFailure(dotted, "import", _describe(exc)))
            return
        self.register_module(
            module,
            PluginInfo(
                name=dotted,
                module=dotted,
                version=getattr(module, "__version__", None),
                source=source,
            ),
        )

    def load_entry_points(self) -> None:
        allowed = os.environ.get(LOAD_ENV)
        allow = None if allowed is None else {n.strip() for n in allowed.split(",") if n.strip()}
        eps = sorted(importlib.metadata.entry_points(group=GROUP), key=lambda e: e.name)
        for ep in eps:
            if allow is not None and ep.name not in allow:
                continue
            if self.pm.get_plugin(ep.name) is not None:
                continue
            try:
                module = ep.load()
            except BaseException as exc:
                if isinstance(exc, KeyboardInterrupt):
                    raise
                self.failures.append(PluginFailure(ep.name, "import", _describe(exc)))
                continue
            dist = getattr(ep, "dist", None)
            self.register_module(
                module,
                PluginInfo(
                    name=ep.name,
                    module=ep.value,
                    version=dist.version if dist else None,
                    distribution=dist.name if dist else None,
                ),
            )

    # -- asking -----------------------------------------------------------------------

    def call(self, hook: str, **kwargs: Any) -> list[tuple[str, Any]]:
        """Call `hook` on each plugin in registration order, isolating failures."""
        caller = getattr(self.pm.hook, hook)
        answers: list[tuple[str, Any]] = []
        for impl in caller.get_hookimpls():
            try:
                result = impl.function(**{k: kwargs[k] for k in impl.argnames})
            except Exception as exc:
                detail = "".join(traceback.format_exception_only(type(exc), exc)).strip()
                self.failures.append(PluginFailure(impl.plugin_name, hook, detail))
                continue
            if result is not None:
                answers.append((impl.plugin_name, result))
        return answers

    def collect(self) -> None:
        infos = {p.name: p for p in self.plugins}
        for plugin, engines in self.call("kpiframe_engines"):
            for engine in engines:
                if not isinstance(engine, Engine):
                    self.failures.append(
                        PluginFailure(plugin, "kpiframe_engines", f"not an Engine: {engine!r}")
                    )
                    continue
                self.engines[engine.scheme] = engine
                infos[plugin].engines.append(engine.scheme)
        for plugin, platforms in self.call("kpiframe_platforms"):
            for platform in platforms:
                try:
                    if not isinstance(platform, Platform):
                        raise TypeError(f"not a Platform: {platform!r}")
                    if not platform.layouts:
                        raise ValueError(f"platform '{platform.name}' has no layout")
                    for layout in platform.layouts:
                        for source, binding in layout.sources.items():
                            _check_binding(source, binding)
                except Exception as exc:
                    self.failures.append(
                        PluginFailure(plugin, "kpiframe_platforms", _describe(exc))
                    )
                    continue
                self.platforms[platform.name] = (platform, plugin)
                infos[plugin].platforms.append(platform.name)

    @property
    def definition_files(self) -> list[tuple[str, str]]:
        """(plugin, path) for every definition path plugins ship."""
        if self._definitions is None:
            self._definitions = [
                (plugin, os.fspath(path))
                for plugin, paths in self.call("kpiframe_definitions")
                for path in paths
            ]
        return self._definitions

    def validate(self, catalog: Catalog) -> list[Problem]:
        problems: list[Problem] = []
        for plugin, found in self.call("kpiframe_validate", catalog=catalog):
            for problem in found:
                if isinstance(problem, Problem):
                    problems.append(problem)
                else:
                    self.failures.append(
                        PluginFailure(plugin, "kpiframe_validate", f"not a Problem: {problem!r}")
                    )
        return problems

    def active(
        self, settings: Mapping[str, PlatformSettings] | None = None
    ) -> dict[str, ActivePlatform]:
        """Platforms as configured: enabled ones, in the chosen layout and schema."""
        settings = settings or {}
        out: dict[str, ActivePlatform] = {}
        for name in sorted(self.platforms):
            platform, plugin = self.platforms[name]
            conf = settings.get(name, PlatformSettings())
            if not conf.enabled:
                continue
            try:
                layout = platform.layout(conf.layout)
            except KeyError:
                continue  # reported by the project loader, which knows the location
            schema = conf.schema or layout.default_schema or platform.name
            out[name] = ActivePlatform(platform, plugin, layout, schema)
        return out

    @property
    def problems(self) -> list[Problem]:
        return [f.problem() for f in self.failures]


_CACHE: dict[tuple[str, ...], Registry] = {}


def load_registry(modules: Sequence[str] | Iterable[str] = ()) -> Registry:
    """The registry for the installed plugins plus `modules` (cached per process)."""
    key = tuple(modules)
    if key not in _CACHE:
        registry = Registry()
        for dotted in DEFAULT_PLUGINS:
            registry.load_module(dotted, "built-in")
        registry.load_entry_points()
        for dotted in key:
            if registry.pm.get_plugin(dotted) is None:
                registry.load_module(dotted, "--plugin / kpiframe.yaml")
        registry.collect()
        _CACHE[key] = registry
    return _CACHE[key]


def clear_cache() -> None:
    _CACHE.clear()
