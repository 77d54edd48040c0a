#!/usr/bin/env python3
"""Generate docs/catalog.md, the human page of the standard KPI catalog, from definitions/.

    python scripts/catalog_docs.py           # write docs/catalog.md
    python scripts/catalog_docs.py --check   # exit 1 if docs/catalog.md is out of date

The page is built from the YAML alone (no plugins, no database), so it is the same on
every machine; tests/test_standard_catalog.py fails when it is stale.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parent.parent
DEFINITIONS = ROOT / "definitions"
OUTPUT = ROOT / "docs" / "catalog.md"

#: Themes in reading order, with their titles; other files follow, by name.
THEMES = {
    "publishing": "Publishing",
    "engagement": "Engagement",
    "reach": "Reach and visibility",
    "audience": "Audience",
    "listening": "Social listening",
    "care": "Customer care",
    "web": "Web traffic and conversions",
    "trends": "Trends: rolling, to-date and period-over-period",
}
SCHEMA_COMMENT = "# yaml-language-server:"
TIMES, DIVIDED, NONE = "\u00d7", "\u00f7", "\u2013"


def test_files(folder: Path = DEFINITIONS) -> list[Path]:
    """Files with KPI unit tests (`tests:`), wherever they are under the folder."""
    found = []
    for path in sorted(folder.rglob("*.y*ml")):
        doc = yaml.safe_load(path.read_text("utf-8")) or {}
        if isinstance(doc, dict) and doc.get("tests"):
            found.append(path)
    return found


def _tests_section(files: Iterable[Path]) -> list[str]:
    out = [
        "## KPI unit tests",
        "",
        "The catalog pins the semantics its descriptions promise with unit tests: fixture "
        "rows in, expected values out, worked out by hand (`kpiframe test`, see "
        "[ci.md](ci.md)).",
        "",
        "| test | KPIs | what it pins |",
        "|---|---|---|",
    ]
    for path in files:
        rel = path.relative_to(ROOT).as_posix()
        for test in (yaml.safe_load(path.read_text("utf-8")) or {}).get("tests") or []:
            kpis = ", ".join(f"[`{k}`](#{k})" for k in test.get("kpis") or [])
            what = " ".join(str(test.get("description", "")).split()).replace("|", "\\|")
            out.append(f"| `{test['name']}` (`{rel}`) | {kpis} | {what} |")
    return [*out, ""]


def definition_files(folder: Path = DEFINITIONS) -> list[Path]:
    files = sorted(p for p in folder.glob("*.y*ml") if p.suffix in (".yaml", ".yml"))
    order = list(THEMES)
    return sorted(files, key=lambda p: (order.index(p.stem) if p.stem in order else len(order),
                                        p.name))


def header_comment(text: str) -> str:
    """The file's leading comment block, minus the schema line, as plain text."""
    lines: list[str] = []
    for line in text.splitlines():
        if not line.startswith("#"):
            break
        if line.startswith(SCHEMA_COMMENT):
            continue
        lines.append(line[1:].removeprefix(" "))
    return "\n".join(lines).strip()


def _code(text: Any) -> str:
    """Inline code, safe for a markdown table cell."""
    body = " ".join(str(text).split()).replace("|", "\\|")
    fence = "``" if "`" in body else "`"
    return f"{fence}{body}{fence}"


def _number(value: Any) -> str:
    return f"{float(value):g}"


def _weights(weights: dict[str, Any]) -> str:
    return " + ".join(f"{k}{TIMES}{_number(v)}" for k, v in weights.items())


def formula(kpi: dict[str, Any]) -> str:
    """The definition as one line of markdown."""
    kind = kpi["type"]
    if kind == "simple":
        call = "{}({})".format(kpi["agg"], kpi.get("expr", "*"))
        text = f"{_code(call)} over `{kpi['source']}`"
        if kpi["agg"] == "last":
            text += " (latest value per entity in the period, summed over entities)"
    elif kind == "weighted":
        weights = kpi.get("weights") or {}
        overrides = kpi.get("platform_weights") or {}
        if weights:
            text = f"Σ {_code(_weights(weights))} over `{kpi['source']}`"
        else:
            named = list(dict.fromkeys(k for w in overrides.values() for k in w))
            what = ", ".join(named) if named else "every interaction"
            text = (f"Σ weighted interactions ({what}) at each platform's default weights "
                    f"over `{kpi['source']}`")
        for platform, own in overrides.items():
            text += f"; on {platform}: {_code(_weights(own))}"
    elif kind == "ratio":
        text = f"`{kpi['numerator']}` {DIVIDED} `{kpi['denominator']}`"
        if kpi.get("scale") is not None:
            text += f" {TIMES} {_number(kpi['scale'])}"
        if kpi.get("average_over"):
            text = f"mean over `{kpi['average_over']}` of ({text})"
    elif kind == "derived":
        text = _code(kpi["expr"])
    elif kind == "cumulative":
        if kpi.get("window"):
            what = f"sum over the last {kpi['window']}"
        elif kpi.get("grain_to_date"):
            what = f"{kpi['grain_to_date']}-to-date sum"
        else:
            what = "all-time running total"
        text = f"{what} of `{kpi['of']}`"
    else:  # change
        offset = kpi.get("offset", 1)
        when = f"{offset} period{'s' if offset != 1 else ''}" if isinstance(offset, int) \
            else str(offset)
        calc = {"percent": "percent change", "ratio": "ratio"}.get(kpi.get("calc", ""),
                                                                  "difference")
        text = f"{calc} of `{kpi['of']}` against {when} earlier"
    if kpi.get("filter"):
        text += f" where {_code(kpi['filter'])}"
    if kpi.get("platforms"):
        text += " on " + ", ".join(kpi["platforms"])
    return text


