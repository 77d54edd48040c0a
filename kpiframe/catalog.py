"""The catalog: every KPI of a project, loaded from YAML, with what plugins provide.

load → validate → resolve → compile → execute → render: this module is the first stage
and the facade over the others, so the CLI stays a thin shell over the Python API.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

from kpiframe import dashboards, schema, yamlsource
from kpiframe.definitions import Kpi, build, unknown_kpi
from kpiframe.plugins import ActivePlatform, Registry, load_registry
from kpiframe.problems import KpiframeError, Location, Problem, did_you_mean
from kpiframe.project import (
    Project,
    ProjectError,
    display,
    existing_definitions,
    load_project,
    nothing_to_load,
    plugin_problems,
    read_source,
    refuse,
    unreadable,
)
from kpiframe.yamlsource import YMap

if TYPE_CHECKING:
    import datetime as dt

    from kpiframe.compiler.plan import Plan
    from kpiframe.compiler.request import Request
    from kpiframe.dashboards import Dashboard
    from kpiframe.resolve import ResolvedCatalog
    from kpiframe.run import Rows

SUFFIXES = (".yaml", ".yml")
_IGNORE = re.compile(r"#\s*kpiframe:\s*ignore(?:\[([a-z0-9_,\s-]+)\])?")


@dataclass
class DefinitionFile:
    path: Path
    display: str
    plugin: str | None = None
    kpis: list[Kpi] = field(default_factory=list)
    #: KPI unit tests (`tests:`), schema-valid, as their located YAML mappings
    tests: list[YMap] = field(default_factory=list)
    #: names of KPIs whose definition is broken, so references to them are not "unknown"
    broken: set[str] = field(default_factory=set)
    #: those of them found in the text of a file that does not parse (not counted as
    #: checked KPIs: the file was never read as definitions)
    unparsed: set[str] = field(default_factory=set)
    problems: list[Problem] = field(default_factory=list)
    #: dashboards (`dashboards:`), schema-valid (kpiframe.dashboards)
    dashboards: list[Dashboard] = field(default_factory=list)


def _expand(paths: Iterable[Path | str], problems: list[Problem]) -> list[Path]:
    """The definition files named by files and folders. Every *.yaml entry is kept even
    when it is not a readable regular file (`read_file` says why), and every folder that
    cannot be listed goes to `problems`: nothing is skipped silently."""
    found: list[Path] = []
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            found.extend(_walk(path, problems))
        elif path.exists() or path.is_symlink():
            found.append(path)
        else:
            raise ProjectError(
                Problem(
                    "path-not-found",
                    f"no such file or folder: {display(path)}",
                    hint="pass definition files or folders of *.yaml files",
                )
            )
    return found


def _real(path: Path) -> Path:
    try:
        return path.resolve()
    except OSError:  # a link loop: its own name, then
        return path.absolute()


def _walk(folder: Path, problems: list[Problem]) -> list[Path]:
    """*.yaml and *.yml entries under `folder`, sorted, following links to folders once
    (a link loop ends where it starts over)."""
    found: list[Path] = []
    seen: set[tuple[int, int]] = set()
    pending = [folder]
    while pending:
        current = pending.pop()
        try:
            status = current.stat()
            if (status.st_dev, status.st_ino) in seen:
                continue
            seen.add((status.st_dev, status.st_ino))
            with os.scandir(current) as listing:
                entries = list(listing)
        except OSError as exc:
            problems.append(unreadable(current, exc, "folder"))
            continue
        for entry in entries:
            try:
                is_dir = entry.is_dir()
            except OSError:
                is_dir = False
            if is_dir:
                pending.append(Path(entry.path))
            elif Path(entry.name).suffix in SUFFIXES:
                found.append(Path(entry.path))
    return sorted(found)


def read_file(path: Path, plugin: str | None = None) -> DefinitionFile:
    shown = display(path)
    result = DefinitionFile(path, shown, plugin)
    try:
        data = read_source(path)
    except OSError as exc:
        result.problems.append(unreadable(path, exc))
        return result
    doc, problems = yamlsource.load(data, shown)
    if problems:
        result.problems.extend(problems)
        # the KPIs of a file that does not parse are broken, not unknown: a reference to
        # one is not reported again as `unknown-kpi` with a misleading did-you-mean
        result.unparsed = names_in_text(data)
        result.broken |= result.unparsed
        return result
    if doc is None:
        result.problems.append(Problem.at(
            Location(shown, 1, 1), "empty-file", "definition file is empty",
            hint="start it with `kpis:` and a list of KPIs, or delete it"))
        return result
    if not isinstance(doc, dict):
        pos = getattr(doc, "pos", None)
        result.problems.append(Problem.at(
            Location(shown, pos.line if pos else 1, pos.column if pos else 1),
            "not-a-mapping",
            f"a definition file must be a mapping with a `kpis:` list, not {_kind(doc)}",
            hint="start the file with `kpis:`"))
        return result
    found, broken = schema.validate(doc, shown)
    result.problems.extend(found)
    items = doc.get("kpis")
    for index, item in enumerate(items if isinstance(items, list) else []):
        if ("kpis", index) in broken:
            if isinstance(item, dict) and isinstance(item.get("name"), str):
                result.broken.add(item["name"])
            continue
        result.kpis.append(build(item, shown, plugin))
    tests = doc.get("tests")
    for index, item in enumerate(tests if isinstance(tests, list) else []):
        if ("tests", index) not in broken:
            result.tests.append(item)
    result.dashboards = dashboards.read(doc, shown, plugin)
    return result


#: `kpis:` at the top level, and a `name:` line in it (`- name: x` or `  name: x`)
_TOP_KEY = re.compile(r"^([A-Za-z_][\w-]*)\s*:")
_NAME_LINE = re.compile(r"^\s+(?:-\s+)?name\s*:\s*['\"]?([a-z][a-z0-9_]*)['\"]?\s*(?:#.*)?$")


def names_in_text(data: bytes) -> set[str]:
    """The KPI names a definition file's text declares, read line by line without
    parsing it: for a file whose YAML is broken, whose KPIs are then known to exist."""
    names: set[str] = set()
    section = None
    for line in data.decode("utf-8", errors="replace").splitlines():
        top = _TOP_KEY.match(line)
        if top:
            section = top.group(1)
            continue
        if section == "kpis":
            found = _NAME_LINE.match(line)
            if found:
                names.add(found.group(1))
    return names


def _kind(value: object) -> str:
    if isinstance(value, list):
        return "a list"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, (int, float)):
        return "a number"
    return f"a {type(value).__name__}"


class _Kpis(dict[str, Kpi]):
    """The catalog's KPIs by name, counting its changes, so the frozen ResolvedCatalog
    built from them is rebuilt after one rather than answering from stale KPIs."""

    version = 0

    def __setitem__(self, key: str, value: Kpi) -> None:
        self.version += 1
        super().__setitem__(key, value)

    def __delitem__(self, key: str) -> None:
        self.version += 1
        super().__delitem__(key)

    def pop(self, *args: Any) -> Any:  # type: ignore[override]
        self.version += 1
        return super().pop(*args)

    def popitem(self) -> tuple[str, Kpi]:
        self.version += 1
        return super().popitem()

    def update(self, *args: Any, **kwargs: Any) -> None:  # type: ignore[override]
        self.version += 1
        super().update(*args, **kwargs)

    def setdefault(self, key: str, default: Kpi) -> Kpi:  # type: ignore[override]
        self.version += 1
        return super().setdefault(key, default)

    def clear(self) -> None:
        self.version += 1
        super().clear()

    def __ior__(self, other: Any) -> _Kpis:  # type: ignore[override,misc]
        self.version += 1
        return super().__ior__(other)  # type: ignore[no-any-return]


class Catalog:
    """A set of KPI definitions and the plugins they are resolved against."""

    def __init__(
        self,
        files: Sequence[DefinitionFile],
        project: Project,
        registry: Registry,
    ) -> None:
        self.files = list(files)
        self.project = project
        self.registry = registry
        self.kpis: dict[str, Kpi] = _Kpis()
        self.load_problems: list[Problem] = list(project.problems)
        self.broken: set[str] = set()
        self.unparsed: set[str] = set()
        self._lines: dict[str, list[str]] = {}
        first: dict[str, Kpi] = {}
        for file in self.files:
            self.load_problems.extend(file.problems)
            self.broken |= file.broken
            self.unparsed |= file.unparsed
            for kpi in file.kpis:
                earlier = first.get(kpi.name)
                if earlier is None:
                    first[kpi.name] = kpi
                    self.kpis[kpi.name] = kpi
                elif (earlier.plugin is None) != (kpi.plugin is None):
                    # the project's own definition wins over the one a plugin ships
                    own, shipped = (kpi, earlier) if kpi.plugin is None else (earlier, kpi)
                    self.load_problems.append(Problem.at(
                        own.key_loc("name"), "overridden-kpi",
                        f"KPI '{kpi.name}' overrides the one plugin '{shipped.plugin}' ships "
                        f"in {shipped.file}",
                        kpi=kpi.name, severity="warning",
                        hint="rename it to keep both, or delete it to use the plugin's"))
                    first[kpi.name] = own
                    self.kpis[kpi.name] = own
                else:
                    where = earlier.key_loc("name")
                    self.load_problems.append(Problem.at(
                        kpi.key_loc("name"), "duplicate-kpi",
                        f"KPI '{kpi.name}' is already defined at {where}",
                        kpi=kpi.name, hint="KPI names are unique across the whole catalog"))

    # -- lookups ----------------------------------------------------------------------

    def __contains__(self, name: object) -> bool:
        return name in self.kpis

    def __iter__(self) -> Any:
        return iter(self.kpis.values())

    def __len__(self) -> int:
        return len(self.kpis)

    def get(self, name: str) -> Kpi:
        try:
            return self.kpis[name]
        except KeyError:
            self._refuse_unparsed([name])
            raise unknown_kpi(name, self.kpis) from None

    @cached_property
    def platforms(self) -> dict[str, ActivePlatform]:
        """The platforms this project uses: enabled, each in its configured layout."""
        return self.registry.active(self.project.platforms)

    @property
    def resolved(self) -> ResolvedCatalog:
        """Stage 2: the KPIs and active platforms, frozen, for planning and SQL. Built
        once, and again only if `kpis` was changed since (a Python caller may)."""
        from kpiframe.resolve import resolve

        kpis = self.kpis
        version = kpis.version if isinstance(kpis, _Kpis) else None
        cached = self.__dict__.get("_resolved")
        if cached is None or version is None or cached[0] != version:
            cached = (version, resolve(self))
            self.__dict__["_resolved"] = cached
        return cached[1]

    def _refuse_unparsed(self, names: Sequence[str] | str) -> None:
        """Stop with the files' own errors when `names`, or a KPI they are computed from,
        is defined in a file that does not parse: "no KPI named ..." would send the user
        looking for a typo that is not there."""
        if not self.unparsed:
            return
        from kpiframe.compiler.request import needed

        _, referred = needed(self, [names] if isinstance(names, str) else names)
        if any(name in self.unparsed and name not in self.kpis for name in referred):
            raise KpiframeError([p for f in self.files if f.unparsed for p in f.problems])

    # -- validation ---------------------------------------------------------------------

    def validate(self) -> list[Problem]:
        """Every problem in the catalog: YAML, schema, semantics, plugins. Sorted by place."""
        with collecting_later():
            return self._validate()

    def _validate(self) -> list[Problem]:
        from kpiframe import checks, kpitests

        problems = list(self.load_problems)
        # load_catalog refuses these; a Catalog built directly is checked the same way
        problems.extend(plugin_problems(self.project, self.registry))
        problems.extend(checks.run(self))
        problems.extend(kpitests.check(self))
        problems.extend(dashboards.check(self))
        problems.extend(self.registry.validate(self, problems))
        problems.extend(self.registry.problems)
        unique = [p for p in dict.fromkeys(problems) if not self._ignored(p)]
        return sorted(unique, key=Problem.sort_key)

    def _ignored(self, problem: Problem) -> bool:
        """A warning silenced on its line: `# kpiframe: ignore[rule]` (ruff's noqa)."""
        if problem.is_error or not problem.file or not problem.line:
            return False
        lines = self._lines.get(problem.file)
        if lines is None:
            try:
                lines = Path(problem.file).read_text("utf-8", errors="replace").splitlines()
            except OSError:
                lines = []
            self._lines[problem.file] = lines
        if problem.line > len(lines):
            return False
        match = _IGNORE.search(lines[problem.line - 1])
        if not match:
            return False
        rules = match.group(1)
        return rules is None or problem.rule in {r.strip() for r in rules.split(",")}

    # -- compile & query ----------------------------------------------------------------

    def refuse_broken_plugins(self) -> None:
        """No SQL and no numbers while a plugin failed: without what it provides (a
        platform, an engine, KPIs) an answer would look complete and be wrong."""
        if self.registry.problems:
            raise KpiframeError(self.registry.problems)

    def request(
        self,
        kpis: Sequence[str] | str,
        grain: str | None = None,
        by: Sequence[str] = (),
        where: str | None = None,
        start: dt.date | str | None = None,
        end: dt.date | str | None = None,
        platforms: Sequence[str] | str | None = None,
    ) -> Request:
        """A checked request: what `compile`, `plan` and `query` answer. Refused, with
        the located problems, while a plugin failed or a KPI it needs is broken."""
        from kpiframe.compiler import make_request

        self.refuse_broken_plugins()
        self._refuse_unparsed(kpis)
        return make_request(self, kpis, grain, by, where, start, end, platforms)

    def compile(
        self,
        kpis: Sequence[str] | str,
        dialect: str = "duckdb",
        grain: str | None = None,
        by: Sequence[str] = (),
        where: str | None = None,
        start: dt.date | str | None = None,
        end: dt.date | str | None = None,
        platforms: Sequence[str] | str | None = None,
        pretty: bool = True,
    ) -> str:
        """The SQL of one query computing `kpis`, for a sqlglot dialect."""
        from kpiframe.compiler import compile_query
        from kpiframe.gcpause import gc_paused

        with gc_paused():  # one collection after the whole compile (kpiframe/gcpause.py)
            request = self.request(kpis, grain, by, where, start, end, platforms)
            return compile_query(self.resolved, request, _dialect(dialect)).sql(pretty=pretty)

    def plan(
        self,
        kpis: Sequence[str] | str,
        grain: str | None = None,
        by: Sequence[str] = (),
        where: str | None = None,
        start: dt.date | str | None = None,
        end: dt.date | str | None = None,
        platforms: Sequence[str] | str | None = None,
    ) -> Plan:
        """The logical plan of a query: what `compile` writes as SQL
        (`kpiframe.compiler.explain_plan.describe` prints it)."""
        from kpiframe.compiler.planner import plan_query

        return plan_query(self.resolved,
                          self.request(kpis, grain, by, where, start, end, platforms))

    def query(
        self,
        kpis: Sequence[str] | str,
        grain: str | None = None,
        by: Sequence[str] = (),
        where: str | None = None,
        start: dt.date | str | None = None,
        end: dt.date | str | None = None,
        platforms: Sequence[str] | str | None = None,
        engine: str | None = None,
        targets: bool = True,
    ) -> Rows:
        """Run `kpis` on an engine (default: the project's); rows as dicts. After each KPI
        with a target come `<kpi>.target`, `<kpi>.attainment` and `<kpi>.status`
        (docs/targets.md) unless `targets` is False."""
        from kpiframe.run import run

        request = self.request(kpis, grain, by, where, start, end, platforms)
        url = self.project.engine_url(engine)
        if targets:
            from kpiframe.targets import run_with_targets

            return run_with_targets(self, request, url)
        return run(self, request, url)


def _dialect(name: str) -> str:
    from kpiframe.dialect_names import dialect_names, is_dialect

    if not is_dialect(name):
        known = dialect_names()
        raise KpiframeError(Problem(
            "unknown-dialect", f"sqlglot has no dialect '{name}'",
            hint=did_you_mean(name, known) or "dialects: " + ", ".join(known)))
    return name


def collecting_later() -> AbstractContextManager[None]:
    """No cycle collection while a catalog is loaded or validated; the usual collections
    resume afterwards. Loading builds hundreds of thousands of small, long-lived, acyclic
    objects (the located YAML trees), and the collector's full passes over them, again
    and again as they grew, were a third of loading a 10,000-KPI catalog."""
    from kpiframe.gcpause import gc_paused

    return gc_paused()


def load_catalog(
    paths: str | os.PathLike[str] | Sequence[str | os.PathLike[str]] | None = None,
    *,
    project: Project | str | os.PathLike[str] | None = None,
    plugins: Sequence[str] = (),
    allow_empty: bool = False,
) -> Catalog:
    """Load KPI definitions (files or folders; default: the project's `definitions`).

    Raises ProjectError when kpiframe.yaml has an error (also one only loaded plugins can
    find, such as an unknown layout), and when there is nothing to load: a definitions
    path that does not exist, or no definition files at all. `allow_empty` accepts an
    empty catalog instead (a missing path in kpiframe.yaml is then a warning)."""
    with collecting_later():
        return _load_catalog(paths, project, plugins, allow_empty)


def _load_catalog(
    paths: str | os.PathLike[str] | Sequence[str | os.PathLike[str]] | None,
    project: Project | str | os.PathLike[str] | None,
    plugins: Sequence[str],
    allow_empty: bool,
) -> Catalog:
    proj = project if isinstance(project, Project) else load_project(
        os.fspath(project) if project is not None else None)
    refuse(proj.problems)
    registry = load_registry((*proj.plugins, *plugins), disable=proj.disable_plugins,
                             prefer=proj.prefer)
    refuse(plugin_problems(proj, registry))
    problems: list[Problem] = []
    looked: list[Path] | None = None
    if paths is None:
        chosen, missing = existing_definitions(proj, allow_empty)
        refuse(missing)
        problems.extend(missing)
    elif isinstance(paths, (str, os.PathLike)):
        chosen = looked = [Path(paths)]
    else:
        chosen = looked = [Path(p) for p in paths]
    files: list[DefinitionFile] = []
    own = _expand(chosen, problems)
    # a plugin file that is one of the project's own files on disk (a checkout with the
    # standard catalog's package installed from it) is read once, as the project's
    own_real = {_real(p) for p in own}
    for plugin, raw in registry.definition_files:
        for path in _expand([raw], problems):
            if _real(path) not in own_real:
                files.append(read_file(path, plugin))
    for path in own:
        files.append(read_file(path))
    if not allow_empty and not problems and not any(
            f.kpis or f.tests or f.broken or f.problems for f in files):
        raise ProjectError(nothing_to_load(proj, looked))
    catalog = Catalog(files, proj, registry)
    catalog.load_problems.extend(problems)
    return catalog
