"""Realistic, deterministic sample data for every installed platform.

    from kpiframe.sample import build

    summary = build("duckdb:///social.duckdb", scale=1, seed=42, layouts=["canonical", "fivetran"])
    summary.tables  # {"x.posts": 512, "twitter.tweet": 512, ...}

For each active platform (any plugin: the core knows no platform) `build` generates a year
of accounts, posts and their daily activity, follower balances, brand mentions, inbound
messages and referred web sessions, in DuckDB SQL, set-based, so ten million rows
(`scale=200`) take seconds, not minutes. The platform's flavour (audience, posting rate,
virality, response times...) derives from the seed and its name; the rows derive from the
seed alone, the same on every machine.

The canonical data is consistent the way plugins need it: a post's lifetime totals in
`posts` are the sum of its `post_daily` rows (reach, which counts people, is deduplicated
across days instead: at least the best day, at most the sum); `post_daily` days fall on or
after publication and inside the window; followers move by exactly gained - lost each day;
a metric a platform provides is never NULL. A layout's `conform` queries, when a plugin
has them, adjust the rows before anything is written, so every layout written holds the
same facts.
"""

from __future__ import annotations

from kpiframe.sample.builder import SampleInfo, SampleSummary, build, database_state

__all__ = ["SampleInfo", "SampleSummary", "build", "database_state"]
