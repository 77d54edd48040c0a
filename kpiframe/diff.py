"""`kpiframe diff BASE HEAD`: what a change to a catalog does to its KPIs' definitions.

A textual diff shows lines; reviewers need to know which numbers move. So KPIs are
compared as definitions: added, removed, renamed (same body under a new name), changed
(which fields, and whether the change reaches the numbers or only the docs), and
affected: unchanged KPIs whose compiled SQL changed because a KPI they are computed from
did. BASE and HEAD are catalog folders or git refs; without HEAD, BASE is compared with
the working tree.
"""

from __future__ import annotations

import dataclasses
import json
import shutil
import subprocess
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from kpiframe.definitions import Kpi
from kpiframe.problems import KpiframeError, Problem

if TYPE_CHECKING:
    from kpiframe.catalog import Catalog

#: fields that change what a KPI means to readers but not its numbers
PRESENTATION = ("label", "description", "owner", "tags", "meta", "direction", "target", "unit")


@dataclass
class KpiChange:
    kind: str  # added, removed, renamed, changed, affected
    name: str
    old_name: str | None = None
    fields: list[str] = field(default_factory=list)
    values: dict[str, tuple[Any, Any]] = field(default_factory=dict)
    via: list[str] = field(default_factory=list)
    where: str | None = None
    #: what changed: a "kpi", or a "dashboard" (which never moves a number)
    what: str = "kpi"

    @property
    def numbers(self) -> bool:
        """Whether the change can move the KPI's numbers."""
        if self.what != "kpi":
            return False
        if self.kind == "changed":
            return bool(self.via) or any(f not in PRESENTATION for f in self.fields)
        return self.kind in ("added", "removed", "affected")

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "name": self.name,
            "old_name": self.old_name,
            "fields": self.fields,
            "values": {k: {"base": a, "head": b} for k, (a, b) in self.values.items()},
            "via": self.via,
            "numbers": self.numbers,
            "where": self.where,
            "what": self.what,
        }


