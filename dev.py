#!/usr/bin/env python3
"""Set up and run kpiframe on a machine with only python3 and pip.

    python3 dev.py demo     # install kpiframe and its platform plugins, run the demo
    python3 dev.py test     # install everything the tests need, run ruff, mypy, pytest
    python3 dev.py test --quick   # the same with DuckDB and SQLite only, for development

Both create a virtual environment in .venv (once) and install into it, so nothing
touches the system Python. Extra arguments after `test` go to pytest.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
#: the standard catalog as a distribution: its files are this checkout's definitions/, so
#: installing it here would ship every KPI twice (check_install proves it as users get it)
CATALOG = ROOT / "plugins" / "kpiframe-social"
PLUGINS = sorted(p for p in (ROOT / "plugins").iterdir()
                 if (p / "pyproject.toml").exists() and p != CATALOG)


def python() -> Path:
    return VENV / ("Scripts" if os.name == "nt" else "bin") / "python"


def run(*args: str | Path, env: dict[str, str] | None = None) -> None:
    print("+", " ".join(str(a) for a in args), flush=True)
    done = subprocess.run([str(a) for a in args], cwd=ROOT, env=env)
    if done.returncode:
        sys.exit(done.returncode)


def ensure_venv() -> None:
    if not python().exists():
        venv.EnvBuilder(with_pip=True).create(VENV)
        run(python(), "-m", "pip", "install", "--quiet", "--upgrade", "pip")


def install(extra: str | None) -> None:
    ensure_venv()
    target = f".[{extra}]" if extra else "."
    editable = ["-e", target]
    for plugin in PLUGINS:
        editable += ["-e", str(plugin.relative_to(ROOT))]
    # setuptools announces every editable install with a warning ("Editable
    # installation."), which is no problem to fix: keep the install quiet
    env = {**os.environ, "PYTHONWARNINGS": "ignore:Editable installation"}
    run(python(), "-m", "pip", "install", "--quiet", *editable, env=env)


def bin_(name: str) -> Path:
    return python().parent / name


def demo(args: list[str]) -> None:
    install(None)
    run(bin_("kpiframe"), "demo", *args)


def build_docs() -> None:
    """Build the docs site strictly (any broken link or page left out fails), into a
    temporary folder: quiet when it builds, its whole log when it does not."""
    import tempfile

    env = dict(os.environ, NO_MKDOCS_2_WARNING="1")
    with tempfile.TemporaryDirectory(prefix="kpiframe-site-") as site:
        done = subprocess.run([str(python()), "-m", "mkdocs", "build", "--strict", "-d", site],
                              cwd=ROOT, env=env, capture_output=True, text=True)
    if done.returncode:
        print(done.stdout + done.stderr, file=sys.stderr)
        print("the docs site does not build: see mkdocs.yml and scripts/docs_gen.py",
              file=sys.stderr)
        sys.exit(done.returncode)
    print("+ mkdocs build --strict: the docs site builds", flush=True)


def ensure_chromium() -> None:
    """tests/test_report.py opens reports in Debian's chromium (driven by playwright, whose
    own browser download is never used): install it with apt-get when it is missing."""
    if shutil.which("chromium") or Path("/usr/bin/chromium").exists():
        return
    if shutil.which("apt-get") is None:
        print("note: no chromium and no apt-get to install it: tests/test_report.py will "
              "fail (set KPIFRAME_CHROMIUM to a Chromium binary)", flush=True)
        return
    sudo = [] if not hasattr(os, "geteuid") or os.geteuid() == 0 else ["sudo"]
    command = [*sudo, "apt-get", "install", "-y", "--no-install-recommends", "chromium"]
    print("+", " ".join(command), flush=True)
    if subprocess.run(command, cwd=ROOT).returncode:
        run(*sudo, "apt-get", "update")
        run(*command)


def check_install() -> None:
    """Build every distribution, install the wheels into a fresh environment and run the
    demo, validate and a query in an empty folder (scripts/check_install.py): the editable
    installs the tests use would not notice a file missing from a package."""
    run(python(), ROOT / "scripts" / "check_install.py")


def _postgres_found() -> bool:
    """initdb and pg_ctl where tests/engines.py looks for them: on PATH, or in Debian's
    /usr/lib/postgresql/VERSION/bin (which its postgresql package leaves off PATH)."""
    if shutil.which("initdb") and shutil.which("pg_ctl"):
        return True
    return any((bin_dir / "initdb").exists() and (bin_dir / "pg_ctl").exists()
               for bin_dir in Path("/usr/lib/postgresql").glob("*/bin"))


def _java_found() -> bool:
    home = os.environ.get("JAVA_HOME")
    return bool(shutil.which("java") or (home and (Path(home) / "bin" / "java").exists()))


def check_engines() -> None:
    """The full suite starts a PostgreSQL server (initdb, pg_ctl) and a Spark session
    (java): say what is missing and the one command that installs it before any minutes are
    spent, rather than let the PostgreSQL and Spark tests fail one by one."""
    missing = [(what, package) for found, what, package in (
        (_postgres_found(), "PostgreSQL (initdb, pg_ctl)", "postgresql"),
        (_java_found(), "Java 17 (for Spark)", "openjdk-17-jre-headless")) if not found]
    if not missing:
        return
    print("the full test suite needs " + " and ".join(what for what, _ in missing)
          + ". On Debian or Ubuntu, install with:\n\n    sudo apt-get install -y "
          + " ".join(package for _, package in missing)
          + "\n\nor run the DuckDB and SQLite tests alone: python3 dev.py test --quick",
          file=sys.stderr)
    sys.exit(1)


#: pytest's options: two workers (pytest-xdist), each taking the next test as it finishes
#: one. Spark tests run on both, each worker with its own Spark session (started once):
#: a Spark query keeps about one core busy, so a worker that ran out of other tests helps
#: with Spark's instead of idling. Arguments given to `dev.py test` come after: `-n 0`
#: runs in one process again.
PARALLEL = ["-n", "2"]
#: --quick: no PostgreSQL server and no Spark session (tests marked postgres or spark)
QUICK = ["-m", "not postgres and not spark"]


def test(args: list[str]) -> None:
    """`test [--quick] [PYTEST ARGS]`: --quick skips the PostgreSQL and Spark tests, the
    install proof and the docs site build: DuckDB and SQLite only, for development."""
    quick = "--quick" in args
    args = [a for a in args if a != "--quick"]
    install("test")
    if not quick:
        check_engines()
    ensure_chromium()
    run(python(), "-m", "ruff", "check", "kpiframe", "plugins", "tests", "benchmarks",
        "scripts", "dev.py")
    run(python(), "-m", "mypy")
    if not quick:
        check_install()
        build_docs()
    env = dict(os.environ)
    env.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
    env["PYSPARK_PYTHON"] = str(python())
    run(python(), "-m", "pytest", *PARALLEL, *(QUICK if quick else []), *args, env=env)


COMMANDS = {"demo": demo, "test": test}

if __name__ == "__main__":
    if len(sys.argv) < 2 or sys.argv[1] not in COMMANDS:
        print(__doc__)
        sys.exit(2)
    COMMANDS[sys.argv[1]](sys.argv[2:])
