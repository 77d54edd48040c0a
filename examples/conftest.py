"""Make the example plugins importable without installing them (a real plugin is tested
after `pip install -e .`; here they run as part of kpiframe's own suite)."""

import sys
from pathlib import Path

for example in sorted(Path(__file__).parent.iterdir()):
    if (example / "pyproject.toml").exists():
        sys.path.insert(0, str(example))
