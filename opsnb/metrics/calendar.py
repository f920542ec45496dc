"""Marketing calendar: Chinese public holidays, shopping festivals and planned campaigns.

* Public holidays come from the ``holidays`` package (``holidays.China``, names in zh_CN and
  en_US, lunar holidays included). Substitute working-day swaps (休息日/调休) are left out;
  a holiday's consecutive days (allowing a weekend gap) are shown as one range.
* Shopping festivals are built in (:data:`FESTIVALS`), as (first day, last day) windows:
  年货节 = the ``plan.year_festival_days`` days before 春节 (``holidays``' lunar new year date);
  情人节 2/14; 女神节 3/1–3/8; 520 5/20; 618 6/1–6/18; 七夕 (lunar 7/7, see :func:`qixi`);
  开学季 8/15–9/10; 双十一 10/20–11/11 (presale included); 双十二 12/1–12/12.
* Campaigns of the pack that start after the review period and inside the window.

The window is ``plan.calendar_months`` months from the day after the review period. Each event
carries its quarter and the quarter's theme (拉新 / 促活 / 留存 / 召回 from
``plan.quarter_themes``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

import pandas as pd

from opsnb.errors import NoData
from opsnb.metrics.targets import AnnualPlan, Note
from opsnb.pack import Pack
from opsnb.periods import Period

#: 七夕 (lunar 7th month, 7th day) in the Gregorian calendar, from the Chinese lunisolar calendar
#: (Hong Kong Observatory tables). A test checks each against the ``holidays`` package's 中秋
#: (lunar 8/15): 七夕 is always 37 or 38 days before it. Outside these years :func:`qixi` uses
#: 中秋 − 38 days and says it is approximate.
QIXI = {2020: date(2020, 8, 25), 2021: date(2021, 8, 14), 2022: date(2022, 8, 4), 2023: date(2023, 8, 22),
        2024: date(2024, 8, 10), 2025: date(2025, 8, 29), 2026: date(2026, 8, 19), 2027: date(2027, 8, 8),
        2028: date(2028, 8, 26), 2029: date(2029, 8, 16), 2030: date(2030, 8, 5)}

#: Fixed-date festivals: key → ((month, day) first day, (month, day) last day). Names live in
#: the i18n catalogues as ``plan.festival.<key>``.
FESTIVALS: dict[str, tuple[tuple[int, int], tuple[int, int]]] = {
    "valentine": ((2, 14), (2, 14)),
    "womens_day": ((3, 1), (3, 8)),
    "love_520": ((5, 20), (5, 20)),
    "mid_year_618": ((6, 1), (6, 18)),
    "back_to_school": ((8, 15), (9, 10)),
    "double_11": ((10, 20), (11, 11)),
    "double_12": ((12, 1), (12, 12)),
}
CALENDAR_COLUMNS = ["start", "end", "kind", "key", "name_zh", "name_en", "quarter", "theme"]


def _lunar() -> Any:
    from holidays.calendars.chinese import _ChineseLunisolar

    return _ChineseLunisolar()


def spring_festival(year: int) -> date:
    """春节 (lunar new year's day) of ``year`` from the ``holidays`` package."""
    return _lunar().lunar_new_year_date(year)[0]


def qixi(year: int) -> tuple[date, bool]:
    """七夕 of ``year`` and whether the date is exact (table) or approximate (中秋 − 38 days)."""
    if year in QIXI:
        return QIXI[year], True
    return _lunar().mid_autumn_date(year)[0] - timedelta(days=38), False


def public_holidays(start: date, end: date) -> pd.DataFrame:
    """China's public holidays overlapping ``[start, end)`` as ranges, with zh and en names."""
    import holidays

    years = list(range(start.year, end.year + 1))
    zh = holidays.China(years=years, language="zh_CN")
    en = holidays.China(years=years, language="en_US")
    days = []
    for d in sorted(zh):
        nz, ne = zh.get(d), en.get(d)
        if "休息日" in nz or "Day off" in ne:  # a swapped working day, not the holiday itself
            continue
        days.append((d, nz.replace("（补假）", ""), ne.replace(" (observed)", "")))
    rows: list[dict[str, Any]] = []
    for d, nz, ne in days:
        if rows and rows[-1]["name_en"] == ne and (d - rows[-1]["end"]).days <= 3:
            rows[-1]["end"] = d
        else:
            rows.append(dict(start=d, end=d, kind="holiday", key=ne, name_zh=nz, name_en=ne))
    df = pd.DataFrame(rows, columns=["start", "end", "kind", "key", "name_zh", "name_en"])
    return df[(df["start"] < end) & (df["end"] >= start)].reset_index(drop=True)


def festivals(start: date, end: date, *, year_festival_days: int = 21) -> tuple[pd.DataFrame, list[Note]]:
    """Shopping festivals overlapping ``[start, end)`` (names via ``plan.festival.<key>``)."""
    rows, notes = [], []
    for y in range(start.year - 1, end.year + 2):
        sf = spring_festival(y)
        rows.append(dict(start=sf - timedelta(days=year_festival_days), end=sf - timedelta(days=1), key="nianhuo"))
        q, exact = qixi(y)
        rows.append(dict(start=q, end=q, key="qixi"))
        if not exact and start <= q < end:
            notes.append(Note("plan.note.qixi_approx", {"year": y}))
        for key, ((m1, d1), (m2, d2)) in FESTIVALS.items():
            rows.append(dict(start=date(y, m1, d1), end=date(y, m2, d2), key=key))
    df = pd.DataFrame(rows)
    df = df[(df["start"] < end) & (df["end"] >= start)].assign(kind="festival", name_zh=None, name_en=None)
    return df[["start", "end", "kind", "key", "name_zh", "name_en"]].reset_index(drop=True), notes


def planned_campaigns(pack: Pack, start: date, end: date) -> pd.DataFrame:
    """The pack's campaigns starting in ``[start, end)`` (planned after the review period)."""
    if not pack.has("campaigns"):
        return pd.DataFrame(columns=["start", "end", "kind", "key", "name_zh", "name_en"])
    c = pack.table("campaigns")
    lo, hi = datetime(start.year, start.month, start.day), datetime(end.year, end.month, end.day)
    df = c.filter((c.start >= lo) & (c.start < hi)).select("campaign_id", "name", "start", "end").execute()
    return pd.DataFrame(dict(start=[pd.Timestamp(x).date() for x in df["start"]],
                             end=[pd.Timestamp(x).date() for x in df["end"]], kind="campaign",
                             key=df["campaign_id"].astype(str), name_zh=df["name"], name_en=df["name"]))


@dataclass(frozen=True)
class MarketingCalendar:
    """Events of the window and the theme of each quarter it touches.

    ``events``: :data:`CALENDAR_COLUMNS`, by start day. ``themes``: quarter, theme, metric,
    target (the quarter's planned target of the theme metric when an annual plan is given and
    has it, else None).
    """

    start: date
    end: date  # exclusive
    events: pd.DataFrame
    themes: pd.DataFrame
    notes: list[Note]


def _quarter(d: date) -> str:
    return f"{d.year}-Q{(d.month - 1) // 3 + 1}"


def marketing_calendar(pack: Pack, period: Period, settings: Any, *, plan: AnnualPlan | None = None
                       ) -> MarketingCalendar:
    """Holidays, festivals and planned campaigns of the ``plan.calendar_months`` after ``period``."""
    ps = settings.plan
    start = period.end
    m = start.month - 1 + ps.calendar_months
    end = date(start.year + m // 12, m % 12 + 1, 1)
    fest, notes = festivals(start, end, year_festival_days=ps.year_festival_days)
    parts = [f for f in (public_holidays(start, end), fest, planned_campaigns(pack, start, end)) if not f.empty]
    if not parts:
        raise NoData("campaigns", f"no holiday, festival or campaign between {start} and {end}")
    ev = pd.concat(parts, ignore_index=True)
    order = {"holiday": 0, "festival": 1, "campaign": 2}
    ev = ev.sort_values(["start", "kind"], key=lambda c: c.map(order) if c.name == "kind" else c, kind="stable")
    ev["quarter"] = [_quarter(max(d, start)) for d in ev["start"]]
    themes = []
    q = Period.parse(_quarter(start))
    while q.start < end:
        th = ps.quarter_themes[(q.start.month - 1) // 3]
        target = None
        if plan is not None:
            row = plan.targets[(plan.targets["metric"] == th.metric) & (plan.targets["period"] == q.label)]
            target = float(row["target"].iloc[0]) if len(row) else None
        themes.append(dict(quarter=q.label, theme=th.theme, metric=th.metric, target=target))
        q = q.next()
    tdf = pd.DataFrame(themes)
    ev["theme"] = ev["quarter"].map(dict(zip(tdf["quarter"], tdf["theme"], strict=True)))
    return MarketingCalendar(start, end, ev[CALENDAR_COLUMNS].reset_index(drop=True), tdf, notes)
