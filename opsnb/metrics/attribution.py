"""Multi-touch attribution of conversions to channels, six models side by side.

Definitions:

* **Conversion** = a user's *first* paid order in the period (one per converting user), at its
  timestamp ``T``.
* **Path** = the user's touchpoints with ``T - lookback ≤ ts ≤ T`` (``settings.
  attribution_lookback_days``, default 30 days), ordered by ``ts`` then ``channel`` (a
  deterministic tie-break). A conversion with no touchpoint in its window is **unattributed**:
  counted in ``attrs["unattributed"]``, never dropped silently and never given to a channel.
* Models, each giving every attributed conversion a total credit of exactly 1:
  ``first`` and ``last`` touch; ``linear`` (1/n each); ``time_decay`` (weight
  ``2^(-Δt / half_life)`` with Δt the days from touch to conversion, normalised per conversion);
  ``position`` (first/middle/last = ``settings.position_weights``, default 40/20/40, the middle
  share split evenly; one touch gets everything; two touches split first:last in proportion
  ``first:last`` — 50/50 by default); ``markov`` (below).
* **Markov** (data-driven): a first-order chain over the states start → channels → conversion
  / null, estimated from the paths of converting users (ending in *conversion*) and of
  non-converting users — every user with touchpoints in the period and no conversion in it,
  path = those touchpoints (ending in *null*). Consecutive repeats are kept (a self-loop does
  not change absorption probabilities). P(conv) is solved exactly as an absorbing chain:
  ``B = (I − Q)⁻¹ R``. Removing channel ``c`` sends every transition into ``c`` to null;
  removal effect ``RE_c = 1 − P(conv | c removed) / P(conv)``; credits are
  ``RE_c / Σ RE × attributed conversions``.

Everything up to the transition counts runs in the backend; only per-channel sums and the
(channels + 2)² transition counts come back.
"""

from __future__ import annotations

import ibis
import numpy as np
import pandas as pd

from opsnb.errors import NoData
from opsnb.metrics.activity import ts_literal
from opsnb.metrics.orders import paid_orders
from opsnb.pack import USER_KEY, Pack
from opsnb.pack.expr import flag
from opsnb.params import InsightsSettings
from opsnb.periods import Period

MODELS = ("first", "last", "linear", "time_decay", "position", "markov")
START, CONV, NULL = "(start)", "(conversion)", "(null)"


def _conversions(pack: Pack, period: Period) -> ibis.Table:
    o = paid_orders(pack, keyed=True)
    o = o.filter((o.ts >= ts_literal(period.start)) & (o.ts < ts_literal(period.end)))
    return o.group_by(USER_KEY).aggregate(conv_ts=o.ts.min())


def _ordered(t: ibis.Table) -> ibis.Table:
    """Add ``pos`` (0-based) and ``n`` per user, touches ordered by ts then channel."""
    w = ibis.window(group_by=t[USER_KEY], order_by=[t.ts, t.channel])
    return t.mutate(pos=ibis.row_number().over(w), n=t.count().over(ibis.window(group_by=t[USER_KEY])))


def converting_paths(pack: Pack, period: Period, lookback_days: int) -> tuple[ibis.Table, ibis.Table]:
    """``(conversions, touches)``: lazily, each converting user's conversion time and path.

    Users are identified by the pack's user key (:data:`opsnb.pack.USER_KEY`): ``conversions`` has
    ``USER_KEY, conv_ts``; ``touches`` has ``USER_KEY, channel, ts, conv_ts, pos, n`` for touches
    inside the window.
    """
    conv = _conversions(pack, period)
    tp = pack.keyed("touchpoints").select(USER_KEY, "ts", "channel")
    j = tp.join(conv, USER_KEY)
    j = j.filter((j.ts <= j.conv_ts) & (j.ts >= j.conv_ts - ibis.interval(days=lookback_days)))
    return conv, _ordered(j.select(USER_KEY, "ts", "channel", "conv_ts"))


def _rule_credits(touches: ibis.Table, settings: InsightsSettings) -> pd.DataFrame:
    t = touches
    a, b, c = settings.position_weights
    dt_days = (t.conv_ts.epoch_seconds() - t.ts.epoch_seconds()).cast("float64") / 86400.0
    t = t.mutate(decay=ibis.literal(2.0).pow(-dt_days / settings.time_decay_half_life_days))
    t = t.mutate(decay_sum=t.decay.sum().over(ibis.window(group_by=t[USER_KEY])))
    first = t.pos == 0
    last = t.pos == t.n - 1
    position = ibis.cases(
        (t.n == 1, 1.0),
        (t.n == 2, ibis.ifelse(first, a / (a + c), c / (a + c))),
        (first, a),
        (last, c),
        else_=ibis.literal(b) / (t.n - 2).cast("float64"),
    )
    t = t.mutate(
        w_first=flag(first, "float64"),
        w_last=flag(last, "float64"),
        w_linear=1.0 / t.n.cast("float64"),
        w_time_decay=t.decay / t.decay_sum,
        w_position=position,
    )
    return t.group_by("channel").aggregate(
        first=t.w_first.sum(), last=t.w_last.sum(), linear=t.w_linear.sum(),
        time_decay=t.w_time_decay.sum(), position=t.w_position.sum(),
    ).execute()


