"""Smaller fixes a user meets at the terminal: a closed pipe, sqlglot's log lines, `diff`
on a broken side or long expressions, and KPI test fixtures of the wrong type."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from kpiframe.cli import main
from kpiframe.diff import _pair
from tests.test_data_safety import KPIS, ROOT, make_project

ENV = {**os.environ, "KPIFRAME_LOAD_PLUGINS": "",
       "PYTHONPATH": os.pathsep.join([str(ROOT / "tests" / "plugins"), str(ROOT)])}


def spawn(project: Path, *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen([sys.executable, "-m", "kpiframe.cli", "--project", str(project),
                             *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, env=ENV, cwd=project)


# --------------------------------------------------------------------------- the terminal


@pytest.mark.parametrize("args", [("list",), ("validate",), ("schema",),
                                  ("compile", "likes", "--grain", "month")])
def test_a_closed_pipe_ends_the_command_quietly(tmp_path: Path, args: tuple[str, ...]
                                                ) -> None:
    """`kpiframe list | head -1`: the reader is gone before kpiframe writes."""
    process = spawn(make_project(tmp_path), *args)
    assert process.stdout is not None
    process.stdout.close()  # like head after its first line, only sooner
    _, err = process.communicate(timeout=120)
    assert "Error" not in err and "internal error" not in err and "Exception" not in err, err
    assert process.returncode in (0, 1)


def test_a_closed_pipe_through_a_shell(tmp_path: Path) -> None:
    project = make_project(tmp_path)
    (project / "definitions" / "many.yaml").write_text("kpis:\n" + "".join(
        f"  - {{name: kpi_{i}, type: simple, source: post_daily, agg: sum, expr: likes}}\n"
        for i in range(3000)))
    done = subprocess.run(
        f"{sys.executable} -m kpiframe.cli --project {project} list | head -1",
        shell=True, capture_output=True, text=True, env=ENV, cwd=project, timeout=300)
    assert done.stdout.startswith("name"), done.stdout
    assert "Error" not in done.stderr and "internal error" not in done.stderr, done.stderr


def test_sqlglot_log_lines_never_reach_the_terminal(tmp_path: Path) -> None:
    process = spawn(make_project(tmp_path), "compile", "likes", "--where",
                    "likes > 1; CALL foo()")
    _, err = process.communicate(timeout=120)
    assert process.returncode == 1
    assert "unsupported syntax" not in err and "Falling back" not in err, err
    assert "error[" in err


# --------------------------------------------------------------------------- diff


def invoke(project: Path, *args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, ["--project", str(project), *args])
    assert "Traceback" not in result.output, result.output
    return result.exit_code, result.output


def test_diff_refuses_a_side_that_does_not_load(tmp_path: Path) -> None:
    project = make_project(tmp_path)
    base = project / "definitions"
    head = project / "head"
    head.mkdir()
    (head / "kpis.yaml").write_text(KPIS.replace("    agg: sum\n", "    agg: [sum\n", 1))
    code, out = invoke(project, "diff", str(base), str(head))
    assert code in (1, 2), out
    assert re.search(r"head/kpis\.yaml:\d+:\d+: error\[", out), out
    assert "removed" not in out
    (head / "kpis.yaml").write_text(KPIS.replace("    type: simple\n", "    type: nope\n", 1))
    code, out = invoke(project, "diff", str(base), str(head))
    assert code in (1, 2) and "removed" not in out, out
    code, out = invoke(project, "diff", str(head), str(base))
    assert code in (1, 2) and "added" not in out, out


def test_diff_locates_a_broken_git_ref_in_the_ref(tmp_path: Path) -> None:
    project = make_project(tmp_path)

    def git(*args: str) -> None:
        subprocess.run(["git", "-c", "user.email=t@example.com", "-c", "user.name=t", *args],
                       cwd=project, check=True, capture_output=True)

    git("init", "-q")
    git("add", ".")
    git("commit", "-q", "-m", "base")
    (project / "definitions" / "kpis.yaml").write_text(KPIS + "  - name: [broken\n")
    git("commit", "-q", "-am", "head")
    code, out = invoke(project, "diff", "HEAD~1", "HEAD")
    assert code in (1, 2), out
    assert re.search(r"HEAD:definitions/kpis\.yaml:\d+:\d+: error\[", out), out
    assert "kpiframe-diff-" not in out


def test_diff_never_cuts_a_difference_away(tmp_path: Path) -> None:
    project = make_project(tmp_path)
    long = " + ".join(["likes", "comments", "shares", "saves", "clicks"] * 4)
    base, head = project / "base", project / "head"
    for folder, expr in ((base, long + " + likes"), (head, long + " + clicks")):
        folder.mkdir()
        (folder / "kpis.yaml").write_text(KPIS.replace("expr: likes", f"expr: {expr}", 1))
    for fmt in ("text", "markdown"):
        code, out = invoke(project, "diff", str(base), str(head), "--format", fmt)
        assert code == 0, out
        line = next(line for line in out.splitlines() if "expr" in line)
        assert "…" in line and "+ likes" in line and "+ clicks" in line, line


def test_pair_shows_short_values_whole_and_cuts_long_ones_where_they_differ() -> None:
    assert _pair("a + b", "a + c") == ("a + b", "a + c")
    a, b = _pair("x" * 100 + "AAA" + "y" * 100, "x" * 100 + "BBB" + "y" * 100, limit=40)
    assert a != b and "AAA" in a and "BBB" in b and a.startswith("…") and a.endswith("…")
    assert _pair("a  +\nb", "a + b") == ('"a  +\\nb"', '"a + b"')
    assert _pair(None, "x") == ("—", "x")


# --------------------------------------------------------------------------- KPI test fixtures

FIXTURES = """\
tests:
  - name: text_in_an_integer
    kpis: [likes]
    given:
      alpha:
        post_daily:
          - {post_id: "1", date: 2025-01-03, likes: "many"}
    expect:
      - {likes: 10}
  - name: a_bad_date
    kpis: [likes]
    given:
      alpha:
        post_daily:
          - {post_id: "1", date: "2025-13-45", likes: 1}
    expect:
      - {likes: 1}
  - name: fine
    kpis: [likes]
    given:
      alpha:
        post_daily:
          - {post_id: 7, date: 2025-01-03, likes: 10}
          - {post_id: "8", date: "2025-01-04", likes: 5}
    expect:
      - {likes: 15}
