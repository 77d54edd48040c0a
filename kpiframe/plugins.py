"""The plugin manager: find plugins, register them, ask them questions, survive them.

Plugins come from the built-in `DEFAULT_PLUGINS`, then the `kpiframe` entry-point group
(sorted by name), then `plugins:` in `kpiframe.yaml` and `--plugin module`, in that order.
Each is registered with pluggy once, however many ways it was named, and every hook is
called through pluggy one plugin at a time (`pm.subset_hook_caller`) inside a guard
(`kpiframe.plugin_guard`): a plugin that raises anything, exits, hangs or returns the
wrong thing is reported by name and every other plugin's answers are kept.

Nothing is replaced silently: two plugins registering the same platform or engine scheme
is an error naming both, unless the project's `prefer:` says which one wins.
"""

from __future__ import annotations

import importlib
import importlib.metadata
import os
import sys
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from types import ModuleType
from typing import TYPE_CHECKING, Any, TypeVar

import pluggy

from kpiframe import hookspecs, plugin_guard, plugin_results, sql_shapes
from kpiframe.catalog_view import CatalogView
from kpiframe.hookspecs import DEFAULT_PLUGINS, GROUP
from kpiframe.platform import Binding, Engine, Layout, Platform, PlatformSettings
from kpiframe.problems import Problem

if TYPE_CHECKING:
    from kpiframe.catalog import Catalog

__all__ = ["DEFAULT_PLUGINS", "GROUP", "ActivePlatform", "Registry", "disabled_for",
           "load_registry"]
#: Comma-separated allow-list of entry-point plugins to load; empty loads none.
LOAD_ENV = "KPIFRAME_LOAD_PLUGINS"

T = TypeVar("T")

#: plugins `--disable-plugin` skips for the command being run (see `disabled_for`)
_COMMAND_DISABLED: ContextVar[tuple[str, ...]] = ContextVar("kpiframe_disabled", default=())


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
    #: other names the same module was asked for under (`--plugin kpiframe_x` for `x`)
    also_named: list[str] = field(default_factory=list)

    @property
    def names(self) -> set[str]:
        """Every name that refers to this plugin in `prefer:` and `--disable-plugin`."""
        return {n for n in (self.name, self.module, self.distribution, *self.also_named) if n}


