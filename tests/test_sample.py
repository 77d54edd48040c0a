"""Sample data (`kpiframe.sample`) and the `sample-data` and `demo` commands.

The generator is checked the way a user relies on it: the same seed gives the same rows,
the data grows with the scale, the canonical rows satisfy the conditions plugins document
(lifetime totals are the sum of the days, followers move by gained - lost...), the shapes
are realistic (weekly seasonality, a heavy tail of viral posts), and a Fivetran layout,
written through the plugins' encoders, reads back as the same facts.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import itertools
import statistics
from collections import defaultdict
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import duckdb
import pytest
from click.testing import CliRunner
from sqlglot import exp

from kpiframe import canonical, hookimpl
from kpiframe.cli import main
from kpiframe.compiler.sources import source_relation
from kpiframe.engines.duckdb import DuckDBConnection
from kpiframe.platform import (
    Layout,
    Platform,
    PlatformSettings,
    Select,
    canonical_layout,
)
from kpiframe.plugins import PluginInfo, Registry, clear_cache, load_registry
from kpiframe.problems import KpiframeError
from kpiframe.sample import SampleSummary, build, database_state

ROOT = Path(__file__).resolve().parents[1]
PLUGINS = "x,facebook,tiktok"
START = dt.date(2025, 1, 1)


@pytest.fixture
def first_party(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The installed first-party plugins x, facebook and tiktok (conftest loads none)."""
    monkeypatch.setenv("KPIFRAME_LOAD_PLUGINS", PLUGINS)
    clear_cache()
    yield
    clear_cache()


def url_of(path: Path) -> str:
    return f"duckdb:///{path}"


def table_sql(name: str) -> str:
    schema, _, table = name.rpartition(".")
    return exp.Table(this=exp.to_identifier(table, quoted=True),
                     db=exp.to_identifier(schema, quoted=True)).sql("duckdb")


def fetch(path: Path, sql: str) -> list[tuple[Any, ...]]:
    con = duckdb.connect(str(path), read_only=True)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


def rows_of(path: Path, name: str) -> list[dict[str, Any]]:
    con = duckdb.connect(str(path), read_only=True)
    try:
        cur = con.execute(f"SELECT * FROM {table_sql(name)}")
        columns = [d[0] for d in cur.description]
        return [dict(zip(columns, row, strict=True)) for row in cur.fetchall()]
    finally:
        con.close()


def checksums(path: Path, summary: SampleSummary) -> dict[str, str]:
    """A digest of every table's sorted rows."""
    sums = {}
    for name in summary.tables:
        rows = fetch(path, f"SELECT * FROM {table_sql(name)} ORDER BY ALL")
        sums[name] = hashlib.sha256(repr(rows).encode()).hexdigest()
    return sums


