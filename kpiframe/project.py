"""`kpiframe.yaml`: where definitions live, which engine runs them, which plugins and
platform layouts a project uses (SPEC §5). Optional: without it, the defaults apply."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from kpiframe import yamlsource
from kpiframe.platform import PlatformSettings
from kpiframe.problems import Location, Problem, did_you_mean

FILENAME = "kpiframe.yaml"
ENGINE_ENV = "KPIFRAME_ENGINE"
#: where `kpiframe demo` and `kpiframe sample-data` put their database by default
DEFAULT_ENGINE = "duckdb:///.kpiframe/sample.duckdb"
_KEYS = ("definitions", "engine", "plugins", "platforms")
_PLATFORM_KEYS = ("layout", "schema", "enabled")


@dataclass(frozen=True)
class Project:
    root: Path
    file: str | None = None
    definitions: tuple[str, ...] = ("definitions",)
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

    def engine_url(self, override: str | None = None) -> str:
        return override or os.environ.get(ENGINE_ENV) or self.engine or DEFAULT_ENGINE

    def definition_paths(self) -> list[Path]:
        return [self.root / p for p in self.definitions]


def display(path: Path | str) -> str:
    """A path as problems show it: relative to the working directory when inside it."""
    path = Path(path)
    try:
        return os.path.relpath(path) if path.is_absolute() else str(path)
    except ValueError:  # another drive on Windows
        return str(path)


def load_project(directory: Path | str | None = None) -> Project:
    root = Path(directory) if directory is not None else Path.cwd()
    path = root / FILENAME
    if not path.is_file():
        return Project(root=root)
    file = display(path)
    doc, problems = yamlsource.load(path.read_bytes(), file)
    if problems:
        return Project(root=root, file=file, problems=tuple(problems))
    if doc is None:
        return Project(root=root, file=file)
    found: list[Problem] = []

    def at(node: Any, key: str) -> Location:
        pos = node.key_pos.get(key, node.pos) if isinstance(node, yamlsource.YMap) else None
        return Location(file, pos.line if pos else 1, pos.column if pos else 1)

    def value_at(node: Any, key: str) -> Location:
        pos = node.value_pos.get(key, node.pos) if isinstance(node, yamlsource.YMap) else None
        return Location(file, pos.line if pos else 1, pos.column if pos else 1)

    if not isinstance(doc, dict):
        return Project(root=root, file=file, problems=(
            Problem.at(Location(file, 1, 1), "not-a-mapping",
                       f"{FILENAME} must be a mapping of settings",
                       hint="keys: " + ", ".join(_KEYS)),
        ))
    for key in doc:
        if key not in _KEYS:
            found.append(Problem.at(at(doc, key), "unknown-key", f"unknown setting '{key}'",
                                    hint=did_you_mean(str(key), _KEYS) or
                                    "settings: " + ", ".join(_KEYS)))

    def strings(key: str) -> tuple[str, ...] | None:
        value = doc.get(key)
        if value is None:
            return None
        if isinstance(value, str):
            value = [value]
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            found.append(Problem.at(value_at(doc, key), "wrong-type",
                                    f"'{key}' must be a list of strings"))
            return None
        return tuple(value)

    definitions = strings("definitions") or ("definitions",)
    plugins = strings("plugins") or ()
    engine = doc.get("engine")
    if engine is not None and not isinstance(engine, str):
        found.append(Problem.at(value_at(doc, "engine"), "wrong-type",
                                "'engine' must be an engine URL such as duckdb:///social.duckdb"))
        engine = None
    platforms: dict[str, PlatformSettings] = {}
    locations: dict[str, Location] = {}
    section = doc.get("platforms") or {}
    if not isinstance(section, dict):
        found.append(Problem.at(value_at(doc, "platforms"), "wrong-type",
                                "'platforms' must map platform names to settings"))
        section = {}
    for name, conf in section.items():
        locations[str(name)] = at(section, name)
        conf = conf or {}
        if not isinstance(conf, dict):
            found.append(Problem.at(value_at(section, name), "wrong-type",
                                    f"settings of platform '{name}' must be a mapping",
                                    hint="e.g. {layout: fivetran, schema: twitter_organic}"))
            continue
        for key in conf:
            if key not in _PLATFORM_KEYS:
                found.append(Problem.at(at(conf, key), "unknown-key",
                                        f"platform '{name}': unknown setting '{key}'",
                                        hint=did_you_mean(str(key), _PLATFORM_KEYS)
                                        or "settings: " + ", ".join(_PLATFORM_KEYS)))
        layout, schema, enabled = conf.get("layout"), conf.get("schema"), conf.get("enabled", True)
        if layout is not None and not isinstance(layout, str):
            found.append(Problem.at(value_at(conf, "layout"), "wrong-type",
                                    f"platform '{name}': 'layout' must be a string"))
            layout = None
        if schema is not None and not isinstance(schema, str):
            found.append(Problem.at(value_at(conf, "schema"), "wrong-type",
                                    f"platform '{name}': 'schema' must be a string"))
            schema = None
        if not isinstance(enabled, bool):
            found.append(Problem.at(value_at(conf, "enabled"), "wrong-type",
                                    f"platform '{name}': 'enabled' must be true or false"))
            enabled = True
        platforms[str(name)] = PlatformSettings(layout, schema, enabled)
    return Project(
        root=root,
        file=file,
        definitions=definitions,
        engine=engine,
        plugins=plugins,
        platforms=platforms,
        problems=tuple(found),
        platform_locations=locations,
    )