"""


@pytest.mark.parametrize("engine", ["duckdb://", "sqlite://", "postgres"])
def test_a_fixture_of_the_wrong_type_fails_only_its_test(
        tmp_path: Path, engine: str, request: pytest.FixtureRequest,
        monkeypatch: pytest.MonkeyPatch) -> None:
    if engine == "postgres":
        engine = request.getfixturevalue("postgres_url")
    project = make_project(tmp_path)
    (project / "definitions" / "tests.yaml").write_text(FIXTURES)
    monkeypatch.chdir(project)
    code, out = invoke(project, "--plugin", "testplatforms", "test", "--engine", engine)
    assert code == 1, out
    assert "internal error" not in out
    assert re.search(r"tests\.yaml:7:46: error\[bad-fixture-value\] test 'text_in_an_integer': "
                     r"post_daily\.likes is an integer column, and 'many' is not a whole number",
                     out), out
    assert re.search(r"tests\.yaml:15:28: error\[bad-fixture-value\] .*post_daily\.date is a "
                     r"date column, and '2025-13-45' is not a date", out), out
    assert "PASS fine" in out and "1 passed, 2 failed" in out, out


def test_a_plugin_file_that_is_the_projects_own_is_read_once(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A checkout with the standard catalog's package installed from it: the plugin ships
    the very files the project reads (a link to the same folder). Each is read once, as
    the project's, with no duplicate or override problems."""
    from kpiframe import load_catalog

    defs = tmp_path / "definitions"
    defs.mkdir()
    (defs / "k.yaml").write_text(
        "kpis:\n  - {name: likes_total, type: simple, source: post_daily, agg: sum, "
        "expr: likes}\n")
    shipped = tmp_path / "pkg"
    shipped.mkdir()
    (shipped / "definitions").symlink_to(defs)
    (shipped / "sameplugin.py").write_text(
        "from pathlib import Path\nimport kpiframe\n\n\n@kpiframe.hookimpl\n"
        "def kpiframe_definitions():\n    return [Path(__file__).parent / 'definitions']\n")
    monkeypatch.syspath_prepend(str(shipped))
    catalog = load_catalog(defs, project=tmp_path, plugins=["testplatforms", "sameplugin"])
    assert list(catalog.kpis) == ["likes_total"]
    assert catalog.kpis["likes_total"].plugin is None
    assert not [p for p in catalog.validate() if p.rule in ("duplicate-kpi", "overridden-kpi")]
