"""Fixture rows for the oracle suite: two platforms (the test plugin's `alpha` and `beta`)
in the canonical layout, built to hit every edge the numbers can go wrong on.

- gaps: whole weeks with no post activity, accounts with missing snapshot days;
- zero denominators: post days with 0 impressions; a day whose followers are NULL;
- NULL fields: metrics left NULL here and there, beta has no reach or saves at all;
- snapshots: followers are end-of-day counts, and posts carry lifetime totals;
- the same post ids on both platforms (p001 on alpha is not p001 on beta);
- timestamps within minutes of midnight UTC, and data before the usual --from dates so
  that cumulative and change KPIs must look back;
- publication times with seconds and a fraction of one (extract(second) is whole seconds);
- post ids in both cases and with the characters LIKE patterns can mistake for wildcards
  (`%`, `_`, GLOB's `[`, `*`, `?`, and a backslash, an escape on some engines).

Deterministic: the same rows every run.
"""

from __future__ import annotations

import datetime as dt
import random
from typing import Any

Rows = list[dict[str, Any]]

FIRST = dt.date(2023, 12, 18)
LAST = dt.date(2024, 3, 31)
#: days with no post activity at all (a gap longer than a week)
QUIET = {FIRST + dt.timedelta(days=d) for d in range(56, 66)}  # 2024-02-12 .. 2024-02-21


def _days(first: dt.date, last: dt.date) -> list[dt.date]:
    return [first + dt.timedelta(days=i) for i in range((last - first).days + 1)]


#: post ids spelled to trip a LIKE that ignores case or reads its pattern's characters
#: as another engine's wildcards or escapes
ODD_POST_IDS = {6: "p[6]*?", 10: "p\\10%", 14: "p_14"}


def _post_id(n: int) -> str:
    """Mostly `p007`; every fourth from 1 upper-case (`P005`); a few odd ones."""
    if n in ODD_POST_IDS:
        return ODD_POST_IDS[n]
    return f"{'P' if n % 4 == 1 else 'p'}{n:03d}"


def build(seed: int = 7) -> dict[str, dict[str, Rows]]:
    """{platform: {source: rows}}; rows hold canonical fields, without `platform`."""
    rng = random.Random(seed)
    data: dict[str, dict[str, Rows]] = {}
    for platform, accounts, has_reach in (("alpha", ["a1", "a2"], True), ("beta", ["b1"], False)):
        posts: Rows = []
        daily: Rows = []
        for n in range(40 if platform == "alpha" else 18):
            account = accounts[n % len(accounts)]
            day = FIRST + dt.timedelta(days=rng.randrange(0, (LAST - FIRST).days - 5))
            if day in QUIET:
                day = day + dt.timedelta(days=12)
            minute = rng.choice([5, 30 * 60, 23 * 60 + 50, 12 * 60])
            published = dt.datetime.combine(day, dt.time()) + dt.timedelta(
                minutes=minute, seconds=n % 60, microseconds=n * 104729 % 1_000_000)
            post_id = _post_id(n)
            post_type = rng.choice(["photo", "video", "text", None])
            totals = dict.fromkeys(("impressions", "reach", "video_views", "likes", "comments",
                                    "shares", "saves", "clicks"), 0)
            for offset in range(rng.randrange(1, 9)):
                when = published.date() + dt.timedelta(days=offset * rng.choice([1, 1, 2, 5]))
                if when > LAST or when in QUIET:
                    continue
                impressions = rng.choice([0, rng.randrange(50, 3000)])
                row = {
                    "post_id": post_id, "date": when, "account_id": account,
                    "post_type": post_type,
                    "impressions": impressions,
                    "reach": (impressions * 7 // 10) if has_reach else None,
                    "video_views": rng.randrange(0, 500) if post_type == "video" else None,
                    "likes": rng.randrange(0, 120) if rng.random() > 0.1 else None,
                    "comments": rng.randrange(0, 15),
                    "shares": rng.randrange(0, 25),
                    "saves": rng.randrange(0, 10) if platform == "alpha" else None,
                    "clicks": rng.randrange(0, 40),
                }
                if any(r["post_id"] == post_id and r["date"] == when for r in daily):
                    continue
                daily.append(row)
                for key in totals:
                    totals[key] += row[key] or 0
            posts.append({
                "post_id": post_id, "published_at": published, "account_id": account,
                "post_type": post_type, "is_paid": n % 5 == 0,
                **{k: (v if (has_reach or k not in ("reach",)) else None)
                   for k, v in totals.items()},
            })
            if platform == "beta":
                posts[-1]["saves"] = None
        accounts_daily: Rows = []
        for account in accounts:
            followers = rng.randrange(800, 5000)
            for day in _days(FIRST, LAST):
                gained, lost = rng.randrange(0, 40), rng.randrange(0, 25)
                followers += gained - lost
                if rng.random() < 0.12:
                    continue  # no snapshot that day: `last` must use the day before
                accounts_daily.append({
                    "account_id": account, "date": day,
                    "followers": None if rng.random() < 0.04 else followers,
                    "followers_gained": gained, "followers_lost": lost,
                    "profile_views": rng.randrange(0, 300),
                    "impressions": rng.randrange(0, 9000),
                    "reach": rng.randrange(0, 6000) if has_reach else None,
                })
        messages: Rows = []
        for n in range(60 if platform == "alpha" else 25):
            received = dt.datetime.combine(
                FIRST + dt.timedelta(days=rng.randrange(0, (LAST - FIRST).days)), dt.time()
            ) + dt.timedelta(minutes=rng.randrange(0, 24 * 60))
            needs = rng.random() < 0.7
            answered = needs and rng.random() < 0.8
            seconds = rng.randrange(60, 40000) if answered else None
            messages.append({
                "message_id": f"{platform}-m{n}", "received_at": received,
                "account_id": rng.choice(accounts), "needs_response": needs,
                "responded_at": received + dt.timedelta(seconds=seconds) if seconds else None,
                "response_seconds": seconds,
            })
        sessions: Rows = []
        for day in _days(FIRST, LAST):
            for page in ("/", "/pricing", "/blog"):
                if rng.random() < 0.3:
                    continue
                count = rng.randrange(0, 200)
                sessions.append({
                    "date": day, "landing_page": page, "sessions": count,
                    "new_users": count // 2,
                    "goal_completions": rng.randrange(0, 10) if count else 0,
                    "conversions": rng.randrange(0, 5) if count else 0,
                    "revenue": round(rng.uniform(0, 400), 2) if count else 0.0,
                })
        tables: dict[str, Rows] = {
            "posts": posts, "post_daily": daily, "account_daily": accounts_daily,
            "messages": messages, "web_sessions": sessions,
        }
        if platform == "alpha":
            mentions: Rows = []
            for n in range(150):
                when = dt.datetime.combine(
                    FIRST + dt.timedelta(days=rng.randrange(0, (LAST - FIRST).days)), dt.time()
                ) + dt.timedelta(minutes=rng.choice([1, 600, 23 * 60 + 59]))
                brand = rng.choice(["acme", "acme", "rival", "other"])
                sentiment = rng.choice(["positive", "neutral", "negative", "positive"])
                mentions.append({
                    "mention_id": f"mn{n}", "mentioned_at": when, "brand": brand,
                    "is_own_brand": brand == "acme", "sentiment": sentiment,
                    "sentiment_score": {"positive": 0.6, "neutral": 0.0,
                                        "negative": -0.7}[sentiment],
                    "author_followers": rng.randrange(10, 100000),
                })
            tables["mentions"] = mentions
        data[platform] = tables
    return data