def _facts(kpi: dict[str, Any]) -> str:
    facts = [kpi["type"], f"unit: {kpi.get('unit', NONE)}",
             kpi.get("direction", "higher_is_better").replace("_", " ")]
    target = kpi.get("target")
    if target:
        facts.append(f"target: {_number(target['value'])} per {target['grain']}")
    if kpi.get("tags"):
        facts.append("tags: " + ", ".join(kpi["tags"]))
    return " · ".join(facts)


def _section(path: Path, title: str, text: str, kpis: list[dict[str, Any]]) -> list[str]:
    rel = path.relative_to(ROOT).as_posix()
    out = [f"## {title}", "", f"`{rel}`: {len(kpis)} KPIs.", ""]
    intro = header_comment(text)
    if intro:
        out += [intro, ""]
    out += ["| KPI | label | unit | formula |", "|---|---|---|---|"]
    for kpi in kpis:
        out.append(f"| [`{kpi['name']}`](#{kpi['name']}) | {kpi.get('label', '')} "
                   f"| {kpi.get('unit', '')} | {formula(kpi)} |")
    out.append("")
    for kpi in kpis:
        out += [
            f"### {kpi['name']}",
            "",
            f"**{kpi.get('label', kpi['name'])}** · {_facts(kpi)}",
            "",
            f"Formula: {formula(kpi)}",
            "",
        ]
        description = (kpi.get("description") or "").strip()
        if description:
            out += [description, ""]
    return out


def render(files: Iterable[Path] | None = None) -> str:
    """The whole page, from the definition files."""
    files = list(files) if files is not None else definition_files()
    sections: list[tuple[Path, str, str, list[dict[str, Any]]]] = []
    for path in files:
        text = path.read_text("utf-8")
        doc = yaml.safe_load(text) or {}
        title = THEMES.get(path.stem, path.stem.replace("_", " ").title())
        sections.append((path, title, text, list(doc.get("kpis") or [])))
    total = sum(len(s[3]) for s in sections)
    out = [
        "# The standard social-media KPI catalog",
        "",
        "<!-- Generated by scripts/catalog_docs.py from definitions/*.yaml: do not edit by",
        "     hand. Run `python scripts/catalog_docs.py` after changing a definition. -->",
        "",
        f"{total} KPIs in {len(sections)} files. Many social-media KPIs have competing "
        "definitions; the catalog ships the common variants side by side, and each "
        "description says which variant it is, when to use it and its known pitfalls. "
        "`kpiframe show NAME` prints a KPI with its lineage and SQL; "
        "`kpiframe query NAME --grain month --by platform` runs it.",
        "",
        "Two families of post KPIs recur throughout: **activity in the period** (from "
        "`post_daily`: what happened in the period, on any post) and **posts published in "
        "the period** (from `posts`: the lifetime totals of the posts that went out in the "
        "period, still growing for recent posts).",
        "",
        "| theme | file | KPIs |",
        "|---|---|---|",
    ]
    for path, title, _, kpis in sections:
        anchor = "".join(c for c in title.lower().replace(" ", "-") if c.isalnum() or c == "-")
        out.append(f"| [{title}](#{anchor}) | `{path.relative_to(ROOT).as_posix()}` "
                   f"| {len(kpis)} |")
    out.append("")
    for section in sections:
        out += _section(*section)
    tests = test_files()
    if tests:
        out += _tests_section(tests)
    return "\n".join(out).rstrip() + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true",
                        help="exit 1 if the page is out of date, without writing it")
    args = parser.parse_args(argv)
    page = render()
    current = OUTPUT.read_text("utf-8") if OUTPUT.exists() else None
    if args.check:
        if current != page:
            print(f"{OUTPUT.relative_to(ROOT)} is out of date: run python "
                  "scripts/catalog_docs.py", file=sys.stderr)
            return 1
        return 0
    if current != page:
        OUTPUT.write_text(page, "utf-8")
        print(f"wrote {OUTPUT.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
