"""The standard social-media KPI catalog in definitions/: complete, documented and right.

It must validate with no problem at all (errors or warnings) under the first-party
platform plugins, compile for every dialect sqlglot ships, keep docs/catalog.md in step,
and give plausible, mutually consistent numbers on the sample data in DuckDB.

tests/conftest.py hides installed plugins from the core's tests; these tests load the
first-party ones (those under plugins/) explicitly.
"""

from __future__ import annotations

import importlib.metadata
import importlib.util
import math
import os
import re
from collections import defaultdict
from collections.abc import Iterator, Sequence
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
import yaml
from click.testing import CliRunner
from sqlglot.dialects.dialect import Dialect

import kpiframe
from kpiframe import canonical
from kpiframe.catalog import Catalog
from kpiframe.cli import main
from kpiframe.definitions import Change, Cumulative, Kpi, Ratio, Simple, Weighted
from kpiframe.plugins import LOAD_ENV, clear_cache

ROOT = Path(__file__).resolve().parent.parent
DEFINITIONS = ROOT / "definitions"
SCHEMA = ROOT / "kpiframe" / "schema" / "kpiframe.schema.json"
DIALECTS = sorted(d for d in Dialect.classes if d)

#: KPIs the demo queries (README, `kpiframe demo`): renaming one breaks it.
DEMO_KPIS = (
    "posts_published", "impressions", "social_interactions", "engagement_rate_by_impressions",
    "engagement_rate_by_reach", "followers", "net_follower_growth", "audience_growth_rate",
    "share_of_voice", "net_sentiment", "response_rate", "avg_response_time",
    "social_referral_sessions", "conversion_rate",
)