@pytest.fixture(scope="module")
def year(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, SampleSummary]:
    """A year of canonical data for x, facebook and tiktok at scale 1, built once."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("KPIFRAME_LOAD_PLUGINS", PLUGINS)
        clear_cache()
        path = tmp_path_factory.mktemp("year") / "sample.duckdb"
        summary = build(url_of(path), scale=1, seed=7)
        clear_cache()
    return path, summary


# --------------------------------------------------------------------------- the API


def test_every_canonical_source_of_every_platform_is_written(
        year: tuple[Path, SampleSummary]) -> None:
    path, summary = year
    assert summary.platforms == ("facebook", "tiktok", "x")
    assert summary.engine_url == url_of(path)
    assert summary.elapsed_seconds > 0
    expected = {f"{p}.{s}" for p in summary.platforms for s in canonical.SOURCES}
    assert set(summary.tables) == expected
    assert all(rows > 0 for rows in summary.tables.values()), summary.tables
    # tens of thousands of rows in all at scale 1
    assert 10_000 < summary.total_rows < 100_000
    for name, rows in summary.tables.items():
        assert fetch(path, f"SELECT count(*) FROM {table_sql(name)}")[0][0] == rows
    state, info = database_state(url_of(path))
    assert state == "sample"
    assert info is not None and info.seed == 7 and info.scale == 1
    assert info.platforms == {"facebook": ("canonical",), "tiktok": ("canonical",),
                              "x": ("canonical",)}


def test_only_the_fields_a_platform_provides_are_columns(
        year: tuple[Path, SampleSummary]) -> None:
    path, _ = year
    from kpiframe_tiktok import PLATFORM as TIKTOK
    from kpiframe_x import PLATFORM as X

    for platform in (X, TIKTOK):
        for source, binding in platform.layout("canonical").sources.items():
            columns = [r[0] for r in fetch(
                path, "SELECT column_name FROM information_schema.columns WHERE "
                f"table_schema = '{platform.name}' AND table_name = '{source}' "
                "ORDER BY ordinal_position")]
            assert columns == [f for f in canonical.SOURCES[source].fields
                               if f in binding.fields], (platform.name, source)
    # X reports no reach; TikTok no clicks
    assert "reach" not in [r[0] for r in fetch(path, "DESCRIBE x.posts")]
    assert "clicks" not in [r[0] for r in fetch(path, "DESCRIBE tiktok.post_daily")]


def test_same_seed_same_rows_other_seed_other_rows(tmp_path: Path, first_party: None) -> None:
    options: dict[str, Any] = {"scale": 0.5, "days": 90}
    one = build(url_of(tmp_path / "one.duckdb"), seed=3, **options)
    two = build(url_of(tmp_path / "two.duckdb"), seed=3, **options)
    other = build(url_of(tmp_path / "other.duckdb"), seed=4, **options)
    assert one.tables == two.tables
    first = checksums(tmp_path / "one.duckdb", one)
    assert first == checksums(tmp_path / "two.duckdb", two)
    different = checksums(tmp_path / "other.duckdb", other)
    assert all(first[name] != different[name] for name in first)


def test_rebuilding_replaces_the_tables(tmp_path: Path, first_party: None) -> None:
    path = tmp_path / "again.duckdb"
    first = build(url_of(path), scale=0.3, days=30, seed=1)
    before = checksums(path, first)
    second = build(url_of(path), scale=0.3, days=30, seed=1)
    assert checksums(path, second) == before


def test_rows_grow_with_the_scale(tmp_path: Path, first_party: None) -> None:
    small = build(url_of(tmp_path / "small.duckdb"), scale=0.5, days=60)
    large = build(url_of(tmp_path / "large.duckdb"), scale=2, days=60)
    assert 2.5 < large.total_rows / small.total_rows < 6
    for name in small.tables:
        assert large.tables[name] >= small.tables[name], name
    accounts = "SELECT count(DISTINCT account_id) FROM x.account_daily"
    assert (fetch(tmp_path / "large.duckdb", accounts)[0][0]
            > fetch(tmp_path / "small.duckdb", accounts)[0][0])


def test_start_and_days_set_the_window(tmp_path: Path, first_party: None) -> None:
    path = tmp_path / "window.duckdb"
    build(url_of(path), scale=0.3, start=dt.date(2024, 2, 20), days=10)
    for source, column in (("post_daily", '"date"'), ("account_daily", '"date"'),
                           ("web_sessions", '"date"'), ("posts", "published_at"),
                           ("mentions", "mentioned_at"), ("messages", "received_at")):
        low, high = fetch(path, f"SELECT CAST(min({column}) AS DATE), "
                                f"CAST(max({column}) AS DATE) FROM facebook.{source}")[0]
        assert dt.date(2024, 2, 20) <= low <= high <= dt.date(2024, 2, 29), source
    assert fetch(path, "SELECT count(*) FROM facebook.account_daily")[0][0] % 10 == 0


# --------------------------------------------------------------------------- consistency


@pytest.mark.parametrize("platform", ["x", "facebook", "tiktok"])
def test_lifetime_totals_are_the_sum_of_the_days(year: tuple[Path, SampleSummary],
                                                 platform: str) -> None:
    path, _ = year
    posts = {r["post_id"]: r for r in rows_of(path, f"{platform}.posts")}
    days: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for row in rows_of(path, f"{platform}.post_daily"):
        days[row["post_id"]].append(row)
    assert set(days) == set(posts)  # every post has days, every day a post
    metrics = [m for m in ("impressions", "video_views", "likes", "comments", "shares",
                           "saves", "clicks") if m in next(iter(posts.values()))]
    for post_id, post in posts.items():
        rows = days[post_id]
        for metric in metrics:
            assert post[metric] == sum(r[metric] for r in rows), (post_id, metric)
        if "reach" in post:  # people, not additive: between the best day and the sum
            assert max(r["reach"] for r in rows) <= post["reach"] <= sum(
                r["reach"] for r in rows)
            assert post["reach"] <= post["impressions"]
        published = post["published_at"].date()
        for r in rows:
            assert published <= r["date"] <= dt.date(2025, 12, 31)
            assert r["account_id"] == post["account_id"]
            assert r["post_type"] == post["post_type"]
            if "reach" in r:
                assert r["reach"] <= r["impressions"]


@pytest.mark.parametrize("platform", ["x", "facebook", "tiktok"])
def test_followers_move_by_gained_minus_lost(year: tuple[Path, SampleSummary],
                                             platform: str) -> None:
    path, _ = year
    by_account: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for row in rows_of(path, f"{platform}.account_daily"):
        by_account[row["account_id"]].append(row)
    assert len(by_account) >= 2  # several accounts per platform
    first = last = 0
    for rows in by_account.values():
        rows.sort(key=lambda r: r["date"])
        assert len(rows) == 365
        for before, after in itertools.pairwise(rows):
            assert after["date"] - before["date"] == dt.timedelta(days=1)
            assert (after["followers"] - before["followers"]
                    == after["followers_gained"] - after["followers_lost"])
        assert min(r["followers"] for r in rows) > 0
        assert sum(r["followers_lost"] for r in rows) > 0  # churn
        assert max(r["followers_gained"] for r in rows) > 3 * statistics.median(
            r["followers_gained"] for r in rows)  # spikes
        first += rows[0]["followers"]
        last += rows[-1]["followers"]
    assert 1.0 < last / first < 1.6  # the audience grows, by a plausible amount


def test_no_null_in_a_metric_a_platform_provides(year: tuple[Path, SampleSummary]) -> None:
    path, summary = year
    # NULL means "unanswered" there, and nothing else may be NULL
    allowed = {"responded_at", "response_seconds"}
    for name in summary.tables:
        columns = [r[0] for r in fetch(path, f"DESCRIBE {table_sql(name)}")]
        counts = ", ".join(
            f"count(*) - count({exp.to_identifier(c, quoted=True).sql('duckdb')})"
            for c in columns)
        nulls = dict(zip(columns, fetch(path, f"SELECT {counts} FROM {table_sql(name)}")[0],
                         strict=True))
        assert {c: n for c, n in nulls.items() if n and c not in allowed} == {}, name
    unanswered = fetch(path, "SELECT count(*) FROM x.messages WHERE "
                             "(responded_at IS NULL) <> (response_seconds IS NULL)")
    assert unanswered[0][0] == 0
    late = fetch(path, "SELECT count(*) FROM x.messages WHERE responded_at < received_at "
                       "OR responded_at >= TIMESTAMP '2026-01-01' OR response_seconds <> "
                       "epoch(responded_at) - epoch(received_at)")
    assert late[0][0] == 0
    web = fetch(path, "SELECT count(*) FROM facebook.web_sessions WHERE new_users > sessions "
                      "OR conversions > sessions OR sessions <= 0 OR revenue < 0")
    assert web[0][0] == 0


# --------------------------------------------------------------------------- shapes


@pytest.mark.parametrize("platform", ["x", "facebook", "tiktok"])
def test_weekdays_are_busier_than_weekends(year: tuple[Path, SampleSummary],
                                           platform: str) -> None:
    path, _ = year
    weekday, weekend = fetch(path, f"""
        SELECT avg(total) FILTER (WHERE isodow(d) < 6), avg(total) FILTER (WHERE isodow(d) >= 6)
        FROM (SELECT "date" AS d, sum(impressions) AS total
              FROM {platform}.post_daily GROUP BY "date")
    """)[0]
    assert weekday > 1.1 * weekend


@pytest.mark.parametrize("platform", ["x", "facebook", "tiktok"])
def test_a_few_posts_take_a_large_share_of_impressions(year: tuple[Path, SampleSummary],
                                                       platform: str) -> None:
    path, _ = year
    impressions = sorted((r[0] for r in fetch(path, f"SELECT impressions FROM {platform}.posts")),
                         reverse=True)
    top = impressions[: max(1, len(impressions) // 100)]
    assert sum(top) / sum(impressions) > 0.1  # 1% of the posts, over 10% of impressions
    median = impressions[len(impressions) // 2]
    assert impressions[0] > 20 * median
    likes, shown = fetch(path, f"SELECT sum(likes), sum(impressions) FROM {platform}.posts")[0]
    assert 0.002 < likes / shown < 0.2  # engagement proportional to impressions


def test_posts_have_types_paid_posts_and_several_accounts(
        year: tuple[Path, SampleSummary]) -> None:
    path, _ = year
    types = fetch(path, "SELECT count(DISTINCT post_type) FROM facebook.posts")[0][0]
    assert types >= 3
    paid, total = fetch(path, "SELECT count(*) FILTER (WHERE is_paid), count(*) "
                              "FROM facebook.posts")[0]
    assert 0 < paid < 0.3 * total
    assert fetch(path, "SELECT count(DISTINCT account_id) FROM facebook.posts")[0][0] >= 2


def test_mentions_of_the_brand_and_competitors(year: tuple[Path, SampleSummary]) -> None:
    path, _ = year
    brands = dict(fetch(path, "SELECT brand, count(*) FROM x.mentions GROUP BY brand"))
    own = [b for b, in fetch(path, "SELECT DISTINCT brand FROM x.mentions WHERE is_own_brand")]
    assert len(own) == 1 and 3 <= len(brands) <= 4  # ours and 2-3 competitors
    assert 0.1 < brands[own[0]] / sum(brands.values()) < 0.6
    sentiments = dict(fetch(path, "SELECT sentiment, count(*) FROM x.mentions GROUP BY 1"))
    assert set(sentiments) == {"positive", "neutral", "negative"}
    wrong = fetch(path, """SELECT count(*) FROM x.mentions WHERE sentiment_score NOT BETWEEN
        -1 AND 1 OR (sentiment = 'positive' AND sentiment_score <= 0)
        OR (sentiment = 'negative' AND sentiment_score >= 0)""")
    assert wrong[0][0] == 0
    median, top = fetch(path, "SELECT median(author_followers), max(author_followers) "
                              "FROM x.mentions")[0]
    assert top > 100 * median  # a few authors with huge audiences


@pytest.mark.parametrize("platform", ["x", "facebook", "tiktok"])
def test_most_messages_are_answered_within_hours(year: tuple[Path, SampleSummary],
                                                 platform: str) -> None:
    path, _ = year
    answered, median = fetch(path, f"""
        SELECT avg(CASE WHEN responded_at IS NOT NULL THEN 1.0 ELSE 0.0 END),
               median(response_seconds)
        FROM {platform}.messages WHERE needs_response
    """)[0]
    assert 0.5 < answered < 1.0
    assert 60 < median < 6 * 3600


def test_web_sessions_per_landing_page(year: tuple[Path, SampleSummary]) -> None:
    path, _ = year
    pages = fetch(path, "SELECT landing_page, sum(sessions) FROM tiktok.web_sessions "
                        "GROUP BY 1 ORDER BY 2 DESC")
    assert len(pages) >= 3 and pages[0][0] == "/"
    sessions, conversions, revenue = fetch(
        path, "SELECT sum(sessions), sum(conversions), sum(revenue) FROM tiktok.web_sessions")[0]
    assert 0.002 < conversions / sessions < 0.2 and revenue > 0


def test_platforms_have_their_own_flavour(year: tuple[Path, SampleSummary]) -> None:
    path, _ = year
    followers = {p: fetch(path, f"SELECT max(followers) FROM {p}.account_daily")[0][0]
                 for p in ("x", "facebook", "tiktok")}
    assert len(set(followers.values())) == 3


# --------------------------------------------------------------------------- layouts


def read(con: DuckDBConnection, platform: Platform, layout: str, source: str,
         fields: list[str] | None = None) -> list[tuple[Any, ...]]:
    """A source read through a platform's binding, as every KPI query reads it."""
    chosen = platform.layout(layout)
    binding = chosen.sources[source]
    src = canonical.SOURCES[source]
    names = ["platform", *(f for f in src.fields if f in (fields or binding.fields))]
    schema = chosen.default_schema or platform.name
    relation = source_relation(src, [(platform.name, binding, schema)], names, "duckdb")
    return sorted(con.execute(relation.sql(dialect="duckdb")).rows, key=repr)


