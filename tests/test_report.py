"""Dashboards and `kpiframe report`, checked the way people meet them.

The standard dashboards' report is opened in a real browser (Debian's chromium, headless,
driven by playwright's Python API; `python3 dev.py test` installs it when missing): it
must load with no console error and no network request, show every tile of every
standard dashboard, and draw each chart with one mark per period and the target line.
Screenshots go to $KPIFRAME_ARTEFACTS (else the test run's temporary folder): look at
them, a chart that renders but cannot be read is a failure. The report's numbers must
equal `kpiframe query --format json` for the same request. Dashboards' own problems
(validate) are located, with hints.

One sample database, one report and one browser serve the whole module.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from kpiframe import dashboards
from kpiframe.catalog import Catalog, load_catalog
from kpiframe.cli import main
from kpiframe.plugins import LOAD_ENV, clear_cache
from kpiframe.report import Report, build, charts, write
from kpiframe.report.data import periods
from kpiframe.sample import build as build_sample

ROOT = Path(__file__).resolve().parents[1]
DEFINITIONS = ROOT / "definitions"
PLUGINS = "x,facebook,instagram,linkedin,tiktok,youtube,pinterest"
START, DAYS = dt.date(2025, 1, 1), 365
CHROMIUM = os.environ.get("KPIFRAME_CHROMIUM", "/usr/bin/chromium")
BROWSER_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                "--disable-component-update", "--disable-sync"]


@pytest.fixture
def first_party(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The first-party platform plugins (conftest loads none)."""
    monkeypatch.setenv(LOAD_ENV, PLUGINS)
    clear_cache()
    yield
    clear_cache()


def standard_catalog(*extra: Path) -> Catalog:
    return load_catalog([DEFINITIONS, *extra])


@pytest.fixture(scope="module")
def artefacts(tmp_path_factory: pytest.TempPathFactory) -> Path:
    chosen = os.environ.get("KPIFRAME_ARTEFACTS")
    if chosen:
        folder = Path(chosen) / "report"
        folder.mkdir(parents=True, exist_ok=True)
        return folder
    return tmp_path_factory.mktemp("report-artefacts")


