"""kpiframe.yaml faults: every setting, broken every way a user can break it, is a located
problem and exit 2 from every command; a query never runs on the default database
instead. Also: an empty catalog or a mistyped `definitions:` path is an error unless
`--allow-empty`, and files and folders kpiframe cannot read are reported, never skipped.
"""

from __future__ import annotations

import datetime as dt
import errno
import json
import os
import re
import signal
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

import kpiframe
from kpiframe.cli import main
from kpiframe.engines.duckdb import DuckDBConnection
from kpiframe.project import ProjectError, load_project
from kpiframe.schema import PROJECT, schema, schema_text
from kpiframe.testing import canonical_columns

KPIS = """\
kpis:
  - name: likes
    type: simple
    source: post_daily
    agg: sum
    expr: likes
"""

#: a line of problem output: file:line:col: error[rule] message (hint)
LOCATED = re.compile(r"^kpiframe\.yaml:(\d+):(\d+): error\[([a-z0-9-]+)\] (.+) \((.+)\)$")

GOOD = "engine: {url}\nplugins: [testplatforms]\n"
#: 1,000,000 nodes from a few lines: the billion laughs, smaller
BOMB = "".join(
    f"{a}: &{a} [{', '.join([f'*{b}'] * 10)}]\n" for b, a in zip("abcde", "bcdef", strict=True)
)
BOMB = "a: &a [x, x, x, x, x, x, x, x, x, x]\n" + BOMB


#: (setting, case, kpiframe.yaml, line, column, rule). `{url}` is a working database.
CASES: list[tuple[str, str, str, int, int, str]] = [
    ("definitions", "a-number", "definitions: 5\n" + GOOD, 1, 14, "wrong-type"),
    ("definitions", "empty-list", "definitions: []\n" + GOOD, 1, 14, "bad-value"),
    ("definitions", "list-of-lists", "definitions: [[definitions]]\n" + GOOD, 1, 15,
     "wrong-type"),
    ("definitions", "mistyped-folder", "definitions: [definitons]\n" + GOOD, 1, 15,
     "definitions-not-found"),
    ("definitions", "mistyped-string", GOOD + "definitions: definitons\n", 3, 14,
     "definitions-not-found"),
    ("engine", "a-number", "plugins: [testplatforms]\nengine: 5\n", 2, 9, "wrong-type"),
    ("engine", "a-list", "plugins: [testplatforms]\nengine: [duckdb://]\n", 2, 9,
     "wrong-type"),
    ("engine", "empty", "plugins: [testplatforms]\nengine: ''\n", 2, 9, "bad-value"),
    ("engine", "a-date", "plugins: [testplatforms]\nengine: 2025-01-01\n", 2, 9, "wrong-type"),
    ("plugins", "a-string", "engine: {url}\nplugins: testplatforms\n", 2, 10, "wrong-type"),
    ("plugins", "not-a-module", "engine: {url}\nplugins: [testplatforms, my-plugin]\n", 2, 26,
     "bad-value"),
    ("plugins", "twice", "engine: {url}\nplugins: [testplatforms, testplatforms]\n", 2, 26,
     "schema"),
    ("disable_plugins", "a-string", GOOD + "disable_plugins: testplatforms\n", 3, 18,
     "wrong-type"),
    ("disable_plugins", "unknown-plugin", GOOD + "disable_plugins: [testplatform]\n", 3, 19,
     "unknown-plugin"),
    ("disable_plugins", "empty-name", GOOD + "disable_plugins: ['']\n", 3, 19, "bad-value"),
    ("prefer", "a-list", GOOD + "prefer: [alpha]\n", 3, 9, "wrong-type"),
    ("prefer", "a-number", GOOD + "prefer: {alpha: 1}\n", 3, 17, "wrong-type"),
    ("prefer", "unknown-plugin", GOOD + "prefer: {alpha: testplatform}\n", 3, 17,
     "unknown-plugin"),
    ("prefer", "unknown-name", GOOD + "prefer: {gamma: testplatforms}\n", 3, 10,
     "unknown-platform"),
    ("prefer", "plugin-without-it", GOOD + "prefer: {alpha: kpiframe.engines}\n", 3, 17,
     "unknown-plugin"),
    ("platforms", "a-list", GOOD + "platforms: [alpha]\n", 3, 12, "wrong-type"),
    ("platforms", "unknown-platform", GOOD + "platforms:\n  gamma: {layout: canonical}\n", 4,
     3, "unknown-platform"),
    ("platforms", "misspelled-platform", GOOD + "platforms:\n  alpah: {enabled: false}\n", 4,
     3, "unknown-platform"),
    ("platforms", "settings-a-string", GOOD + "platforms:\n  alpha: canonical\n", 4, 10,
     "wrong-type"),
    ("platforms", "unknown-setting", GOOD + "platforms:\n  alpha: {layot: canonical}\n", 4, 11,
     "unknown-key"),
    ("layout", "unknown", GOOD + "platforms:\n  alpha: {layout: nope}\n", 4, 19,
     "unknown-layout"),
    ("layout", "a-number", GOOD + "platforms:\n  alpha: {layout: 1}\n", 4, 19, "wrong-type"),
    ("schema", "a-list", GOOD + "platforms:\n  alpha: {schema: [a]}\n", 4, 19, "wrong-type"),
    ("schema", "empty", GOOD + "platforms:\n  alpha: {schema: ''}\n", 4, 19, "bad-value"),
    ("enabled", "a-string", GOOD + "platforms:\n  alpha: {enabled: 'no'}\n", 4, 20,
     "wrong-type"),
    ("enabled", "a-number", GOOD + "platforms:\n  alpha: {enabled: 0}\n", 4, 20, "wrong-type"),
    ("file", "unknown-key", GOOD + "engnie: duckdb://\n", 3, 1, "unknown-key"),
    ("file", "duplicate-key", GOOD + "engine: duckdb://\n", 3, 1, "duplicate-key"),
    ("file", "duplicate-platform-key", GOOD + "platforms:\n  alpha: {}\n  alpha: {}\n", 5, 3,
     "duplicate-key"),
    ("file", "malformed", GOOD + "platforms: {alpha: {layout: canonical}\n", 3, 12,
     "yaml-syntax"),
    ("file", "alias-bomb", GOOD + BOMB, 8, 4, "yaml-alias-bomb"),
    ("file", "recursive-alias", GOOD + "prefer: &p {x: *p}\n", 3, 16, "yaml-alias"),
    ("file", "a-list", "- engine: {url}\n", 1, 1, "not-a-mapping"),
    ("file", "a-string", "engine {url}\n", 1, 1, "not-a-mapping"),
    ("file", "not-utf8", GOOD + "engine: caf\udcc3\n", 3, 12, "not-utf8"),
]


