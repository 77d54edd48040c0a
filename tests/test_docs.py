"""The docs site's generated pages cover what they claim to, and the public docs stand alone.

`python3 dev.py test` builds the whole site with `mkdocs build --strict`; these tests call
the generator (scripts/docs_gen.py) directly, without charts, so they stay fast. The
expectations are read from the sources independently: the schemas' JSON and the
definition files' YAML, not the generator's own walk.
"""

from __future__ import annotations

import importlib.util
import json
import re
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
SCHEMAS = sorted((ROOT / "kpiframe" / "schema").glob("*.schema.json"))
REFERENCE = {"kpiframe.schema.json": "reference/definitions.md",
             "project.schema.json": "reference/project.md"}


@pytest.fixture(scope="module")
def docs_gen() -> ModuleType:
    spec = importlib.util.spec_from_file_location("docs_gen", ROOT / "scripts" / "docs_gen.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules["docs_gen"] = module  # its dataclass resolves annotations through it
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def schema_pages(docs_gen: ModuleType) -> dict[str, str]:
    result: dict[str, str] = docs_gen.schema_pages()
    return result


@pytest.fixture(scope="module")
def kpi_pages(docs_gen: ModuleType) -> dict[str, str]:
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("KPIFRAME_DOCS_CHARTS", "0")
        result: dict[str, str] = docs_gen.catalog_pages()
    return result


def _property_groups(node: Any) -> Iterator[set[str]]:
    """The property names of every object the schema declares, wherever it is nested."""
    if isinstance(node, dict):
        props = node.get("properties")
        if isinstance(props, dict):
            named = {k for k, v in props.items() if v is not True}
            if named:
                yield named
        for value in node.values():
            yield from _property_groups(value)
    elif isinstance(node, list):
        for value in node:
            yield from _property_groups(value)


def _tables(markdown: str) -> dict[str, set[str]]:
    """Heading -> the first cells (`property`) of the table rows under it."""
    out: dict[str, set[str]] = {}
    heading = ""
    for line in markdown.splitlines():
        if line.startswith("## "):
            heading = line[3:]
            out[heading] = set()
        match = re.match(r"\| `([^`]+)` \|", line)
        if match and heading:
            out[heading].add(match.group(1))
    return out


@pytest.mark.parametrize("schema", SCHEMAS, ids=lambda p: p.name)
def test_the_reference_lists_every_property_of_the_schema(
        schema: Path, schema_pages: dict[str, str]) -> None:
    page = schema_pages[REFERENCE[schema.name]]
    tables = _tables(page)
    groups = list(_property_groups(json.loads(schema.read_text("utf-8"))))
    assert groups
    for group in groups:
        holders = [h for h, rows in tables.items() if group <= rows]
        assert holders, f"no table of {REFERENCE[schema.name]} lists all of {sorted(group)}"


def test_the_reference_is_generated_from_the_schema_not_written_by_hand(
        docs_gen: ModuleType) -> None:
    """A property added to the schema shows up in the reference with its description."""
    schema = json.loads((ROOT / "kpiframe" / "schema" / "kpiframe.schema.json").read_text())
    schema["$defs"]["kpi"]["properties"]["freshly_added"] = {
        "type": "string", "description": "Added by the test."}
    rows = [row for table in docs_gen.schema_tables(schema, "The file") for row in table.rows]
    assert ("freshly_added", "string", False, "Added by the test.") in rows


def _standard_kpis() -> list[str]:
    names = []
    for path in sorted((ROOT / "definitions").glob("*.yaml")):
        doc = yaml.safe_load(path.read_text("utf-8")) or {}
        names += [k["name"] for k in doc.get("kpis") or []]
    return names


def test_there_is_a_page_per_standard_kpi(kpi_pages: dict[str, str],
                                          docs_gen: ModuleType) -> None:
    pages = kpi_pages
    names = _standard_kpis()
    assert len(names) > 100
    made = {p.removeprefix("kpis/").removesuffix(".md") for p in pages
            if p.startswith("kpis/") and p.endswith(".md")} - {"index"}
    assert made == set(names)
    index = pages["kpis/index.md"]
    in_nav = {page for section in docs_gen.nav_section() for pages_ in section.values()
              for page in ([pages_] if isinstance(pages_, str) else pages_)}
    for name in names:
        page = pages[f"kpis/{name}.md"]
        assert f"`{name}`" in page
        for heading in ("## Definition", "## Lineage", "## SQL"):
            assert heading in page, (name, heading)
        assert f"- name: {name}\n" in page, f"{name}: the definition as written is missing"
        assert re.search(r"^\s+SELECT$", page, re.M), f"{name}: no SQL"
        assert f"]({name}.md)" in index
        assert f"kpis/{name}.md" in in_nav


def test_a_kpi_page_shows_its_lineage(kpi_pages: dict[str, str]) -> None:
    page = kpi_pages["kpis/engagement_rate_by_reach.md"]
    lineage = page.split("## Lineage", 1)[1].split("## SQL", 1)[0]
    assert "[`post_reach`](post_reach.md)" in lineage
    assert "└─ post_reach  simple: sum(reach) over posts" in lineage


def test_the_site_serves_the_schema_at_the_url_the_readme_gives(
        schema_pages: dict[str, str], docs_gen: ModuleType) -> None:
    pages = schema_pages
    site = yaml.safe_load((ROOT / "mkdocs.yml").read_text("utf-8").split("\nhooks:")[0])
    assert site["site_url"] == docs_gen.SITE_URL
    readme = (ROOT / "README.md").read_text("utf-8")
    urls = re.findall(r"\$schema=(https://\S+)", readme)
    assert urls
    for url in urls:
        assert url.startswith(docs_gen.SITE_URL)
        served = url.removeprefix(docs_gen.SITE_URL)
        assert pages[served] == (ROOT / "kpiframe" / served).read_text("utf-8")
        assert json.loads(pages[served])["$id"] == url


def test_the_public_docs_cite_no_spec(schema_pages: dict[str, str],
                                      kpi_pages: dict[str, str]) -> None:
    pages = {**schema_pages, **kpi_pages}
    texts = {p.relative_to(ROOT).as_posix(): p.read_text("utf-8")
             for p in [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]}
    texts.update({f"(generated) {k}": v for k, v in pages.items()})
    cited = [name for name, text in texts.items() if re.search(r"\bSPEC\b|§", text)]
    assert not cited