@dataclass(frozen=True)
class PluginFailure:
    plugin: str
    stage: str
    error: str
    rule: str = "plugin-error"
    file: str | None = None
    line: int | None = None
    #: the whole sentence, when "plugin P failed in STAGE: ERROR" does not fit (clashes)
    message: str | None = None
    hint: str | None = None

    def problem(self) -> Problem:
        from kpiframe.project import display

        return Problem(
            rule=self.rule,
            message=self.message or f"plugin '{self.plugin}' failed in {self.stage}: {self.error}",
            file=display(self.file) if self.file else None,
            line=self.line if self.file else None,
            hint=self.hint or f"fix or uninstall plugin '{self.plugin}', or leave it out "
            f"with --disable-plugin {self.plugin} or disable_plugins: [{self.plugin}] in "
            "kpiframe.yaml",
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


class Registry:
    """What the loaded plugins provide, behind a typed facade over `pm.hook`."""

    def __init__(
        self,
        disabled: Iterable[str] = (),
        prefer: Mapping[str, str] | None = None,
        timeout: float | None = None,
    ) -> None:
        self.pm = pluggy.PluginManager(GROUP)
        self.pm.add_hookspecs(hookspecs)
        self.disabled = frozenset(disabled)
        self.prefer = dict(prefer or {})
        self.timeout = plugin_guard.timeout() if timeout is None else timeout
        self.plugins: list[PluginInfo] = []
        self.failures: list[PluginFailure] = []
        #: plugins skipped because they were disabled, by the name they were found under
        self.skipped: list[str] = []
        self.platforms: dict[str, tuple[Platform, str]] = {}
        self.engines: dict[str, Engine] = {}
        self._definitions: list[tuple[str, str]] | None = None
        self._hung: set[str] = set()
        self._validate_hung: dict[str, PluginFailure] = {}
        self._homes: dict[str, str | None] = {}

    # -- loading ----------------------------------------------------------------------

    def _is_disabled(self, *names: str | None) -> bool:
        return any(n in self.disabled for n in names if n)

    def info(self, name: str) -> PluginInfo | None:
        return next((p for p in self.plugins if p.name == name), None)

    def register_module(self, module: ModuleType | object, info: PluginInfo) -> None:
        """Register `module` under `info.name`, once: a module already registered under
        another name (an entry point also given to `--plugin`) keeps its first name."""
        if self.pm.is_registered(module):
            first = self.info(self.pm.get_name(module) or "")
            if first is not None and info.name not in first.names:
                first.also_named.append(info.name)
            return
        taken = self.pm.get_plugin(info.name)
        if taken is not None:
            self._fail(info.name, "registration",
                       f"the name is already used by {getattr(taken, '__name__', taken)!r}",
                       message=f"two plugins are named '{info.name}': "
                       f"{getattr(taken, '__name__', taken)} and {info.module}",
                       hint="uninstall one of them, or run with --disable-plugin "
                       f"{info.name}")
            return
        try:
            self.pm.register(module, name=info.name)
            self.pm.check_pending()
        except KeyboardInterrupt:
            raise
        except BaseException as exc:  # a misspelled hook, a bad signature...
            if self.pm.is_registered(module):
                self.pm.unregister(module)
            self._fail(info.name, "registration", plugin_guard.describe(exc))
            return
        info.hooks = sorted(impl.name for impl in self.pm.get_hookcallers(module) or ())
        self._homes[info.name] = plugin_guard.home_of(module)
        self.plugins.append(info)

    def _import(self, name: str, load: Callable[[], Any]) -> Any | None:
        outcome = plugin_guard.run(load, self.timeout)
        if outcome.timed_out:
            self._fail(name, "import", f"did not finish importing within {self.timeout:g} s",
                       rule="plugin-timeout")
            return None
        if outcome.error is not None:
            file, line = plugin_guard.where(outcome.error)
            self._fail(name, "import", plugin_guard.describe(outcome.error), file=file,
                       line=line)
            return None
        return outcome.value

    def load_module(self, dotted: str, source: str) -> None:
        if self._is_disabled(dotted):
            self.skipped.append(dotted)
            return
        if self.pm.get_plugin(dotted) is not None:
            return  # already loaded under this name (an entry point named like a module)
        with _importable_from(os.getcwd()):
            module = self._import(dotted, lambda: importlib.import_module(dotted))
        if module is None:
            return
        self.register_module(module, PluginInfo(
            name=dotted, module=dotted, version=_version(module), source=source))

    def load_entry_points(self) -> None:
        allowed = os.environ.get(LOAD_ENV)
        allow = None if allowed is None else {n.strip() for n in allowed.split(",") if n.strip()}
        eps = sorted(importlib.metadata.entry_points(group=GROUP), key=lambda e: e.name)
        for ep in eps:
            if allow is not None and ep.name not in allow:
                continue
            dist = getattr(ep, "dist", None)
            dist_name = dist.name if dist else None
            if self._is_disabled(ep.name, ep.module, ep.value, dist_name):
                self.skipped.append(ep.name)
                continue
            module = self._import(ep.name, ep.load)
            if module is None:
                continue
            self.register_module(module, PluginInfo(
                name=ep.name, module=ep.value, version=dist.version if dist else None,
                distribution=dist_name))

    # -- asking -----------------------------------------------------------------------

    def _call_one(self, hook: str, plugin: str, kwargs: Mapping[str, Any]) -> list[Any] | None:
        """One plugin's answer to `hook`, through pluggy with every other plugin left out;
        None when it failed (and the failure is recorded)."""
        others = [p for n, p in self.pm.list_name_plugin() if n != plugin]
        caller = self.pm.subset_hook_caller(hook, others)

        def ask() -> list[Any]:
            answers = caller(**kwargs)
            return plugin_results.as_list(answers[0]) if answers else []

        outcome = plugin_guard.run(ask, self.timeout)
        if outcome.timed_out:
            self._hung.add(plugin)
            self._fail(plugin, hook, f"did not return within {self.timeout:g} s",
                       rule="plugin-timeout", where=self._hook_def(hook, plugin))
            return None
        if isinstance(outcome.error, plugin_results.BadResult):
            self._fail(plugin, hook, str(outcome.error), where=self._hook_def(hook, plugin))
            return None
        if outcome.error is not None:
            file, line = plugin_guard.where(outcome.error, self._homes.get(plugin))
            self._fail(plugin, hook, plugin_guard.describe(outcome.error), file=file, line=line)
            return None
        value: list[Any] = outcome.value
        return value

    def _implementers(self, hook: str) -> list[str]:
        caller = getattr(self.pm.hook, hook)
        return [impl.plugin_name for impl in caller.get_hookimpls()
                if impl.plugin_name not in self._hung]

    def call(self, hook: str, **kwargs: Any) -> list[tuple[str, list[Any]]]:
        """Call `hook` on each plugin in registration order, isolating failures."""
        answers: list[tuple[str, list[Any]]] = []
        for plugin in self._implementers(hook):
            found = self._call_one(hook, plugin, kwargs)
            if found is not None:
                answers.append((plugin, found))
        return answers

    def _checked(self, hook: str, check: Callable[[Any], T]) -> Iterator[tuple[str, T]]:
        for plugin, items in self.call(hook):
            for item in items:
                try:
                    yield plugin, check(item)
                except plugin_results.BadResult as exc:
                    self._fail(plugin, hook, str(exc), where=self._hook_def(hook, plugin))

    def collect(self) -> None:
        engines: dict[str, list[tuple[str, Engine]]] = {}
        for plugin, engine in self._checked("kpiframe_engines", plugin_results.engine):
            engines.setdefault(engine.scheme, []).append((plugin, engine))
        for scheme, offers in engines.items():
            winner, chosen = self._resolve("kpiframe_engines", "engine scheme", scheme, offers)
            self.engines[scheme] = chosen
            self._info(winner).engines.append(scheme)
        platforms: dict[str, list[tuple[str, Platform]]] = {}
        for plugin, platform in self._checked("kpiframe_platforms", plugin_results.platform):
            platforms.setdefault(platform.name, []).append((plugin, platform))
        for name, offered in platforms.items():
            owner, platform = self._resolve("kpiframe_platforms", "platform", name, offered)
            self.platforms[name] = (platform, owner)
            self._info(owner).platforms.append(name)

    def _info(self, plugin: str) -> PluginInfo:
        found = self.info(plugin)
        if found is None:  # registered outside register_module, as tests may do
            found = PluginInfo(name=plugin, module=plugin)
            self.plugins.append(found)
        return found

    def _resolve(self, hook: str, kind: str, name: str,
                 offers: list[tuple[str, T]]) -> tuple[str, T]:
        """The one offer of `name` that wins: the only one, or the one `prefer:` names.
        Anything else is a clash, reported naming every plugin; the first registered is
        kept so the report stays readable, and every command refuses to run."""
        first_plugin, first = offers[0]
        rivals = [(p, o) for p, o in offers[1:] if not _same(o, first) or p == first_plugin]
        if not rivals:
            return first_plugin, first
        plugins = list(dict.fromkeys(p for p, _ in offers))
        if len(plugins) == 1:
            self._fail(first_plugin, hook, f"registers {kind} '{name}' more than once")
            return first_plugin, first
        preferred = self.prefer.get(name)
        for plugin, offer in offers:
            if preferred is not None and preferred in self._info(plugin).names:
                return plugin, offer
        quoted = " and ".join(f"'{p}'" for p in plugins)
        wanted = (f"prefer: names '{preferred}', which is none of them; "
                  if preferred is not None else "")
        self.failures.append(PluginFailure(
            plugin=plugins[-1], stage=hook, error=f"{kind} '{name}' clashes",
            rule="plugin-clash",
            message=f"plugins {quoted} both register {kind} '{name}'",
            hint=f"{wanted}say which one wins with `prefer: {{{name}: {plugins[0]}}}` in "
            f"kpiframe.yaml, or run without one: --disable-plugin {plugins[-1]}"))
        return first_plugin, first

    @property
    def definition_files(self) -> list[tuple[str, str]]:
        """(plugin, path) for every definition path plugins ship."""
        if self._definitions is None:
            self._definitions = list(
                self._checked("kpiframe_definitions", plugin_results.definition))
        return self._definitions

    def validate(self, catalog: Catalog, problems: Sequence[Problem] = ()) -> list[Problem]:
        """Problems `kpiframe_validate` hooks find. Each hook gets its own read-only copy
        of the catalog (`CatalogView`), so none can change what another sees or what
        kpiframe reports."""
        found: list[Problem] = []
        start = len(self.failures)
        for plugin in self._implementers("kpiframe_validate"):
            view = CatalogView.of(catalog, tuple(problems))
            items = self._call_one("kpiframe_validate", plugin, {"catalog": view})
            for item in items or ():
                try:
                    found.append(plugin_results.problem(item))
                except plugin_results.BadResult as exc:
                    self._fail(plugin, "kpiframe_validate", str(exc),
                               where=self._hook_def("kpiframe_validate", plugin))
        # failures of this call are its answer, not the registry's: a later command in
        # the same process (which never asks for house rules) must not inherit them
        failed = self.failures[start:]
        del self.failures[start:]
        self._validate_hung.update({f.plugin: f for f in failed if f.rule == "plugin-timeout"})
        failed.extend(f for p, f in self._validate_hung.items() if f not in failed)
        return [*found, *(f.problem() for f in failed)]

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

    # -- reporting --------------------------------------------------------------------

    def _hook_def(self, hook: str, plugin: str) -> tuple[str | None, int | None]:
        """Where a plugin's implementation of `hook` is defined."""
        for impl in getattr(self.pm.hook, hook).get_hookimpls():
            if impl.plugin_name == plugin:
                code = getattr(impl.function, "__code__", None)
                if code is not None:
                    return code.co_filename, code.co_firstlineno
        return None, None

    def _fail(self, plugin: str, stage: str, error: str, *, rule: str = "plugin-error",
              file: str | None = None, line: int | None = None,
              where: tuple[str | None, int | None] | None = None,
              message: str | None = None, hint: str | None = None) -> None:
        if where is not None:
            file, line = where
        self.failures.append(PluginFailure(plugin, stage, error, rule, file, line, message,
                                           hint))


def _same(a: object, b: object) -> bool:
    """The same offer twice (one module re-exported by another) is no clash."""
    if a is b:
        return True
    try:
        return bool(a == b)
    except Exception:  # a plugin's __eq__
        return False


@contextmanager
def _importable_from(folder: str) -> Iterator[None]:
    """`--plugin my_plugin` finds my_plugin.py in the working directory, as `python -m`
    would, so a plugin can be tried before it is installed. The folder goes last on the
    path: an installed module of the same name still wins."""
    if folder in sys.path:
        yield
        return
    sys.path.append(folder)
    importlib.invalidate_caches()  # a module written since the last look is found
    try:
        yield
    finally:
        if folder in sys.path:
            sys.path.remove(folder)


def _version(module: object) -> str | None:
    version = getattr(module, "__version__", None)
    return version if isinstance(version, str) else None


_CACHE: dict[tuple[Any, ...], Registry] = {}


def load_registry(
    modules: Sequence[str] | Iterable[str] = (),
    *,
    disable: Iterable[str] = (),
    prefer: Mapping[str, str] | None = None,
) -> Registry:
    """The registry for the installed plugins plus `modules`, without the `disable`d ones
    (and those `--disable-plugin` names for this command), cached per process."""
    names = tuple(dict.fromkeys(modules))
    disabled = frozenset((*disable, *_COMMAND_DISABLED.get()))
    wins = tuple(sorted((prefer or {}).items()))
    limit = plugin_guard.timeout()
    # a --plugin module may be found in the working directory: another one, another registry
    where = os.getcwd() if names else None
    key = (names, tuple(sorted(disabled)), wins, limit, os.environ.get(LOAD_ENV), where)
    if key not in _CACHE:
        registry = Registry(disabled, dict(wins), limit)
        for dotted in DEFAULT_PLUGINS:
            registry.load_module(dotted, "built-in")
        registry.load_entry_points()
        for dotted in names:
            registry.load_module(dotted, "--plugin / kpiframe.yaml")
        registry.collect()
        sql_shapes.CACHE.save()  # the binding SQL parsed for the first time, for next run
        _CACHE[key] = registry
    return _CACHE[key]


@contextmanager
def disabled_for(names: Iterable[str]) -> Iterator[None]:
    """Skip these plugins in every registry loaded inside the block: how the CLI's
    `--disable-plugin` reaches every command without threading it through each one."""
    token = _COMMAND_DISABLED.set(tuple(names))
    try:
        yield
    finally:
        _COMMAND_DISABLED.reset(token)


def clear_cache() -> None:
    _CACHE.clear()