@pytest.fixture(scope="module")
def sample(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A year of sample data for the seven first-party platforms, built once."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv(LOAD_ENV, PLUGINS)
        clear_cache()
        url = f"duckdb:///{tmp_path_factory.mktemp('report') / 'sample.duckdb'}"
        build_sample(url, scale=1, seed=11, start=START, days=DAYS)
        clear_cache()
    yield url


@pytest.fixture(scope="module")
def standard(sample: str, artefacts: Path) -> Iterator[tuple[Catalog, Report, Path]]:
    """The standard catalog, the report of all its dashboards, and the page written."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv(LOAD_ENV, PLUGINS)
        clear_cache()
        catalog = standard_catalog()
        report = build(catalog, engine=sample, title="Standard dashboards")
        path = write(report, artefacts / "standard.html")
        yield catalog, report, path
        clear_cache()


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    if not Path(CHROMIUM).exists():
        pytest.fail(f"no chromium at {CHROMIUM}: `python3 dev.py test` installs Debian's "
                    "chromium (apt-get install chromium), or set KPIFRAME_CHROMIUM")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=BROWSER_ARGS)
        yield launched
        launched.close()


@pytest.fixture(scope="module")
def opened(browser: Any, standard: tuple[Catalog, Report, Path]) -> Iterator[dict[str, Any]]:
    """The standard report open in a page, with what it logged and asked for."""
    page = browser.new_page(viewport={"width": 1320, "height": 900})
    console: list[tuple[str, str]] = []
    requests: list[str] = []
    failed: list[str] = []
    page.on("console", lambda m: console.append((m.type, m.text)))
    page.on("pageerror", lambda e: console.append(("pageerror", str(e))))
    page.on("request", lambda r: requests.append(r.url))
    page.on("requestfailed", lambda r: failed.append(r.url))
    url = standard[2].resolve().as_uri()
    page.goto(url, wait_until="load")
    yield {"page": page, "console": console, "requests": requests, "failed": failed,
           "url": url}
    page.close()


# --------------------------------------------------------------------------- in a browser


def test_the_page_logs_nothing_and_fetches_nothing(opened: dict[str, Any]) -> None:
    page = opened["page"]
    page.wait_for_timeout(200)  # anything late would show up here
    assert opened["console"] == []
    assert opened["requests"] == [opened["url"]], "the page must fetch nothing"
    assert opened["failed"] == []
    assert page.locator("script:not([type='application/json'])").count() == 0
    csp = page.locator("meta[http-equiv='Content-Security-Policy']").get_attribute("content")
    assert csp is not None and "default-src 'none'" in csp


def test_every_tile_of_every_standard_dashboard_is_there(
        opened: dict[str, Any], standard: tuple[Catalog, Report, Path]) -> None:
    catalog, _, _ = standard
    page = opened["page"]
    boards = dashboards.of(catalog)
    assert len(boards) >= 7
    shown = page.locator("section.dashboard").evaluate_all(
        "els => els.map(e => e.dataset.dashboard)")
    assert shown == list(boards)
    for name, board in boards.items():
        section = page.locator(f"section[data-dashboard='{name}']")
        assert section.locator("h2").inner_text() == board.title
        tiles = section.locator("article.tile").evaluate_all(
            "els => els.map(e => e.dataset.kpi)")
        assert tiles == [t.kpi for t in board.tiles], name
        for kpi in board.kpis:
            tile = section.locator(f"article.tile[data-kpi='{kpi}']").first
            assert tile.locator("h4").inner_text() == catalog.kpis[kpi].title
            assert tile.locator(".headline .value").inner_text() not in ("", "–"), (name, kpi)
            assert tile.locator("svg").count() == 1
            assert tile.locator("figure").get_attribute("aria-label")
            assert tile.locator("table.numbers tbody tr").count() == 12


def _marks(tile: Any, name: str) -> int:
    """Items drawn by the Vega mark named `name` in a tile's chart."""
    return int(tile.locator(f"svg g.{name}_marks > *").count())


def test_each_chart_has_a_mark_per_period_and_the_target_line(
        opened: dict[str, Any], standard: tuple[Catalog, Report, Path]) -> None:
    _, report, _ = standard
    page = opened["page"]
    checked = with_target = 0
    for sec in report.sections:
        # the last 12 complete months of a year of data starting on 1 January
        assert (sec.start, sec.end) == (START, START + dt.timedelta(days=DAYS - 1))
        section = page.locator(f"section[data-dashboard='{sec.dashboard.name}']")
        for index, data in enumerate(sec.tiles):
            tile = section.locator("article.tile").nth(index)
            assert tile.get_attribute("data-kpi") == data.kpi.name
            assert [p["period"].month for p in data.periods] == list(range(1, 13))
            drawn = sum(1 for p in data.periods if p["value"] is not None)
            assert drawn >= 11, data.kpi.name  # a change KPI has no value in the first month
            assert _marks(tile, "values") == drawn, data.kpi.name
            # the breakdown: a row, and a bar, per platform with data in the latest period
            members = data.breakdowns["platform"]
            assert tile.locator("table.breakdown tbody tr").count() == len(members) > 0
            bars = tile.locator("table.breakdown td.bar span").evaluate_all(
                "els => els.map(e => e.getBoundingClientRect().width)")
            assert len(bars) == len(members) and max(bars) > 20, data.kpi.name
            if data.kpi.target is not None:
                with_target += 1
                line = tile.locator("svg g.target_marks path")
                assert line.count() == 1, data.kpi.name
                path = line.get_attribute("d") or ""
                # one vertex per period with a target: M then L (or step H/V pairs)
                assert len(re.findall(r"[ML]", path)) >= 12 or path.count("H") >= 11, path
            else:
                assert _marks(tile, "target") == 0
            checked += 1
    assert checked == sum(len(s.dashboard.tiles) for s in report.sections)
    assert with_target == checked, "every KPI on a standard dashboard has a target"


def test_screenshots_are_written_and_readable(
        opened: dict[str, Any], standard: tuple[Catalog, Report, Path], artefacts: Path,
) -> None:
    """Screenshots of the whole page and of one tile per dashboard. A person looks at
    them (the README's picture is one); here: they exist, are big enough to read, and
    the chart has room (it is not squeezed below the size it was drawn at)."""
    page = opened["page"]
    _, report, _ = standard
    whole = artefacts / "standard-page.png"
    page.screenshot(path=str(whole), full_page=True)
    assert whole.stat().st_size > 100_000
    for sec in report.sections:
        tile = page.locator(f"section[data-dashboard='{sec.dashboard.name}'] article.tile").first
        shot = artefacts / f"tile-{sec.dashboard.name}.png"
        tile.screenshot(path=str(shot))
        assert shot.stat().st_size > 20_000
        box = tile.locator("svg").bounding_box()
        drawn = tile.locator("svg").get_attribute("width")
        assert box is not None and drawn is not None
        assert box["width"] >= 0.95 * float(drawn), "the chart is squeezed"


# --------------------------------------------------------------------------- numbers


def _query_json(args: list[str], url: str) -> list[dict[str, Any]]:
    result = CliRunner().invoke(main, ["query", *args, "--engine", url, "--format", "json"])
    assert result.exit_code == 0, result.output
    loaded: list[dict[str, Any]] = json.loads(result.output)
    return loaded


def test_the_numbers_are_kpiframe_query_s(
        standard: tuple[Catalog, Report, Path], sample: str, first_party: None,
        monkeypatch: pytest.MonkeyPatch) -> None:
    """Every query the page lists gives, through `kpiframe query --format json`, exactly
    the rows the page embeds; every number the page shows is one of those rows' values."""
    monkeypatch.chdir(ROOT)
    catalog, _, path = standard
    text = path.read_text("utf-8")
    match = re.search(r'<script type="application/json" id="kpiframe-data">(.*?)</script>',
                      text, re.S)
    assert match
    island = json.loads(match.group(1))
    assert [d["name"] for d in island["dashboards"]] == list(dashboards.of(catalog))
    from lxml import html as lxml_html

    tree = lxml_html.fromstring(text)
    for board in island["dashboards"]:
        whole, split = board["queries"][0], board["queries"][1]
        assert whole["rows"] == _query_json(whole["args"], sample), board["name"]
        assert split["rows"] == _query_json(split["args"], sample), board["name"]
        assert "--by" in split["args"]
        section = tree.xpath(f"//section[@data-dashboard='{board['name']}']")[0]
        for table in section.xpath(".//table[@class='numbers']"):
            kpi = table.get("data-kpi")
            cells = [[json.loads(td.get("data-value")) for td in tr.xpath("./td")]
                     for tr in table.xpath("./tbody/tr")]
            expected = [[r["period"], r[kpi], *(
                [r[f"{kpi}.target"], r[f"{kpi}.attainment"], r[f"{kpi}.status"]]
                if f"{kpi}.target" in r else [])] for r in whole["rows"]]
            assert cells == expected, kpi
            for tr in table.xpath("./tbody/tr"):
                value_td = tr.xpath("./td")[1]
                _shown_matches(value_td.text_content(), json.loads(value_td.get("data-value")),
                               catalog.kpis[kpi].unit)
        for table in section.xpath(".//table[@class='breakdown']"):
            kpi = table.get("data-kpi")
            shown = {json.loads(tr.xpath("./td")[0].get("data-value")):
                     json.loads(tr.xpath("./td")[1].get("data-value"))
                     for tr in table.xpath("./tbody/tr")}
            assert shown == {r["platform"]: r[kpi] for r in split["rows"]}, kpi
        # the headline is the latest period's value
        for tile in section.xpath(".//article"):
            kpi = tile.get("data-kpi")
            headline = tile.xpath(".//span[@class='value']")[0]
            assert json.loads(headline.get("data-value")) == whole["rows"][-1][kpi]


def _shown_matches(text: str, value: Any, unit: str | None) -> None:
    """The visible text is the exact value, rounded for reading (hours for seconds)."""
    if value is None:
        assert text == "–"
        return
    number = float(re.sub(r"[^0-9.\-]", "", text))
    exact = float(value) / 3600 if unit == "seconds" else float(value)
    assert abs(number - exact) <= 0.005 + 1e-9 * abs(exact), (text, value)


@pytest.mark.parametrize("engine", ["sqlite", "postgres"])
def test_the_same_report_on_another_engine(
        engine: str, sample: str, first_party: None, request: pytest.FixtureRequest,
        tmp_path_factory: pytest.TempPathFactory) -> None:
    """The customer-care dashboard on the sample's messages copied to SQLite and to a
    PostgreSQL server: the same periods, and the same numbers as on DuckDB."""
    import duckdb

    from kpiframe.testing import canonical_columns
    from tests.engines import engine_under_test

    other = engine_under_test(engine, request, tmp_path_factory)
    columns = canonical_columns("messages")
    names = ", ".join(f'"{name}"' for name, _ in columns)
    source = duckdb.connect(sample.removeprefix("duckdb:///"), read_only=True)
    try:
        for platform in PLUGINS.split(","):
            rows = source.execute(f'SELECT {names} FROM "{platform}"."messages"').fetchall()
            other.load(platform, {"messages": (columns, rows)})
    finally:
        source.close()
    catalog = standard_catalog()
    here = build(catalog, ["customer_care"], engine=sample).sections[0]
    there = build(catalog, ["customer_care"], engine=other.url).sections[0]
    assert (there.start, there.end, there.as_of) == (here.start, here.end, here.as_of)
    assert [q.args() for q in there.queries] == [q.args() for q in here.queries]
    for mine, theirs in zip(here.rows, there.rows, strict=True):
        assert len(mine) == len(theirs)
        for a, b in zip(mine, theirs, strict=True):
            assert a.keys() == b.keys()
            for key, value in a.items():
                if isinstance(value, float):
                    assert b[key] == pytest.approx(value, rel=1e-9), (engine, key)
                else:
                    assert b[key] == value, (engine, key)


# --------------------------------------------------------------------------- the command


def test_report_command_kpis_and_one_tile_images(
        sample: str, first_party: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.chdir(ROOT)
    runner = CliRunner()
    out = tmp_path / "kpis.html"
    result = runner.invoke(main, ["report", "likes", "response_rate", "--grain", "quarter",
                                  "--last", "3", "--engine", sample, "-o", str(out)])
    assert result.exit_code == 0, result.output
    page = out.read_text("utf-8")
    assert page.count('<article class="tile"') == 2
    assert 'data-periods="3"' in page
    svg_path, png_path = tmp_path / "tile.svg", tmp_path / "tile.png"
    for fmt, path in (("svg", svg_path), ("png", png_path)):
        result = runner.invoke(main, ["report", "customer_care", "--format", fmt,
                                      "--engine", sample, "-o", str(path)])
        assert result.exit_code == 0, result.output
    assert svg_path.read_text("utf-8").startswith("<svg")
    assert "target_marks" in svg_path.read_text("utf-8")
    assert png_path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_report_command_errors_are_problems(sample: str, first_party: None,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)
    result = CliRunner().invoke(main, ["report", "audiance", "--engine", sample])
    assert result.exit_code == 1
    assert "error[unknown-name] 'audiance' is neither a dashboard nor a KPI " \
           "(did you mean 'audience'?)" in result.output
    assert "Traceback" not in result.output


def test_the_demo_ends_with_the_report(sample: str, first_party: None,
                                       monkeypatch: pytest.MonkeyPatch) -> None:
    """`kpiframe demo` (on the module's sample data, so nothing is rebuilt) writes the
    standard dashboards' page beside its database and ends with its path."""
    monkeypatch.chdir(ROOT)
    result = CliRunner().invoke(main, ["demo", "--engine", sample])
    assert result.exit_code == 0, result.output
    written = (Path(sample.removeprefix("duckdb:///")).parent / "report.html").resolve()
    assert result.output.rstrip().endswith(str(written))
    assert written.read_text("utf-8").count('<section class="dashboard"') == len(
        dashboards.of(standard_catalog()))


def test_a_dashboard_with_the_period_in_progress(
        sample: str, first_party: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    """`range: {current: true}` on weeks: the data ends on a Wednesday (31 December), so
    the last week is in progress: asked for whole, judged on track or behind against the
    goal pro-rated to its three days, and not compared with the week before."""
    monkeypatch.chdir(ROOT)
    (tmp_path / "now.yaml").write_text(
        "dashboards:\n  - name: this_week\n    title: This week\n    grain: week\n"
        "    range: {last: 4, current: true}\n    rows:\n"
        "      - tiles: [{kpi: social_interactions, chart: bar}]\n")
    catalog = standard_catalog(tmp_path / "now.yaml")
    assert [p for p in catalog.validate() if p.file and "now.yaml" in p.file] == []
    sec = build(catalog, ["this_week"], engine=sample).sections[0]
    assert (sec.start, sec.end, sec.as_of) == (
        dt.date(2025, 12, 8), dt.date(2026, 1, 4), dt.date(2025, 12, 31))
    latest = sec.tiles[0].periods[-1]
    assert latest["period"] == dt.date(2025, 12, 29)
    assert latest["status"] in ("on_track", "behind")
    assert [p["status"] in ("met", "missed") for p in sec.tiles[0].periods] == [
        True, True, True, False]
    page = write(build(catalog, ["this_week"], engine=sample), tmp_path / "now.html")
    text = page.read_text("utf-8")
    assert "in progress (data to 2025-12-31)" in text and 'class="change' not in text


# --------------------------------------------------------------------------- the periods


@pytest.mark.parametrize(("grain", "last", "current", "as_of", "expected"), [
    ("month", 12, False, dt.date(2025, 12, 31), (dt.date(2025, 1, 1), dt.date(2025, 12, 31))),
    ("month", 3, False, dt.date(2025, 12, 30), (dt.date(2025, 9, 1), dt.date(2025, 11, 30))),
    ("month", 3, True, dt.date(2025, 12, 30), (dt.date(2025, 10, 1), dt.date(2025, 12, 31))),
    ("week", 2, True, dt.date(2025, 12, 31), (dt.date(2025, 12, 22), dt.date(2026, 1, 4))),
    ("quarter", 2, False, dt.date(2025, 5, 15), (dt.date(2024, 10, 1), dt.date(2025, 3, 31))),
    ("week", 1, False, dt.date(2025, 3, 9), (dt.date(2025, 3, 3), dt.date(2025, 3, 9))),
    ("week", 1, False, dt.date(2025, 3, 8), (dt.date(2025, 2, 24), dt.date(2025, 3, 2))),
])
def test_the_last_complete_periods(grain: str, last: int, current: bool, as_of: dt.date,
                                   expected: tuple[dt.date, dt.date]) -> None:
    assert periods(grain, last, current, as_of) == expected


# --------------------------------------------------------------------------- validation

BAD = """\
# yaml-language-server: $schema=../kpiframe/schema/kpiframe.schema.json
dashboards:
  - name: broken_board
    title: Broken
    by: [platform, sentiment]
    rows:
      - tiles:
          - {kpi: folowers}
          - {kpi: response_rate}
          - {kpi: likes, chart: line}
  - name: weekly_care
    title: Weekly care
    grain: week
    rows:
      - tiles:
          - kpi: response_rate
  - name: followers
    title: Named like a KPI
    rows:
      - tiles: [{kpi: followers}]
  - name: weekly_care
    title: Again
    rows:
      - tiles: [{kpi: likes}]
  - name: pie_board
    title: Pie
    rows:
      - tiles: [{kpi: likes, chart: pie}]
"""

def test_dashboard_problems_are_located_with_hints(
        tmp_path: Path, first_party: None, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "boards.yaml").write_text(BAD)
    problems = standard_catalog(tmp_path / "boards.yaml").validate()
    mine = [p for p in problems if p.file == "boards.yaml"]
    pie = next(p for p in mine if p.rule == "bad-value")  # chart: pie, by the schema
    assert (pie.line, pie.column) == (28, 37)
    assert pie.message.startswith("dashboard 'pie_board': 'rows.tiles.chart' is 'pie'")
    assert pie.hint == "use one of: line, bar, area"
    unknown = next(p for p in mine if p.rule == "unknown-kpi")
    assert (unknown.line, unknown.column) == (8, 19)
    assert unknown.hint == "did you mean 'followers'?"
    dim = next(p for p in mine if p.rule == "unknown-dimension")
    assert (dim.line, dim.column, dim.kpi) == (5, 20, "response_rate")
    assert "'sentiment'" in dim.message
    grain = next(p for p in mine if p.rule == "target-grain")
    assert (grain.line, grain.column, grain.severity) == (16, 18, "warning")
    assert "target column stays empty" in grain.message and "grain: month" in (grain.hint or "")
    assert any(p.rule == "dashboard-name-clash" and p.line == 17 for p in mine)
    assert any(p.rule == "duplicate-dashboard" and p.line == 21 for p in mine)
    # a dashboard the schema rejects is not built; the others are
    built = dashboards.of(standard_catalog(tmp_path / "boards.yaml"))
    assert "pie_board" not in built and {"broken_board", "weekly_care"} <= set(built)


def test_validate_prints_dashboard_problems(tmp_path: Path, first_party: None,
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)
    (tmp_path / "boards.yaml").write_text(BAD)
    result = CliRunner().invoke(main, ["validate", str(DEFINITIONS), str(tmp_path / "boards.yaml"),
                                       "--format", "json"])
    assert result.exit_code == 1
    rules = {p["rule"] for p in json.loads(result.output)["problems"]}
    assert {"unknown-kpi", "unknown-dimension", "target-grain", "bad-value",
            "dashboard-name-clash", "duplicate-dashboard"} <= rules


def test_a_project_dashboard_overrides_a_plugin_s(tmp_path: Path, first_party: None,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    """As with KPIs: the project's own dashboard wins over one a plugin ships, with a
    warning naming both; the shipped one is not a duplicate error."""
    shipped = tmp_path / "shipped"
    shipped.mkdir()
    (shipped / "boards.yaml").write_text(
        "dashboards:\n  - name: audience\n    title: Shipped\n    rows:\n"
        "      - tiles: [{kpi: likes}]\n")
    (tmp_path / "shipping_plugin.py").write_text(
        "from kpiframe import hookimpl\n\n\n@hookimpl\ndef kpiframe_definitions():\n"
        f"    return [{str(shipped)!r}]\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.chdir(ROOT)
    catalog = load_catalog([DEFINITIONS], plugins=["shipping_plugin"])
    found = [p for p in catalog.validate() if "dashboard" in p.rule]
    assert [(p.rule, p.severity, p.file) for p in found] == [
        ("overridden-dashboard", "warning", "definitions/dashboards.yaml")]
    assert "plugin 'shipping_plugin'" in found[0].message
    assert dashboards.of(catalog)["audience"].title == "Audience"


def test_list_show_and_diff_know_dashboards(tmp_path: Path, first_party: None,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)
    runner = CliRunner()
    listed = runner.invoke(main, ["list"])
    assert listed.exit_code == 0
    assert re.search(r"^audience\s+Audience\s+month\s+12\s+3\s+definitions/dashboards\.yaml:\d+$",
                     listed.output, re.M)
    as_json = json.loads(runner.invoke(main, ["list", "--format", "json"]).output)
    assert all(row["type"] != "dashboard" for row in as_json)
    shown = runner.invoke(main, ["show", "customer_care"])
    assert shown.exit_code == 0
    assert shown.output.startswith("customer_care  (dashboard)  Customer care\n")
    assert "response_rate  line chart · Response rate · target 90 per month" in shown.output
    base, head = tmp_path / "base", tmp_path / "head"
    shutil.copytree(DEFINITIONS, base)
    shutil.copytree(DEFINITIONS, head)
    boards = (head / "dashboards.yaml").read_text("utf-8")
    (head / "dashboards.yaml").write_text(
        boards.replace("range: {last: 12}", "range: {last: 6}", 1))
    result = runner.invoke(main, ["diff", str(base), str(head)])
    assert result.exit_code == 0, result.output
    assert 'interactions: dashboard changed (no numbers): range: {"last": 12} → {"last": 6}' \
        in result.output
    assert "0 can change numbers; 1 dashboard(s) differ" in result.output


def test_a_chart_is_drawn_the_same_every_time(standard: tuple[Catalog, Report, Path]) -> None:
    """Rendering is a function of the numbers: vega numbers clip paths per process, and
    the page renames them, so the same tile gives the same markup (and a report diffs)."""
    _, report, path = standard
    sec = report.sections[0]
    spec = charts.tile_spec(sec.tiles[0], sec.dashboard.grain, "Dec 2025")
    first = charts.inline(charts.svg(spec), "c0-0-0-")
    assert first == charts.inline(charts.svg(spec), "c0-0-0-")
    ids = re.findall(r'id="([^"]+)"', path.read_text("utf-8"))
    assert len(ids) == len(set(ids)), "two elements of the page share an id"
