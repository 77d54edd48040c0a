"""`kpiframe.yaml`: where definitions live, which engine runs them, which plugins and
platform layouts a project uses. Optional: without it, the defaults apply.

The file is read like a definition file (located YAML, duplicate keys and alias bombs
refused) and checked against its own JSON Schema, so a typo is a located problem rather
than a silently ignored setting. Settings that name platforms, layouts or plugins can only
be checked once plugins are loaded: `plugin_problems` does that. A project with an error
is refused by every command (`ProjectError`): a query must never quietly run on the
default database, or without a platform, because a setting was misspelled.
"""

from __future__ import annotations

import errno
import os
import stat
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from kpiframe import schema, yamlsource
from kpiframe.platform import PlatformSettings
from kpiframe.problems import KpiframeError, Location, Problem, did_you_mean, one_of

if TYPE_CHECKING:
    from kpiframe.plugins import Registry

FILENAME = "kpiframe.yaml"
ENGINE_ENV = "KPIFRAME_ENGINE"
#: where `kpiframe demo` and `kpiframe sample-data` put their database by default
DEFAULT_ENGINE = "duckdb:///.kpiframe/sample.duckdb"
DEFAULT_DEFINITIONS = ("definitions",)
_KEYS = ("definitions", "engine", "plugins", "disable_plugins", "prefer", "platforms")


class ProjectError(KpiframeError):
    """The project cannot be used as configured: kpiframe.yaml is invalid, or there are
    no definitions where it says. Every command refuses it (exit 2): nothing it could do
    would be what the user asked for."""


@dataclass(frozen=True)
class Project:
    root: Path
    file: str | None = None
    definitions: tuple[str, ...] = DEFAULT_DEFINITIONS
    engine: str | None = None
    plugins: tuple[str, ...] = ()
    #: plugin names never loaded (`disable_plugins:`; also `--disable-plugin NAME`)
    disable_plugins: tuple[str, ...] = ()
    #: which plugin wins a platform or engine name that two plugins register (`prefer:`)
    prefer: Mapping[str, str] = field(default_factory=dict)
    platforms: Mapping[str, PlatformSettings] = field(default_factory=dict)
    problems: tuple[Problem, ...] = ()
    #: where each platform's settings are, for problems found once plugins are loaded
    platform_locations: Mapping[str, Location] = field(default_factory=dict)
    #: the located YAML document, so later checks can point into it
    source: Any = field(default=None, compare=False, repr=False)

    def engine_url(self, override: str | None = None) -> str:
        return override or os.environ.get(ENGINE_ENV) or self.engine or DEFAULT_ENGINE

    def definition_paths(self) -> list[Path]:
        return [self.root / p for p in self.definitions]

    @property
    def configures_definitions(self) -> bool:
        """Whether `definitions:` is written in kpiframe.yaml (not the default)."""
        return isinstance(self.source, yamlsource.YMap) and "definitions" in self.source

    def locate(self, *path: str | int, key: bool = False) -> Location | None:
        """Where a setting is in kpiframe.yaml: the value at `path`, or with `key` the
        key naming it. None without a file."""
        if self.file is None:
            return None
        if key and path:
            pos = schema.position(self.source, path[:-1], path[-1])
        else:
            pos = schema.position(self.source, path)
        return Location(self.file, pos.line if pos else 1, pos.column if pos else 1)

    def definitions_location(self, index: int) -> Location | None:
        """Where entry `index` of `definitions:` is written (None: the default)."""
        if not self.configures_definitions:
            return None
        value = self.source["definitions"]
        return self.locate("definitions", index) if isinstance(value, list) \
            else self.locate("definitions")

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.is_error]


def display(path: Path | str) -> str:
    """A path as problems show it: relative to the working directory when inside it."""
    path = Path(path)
    try:
        return os.path.relpath(path) if path.is_absolute() else str(path)
    except ValueError:  # another drive on Windows
        return str(path)


# --------------------------------------------------------------------------- reading files


def read_source(path: Path) -> bytes:
    """The bytes of a file kpiframe reads as YAML.

    Anything but a regular file is an OSError, checked on the open descriptor: reading a
    named pipe would wait forever, and a folder or device is never a definition file."""
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0))
    with open(fd, "rb", closefd=True) as handle:
        mode = os.fstat(handle.fileno()).st_mode
        if not stat.S_ISREG(mode):
            kind = "a folder" if stat.S_ISDIR(mode) else "a named pipe" if stat.S_ISFIFO(
                mode) else "a socket" if stat.S_ISSOCK(mode) else "a device"
            raise OSError(errno.EINVAL, f"not a regular file: it is {kind}", str(path))
        return handle.read()