def _transitions(pack: Pack, period: Period, conv: ibis.Table, touches: ibis.Table) -> pd.DataFrame:
    tp = pack.keyed("touchpoints").select(USER_KEY, "ts", "channel")
    tp = tp.filter((tp.ts >= ts_literal(period.start)) & (tp.ts < ts_literal(period.end)))
    lost = _ordered(tp.anti_join(conv, USER_KEY)).mutate(outcome=ibis.literal(NULL))
    won = touches.select(USER_KEY, "ts", "channel", "pos", "n").mutate(outcome=ibis.literal(CONV))
    paths = won.union(lost.select(USER_KEY, "ts", "channel", "pos", "n", "outcome"), distinct=False)
    nxt = paths.channel.lead().over(ibis.window(group_by=paths[USER_KEY], order_by=paths.pos))
    paths = paths.mutate(
        src=ibis.ifelse(paths.pos == 0, START, paths.channel),
        mid=paths.channel,
        dst=ibis.ifelse(paths.pos == paths.n - 1, paths.outcome, nxt),
    )
    # every touch contributes "its incoming edge" (start or previous → channel) when it is
    # first, and "its outgoing edge" (→ next or outcome) always
    incoming = paths.filter(paths.pos == 0).select(src=paths.src, dst=paths.mid)
    outgoing = paths.select(src=paths.mid, dst=paths.dst)
    edges = incoming.union(outgoing, distinct=False)
    return edges.group_by(["src", "dst"]).aggregate(count=edges.count()).execute()


def markov_removal(transitions: pd.DataFrame) -> tuple[float, dict[str, float]]:
    """Exact conversion probability and removal effects of a first-order absorbing chain.

    Parameters
    ----------
    transitions
        Columns ``src, dst, count``: transition counts with ``src`` in {``(start)``, channels}
        and ``dst`` in {channels, ``(conversion)``, ``(null)``}.

    Returns
    -------
    (float, dict)
        ``P(conv)`` from start, and ``{channel: 1 − P(conv | channel removed) / P(conv)}``
        (all 0 when ``P(conv)`` is 0). Removing a channel redirects every transition into it
        to null.
    """
    chans = sorted((set(transitions["src"]) | set(transitions["dst"])) - {START, CONV, NULL})
    states = [START, *chans]
    idx = {s: i for i, s in enumerate(states)}
    k = len(states)
    counts = np.zeros((k, k + 2))
    col = {**idx, CONV: k, NULL: k + 1}
    for s, d, c in transitions[["src", "dst", "count"]].itertuples(index=False):
        counts[idx[s], col[d]] += float(c)
    rows = counts.sum(axis=1, keepdims=True)
    probs = np.divide(counts, rows, out=np.zeros_like(counts), where=rows > 0)
    probs[(rows[:, 0] == 0), k + 1] = 1.0  # a state never left: absorbed into null

    def p_conv(p: np.ndarray) -> float:
        q, r = p[:, :k], p[:, k]
        return float(np.linalg.solve(np.eye(k) - q, r)[0])

    base = p_conv(probs)
    effects: dict[str, float] = {}
    for ch in chans:
        p = probs.copy()
        i = idx[ch]
        p[i, :] = 0.0
        p[i, k + 1] = 1.0
        effects[ch] = 1.0 - p_conv(p) / base if base > 0 else 0.0
    return base, effects


def attribution(pack: Pack, period: Period, settings: InsightsSettings) -> pd.DataFrame:
    """Credit of each channel for the period's conversions under six attribution models.

    Parameters
    ----------
    pack, period
        The data pack (orders and touchpoints) and the review period.
    settings
        ``settings.insights``: lookback, time-decay half-life, position weights.

    Returns
    -------
    pandas.DataFrame
        ``channel, first, last, linear, time_decay, position, markov`` — one row per channel
        seen in a path (converting or not), sorted by ``markov`` then ``last`` descending.
        Each model column sums to the number of attributed conversions. ``attrs`` carries
        ``conversions``, ``attributed``, ``unattributed``, ``p_conversion`` (the chain's) and
        ``removal_effect`` ({channel: RE}).

    Raises
    ------
    NoData
        No orders or touchpoints table, or no paid order in the period.
    """
    conv, touches = converting_paths(pack, period, settings.attribution_lookback_days)
    # both feed four queries: materialise once (temporary tables in the backend, released below)
    conv, touches = conv.cache(), touches.cache()
    try:
        conversions = int(conv.count().execute())
        if conversions == 0:
            raise NoData("orders", f"no paid order in {period.label}")
        rules = _rule_credits(touches, settings)
        # every attributed conversion has exactly one first touch (credit 1.0): Σ first = their number
        attributed = int(round(float(rules["first"].sum()))) if not rules.empty else 0
        trans = _transitions(pack, period, conv, touches)
    finally:
        conv.release()
        touches.release()
    chans = sorted((set(trans["src"]) | set(trans["dst"])) - {START, CONV, NULL}) if not trans.empty else []
    out = pd.DataFrame({"channel": pd.Series(chans, dtype="str")}).merge(rules, on="channel", how="left")
    for m in MODELS[:-1]:
        out[m] = out[m].astype("float64").fillna(0.0)
    p, effects = markov_removal(trans) if not trans.empty else (0.0, {})
    total = sum(effects.values())
    out["markov"] = [effects.get(c, 0.0) / total * attributed if total > 0 else 0.0 for c in out["channel"]]
    out = out.sort_values(["markov", "last", "channel"], ascending=[False, False, True]).reset_index(drop=True)
    out = out[["channel", *MODELS]]
    out.attrs.update(conversions=conversions, attributed=attributed, unattributed=conversions - attributed,
                     p_conversion=p, removal_effect=effects, period=period.label)
    return out
