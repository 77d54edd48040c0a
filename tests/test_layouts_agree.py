"""The sample data read through the Fivetran layouts and through the canonical layout
gives the same KPI values: every standard KPI whose fields a platform's Fivetran layout
provides, by month, on each of the five platforms that have one."""

from __future__ import annotations

import math
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from kpiframe import canonical, load_catalog
from kpiframe.catalog import Catalog
from kpiframe.compiler.request import closure
from kpiframe.definitions import Simple, Weighted
from kpiframe.expressions import row_expr
from kpiframe.plugins import clear_cache

ROOT = Path(__file__).resolve().parents[1]
FIRST_PARTY = ("x", "facebook", "instagram", "linkedin", "youtube", "tiktok", "pinterest")
WITH_FIVETRAN = ("x", "facebook", "instagram", "linkedin", "youtube")


@pytest.fixture(scope="module")
def projects(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Catalog, Catalog]]:
    from kpiframe.sample import build

    folder = tmp_path_factory.mktemp("layouts")
    url = f"duckdb:///{folder / 'sample.duckdb'}"
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("KPIFRAME_LOAD_PLUGINS", ",".join(FIRST_PARTY))
        clear_cache()
        build(url, scale=0.5, layouts=("canonical", "fivetran"), days=180)
        plain, fivetran = folder / "canonical", folder / "fivetran"
        plain.mkdir()
        fivetran.mkdir()
        (plain / "kpiframe.yaml").write_text(f"engine: {url}\n")
        (fivetran / "kpiframe.yaml").write_text(
            f"engine: {url}\nplatforms:\n"
            + "".join(f"  {p}: {{layout: fivetran}}\n" for p in WITH_FIVETRAN))
        definitions = ROOT / "definitions"
        yield (load_catalog(definitions, project=plain),
               load_catalog(definitions, project=fivetran))
    clear_cache()


def fields_read(kpi: Simple | Weighted, platform: str) -> set[str]:
    source = canonical.SOURCES[kpi.source]
    if isinstance(kpi, Weighted):
        fields = set(kpi.counted(platform, source.interactions))
        if kpi.filter:
            fields |= set(row_expr(kpi.filter, source.fields).names)
        return fields
    fields = set()
    for text in (kpi.expr, kpi.filter):
        if text:
            fields |= set(row_expr(text, source.fields).names)
    return fields


def comparable(catalog: Catalog, name: str, platform: str) -> bool:
    """Whether the Fivetran layout of `platform` provides everything `name` reads."""
    active = catalog.platforms[platform]
    for kpi in closure(catalog, [name]):
        if isinstance(kpi, (Simple, Weighted)):
            if kpi.platforms is not None and platform not in kpi.platforms:
                continue
            provided = set(active.provides(kpi.source))
            if not provided or not fields_read(kpi, platform) <= provided:
                return False
    return True


def same(a: Any, b: Any) -> bool:
    if isinstance(a, float) or isinstance(b, float):
        return a is not None and b is not None and math.isclose(a, b, rel_tol=1e-9,
                                                                abs_tol=1e-9)
    return bool(a == b)


@pytest.mark.parametrize("platform", WITH_FIVETRAN)
def test_fivetran_and_canonical_layouts_give_the_same_numbers(
        projects: tuple[Catalog, Catalog], platform: str) -> None:
    plain, fivetran = projects
    assert fivetran.platforms[platform].layout.name == "fivetran"
    assert plain.platforms[platform].layout.name == "canonical"
    names = [n for n in fivetran.kpis if comparable(fivetran, n, platform)]
    assert len(names) >= 5, names  # LinkedIn's layout has posts only
    options = {"grain": "month", "platforms": [platform]}
    ours = plain.query(names, **options)  # type: ignore[arg-type]
    theirs = fivetran.query(names, **options)  # type: ignore[arg-type]
    assert len(ours) == len(theirs) >= 5
    differ = [
        f"{row['period']} {name}: canonical {row[name]!r}, fivetran {other[name]!r}"
        for row, other in zip(ours, theirs, strict=True)
        for name in names
        if not same(row[name], other[name])
    ]
    assert not differ, "\n".join(differ[:20])
    assert any(row[n] not in (None, 0) for row in ours for n in names)
