"""Marketing calendar and business days of the unit's region: public holidays, shopping
festivals or retail moments, planned campaigns; which days the unit trades.

The region is ``settings.region``: ``calendar_region`` (ISO country code, optionally
``-SUBDIVISION``), else the country of the unit's time zone (Asia/Shanghai → CN, Europe/London →
GB, see :func:`opsnb.params.country_of_timezone`). A bare ``GB`` means England and Wales
(:data:`DEFAULT_SUBDIVISIONS`).

* Public holidays come from the ``holidays`` package (``holidays.country_holidays``); lunar
  holidays included for CN. Names: the package's English, and its Chinese where it has one
  (CN), else the catalogue's ``plan.holiday.<slug>`` (UK bank holidays), else the English name.
  CN's substitute working-day swaps (休息日/调休) are left out. A holiday's consecutive days
  (allowing a weekend gap) are one range, which its substitute day ("observed", 补假) extends
  when it is that close; each holiday is listed once (:func:`public_holidays`).
* Shopping festivals are per region (:data:`FESTIVAL_SETS`; names in the i18n catalogues as
  ``plan.festival.<key>``), as (first day, last day) windows. Regions without a set get none.

  - CN (:data:`FESTIVALS`): 年货节 = the ``plan.year_festival_days`` days before 春节
    (``holidays``' lunar new year date); 情人节 2/14; 女神节 3/1–3/8; 520 5/20; 618 6/1–6/18;
    七夕 (lunar 7/7, see :func:`qixi`); 开学季 8/15–9/10; 双十一 10/20–11/11 (presale included);
    双十二 12/1–12/12.
  - GB (:func:`uk_retail_moments`): January sales 1/1–1/31; Valentine's Day 2/14; Mother's Day
    (Mothering Sunday, Easter Sunday − 21 days); Easter (Good Friday – Easter Monday); Father's
    Day (3rd Sunday of June); Halloween 10/31; Black Friday (the day after US Thanksgiving, the
    4th Thursday of November) and Cyber Monday (3 days later); Christmas shopping 12/1–12/24;
    Boxing Day sales 12/26–12/31.
* Campaigns of the pack that start after the review period and inside the window.

The window is ``plan.calendar_months`` months from the day after the review period. Each event
carries its quarter and the quarter's theme (拉新 / 促活 / 留存 / 召回 from
``plan.quarter_themes``).

Business days (:func:`business_calendar`): ``settings.business_days`` declares closed weekdays,
closed dates and whether the region's public holidays are closed; by default every day is open.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import cache
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


#: The subdivision a bare country code stands for when the holidays package needs one to be
#: complete: "GB" alone lists only UK-wide days (no Easter Monday, no August bank holiday).
DEFAULT_SUBDIVISIONS = {"GB": "ENG"}
_OBSERVED = re.compile(r"\s*(\(observed\)|（补假）)$")


def split_region(region: str) -> tuple[str, str | None]:
    """``"GB"`` → ``("GB", "ENG")``, ``"GB-SCT"`` → ``("GB", "SCT")``, ``"CN"`` → ``("CN", None)``."""
    country, _, sub = region.upper().partition("-")
    return country, sub or DEFAULT_SUBDIVISIONS.get(country)


@cache
def _holiday_names(region: str, years: tuple[int, ...], language: str | None) -> dict[date, str]:
    """The region's public holidays of ``years`` in ``language`` (None: the package default); empty
    when the holidays package does not know the country."""
    import holidays

    country, sub = split_region(region)
    if country not in holidays.list_supported_countries():
        return {}
    if language is not None and language not in holidays.country_holidays(country, subdiv=sub).supported_languages:
        return {}
    return dict(holidays.country_holidays(country, subdiv=sub, years=years, language=language))


def holiday_dates(start: date, end: date, *, region: str | None) -> set[date]:
    """Every public-holiday day off of ``region`` in ``[start, end)``, substitute days included."""
    if region is None or end <= start:
        return set()
    names = _holiday_names(region, tuple(range(start.year, end.year + 1)), None)
    return {d for d in names if start <= d < end}


def _slug(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", name.lower().replace("'", "")).strip("_")


def _zh_name(en: str) -> str:
    """A Chinese name for a holiday the holidays package names only in English (catalogue, else English)."""
    from opsnb.render.i18n import catalogue

    return catalogue("zh").get(f"plan.holiday.{_slug(en)}", en)


def public_holidays(start: date, end: date, *, region: str | None = "CN") -> pd.DataFrame:
    """Public holidays of ``region`` overlapping ``[start, end)`` as ranges, with zh and en names.

    Each holiday appears once per occurrence: days of one holiday with gaps of up to 3 days (a
    weekend), its substitute day included, are one range; a substitute day further away is a day
    off in lieu and is not listed again. Ranges of different holidays may overlap (GB 2011:
    Christmas Day 25–27 Dec with its substitute day, Boxing Day 26 Dec). Days off are
    :func:`holiday_dates`.
    """
    cols = ["start", "end", "kind", "key", "name_zh", "name_en"]
    if region is None:
        return pd.DataFrame(columns=cols)
    years = tuple(range(start.year, end.year + 1))
    en = _holiday_names(region, years, "en_US") or _holiday_names(region, years, None)
    zh = _holiday_names(region, years, "zh_CN")
    days: list[tuple[date, str, str, bool]] = []
    for d in sorted(en):
        nes = re.split(r"; |；", en[d])
        nzs = re.split(r"; |；", zh[d]) if d in zh else []
        if len(nzs) != len(nes):
            nzs = [""] * len(nes)
        for ne, nz in zip(nes, nzs, strict=True):
            if "休息日" in nz or ne.startswith("Day off"):  # a swapped working day, not the holiday itself
                continue
            observed = bool(_OBSERVED.search(ne))
            ne = _OBSERVED.sub("", ne)
            nz = _OBSERVED.sub("", nz) or _zh_name(ne)
            days.append((d, nz, ne, observed))
    rows: list[dict[str, Any]] = []
    latest: dict[str, dict[str, Any]] = {}  # name → its latest range
    for d, nz, ne, observed in days:
        r = latest.get(ne)
        gap = None if r is None else (d - r["end"]).days
        if r is not None and gap is not None and gap <= 3:
            r["end"] = max(r["end"], d)  # the same holiday across a weekend, or its substitute day next to it
        elif observed and gap is not None and gap <= 30:
            continue  # a substitute day further away: a day off in lieu, the holiday is already listed
        else:
            latest[ne] = r = dict(start=d, end=d, kind="holiday", key=ne, name_zh=nz, name_en=ne)
            rows.append(r)
    df = pd.DataFrame(rows, columns=cols)
    df = df[(df["start"] < end) & (df["end"] >= start)]
    return df.sort_values(["start", "end"], kind="stable").reset_index(drop=True)


# ---------------------------------------------------------------- festivals and retail moments


def _cn_festivals(y: int, *, year_festival_days: int) -> list[dict[str, Any]]:
    sf = spring_festival(y)
    q, exact = qixi(y)
    rows = [dict(start=sf - timedelta(days=year_festival_days), end=sf - timedelta(days=1), key="nianhuo"),
            dict(start=q, end=q, key="qixi", approx=not exact)]
    for key, ((m1, d1), (m2, d2)) in FESTIVALS.items():
        rows.append(dict(start=date(y, m1, d1), end=date(y, m2, d2), key=key))
    return rows


def black_friday(year: int) -> date:
    """The day after US Thanksgiving (the 4th Thursday of November): usually, not always, the 4th Friday."""
    nov1 = date(year, 11, 1)
    thursday = nov1 + timedelta(days=(3 - nov1.weekday()) % 7 + 21)
    return thursday + timedelta(days=1)


def uk_retail_moments(y: int, **_: Any) -> list[dict[str, Any]]:
    """UK retail moments of year ``y`` (keys of ``plan.festival``), as first and last day."""
    from dateutil.easter import easter

    e = easter(y)
    june1 = date(y, 6, 1)
    bf = black_friday(y)
    return [
        dict(start=date(y, 1, 1), end=date(y, 1, 31), key="january_sales"),
        dict(start=date(y, 2, 14), end=date(y, 2, 14), key="valentine"),
        dict(start=e - timedelta(days=21), end=e - timedelta(days=21), key="mothers_day_uk"),
        dict(start=e - timedelta(days=2), end=e + timedelta(days=1), key="easter"),
        dict(start=june1 + timedelta(days=(6 - june1.weekday()) % 7 + 14),
             end=june1 + timedelta(days=(6 - june1.weekday()) % 7 + 14), key="fathers_day_uk"),
        dict(start=date(y, 10, 31), end=date(y, 10, 31), key="halloween"),
        dict(start=bf, end=bf, key="black_friday"),
        dict(start=bf + timedelta(days=3), end=bf + timedelta(days=3), key="cyber_monday"),
        dict(start=date(y, 12, 1), end=date(y, 12, 24), key="christmas_shopping"),
        dict(start=date(y, 12, 26), end=date(y, 12, 31), key="boxing_day_sales"),
    ]


#: Country → the festivals of one year (``fn(year, *, year_festival_days) -> rows``). Only these
#: countries get festivals; others get their public holidays and campaigns only.
FESTIVAL_SETS: dict[str, Callable[..., list[dict[str, Any]]]] = {
    "CN": _cn_festivals,
    "GB": uk_retail_moments,
}


def festivals(start: date, end: date, *, region: str | None = "CN", year_festival_days: int = 21
              ) -> tuple[pd.DataFrame, list[Note]]:
    """Shopping festivals (retail moments) of ``region`` overlapping ``[start, end)`` (names via
    ``plan.festival.<key>``); none for a region without a set in :data:`FESTIVAL_SETS`."""
    cols = ["start", "end", "kind", "key", "name_zh", "name_en"]
    fn = FESTIVAL_SETS.get(split_region(region)[0]) if region else None
    if fn is None:
        return pd.DataFrame(columns=cols), []
    rows, notes = [], []
    for y in range(start.year - 1, end.year + 2):
        for r in fn(y, year_festival_days=year_festival_days):
            if r.pop("approx", False) and start <= r["start"] < end:
                notes.append(Note("plan.note.qixi_approx", {"year": y}))
            rows.append(r)
    df = pd.DataFrame(rows)
    # China's are e-commerce festivals (电商节点); elsewhere they are retail moments of the high street
    kind = "festival" if region is not None and split_region(region)[0] == "CN" else "retail"
    df = df[(df["start"] < end) & (df["end"] >= start)].assign(kind=kind, name_zh=None, name_en=None)
    df = df.sort_values(["start", "key"], kind="stable")
    return df[cols].reset_index(drop=True), notes


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
    target (the quarter's own target of the theme metric — the one its review judges by — when an
    annual plan is given and has it, else None), rest_target and rest_months (for a quarter under
    way when the window starts: the target of its months still to come, labelled as such).
    """

    start: date
    end: date  # exclusive
    events: pd.DataFrame
    themes: pd.DataFrame
    notes: list[Note]


