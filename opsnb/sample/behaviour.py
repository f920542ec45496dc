"""Vectorised simulation of the brand's users: sign-ups, sessions, funnel events, orders, touches.

Times are int64 seconds from local midnight of 2025-01-01 (naive local time). Every array op is
numpy over all users/sessions/events at once; the only Python loops run over campaigns (15).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

import numpy as np
import pandas as pd

from opsnb.sample import brand
from opsnb.sample.calendar import DAY, HOUR_WEIGHTS, N_DAYS, Calendar, day_index, sec

EVENTS = ("visit", "register", "view_item", "add_to_cart", "purchase", "share",
          "points_earn", "points_redeem", "member_join", "member_renew")
STATUSES = ("paid", "refunded", "cancelled")
END_SEC = N_DAYS * DAY

USERS_PER_SCALE = 50_000
SESSIONS_PER_USER = 13.2        # → ≈ 2M events per 50k users (≈ 3.03 events per session)
CHURN_WEEK = date(2026, 10, 12)  # planted: Monday of the churn spike
CHURN_KILL = 0.22                # share of the previous week's returning users who leave for good instead
TRACKING_BREAK = date(2026, 10, 20)
EXPERIMENT = ("结算按钮改版", date(2026, 10, 8), date(2026, 10, 28))  # name, first day, last day
EXPERIMENT_USERS = 8_000         # per scale 1, both arms
EXPERIMENT_LIFT = 1.7            # B's checkout conversion multiplier
GAP_CHANNEL = "抖音"
GAP_SHARE = 0.6                  # share of the channel's October buyers whose touches are lost
REVIEW_START = date(2026, 10, 1)
_TS_BITS = 27                    # seconds since the origin fit in 27 bits (670 days < 2**27 s)
_TS_MASK = (1 << _TS_BITS) - 1
_SESS_BITS = 32                  # event sort key: ts << 36 | code << 32 | session
_SESS_MASK = (1 << _SESS_BITS) - 1


@dataclass
class Simulation:
    """Arrays describing everything that happened (codes index into the brand's tuples)."""

    signup: np.ndarray
    channel: np.ndarray
    region: np.ndarray
    platform: np.ndarray
    is_member: np.ndarray
    ev_user: np.ndarray
    ev_ts: np.ndarray
    ev_event: np.ndarray
    ev_session: np.ndarray
    or_user: np.ndarray
    or_ts: np.ndarray
    or_amount: np.ndarray
    or_status: np.ndarray
    or_campaign: np.ndarray
    or_number: np.ndarray       # running number within its prefix (O for orders, R for refunds)
    tp_user: np.ndarray
    tp_ts: np.ndarray
    tp_channel: np.ndarray
    tp_campaign: np.ndarray
    ex_user: np.ndarray
    ex_variant: np.ndarray
    ex_ts: np.ndarray
    n_sessions: int
    info: dict = field(default_factory=dict)


def time_of_day(rng: np.random.Generator, n: int) -> np.ndarray:
    """Seconds after midnight drawn from the hour-of-day profile."""
    cum = np.cumsum(HOUR_WEIGHTS) / HOUR_WEIGHTS.sum()
    lookup = np.minimum(np.searchsorted(cum, (np.arange(4096) + 0.5) / 4096, side="right"), 23)
    hour = lookup[rng.integers(0, 4096, n)].astype(np.int64)
    return hour * 3600 + rng.integers(0, 3600, n)


def _users(rng: np.random.Generator, cal: Calendar, n: int) -> tuple[np.ndarray, ...]:
    counts = rng.multinomial(n, cal.signup / cal.signup.sum())
    sday = np.repeat(np.arange(N_DAYS, dtype=np.int64), counts)
    signup = np.sort(sday * DAY + time_of_day(rng, n))
    channel = rng.choice(len(brand.CHANNELS), size=n, p=brand.CHANNEL_SHARE).astype(np.int8)
    region = rng.choice(len(brand.REGIONS), size=n, p=brand.REGION_SHARE).astype(np.int8)
    platform = rng.choice(len(brand.PLATFORMS), size=n, p=brand.PLATFORM_SHARE).astype(np.int8)
    return signup, channel, region, platform


def _sessions(rng: np.random.Generator, cal: Calendar, signup: np.ndarray, channel: np.ndarray,
              member: np.ndarray, n_target: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Sign-up session plus a Poisson number of return sessions inside each user's lifetime.

    A user lives a geometric (exponential) number of days after sign-up, or leaves at once
    (one-shot visitors); while alive, sessions arrive at the user's own rate times the
    calendar's activity. Returns (user, ts, is_first) sorted by user, then time.
    """
    n = len(signup)
    one_shot = (rng.random(n) < np.asarray(brand.CHANNEL_ONE_SHOT)[channel]) & ~member
    life = np.where(one_shot, 0.0, rng.exponential(150.0, n))
    rate = rng.gamma(1.3, 1 / 1.3, n) * np.where(member, 1.4, 1.0)
    grid = np.arange(N_DAYS + 1, dtype=np.float64)
    cum = np.concatenate([[0.0], np.cumsum(cal.activity)])
    a = signup / DAY
    b = np.minimum(a + life, N_DAYS)
    ga = np.interp(a, grid, cum)
    exposure = np.interp(b, grid, cum) - ga
    expected = rate * exposure
    k = max(n_target - n, 0) / max(expected.sum(), 1e-9)
    n_extra = rng.poisson(k * expected)
    su = np.repeat(np.arange(n, dtype=np.int64), n_extra)
    g = ga[su] + rng.random(len(su)) * exposure[su]
    x = np.interp(g, cum, grid)
    sday = np.clip(np.floor(x).astype(np.int64), 0, N_DAYS - 1)
    ts = sday * DAY + time_of_day(rng, len(su))
    s0 = signup[su]
    early = ts <= s0  # a return on the sign-up day happens after the sign-up
    room = (s0[early] // DAY + 1) * DAY - s0[early]
    ts[early] = s0[early] + 1 + (rng.random(int(early.sum())) * (room - 1)).astype(np.int64)
    # one sort of packed (user, ts) keys; return sessions come strictly after the sign-up
    key = np.concatenate([(np.arange(n, dtype=np.int64) << _TS_BITS) | signup, (su << _TS_BITS) | ts])
    key.sort()
    user = key >> _TS_BITS
    first = np.empty(len(key), bool)
    first[0] = True
    first[1:] = user[1:] != user[:-1]
    return user, key & _TS_MASK, first


def _campaign_days() -> np.ndarray:
    mult = np.ones(N_DAYS)
    days = np.arange(N_DAYS)
    for c in brand.CAMPAIGNS:
        m = (days >= day_index(c.start)) & (days <= day_index(c.end))
        mult[m] *= c.uplift
    return mult


def simulate(rng: np.random.Generator, cal: Calendar, scale: float) -> Simulation:
    """Run the whole user simulation for ``scale`` (1 ≈ 50k users, 2M events)."""
    n = max(int(round(USERS_PER_SCALE * scale)), 200)
    signup, channel, region, platform = _users(rng, cal, n)
    member = rng.random(n) < 0.24
    s_user, s_ts, s_first = _sessions(rng, cal, signup, channel, member,
                                      int(round(SESSIONS_PER_USER * USERS_PER_SCALE * scale)))

    # planted churn spike: a share of the previous week's active users never come back
    w1 = sec(CHURN_WEEK)
    w0 = w1 - 7 * DAY
    prev = np.zeros(n, bool)
    prev[s_user[(s_ts >= w0) & (s_ts < w1)]] = True
    later = np.zeros(n, bool)  # ... who would have come back that very week
    later[s_user[(s_ts >= w1) & (s_ts < w1 + 7 * DAY)]] = True
    killed = prev & later & (rng.random(n) < CHURN_KILL)
    keep = ~(killed[s_user] & (s_ts >= w1))
    s_user, s_ts, s_first = s_user[keep], s_ts[keep], s_first[keep]
    m = len(s_user)

    # membership: join at one of the user's sessions (earlier ones likelier), renew after a year
    starts = np.searchsorted(s_user, np.arange(n))
    counts = np.diff(np.append(starts, m))
    join_idx = starts + np.floor(rng.random(n) ** 2 * counts).astype(np.int64)
    join_idx = np.minimum(join_idx, m - 1)
    join_ts = np.where(member, s_ts[join_idx], np.iinfo(np.int64).max // 2)
    join_flag = np.zeros(m, bool)
    join_flag[join_idx[member]] = True
    after_year = member[s_user] & (s_ts >= join_ts[s_user] + 365 * DAY)
    cand = np.flatnonzero(after_year)
    _, first_pos = np.unique(s_user[cand], return_index=True)
    renew_flag = np.zeros(m, bool)
    renew_flag[cand[first_pos]] = True

    # the A/B test: users are assigned at their first session inside the window
    ex_name, ex_first, ex_last = EXPERIMENT
    e0, e1 = sec(ex_first), sec(ex_last) + DAY
    cand = np.flatnonzero((s_ts >= e0) & (s_ts < e1))
    ex_users, first_pos = np.unique(s_user[cand], return_index=True)
    p = min(1.0, EXPERIMENT_USERS * scale / max(len(ex_users), 1))
    chosen = rng.random(len(ex_users)) < p
    ex_variant = (rng.random(len(ex_users)) < 0.5).astype(np.int8)[chosen]
    ex_ts = s_ts[cand[first_pos]][chosen]
    ex_users = ex_users[chosen]
    variant_of = np.full(n, -1, np.int8)
    variant_of[ex_users] = ex_variant
    assigned_at = np.full(n, END_SEC, np.int64)
    assigned_at[ex_users] = ex_ts
    in_b = (variant_of[s_user] == 1) & (s_ts >= assigned_at[s_user]) & (s_ts < e1)

    # the funnel of each session
    s_day = s_ts // DAY
    views = np.where(rng.random(m) < 0.8, 1 + rng.poisson(1.1, m), 0)
    cart = (views > 0) & (rng.random(m) < 0.30)
    propensity = (np.asarray(brand.CHANNEL_PROPENSITY)[channel] * rng.lognormal(0.0, 0.35, n)
                  * np.where(member, 1.2, 1.0))
    p_buy = (0.2 * cal.conversion[s_day] * _campaign_days()[s_day] * propensity[s_user]
             * np.where(in_b, EXPERIMENT_LIFT, 1.0))
    buy = cart & (rng.random(m) < np.minimum(p_buy, 0.95))
    referral = channel[s_user] == brand.CHANNELS.index("老带新")
    share = rng.random(m) < np.where(referral, 0.07, 0.03)
    mem_now = member[s_user] & (s_ts >= join_ts[s_user])
    earn = buy & mem_now
    redeem = mem_now & (rng.random(m) < 0.04)
    off_cart = 40 * (views + 1) + rng.integers(0, 35, m)
    off_buy = off_cart + 70 + rng.integers(0, 90, m)

    sess = np.arange(m, dtype=np.int64)
    v_sess = np.repeat(sess, views)
    v_rank = np.arange(len(v_sess)) - np.repeat(np.cumsum(views) - views, views) + 1
    parts = [
        (sess, np.zeros(m, np.int64), 0),
        (np.flatnonzero(s_first), np.zeros(int(s_first.sum()), np.int64), 1),
        (v_sess, 40 * v_rank + rng.integers(0, 35, len(v_sess)), 2),
        (np.flatnonzero(cart), off_cart[cart], 3),
        (np.flatnonzero(buy), off_buy[buy], 4),
        (np.flatnonzero(share), 40 * views[share] + 20, 5),
        (np.flatnonzero(earn), off_buy[earn] + 3, 6),
        (np.flatnonzero(redeem), off_cart[redeem] + 20, 7),
        (np.flatnonzero(join_flag), off_buy[join_flag] + 60, 8),
        (np.flatnonzero(renew_flag), np.full(int(renew_flag.sum()), 25, np.int64), 9),
    ]
    # one sort of packed (ts, event code, session) keys; codes keep visit before register at a tie
    key = np.empty(sum(len(i) for i, _, _ in parts), np.int64)
    at = 0
    for i, off, code in parts:  # ten event kinds; in-place ops keep temporaries small
        k = key[at:at + len(i)]
        np.take(s_ts, i, out=k)
        k += off
        k <<= 36
        k |= (code << _SESS_BITS)
        k |= i
        at += len(i)
    del parts
    key.sort()
    key = key[: np.searchsorted(key, END_SEC << 36)]

    # orders are the purchases (order ts = purchase event ts); the order system keeps them
    # even when the web tracker drops the events
    bought = np.flatnonzero(buy)
    o_ts = s_ts[bought] + off_buy[bought]
    ok = o_ts < END_SEC
    o_user, o_ts = s_user[bought][ok], o_ts[ok]
    oo = np.argsort(o_ts, kind="stable")
    o_user, o_ts = o_user[oo], o_ts[oo]

    # planted tracking break: no Web events on one day
    brk = sec(TRACKING_BREAK)
    lo, hi = np.searchsorted(key, [brk << 36, (brk + DAY) << 36])
    day = key[lo:hi]
    web = platform[s_user[day & _SESS_MASK]] == brand.PLATFORMS.index("Web")
    key = np.concatenate([key[:lo], day[~web], key[hi:]])
    e_ts = key >> 36
    e_code = ((key >> _SESS_BITS) & 15).astype(np.int8)
    e_sess = key & _SESS_MASK
    del key

    orders = _orders(rng, cal, o_user, o_ts, region)
    tp, gap_users = _touchpoints(rng, signup, channel, orders)
    _attach_campaigns(orders, tp, gap_users)

    is_member = np.zeros(n, bool)
    is_member[s_user[join_flag]] = True
    info = {"killed_users": int(killed.sum()), "gap_users": int(gap_users.sum()),
            "experiment": ex_name, "experiment_window": (ex_first.isoformat(), ex_last.isoformat())}
    return Simulation(
        signup=signup, channel=channel, region=region, platform=platform, is_member=is_member,
        ev_user=s_user[e_sess], ev_ts=e_ts, ev_event=e_code, ev_session=e_sess,
        or_user=orders["user"], or_ts=orders["ts"], or_amount=orders["amount"], or_status=orders["status"],
        or_campaign=orders["campaign"], or_number=orders["number"],
        tp_user=tp["user"], tp_ts=tp["ts"], tp_channel=tp["channel"], tp_campaign=tp["campaign"],
        ex_user=ex_users, ex_variant=ex_variant, ex_ts=ex_ts, n_sessions=m, info=info)


def _orders(rng: np.random.Generator, cal: Calendar, o_user: np.ndarray, o_ts: np.ndarray,
            region: np.ndarray) -> dict[str, np.ndarray]:
    """Order rows (paid / cancelled) plus later refund rows with negative amounts."""
    k = len(o_user)
    sigma = 0.55
    base = rng.lognormal(np.log(285.0) - sigma ** 2 / 2, sigma, k)
    amount = np.round(base * cal.aov[o_ts // DAY] * np.asarray(brand.REGION_AOV)[region[o_user]], 2)
    amount = np.maximum(amount, 9.9)
    status = np.where(rng.random(k) < 0.03, 2, 0).astype(np.int8)
    refund = (status == 0) & (rng.random(k) < 0.045)
    r_ts = o_ts[refund] + (rng.uniform(1, 15, int(refund.sum())) * DAY).astype(np.int64)
    ok = r_ts < END_SEC
    r_src = np.flatnonzero(refund)[ok]
    r_ts = r_ts[ok]
    user = np.concatenate([o_user, o_user[r_src]])
    ts = np.concatenate([o_ts, r_ts])
    amt = np.concatenate([amount, -amount[r_src]])
    st = np.concatenate([status, np.ones(len(r_src), np.int8)])
    src = np.concatenate([np.arange(k), r_src])
    number = np.concatenate([np.arange(1, k + 1), np.arange(1, len(r_src) + 1)])
    order = np.argsort(ts, kind="stable")
    return {"user": user[order], "ts": ts[order], "amount": amt[order], "status": st[order],
            "src": src[order], "number": number[order], "campaign": np.full(len(ts), -1, np.int16)}


def _touchpoints(rng: np.random.Generator, signup: np.ndarray, channel: np.ndarray,
                 orders: dict[str, np.ndarray]) -> tuple[dict[str, np.ndarray], np.ndarray]:
    """1–5 marketing touches before each purchase (a few purchases have none), some for non-buyers."""
    n = len(signup)
    buy = np.flatnonzero(orders["status"] != 1)
    k = np.where(rng.random(len(buy)) < 0.03, 0, 1 + rng.binomial(4, 0.35, len(buy)))
    t_ord = np.repeat(buy, k)
    gap = np.clip(rng.exponential(2.5 * DAY, len(t_ord)), 120, 20 * DAY).astype(np.int64)
    t_user = orders["user"][t_ord]
    t_ts = orders["ts"][t_ord] - gap
    # prospects who never bought: touches around their sign-up
    bought = np.zeros(n, bool)
    bought[orders["user"]] = True
    prospects = np.flatnonzero(~bought & (rng.random(n) < 0.5))
    k2 = 1 + rng.binomial(2, 0.4, len(prospects))
    p_user = np.repeat(prospects, k2)
    p_ts = signup[p_user] - np.clip(rng.exponential(1.5 * DAY, len(p_user)), 60, 10 * DAY).astype(np.int64)
    user = np.concatenate([t_user, p_user])
    ts = np.concatenate([t_ts, p_ts])
    own = rng.random(len(user)) < 0.35
    mix = rng.choice(len(brand.CHANNELS), size=len(user), p=brand.TOUCH_MIX).astype(np.int8)
    ch = np.where(own, channel[user], mix).astype(np.int8)
    ok = ts >= 0
    user, ts, ch = user[ok], ts[ok], ch[ok]
    camp = np.full(len(user), -1, np.int16)
    draw = rng.random(len(user))
    for ci, c in enumerate(brand.CAMPAIGNS):
        codes = [brand.CHANNELS.index(x) for x in c.channels]
        inside = (ts >= sec(c.start)) & (ts < sec(c.end) + DAY) & np.isin(ch, codes) & (camp < 0) & (draw < 0.85)
        camp[inside] = ci
    # planted attribution gap: most of the channel's October buyers lost every touch
    gap_ch = brand.CHANNELS.index(GAP_CHANNEL)
    oct_buy = (orders["status"] == 0) & (orders["ts"] >= sec(REVIEW_START)) & (channel[orders["user"]] == gap_ch)
    gap_users = np.zeros(n, bool)
    gap_users[orders["user"][oct_buy]] = True
    gap_users &= rng.random(n) < GAP_SHARE
    keep = ~gap_users[user]
    user, ts, ch, camp = user[keep], ts[keep], ch[keep], camp[keep]
    order = np.argsort(ts, kind="stable")
    return {"user": user[order], "ts": ts[order], "channel": ch[order], "campaign": camp[order]}, gap_users


def _attach_campaigns(orders: dict[str, np.ndarray], tp: dict[str, np.ndarray], gap_users: np.ndarray) -> None:
    """orders.campaign: the campaign of the user's latest tagged touch, if the order is in its window."""
    starts = np.array([sec(c.start) for c in brand.CAMPAIGNS], np.int64)
    ends = np.array([sec(c.end) + DAY for c in brand.CAMPAIGNS], np.int64)
    tagged = tp["campaign"] >= 0
    left = pd.DataFrame({"ts": orders["ts"], "user": orders["user"], "row": np.arange(len(orders["ts"]))})
    right = pd.DataFrame({"ts": tp["ts"][tagged], "user": tp["user"][tagged], "camp": tp["campaign"][tagged]})
    hit = pd.merge_asof(left, right, on="ts", by="user", direction="backward")
    camp = hit["camp"].fillna(-1).to_numpy().astype(np.int64)
    rows = hit["row"].to_numpy()
    cs = np.where(camp >= 0, starts[np.maximum(camp, 0)], 0)
    ce = np.where(camp >= 0, ends[np.maximum(camp, 0)], 0)
    ok = (camp >= 0) & (orders["ts"][rows] >= cs) & (orders["ts"][rows] < ce) & (orders["status"][rows] != 1)
    out = np.full(len(orders["ts"]), -1, np.int16)
    out[rows[ok]] = camp[ok]
    # a small pack may leave a campaign without a buyer: give it a few touched buyers
    for ci, c in enumerate(brand.CAMPAIGNS):
        if sec(c.start) >= END_SEC:
            continue
        paid = orders["status"] == 0
        if int(((out == ci) & paid).sum()) >= 3:
            continue
        inside = np.flatnonzero(paid & (out < 0) & (orders["ts"] >= starts[ci]) & (orders["ts"] < ends[ci])
                                & ~gap_users[orders["user"]])[:3]
        out[inside] = ci
        code = brand.CHANNELS.index(c.channels[0])
        for key, val in (("user", orders["user"][inside]), ("ts", orders["ts"][inside] - 3600),
                         ("channel", np.full(len(inside), code, np.int8)),
                         ("campaign", np.full(len(inside), ci, np.int16))):
            tp[key] = np.concatenate([tp[key], val])
    order = np.argsort(tp["ts"], kind="stable")
    for key in tp:
        tp[key] = tp[key][order]
    # refunds carry the campaign of the order they refund
    src = orders["src"]
    first = orders["status"] != 1
    by_src = np.full(int(src.max()) + 1 if len(src) else 0, -1, np.int16)
    by_src[src[first]] = out[first]
    out[~first] = by_src[src[~first]]
    orders["campaign"] = out