@pytest.fixture(scope="module")
def database(tmp_path_factory: pytest.TempPathFactory) -> str:
    """A DuckDB file with likes on both test platforms (shared: queries only read it)."""
    url = f"duckdb:///{tmp_path_factory.mktemp('db') / 'social.duckdb'}"
    con = DuckDBConnection(url)
    columns = canonical_columns("post_daily")
    names = [n for n, _ in columns]
    for platform, likes in (("alpha", 7), ("beta", 10)):
        row = dict.fromkeys(names)
        row.update(post_id="1", date=dt.date(2025, 1, 5), likes=likes, impressions=100)
        con.create_table(platform, "post_daily", columns, [[row[n] for n in names]])
    con.close()
    return url


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, database: str) -> Path:
    (tmp_path / "definitions").mkdir()
    (tmp_path / "definitions" / "kpis.yaml").write_text(KPIS)
    (tmp_path / "kpiframe.yaml").write_text(GOOD.format(url=database))
    monkeypatch.delenv("KPIFRAME_ENGINE", raising=False)
    monkeypatch.chdir(tmp_path)
    return tmp_path


def invoke(*args: str) -> Result:
    result = CliRunner().invoke(main, list(args))
    assert "Traceback" not in result.output and "internal error" not in result.output, \
        result.output
    return result


def write_config(project: Path, text: str, database: str) -> None:
    data = text.replace("{url}", database).encode("utf-8", errors="surrogateescape")
    (project / "kpiframe.yaml").write_bytes(data)


def untouched_default_database(project: Path) -> bool:
    return not (project / ".kpiframe").exists()


def test_a_good_project_answers(project: Path) -> None:
    """The baseline each fault below breaks: the same project, valid, gives numbers."""
    result = invoke("query", "likes", "--by", "platform", "--format", "json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == [{"platform": "alpha", "likes": 7},
                                         {"platform": "beta", "likes": 10}]
    assert untouched_default_database(project)


@pytest.mark.parametrize(("setting", "case", "text", "line", "column", "rule"), CASES,
                         ids=[f"{c[0]}-{c[1]}" for c in CASES])
