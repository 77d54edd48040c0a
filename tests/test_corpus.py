"""The broken-definitions corpus: one problem per file, reported at the right place.

Each file in `tests/corpus/broken/` has exactly one problem, and its first line says
which and where: `# expect: <rule> <line>:<col>`. A folder is one case (a problem that
needs several files); exactly one of its files carries the `# expect:` line. Every case
is checked through the Python API, the CLI in-process, and once, over the whole corpus,
through the real `kpiframe` executable.
"""

from __future__ import annotations

import ast
import json
import os
import re
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

import kpiframe
from kpiframe.cli import main
from kpiframe.problems import Problem

ROOT = Path(__file__).resolve().parents[1]
CORPUS = Path("tests/corpus/broken")  # relative: problems name files relative to the cwd
PLUGINS = ["testplatforms"]

#: every rule `kpiframe validate` can report about a definition file; each needs a case
RULES = frozenset({
    # the file cannot be read as a definition file
    "yaml-syntax", "yaml-tab", "duplicate-key", "yaml-alias-bomb", "yaml-alias",
    "yaml-too-deep", "not-utf8", "empty-file", "not-a-mapping", "not-finite",
    # the JSON Schema
    "unknown-key", "wrong-type", "bad-name", "missing-field", "bad-value",
    "conflicting-fields", "schema",
    # names and references
    "duplicate-kpi", "unknown-kpi", "cycle", "duplicate-test",
    # sources, platforms, fields
    "unknown-source", "unknown-platform", "platform-missing-source", "platform-missing-field",
    # expressions
    "expr-syntax", "expr-multiple-statements", "expr-forbidden", "unknown-field",
    "unknown-function", "expr-type", "expr-too-deep", "expr-too-long",
    # type rules
    "cumulative-not-additive", "weights-not-interaction", "bad-average-over", "target-grain",
    "target-negative",
    # warnings
    "sum-non-additive", "percent-without-scale", "target-zero", "target-platform-unused",
})
WARNINGS = frozenset({"sum-non-additive", "percent-without-scale", "target-zero",
                      "target-platform-unused"})

#: rule ids the validating modules contain that no definition file in this corpus can
#: trigger, and why; anything else those modules can say must be in RULES
NOT_IN_CORPUS = {
    "file-too-large": "needs a 20 MB file; tests/test_yamlsource.py lowers the cap instead",
    "overridden-kpi": "needs a plugin that ships definitions (tests/test_plugins.py)",
    "platform-disabled": "needs a kpiframe.yaml that disables a platform",
    "unknown-layout": "needs a kpiframe.yaml",
    "field-not-provided": "the test platform `alpha` provides every field",
    "plugin-error": "a plugin failing, not a definition file",
    "path-not-found": "a usage error (exit 2), not a problem in a file",
    "unknown-dialect": "compile/query option",
    "unknown-test": "`kpiframe test -k` option",
    "no-canonical-layout": "`kpiframe test` at run time",
    "unreadable": "a file the OS refuses to read: git cannot keep one",
    "plugin-clash": "two plugins registering one name (tests/test_plugin_faults.py)",
    "plugin-timeout": "a hanging plugin hook (tests/test_plugin_faults.py)",
    "fixture-load": "`kpiframe test` at run time, loading rows into an engine",
    "bad-fixture-value": "`kpiframe test` at run time, a value the engine cannot store",
    "test-cleanup": "`kpiframe test` at run time, dropping its own schema",
    "bad-setting": "kpiframe.yaml, not a definition file (tests/test_project_config.py)",
    "definitions-not-found": "kpiframe.yaml's definitions (tests/test_project_config.py)",
    "empty-catalog": "no definition files at all (tests/test_project_config.py)",
    "unknown-plugin": "kpiframe.yaml's prefer/disable_plugins (tests/test_project_config.py)",
}
VALIDATING_MODULES = ("yamlsource", "schema", "catalog", "checks", "expressions", "exprbuild",
                      "kpitests", "plugins", "project", "plugin_guard", "plugin_results")
#: calls that make a problem, and which positional argument is its rule id
_RULE_ARGUMENT = {"at": 1, "Problem": 0, "ExprError": 0, "BuildError": 0, "_problem": 1}


@dataclass(frozen=True)
class Case:
    path: Path  # what is validated: a file, or a folder
    file: Path  # the file with the `# expect:` line
    rule: str
    line: int
    column: int

    @property
    def severity(self) -> str:
        return "warning" if self.rule in WARNINGS else "error"

    @property
    def where(self) -> str:
        return f"{self.file}:{self.line}:{self.column}: {self.severity}[{self.rule}]"