def region_note(region: str | None) -> Note:
    """The note naming the calendar region, and saying when the region has no festival set."""
    if region is None:
        return Note("plan.note.no_region", {})
    country, sub = split_region(region)
    code = f"{country}-{sub}" if sub else country
    key = "plan.note.region" if country in FESTIVAL_SETS else "plan.note.region_no_festivals"
    return Note(key, {"region": code})


def _quarter(d: date) -> str:
    return Period.containing(d, "quarter").label


def marketing_calendar(pack: Pack, period: Period, settings: Any, *, plan: AnnualPlan | None = None
                       ) -> MarketingCalendar:
    """Holidays, festivals and planned campaigns of the ``plan.calendar_months`` after ``period``,
    for the unit's calendar region (``settings.region``; CN when ``settings`` has none)."""
    ps = settings.plan
    region = getattr(settings, "region", "CN")
    start = period.end
    m = start.month - 1 + ps.calendar_months
    end = date(start.year + m // 12, m % 12 + 1, 1)
    fest, notes = festivals(start, end, region=region, year_festival_days=ps.year_festival_days)
    notes = [region_note(region), *notes]
    parts = [f for f in (public_holidays(start, end, region=region), fest, planned_campaigns(pack, start, end))
             if not f.empty]
    if not parts:
        raise NoData("campaigns", f"no holiday, festival or campaign between {start} and {end} "
                                  f"(calendar region {region or 'unknown'})")
    ev = pd.concat(parts, ignore_index=True).drop_duplicates(["kind", "key", "start", "end"])
    order = {"holiday": 0, "festival": 1, "retail": 1, "campaign": 2}
    ev = ev.sort_values(["start", "kind"], key=lambda c: c.map(order) if c.name == "kind" else c, kind="stable")
    ev["quarter"] = [_quarter(max(d, start)) for d in ev["start"]]
    themes = []
    q = Period.containing(start, "quarter")
    while q.start < end:
        th = ps.quarter_themes[(q.start.month - 1) // 3]
        target = rest = rest_months = None
        if plan is not None:  # the quarter's own target; when it is under way, also what is left of it
            row = plan.for_period(q.label)
            row = row[(row["metric"] == th.metric) & row["target"].notna()]
            target = float(row["target"].iloc[0]) if len(row) else None
            left = plan.rest_of(q.label)
            left = left[left["metric"] == th.metric]
            if len(left) and q.start < start:
                rest = float(left["target"].iloc[0])
                rest_months = f"{start:%Y-%m}–{q.last_day:%Y-%m}" if start.month != q.last_day.month else f"{start:%Y-%m}"
        themes.append(dict(quarter=q.label, theme=th.theme, metric=th.metric, target=target, rest_target=rest,
                           rest_months=rest_months))
        q = q.next()
    tdf = pd.DataFrame(themes)
    ev["theme"] = ev["quarter"].map(dict(zip(tdf["quarter"], tdf["theme"], strict=True)))
    return MarketingCalendar(start, end, ev[CALENDAR_COLUMNS].reset_index(drop=True), tdf, notes)


# ---------------------------------------------------------------- business days


@dataclass(frozen=True)
class BusinessCalendar:
    """Which days a unit trades (``settings.business_days``); by default every day is open.

    A day is closed when its weekday is in ``closed_weekdays``, it lies in one of ``closed_dates``
    (inclusive ranges), or ``public_holidays`` is set and it is a public holiday (substitute days
    included) of ``region``.
    """

    closed_weekdays: frozenset[int] = frozenset()
    closed_dates: tuple[tuple[date, date], ...] = ()
    public_holidays: bool = False
    region: str | None = None

    @property
    def all_open(self) -> bool:
        """Whether every day is open."""
        return not (self.closed_weekdays or self.closed_dates or (self.public_holidays and self.region))

    def closed(self, start: date, end: date) -> set[date]:
        """The closed days in ``[start, end)``."""
        if self.all_open or end <= start:
            return set()
        out = set(holiday_dates(start, end, region=self.region)) if self.public_holidays else set()
        for lo, hi in self.closed_dates:
            out |= set(_days(max(lo, start), min(hi + timedelta(days=1), end)))
        out |= {d for d in _days(start, end) if d.weekday() in self.closed_weekdays}
        return out

    def open_days(self, start: date, end: date) -> list[date]:
        """The open days in ``[start, end)``, in order."""
        shut = self.closed(start, end)
        return [d for d in _days(start, end) if d not in shut]

    def is_open(self, day: date) -> bool:
        """Whether the unit trades on ``day``."""
        return day not in self.closed(day, day + timedelta(days=1))


def _days(start: date, end: date) -> Iterable[date]:
    return (start + timedelta(days=i) for i in range((end - start).days))


def business_calendar(settings: Any) -> BusinessCalendar:
    """The business calendar of ``settings`` (whole :class:`~opsnb.params.Settings`); all days open
    when it has no ``business_days`` (e.g. only the problems part of the settings is given)."""
    bd = getattr(settings, "business_days", None)
    if bd is None:
        return BusinessCalendar()
    return BusinessCalendar(frozenset(bd.closed_weekdays), tuple(bd.closed_dates), bd.closed_on_public_holidays,
                            getattr(settings, "region", None))
