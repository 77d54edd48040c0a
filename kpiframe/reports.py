"""Problems as CI systems read them: text, JSON, GitHub annotations, JUnit XML, SARIF."""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Sequence
from typing import Any
from xml.sax.saxutils import quoteattr

from kpiframe.problems import Problem

FORMATS = ("text", "json", "github", "junit", "sarif")


def summary(problems: Sequence[Problem], kpis: int, files: int) -> str:
    errors = sum(p.is_error for p in problems)
    warnings = len(problems) - errors

    def plural(n: int, word: str) -> str:
        return f"{n} {word}{'' if n == 1 else 's'}"

    if not problems:
        return f"✓ {plural(kpis, 'KPI')} in {plural(files, 'file')}: no problems"
    return (f"{plural(errors, 'error')}, {plural(warnings, 'warning')} in "
            f"{plural(kpis, 'KPI')} across {plural(files, 'file')}")


def text(problems: Sequence[Problem], kpis: int, files: int) -> str:
    lines = [p.format() for p in problems]
    lines.append(summary(problems, kpis, files))
    return "\n".join(lines)


def as_json(problems: Sequence[Problem], kpis: int, files: int) -> str:
    payload = {
        "problems": [
            {
                "file": p.file,
                "line": p.line,
                "column": p.column,
                "kpi": p.kpi,
                "rule": p.rule,
                "severity": p.severity,
                "message": p.message,
                "hint": p.hint,
            }
            for p in problems
        ],
        "kpis": kpis,
        "files": files,
    }
    return json.dumps(payload, indent=2)


def escape_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(text: str) -> str:
    return escape_data(text).replace(":", "%3A").replace(",", "%2C")


def github(problems: Sequence[Problem], kpis: int, files: int) -> str:
    """GitHub Actions workflow commands: annotations on the pull request's diff."""
    lines = []
    for p in problems:
        props = []
        if p.file:
            props.append(f"file={escape_property(p.file)}")
        if p.line:
            props.append(f"line={p.line}")
        if p.column:
            props.append(f"col={p.column}")
        props.append(f"title={escape_property(p.rule)}")
        message = p.message + (f" ({p.hint})" if p.hint else "")
        lines.append(f"::{p.severity} {','.join(props)}::{escape_data(message)}")
    lines.append(summary(problems, kpis, files))
    return "\n".join(lines)


def junit(problems: Sequence[Problem], kpis: int, files: int,
          names: Sequence[tuple[str, str]] = ()) -> str:
    """One test suite per file, one test case per KPI (and one for the file itself); each
    error is a failure of its test case. Warnings show as system-out, not failures."""
    by_case: dict[tuple[str, str], list[Problem]] = defaultdict(list)
    for p in problems:
        by_case[(p.file or "<input>", p.kpi or "(file)")].append(p)
    cases: dict[str, list[str]] = defaultdict(list)
    for file, kpi in names:
        cases[file].append(kpi)
    for file, kpi in by_case:
        if kpi not in cases[file]:
            cases[file].append(kpi)
    out = ['<?xml version="1.0" encoding="UTF-8"?>']
    total_failures = sum(1 for ps in by_case.values() if any(p.is_error for p in ps))
    total = sum(len(v) for v in cases.values())
    out.append(f'<testsuites name="kpiframe validate" tests="{total}" '
               f'failures="{total_failures}" errors="0" time="0">')
    for index, (file, kpi_names) in enumerate(sorted(cases.items())):
        failures = sum(1 for k in kpi_names if any(p.is_error for p in by_case.get((file, k), [])))
        out.append(
            f'  <testsuite name={quoteattr(file)} tests="{len(kpi_names)}" '
            f'failures="{failures}" errors="0" skipped="0" time="0" id="{index}">'
        )
        for kpi in kpi_names:
            found = by_case.get((file, kpi), [])
            out.append(f'    <testcase name={quoteattr(kpi)} classname={quoteattr(file)} '
                       'time="0">')
            for p in found:
                if p.is_error:
                    out.append(f'      <failure message={quoteattr(p.message)} '
                               f'type={quoteattr(p.rule)}>{_xml_text(p.format())}</failure>')
            warnings = [p.format() for p in found if not p.is_error]
            if warnings:
                out.append(f"      <system-out>{_xml_text(chr(10).join(warnings))}</system-out>")
            out.append("    </testcase>")
        out.append("  </testsuite>")
    out.append("</testsuites>")
    return "\n".join(out)


def _xml_text(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def sarif(problems: Sequence[Problem], kpis: int, files: int,
          rules: dict[str, str] | None = None) -> str:
    """SARIF 2.1.0, for GitHub code scanning."""
    from kpiframe.version import __version__

    rule_ids = sorted({p.rule for p in problems})
    descriptions = rules or {}
    results: list[dict[str, Any]] = []
    for p in problems:
        result: dict[str, Any] = {
            "ruleId": p.rule,
            "ruleIndex": rule_ids.index(p.rule),
            "level": "error" if p.is_error else "warning",
            "message": {"text": p.message + (f" ({p.hint})" if p.hint else "")},
        }
        if p.file:
            region: dict[str, int] = {}
            if p.line:
                region["startLine"] = p.line
            if p.column:
                region["startColumn"] = p.column
            location: dict[str, Any] = {
                "physicalLocation": {
                    "artifactLocation": {"uri": p.file.replace("\\", "/")},
                    **({"region": region} if region else {}),
                }
            }
            result["locations"] = [location]
        if p.kpi:
            result["properties"] = {"kpi": p.kpi}
        results.append(result)
    payload = {
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": "kpiframe",
                        "version": __version__,
                        "informationUri": "https://github.com/kpiframe/kpiframe",
                        "rules": [
                            {
                                "id": rule,
                                "shortDescription": {"text": descriptions.get(rule, rule)},
                            }
                            for rule in rule_ids
                        ],
                    }
                },
                "results": results,
            }
        ],
    }
    return json.dumps(payload, indent=2)