_EXPECT = re.compile(rb"# expect: ([a-z0-9-]+) (\d+):(\d+)\n")


def _expectation(path: Path) -> re.Match[bytes] | None:
    return _EXPECT.match((ROOT / path).read_bytes())


def _cases() -> list[Case]:
    cases = []
    for path in sorted((ROOT / CORPUS).iterdir()):
        relative = path.relative_to(ROOT)
        if path.is_dir():
            marked = [f.relative_to(ROOT) for f in sorted(path.rglob("*.y*ml"))
                      if _expectation(f.relative_to(ROOT))]
            assert len(marked) == 1, f"{relative}: exactly one file needs an `# expect:` line"
            file = marked[0]
        elif path.suffix in (".yaml", ".yml"):
            file = relative
        else:
            continue
        match = _expectation(file)
        assert match, f"{file}: the first line must be `# expect: <rule> <line>:<col>`"
        rule, line, column = match.group(1).decode(), int(match.group(2)), int(match.group(3))
        cases.append(Case(relative, file, rule, line, column))
    return cases


CASES = _cases()


@pytest.fixture(autouse=True)
def _in_root(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)


@pytest.fixture
def project(tmp_path: Path) -> Path:
    empty = tmp_path / "project"
    empty.mkdir()
    return empty


def _validate(path: Path | str, project: Path) -> list[Problem]:
    catalog = kpiframe.load_catalog([path], project=project, plugins=PLUGINS)
    return catalog.validate()


def _cli(project: Path, *args: str) -> Result:
    runner = CliRunner()
    return runner.invoke(
        main, ["--project", str(project), "--plugin", *PLUGINS, "validate", *args],
        catch_exceptions=True,
    )


def _assert_clean_exit(result: Result) -> None:
    assert result.exception is None or isinstance(result.exception, SystemExit), (
        f"crashed: {result.exception!r}\n{result.output}")
    assert "Traceback" not in result.output


# ------------------------------------------------------------------------ per case


@pytest.mark.parametrize("case", CASES, ids=[c.path.name for c in CASES])
def test_one_problem_at_the_expected_place(case: Case, project: Path) -> None:
    problems = _validate(case.path, project)
    assert len(problems) == 1, (
        "exactly one problem expected, got:\n" + "\n".join(p.format() for p in problems))
    (problem,) = problems
    got = (problem.rule, problem.file, problem.line, problem.column, problem.severity)
    assert got == (case.rule, str(case.file), case.line, case.column, case.severity), (
        problem.format())
    assert problem.message and problem.hint, "every problem says what is wrong and how to fix it"


@pytest.mark.parametrize("case", CASES, ids=[c.path.name for c in CASES])
def test_cli_reports_the_problem(case: Case, project: Path) -> None:
    (problem,) = _validate(case.path, project)
    result = _cli(project, str(case.path))
    _assert_clean_exit(result)
    assert problem.format() in result.output.splitlines()
    assert result.exit_code == (0 if case.severity == "warning" else 1), result.output
    if case.severity == "warning":
        strict = _cli(project, "--strict", str(case.path))
        _assert_clean_exit(strict)
        assert strict.exit_code == 1, strict.output
        assert problem.format() in strict.output.splitlines()


# ------------------------------------------------------------------------ the corpus


def test_corpus_is_large_enough_and_covers_every_rule() -> None:
    assert len(CASES) >= 40
    covered = {c.rule for c in CASES}
    missing = sorted(RULES - covered)
    assert not missing, f"rules without a corpus case: {missing}"
    unknown = sorted(covered - RULES)
    assert not unknown, f"corpus cases for rules missing from RULES: {unknown}"


def test_corpus_files_are_named_after_their_rule() -> None:
    numbers = []
    for case in CASES:
        if case.path.is_dir():
            continue
        match = re.fullmatch(r"(\d\d)-([a-z0-9-]+)\.yaml", case.path.name)
        assert match and match.group(2).startswith(case.rule + "-"), case.path.name
        numbers.append(match.group(1))
    assert len(numbers) == len(set(numbers)), "each number once"