def test_every_fault_is_located_and_query_refuses(
        project: Path, database: str, setting: str, case: str, text: str, line: int,
        column: int, rule: str) -> None:
    write_config(project, text, database)
    result = invoke("query", "likes", "--by", "platform")
    assert result.exit_code == 2, result.output
    assert result.stdout == ""  # no numbers, from any database
    assert untouched_default_database(project)
    found = [LOCATED.match(line_) for line_ in result.stderr.splitlines()]
    located = [(int(m[1]), int(m[2]), m[3]) for m in found if m]
    assert (line, column, rule) in located, result.stderr
    assert all(found), f"every line is a located problem with a hint:\n{result.stderr}"


def test_the_cases_cover_every_setting_of_the_schema() -> None:
    document = schema(PROJECT)
    settings = set(document["properties"])
    settings |= set(document["$defs"]["platform"]["properties"])
    assert settings | {"file"} == {setting for setting, *_ in CASES}


def test_the_project_schema_is_printed_and_shipped() -> None:
    result = invoke("schema", "project")
    assert result.exit_code == 0 and json.loads(result.stdout) == schema(PROJECT)
    assert result.stdout == schema_text(PROJECT)
    assert schema(PROJECT)["$schema"] == "https://json-schema.org/draft/2020-12/schema"


def test_the_documented_example_is_valid(tmp_path: Path) -> None:
    page = (Path(__file__).parent.parent / "docs" / "project.md").read_text("utf-8")
    example = page.split("```yaml\n", 1)[1].split("```", 1)[0]
    (tmp_path / "kpiframe.yaml").write_text(example + "  youtube:\n")
    found = load_project(tmp_path)
    assert found.problems == ()
    assert found.definitions == ("definitions/",)
    assert found.disable_plugins == ("kpiframe_tiktok",) and found.prefer == {"x": "kpiframe_x"}
    assert found.platforms["x"].schema == "twitter_organic"
    assert not found.platforms["tiktok"].enabled and found.platforms["youtube"].enabled


# --------------------------------------------------------------------------- every command


def commands(project: Path) -> dict[str, list[str]]:
    """One invocation of each command that reads the project."""
    scratch = f"duckdb:///{project / 'scratch.duckdb'}"
    return {
        "validate": ["validate"],
        "list": ["list"],
        "show": ["show", "likes"],
        "compile": ["compile", "likes"],
        "query": ["query", "likes"],
        "report": ["report", "likes", "--output", str(project / "report.html")],
        "plugins": ["plugins"],
        "test": ["test"],
        "diff": ["diff", "definitions", "definitions"],
        "sample-data": ["sample-data", "--engine", scratch, "--scale", "0.01", "--days", "1"],
        "demo": ["demo", "--engine", scratch, "--scale", "0.01"],
    }


COMMANDS = sorted(commands(Path()))
#: commands that read the catalog (sample-data and plugins do not need definitions;
#: diff is given its folders)
CATALOG_COMMANDS = [c for c in COMMANDS if c not in ("sample-data", "plugins", "diff")]


def test_every_command_but_schema_is_covered() -> None:
    assert set(main.commands) - {"schema"} == set(COMMANDS)


@pytest.mark.parametrize("command", COMMANDS)
def test_every_command_refuses_a_duplicate_key(project: Path, database: str,
                                               command: str) -> None:
    write_config(project, GOOD + "engine: duckdb://\n", database)
    result = invoke(*commands(project)[command])
    assert result.exit_code == 2, result.output
    assert "kpiframe.yaml:3:1: error[duplicate-key] duplicate key 'engine'" in result.stderr
    assert not (project / "scratch.duckdb").exists() and untouched_default_database(project)


@pytest.mark.parametrize("command", COMMANDS)
def test_every_command_refuses_an_unknown_layout(project: Path, database: str,
                                                 command: str) -> None:
    """Only loaded plugins know the layouts; the platform once silently left the totals."""
    write_config(project, GOOD + "platforms:\n  alpha: {layout: nope}\n", database)
    result = invoke(*commands(project)[command])
    assert result.exit_code == 2, result.output
    assert ("kpiframe.yaml:4:19: error[unknown-layout] platform 'alpha' has no layout 'nope' "
            "(layouts: canonical)") in result.stderr
    assert not (project / "scratch.duckdb").exists()


@pytest.mark.parametrize("case", ["unknown-key", "alias-bomb", "a-list", "unknown-plugin"])
@pytest.mark.parametrize("command", ["validate", "list", "sample-data"])
def test_other_commands_spot_checks(project: Path, database: str, command: str,
                                    case: str) -> None:
    [(_, _, text, line, column, rule)] = [c for c in CASES if c[1] == case and
                                          c[0] in ("file", "disable_plugins")]
    write_config(project, text, database)
    result = invoke(*commands(project)[command])
    assert result.exit_code == 2, result.output
    assert f"kpiframe.yaml:{line}:{column}: error[{rule}]" in result.stderr


