"""Plan (05 改进建议与后续计划): actions, weeks, budget reallocation, risks, and closing the loop.

Actions come from three places, merged by ``action_id`` (a later source replaces an earlier one):

1. the pack's ``actions`` table;
2. ``params/actions/<unit>.yaml`` — a YAML list of actions (or a mapping with key ``actions``)
   next to the unit's settings, so an analyst can keep the plan in a file of its own;
3. ``settings.plan.actions`` (``plan.actions`` in any params file).

Every date is judged against an **as-of day** passed in (the period's last day by default, or
the data's last day) — never the wall clock — so a report is reproducible. An action is
*overdue* when it is not done and its (inclusive) due day is before the as-of day; its state is
then ``overdue`` whatever its status says. Horizon: the explicit ``horizon`` column/field, else
by due day: within ``plan.short_term_months`` of the as-of day → ``short``; at or beyond
``plan.long_term_months`` → ``long``; between → ``mid``.

The loop: :func:`plan_targets` gives next period's targets from the annual split
(:func:`opsnb.metrics.targets.annual_plan`); the batch writes them with
:func:`write_plan_targets` to ``outputs/<unit>/<period>/plan_targets.csv``; the next review reads
them with :func:`read_previous_plan_targets` and passes them to the goals section as
``extra_targets`` (used where the kpis table has no target; ``source`` says ``plan 2026-10``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from fractions import Fraction
from pathlib import Path
from typing import Any

import pandas as pd
import yaml
from pydantic import ValidationError

from opsnb.errors import NoData, PackError, ParamsError, Problem
from opsnb.metrics.orders import paid_orders
from opsnb.metrics.targets import AnnualPlan, annual_plan, split_integer
from opsnb.pack import Pack
from opsnb.pack.expr import money_sum
from opsnb.params import ManualAction
from opsnb.paths import params_dir
from opsnb.periods import Period
from opsnb.runfolder import PLAN_TARGET_COLUMNS

STATES = ("planned", "in_progress", "done", "delayed", "overdue")
HORIZONS = ("short", "mid", "long")
_STATUS = {
    "planned": "planned", "plan": "planned", "todo": "planned", "not_started": "planned", "not started": "planned",
    "计划": "planned", "计划中": "planned", "未开始": "planned", "待启动": "planned",
    "in_progress": "in_progress", "in progress": "in_progress", "doing": "in_progress", "ongoing": "in_progress",
    "进行中": "in_progress", "执行中": "in_progress",
    "done": "done", "completed": "done", "complete": "done", "finished": "done", "已完成": "done", "完成": "done",
    "delayed": "delayed", "late": "delayed", "postponed": "delayed", "延期": "delayed", "推迟": "delayed",
    "已延期": "delayed",
}
_HORIZON = {"short": "short", "短期": "short", "mid": "mid", "medium": "mid", "中期": "mid",
            "long": "long", "长期": "long"}
ACTION_COLUMNS = ["action_id", "title", "owner", "start", "due", "status", "state", "done_at", "horizon",
                  "metric", "target", "budget", "problem", "source", "overdue", "days_late", "milestone"]
TARGET_COLUMNS = PLAN_TARGET_COLUMNS  # the file the next review reads: opsnb.runfolder


def _add_months(d: date, n: int) -> date:
    m = d.month - 1 + n
    y, m = d.year + m // 12, m % 12 + 1
    last = (date(y + (m == 12), m % 12 + 1, 1) - timedelta(days=1)).day
    return date(y, m, min(d.day, last))


def _day(v: Any) -> date | None:
    if v is None or v is pd.NaT or (not isinstance(v, date) and pd.isna(v)):  # NaT is a datetime subclass
        return None
    return pd.Timestamp(v).date()


# ---------------------------------------------------------------- actions


def load_action_file(path: Path) -> list[ManualAction]:
    """Actions from a YAML file (a list, or a mapping with key ``actions``); [] when absent.

    Raises :class:`ParamsError` naming the file, the item and the field of every bad value.
    """
    if not path.is_file():
        return []
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or []
    except yaml.YAMLError as exc:
        raise ParamsError([Problem(str(path), f"not valid YAML: {exc}")]) from None
    if isinstance(data, dict):
        data = data.get("actions") or []
    if not isinstance(data, list):
        raise ParamsError([Problem(str(path), "expected a list of actions", type(data).__name__)])
    out, problems = [], []
    for i, item in enumerate(data, start=1):
        try:
            out.append(ManualAction.model_validate(item))
        except ValidationError as exc:
            for e in exc.errors():
                loc = ".".join(str(x) for x in e["loc"])
                problems.append(Problem(f"{path}, action {i}" + (f", {loc}" if loc else ""), e["msg"], e.get("input")))
    if problems:
        raise ParamsError(problems)
    return out


def _pack_actions(pack: Pack) -> pd.DataFrame:
    t = pack.table("actions")
    df = t.execute()
    problems = []
    status = df["status"] if "status" in df.columns else pd.Series([None] * len(df), index=df.index)
    norm = []
    for i, (s, done) in enumerate(zip(status, df.get("done_at", pd.Series([None] * len(df))), strict=False)):
        if s is None or pd.isna(s) or str(s).strip() == "":
            norm.append("done" if _day(done) else "planned")
            continue
        key = str(s).strip().lower()
        if key not in _STATUS:
            problems.append(Problem(f"<actions>, column 'status', row {i + 1}", "unknown status", s,
                                    "planned, in_progress, done, delayed (or 计划中, 进行中, 已完成, 延期)"))
            norm.append("planned")
        else:
            norm.append(_STATUS[key])
    hz: list[str | None] = []
    for i, h in enumerate(df["horizon"] if "horizon" in df.columns else [None] * len(df)):
        if h is None or pd.isna(h) or str(h).strip() == "":
            hz.append(None)
        elif str(h).strip().lower() in _HORIZON:
            hz.append(_HORIZON[str(h).strip().lower()])
        else:
            problems.append(Problem(f"<actions>, column 'horizon', row {i + 1}", "unknown horizon", h,
                                    "short, mid, long (or 短期, 中期, 长期)"))
            hz.append(None)
    if problems:
        raise PackError(problems)
    rows = []
    for i, r in enumerate(df.to_dict("records")):
        rows.append(dict(action_id=str(r["action_id"]), title=str(r["title"]), owner=str(r["owner"]),
                         start=_day(r["start"]), due=_day(r["due"]), status=norm[i], done_at=_day(r.get("done_at")),
                         horizon=hz[i], metric=r.get("metric") if pd.notna(r.get("metric")) else None,
                         target=float(r["target"]) if pd.notna(r.get("target")) else None,
                         budget=float(r["budget"]) if pd.notna(r.get("budget")) else None,
                         problem=r.get("problem") if pd.notna(r.get("problem")) else None, source="pack"))
    return pd.DataFrame(rows)


def status_as_of(status: str, start: date | None, due: date | None, done_at: date | None, as_of: date,
                 snapshot: date | None = None) -> str:
    """An action's status as it stood on ``as_of`` (never the wall clock, never a later day).

    ``status`` is the table's status, which describes the ``snapshot`` day (the data's last day;
    None: the as-of day itself). Dated facts decide first: done on or before ``as_of`` → ``done``;
    done later, or not started by ``as_of`` → not done (``planned`` before its start). An undated
    status (done without ``done_at``, delayed, in progress) is taken as it is only when the review
    is as of the snapshot day; an earlier review (a past year's annual review run today) cannot
    know it, so a started action is ``in_progress`` and one marked planned stays ``planned`` (one
    marked done without a date is taken as done by its due day).
    Overdue (due before ``as_of``, not done) is derived from this by the caller.
    """
    current = snapshot is None or as_of >= snapshot
    if done_at is not None:
        if done_at <= as_of:
            return "done"
    elif status == "done" and (current or (due is not None and due <= as_of)):
        return "done"  # undated: done by now on a current review, else assumed done by its due day
    if start is not None and start > as_of:
        return "planned"
    if current and status != "done":
        return status
    return "planned" if status == "planned" else "in_progress"


def actions(pack: Pack, period: Period, settings: Any, *, as_of: date | None = None,
            root: Path | None = None, snapshot: date | None = None) -> pd.DataFrame:
    """The review's actions: open ones plus those done in or after the period.

    Parameters
    ----------
    pack, period, settings
        The pack, the review period and the run's settings.
    as_of
        The "today" of the report (default: the period's last day). Never the wall clock. Every
        status is judged as of this day (:func:`status_as_of`).
    snapshot
        The day the table's statuses describe (the data's last day); a review as of an earlier
        day trusts only dated facts (start, due, done_at).
    root
        Project root for ``params/actions/<unit>.yaml`` (default: :func:`opsnb.paths.params_dir`).

    Returns
    -------
    pandas.DataFrame
        :data:`ACTION_COLUMNS`, sorted by horizon, due day, action id. ``state`` is the status
        or ``overdue``; ``milestone`` is true for zero-length actions (start == due).

    Raises
    ------
    NoData
        When no source has any action (the view shows a visible note).
    """
    as_of = as_of or period.last_day
    ps = settings.plan
    frames = []
    if pack.has("actions"):
        frames.append(_pack_actions(pack))
    manual = [(a, "file") for a in load_action_file(params_dir(root) / "actions" / f"{settings.unit}.yaml")]
    manual += [(a, "params") for a in ps.actions]
    if manual:
        frames.append(pd.DataFrame([{**a.model_dump(), "source": src} for a, src in manual]))
    frames = [f for f in frames if not f.empty]
    if not frames:
        raise NoData("actions", "")  # like a missing table (none in plan.actions or params/actions/ either)
    df = pd.concat(frames, ignore_index=True).drop_duplicates("action_id", keep="last")
    for c in ("start", "due", "done_at"):
        df[c] = pd.Series([_day(v) for v in df[c]], index=df.index, dtype=object)
    done_before = (df["status"] == "done") & pd.Series(
        [(d or u) < period.start for d, u in zip(df["done_at"], df["due"], strict=True)], index=df.index)
    df = df[~done_before].copy()
    if df.empty:
        raise NoData("actions", f"every action was done before {period.start}")
    df["status"] = [status_as_of(st, start, due, done, as_of, snapshot) for st, start, due, done in
                    zip(df["status"], df["start"], df["due"], df["done_at"], strict=True)]
    df["done_at"] = pd.Series([d if d is not None and d <= as_of else None for d in df["done_at"]], index=df.index,
                              dtype=object)  # a day after the as-of day is not known yet
    df["overdue"] = (df["status"] != "done") & (df["due"] < as_of)
    df["days_late"] = [(as_of - d).days if o else 0 for d, o in zip(df["due"], df["overdue"], strict=True)]
    df["days_late"] = df["days_late"].astype("Int64")
    df["state"] = df["status"].where(~df["overdue"], "overdue")
    short_end, long_start = _add_months(as_of, ps.short_term_months), _add_months(as_of, ps.long_term_months)
    derived = ["short" if d <= short_end else ("long" if d >= long_start else "mid") for d in df["due"]]
    df["horizon"] = [h if isinstance(h, str) else d for h, d in zip(df["horizon"], derived, strict=True)]
    df["milestone"] = df["start"] == df["due"]
    df["target"] = df["target"].astype("Float64")
    df["budget"] = df["budget"].astype("Float64")
    df = df.sort_values(["horizon", "due", "action_id"], key=lambda c: c.map(HORIZONS.index) if c.name == "horizon"
                        else c, kind="stable")
    return df[ACTION_COLUMNS].reset_index(drop=True)


# ---------------------------------------------------------------- week-by-week view of next month


@dataclass(frozen=True)
class WeekPlan:
    """Which actions are active in each week of the month after the review period.

    ``weeks``: (first day, last day) of weeks 1–4 (days 1–7, 8–14, 15–21, 22–end of month).
    ``table``: action_id, title, owner, state, start, due, w1 … w4 (booleans).
    """

    month: Period
    weeks: list[tuple[date, date]]
    table: pd.DataFrame


def week_plan(acts: pd.DataFrame, period: Period) -> WeekPlan:
    """Week-by-week view (第一周 … 第四周) of the month after ``period``; done actions are left out.

    Raises :class:`NoData` when no open action touches that month.
    """
    month = Period.containing(period.end, "month")
    s = month.start
    weeks = [(s, s + timedelta(days=6)), (s + timedelta(days=7), s + timedelta(days=13)),
             (s + timedelta(days=14), s + timedelta(days=20)), (s + timedelta(days=21), month.last_day)]
    open_ = acts[acts["status"] != "done"]
    table = open_[["action_id", "title", "owner", "state", "start", "due"]].copy()
    for i, (a, b) in enumerate(weeks, start=1):
        table[f"w{i}"] = (open_["start"] <= b) & (open_["due"] >= a)
    table = table[table[[f"w{i}" for i in range(1, 5)]].any(axis=1)].reset_index(drop=True)
    if table.empty:
        raise NoData("actions", f"no open action is active in {month.label}")
    return WeekPlan(month, weeks, table)


# ---------------------------------------------------------------- budget reallocation


@dataclass(frozen=True)
class Reallocation:
    """Budget moved from the lowest-ROI channels to the highest-ROI ones (an estimate).

    ``table`` columns: channel, cost, gmv, roi (None when the channel has no spend), roi_reason,
    role (donor / receiver / keep / excluded), new_budget, change, expected_gmv (new_budget × roi,
    constant-ROI assumption; None for excluded channels).
    """

    table: pd.DataFrame
    share: float
    moved: float
    total_before: float
    total_after: float
    gmv_before: float
    expected_after: float


def channel_roi(pack: Pack, period: Period) -> pd.DataFrame:
    """Per channel: spend (channel_spend.cost) and paid GMV (by orders.channel) in the period, and ROI.

    ROI = GMV ÷ cost; None with ``roi_reason = "no_cost"`` when the channel has no spend.
    Raises :class:`NoData` without ``channel_spend`` or without spend in the period.
    """
    lo = datetime(period.start.year, period.start.month, period.start.day)
    hi = datetime(period.end.year, period.end.month, period.end.day)
    sp = pack.table("channel_spend")
    cost = (sp.filter((sp.date >= lo) & (sp.date < hi)).group_by(channel=sp.channel.fill_null("(unknown)"))
            .aggregate(cost=money_sum(sp.cost)))
    pieces = [cost.execute()]
    if pack.has("orders") and "channel" in pack.table("orders").columns:
        o = paid_orders(pack)
        o = o.filter((o.ts >= lo) & (o.ts < hi))
        pieces.append(o.group_by(channel=o.channel.fill_null("(unknown)")).aggregate(gmv=money_sum(o.amount)).execute())
    df = pieces[0]
    if df.empty or df["cost"].sum() <= 0:
        raise NoData("channel_spend", f"no spend in {period.label}")
    df = df.merge(pieces[1], on="channel", how="outer") if len(pieces) > 1 else df.assign(gmv=0.0)
    df["cost"] = df["cost"].fillna(0.0).astype("float64")
    df["gmv"] = df["gmv"].fillna(0.0).astype("float64")
    df["roi"] = [g / c if c > 0 else None for g, c in zip(df["gmv"], df["cost"], strict=True)]
    df["roi"] = df["roi"].astype("Float64")
    df["roi_reason"] = ["no_cost" if c <= 0 else None for c in df["cost"]]
    return df.sort_values(["roi", "channel"], ascending=[False, True], na_position="last").reset_index(drop=True)


def reallocation(pack: Pack, period: Period, settings: Any) -> Reallocation:
    """Move ``plan.reallocation_share`` of the spend of the lowest-ROI channels to the highest-ROI ones.

    Channels with spend are ranked by ROI; the bottom third (at least one) are donors, the top
    third (at least one) receivers. Each donor gives the share of its spend; the pool goes to the
    receivers in proportion to their spend. Amounts are in integer cents (largest remainder), so
    the total budget is preserved exactly. Expected GMV = new budget × the channel's ROI this
    period (constant ROI: an estimate, not a forecast). Needs at least two channels with spend.
    """
    df = channel_roi(pack, period)
    paid = df[df["cost"] > 0].sort_values(["roi", "channel"], ascending=[False, True])
    if len(paid) < 2:
        raise NoData("channel_spend", "need at least two channels with spend to reallocate")
    k = max(1, len(paid) // 3)
    receivers, donors = list(paid["channel"][:k]), list(paid["channel"][-k:])
    share = settings.plan.reallocation_share
    cents = {c: round(v * 100) for c, v in zip(df["channel"], df["cost"], strict=True)}
    fshare = Fraction(str(share))
    cuts = {c: int(cents[c] * fshare) for c in donors}  # floor: never take more than the share
    pool = sum(cuts.values())
    gains = dict(zip(receivers, split_integer(pool, [cents[c] for c in receivers]), strict=True))
    new = {c: cents[c] - cuts.get(c, 0) + gains.get(c, 0) for c in cents}
    out = df.copy()
    out["role"] = ["excluded" if cents[c] <= 0 else "donor" if c in cuts else "receiver" if c in gains else "keep"
                   for c in out["channel"]]
    out["new_budget"] = [new[c] / 100 for c in out["channel"]]
    out["change"] = [(new[c] - cents[c]) / 100 for c in out["channel"]]
    out["expected_gmv"] = pd.array([None if pd.isna(r) else nb * float(r) for nb, r in
                                    zip(out["new_budget"], out["roi"], strict=True)], dtype="Float64")
    defined = out[out["roi"].notna()]
    return Reallocation(out, share, pool / 100, sum(cents.values()) / 100, sum(new.values()) / 100,
                        float(defined["gmv"].sum()), float(defined["expected_gmv"].sum()))


# ---------------------------------------------------------------- risks


def risk_level(score: int | None) -> str | None:
    """``high`` (likelihood × impact ≥ 15), ``medium`` (≥ 6), ``low``; None when unrated."""
    if score is None:
        return None
    return "high" if score >= 15 else "medium" if score >= 6 else "low"


def risks(pack: Pack, settings: Any) -> pd.DataFrame:
    """The risk register: the pack's ``risks`` table plus ``plan.risks``, highest score first.

    Columns: risk, likelihood, impact (1–5, Int64, NA when unrated), score (= likelihood × impact),
    level, mitigation, owner, source. Raises :class:`NoData` when there is none.
    """
    frames = []
    if pack.has("risks"):
        frames.append(pack.table("risks").execute().assign(source="pack"))
    if settings.plan.risks:
        frames.append(pd.DataFrame([{**r.model_dump(), "source": "params"} for r in settings.plan.risks]))
    frames = [f for f in frames if not f.empty]
    if not frames:
        raise NoData("risks", "")  # like a missing table (none in plan.risks either)
    df = pd.concat(frames, ignore_index=True)
    for c in ("likelihood", "impact"):
        if c not in df.columns:
            df[c] = pd.NA
        df[c] = pd.to_numeric(df[c]).astype("Int64")
        bad = df[c].notna() & ((df[c] < 1) | (df[c] > 5))
        if bad.any():
            raise PackError([Problem(f"<risks>, column '{c}'", "outside 1–5", v, "an integer 1..5")
                             for v in df.loc[bad, c]])
    for c in ("mitigation", "owner"):
        df[c] = df[c].fillna("").astype(str) if c in df.columns else ""
    df["score"] = (df["likelihood"] * df["impact"]).astype("Int64")
    df["level"] = [risk_level(None if pd.isna(s) else int(s)) for s in df["score"]]
    df = df.sort_values(["score", "risk"], ascending=[False, True], na_position="last", kind="stable")
    return df[["risk", "likelihood", "impact", "score", "level", "mitigation", "owner", "source"]].reset_index(drop=True)


def risk_matrix(reg: pd.DataFrame) -> pd.DataFrame:
    """5×5 counts of rated risks: rows likelihood 5…1 (top to bottom), columns impact 1…5."""
    rated = reg.dropna(subset=["likelihood", "impact"])
    m = pd.crosstab(rated["likelihood"].astype(int), rated["impact"].astype(int))
    return m.reindex(index=[5, 4, 3, 2, 1], columns=[1, 2, 3, 4, 5], fill_value=0).astype("int64")


# ---------------------------------------------------------------- closing the loop


def plan_targets(pack: Pack, period: Period, settings: Any, *, plan: AnnualPlan | None = None) -> pd.DataFrame:
    """Next period's targets from the annual split: DataFrame[metric, period, target, source].

    ``source`` is ``plan <review period>`` (e.g. ``plan 2026-10``). Empty (with the columns) when
    the plan has no target for the next period; raises :class:`NoData` only when the plan itself
    cannot be built. Pass the ``plan`` the page shows so the published targets are the same figures.
    """
    plan = plan if plan is not None else annual_plan(pack, period, settings)
    nxt = period.next().label
    df = plan.for_period(nxt)[["metric", "period", "target"]].copy()
    df["source"] = f"plan {period.label}"
    df["target"] = df["target"].astype("float64")
    return df[TARGET_COLUMNS].reset_index(drop=True)