def unreadable(path: Path, exc: OSError, what: str = "file") -> Problem:
    """An OSError reading `path` (a file or a folder), as a problem at that path."""
    reason = exc.strerror or str(exc)
    hint = "fix its permissions or remove it: kpiframe never skips what it cannot read"
    if isinstance(exc, FileNotFoundError) and path.is_symlink():
        reason = f"it is a broken symbolic link to {os.readlink(path)}"
        hint = "point the link at a file, or remove it"
    elif reason.startswith("not a regular file"):
        hint = "YAML files kpiframe reads are regular files; remove or rename this one"
    return Problem.at(Location(display(path)), "unreadable", f"cannot read {what}: {reason}",
                      hint=hint)


# --------------------------------------------------------------------------- loading


def load_project(directory: Path | str | None = None) -> Project:
    root = Path(directory) if directory is not None else Path.cwd()
    path = root / FILENAME
    if not path.exists() and not path.is_symlink():
        return Project(root=root)
    file = display(path)
    try:
        data = read_source(path)
    except OSError as exc:
        return Project(root=root, file=file, problems=(unreadable(path, exc),))
    doc, problems = yamlsource.load(data, file)
    if problems:
        return Project(root=root, file=file, problems=tuple(problems))
    if doc is None:
        return Project(root=root, file=file)
    if not isinstance(doc, dict):
        pos = getattr(doc, "pos", None)
        kind = "a list" if isinstance(doc, list) else "a string" if isinstance(doc, str) \
            else "a single value"
        return Project(root=root, file=file, problems=(
            Problem.at(Location(file, pos.line if pos else 1, pos.column if pos else 1),
                       "not-a-mapping", f"{FILENAME} must be a mapping of settings, not {kind}",
                       hint="one `setting: value` per line; settings: " + ", ".join(_KEYS)),
        ))
    found, _ = schema.validate(doc, file, schema.PROJECT)
    return _settings(root, file, doc, tuple(found))


def _strings(value: Any) -> tuple[str, ...] | None:
    """A string or a list of strings, or None when the schema refused it."""
    if isinstance(value, str) and value:
        return (value,)
    if isinstance(value, list) and value and all(isinstance(v, str) and v for v in value):
        return tuple(value)
    return None


def _settings(root: Path, file: str, doc: dict[Any, Any],
              problems: tuple[Problem, ...]) -> Project:
    """The valid settings of a schema-checked document. Invalid ones fall back to the
    defaults, but `problems` has an error for each, so nothing runs with the fallback."""
    engine = doc.get("engine")
    prefer = doc.get("prefer")
    platforms: dict[str, PlatformSettings] = {}
    locations: dict[str, Location] = {}
    section = doc.get("platforms")
    for name, conf in (section.items() if isinstance(section, dict) else ()):
        locations[str(name)] = Location(file, *_line_col(schema.position(doc, ["platforms"],
                                                                          name)))
        conf = conf if isinstance(conf, dict) else {}
        layout, where, enabled = conf.get("layout"), conf.get("schema"), conf.get("enabled")
        platforms[str(name)] = PlatformSettings(
            layout if isinstance(layout, str) else None,
            where if isinstance(where, str) else None,
            enabled if isinstance(enabled, bool) else True,
        )
    return Project(
        root=root,
        file=file,
        definitions=_strings(doc.get("definitions")) or DEFAULT_DEFINITIONS,
        engine=engine if isinstance(engine, str) else None,
        plugins=_strings(doc.get("plugins")) or (),
        disable_plugins=_strings(doc.get("disable_plugins")) or (),
        prefer={str(k): v for k, v in prefer.items() if isinstance(v, str)}
        if isinstance(prefer, dict) else {},
        platforms=platforms,
        problems=problems,
        platform_locations=locations,
        source=doc,
    )


def _line_col(pos: yamlsource.Pos | None) -> tuple[int, int]:
    return (pos.line, pos.column) if pos else (1, 1)


def refuse(problems: Sequence[Problem]) -> None:
    """Raise a ProjectError when `problems` has an error."""
    errors = [p for p in problems if p.is_error]
    if errors:
        raise ProjectError(errors)


# --------------------------------------------------------------------------- with plugins