def test_the_python_api_refuses_an_invalid_project(project: Path, database: str) -> None:
    write_config(project, GOOD + "engine: duckdb://\n", database)
    with pytest.raises(ProjectError, match="duplicate key 'engine'"):
        kpiframe.load_catalog(project=project)


# --------------------------------------------------------------------------- empty catalogs


def test_a_mistyped_definitions_folder_is_an_error(project: Path, database: str) -> None:
    write_config(project, "definitions: [definitons]\n" + GOOD, database)
    expected = ("kpiframe.yaml:1:15: error[definitions-not-found] definitions: no such file "
                "or folder: definitons (did you mean 'definitions'?)")
    for flags in ([], ["--strict"]):
        result = invoke("validate", *flags)
        assert result.exit_code == 2, result.output
        assert expected in result.stderr
    result = invoke("validate", "--allow-empty")
    assert result.exit_code == 0, result.output
    assert expected.replace("error[", "warning[") in result.stdout
    assert "0 KPIs" in result.stdout
    result = invoke("validate", "--allow-empty", "--strict")
    assert result.exit_code == 1, result.output


@pytest.mark.parametrize("command", CATALOG_COMMANDS)
def test_every_catalog_command_refuses_a_mistyped_definitions_folder(
        project: Path, database: str, command: str) -> None:
    write_config(project, "definitions: definitons\n" + GOOD, database)
    result = invoke(*commands(project)[command])
    assert result.exit_code == 2, result.output
    assert "kpiframe.yaml:1:14: error[definitions-not-found]" in result.stderr


def test_no_definitions_folder_names_where_kpiframe_looked(project: Path) -> None:
    (project / "definitions" / "kpis.yaml").unlink()
    (project / "definitions").rmdir()
    result = invoke("validate", "--strict")
    assert result.exit_code == 2, result.output
    assert result.stderr.startswith(
        "error[empty-catalog] no KPI definitions to load: no such file or folder: "
        "definitions (create definitions/")
    result = invoke("list")
    assert result.exit_code == 2 and "error[empty-catalog]" in result.stderr
    result = invoke("validate", "--allow-empty", "--strict")
    assert result.exit_code == 0, result.output
    assert "0 KPIs in 0 files" in result.stdout
    result = invoke("list", "--allow-empty")
    assert result.exit_code == 0 and "0 KPIs." in result.stdout
    result = invoke("plugins")  # about plugins, not definitions
    assert result.exit_code == 0 and "testplatforms" in result.stdout


def test_an_empty_definitions_folder_is_an_error(project: Path) -> None:
    (project / "definitions" / "kpis.yaml").rename(project / "elsewhere.yaml")
    (project / "definitions" / "notes.txt").write_text("not a definition")
    for flags in ([], ["--strict"]):
        result = invoke("validate", *flags)
        assert result.exit_code == 2, result.output
        assert ("error[empty-catalog] no KPI definitions to load: no *.yaml or *.yml files "
                "in definitions") in result.stderr
    for flags in ([], ["--strict"]):
        result = invoke("validate", "--allow-empty", *flags)
        assert result.exit_code == 0, result.output
    result = invoke("validate", "definitions")  # the same folder named on the command line
    assert result.exit_code == 2 and "error[empty-catalog]" in result.stderr
    result = invoke("query", "likes")
    assert result.exit_code == 2 and result.stdout == ""


def test_the_python_api_refuses_an_empty_catalog_unless_allowed(project: Path) -> None:
    (project / "definitions" / "kpis.yaml").unlink()
    with pytest.raises(ProjectError, match="no KPI definitions to load"):
        kpiframe.load_catalog(project=project)
    with pytest.raises(ProjectError, match="no KPI definitions to load"):
        kpiframe.load_catalog([], project=project)
    assert len(kpiframe.load_catalog(project=project, allow_empty=True)) == 0


