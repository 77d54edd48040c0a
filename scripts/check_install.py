#!/usr/bin/env python3
"""Prove that kpiframe installs and runs as users get it, not as the checkout has it.

    python scripts/check_install.py [--keep]

The development environment installs everything editable, so a package that forgets a
file (the schema, the standard catalog) would still pass every test. This script:

1. builds the sdist and the wheel of the core and of every plugin under plugins/ with
   `python -m build` (each wheel built from its sdist, so both are proven), into a
   temporary folder, and fails on any setuptools warning in the build output;
2. runs `twine check --strict` on all of them;
3. installs the wheels, not editable, into a fresh virtual environment;
4. in an empty temporary folder, runs `kpiframe demo`, `kpiframe validate`, one
   `kpiframe query`, and the same query with only one platform plugin enabled.

It is quiet on success (one line with the time taken) and prints every command's output
on failure. It runs with the Python of the development environment, which must have
`build`, `twine` and `setuptools` (the `test` extra). Builds run without isolation, on
that setuptools, to stay fast; pip downloads the runtime dependencies through its cache.
Nothing is left in the repository: the *.egg-info folders setuptools writes while making
an sdist are removed again unless they were there before (editable installs keep theirs).
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import venv
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
#: the distributions, core first: their folders hold a pyproject.toml
PROJECTS = [ROOT, *sorted(p for p in (ROOT / "plugins").iterdir()
                          if (p / "pyproject.toml").is_file())]
#: lines of build output that are setuptools or packaging complaining ("warning: ...",
#: "WARNING ...", "SetuptoolsDeprecationWarning: ..."), not file names such as warnings.py
WARNING = re.compile(r"^\s*(warning:|WARNING\b)|Warning\b")
#: ... except this one, which only says PYTHONDONTWRITEBYTECODE is set
HARMLESS = re.compile(r"byte-compiling is disabled")
#: the query the proof runs, and the platform it runs alone with
QUERY = ("impressions", "engagement_rate_by_impressions", "--by", "platform")
ALONE = "x"
#: builds at once
BUILDERS = 4


class Failed(Exception):
    """A step failed; its message holds the command and everything it printed."""


def run(args: Sequence[str | Path], cwd: Path, env: dict[str, str] | None = None) -> str:
    """Run a command; its combined output, or Failed with that output."""
    done = subprocess.run([str(a) for a in args], cwd=cwd, env=env, text=True,
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    if done.returncode:
        raise Failed(f"$ {' '.join(str(a) for a in args)}\n(in {cwd}, exit {done.returncode})"
                     f"\n{done.stdout}")
    return done.stdout


def warnings_in(output: str) -> list[str]:
    return [line for line in output.splitlines()
            if WARNING.search(line) and not HARMLESS.search(line)]


def egg_infos() -> list[Path]:
    """The *.egg-info folders setuptools writes beside each project's sources when it
    makes an sdist: the ones a build adds are removed afterwards."""
    return [p for project in PROJECTS for p in project.glob("*.egg-info")]


def build(dist: Path) -> list[Path]:
    """sdists and wheels of every project, into `dist`; Failed on a warning. A few builds
    run at once: each is mostly interpreter start-up and file copying."""

    def one(project: Path) -> None:
        output = run([sys.executable, "-m", "build", "--no-isolation", "--outdir", dist,
                      project], cwd=ROOT)
        noisy = warnings_in(output)
        if noisy:
            raise Failed(f"building {project.relative_to(ROOT)} printed warnings:\n"
                         + "\n".join(noisy) + f"\n\nfull output:\n{output}")

    before = set(egg_infos())
    try:
        with ThreadPoolExecutor(max_workers=BUILDERS) as pool:
            for future in [pool.submit(one, project) for project in PROJECTS]:
                future.result()
    finally:
        for made in set(egg_infos()) - before:
            shutil.rmtree(made, ignore_errors=True)
    built = sorted(dist.iterdir())
    wheels = [p for p in built if p.suffix == ".whl"]
    sdists = [p for p in built if p.name.endswith(".tar.gz")]
    if len(wheels) != len(PROJECTS) or len(sdists) != len(PROJECTS):
        raise Failed(f"expected a wheel and an sdist for each of {len(PROJECTS)} projects, "
                     f"got {[p.name for p in built]}")
    run([sys.executable, "-m", "twine", "check", "--strict", *built], cwd=ROOT)
    return wheels


def install(wheels: Sequence[Path], where: Path) -> Path:
    """A fresh virtual environment at `where` with `wheels` installed; its bin folder."""
    venv.EnvBuilder(with_pip=False).create(where)
    bindir = where / ("Scripts" if os.name == "nt" else "bin")
    python = bindir / "python"
    # the development environment's pip installs into the fresh one (no ensurepip: faster)
    output = run([sys.executable, "-m", "pip", "--python", python, "install",
                  "--disable-pip-version-check", "--no-input", *wheels], cwd=where)
    noisy = [line for line in warnings_in(output) if "setuptools" in line.lower()]
    if noisy:
        raise Failed("installing printed setuptools warnings:\n" + "\n".join(noisy))
    return bindir


def use(bindir: Path, folder: Path, wheels: Sequence[Path]) -> None:
    """The installed CLI in an empty folder, as a new user runs it."""
    env = {k: v for k, v in os.environ.items()
           if k not in ("PYTHONPATH", "VIRTUAL_ENV", "KPIFRAME_ENGINE")}
    env["PATH"] = f"{bindir}{os.pathsep}{env.get('PATH', '')}"
    env["NO_COLOR"] = "1"
    kpiframe = bindir / "kpiframe"
    demo = run([kpiframe, "demo"], cwd=folder, env=env)
    if "Reach & engagement" not in demo:
        raise Failed(f"`kpiframe demo` printed no catalog tables:\n{demo}")
    run([kpiframe, "validate"], cwd=folder, env=env)
    rows = run([kpiframe, "query", *QUERY], cwd=folder, env=env)
    if "facebook" not in rows or ALONE not in rows.split():
        raise Failed(f"`kpiframe query` is missing platforms:\n{rows}")
    # each platform plugin works alone: every other platform plugin disabled
    disable = [arg for name in platform_plugins(wheels) if name != f"kpiframe-{ALONE}"
               for arg in ("--disable-plugin", name)]
    alone = run([kpiframe, *disable, "query", *QUERY], cwd=folder, env=env)
    if "facebook" in alone or ALONE not in alone.split():
        raise Failed(f"`kpiframe query` with only plugin '{ALONE}' enabled:\n{alone}")


def platform_plugins(wheels: Sequence[Path]) -> list[str]:
    """Distribution names of the platform plugins among `wheels` (not the core, not the
    catalog): `--disable-plugin` takes them."""
    names = [wheel.name.split("-")[0].replace("_", "-") for wheel in wheels]
    return [n for n in names if n.startswith("kpiframe-") and n != "kpiframe-social"]


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--keep", action="store_true",
                        help="keep the temporary folder and print where it is")
    args = parser.parse_args(argv)
    start = time.monotonic()
    temp = Path(tempfile.mkdtemp(prefix="kpiframe-install-"))
    try:
        (temp / "dist").mkdir()
        (temp / "empty").mkdir()
        wheels = build(temp / "dist")
        built = time.monotonic()
        bindir = install(wheels, temp / "venv")
        installed = time.monotonic()
        use(bindir, temp / "empty", wheels)
    except Failed as exc:
        print(f"check_install: FAILED\n{exc}", file=sys.stderr)
        print(f"(files kept in {temp})", file=sys.stderr)
        return 1
    done = time.monotonic()
    print(f"check_install: {len(wheels)} distributions built, installed from their wheels "
          f"and run from an empty folder in {done - start:.0f} s (build "
          f"{built - start:.0f} s, install {installed - built:.0f} s, run "
          f"{done - installed:.0f} s)", flush=True)
    if args.keep:
        print(f"check_install: files kept in {temp}")
    else:
        shutil.rmtree(temp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