def test_fivetran_layout_is_written_and_reads_back_the_same_facts(
        tmp_path: Path, first_party: None) -> None:
    path = tmp_path / "fivetran.duckdb"
    summary = build(url_of(path), scale=0.5, days=120, layouts=["canonical", "fivetran"])
    assert {"twitter.tweet", "twitter.organic_tweet_report", "twitter.twitter_user_history",
            "facebook_pages.post_history", "facebook_pages.lifetime_post_metrics_total",
            "facebook_pages.daily_page_metrics_total"} <= set(summary.tables)
    assert summary.written["twitter.tweet"] == ("x", "fivetran")
    assert "tiktok has no 'fivetran' layout" in summary.notes
    assert {layout for platform, layout in summary.written.values() if platform == "tiktok"} \
        == {"canonical"}
    registry = load_registry()
    con = DuckDBConnection(url_of(path))
    try:
        for name in ("x", "facebook"):
            platform = registry.platforms[name][0]
            for source, binding in platform.layout("fivetran").sources.items():
                common = [f for f in binding.fields
                          if f in platform.layout("canonical").sources[source].fields]
                via_native = read(con, platform, "fivetran", source, common)
                assert via_native, (name, source)
                # conform made the canonical rows what the layout can represent exactly
                assert via_native == read(con, platform, "canonical", source, common), (
                    name, source)
    finally:
        con.close()