def _plain(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return value


def _fields(kpi: Kpi) -> dict[str, Any]:
    return {k: _plain(v) for k, v in kpi.node.items() if k != "name"}


def _where(kpi: Kpi) -> str:
    return f"{kpi.file}:{kpi.node.pos.line}"


def _dependencies(catalog: Catalog, name: str) -> set[str]:
    found: set[str] = set()
    stack = list(catalog.kpis[name].refs)
    while stack:
        ref = stack.pop()
        if ref in found:
            continue
        found.add(ref)
        if ref in catalog.kpis:
            stack.extend(catalog.kpis[ref].refs)
    return found


def _sql(catalog: Catalog, name: str) -> str:
    try:
        return catalog.compile([name], dialect="duckdb", grain="month")
    except KpiframeError as error:
        return "ERROR: " + "; ".join(p.message for p in error.problems)


def diff(base: Catalog, head: Catalog) -> list[KpiChange]:
    changes: list[KpiChange] = []
    removed = sorted(set(base.kpis) - set(head.kpis))
    added = sorted(set(head.kpis) - set(base.kpis))
    renamed: dict[str, str] = {}
    for old in removed:
        body = base.kpis[old].body()
        for new in added:
            if new not in renamed.values() and head.kpis[new].body() == body:
                renamed[old] = new
                break
    for old, new in renamed.items():
        before, after = _fields(base.kpis[old]), _fields(head.kpis[new])
        also = sorted(k for k in set(before) | set(after) if before.get(k) != after.get(k))
        changes.append(KpiChange("renamed", new, old, also,
                                 {k: (before.get(k), after.get(k)) for k in also},
                                 where=_where(head.kpis[new])))
    for name in added:
        if name not in renamed.values():
            changes.append(KpiChange("added", name, where=_where(head.kpis[name])))
    for name in removed:
        if name not in renamed:
            changes.append(KpiChange("removed", name, where=_where(base.kpis[name])))
    for name in sorted(set(base.kpis) & set(head.kpis)):
        before, after = _fields(base.kpis[name]), _fields(head.kpis[name])
        differ = sorted(k for k in set(before) | set(after) if before.get(k) != after.get(k))
        if differ:
            changes.append(KpiChange("changed", name, fields=differ,
                                     values={k: (before.get(k), after.get(k)) for k in differ},
                                     where=_where(head.kpis[name])))
    numeric = {c.name for c in changes
               if c.kind == "removed" or (c.kind == "changed" and c.numbers)}
    for name in sorted(set(base.kpis) & set(head.kpis)):
        via = sorted((_dependencies(head, name) | _dependencies(base, name)) & numeric)
        if not via:
            continue
        change = next((c for c in changes if c.kind == "changed" and c.name == name), None)
        if change is not None and change.numbers:
            change.via = via
        elif _sql(base, name) != _sql(head, name):
            if change is not None:
                change.via = via
            else:
                changes.append(KpiChange("affected", name, via=via,
                                         where=_where(head.kpis[name])))
    order = {"added": 0, "removed": 1, "renamed": 2, "changed": 3, "affected": 4}

    return [*sorted(changes, key=lambda c: (order[c.kind], c.name)),
            *dashboard_changes(base, head)]


# -- loading a side ------------------------------------------------------------------------


def _git(root: Path, *args: str) -> str:
    done = subprocess.run(["git", "-C", str(root), *args], capture_output=True, text=True)
    if done.returncode:
        raise KpiframeError(Problem("git-error", f"git {' '.join(args)}: "
                                    f"{done.stderr.strip() or 'failed'}"))
    return done.stdout


def load_side(spec: str, project_dir: str | None, plugins: Sequence[str],
              keep: list[Path]) -> Catalog:
    """A catalog from a folder, or from the project's definitions at a git ref.

    A side whose files do not load (a YAML error, a KPI the schema rejects) is an error:
    its KPIs would otherwise look removed, and a broken head would pass as a change."""
    if Path(spec).exists():
        return _loaded(spec, _load(spec, project_dir, plugins), None)
    folder, sides = _checkout(spec, project_dir, keep)
    return _loaded(spec, _load(sides, project_dir, plugins), folder)


def load_working_tree(project_dir: str | None, plugins: Sequence[str]) -> Catalog:
    """The project's definitions as they are on disk: the other side of `diff REF`."""
    from kpiframe.catalog import load_catalog

    return _loaded("the working tree", load_catalog(project=project_dir, plugins=plugins),
                   None)


def _load(paths: str | Sequence[Path], project_dir: str | None,
          plugins: Sequence[str]) -> Catalog:
    from kpiframe.catalog import load_catalog

    return load_catalog(paths if isinstance(paths, str) else list(paths), project=project_dir,
                        plugins=plugins)


def _loaded(spec: str, catalog: Catalog, folder: Path | None) -> Catalog:
    """The catalog, or an error with its load problems, located in the side's files (a git
    ref's as REF:path, not the temporary checkout)."""
    errors = [p for p in catalog.load_problems if p.is_error]
    if not errors:
        return catalog
    if folder is not None:
        errors = [_in_ref(p, spec, folder) for p in errors]
    errors.append(Problem(
        "diff-side-broken", f"'{spec}' does not load ({len(errors)} problem(s) above), so "
        "it cannot be compared", hint="fix the files, then diff again"))
    raise KpiframeError(errors)


def _in_ref(problem: Problem, spec: str, folder: Path) -> Problem:
    """A problem in the temporary checkout of ref `spec`, located as REF:path."""
    if not problem.file:
        return problem
    try:
        inside = Path(problem.file).resolve().relative_to(folder.resolve())
    except ValueError:
        return problem
    return dataclasses.replace(problem, file=f"{spec}:{inside.as_posix()}")


def _checkout(spec: str, project_dir: str | None,
              keep: list[Path]) -> tuple[Path, list[Path]]:
    """The project's definitions at git ref `spec`, written to a temporary folder."""
    from kpiframe.project import load_project

    project = load_project(project_dir)
    if shutil.which("git") is None:
        raise KpiframeError(Problem("not-found", f"'{spec}' is neither a folder nor a git ref "
                                    "(git is not installed)"))
    root = Path(project.root).resolve()
    top = Path(_git(root, "rev-parse", "--show-toplevel").strip())
    try:
        _git(top, "rev-parse", "--verify", "--quiet", f"{spec}^{{commit}}")
    except KpiframeError:
        raise KpiframeError(Problem(
            "unknown-ref", f"'{spec}' is neither a folder nor a git commit, branch or tag",
            hint="e.g. kpiframe diff origin/main HEAD, or two folders")) from None
    folder = Path(tempfile.mkdtemp(prefix="kpiframe-diff-"))
    keep.append(folder)
    paths = [str((root / p).resolve().relative_to(top)) for p in project.definitions]
    listed = _git(top, "ls-tree", "-r", "--name-only", spec, "--", *paths).splitlines()
    for name in listed:
        if not name.endswith((".yaml", ".yml")):
            continue
        target = folder / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(subprocess.run(["git", "-C", str(top), "show", f"{spec}:{name}"],
                                          capture_output=True, check=True).stdout)
    return folder, [folder / p for p in paths if (folder / p).exists()]


# -- rendering ----------------------------------------------------------------------------


def _text(value: Any) -> str:
    text = "—" if value is None else json.dumps(value) if not isinstance(value, str) else value
    return " ".join(text.split())


def _pair(base: Any, head: Any, limit: int = 60) -> tuple[str, str]:
    """Base and head as shown: whole when short; else both cut around the first place
    they differ, with … where text is left out, so a difference is never cut away."""
    a, b = _text(base), _text(head)
    if a == b and base != head:  # they differ in whitespace only: show it
        a, b = json.dumps(base), json.dumps(head)
    if len(a) <= limit and len(b) <= limit:
        return a, b
    same = 0
    while same < min(len(a), len(b)) and a[same] == b[same]:
        same += 1
    begin = max(0, same - limit // 4)

    def cut(text: str) -> str:
        if len(text) <= limit:
            return text
        start = min(begin, max(0, len(text) - limit))
        end = start + limit
        return ("…" if start else "") + text[start:end] + ("…" if end < len(text) else "")

    return cut(a), cut(b)


def describe(change: KpiChange) -> str:
    if change.what != "kpi":
        if change.kind != "changed":
            return f"{change.what} {change.kind}"
        return f"{change.what} changed (no numbers): " + "; ".join(
            f"{f}: {' → '.join(_pair(a, b))}" for f, (a, b) in change.values.items())
    if change.kind == "renamed":
        extra = f" (and {', '.join(change.fields)} changed)" if change.fields else ""
        return f"renamed {change.old_name} → {change.name}{extra}"
    if change.kind == "changed":
        own = any(f not in PRESENTATION for f in change.fields)
        kind = "numbers" if own else "docs only"
        parts = [f"{f}: {' → '.join(_pair(a, b))}" for f, (a, b) in change.values.items()]
        if change.via:
            parts.append("compiled SQL changed through " + ", ".join(change.via))
        return f"changed ({kind}): " + "; ".join(parts)
    if change.kind == "affected":
        return "compiled SQL changed through " + ", ".join(change.via)
    return change.kind


def text(changes: Sequence[KpiChange]) -> str:
    if not changes:
        return "no KPI changed"
    lines = [f"{c.name}: {describe(c)}" for c in changes]
    moved = sum(c.numbers for c in changes)
    boards = sum(c.what != "kpi" for c in changes)
    lines.append(f"{len(changes) - boards} KPI(s) differ; {moved} can change numbers"
                 + (f"; {boards} dashboard(s) differ" if boards else ""))
    return "\n".join(lines)


def markdown(changes: Sequence[KpiChange]) -> str:
    if not changes:
        return "### kpiframe: no KPI definitions changed\n"
    moved = sum(c.numbers for c in changes)
    out = [f"### kpiframe: {len(changes)} KPI(s) differ, {moved} can change numbers", ""]
    titles = {"added": "Added", "removed": "Removed", "renamed": "Renamed",
              "changed": "Changed", "affected": "Affected through a dependency"}
    for kind, title in titles.items():
        group = [c for c in changes if c.kind == kind and c.what == "kpi"]
        if not group:
            continue
        out.append(f"**{title}**")
        out.append("")
        if kind == "changed":
            out.append("| KPI | field | base | head | numbers |")
            out.append("|---|---|---|---|---|")
            for c in group:
                for f, (a, b) in c.values.items():
                    base, head = (_cell(t) for t in _pair(a, b, 40))
                    out.append(f"| `{c.name}` | `{f}` | {base} | {head} | "
                               f"{'yes' if f not in PRESENTATION else 'no'} |")
        else:
            for c in group:
                out.append(f"- `{c.name}`: {describe(c)}" if kind in ("renamed", "affected")
                           else f"- `{c.name}` ({c.where})")
        out.append("")
    boards = [c for c in changes if c.what != "kpi"]
    if boards:
        out += ["**Dashboards**", "", *(f"- `{c.name}` ({c.where}): {_cell(describe(c))}"
                                       for c in boards), ""]
    return "\n".join(out)


def _cell(text: str) -> str:
    return text.replace("|", "\\|")


def as_json(changes: Sequence[KpiChange]) -> str:
    return json.dumps({"changes": [c.to_dict() for c in changes],
                       "numbers_changed": sum(c.numbers for c in changes)}, indent=2)


FORMATS = {"text": text, "markdown": markdown, "json": as_json}


def dashboard_changes(base: Catalog, head: Catalog) -> list[KpiChange]:
    """Dashboards added, removed or changed between two catalogs (`kpiframe diff`); a
    dashboard changes what people look at, never a number."""
    from kpiframe.dashboards import of, where

    before, after = of(base), of(head)
    found: list[KpiChange] = []
    for name in sorted(set(after) - set(before)):
        found.append(KpiChange("added", name, where=where(after[name]), what="dashboard"))
    for name in sorted(set(before) - set(after)):
        found.append(KpiChange("removed", name, where=where(before[name]), what="dashboard"))
    for name in sorted(set(before) & set(after)):
        old, new = before[name].body(), after[name].body()
        differ = sorted(k for k in set(old) | set(new) if old.get(k) != new.get(k))
        if differ:
            found.append(KpiChange("changed", name, fields=differ,
                                   values={k: (old.get(k), new.get(k)) for k in differ},
                                   where=where(after[name]), what="dashboard"))
    return found