def test_definitions_a_plugin_ships_are_a_catalog(project: Path, database: str,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    """No definitions folder of its own is fine when a plugin ships the KPIs."""
    shipped = project / "shipped"
    (project / "definitions").rename(shipped)
    (project / "shipping_kpis.py").write_text(
        "from kpiframe import hookimpl\n\n"
        f"@hookimpl\ndef kpiframe_definitions():\n    return [{str(shipped)!r}]\n")
    monkeypatch.syspath_prepend(str(project))
    write_config(project, "engine: {url}\nplugins: [testplatforms, shipping_kpis]\n", database)
    result = invoke("query", "likes", "--format", "csv")
    assert result.exit_code == 0, result.output
    assert result.stdout == "likes\n17\n"


# --------------------------------------------------------------------------- unreadable


@pytest.fixture
def deadline() -> Iterator[None]:
    """Fail instead of hanging: reading a named pipe once waited forever."""
    def expired(*_: Any) -> None:
        raise TimeoutError("kpiframe blocked reading a file")

    previous = signal.signal(signal.SIGALRM, expired)
    signal.alarm(30)
    yield
    signal.alarm(0)
    signal.signal(signal.SIGALRM, previous)


@pytest.fixture
def deny(monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[[Path], None]]:
    """Make a path unreadable. Root reads through chmod 000, so as root the OS calls that
    open or list it fail the way they fail on a permission error instead."""
    restore: list[tuple[Path, int]] = []

    def make_unreadable(path: Path) -> None:
        if os.geteuid() != 0:
            restore.append((path, path.stat().st_mode))
            path.chmod(0)
            return
        target = os.path.realpath(path)
        real_open, real_scandir = os.open, os.scandir

        def refuse(name: Any) -> None:
            if os.path.realpath(os.fspath(name)) == target:
                raise PermissionError(errno.EACCES, os.strerror(errno.EACCES), os.fspath(name))

        def fake_open(name: Any, *args: Any, **kwargs: Any) -> int:
            refuse(name)
            return real_open(name, *args, **kwargs)

        def fake_scandir(name: Any = ".") -> Any:
            refuse(name)
            return real_scandir(name)

        monkeypatch.setattr(os, "open", fake_open)
        monkeypatch.setattr(os, "scandir", fake_scandir)

    yield make_unreadable
    for path, mode in restore:
        path.chmod(mode)


def test_a_named_pipe_is_reported_not_read(project: Path, deadline: None) -> None:
    os.mkfifo(project / "definitions" / "pipe.yaml")
    result = invoke("validate")
    assert result.exit_code == 1, result.output
    assert ("definitions/pipe.yaml: error[unreadable] cannot read file: not a regular file: "
            "it is a named pipe") in result.stdout
    assert "1 KPI" in result.stdout  # the readable file is still checked


def test_a_broken_link_is_reported(project: Path) -> None:
    (project / "definitions" / "gone.yaml").symlink_to(project / "nowhere.yaml")
    result = invoke("validate")
    assert result.exit_code == 1, result.output
    assert (f"definitions/gone.yaml: error[unreadable] cannot read file: it is a broken "
            f"symbolic link to {project / 'nowhere.yaml'}") in result.stdout


def test_an_unreadable_folder_is_reported(project: Path,
                                          deny: Callable[[Path], None]) -> None:
    hidden = project / "definitions" / "team"
    hidden.mkdir()
    (hidden / "more.yaml").write_text(KPIS.replace("likes", "team_likes"))
    deny(hidden)
    result = invoke("validate")
    assert result.exit_code == 1, result.output
    assert ("definitions/team: error[unreadable] cannot read folder: Permission denied"
            in result.stdout)


def test_an_unreadable_file_is_reported_by_query_too(project: Path,
                                                     deny: Callable[[Path], None]) -> None:
    deny(project / "definitions" / "kpis.yaml")
    result = invoke("validate")
    assert result.exit_code == 1, result.output
    expected = "definitions/kpis.yaml: error[unreadable] cannot read file: Permission denied"
    assert expected in result.stdout
    result = invoke("query", "likes")
    assert result.exit_code == 1, result.output
    assert expected in result.stderr and "error[unknown-kpi]" in result.stderr


@pytest.mark.parametrize("kind", ["folder", "pipe", "broken-link", "denied"])
def test_an_unreadable_project_file_is_refused(project: Path, deny: Callable[[Path], None],
                                               deadline: None, kind: str) -> None:
    config = project / "kpiframe.yaml"
    config.unlink()
    if kind == "folder":
        config.mkdir()
    elif kind == "pipe":
        os.mkfifo(config)
    elif kind == "broken-link":
        config.symlink_to(project / "nowhere.yaml")
    else:
        config.write_text("engine: duckdb://\n")
        deny(config)
    result = invoke("query", "likes")
    assert result.exit_code == 2, result.output
    assert result.stderr.startswith("kpiframe.yaml: error[unreadable] cannot read file: ")
    assert untouched_default_database(project)