def test_configured_schema_and_disabled_platforms(tmp_path: Path, first_party: None) -> None:
    settings = {
        "x": PlatformSettings(layout="fivetran", schema="twitter_organic"),
        "tiktok": PlatformSettings(enabled=False),
        "facebook": PlatformSettings(schema="fb"),
    }
    summary = build(url_of(tmp_path / "conf.duckdb"), scale=0.3, days=30,
                    layouts=["canonical", "fivetran"], platforms=settings)
    schemas = {name.split(".")[0] for name in summary.tables}
    assert schemas == {"twitter_organic", "x", "fb", "facebook_pages"}
    assert summary.platforms == ("facebook", "x")


def test_tables_two_platforms_would_share_are_refused(tmp_path: Path,
                                                      first_party: None) -> None:
    settings = {"x": PlatformSettings(schema="social"),
                "tiktok": PlatformSettings(schema="social")}
    with pytest.raises(KpiframeError) as error:
        build(url_of(tmp_path / "clash.duckdb"), platforms=settings)
    assert error.value.problems[0].rule == "sample-table-clash"
    assert not (tmp_path / "clash.duckdb").exists()


def test_any_platform_works_and_sources_it_lacks_are_not_written(tmp_path: Path) -> None:
    """The test suite's own platforms: the core knows no platform by name."""
    registry = load_registry(["testplatforms"])
    summary = build(url_of(tmp_path / "test.duckdb"), scale=0.3, days=30, registry=registry)
    assert summary.platforms == ("alpha", "beta")
    assert "alpha.mentions" in summary.tables and "beta.mentions" not in summary.tables
    columns = [r[0] for r in fetch(tmp_path / "test.duckdb", "DESCRIBE beta.posts")]
    assert "reach" not in columns and "saves" not in columns and "likes" in columns


