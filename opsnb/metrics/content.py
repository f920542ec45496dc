"""Content and KOL performance: exposure, engagement, followers, leads and conversions.

An item belongs to the period when its ``published_at`` lies in it; its counters (views, likes…)
are taken as given in the ``content`` table (lifetime totals at export time). Missing optional
counter columns count as 0, except ``views``: without views the engagement rate is undefined.
"""

from __future__ import annotations

from dataclasses import dataclass

import ibis
import pandas as pd

from opsnb.errors import NoData
from opsnb.metrics.campaigns import nullable_float, ratio, ts
from opsnb.pack import Pack
from opsnb.periods import Period

COUNTERS = ("views", "likes", "comments", "shares", "followers_gained", "leads", "conversions")


@dataclass(frozen=True)
class ContentResult:
    """Content performance of a period.

    ``items``: the top-N items by views (``content_id, title, channel, type, published_at`` + counters,
    ``engagement_rate``, ``engagement_reason``); ``by_group``: the same counters per ``type, channel``;
    ``long_tail_share``: share of all views earned outside the top N (None when views total 0).
    """

    items: pd.DataFrame
    by_group: pd.DataFrame
    total_items: int
    total_views: int
    top_n: int
    long_tail_share: float | None
    long_tail_reason: str | None


def _counters(t: ibis.Table) -> dict[str, ibis.Value]:
    return {c: (t[c].cast("int64").fill_null(0) if c in t.columns else ibis.literal(0, "int64")) for c in COUNTERS}


def _engagement(df: pd.DataFrame) -> pd.DataFrame:
    rates = [ratio(e, v, "zero_views") for e, v in zip(df["engagements"], df["views"], strict=True)]
    df["engagement_rate"] = nullable_float(pd.Series([r[0] for r in rates], index=df.index))
    df["engagement_reason"] = pd.Series([r[1] for r in rates], index=df.index, dtype="object")
    return df


def content_performance(pack: Pack, period: Period, top_n: int = 10) -> ContentResult:
    """Per item and per type/channel: views, engagement rate, followers gained, leads, conversions.

    Engagement rate = (likes + comments + shares) ÷ views; 0 views → None with reason ``zero_views``.
    Top-N items are ranked by views (ties by content_id); the long-tail share is the share of views
    of the other items.

    Raises
    ------
    NoData
        No content table, or nothing published in the period.
    """
    c = pack.table("content")
    c = c.filter((c.published_at >= ts(period.start)) & (c.published_at < ts(period.end)))
    cnt = _counters(c)
    base = c.select("content_id", "channel", "type", "published_at",
                    title=c.title if "title" in c.columns else ibis.null("string"), **cnt)
    base = base.mutate(engagements=base.likes + base.comments + base.shares)
    totals = base.aggregate(n=base.count(), views=base.views.sum()).execute()
    n = int(totals["n"][0])
    if n == 0:
        raise NoData("content", f"nothing published in {period.label}")
    total_views = int(totals["views"][0] or 0)
    items = base.order_by([ibis.desc("views"), "content_id"]).limit(top_n).execute()
    items = _engagement(items.drop(columns=[]))
    top_views = int(items["views"].sum())
    share, reason = ratio(total_views - top_views, total_views, "zero_views")

    sums = {k: base[k].sum() for k in (*COUNTERS, "engagements")}
    groups = base.group_by("type", "channel").aggregate(items=base.count(), **sums)
    by_group = _engagement(groups.order_by([ibis.desc("views"), "type", "channel"]).execute())
    for df in (items, by_group):
        for k in (*COUNTERS, "engagements"):
            df[k] = df[k].astype("int64")
    by_group["items"] = by_group["items"].astype("int64")
    return ContentResult(items=items, by_group=by_group, total_items=n, total_views=total_views, top_n=top_n,
                         long_tail_share=share, long_tail_reason=reason)
