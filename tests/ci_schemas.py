"""The published schemas CI reports must satisfy: the JUnit XSD (junit-10.xsd, the schema
Jenkins and pytest validate JUnit XML against) and the SARIF 2.1.0 JSON Schema.

They are taken from source distributions on PyPI (pytest's test data ships the XSD,
sarif-pydantic ships the OASIS schema), downloaded once into a cache, so the suite needs
nothing but the package registry.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

import pytest

SOURCES = {
    "junit-10.xsd": ("pytest==9.2.0", "testing/example_scripts/junit-10.xsd"),
    "sarif-schema-2.1.0.json": ("sarif-pydantic==0.6.2", "sarif-schema-2.1.0.json"),
}


def cache_dir() -> Path:
    explicit = os.environ.get("KPIFRAME_TEST_SCHEMAS")
    if explicit:
        return Path(explicit)
    return Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "kpiframe-schemas"


def schema_file(name: str) -> Path:
    folder = cache_dir()
    target = folder / name
    if target.exists():
        return target
    requirement, member = SOURCES[name]
    folder.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        done = subprocess.run(
            [sys.executable, "-m", "pip", "download", "--quiet", "--no-deps",
             "--no-binary", ":all:", "--dest", tmp, requirement],
            capture_output=True, text=True)
        if done.returncode:
            pytest.fail(f"cannot download {requirement} for {name}: {done.stderr[-500:]}")
        [archive] = Path(tmp).glob("*.tar.gz")
        with tarfile.open(archive) as tar:
            found = next(m for m in tar.getmembers() if m.name.endswith("/" + member))
            extracted = tar.extractfile(found)
            assert extracted is not None
            target.write_bytes(extracted.read())
    return target