GAMMA_FLAT = Layout(
    name="flat",
    default_schema="gamma_flat",
    sources={"posts": Select("SELECT id AS post_id, kind AS post_type, views AS impressions "
                             "FROM flat_posts")},
    encoders={"flat_posts": Select("SELECT post_id AS id, post_type AS kind, "
                                   "impressions AS views FROM posts")},
    # this layout only knows one kind of post, and the daily rows must agree
    conform={
        "posts": Select("SELECT post_id, published_at, account_id, 'update' AS post_type, "
                        "is_paid, impressions, reach, video_views, likes, comments, shares, "
                        "saves, clicks FROM posts"),
        "post_daily": Select("SELECT d.post_id, d.date, d.account_id, p.post_type, "
                             "d.impressions, d.reach, d.video_views, d.likes, d.comments, "
                             "d.shares, d.saves, d.clicks FROM post_daily AS d "
                             "JOIN posts AS p ON p.post_id = d.post_id"),
    },
)
GAMMA = Platform(
    name="gamma",
    label="Gamma",
    layouts=[canonical_layout({name: list(src.fields)
                               for name, src in canonical.SOURCES.items()}), GAMMA_FLAT],
)


@hookimpl
def _gamma_platforms() -> list[Platform]:
    return [GAMMA]


def _plugin(name: str, **hooks: object) -> ModuleType:
    """A plugin as pluggy expects one: a module (hashable, unlike a SimpleNamespace)."""
    module = ModuleType(name)
    for hook, function in hooks.items():
        setattr(module, hook, function)
    return module


def gamma_registry() -> Registry:
    registry = Registry()
    plugin = _plugin("gamma", kpiframe_platforms=_gamma_platforms)
    registry.register_module(plugin, PluginInfo(name="gamma", module="tests.test_sample"))
    registry.collect()
    assert not registry.failures, registry.failures
    return registry


