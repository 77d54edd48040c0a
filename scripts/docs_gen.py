"""Pages of the docs site that are generated at build time, so they cannot drift.

mkdocs loads this file as a hook (`hooks:` in mkdocs.yml). On every build it adds, without
writing anything into docs/:

- `reference/definitions.md` and `reference/project.md`: every property of the JSON
  Schemas of definition files and of `kpiframe.yaml`, read from kpiframe/schema/*.json;
- `schema/kpiframe.schema.json` and `schema/project.schema.json`: the schemas themselves,
  served at the URL the README gives editors;
- `kpis/<name>.md`: one page per KPI of the standard catalog (definition as written,
  lineage, SQL), built through kpiframe's Python API, and a nav section per theme;
- `kpis/charts/<name>.svg`, when `kpiframe.report` can render the KPI on sample data.

tests/test_docs.py calls the same functions, so a schema property or a KPI that the site
leaves out fails the tests, not a reader.
"""

from __future__ import annotations

import json
import logging
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from kpiframe.catalog import Catalog
    from kpiframe.definitions import Kpi

ROOT = Path(__file__).resolve().parent.parent
SCHEMAS = ROOT / "kpiframe" / "schema"
DEFINITIONS = ROOT / "definitions"
#: Where the site serves the schemas; the README and the schemas' `$id` give this URL.
SITE_URL = "https://kpiframe.github.io/kpiframe/"
#: The nav section the catalog's per-theme KPI pages are appended to.
CATALOG_SECTION = "Standard catalog"
#: Dialect and grain of the SQL shown on each KPI page.
SQL_DIALECT, SQL_GRAIN = "duckdb", "month"

log = logging.getLogger("mkdocs.hooks.docs_gen")

# --- the schema reference ---------------------------------------------------------------


@dataclass(frozen=True)
class Table:
    """One object of the schema: its heading, anchor, text and property rows."""

    title: str
    anchor: str
    text: str
    rows: tuple[tuple[str, str, bool, str], ...]  # property, type, required, description


def _cell(text: str) -> str:
    return " ".join(text.split()).replace("|", "\\|")


def _code(text: Any) -> str:
    body = str(text)
    return f"``{body}``" if "`" in body else f"`{body}`"


def _ref_name(ref: str) -> str:
    return ref.rsplit("/", 1)[-1]


def type_text(node: Any, anchors: dict[str, str]) -> str:
    """A property's type in a few words of markdown: `$ref`s link to their table."""
    if node is True:
        return "any"
    if not isinstance(node, dict):
        return ""
    if "$ref" in node:
        name = _ref_name(node["$ref"])
        return f"[{name}](#{anchors[name]})" if name in anchors else _code(name)
    if "const" in node:
        return _code(json.dumps(node["const"]))
    if "enum" in node:
        return "one of " + ", ".join(_code(v) for v in node["enum"])
    if "oneOf" in node or "anyOf" in node:
        return " or ".join(type_text(n, anchors) for n in node.get("oneOf") or node["anyOf"])
    kinds = node.get("type")
    kinds = [kinds] if isinstance(kinds, str) else list(kinds or [])
    parts: list[str] = []
    for kind in kinds:
        if kind == "array":
            items = node.get("items")
            parts.append(f"list of {type_text(items, anchors)}" if items else "list")
        elif kind == "object":
            values = node.get("additionalProperties")
            keys = node.get("propertyNames")
            if isinstance(values, dict) and not node.get("properties"):
                key = "name"
                if isinstance(keys, dict):
                    key = type_text({"type": "string", **keys} if "$ref" not in keys
                                    else keys, anchors).replace("string", "name", 1)
                parts.append(f"mapping of {key} to {type_text(values, anchors)}")
            else:
                parts.append("mapping")
        else:
            parts.append(kind)
    text = " or ".join(parts) or "any"
    limits = []
    if "pattern" in node:
        limits.append(f"matching {_code(node['pattern'])}")
    if "minimum" in node or "maximum" in node:
        limits.append(f"{node.get('minimum', '')}..{node.get('maximum', '')}")
    if node.get("minItems"):
        limits.append(f"at least {node['minItems']}")
    if node.get("uniqueItems"):
        limits.append("no duplicates")
    return text + (f" ({', '.join(limits)})" if limits else "")


