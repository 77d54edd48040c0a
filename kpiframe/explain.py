"""Human views of the catalog and the plugins: `kpiframe show` and `kpiframe plugins`."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from kpiframe import canonical, render
from kpiframe.definitions import Change, Cumulative, Derived, Kpi, Ratio, Simple, Weighted

if TYPE_CHECKING:
    from kpiframe.catalog import Catalog


def formula(kpi: Kpi) -> str:
    if isinstance(kpi, Simple):
        what = kpi.expr or "*"
        text = f"{kpi.agg}({what}) over {kpi.source}"
        if kpi.filter:
            text += f" where {kpi.filter}"
        if kpi.platforms:
            text += f" on {', '.join(kpi.platforms)}"
        return text
    if isinstance(kpi, Weighted):
        weights = ", ".join(f"{k}×{v:g}" for k, v in kpi.weights.items()) or \
            "each platform's default weights"
        text = f"Σ weighted interactions ({weights}) over {kpi.source}"
        for platform, overrides in kpi.platform_weights.items():
            text += f"; on {platform}: " + ", ".join(f"{k}×{v:g}" for k, v in overrides.items())
        if kpi.filter:
            text += f" where {kpi.filter}"
        if kpi.platforms:
            text += f" on {', '.join(kpi.platforms)}"
        return text
    if isinstance(kpi, Ratio):
        text = f"{kpi.numerator} / {kpi.denominator}"
        if kpi.scale is not None:
            text += f" × {kpi.scale:g}"
        if kpi.average_over:
            text = f"average over {kpi.average_over} of ({text})"
        return text
    if isinstance(kpi, Derived):
        return kpi.expr.strip()
    if isinstance(kpi, Cumulative):
        return f"{kpi.kind} of {kpi.of}"
    assert isinstance(kpi, Change)
    return f"{kpi.calc} of {kpi.of} vs {kpi.offset} period(s) earlier" if isinstance(
        kpi.offset, int) else f"{kpi.calc} of {kpi.of} vs {kpi.offset} earlier"


def lineage(catalog: Catalog, name: str, prefix: str = "", seen: set[str] | None = None
            ) -> list[str]:
    seen = set() if seen is None else seen
    kpi = catalog.kpis.get(name)
    if kpi is None:
        return [f"{prefix}{name}  (missing)"]
    lines = []
    refs = [r for r in kpi.refs]
    for index, ref in enumerate(refs):
        last = index == len(refs) - 1
        child = catalog.kpis.get(ref)
        label = f"{ref}  {child.type}: {formula(child)}" if child else f"{ref}  (missing)"
        lines.append(f"{prefix}{'└─ ' if last else '├─ '}{label}")
        if child and ref not in seen:
            seen.add(ref)
            lines.extend(lineage(catalog, ref, prefix + ("   " if last else "│  "), seen))
    return lines


def facts(kpi: Kpi) -> list[str]:
    """A KPI's unit, direction, target and tags, as `show` and the docs site print them."""
    found = []
    if kpi.unit:
        found.append(f"unit: {kpi.unit}")
    found.append(kpi.direction.replace("_", " "))
    if kpi.target:
        found.append(f"target: {kpi.target.value:g} per {kpi.target.grain}")
    if kpi.tags:
        found.append("tags: " + ", ".join(kpi.tags))
    return found


def show(catalog: Catalog, name: str, dialect: str, grain: str, fmt: str) -> str:
    from kpiframe.compiler.request import sources_of

    kpi = catalog.get(name)
    sources = sources_of(kpi, catalog)
    providers = {
        s: [p for p, a in catalog.platforms.items() if a.binding(s) is not None] for s in sources
    }
    sql = catalog.compile([name], dialect=dialect, grain=grain)
    if fmt == "json":
        return json.dumps({
            "name": kpi.name, "type": kpi.type, "label": kpi.title,
            "description": kpi.description, "unit": kpi.unit, "direction": kpi.direction,
            "target": {"value": kpi.target.value, "grain": kpi.target.grain}
            if kpi.target else None,
            "tags": list(kpi.tags), "owner": kpi.owner,
            "file": kpi.file, "line": kpi.node.pos.line,
            "formula": formula(kpi), "refs": list(kpi.refs),
            "sources": providers, "sql": sql,
        }, indent=2)
    out = [f"{kpi.name}  ({kpi.type})  {kpi.title}", f"  defined at {kpi.file}:{kpi.node.pos.line}"]
    if kpi.plugin:
        out.append(f"  shipped by plugin {kpi.plugin}")
    out.append("  " + " · ".join(facts(kpi)))
    if kpi.description:
        out.append("")
        out.extend("  " + line for line in kpi.description.strip().splitlines())
    out.append("")
    out.append(f"= {formula(kpi)}")
    out.extend(lineage(catalog, name))
    out.append("")
    out.append("Sources:")
    for source, names in providers.items():
        out.append(f"  {source}: {', '.join(names) if names else 'no platform provides it'}")
    out.append("")
    out.append(f"SQL ({dialect}, by {grain}):")
    out.append(sql)
    return "\n".join(out)


def plugins(catalog: Catalog, fmt: str) -> str:
    registry = catalog.registry
    active = catalog.platforms
    fields: dict[str, dict[str, list[str]]] = {}
    for name, platform in active.items():
        fields[name] = {s: list(platform.provides(s)) for s in canonical.SOURCES
                        if platform.binding(s) is not None}
    if fmt == "json":
        return json.dumps({
            "plugins": [
                {"name": p.name, "module": p.module, "version": p.version,
                 "distribution": p.distribution, "source": p.source, "hooks": p.hooks,
                 "platforms": p.platforms, "engines": p.engines}
                for p in registry.plugins
            ],
            "platforms": [
                {"name": a.name, "label": a.platform.label, "plugin": a.plugin,
                 "layout": a.layout.name, "schema": a.schema,
                 "layouts": list(a.platform.layout_names),
                 "interactions": dict(a.platform.interactions),
                 "weights": dict(a.platform.weights),
                 "sources": fields[a.name]}
                for a in active.values()
            ],
            "failures": [
                {"plugin": f.plugin, "stage": f.stage, "error": f.error}
                for f in registry.failures
            ],
        }, indent=2)
    out = []
    rows: list[dict[str, Any]] = [
        {"plugin": p.name, "version": p.version or "", "from": p.source,
         "provides": ", ".join([*p.platforms, *(f"{e}://" for e in p.engines)])}
        for p in registry.plugins
    ]
    out.append(render.table(rows, ["plugin", "version", "from", "provides"], title="Plugins"))
    out.append("")
    rows = [
        {"platform": a.name, "label": a.platform.label, "plugin": a.plugin,
         "layout": a.layout.name, "schema": a.schema,
         "layouts": ", ".join(a.platform.layout_names)}
        for a in active.values()
    ]
    out.append(render.table(rows, ["platform", "label", "plugin", "layout", "schema", "layouts"],
                            title="Platforms (as this project uses them)"))
    for source in canonical.SOURCES.values():
        names = [n for n in active if source.name in fields[n]]
        out.append("")
        if not names:
            out.append(f"{source.name}: no platform provides it")
            continue
        rows = []
        for field in source.fields:
            row: dict[str, Any] = {"field": field}
            for n in names:
                row[n] = "✓" if field in fields[n][source.name] else "·"
            rows.append(row)
        out.append(render.table(rows, ["field", *names], title=f"{source.name}"))
    if registry.failures:
        out.append("")
        for failure in registry.failures:
            out.append(failure.problem().format())
    return "\n".join(out)