def test_conform_queries_shape_every_layout_written(tmp_path: Path) -> None:
    path = tmp_path / "conformed.duckdb"
    registry = gamma_registry()
    plain = build(url_of(tmp_path / "plain.duckdb"), scale=0.3, days=30, registry=registry)
    assert len({r[0] for r in fetch(tmp_path / "plain.duckdb",
                                    "SELECT post_type FROM gamma.posts")}) > 1
    summary = build(url_of(path), scale=0.3, days=30, registry=registry,
                    layouts=["canonical", "flat"])
    assert summary.tables["gamma_flat.flat_posts"] == summary.tables["gamma.posts"]
    assert plain.tables["gamma.posts"] == summary.tables["gamma.posts"]
    assert fetch(path, "SELECT DISTINCT post_type FROM gamma.posts") == [("update",)]
    # every conform query read the rows as they were: post_daily joined the original posts
    assert fetch(path, "SELECT DISTINCT post_type FROM gamma.post_daily") != [("update",)]
    con = DuckDBConnection(url_of(path))
    try:
        native = read(con, GAMMA, "flat", "posts")
        canonical_rows = sorted(con.execute(
            "SELECT 'gamma', post_id, post_type, impressions FROM gamma.posts").rows, key=repr)
    finally:
        con.close()
    assert native == canonical_rows


def test_a_broken_encoder_is_a_located_problem_and_writes_nothing(tmp_path: Path) -> None:
    broken = Layout(name="broken", sources={}, encoders={
        "t": Select("SELECT no_such_column FROM posts")})
    platform = Platform(name="delta", label="Delta", layouts=[
        canonical_layout({"posts": list(canonical.SOURCES["posts"].fields)}), broken])

    @hookimpl
    def kpiframe_platforms() -> list[Platform]:
        return [platform]

    registry = Registry()
    registry.register_module(_plugin("delta", kpiframe_platforms=kpiframe_platforms),
                             PluginInfo(name="delta", module="tests.test_sample"))
    registry.collect()
    path = tmp_path / "broken.duckdb"
    with pytest.raises(KpiframeError) as error:
        build(url_of(path), scale=0.3, days=10, registry=registry,
              layouts=["canonical", "broken"])
    problem = error.value.problems[0]
    assert problem.rule == "sample-encoder"
    assert "plugin 'delta'" in problem.message and "'t'" in problem.message
    # one transaction: the canonical tables written before the failure are gone too
    assert fetch(path, "SELECT count(*) FROM information_schema.tables "
                       "WHERE table_schema = 'delta'") == [(0,)]


@pytest.mark.parametrize(("kwargs", "rule"), [
    # any engine kpiframe has a connector for is written (tests/test_engines_cli.py)
    ({"engine_url": "nosuch:///x.db"}, "unknown-engine"),
    ({"layouts": ["fivtran"]}, "unknown-layout"),
    ({"scale": 0}, "bad-option"),
    ({"scale": -1.5}, "bad-option"),
    ({"days": 0}, "bad-option"),
])
def test_bad_arguments_are_clear_problems(tmp_path: Path, first_party: None,
                                          kwargs: dict[str, Any], rule: str) -> None:
    kwargs.setdefault("engine_url", url_of(tmp_path / "bad.duckdb"))
    with pytest.raises(KpiframeError) as error:
        build(**kwargs)
    assert error.value.problems[0].rule == rule
    if rule == "unknown-layout":
        assert "did you mean 'fivetran'" in (error.value.problems[0].hint or "")


def test_no_platform_is_a_clear_problem(tmp_path: Path) -> None:
    with pytest.raises(KpiframeError) as error:
        build(url_of(tmp_path / "none.duckdb"))  # conftest loads no plugin
    assert error.value.problems[0].rule == "no-platforms"


def test_progress_is_reported_per_table(tmp_path: Path, first_party: None) -> None:
    seen: list[tuple[str, int, int]] = []
    summary = build(url_of(tmp_path / "p.duckdb"), scale=0.3, days=20,
                    progress=lambda label, done, total: seen.append((label, done, total)))
    assert [done for _, done, _ in seen] == list(range(1, len(seen) + 1))
    assert seen[-1][1] == seen[-1][2]
    assert {label for label, _, _ in seen} >= set(summary.tables)


# --------------------------------------------------------------------------- the CLI


def invoke(*args: str) -> Any:
    result = CliRunner().invoke(main, list(args))
    assert "Traceback" not in result.output, result.output
    return result


