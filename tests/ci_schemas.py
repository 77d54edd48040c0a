"""The published schemas CI reports must satisfy: the JUnit XSD (junit-10.xsd, the schema
Jenkins and pytest validate JUnit XML against) and the SARIF 2.1.0 JSON Schema.

Both are vendored in tests/schemas/ (source, licence and checksums in its README.md), so
the suite reads them from the checkout and downloads nothing at test time.
"""

from __future__ import annotations

from pathlib import Path

SCHEMAS = Path(__file__).parent / "schemas"


def schema_file(name: str) -> Path:
    """The vendored schema `name` (a file of tests/schemas/)."""
    path = SCHEMAS / name
    if not path.is_file():
        raise FileNotFoundError(f"{path}: not vendored (see tests/schemas/README.md)")
    return path