def _normalise(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def first_party_dirs() -> dict[str, Path]:
    """Distribution name -> folder, for each plugin under plugins/ but kpiframe-social: it
    ships this checkout's definitions/ (the catalog these tests load), so it is not
    installed here (dev.py; scripts/check_install.py proves it installed)."""
    return {_normalise(p.name): p for p in sorted((ROOT / "plugins").iterdir())
            if (p / "pyproject.toml").is_file() and p.name != "kpiframe-social"}


def first_party_plugins() -> list[str]:
    """Entry-point names of the installed first-party plugins."""
    dists = first_party_dirs()
    names = set()
    for ep in importlib.metadata.entry_points(group="kpiframe"):
        dist = getattr(ep, "dist", None)
        if dist is not None and _normalise(dist.name) in dists:
            names.add(ep.name)
    return sorted(names)


def load_standard_catalog(paths: Sequence[Path | str] = (DEFINITIONS,)) -> Catalog:
    return kpiframe.load_catalog([str(p) for p in paths], project=ROOT)


@pytest.fixture
def first_party(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Load exactly the first-party plugins (conftest.py loads none)."""
    names = first_party_plugins()
    monkeypatch.setenv(LOAD_ENV, ",".join(names))
    clear_cache()
    return names


@pytest.fixture
def catalog(first_party: list[str]) -> Catalog:
    return load_standard_catalog()


def raw_kpis() -> Iterator[tuple[Path, dict[str, Any]]]:
    for path in sorted(DEFINITIONS.glob("*.yaml")):
        for item in (yaml.safe_load(path.read_text("utf-8")) or {}).get("kpis") or []:
            yield path, item


# -- the catalog as written ---------------------------------------------------------------


def test_every_first_party_plugin_is_installed() -> None:
    installed = {_normalise(d.metadata["Name"]) for d in importlib.metadata.distributions()}
    missing = sorted(name for name in first_party_dirs() if name not in installed)
    assert not missing, (
        f"first-party plugins not installed, so the catalog is not checked against them: "
        f"{missing} (pip install -e plugins/<name>, or python3 dev.py test)")
    assert first_party_plugins()


def test_files_are_themed_and_editor_ready() -> None:
    assert len(list(DEFINITIONS.glob("*.yaml"))) >= 6
    for path in sorted(DEFINITIONS.rglob("*.y*ml")):
        assert path.suffix == ".yaml", f"{path.name}: use the .yaml suffix, like the others"
        schema = Path(os.path.relpath(SCHEMA, path.parent)).as_posix()
        first = path.read_text("utf-8").splitlines()[0]
        assert first == f"# yaml-language-server: $schema={schema}", \
            f"{path.relative_to(ROOT)} must start with the schema comment"


def test_validates_with_no_problems_at_all(catalog: Catalog, first_party: list[str]) -> None:
    problems = catalog.validate()
    assert [p.format() for p in problems] == []
    assert len(catalog) >= 100
    assert set(catalog.platforms) >= {"x", "facebook"}, first_party


def test_every_kpi_is_documented() -> None:
    seen: dict[str, Path] = {}
    for path, kpi in raw_kpis():
        name = kpi["name"]
        assert name not in seen, f"{name} is defined in {seen[name].name} and {path.name}"
        seen[name] = path
        for key in ("label", "description", "unit", "direction", "tags"):
            assert kpi.get(key), f"{path.name}: {name} has no {key}"
        description = kpi["description"]
        assert len(description.split()) >= 12, f"{name}: say more than {description!r}"
        assert isinstance(kpi["tags"], list) and all(isinstance(t, str) for t in kpi["tags"])
        if kpi["unit"] == "percent" and kpi["type"] == "ratio":
            assert kpi.get("scale") == 100, f"{name} is a percent: scale it by 100"
    assert len(seen) >= 100


def test_demo_kpis_exist() -> None:
    names = {kpi["name"] for _, kpi in raw_kpis()}
    assert [n for n in DEMO_KPIS if n not in names] == []


def test_required_variants_exist() -> None:
    """The names the catalog promises (the product's vocabulary)."""
    names = {kpi["name"] for _, kpi in raw_kpis()}
    promised = {
        "likes", "comments", "shares", "saves", "clicks", "impressions", "video_views",
        "posts_published", "social_interactions", "weighted_social_interactions",
        "engagements", "post_reach", "avg_daily_reach", "engagement_rate_by_reach",
        "avg_engagement_rate_by_reach", "engagement_rate_by_impressions",
        "engagement_rate_by_followers", "engagement_per_post", "followers",
        "followers_gained", "followers_lost", "net_follower_growth", "audience_growth_rate",
        "amplification_rate", "applause_rate", "conversation_rate", "virality_rate",
        "click_through_rate", "mentions", "own_brand_mentions", "share_of_voice",
        "positive_mentions", "negative_mentions", "neutral_mentions",
        "positive_sentiment_share", "negative_sentiment_share", "net_sentiment",
        "social_referral_sessions", "new_users", "conversions", "conversion_rate", "revenue",
        "goal_completions", "goal_conversion_rate", "messages_needing_response",
        "messages_answered", "response_rate", "avg_response_time", "engagements_7d",
        "impressions_28d", "social_interactions_mtd", "posts_published_mtd",
        "followers_gained_mtd", "engagements_mom", "impressions_wow",
    }
    assert sorted(promised - names) == []


def test_key_definitions(catalog: Catalog) -> None:
    """The choices the descriptions document, pinned so they cannot drift silently."""
    kpis = catalog.kpis
    followers = kpis["followers"]
    assert isinstance(followers, Simple) and followers.agg == "last"
    growth = kpis["audience_growth_rate"]
    assert isinstance(growth, Change) and (growth.of, growth.calc) == ("followers", "percent")
    plain, engagements = kpis["social_interactions"], kpis["engagements"]
    assert isinstance(plain, Weighted) and isinstance(engagements, Weighted)
    assert dict(plain.weights) == {"likes": 1, "comments": 1, "shares": 1, "saves": 1}
    assert dict(engagements.weights) == {**plain.weights, "clicks": 1}
    weighted = kpis["weighted_social_interactions"]
    assert isinstance(weighted, Weighted) and not weighted.weights
    assert set(weighted.interactions or ()) == {"likes", "comments", "shares", "saves"}
    average, overall = kpis["avg_engagement_rate_by_reach"], kpis["engagement_rate_by_reach"]
    assert isinstance(average, Ratio) and isinstance(overall, Ratio)
    assert (average.average_over, overall.average_over) == ("post_id", None)
    for name in ("engagement_rate_by_followers", "amplification_rate", "applause_rate",
                 "conversation_rate"):
        rate = kpis[name]
        assert isinstance(rate, Ratio) and rate.denominator == "followers"
    for kpi in kpis.values():
        if kpi.target and isinstance(kpi, Cumulative) and kpi.grain_to_date:
            assert kpi.target.grain == kpi.grain_to_date, kpi.name
    assert sum(1 for k in kpis.values() if k.target) >= 3


def test_ignored_warnings_are_the_intended_ones(
    first_party: list[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Each `# kpiframe: ignore[...]` silences a real warning, the one its KPI explains,
    and nothing else would warn."""
    ignored: set[tuple[str, int, str]] = set()
    for path in DEFINITIONS.glob("*.yaml"):
        lines = []
        for number, line in enumerate(path.read_text("utf-8").splitlines(), 1):
            match = re.search(r"\s*#\s*kpiframe:\s*ignore\[([a-z0-9_,\s-]+)\]", line)
            if match:
                for rule in match.group(1).split(","):
                    ignored.add((path.name, number, rule.strip()))
                line = line[:match.start()]
            lines.append(line)
        (tmp_path / path.name).write_text("\n".join(lines) + "\n", "utf-8")
    assert ignored, "post_reach sums reach on purpose and says so"
    monkeypatch.chdir(tmp_path)
    problems = load_standard_catalog([tmp_path]).validate()
    found = {(Path(p.file or "").name, p.line or 0, p.rule) for p in problems}
    assert all(p.severity == "warning" for p in problems), [p.format() for p in problems]
    assert found == ignored
    silenced = load_standard_catalog([tmp_path])
    for name in {p.kpi for p in problems if p.kpi}:
        description = silenced.kpis[name].description or ""
        assert "sum-non-additive" in description, f"{name}: say why the sum is intended"


def test_kpi_unit_tests_pass(first_party: list[str]) -> None:
    """`kpiframe test`: the catalog's own unit tests (definitions/tests/), which pin the
    semantics the descriptions promise with numbers worked out by hand."""
    result = CliRunner().invoke(main, ["--project", str(ROOT), "test"])
    assert result.exit_code == 0, result.output
    passed = re.search(r"(\d+) passed, 0 failed", result.output)
    assert passed and int(passed.group(1)) >= 10, result.output


# -- compiling ----------------------------------------------------------------------------


def _sources(catalog: Catalog, name: str, seen: set[str] | None = None) -> set[str]:
    seen = set() if seen is None else seen
    if name in seen:
        return set()
    seen.add(name)
    kpi: Kpi = catalog.kpis[name]
    if isinstance(kpi, (Simple, Weighted)):
        return {kpi.source}
    out: set[str] = set()
    for ref in kpi.refs:
        out |= _sources(catalog, ref, seen)
    return out


def _by_platform(catalog: Catalog, name: str) -> bool:
    """Whether every source the KPI reads has the `platform` dimension."""
    return all("platform" in canonical.SOURCES[s].dimensions for s in _sources(catalog, name))


def test_every_kpi_compiles_alone(catalog: Catalog) -> None:
    failures = {}
    for name in catalog.kpis:
        by = ["platform"] if _by_platform(catalog, name) else []
        try:
            sql = catalog.compile([name], dialect="duckdb", grain="month", by=by)
        except Exception as exc:
            failures[name] = f"{type(exc).__name__}: {exc}"
            continue
        assert sql.strip().upper().startswith(("WITH", "SELECT")), name
    assert failures == {}


@pytest.mark.parametrize("dialect", DIALECTS)
def test_catalog_compiles_for_every_dialect(catalog: Catalog, dialect: str) -> None:
    """All KPIs in one statement per dialect (one compile per dialect keeps this fast); on a
    failure, each KPI alone, to name the culprits."""
    groups: dict[bool, list[str]] = defaultdict(list)
    for name in catalog.kpis:
        groups[_by_platform(catalog, name)].append(name)
    for by_platform, names in groups.items():
        by = ["platform"] if by_platform else []
        try:
            sql = catalog.compile(names, dialect=dialect, grain="month", by=by)
        except Exception:
            failures = {}
            for name in names:
                try:
                    catalog.compile([name], dialect=dialect, grain="month", by=by)
                except Exception as exc:
                    failures[name] = f"{type(exc).__name__}: {exc}"
            pytest.fail(f"{dialect}: {len(failures)} KPIs do not compile: {failures}")
        assert sql.strip()


# -- docs/catalog.md ----------------------------------------------------------------------


def _docs_script() -> ModuleType:
    spec = importlib.util.spec_from_file_location("catalog_docs", ROOT / "scripts" /
                                                  "catalog_docs.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_catalog_page_is_up_to_date() -> None:
    script = _docs_script()
    page = (ROOT / "docs" / "catalog.md").read_text("utf-8")
    assert page == script.render(), "docs/catalog.md is stale: run python scripts/catalog_docs.py"


def test_catalog_page_lists_every_kpi() -> None:
    page = (ROOT / "docs" / "catalog.md").read_text("utf-8")
    for path, kpi in raw_kpis():
        assert f"### {kpi['name']}\n" in page, kpi["name"]
        assert f"`{path.relative_to(ROOT).as_posix()}`" in page


# -- on the sample data -------------------------------------------------------------------

#: Shares of a whole: between 0 and 100 by definition.
SHARES = (
    "share_of_voice", "share_of_voice_by_reach", "share_of_voice_28d",
    "positive_sentiment_share", "negative_sentiment_share", "neutral_sentiment_share",
    "response_rate", "response_rate_within_1h", "new_user_rate",
)
#: Rates that can exceed 100 in theory but not in plausible data.
PLAUSIBLE_RATES = (
    "engagement_rate_by_reach", "avg_engagement_rate_by_reach",
    "engagement_rate_by_impressions", "engagement_rate_by_impressions_28d",
    "click_through_rate", "virality_rate", "conversion_rate",
)
#: KPIs that may be negative: changes, net flows, differences of shares, scores.
SIGNED = {"net_follower_growth", "net_follower_growth_mtd", "net_sentiment",
          "avg_sentiment_score"}
#: (to-date KPI, its KPI): by month, a month-to-date value is the month's total.
MONTH_TO_DATE = (
    ("posts_published_mtd", "posts_published"), ("engagements_mtd", "engagements"),
    ("social_interactions_mtd", "social_interactions"), ("impressions_mtd", "impressions"),
    ("followers_gained_mtd", "followers_gained"), ("followers_lost_mtd", "followers_lost"),
    ("social_referral_sessions_mtd", "social_referral_sessions"),
    ("conversions_mtd", "conversions"),
)


@pytest.fixture(scope="module")
def sample(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Catalog, str]]:
    """The standard catalog and a DuckDB URL with the sample data, built once."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv(LOAD_ENV, ",".join(first_party_plugins()))
        clear_cache()
        from kpiframe import sample as sample_data  # the sample-data generator

        path = tmp_path_factory.mktemp("sample") / "sample.duckdb"
        url = f"duckdb:///{path}"
        sample_data.build(url, scale=1.0, seed=42, layouts=("canonical",))
        catalog = load_standard_catalog()
        assert catalog.validate() == []
        yield catalog, url
    clear_cache()


@pytest.fixture(scope="module")
def by_month(sample: tuple[Catalog, str]) -> list[dict[str, Any]]:
    catalog, url = sample
    return list(catalog.query(list(catalog.kpis), grain="month", engine=url))


@pytest.fixture(scope="module")
def by_month_platform(sample: tuple[Catalog, str]) -> list[dict[str, Any]]:
    catalog, url = sample
    return list(catalog.query(list(catalog.kpis), grain="month", by=["platform"], engine=url))


def _close(a: Any, b: Any, tolerance: float = 1e-6) -> bool:
    if a is None or b is None:
        return a is None and b is None
    return math.isclose(float(a), float(b), rel_tol=tolerance, abs_tol=tolerance)


def _per_platform(rows: list[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    series: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for row in rows:
        series[row["platform"]].append(row)
    return series


def test_sample_has_data_for_every_kpi(sample: tuple[Catalog, str],
                                       by_month: list[dict[str, Any]]) -> None:
    catalog, _ = sample
    assert len(by_month) >= 3, "the sample should span a few months"
    empty = [name for name in catalog.kpis if all(r[name] is None for r in by_month)]
    if len(by_month) <= 12:  # a year-over-year change needs more than a year of data
        empty = [n for n in empty if n != "engagements_yoy"]
    assert empty == []


@pytest.mark.parametrize("grouping", ["month", "month and platform"])
def test_sample_values_are_plausible(
    sample: tuple[Catalog, str], by_month: list[dict[str, Any]],
    by_month_platform: list[dict[str, Any]], grouping: str,
) -> None:
    catalog, _ = sample
    rows = by_month if grouping == "month" else by_month_platform
    assert rows
    bad: list[str] = []
    for row in rows:
        where = f"{row['period']}" + (f" {row['platform']}" if "platform" in row else "")
        for name, kpi in catalog.kpis.items():
            value = row[name]
            if value is None or isinstance(kpi, Change) or name in SIGNED:
                continue
            if value < 0:
                bad.append(f"{where}: {name} = {value} < 0")
        for name in (*SHARES, *PLAUSIBLE_RATES):
            value = row[name]
            if value is not None and not 0 <= value <= 100:
                bad.append(f"{where}: {name} = {value} is not a percentage")
        value = row["net_sentiment"]
        if value is not None and not -100 <= value <= 100:
            bad.append(f"{where}: net_sentiment = {value}")
        value = row["avg_sentiment_score"]
        if value is not None and not -1 <= value <= 1:
            bad.append(f"{where}: avg_sentiment_score = {value}")
        # reach <= impressions, on the same posts
        if row["post_reach"] is not None and row["post_reach"] > (row["post_impressions"] or 0):
            bad.append(f"{where}: post_reach {row['post_reach']} > post_impressions "
                       f"{row['post_impressions']}")
        # parts and wholes
        if row["messages_answered"] > row["messages_needing_response"]:
            bad.append(f"{where}: more messages answered than needed an answer")
        if row["messages_needing_response"] > row["messages_received"]:
            bad.append(f"{where}: more messages need an answer than arrived")
        if row["messages_answered"] + row["messages_unanswered"] != \
                row["messages_needing_response"]:
            bad.append(f"{where}: answered + unanswered != needing a response")
        if row["own_brand_mentions"] + row["competitor_mentions"] != row["mentions"]:
            bad.append(f"{where}: own + competitor mentions != mentions")
        if row["organic_posts_published"] + row["paid_posts_published"] != \
                row["posts_published"]:
            bad.append(f"{where}: organic + paid posts != posts published")
        interactions, engagements = row["social_interactions"], row["engagements"]
        if interactions is not None and interactions > engagements:
            bad.append(f"{where}: social_interactions > engagements")
        if interactions is not None and interactions > row["weighted_social_interactions"]:
            bad.append(f"{where}: weighted interactions (weights >= 1) below the plain count")
        shares = [row[f"{s}_sentiment_share"] for s in ("positive", "neutral", "negative")]
        if None not in shares and not _close(sum(shares), 100):
            bad.append(f"{where}: sentiment shares add up to {sum(shares)}")
        if None not in shares and not _close(row["net_sentiment"], shares[0] - shares[2]):
            bad.append(f"{where}: net_sentiment is not positive - negative share")
        for to_date, total in MONTH_TO_DATE:
            if not _close(row[to_date] or 0, row[total] or 0):
                bad.append(f"{where}: {to_date} {row[to_date]} != {total} {row[total]}")
        if (row["engagements_7d"] or 0) > (row["engagements_28d"] or 0):
            bad.append(f"{where}: 7-day engagements above 28-day engagements")
    assert bad == []


def test_sample_platforms_add_up_to_the_total(
    sample: tuple[Catalog, str], by_month: list[dict[str, Any]],
    by_month_platform: list[dict[str, Any]],
) -> None:
    """Additive KPIs (sums, counts, weighted sums, follower snapshots summed over
    accounts) split exactly by platform."""
    catalog, _ = sample
    additive = [n for n, k in catalog.kpis.items()
                if isinstance(k, Weighted) or (isinstance(k, Simple) and k.agg in
                                               ("sum", "count", "last"))]
    totals = {row["period"]: row for row in by_month}
    parts: dict[Any, dict[str, float]] = defaultdict(lambda: defaultdict(float))
    for row in by_month_platform:
        for name in additive:
            parts[row["period"]][name] += row[name] or 0
    bad = [f"{period} {name}: platforms add up to {parts[period][name]}, total "
           f"{totals[period][name]}"
           for period in totals for name in additive
           if not _close(parts[period][name], totals[period][name] or 0)]
    assert bad == []


@pytest.mark.parametrize("grouping", ["month", "month and platform"])
def test_sample_audience_growth_matches_followers(
    by_month: list[dict[str, Any]], by_month_platform: list[dict[str, Any]], grouping: str,
) -> None:
    """audience_growth_rate is the percent change of the followers column of the same
    result, computed here in Python; follower_change is its difference."""
    series = {"all": by_month} if grouping == "month" else _per_platform(by_month_platform)
    checked = 0
    for key, rows in series.items():
        previous: dict[str, Any] | None = None
        for row in rows:
            before = previous["followers"] if previous is not None else None
            now = row["followers"]
            expected = None
            if before is not None and now is not None and before != 0:
                expected = (now - before) / before * 100
            where = f"{key} {row['period']}"
            assert _close(row["audience_growth_rate"], expected, 1e-9), \
                f"{where}: audience_growth_rate {row['audience_growth_rate']}, followers " \
                f"{before} -> {now} is {expected}"
            difference = now - before if before is not None and now is not None else None
            assert _close(row["follower_change"], difference), \
                f"{where}: follower_change {row['follower_change']}, expected {difference}"
            checked += expected is not None
            previous = row
    assert checked, "the sample should have followers in consecutive months"


def test_sample_share_of_voice_adds_up_across_brands(sample: tuple[Catalog, str]) -> None:
    """Each brand's share of all tracked mentions, by month, adds up to 100, and the own
    brands' shares are share_of_voice."""
    catalog, url = sample
    brands = catalog.query(["mentions"], grain="month", by=["brand", "is_own_brand"],
                           engine=url)
    sov = {r["period"]: r["share_of_voice"] for r in
           catalog.query(["share_of_voice"], grain="month", engine=url)}
    totals: dict[Any, int] = defaultdict(int)
    for row in brands:
        totals[row["period"]] += row["mentions"]
    own: dict[Any, float] = defaultdict(float)
    everyone: dict[Any, float] = defaultdict(float)
    competitors = set()
    for row in brands:
        if not totals[row["period"]]:
            continue
        share = row["mentions"] / totals[row["period"]] * 100
        everyone[row["period"]] += share
        if row["is_own_brand"]:
            own[row["period"]] += share
        else:
            competitors.add(row["brand"])
    assert competitors, "the sample should track competitors"
    assert everyone
    for period, total in everyone.items():
        assert _close(total, 100), f"{period}: brands' shares add up to {total}"
        assert _close(sov[period], own[period]), \
            f"{period}: share_of_voice {sov[period]} != own brands' share {own[period]}"
        assert 0 < sov[period] < 100, f"{period}: share_of_voice {sov[period]}"


def test_sample_reach_below_impressions_by_post_type(sample: tuple[Catalog, str]) -> None:
    """Reach never exceeds impressions on the same posts, down to post type."""
    catalog, url = sample
    rows = catalog.query(["post_reach", "post_impressions"], grain="month",
                         by=["platform", "post_type"], engine=url)
    assert rows
    bad = [r for r in rows if r["post_reach"] is not None
           and r["post_reach"] > (r["post_impressions"] or 0)]
    assert bad == []