def test_sample_data_command(tmp_path: Path, first_party: None) -> None:
    url = url_of(tmp_path / "cli.duckdb")
    result = invoke("--project", str(tmp_path), "sample-data", "--engine", url,
                    "--scale", "0.3", "--days", "30", "--seed", "5", "--start", "2024-06-01",
                    "--layout", "canonical", "--layout", "fivetran")
    assert result.exit_code == 0, result.output
    assert "twitter" in result.output and "total" in result.output
    assert "kpiframe demo --engine" in result.output
    state, info = database_state(url)
    assert state == "sample" and info is not None
    assert (info.seed, info.scale, info.start, info.days) == (5, 0.3, dt.date(2024, 6, 1), 30)
    assert info.platforms["x"] == ("canonical", "fivetran")


def test_sample_data_command_problems(tmp_path: Path, first_party: None) -> None:
    result = invoke("--project", str(tmp_path), "sample-data", "--engine", "nosuch:///x.db")
    assert result.exit_code == 1
    assert "error[unknown-engine]" in result.output
    result = invoke("--project", str(tmp_path), "sample-data", "--scale", "0")
    assert result.exit_code == 2
    result = invoke("--project", str(tmp_path), "sample-data", "--engine",
                    url_of(tmp_path / "l.duckdb"), "--layout", "nope")
    assert result.exit_code == 1 and "error[unknown-layout]" in result.output


def test_sample_data_defaults_to_the_configured_layouts(tmp_path: Path,
                                                        first_party: None) -> None:
    url = url_of(tmp_path / "configured.duckdb")
    (tmp_path / "kpiframe.yaml").write_text(
        f"engine: {url}\nplatforms:\n  x: {{layout: fivetran}}\n")
    result = invoke("--project", str(tmp_path), "sample-data", "--scale", "0.3",
                    "--days", "20")
    assert result.exit_code == 0, result.output
    _, info = database_state(url)
    assert info is not None and info.platforms["x"] == ("canonical", "fivetran")
    assert info.platforms["tiktok"] == ("canonical",)


DEMO_CATALOG = """\
kpis:
  - {name: posts_published, type: simple, source: posts, agg: count}
  - {name: impressions, type: simple, source: post_daily, agg: sum, expr: impressions}
  - name: social_interactions
    type: weighted
    source: post_daily
    weights: {likes: 1, comments: 1, shares: 1, saves: 1}
  - name: engagement_rate_by_impressions
    type: ratio
    numerator: social_interactions
    denominator: impressions
    scale: 100
    unit: percent
  - name: post_interactions
    type: weighted
    source: posts
    weights: {likes: 1, comments: 1, shares: 1, saves: 1}
  - {name: post_reach, type: simple, source: posts, agg: max, expr: reach}
  - name: engagement_rate_by_reach
    type: ratio
    numerator: post_interactions
    denominator: post_reach
    scale: 100
    unit: percent
  - {name: followers, type: simple, source: account_daily, agg: last, expr: followers}
  - {name: gained, type: simple, source: account_daily, agg: sum, expr: followers_gained}
  - {name: lost, type: simple, source: account_daily, agg: sum, expr: followers_lost}
  - {name: net_follower_growth, type: derived, expr: gained - lost}
  - {name: audience_growth_rate, type: change, of: followers, offset: 1, calc: percent,
     unit: percent}
  - {name: mentions, type: simple, source: mentions, agg: count}
  - {name: own_mentions, type: simple, source: mentions, agg: count, filter: is_own_brand}
  - {name: share_of_voice, type: ratio, numerator: own_mentions, denominator: mentions,
     scale: 100, unit: percent}
  - name: positive_mentions
    type: simple
    source: mentions
    agg: count
    filter: "sentiment = 'positive'"
  - name: negative_mentions
    type: simple
    source: mentions
    agg: count
    filter: "sentiment = 'negative'"
  - name: net_sentiment
    type: derived
    expr: (positive_mentions - negative_mentions) * 100 / mentions
    unit: percent
  - name: answered
    type: simple
    source: messages
    agg: count
    filter: needs_response AND responded_at IS NOT NULL
  - {name: needing, type: simple, source: messages, agg: count, filter: needs_response}
  - {name: response_rate, type: ratio, numerator: answered, denominator: needing, scale: 100,
     unit: percent}
  - name: avg_response_time
    type: simple
    source: messages
    agg: avg
    expr: response_seconds
    unit: seconds
  - {name: social_referral_sessions, type: simple, source: web_sessions, agg: sum,
     expr: sessions}
  - {name: conversions, type: simple, source: web_sessions, agg: sum, expr: conversions}
  - name: conversion_rate
    type: ratio
    numerator: conversions
    denominator: social_referral_sessions
    scale: 100
    unit: percent
"""


