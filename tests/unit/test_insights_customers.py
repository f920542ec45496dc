"""The insights part-B view: every subsection renders in zh and en on a small pack."""

from __future__ import annotations

import matplotlib
import pandas as pd
import pytest

from opsnb.nb import Context, render
from opsnb.pack import from_frames
from opsnb.params import Settings
from opsnb.periods import Period

matplotlib.use("Agg")

KEYS = ["insights.channels", "insights.rfm", "insights.regions", "insights.attribution"]


def _pack() -> object:
    users = pd.DataFrame({"user_id": ["u1", "u2", "u3", "u4"],
                          "signup_at": ["2026-09-05 10:00", "2026-10-02 10:00", "2026-10-03 10:00", "2026-10-04 10:00"],
                          "channel": ["ads", "ads", "seo", "<b>kol</b>"], "region": ["bj", "sh", "sh", None]})
    events = pd.DataFrame({"user_id": ["u1", "u2", "u3", "u4"], "event": ["visit"] * 4,
                           "ts": ["2026-10-01 10:00", "2026-10-02 10:00", "2026-10-03 10:00", "2026-10-04 10:00"]})
    orders = pd.DataFrame({"order_id": ["1", "2", "3", "4"], "user_id": ["u1", "u2", "u3", "u1"],
                           "ts": ["2026-10-05 10:00", "2026-10-06 10:00", "2026-10-07 10:00", "2026-09-07 10:00"],
                           "amount": [100.0, 50.0, 30.0, 20.0], "channel": ["ads", "ads", "seo", "ads"]})
    tp = pd.DataFrame({"user_id": ["u1", "u1", "u2", "u4"], "channel": ["seo", "ads", "ads", "<b>kol</b>"],
                       "ts": ["2026-10-01 10:00", "2026-10-04 10:00", "2026-10-05 10:00", "2026-10-05 10:00"]})
    spend = pd.DataFrame({"date": ["2026-10-01", "2026-10-01", "2026-10-02"], "channel": ["ads", "seo", "<b>kol</b>"],
                          "cost": [50.0, 5.0, 80.0], "impressions": [1000, 100, 500], "clicks": [20, 4, 5]})
    return from_frames({"users": users, "events": events, "orders": orders, "touchpoints": tp,
                        "channel_spend": spend})


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_every_subsection_renders(lang: str) -> None:
    ctx = Context(Settings(lang=lang), _pack(), Period.parse("2026-10"))
    for key in KEYS:
        result, objs = render(ctx, key)
        assert result is not None, key
        html = "".join(o._repr_html_() for o in objs if hasattr(o, "_repr_html_"))
        assert "<b>kol</b>" not in html  # data values are escaped
        bullets = objs[-1]
        assert "<li>" in bullets._repr_html_(), key


def test_channel_bullets_exact_zh() -> None:
    from opsnb.sections.insights_customers import channels_bullets

    ctx = Context(Settings(lang="zh"), _pack(), Period.parse("2026-10"))
    result, _ = render(ctx, "insights.channels")
    lines = channels_bullets(result, ctx)
    # ranked: the largest budget mismatch first (kol 80/135 = 59.3% of the budget, no return)
    assert lines[0] == "预算错配：<b>kol</b>预算占比59.3%，回报占比仅0.0%，预算占比明显高于回报。"
    assert len(lines) <= 5 and not any(line.startswith("流量来源") for line in lines)


def test_empty_period_shows_note() -> None:
    ctx = Context(Settings(lang="en"), _pack(), Period.parse("2025-01"))
    for key in KEYS:
        result, objs = render(ctx, key)
        assert result is None
        assert "No data" in objs[-1]._repr_html_() or "no data" in objs[-1]._repr_html_().lower(), key