def _rule_ids_in(module: str) -> set[str]:
    """Rule ids given as literals where a module makes a `Problem` (or an `ExprError`)."""
    tree = ast.parse((ROOT / "kpiframe" / f"{module}.py").read_text("utf-8"))
    found = set()
    for node in ast.walk(tree):
        # a rule given as a default: `rule: str = "plugin-error"` (a field or a parameter)
        if isinstance(node, ast.AnnAssign) and getattr(node.target, "id", None) == "rule" \
                and isinstance(node.value, ast.Constant):
            found.add(str(node.value.value))
        if isinstance(node, ast.arguments):
            params = [*node.args, *node.kwonlyargs]
            defaults = [*([None] * (len(node.args) - len(node.defaults))), *node.defaults,
                        *node.kw_defaults]
            found |= {str(d.value) for a, d in zip(params, defaults, strict=True)
                      if a.arg == "rule" and isinstance(d, ast.Constant)}
        if not isinstance(node, ast.Call):
            continue
        func = node.func
        name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", None)
        index = _RULE_ARGUMENT.get(str(name))
        candidates = [kw.value for kw in node.keywords if kw.arg == "rule"]
        if index is not None and len(node.args) > index:
            candidates.append(node.args[index])
        found |= {c.value for c in candidates
                  if isinstance(c, ast.Constant) and isinstance(c.value, str)}
    return found


def test_every_rule_the_validator_can_report_is_known() -> None:
    """A new rule in a validating module must get a corpus case (or a stated reason)."""
    found = set().union(*(_rule_ids_in(m) for m in VALIDATING_MODULES))
    assert {"yaml-syntax", "cycle", "schema", "unknown-function"} <= found  # the scan works
    unaccounted = sorted(found - RULES - set(NOT_IN_CORPUS))
    assert not unaccounted, (
        f"rule ids with neither a corpus case nor a reason in NOT_IN_CORPUS: {unaccounted}")
    assert not RULES & set(NOT_IN_CORPUS)
    stale = sorted(set(NOT_IN_CORPUS) - found)
    assert not stale, f"NOT_IN_CORPUS names rules the code no longer has: {stale}"


def test_names_are_unique_across_the_corpus(project: Path) -> None:
    """So that validating the whole corpus at once reports exactly the cases' problems."""
    problems = _validate(CORPUS, project)
    duplicates = [p for p in problems if p.rule in ("duplicate-kpi", "duplicate-test")]
    expected = [c for c in CASES if c.rule in ("duplicate-kpi", "duplicate-test")]
    assert len(duplicates) == len(expected), "\n".join(p.format() for p in duplicates)


def _kpiframe_executable() -> str:
    beside = Path(sys.executable).with_name("kpiframe")
    found = str(beside) if beside.exists() else shutil.which("kpiframe")
    assert found, "the kpiframe console script is not installed"
    return found


def test_the_real_executable_over_the_whole_corpus(project: Path) -> None:
    run = subprocess.run(
        [_kpiframe_executable(), "--project", str(project), "--plugin", *PLUGINS,
         "validate", str(CORPUS)],
        capture_output=True, text=True, timeout=120, cwd=ROOT, env=dict(os.environ),
    )
    output = run.stdout + run.stderr
    assert run.returncode == 1, output
    assert "Traceback" not in output
    lines = [line for line in run.stdout.splitlines() if re.match(r"\S+:\d+:\d+: ", line)]
    reported = {line.split(" ", 1)[0] + " " + line.split(" ", 2)[1] for line in lines}
    expected = {c.where for c in CASES}
    assert expected <= reported, f"missing: {sorted(expected - reported)}"
    assert reported == expected, f"unexpected: {sorted(reported - expected)}"
    for case in CASES:  # the same problem as alone (the hint may name KPIs of other files)
        (problem,) = _validate(case.path, project)
        said = f"{problem.location}: {problem.severity}[{problem.rule}] {problem.message}"
        assert any(line.startswith(said) for line in lines), said
    errors = sum(c.severity == "error" for c in CASES)
    assert f"{errors} errors, {len(CASES) - errors} warnings" in run.stdout


_PURE_PYTHON = """
import json, sys
import yaml
if hasattr(yaml, "CSafeLoader"):
    del yaml.CSafeLoader  # as on a machine where PyYAML has no libyaml
import kpiframe
from kpiframe import yamlsource
assert yamlsource._Base is yaml.SafeLoader
found = {}
for path in sys.argv[2:]:
    problems = kpiframe.load_catalog([path], project=sys.argv[1], plugins=["testplatforms"])
    found[path] = [(p.rule, p.file, p.line, p.column) for p in problems.validate()]
print(json.dumps(found))
"""


def test_corpus_with_the_pure_python_yaml_loader(project: Path) -> None:
    """Without libyaml, PyYAML's own parser words errors differently: same places."""
    run = subprocess.run(
        [sys.executable, "-c", _PURE_PYTHON, str(project), *(str(c.path) for c in CASES)],
        capture_output=True, text=True, timeout=120, cwd=ROOT, env=dict(os.environ),
    )
    assert run.returncode == 0, run.stderr
    found = json.loads(run.stdout)
    wrong = {str(c.path): found[str(c.path)] for c in CASES
             if found[str(c.path)] != [[c.rule, str(c.file), c.line, c.column]]}
    assert not wrong, wrong