def plugin_problems(project: Project, registry: Registry) -> list[Problem]:
    """Settings that name platforms, layouts and plugins, checked against what the loaded
    plugins provide. Each is an error: a platform configured under a misspelled name
    would otherwise be read in its default layout, and an unknown layout would leave the
    platform out of every total."""
    problems: list[Problem] = []
    registered = registry.platforms
    for name, settings in project.platforms.items():
        where = project.platform_locations.get(name)
        if name not in registered:
            problems.append(Problem.at(
                where, "unknown-platform",
                f"{FILENAME} configures platform '{name}', which no loaded plugin provides",
                hint=did_you_mean(name, registered)
                or ("platforms: " + one_of(registered) if registered else
                    "no plugin provides a platform: `kpiframe plugins` shows what loaded")))
            continue
        platform = registered[name][0]
        if settings.layout and settings.layout not in platform.layout_names:
            problems.append(Problem.at(
                project.locate("platforms", name, "layout") or where, "unknown-layout",
                f"platform '{name}' has no layout '{settings.layout}'",
                hint=did_you_mean(settings.layout, platform.layout_names)
                or "layouts: " + ", ".join(platform.layout_names)))
    by_name = {name: info for info in registry.plugins for name in info.names}
    provided = {n for info in registry.plugins for n in (*info.platforms, *info.engines)}
    for name, winner in project.prefer.items():
        info = by_name.get(winner)
        if name not in provided:
            problems.append(Problem.at(
                project.locate("prefer", name, key=True), "unknown-platform",
                f"prefer: no loaded plugin registers a platform or engine named '{name}'",
                hint=did_you_mean(name, provided)
                or "names: " + one_of(provided)))
        elif info is None:
            problems.append(Problem.at(
                project.locate("prefer", name), "unknown-plugin",
                f"prefer: '{name}' is to come from plugin '{winner}', which is not loaded",
                hint=did_you_mean(winner, by_name) or "plugins: " + one_of(
                    info.name for info in registry.plugins)))
        elif name not in (*info.platforms, *info.engines):
            offers = [*info.platforms, *info.engines]
            problems.append(Problem.at(
                project.locate("prefer", name), "unknown-plugin",
                f"prefer: plugin '{winner}' does not register '{name}'",
                hint=f"it registers {', '.join(offers)}" if offers else
                "it registers no platform or engine"))
    known = _plugin_names(project, registry)
    for index, name in enumerate(project.disable_plugins):
        if name not in known:
            problems.append(Problem.at(
                project.locate("disable_plugins", index), "unknown-plugin",
                f"disable_plugins: no plugin named '{name}' is installed or configured",
                hint=did_you_mean(name, known) or "`kpiframe plugins` lists plugin names"))
    return problems


def _plugin_names(project: Project, registry: Registry) -> set[str]:
    """Every plugin name a project may disable: loaded, failed, installed or configured."""
    import importlib.metadata

    from kpiframe.hookspecs import DEFAULT_PLUGINS, GROUP

    names = {name for info in registry.plugins for name in info.names}
    names |= {failure.plugin for failure in registry.failures} | set(registry.skipped)
    for ep in importlib.metadata.entry_points(group=GROUP):
        dist = getattr(ep, "dist", None)
        names |= {ep.name, ep.module, ep.value, dist.name if dist else ep.name}
    return names | set(DEFAULT_PLUGINS) | set(project.plugins)


# --------------------------------------------------------------------------- definitions


def existing_definitions(project: Project, allow_empty: bool) -> tuple[list[Path], list[Problem]]:
    """The project's definition paths that exist, and a problem for each one written in
    kpiframe.yaml that does not: an error, since a mistyped folder would otherwise give a
    clean, empty catalog; a warning when the user allows an empty catalog. The default
    folder may be missing when plugins ship the definitions (`nothing_to_load` decides)."""
    found: list[Path] = []
    problems: list[Problem] = []
    for index, path in enumerate(project.definition_paths()):
        if path.exists() or path.is_symlink():  # a broken link is reported as unreadable
            found.append(path)
        elif project.configures_definitions:
            problems.append(Problem.at(
                project.definitions_location(index), "definitions-not-found",
                f"definitions: no such file or folder: {display(path)}",
                severity="warning" if allow_empty else "error",
                hint=_near(path) or "a path relative to the folder of kpiframe.yaml"))
    return found, problems


def nothing_to_load(project: Project, looked: Sequence[Path] | None) -> Problem:
    """The error for a catalog with no definition files: where kpiframe looked (`looked`;
    None for the project's definitions) and what it found there."""
    where: Location | None = None
    paths = list(looked) if looked is not None else project.definition_paths()
    if looked is None and project.configures_definitions:
        where = project.definitions_location(0)
    shown = ", ".join(display(p) for p in paths) or "no paths"
    if not paths:
        detail = "no definition paths were given"
    elif not any(p.exists() for p in paths):
        detail = f"no such file or folder: {shown}"
    else:
        detail = f"no *.yaml or *.yml files in {shown}"
    hint = "add *.yaml KPI definitions there"
    if looked is None and not project.configures_definitions:
        hint = ("create definitions/ with *.yaml KPI files, or set `definitions:` in "
                f"{FILENAME}")
        near = _near(paths[0]) if paths and not paths[0].exists() else None
        hint = f"{near}; {hint}" if near else hint
    return Problem.at(where, "empty-catalog", f"no KPI definitions to load: {detail}",
                      hint=hint + "; --allow-empty accepts an empty catalog")


def _near(path: Path) -> str | None:
    """A did-you-mean for a missing path, among its parent folder's entries."""
    try:
        siblings = [p.name for p in path.parent.iterdir()]
    except OSError:
        return None
    return did_you_mean(path.name, siblings)