def _anchor(title: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", title.lower()).strip("-")


def _nested(node: Any) -> dict[str, Any] | None:
    """The object schema inside a property (itself, or its items), if it has properties."""
    if not isinstance(node, dict):
        return None
    if node.get("properties"):
        return node
    items = node.get("items")
    if isinstance(items, dict) and items.get("properties"):
        return items
    return None


def _tables(title: str, node: dict[str, Any], text: str, path: str,
            anchors: dict[str, str], out: list[Table],
            skip: frozenset[str] = frozenset()) -> None:
    """`node`'s table, then one table per nested object property, depth first."""
    required = set(node.get("required") or ())
    props = {k: v for k, v in (node.get("properties") or {}).items()
             if v is not True and k not in skip}
    rows = []
    children: list[tuple[str, dict[str, Any], str]] = []
    for prop, spec in props.items():
        sub = _nested(spec)
        child_path = f"{path}.{prop}" if path else prop
        kind = type_text(spec, anchors)
        if sub is not None and sub is not spec:
            kind = f"list of [mappings](#{_anchor(child_path)})"
        elif sub is not None:
            kind = f"[mapping](#{_anchor(child_path)})"
        description = spec.get("description", "") if isinstance(spec, dict) else ""
        rows.append((prop, kind, prop in required, description))
        if sub is not None:
            children.append((child_path, sub, (spec.get("description", "") or
                                               sub.get("description", ""))))
    out.append(Table(title, _anchor(title), text, tuple(rows)))
    for child_path, sub, child_text in children:
        _tables(child_path, sub, child_text, child_path, anchors, out)


def _conditional_types(kpi: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    """(KPI type, schema of its own fields) for each `if type == X then ...` branch."""
    for branch in kpi.get("allOf") or ():
        const = (((branch.get("if") or {}).get("properties") or {}).get("type") or {})
        if "const" in const and isinstance(branch.get("then"), dict):
            yield str(const["const"]), branch["then"]


def _extra_rules(node: dict[str, Any]) -> list[str]:
    """Rules of a branch beyond its properties, in words (required-if, mutually exclusive)."""
    rules = []
    sub = node.get("if")
    if isinstance(sub, dict):
        conds = ", ".join(
            f"`{k}` is not {_code(v['not']['const'])}" if "not" in v else f"`{k}` is set"
            for k, v in (sub.get("properties") or {}).items() if isinstance(v, dict))
        needs = ", ".join(f"`{r}`" for r in (node.get("then") or {}).get("required") or ())
        if conds and needs:
            rules.append(f"When {conds}, {needs} is required.")
    forbid = (node.get("not") or {}).get("required")
    if forbid:
        rules.append("At most one of " + ", ".join(f"`{r}`" for r in forbid) + ".")
    return rules


def schema_tables(schema: dict[str, Any], root_title: str,
                  root_text: str = "") -> list[Table]:
    """Every object of a schema as a table: the root, each `$defs` entry, each KPI type."""
    defs: dict[str, Any] = schema.get("$defs") or {}
    anchors = {name: _anchor(name) for name in defs}
    out: list[Table] = []
    _tables(root_title, schema, root_text, "", anchors, out)
    # objects first, in the order the file's own keys name them, then the value types
    named = re.findall(r'"\$ref": "#/\$defs/([^"]+)"', json.dumps(schema.get("properties")))
    order = [*dict.fromkeys(n for n in named if n in defs), *defs]
    ordered = sorted(dict.fromkeys(order), key=lambda n: (not defs[n].get("properties"),
                                                          order.index(n)))
    for name in ordered:
        node = defs[name]
        if not isinstance(node, dict):
            continue
        if node.get("properties"):
            _tables(name, node, node.get("description", ""), name, anchors, out)
            for kind, branch in _conditional_types(node):
                text = " ".join([f"The fields of a KPI of `type: {kind}`, besides the "
                                 f"common ones above.", *_extra_rules(branch)])
                _tables(f"{name} of type {kind}", branch, text, f"{name}.{kind}", anchors,
                        out)
        else:
            text = " ".join(filter(None, [node.get("description", ""),
                                          f"Type: {type_text(node, anchors)}."]))
            out.append(Table(name, anchors[name], text, ()))
    return out


def schema_reference(file: str, title: str, intro: str) -> str:
    """The reference page of one schema file under kpiframe/schema/."""
    schema = json.loads((SCHEMAS / file).read_text("utf-8"))
    url = f"{SITE_URL}schema/{file}"
    out = [f"# {title}", "",
           f"<!-- generated by scripts/docs_gen.py from kpiframe/schema/{file} -->", "",
           intro, "",
           f"The schema itself (JSON Schema draft 2020-12) is served at <{url}>; "
           "`kpiframe schema` prints the same file.", ""]
    for table in schema_tables(schema, "The file", "A YAML mapping with these keys; any "
                               "other key is an error, with a did-you-mean."):
        out += [f"## {table.title} {{#{table.anchor}}}", ""]
        if table.text:
            out += [table.text, ""]
        if table.rows:
            out += ["| property | type | required | description |", "|---|---|---|---|"]
            for prop, kind, required, description in table.rows:
                out.append(f"| `{prop}` | {_cell(kind)} | {'yes' if required else ''} "
                           f"| {_cell(description)} |")
            out.append("")
    return "\n".join(out).rstrip() + "\n"


def schema_properties(schema: Any, path: str = "") -> Iterator[str]:
    """Every property name the schema declares anywhere (for the test)."""
    if isinstance(schema, dict):
        for key, value in schema.items():
            if key == "properties" and isinstance(value, dict):
                for prop, spec in value.items():
                    if spec is not True:
                        yield prop
            yield from schema_properties(value)
    elif isinstance(schema, list):
        for value in schema:
            yield from schema_properties(value)


# --- the standard catalog, one page per KPI ---------------------------------------------


@cache
def standard_catalog() -> Catalog:
    import kpiframe

    return kpiframe.load_catalog(str(DEFINITIONS), project=str(DEFINITIONS.parent))


def themes(catalog: Catalog) -> dict[str, list[str]]:
    """KPI names by definition file (in the catalog page's theme order)."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("catalog_docs", ROOT / "scripts" /
                                                  "catalog_docs.py")
    assert spec and spec.loader
    catalog_docs = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(catalog_docs)
    files: dict[str, list[str]] = {}
    for path in catalog_docs.definition_files(DEFINITIONS):
        title = catalog_docs.THEMES.get(path.stem, path.stem.replace("_", " ").title())
        files[title] = [k.name for k in catalog.kpis.values()
                        if Path(k.file).resolve() == path.resolve()]
    return {title: names for title, names in files.items() if names}


def _yaml_of(kpi: Kpi) -> str:
    """The KPI's definition exactly as written: its list item in the file."""
    lines = Path(kpi.file).read_text("utf-8").splitlines()
    start = kpi.node.pos.line - 1
    while start > 0 and not lines[start].lstrip().startswith("- "):
        start -= 1
    indent = len(lines[start]) - len(lines[start].lstrip())
    end = start + 1
    while end < len(lines):
        line = lines[end]
        stripped = line.lstrip()
        if stripped and (len(line) - len(stripped) <= indent) and not stripped.startswith("#"):
            break
        end += 1
    while end > start + 1 and not lines[end - 1].strip():
        end -= 1
    body = [line[indent:] if len(line) >= indent else line.lstrip() for line in
            lines[start:end]]
    return "\n".join(body)


def _fence(text: str, lang: str, indent: str = "") -> list[str]:
    ticks = "````" if "```" in text else "```"
    return [f"{indent}{ticks}{lang}", *(indent + line if line else "" for line in
                                        text.splitlines()), f"{indent}{ticks}"]


def _link_kpis(markdown: str, catalog: Catalog, own: str) -> str:
    """`other_kpi` in a description becomes a link to that KPI's page."""

    def link(match: re.Match[str]) -> str:
        word = match.group(1)
        if word in catalog.kpis and word != own:
            return f"[`{word}`]({word}.md)"
        return match.group(0)

    return re.sub(r"(?<![`\[])`([a-z][a-z0-9_]*)`(?![`\]])", link, markdown)


def kpi_page(catalog: Catalog, name: str, chart: str | None = None) -> str:
    from kpiframe import explain

    kpi = catalog.get(name)
    rel = Path(kpi.file).resolve().relative_to(ROOT).as_posix()
    facts = [f"`{kpi.type}`", *explain.facts(kpi)]
    out = [f"# {kpi.title}", "",
           f"<!-- generated by scripts/docs_gen.py from {rel} -->", "",
           f"`{kpi.name}` · " + " · ".join(facts), "",
           f"**Formula:** {_code(explain.formula(kpi))}", ""]
    if kpi.description:
        out += [_link_kpis(kpi.description.strip(), catalog, name), ""]
    if chart:
        out += ["## On sample data", "",
                f"![{kpi.title} by month, on generated sample data]"
                f"(charts/{name}.svg)", ""]
    out += ["## Definition", "", f"From `{rel}`:", "", *_fence(_yaml_of(kpi), "yaml"), ""]
    out += ["## Lineage", ""]
    if kpi.refs:
        links = ", ".join(f"[`{r}`]({r}.md)" for r in kpi.refs if r in catalog.kpis)
        out += [f"Built on {links}.", "",
                *_fence("\n".join([f"{name}  {kpi.type}: {explain.formula(kpi)}",
                                   *explain.lineage(catalog, name)]), "text"), ""]
    else:
        out += ["Read straight from the canonical data: it uses no other KPI.", ""]
    users = [k for k, other in catalog.kpis.items() if name in other.refs]
    if users:
        out += ["Used by " + ", ".join(f"[`{u}`]({u}.md)" for u in users) + ".", ""]
    sql = catalog.compile([name], dialect=SQL_DIALECT, grain=SQL_GRAIN)
    out += ["## SQL", "",
            f"`kpiframe compile {name} --grain {SQL_GRAIN} --dialect {SQL_DIALECT}` with "
            f"the platform plugins installed; `--dialect` gives any other engine's.", "",
            f'??? example "SQL ({SQL_DIALECT}, by {SQL_GRAIN})"', "",
            *_fence(sql, "sql", "    "), ""]
    out += [f"Query it: `kpiframe query {name} --grain month --by platform`.", ""]
    return "\n".join(out).rstrip() + "\n"


def catalog_index(catalog: Catalog, groups: dict[str, list[str]]) -> str:
    out = ["# KPIs, one page each", "",
           "<!-- generated by scripts/docs_gen.py from definitions/ -->", "",
           f"The {len(catalog.kpis)} KPIs of the standard catalog, each with its definition "
           "as written, its lineage and its SQL. [The catalog overview](../catalog.md) "
           "compares the variants theme by theme.", ""]
    for title, names in groups.items():
        out += [f"## {title}", "", "| KPI | label | type | unit |", "|---|---|---|---|"]
        for n in names:
            k = catalog.kpis[n]
            out.append(f"| [`{n}`]({n}.md) | {_cell(k.title)} | {k.type} | {k.unit or ''} |")
        out.append("")
    return "\n".join(out).rstrip() + "\n"


# --- charts, when `kpiframe report` can draw them -----------------------------------------


def charts(catalog: Catalog, names: list[str]) -> dict[str, str]:
    """One SVG per KPI (its monthly trend on generated sample data), by `kpiframe report`.

    The pages promise a chart, so when one cannot be drawn the build warns, which fails
    `mkdocs build --strict`. KPIFRAME_DOCS_CHARTS=0 leaves them out on purpose, for a
    quicker preview (`mkdocs serve`): drawing a hundred charts takes a few seconds."""
    if os.environ.get("KPIFRAME_DOCS_CHARTS", "1") == "0":
        return {}
    import tempfile

    out: dict[str, str] = {}
    try:
        from kpiframe import report
        from kpiframe.report import charts as drawing
        from kpiframe.sample import build

        with tempfile.TemporaryDirectory(prefix="kpiframe-docs-") as tmp:
            url = f"duckdb:///{Path(tmp, 'sample.duckdb').as_posix()}"
            build(url, scale=1, seed=42)
            made = report.build(catalog, names, engine=url, grain="month", last=12, by=[])
        for sec in made.sections:
            for data in sec.tiles:
                if data.periods and data.kpi.name in catalog.kpis:
                    spec = drawing.tile_spec(data, sec.dashboard.grain, "")
                    out[data.kpi.name] = drawing.svg(spec)
    except Exception as error:  # whatever broke, the build log says so once
        log.warning("docs_gen: KPI pages built without charts: %s", error)
        return {}
    missing = [n for n in names if n not in out]
    if missing:
        log.warning("docs_gen: no chart on sample data for %s", ", ".join(missing))
    return out


# --- what a build gets ------------------------------------------------------------------


@cache
def pages() -> dict[str, str]:
    """Every generated file of the site: path under the site -> content."""
    return {**schema_pages(), **catalog_pages()}


def schema_pages() -> dict[str, str]:
    """The two schema references, and the schemas themselves."""
    out: dict[str, str] = {
        "reference/definitions.md": schema_reference(
            "kpiframe.schema.json", "Reference: definition files",
            "Every key a definition file may have, generated from the JSON Schema that "
            "`kpiframe validate` checks files against. [Definitions and query "
            "semantics](../definitions.md) explains what each type computes."),
        "reference/project.md": schema_reference(
            "project.schema.json", "Reference: kpiframe.yaml",
            "Every setting of the project file, generated from its JSON Schema. [The project "
            "file](../project.md) explains what kpiframe checks and when."),
    }
    for file in sorted(SCHEMAS.glob("*.schema.json")):
        out[f"schema/{file.name}"] = file.read_text("utf-8")
    return out


def catalog_pages() -> dict[str, str]:
    """The KPI pages, their index and their charts."""
    out: dict[str, str] = {}
    catalog = standard_catalog()
    groups = themes(catalog)
    names = [n for group in groups.values() for n in group]
    drawn = charts(catalog, names)
    out["kpis/index.md"] = catalog_index(catalog, groups)
    for name in names:
        out[f"kpis/{name}.md"] = kpi_page(catalog, name, drawn.get(name))
    for name, svg in drawn.items():
        out[f"kpis/charts/{name}.svg"] = svg
    return out


def nav_section() -> list[Any]:
    catalog = standard_catalog()
    return [{"KPI pages": "kpis/index.md"},
            *({title: [f"kpis/{n}.md" for n in names]}
              for title, names in themes(catalog).items())]


# --- mkdocs hooks -------------------------------------------------------------------------


def on_config(config: Any) -> Any:
    """Append the per-theme KPI pages to the catalog's nav section."""
    for entry in config.get("nav") or ():
        if isinstance(entry, dict) and CATALOG_SECTION in entry:
            entry[CATALOG_SECTION] = [*entry[CATALOG_SECTION], *nav_section()]
    return config


def on_files(files: Any, config: Any) -> Any:
    from mkdocs.structure.files import File

    for path, content in pages().items():
        files.append(File.generated(config, path, content=content))
    return files
