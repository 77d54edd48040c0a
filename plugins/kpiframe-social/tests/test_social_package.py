"""kpiframe-social: its wheel and sdist carry the whole standard catalog (the package's
definitions folder is a link to the repository's definitions/, which only a build turns
into files), and its hook puts that catalog in any project."""

from __future__ import annotations

import shutil
import subprocess
import sys
import tarfile
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from kpiframe import load_catalog
from kpiframe.plugins import clear_cache

PACKAGE = Path(__file__).resolve().parent.parent
ROOT = PACKAGE.parent.parent
DEFINITIONS = ROOT / "definitions"


def catalog_files() -> dict[str, bytes]:
    """Every definition file of the standard catalog, by path inside the package."""
    files = {f"kpiframe_social/definitions/{p.relative_to(DEFINITIONS).as_posix()}":
             p.read_bytes() for p in sorted(DEFINITIONS.rglob("*.yaml"))}
    assert len(files) >= 10 and "kpiframe_social/definitions/dashboards.yaml" in files
    return files


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The sdist and the wheel built from it, as `python -m build` makes them."""
    out = tmp_path_factory.mktemp("dist")
    egg_info = PACKAGE / "kpiframe_social.egg-info"
    existed = egg_info.exists()
    try:
        done = subprocess.run(
            [sys.executable, "-m", "build", "--no-isolation", "--outdir", str(out),
             str(PACKAGE)], capture_output=True, text=True)
    finally:
        if not existed:  # the sdist step writes it beside the sources
            shutil.rmtree(egg_info, ignore_errors=True)
    assert done.returncode == 0, done.stdout + done.stderr
    return out


def test_wheel_ships_every_definition_file(built: Path) -> None:
    (wheel,) = built.glob("kpiframe_social-*.whl")
    with zipfile.ZipFile(wheel) as archive:
        shipped = {name: archive.read(name) for name in archive.namelist()
                   if name.startswith("kpiframe_social/definitions/")}
        entry_points = next(archive.read(n).decode() for n in archive.namelist()
                            if n.endswith(".dist-info/entry_points.txt"))
    assert shipped == catalog_files()
    assert "[kpiframe]\nsocial = kpiframe_social" in entry_points


def test_sdist_ships_every_definition_file_as_a_file(built: Path) -> None:
    (sdist,) = built.glob("kpiframe_social-*.tar.gz")
    with tarfile.open(sdist) as archive:
        members = {m.name.split("/", 1)[1]: m for m in archive.getmembers() if "/" in m.name}
        wanted = catalog_files()
        for name, data in wanted.items():
            member = members.get(name)
            assert member is not None and member.isfile(), f"{name} is not a file in the sdist"
            extracted = archive.extractfile(member)
            assert extracted is not None and extracted.read() == data


@pytest.fixture
def social(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """kpiframe_social importable as a `--plugin` module (it is not installed here)."""
    monkeypatch.syspath_prepend(str(PACKAGE))
    clear_cache()
    yield
    clear_cache()


def test_hook_puts_the_standard_catalog_in_an_empty_project(tmp_path: Path,
                                                           social: None) -> None:
    catalog = load_catalog(project=tmp_path, plugins=["kpiframe_social"])
    standard = load_catalog(DEFINITIONS, project=tmp_path)
    assert sorted(catalog.kpis) == sorted(standard.kpis)
    # named by its module here; installed, by its entry point ('social')
    assert {kpi.plugin for kpi in catalog.kpis.values()} in ({"kpiframe_social"}, {"social"})
    assert [p.format() for p in catalog.validate()] == []
