"""Content / KOL performance on a hand-made pack (exact numbers)."""

from __future__ import annotations

import pandas as pd
import pytest

from opsnb.errors import NoData
from opsnb.metrics.content import content_performance
from opsnb.pack import from_frames
from opsnb.periods import Period

OCT = Period.parse("2026-10")


def _content(**drop: bool) -> pd.DataFrame:
    df = pd.DataFrame({
        "content_id": ["c1", "c2", "c3", "c4", "c5"],
        "published_at": ["2026-10-01", "2026-10-05", "2026-10-09", "2026-10-31 23:00", "2026-09-30"],
        "channel": ["douyin", "douyin", "wechat", "wechat", "wechat"],
        "type": ["kol", "kol", "article", "article", "article"],
        "views": ["1000", "500", "0", "100", "9999"],
        "likes": ["50", "10", "0", "1", "9"],
        "comments": ["30", "0", "0", "1", "9"],
        "shares": ["20", "5", "0", "0", "9"],
        "followers_gained": ["10", "-2", "0", "1", "9"],
        "leads": ["5", "0", "", "1", "9"],
        "conversions": ["2", "0", "", "0", "9"],
    })
    return df.drop(columns=[k for k in drop])


def test_items_groups_and_long_tail():
    r = content_performance(from_frames({"content": _content()}), OCT, top_n=2)
    assert (r.total_items, r.total_views, r.long_tail_share) == (4, 1600, 100 / 1600)
    assert list(r.items["content_id"]) == ["c1", "c2"]
    assert list(r.items["engagement_rate"]) == [0.1, 0.03]
    g = r.by_group.set_index("type")
    assert (g.loc["kol", "views"], g.loc["kol", "engagements"], g.loc["kol", "followers_gained"]) == (1500, 115, 8)
    assert g.loc["kol", "engagement_rate"] == 115 / 1500 and g.loc["article", "engagement_rate"] == 0.02
    assert (g.loc["article", "items"], g.loc["article", "leads"], g.loc["kol", "conversions"]) == (2, 1, 2)


def test_zero_views_is_na():
    r = content_performance(from_frames({"content": _content()}), OCT, top_n=10)
    c3 = r.items.set_index("content_id").loc["c3"]
    assert pd.isna(c3["engagement_rate"]) and c3["engagement_reason"] == "zero_views"
    assert r.long_tail_share == 0.0


def test_missing_counter_columns_count_as_zero_and_no_views_is_na():
    r = content_performance(from_frames({"content": _content(likes=True, views=True)}), OCT, top_n=1)
    assert r.total_views == 0 and r.long_tail_share is None and r.long_tail_reason == "zero_views"
    assert r.by_group.set_index("type").loc["kol", "engagements"] == 55  # comments + shares only


def test_no_content_is_nodata():
    with pytest.raises(NoData):
        content_performance(from_frames({"content": _content()}), Period.parse("2026-11"))
    with pytest.raises(NoData):
        content_performance(from_frames({}), OCT)