# ------------------------------------------------------------------------ formats

JSON_FILES = ("39-unknown-kpi-ratio-denominator.yaml", "69-sum-non-additive-reach.yaml")


def _by_name(*names: str) -> list[Case]:
    return [c for c in CASES if c.path.name in names]


def test_json_format(project: Path) -> None:
    cases = _by_name(*JSON_FILES)
    result = _cli(project, "--format", "json", *(str(c.path) for c in cases))
    _assert_clean_exit(result)
    assert result.exit_code == 1
    payload = json.loads(result.stdout)
    assert set(payload) == {"problems", "kpis", "files"}
    assert payload["files"] == 2
    assert payload["kpis"] == 4
    assert len(payload["problems"]) == 2
    for problem, case in zip(payload["problems"], cases, strict=True):
        assert set(problem) == {"file", "line", "column", "kpi", "rule", "severity",
                                "message", "hint"}
        assert (problem["file"], problem["line"], problem["column"]) == (
            str(case.file), case.line, case.column)
        assert (problem["rule"], problem["severity"]) == (case.rule, case.severity)
        assert isinstance(problem["line"], int) and isinstance(problem["column"], int)
        assert problem["message"] and problem["hint"]
    assert [p["kpi"] for p in payload["problems"]] == ["engagement_rate", "total_reach"]


def test_json_format_for_a_file_that_cannot_be_read(project: Path) -> None:
    (case,) = _by_name("12-not-utf8-latin1-label.yaml")
    result = _cli(project, "--format", "json", str(case.path))
    _assert_clean_exit(result)
    payload = json.loads(result.stdout)
    (problem,) = payload["problems"]
    assert problem["kpi"] is None
    assert (problem["rule"], problem["line"], problem["column"]) == ("not-utf8", 5, 13)
    assert payload["files"] == 1 and payload["kpis"] == 0


def test_github_format(project: Path) -> None:
    cases = _by_name(*JSON_FILES)
    result = _cli(project, "--format", "github", *(str(c.path) for c in cases))
    _assert_clean_exit(result)
    assert result.exit_code == 1
    annotations = [line for line in result.stdout.splitlines() if line.startswith("::")]
    assert len(annotations) == 2
    pattern = re.compile(r"::(error|warning) file=([^,]+),line=(\d+),col=(\d+),title=([^:]+)::(.+)")
    for line, case in zip(annotations, cases, strict=True):
        match = pattern.fullmatch(line)
        assert match, line
        severity, file, row, col, title, message = match.groups()
        assert (severity, file, int(row), int(col), title) == (
            case.severity, str(case.file), case.line, case.column, case.rule)
        assert message.endswith(")"), "the hint follows the message"
    error = next(a for a in annotations if a.startswith("::error "))
    assert error.startswith(f"::error file={cases[0].file},line=17,col=18,title=unknown-kpi::"
                            "ratio 'engagement_rate' refers to 'post_reeach'")


def test_junit_format(project: Path) -> None:
    cases = _by_name("39-unknown-kpi-ratio-denominator.yaml",
                     "47-unknown-source-message-singular.yaml",
                     "69-sum-non-additive-reach.yaml", "13-empty-file-comment-only.yaml")
    result = _cli(project, "--format", "junit", *(str(c.path) for c in cases))
    _assert_clean_exit(result)
    assert result.exit_code == 1
    root = ET.fromstring(result.stdout.encode("utf-8"))
    assert root.tag == "testsuites"
    failures = root.findall(".//testcase/failure")
    errors = [c for c in cases if c.severity == "error"]
    assert len(failures) == len(errors) == 3
    assert sorted(f.get("type") or "" for f in failures) == sorted(c.rule for c in errors)
    assert int(root.get("failures", "0")) == 3
    suites = {s.get("name"): s for s in root.findall("testsuite")}
    assert set(suites) == {str(c.file) for c in cases}
    for case in errors:
        (failure,) = suites[str(case.file)].findall("testcase/failure")
        assert f"{case.file}:{case.line}:{case.column}" in (failure.text or "")
    warned = suites[str(_by_name("69-sum-non-additive-reach.yaml")[0].file)]
    assert not warned.findall("testcase/failure")
    assert "sum-non-additive" in "".join(warned.itertext())