@pytest.fixture
def demo_project(tmp_path: Path) -> Path:
    (tmp_path / "definitions").mkdir()
    (tmp_path / "definitions" / "demo.yaml").write_text(DEMO_CATALOG)
    return tmp_path


def test_demo_builds_the_data_once_and_shows_every_section(demo_project: Path,
                                                           first_party: None) -> None:
    url = url_of(demo_project / "demo.duckdb")
    result = invoke("--project", str(demo_project), "demo", "--engine", url, "--scale", "0.3")
    assert result.exit_code == 0, result.output
    out = result.output
    assert "Building sample data" in out
    for title in ("1. Reach & engagement", "2. Audience", "3. Listening", "4. Care & web",
                  "What to try next", "kpiframe query", "kpiframe compile",
                  "kpiframe validate", "kpiframe show", "kpiframe list"):
        assert title in out, title
    for header in ("Posts Published", "Engagement Rate By Impressions %", "Share Of Voice %",
                   "Avg Response Time (h)", "by month and platform", "All platforms"):
        assert header in out, header
    assert "2025-12" in out and "tiktok" in out
    again = invoke("--project", str(demo_project), "demo", "--engine", url)
    assert again.exit_code == 0, again.output
    assert "Building sample data" not in again.output  # the data is there already
    rebuilt = invoke("--project", str(demo_project), "demo", "--engine", url, "--scale", "0.4")
    assert rebuilt.exit_code == 0 and "built at scale 0.3" in rebuilt.output


def test_demo_on_the_standard_catalog(tmp_path: Path, first_party: None) -> None:
    url = url_of(tmp_path / "standard.duckdb")
    result = invoke("--project", str(ROOT), "demo", "--engine", url, "--scale", "0.3")
    assert result.exit_code == 0, result.output
    assert "Engagement rate by impressions %" in result.output
    assert "4. Care & web" in result.output


def test_demo_names_the_kpis_the_catalog_lacks(demo_project: Path, first_party: None) -> None:
    text = DEMO_CATALOG.replace("name: share_of_voice", "name: voice_share")
    (demo_project / "definitions" / "demo.yaml").write_text(text)
    url = url_of(demo_project / "missing.duckdb")
    result = invoke("--project", str(demo_project), "demo", "--engine", url)
    assert result.exit_code == 1
    assert "error[demo-missing-kpi]" in result.output and "'share_of_voice'" in result.output
    assert not (demo_project / "missing.duckdb").exists()  # nothing built


def test_demo_without_a_catalog_says_where_it_looked(tmp_path: Path, first_party: None) -> None:
    result = invoke("--project", str(tmp_path), "demo", "--engine",
                    url_of(tmp_path / "x.duckdb"))
    assert result.exit_code == 1
    assert "error[demo-no-catalog]" in result.output


def test_demo_needs_a_duckdb_file(demo_project: Path, first_party: None) -> None:
    result = invoke("--project", str(demo_project), "demo", "--engine", "duckdb://")
    assert result.exit_code == 1 and "error[demo-engine]" in result.output
    result = invoke("--project", str(demo_project), "demo", "--engine", "sqlite:///x.db")
    assert result.exit_code == 1 and "error[sample-engine]" in result.output


def test_demo_leaves_a_database_it_did_not_build_alone(demo_project: Path,
                                                       first_party: None) -> None:
    path = demo_project / "own.duckdb"
    build(url_of(path), scale=0.3, days=40)
    con = duckdb.connect(str(path))
    con.execute("DROP SCHEMA _kpiframe CASCADE")  # now it is someone's own data
    con.close()
    result = invoke("--project", str(demo_project), "demo", "--engine", url_of(path),
                    "--scale", "2")
    assert result.exit_code == 0, result.output
    assert "Building" not in result.output
    assert database_state(url_of(path))[0] == "other"


def test_the_demo_catalog_fixture_is_valid(demo_project: Path, first_party: None) -> None:
    result = invoke("--project", str(demo_project), "validate")
    assert result.exit_code == 0, result.output


def test_cli_help_lists_the_commands() -> None:
    result = invoke("--help")
    assert "sample-data" in result.output and "demo" in result.output
