"""The group roll-up: every unit's review of a period on one page (``outputs/_group/<period>/index.html``).

Built from what the units published (``outputs/<unit>/<period>/``: manifest.json, kpis.parquet,
handoff-top_problems.json; ``outputs/<unit>/ledger.parquet``), never by rerunning their analyses.
The one number computed here from data is the group value of a KPI that does not add up (distinct
users, ratios) when the units share one pack: it is recomputed on the union of the units with the
function the goals section uses (:func:`opsnb.metrics.kpis.attainment`).

The rules (docs/units.md, "Group roll-up"):

* heat table: each unit × headline KPI is the unit's attainment, coloured by its status band;
* group row: additive KPIs (:func:`~opsnb.metrics.kpi_targets.is_additive`) are the sums of the units,
  in integer minor units (cents for money), targets too; other built-in KPIs are recomputed on the
  union when the units share a pack (same pack, unit column, time zone and business days); else none;
* ranking: mean attainment over the headline KPIs with a target, highest first, ties by unit name;
* contributions: per additive headline KPI, each unit's change since the previous period (integer minor
  units, so they add up exactly to the group's change) and its share of it in tenths of a percent,
  rounded by largest remainder so the shares add up to exactly 100.0%;
* problems: the high-severity ones among each unit's top three (its summary page's hand-off);
* a unit that failed, published nothing or has no KPI table is listed with the reason, never dropped.

:func:`build_rollup` writes the page and ``rollup.json`` (every number shown) into a new run folder
and swaps the ``outputs/_group/<period>`` symlink to it (:func:`opsnb.paths.publish_link`).
"""

from __future__ import annotations

import json
import math
import os
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from fractions import Fraction
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pandas as pd

from opsnb import runfolder as rf
from opsnb.errors import OpsnbError
from opsnb.metrics.kpi_targets import attainment_ratio, is_additive, status_of
from opsnb.params import KPI, Settings, StatusBands, load_params, validate
from opsnb.paths import GROUP, group_dir, outputs_dir
from opsnb.periods import Period
from opsnb.render import fmt, ui
from opsnb.render.i18n import t

__all__ = ["FILE", "build_rollup", "largest_remainder", "parse_problem", "rollup_data"]

#: The numbers of the page, beside it in the run folder.
FILE = rf.ROLLUP
#: Shares of a change are counted in these parts of the whole (tenths of a percent).
SHARE_PARTS = 1000
SEVERITIES = ("high", "medium", "low")


# ---------------------------------------------------------------- what a unit published


@dataclass
class _Unit:
    """One unit's publication for the period, as far as it could be read."""

    unit: str
    status: str = "failed"  # ok | partial | failed
    reason: str | None = None  # why failed or partial, in the page's language
    error: str | None = None  # the batch's reason, as given (in rollup.json; the page says the run failed)
    href: str | None = None  # its review, relative to outputs/_group/<period>/
    manifest: dict[str, Any] = field(default_factory=dict)
    settings: Settings | None = None
    kpis: pd.DataFrame | None = None
    problems: list[str] = field(default_factory=list)
    ledger: pd.DataFrame | None = None  # the unit's KPI ledger (opsnb.runfolder.read_ledger)

    @property
    def counted(self) -> bool:
        """Whether its numbers are in the tables and totals."""
        return self.status != "failed"

    @property
    def lang(self) -> str | None:
        return self.settings.lang if self.settings is not None else None

    def name(self, root: Path, lang: str) -> str:
        """The unit as its people call it (``unit_label``): from its published params, else its params file."""
        settings = self.settings
        if settings is None:
            try:
                settings = load_params(unit=self.unit, root=root)
            except (OpsnbError, OSError):  # a unit whose params do not load is named by its id
                return self.unit
        return settings.unit_name(lang)

    def kpi_row(self, key: str) -> dict[str, Any] | None:
        if self.kpis is None:
            return None
        hit = self.kpis[self.kpis["key"] == key]
        return None if hit.empty else hit.iloc[0].to_dict()


def _num(x: Any) -> float | None:
    return None if fmt.is_missing(x) else float(x)


def review_name(unit_dir: Path, period: str, lang: str) -> str:
    """The unit's published review of ``period`` in ``lang`` (``2026-10.en``), else in its own language (``2026-10``)."""
    links = rf.published(unit_dir)
    for name in (f"{period}.{lang}", period):
        if name in links:
            return name
    return period


def _read_unit(out: Path, unit: str, period: str, lang: str, failed: str | None) -> _Unit:
    """What ``unit`` published for ``period``; ``failed``: the batch's reason when its run failed.

    A batch publishes a run when any section succeeded, with ``ok`` false in its manifest when one failed:
    such a unit is *partial* (its numbers count). A failed unit whose published manifest is ok therefore
    published nothing this time: the folder is an earlier review, linked but not counted.
    """
    name = review_name(out / unit, period, lang)
    folder = out / unit / name
    given = None if failed is None else t("rollup.reason.run_failed", lang)
    u = _Unit(unit, reason=given, error=failed)
    if (folder / rf.INDEX).is_file():
        u.href = f"../../{quote(unit)}/{quote(name)}/index.html"  # resolved from the symlink, like a browser
    if not folder.is_dir():
        u.reason = given or t("rollup.reason.missing", lang)
        return u
    try:
        u.manifest = json.loads((folder / rf.MANIFEST).read_text(encoding="utf-8"))
        u.settings = validate(dict(u.manifest["params"]))
    except (OSError, ValueError, KeyError, TypeError, OpsnbError):
        u.reason = given or t("rollup.reason.manifest", lang)
        return u
    published_ok = bool(u.manifest.get("ok", False))
    if failed is not None and published_ok:
        return u
    bad = [s["section"] for s in u.manifest.get("sections", []) if s.get("status") not in rf.SHOWN]
    if bad:  # named in the page's language (the error itself is on the unit's summary page)
        u.reason = t("rollup.reason.sections", lang, sections=_join([t(f"sections.{s}.title", lang) for s in bad],
                                                                    lang))
    u.kpis = rf.read_kpis(folder)
    if u.kpis is None:
        u.reason = u.reason or t("rollup.reason.no_kpis", lang)
        return u
    u.status = "ok" if published_ok and not bad and failed is None else "partial"
    if u.status == "partial":
        u.reason = u.reason or given or t("rollup.reason.incomplete", lang)
    try:
        u.problems = [str(x) for x in rf.read_handoff(folder, "top_problems") or []]
    except OpsnbError:
        u.problems = []
    u.ledger = rf.read_ledger(out / unit)
    return u


def _join(items: list[str], lang: str) -> str:
    return ("、" if lang == "zh" else ", ").join(items)


@cache
def _bullet_patterns() -> tuple[tuple[re.Pattern[str], dict[str, str]], ...]:
    """The problems section's bullet template of each language as a pattern, and its severity words."""
    out = []
    for lang in ("zh", "en"):
        parts = re.split(r"\{(\w+)\}", t("problems.bullet", lang))
        rx = "".join(re.escape(p) if i % 2 == 0 else f"(?P<{p}>.*)" if p == "owner" else f"(?P<{p}>.*?)"
                     for i, p in enumerate(parts))
        out.append((re.compile(rx + r"\Z", re.S), {t(f"problems.severity.{s}", lang): s for s in SEVERITIES}))
    return tuple(out)


def parse_problem(line: str) -> dict[str, str] | None:
    """A problem bullet of a summary page (``problems.bullet`` in zh or en) as severity, text, suggestion, owner.

    None for a line not written by that template (e.g. "no problem this period").
    """
    for rx, severities in _bullet_patterns():
        m = rx.match(line)
        if m and m.group("severity") in severities:
            return {"severity": severities[m.group("severity")], "text": m.group("text"),
                    "suggestion": m.group("suggestion"), "owner": m.group("owner")}
    return None


# ---------------------------------------------------------------- exact sums and shares


def _scale(unit: str, values: list[float]) -> int:
    """Minor units per unit of a KPI: cents for money, whole numbers for counts that are whole, else hundredths."""
    if unit != "currency" and all(float(v).is_integer() for v in values):
        return 1
    return 100


def largest_remainder(parts: list[int], whole: int, total: int = SHARE_PARTS) -> list[int]:
    """``parts`` (summing to ``whole`` ≠ 0) as integer shares of ``total`` that add up to exactly ``total``.

    Each share is floored, then the shortfall goes one by one to the largest remainders (ties: the earlier
    part). Negative parts (moving against the whole) get negative shares.
    """
    exact = [Fraction(p * total, whole) for p in parts]
    floors = [math.floor(x) for x in exact]
    short = total - sum(floors)
    order = sorted(range(len(parts)), key=lambda i: (-(exact[i] - floors[i]), i))
    for i in order[:short]:
        floors[i] += 1
    return floors


def round_to_sum(exact: list[Fraction]) -> list[int]:
    """``exact`` rounded to integers that add up to the rounded sum of ``exact`` (largest remainder; ties: the
    earlier one). Each integer is within 1 of its value: contributions shown to 0.1 point add up to the total."""
    floors = [math.floor(x) for x in exact]
    short = round(sum(exact, Fraction(0))) - sum(floors)
    order = sorted(range(len(exact)), key=lambda i: (-(exact[i] - floors[i]), i))
    for i in order[:short]:
        floors[i] += 1
    return floors


# ---------------------------------------------------------------- the group value of a KPI that does not add up


def _shared(units: list[_Unit]) -> tuple[str, str, tuple[str, ...], Settings] | None:
    """(pack path, unit column, the units' values, settings) when the units share one pack; else None."""
    if not units or any(u.settings is None for u in units):
        return None
    sets = [u.settings for u in units if u.settings is not None]
    first = sets[0]

    def same(s: Settings) -> tuple[Any, ...]:
        return (s.unit_column, s.timezone, s.business_days.model_dump(mode="json"), s.region)

    paths = {str(u.manifest.get("pack", {}).get("path", "")) for u in units}
    if first.unit_column is None or len(paths) != 1 or any(same(s) != same(first) for s in sets):
        return None
    return paths.pop(), first.unit_column, tuple(s.unit_value or s.unit for s in sets), first


def _union_values(shared: tuple[str, str, tuple[str, ...], Settings], kpis: list[KPI], period: Period
                  ) -> dict[str, float | None]:
    """The KPIs on the union of the units of a shared pack, as the goals section computes them."""
    from opsnb.metrics.calendar import business_calendar
    from opsnb.metrics.kpis import attainment
    from opsnb.pack import open_pack

    path, column, values, settings = shared
    pack = open_pack(path, tz=settings.timezone, unit=(column, values))  # every unit of the roll-up at once
    cal = business_calendar(settings)
    pack.business = None if cal.all_open else cal
    df = attainment(pack, period, settings, kpis=kpis)  # its targets are ignored: the group has none
    return {str(r["key"]): _num(r["actual"]) for r in df.to_dict("records")}


# ---------------------------------------------------------------- the numbers


def _exact(x: float | None, unit: str, lang: str, currency: str, *, signed: bool = False) -> str:
    """A figure exactly as summed: money to the cent, whole counts in full."""
    if unit == "currency":
        return fmt.money(x, lang, currency=currency, compact=False, digits=2, signed=signed)
    if unit == "count" and x is not None and float(x).is_integer():
        return fmt.number(x, lang, compact=False, signed=signed)
    return fmt.number(x, lang, digits=2, compact=False, signed=signed)


Cells = dict[str, dict[str, dict[str, Any] | None]]  # unit → KPI key → published figures (None: not reported)


def _headline(counted: list[_Unit], lang: str) -> dict[str, dict[str, Any]]:
    """The headline KPIs of the units' KPI tables, in the order the units list them, with their registry entry."""
    meta: dict[str, dict[str, Any]] = {}
    for u in counted:
        assert u.kpis is not None and u.settings is not None
        registry = {k.key: k for k in u.settings.goals.kpis}
        for r in u.kpis[u.kpis["headline"].astype(bool)].to_dict("records"):
            if r["key"] not in meta:
                meta[r["key"]] = {"key": r["key"], "label": r["label_zh"] if lang == "zh" else r["label_en"],
                                  "unit": r["unit"], "direction": r["direction"], "kpi": registry.get(r["key"])}
    return meta


def _cells(u: _Unit, keys: list[str]) -> dict[str, dict[str, Any] | None]:
    out: dict[str, dict[str, Any] | None] = {}
    for key in keys:
        r = u.kpi_row(key)
        out[key] = None if r is None else {
            "actual": _num(r["actual"]), "target": _num(r["target"]), "attainment": _num(r["attainment"]),
            "status": str(r["status"]), "previous": _num(r["previous"])}
    return out


def _group(m: dict[str, Any], units: list[str], cells: Cells, *, bands: StatusBands, mixed_currency: bool,
           shared: bool) -> dict[str, Any]:
    """How the group value of one KPI is had (``how``), and the value when it is a sum of the units'."""
    kpi: KPI | None = m["kpi"]
    group: dict[str, Any] = {"value": None, "target": None, "attainment": None, "status": "n/a"}
    if kpi is None or not is_additive(kpi):
        group["how"] = "table_kpi" if kpi is None or kpi.source == "table" else "recomputed" if shared else "no_union"
        return group
    if m["unit"] == "currency" and mixed_currency:
        group["how"] = "currency"
        return group
    vals = [cells[u][m["key"]] for u in units]
    lacking = [u for u, v in zip(units, vals, strict=True) if v is None or v["actual"] is None]
    if lacking or not units:
        group.update(how="missing", units=lacking)
        return group
    actuals = [v["actual"] for v in vals if v is not None]
    targets = [v["target"] for v in vals if v is not None]
    scale = _scale(m["unit"], actuals + [x for x in targets if x is not None])
    total = sum(round(a * scale) for a in actuals)
    t_total = None if any(x is None for x in targets) else sum(round(x * scale) for x in targets)
    att, _ = attainment_ratio(total, t_total, m["direction"])  # integers: the ratio of the exact sums
    group.update(how="sum", scale=scale, value_minor=total, value=total / scale, target_minor=t_total,
                 target=None if t_total is None else t_total / scale, attainment=att, status=status_of(att, bands))
    return group


def _ranking_of(units: list[str], cells: Cells) -> tuple[list[dict[str, Any]], list[str]]:
    """Ranked units (mean attainment over headline KPIs with one, highest first, ties by name) and the unranked."""
    scored: list[dict[str, Any]] = []
    unranked: list[str] = []
    for u in units:
        shown = [c for c in cells[u].values() if c is not None]
        atts = [c["attainment"] for c in shown if c["attainment"] is not None]
        if not atts:
            unranked.append(u)
            continue
        scored.append({"unit": u, "mean_attainment": math.fsum(atts) / len(atts), "counted": len(atts),
                       "exceeded": sum(c["status"] == "exceeded" for c in shown),
                       "missed": sum(c["status"] == "missed" for c in shown)})
    scored.sort(key=lambda r: (-r["mean_attainment"], r["unit"]))
    for i, r in enumerate(scored, 1):
        r["rank"] = i
    return scored, unranked


def _contribution(row: dict[str, Any], counted: list[_Unit], cells: Cells, per: Period) -> dict[str, Any] | None:
    """Each unit's change of an additive KPI since the previous period, in minor units, and its share of the group's."""
    key = row["key"]
    have = [u for u in counted if (c := cells[u.unit][key]) is not None and c["actual"] is not None
            and c["previous"] is not None]
    if not have:
        return None
    figures = [(c["actual"], c["previous"]) for u in have if (c := cells[u.unit][key]) is not None]
    scale = _scale(row["unit"], [x for pair in figures for x in pair])
    parts = []
    for u, (actual, previous) in zip(have, figures, strict=True):
        a, p = round(actual * scale), round(previous * scale)
        parts.append({"unit": u.unit, "previous_minor": p, "actual_minor": a, "change_minor": a - p})
    change = sum(p["change_minor"] for p in parts)
    shares: list[int | None] = (list(largest_remainder([p["change_minor"] for p in parts], change)) if change
                                else [None] * len(parts))
    for p, s in zip(parts, shares, strict=True):
        p["share_parts"] = s
    prev_total = sum(p["previous_minor"] for p in parts)
    # each unit's contribution to the group's growth rate, in tenths of a percentage point: its change over the
    # group's previous total (readable even when units move against each other and the net change is small)
    points = (round_to_sum([Fraction(p["change_minor"] * SHARE_PARTS, prev_total) for p in parts]) if prev_total
              else [None] * len(parts))
    for p, pt in zip(parts, points, strict=True):
        p["points_tenths"] = pt
    return {"key": key, "label": row["label"], "unit": row["unit"], "scale": scale, "units": parts,
            "previous_minor": prev_total, "actual_minor": sum(p["actual_minor"] for p in parts),
            "change_minor": change, "relative": change / prev_total if prev_total else None,
            "points_tenths": sum(x for x in points if x is not None) if prev_total else None,
            "left_out": [u.unit for u in counted if u not in have],
            "restated": _restated(have, key, per, scale, cells)}


def rollup_data(root: Path, period: str, units: list[str], *, lang: str,
                failed: dict[str, str] | None = None) -> dict[str, Any]:
    """Every number of the roll-up page of ``period`` over ``units``, read from their publications (see module).

    Returns the mapping written to ``rollup.json``; amounts summed exactly are integers of minor units
    (``*_minor`` with their ``scale``), shares integers of tenths of a percent (``share_parts``).
    """
    per = Period.parse(period)
    failed = dict(failed or {})
    read = [_read_unit(outputs_dir(root), u, per.label, lang, failed.get(u)) for u in units]
    counted = [u for u in read if u.counted]
    names = [u.unit for u in counted]
    group_settings = load_params(root=root)  # the group's status bands: the project's defaults
    bands = group_settings.goals.bands
    currencies = {u.settings.currency for u in counted if u.settings is not None}
    mixed_currency = len(currencies) > 1
    currency = next(iter(currencies)) if len(currencies) == 1 else group_settings.currency

    meta = _headline(counted, lang)
    cells: Cells = {u.unit: _cells(u, list(meta)) for u in counted}
    shared = _shared(counted)
    kpis_out = [{**{k: v for k, v in m.items() if k != "kpi"}, "additive": bool(m["kpi"] and is_additive(m["kpi"])),
                 "group": _group(m, names, cells, bands=bands, mixed_currency=mixed_currency,
                                 shared=shared is not None)} for m in meta.values()]
    union = [row for row in kpis_out if row["group"]["how"] == "recomputed"]
    if union and shared is not None:
        try:
            values = _union_values(shared, [meta[row["key"]]["kpi"] for row in union], per)
        except OpsnbError as exc:  # the page says so; the units' own numbers stand
            for row in union:
                row["group"].update(how="union_failed", error=str(exc).splitlines()[0][:200])
        else:
            for row in union:
                row["group"]["value"] = values.get(row["key"])
    ranking, unranked = _ranking_of(names, cells)
    contributions = [c for row in kpis_out if row["additive"] and not (row["unit"] == "currency" and mixed_currency)
                     and (c := _contribution(row, counted, cells, per)) is not None]
    problems = [{"unit": u.unit, **p} for u in counted for line in u.problems
                if (p := parse_problem(line)) is not None and p["severity"] == "high"]
    return {
        "period": per.label, "lang": lang, "currency": currency,
        "generated_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "bands": {"exceeded": bands.exceeded, "nearly": bands.nearly},
        "names": {u.unit: u.name(root, lang) for u in read},
        "units": [{"unit": u.unit, "status": u.status, "reason": u.reason, "error": u.error, "href": u.href,
                   "lang": u.lang,
                   "run_id": u.manifest.get("run_id"),
                   "currency": u.settings.currency if u.settings is not None else None} for u in read],
        "kpis": kpis_out, "cells": cells, "ranking": ranking, "unranked": unranked,
        "contributions": contributions, "problems": problems,
        "shared_pack": None if shared is None else {"column": shared[1], "values": list(shared[2])},
    }


def _restated(have: list[_Unit], key: str, per: Period, scale: int, cells: dict[str, Any]) -> list[dict[str, Any]]:
    """Units whose previous value, as first published (the ledger), differs from the one the review compares with."""
    from opsnb.metrics.ledger import previous_publications

    out = []
    prev_label = per.previous().label
    for u in have:
        if u.ledger is None or u.kpis is None or bool(u.kpis["partial"].any()):
            continue  # a to-date period compares with the same first days, not the published month
        pubs = previous_publications(u.ledger, per, unit=u.unit)
        hit = pubs[(pubs["metric"] == key) & (pubs["period"] == prev_label)] if len(pubs) else pubs
        if hit.empty or hit["first_value"].iloc[0] is None:
            continue
        published = round(float(hit["first_value"].iloc[0]) * scale)
        now = round(cells[u.unit][key]["previous"] * scale)
        if published != now:
            out.append({"unit": u.unit, "published_minor": published, "now_minor": now})
    return out


# ---------------------------------------------------------------- the page


def _bands_text(bands: StatusBands, lang: str) -> list[tuple[str, str]]:
    return [("exceeded", t("rollup.heat.legend.exceeded", lang, exceeded=fmt.pct(bands.exceeded, lang))),
            ("nearly", t("rollup.heat.legend.nearly", lang, nearly=fmt.pct(bands.nearly, lang))),
            ("missed", t("rollup.heat.legend.missed", lang)), ("n/a", t("rollup.heat.legend.n/a", lang))]


def _currency_of(data: dict[str, Any], unit: str) -> str:
    return next((u["currency"] for u in data["units"] if u["unit"] == unit and u["currency"]), data["currency"])


def _heat_figures(data: dict[str, Any], k: dict[str, Any], lang: str) -> tuple[dict[str, str], str]:
    """The KPI's figures in its heat-table column: each unit's actual and the group's value, in one scale."""
    units = [(u, cells[k["key"]]) for u, cells in data["cells"].items() if cells[k["key"]] is not None]
    values = [c["actual"] for _, c in units] + [k["group"]["value"]]
    if k["unit"] in ("count", "currency") and len({_currency_of(data, u) for u, _ in units} | {data["currency"]}) == 1:
        shown = fmt.column(values, k["unit"], lang, currency=data["currency"])
    else:  # units in different currencies (no group sum): each in its own
        shown = [fmt.value(c["actual"], k["unit"], lang, currency=_currency_of(data, u)) for u, c in units] + \
            [fmt.value(values[-1], k["unit"], lang, currency=data["currency"])]
    return {u: x for (u, _), x in zip(units, shown, strict=False)}, shown[-1]


def _unit_cell(c: dict[str, Any] | None, actual: str, lang: str) -> ui.HeatCell:
    if c is None:
        return ui.HeatCell(t("rollup.heat.not_reported", lang))
    if c["attainment"] is None:
        return ui.HeatCell(t("rollup.heat.no_target", lang), actual, "n/a")
    return ui.HeatCell(fmt.pct(c["attainment"], lang), actual, c["status"])


def _group_cell(k: dict[str, Any], lang: str, shown: str) -> ui.HeatCell:
    g = k["group"]
    if g["how"] == "sum":
        att = t("rollup.heat.no_target", lang) if g["attainment"] is None else fmt.pct(g["attainment"], lang)
        return ui.HeatCell(att, t("rollup.heat.sum", lang, value=shown), g["status"])
    if g["how"] == "recomputed" and g["value"] is not None:
        return ui.HeatCell(t("rollup.heat.no_target", lang), t("rollup.heat.recomputed", lang, value=shown), "n/a")
    return ui.HeatCell(t("rollup.heat.none", lang), fmt.na(lang) if k["additive"] else t("rollup.heat.not_additive", lang))


def _name(data: dict[str, Any], unit: str) -> str:
    """``unit`` as the page names it: its ``unit_label`` (``rollup.json`` ``names``), else its id."""
    return str(data.get("names", {}).get(unit, unit))


def _names(data: dict[str, Any], units: list[str], lang: str) -> str:
    return _join([_name(data, u) for u in units], lang)


def _heat(data: dict[str, Any], lang: str) -> list[Any]:
    kpis = data["kpis"]
    if not kpis:
        return [ui.note(t("summary.no_kpis", lang))]
    partial = {u["unit"] for u in data["units"] if u["status"] == "partial"}
    figures = {k["key"]: _heat_figures(data, k, lang) for k in kpis}  # one scale per KPI's column
    rows = [(ui.HeatCell(_name(data, u), t("rollup.status.partial", lang) if u in partial else ""),
             [_unit_cell(cells[k["key"]], figures[k["key"]][0].get(u, ""), lang) for k in kpis])
            for u, cells in data["cells"].items()]
    group = (ui.HeatCell(t("rollup.group", lang)), [_group_cell(k, lang, figures[k["key"]][1]) for k in kpis])
    out: list[Any] = [ui.heat_table([t("rollup.heat.unit", lang), *(k["label"] for k in kpis)], rows, total=group),
                      ui.legend(_bands_text(StatusBands(**data["bands"]), lang))]
    notes = []
    by_how: dict[str, list[dict[str, Any]]] = {}
    for k in kpis:
        by_how.setdefault(k["group"]["how"], []).append(k)
    for how in ("sum", "recomputed", "no_union", "table_kpi", "currency", "union_failed"):
        if how in by_how:
            notes.append(t(f"rollup.heat.note.{how}", lang, kpis=_join([k["label"] for k in by_how[how]], lang)))
    for k in by_how.get("missing", []):
        notes.append(t("rollup.heat.note.missing", lang, kpis=k["label"], units=_names(data, k["group"]["units"], lang)))
    return [*out, ui.bullets(notes)]


def _ranking(data: dict[str, Any], lang: str) -> list[Any]:
    out: list[Any] = []
    if data["ranking"]:
        c = "rollup.rank.col."
        df = pd.DataFrame({
            t(c + "unit", lang): [_name(data, r["unit"]) for r in data["ranking"]],
            t(c + "rank", lang): [r["rank"] for r in data["ranking"]],
            t(c + "mean", lang): [r["mean_attainment"] for r in data["ranking"]],
            t(c + "counted", lang): [r["counted"] for r in data["ranking"]],
            t(c + "exceeded", lang): [r["exceeded"] for r in data["ranking"]],
            t(c + "missed", lang): [r["missed"] for r in data["ranking"]],
        })
        out.append(ui.table(df, lang, formats={t(c + "mean", lang): "ratio"}))
    items = [t("rollup.rank.rule", lang)]
    if data["unranked"]:
        items.append(t("rollup.rank.unranked", lang, units=_names(data, data["unranked"], lang)))
    out.append(ui.bullets(items))
    return out


_FIELDS = ("previous", "actual", "change")


def _shown(con: dict[str, Any], field: str, lang: str, cur: str, *, signed: bool = False,
           part: list[int] | None = None) -> tuple[list[str], str]:
    """One column of a KPI's contributions (``field``: previous, actual, change) as shown: the units', then the group's
    (or, with ``part``, the sum of those units' figures).

    One scale and precision for the table's amounts (:func:`fmt.column_scale` over its three columns, so a row
    never reads ``¥14.8万 → ¥18.6万, +¥37,441``); each figure is computed exactly, then rounded for display.
    """
    unit, scale = con["unit"], con["scale"]
    minors = [p[f"{field}_minor"] for p in con["units"]]
    total = con[f"{field}_minor"] if part is None else sum(minors[i] for i in part)
    if unit not in ("count", "currency"):
        return ([_exact(m / scale, unit, lang, cur, signed=signed) for m in minors],
                _exact(total / scale, unit, lang, cur, signed=signed))
    everything = [p[f"{f}_minor"] / scale for p in con["units"] for f in _FIELDS] + \
        [con[f"{f}_minor"] / scale for f in _FIELDS]
    sc = fmt.column_scale(everything, unit, lang)
    symbol = cur if unit == "currency" else ""

    def text(minor: int) -> str:
        x = minor / scale
        sign = "-" if x < 0 and round(abs(x) / sc.divisor, sc.digits) else "+" if signed and x > 0 else ""
        return sign + symbol + sc.write(x)

    return [text(m) for m in minors], text(total)


def _contributions(data: dict[str, Any], lang: str) -> list[Any]:
    if not data["contributions"]:
        additive = [k for k in data["kpis"] if k["additive"]]
        return [ui.note(t("rollup.contrib.currency" if additive else "rollup.contrib.none", lang))]
    out: list[Any] = []
    cur = data["currency"]
    c = "rollup.contrib.col."
    for con in data["contributions"]:
        def points(tenths: int | None) -> str:
            return fmt.na(lang) if tenths is None else fmt.pp(tenths / SHARE_PARTS, lang)

        (prev, prev_g), (act, act_g), (chg, chg_g) = (_shown(con, f, lang, cur, signed=f == "change")
                                                       for f in _FIELDS)
        rows = [[_name(data, p["unit"]), prev[i], act[i], chg[i], points(p["points_tenths"])]
                for i, p in enumerate(con["units"])]
        rows.append([t("rollup.group", lang), prev_g, act_g, chg_g, points(con["points_tenths"])])
        df = pd.DataFrame(rows, columns=[t(c + k, lang) for k in ("unit", "previous", "actual", "change", "share")])
        out.append(ui.heading(con["label"], level=3, anchor=f"rollup.contrib.{con['key']}"))
        out.append(ui.table(df, lang))
        out.append(ui.bullets(_contribution_text(con, lang, cur, data)))
    out.append(ui.paragraph(t("rollup.contrib.rounding", lang)))
    return out


def _contribution_text(con: dict[str, Any], lang: str, cur: str, data: dict[str, Any]) -> list[str]:
    unit, scale, change = con["unit"], con["scale"], con["change_minor"]
    changes, group_change = _shown(con, "change", lang, cur, signed=True)  # the figures of the table, as shown

    def ex(minor: int, *, signed: bool = False) -> str:
        return _exact(minor / scale, unit, lang, cur, signed=signed)

    out = []
    if change == 0:
        out.append(t("rollup.contrib.flat", lang, kpi=con["label"]))
    else:
        # the unit that moved the group most in its direction
        top = max(con["units"], key=lambda p: (p["change_minor"] * (1 if change > 0 else -1), -con["units"].index(p)))
        out.append(t("rollup.contrib.up" if change > 0 else "rollup.contrib.down", lang, kpi=con["label"],
                     change=group_change.lstrip("+-"), rel=fmt.pct(con["relative"], lang, signed=True),
                     unit=_name(data, top["unit"]), unit_change=changes[con["units"].index(top)],
                     points=fmt.na(lang) if top["points_tenths"] is None
                     else fmt.pp(top["points_tenths"] / SHARE_PARTS, lang)))
        against = [i for i, p in enumerate(con["units"]) if p["change_minor"] * change < 0]
        if against:  # the sum of their changes as the table shows them
            out.append(t("rollup.contrib.against", lang,
                         units=_names(data, [con["units"][i]["unit"] for i in against], lang),
                         change=_shown(con, "change", lang, cur, signed=True, part=against)[1]))
    if con["left_out"]:
        out.append(t("rollup.contrib.left_out", lang, units=_names(data, con["left_out"], lang)))
    for r in con["restated"]:  # to the cent: a restatement may be a few cents
        out.append(t("rollup.contrib.restated", lang, unit=_name(data, r["unit"]), kpi=con["label"],
                     published=ex(r["published_minor"]), now=ex(r["now_minor"])))
    return out


def _problems(data: dict[str, Any], lang: str) -> list[Any]:
    counted = [u["unit"] for u in data["units"] if u["status"] != "failed"]
    if not data["problems"]:
        return [ui.bullets([t("rollup.problems.none", lang)])]
    c = "rollup.problems.col."
    df = pd.DataFrame({t(c + "unit", lang): [_name(data, p["unit"]) for p in data["problems"]],
                       t(c + "problem", lang): [p["text"] for p in data["problems"]],
                       t(c + "owner", lang): [p["owner"] for p in data["problems"]]})
    items = []
    clear = [u for u in counted if u not in {p["unit"] for p in data["problems"]}]
    if clear:
        items.append(t("rollup.problems.clear", lang, units=_names(data, clear, lang)))
    if any(u["lang"] not in (None, lang) for u in data["units"] if u["unit"] in {p["unit"] for p in data["problems"]}):
        items.append(t("rollup.problems.quoted", lang))
    return [ui.table(df, lang), ui.bullets(items)]


def _links(data: dict[str, Any], lang: str) -> list[Any]:
    items = []
    for u in data["units"]:
        how = u["status"] if u["status"] != "failed" else "earlier" if u["href"] else "failed"
        items.append((u["href"] or "", t(f"rollup.links.{how}", lang, unit=_name(data, u["unit"]), reason=u["reason"]),
                      u["status"]))
    return [ui.link_list(items)]


def _section(key: str, lang: str, body: list[Any]) -> list[Any]:
    return [ui.heading(t(f"{key}.title", lang), level=2, anchor=key), ui.paragraph(t(f"{key}.purpose", lang)), *body]


def render_page(data: dict[str, Any]) -> str:
    """The roll-up page of ``data`` (:func:`rollup_data`) as self-contained HTML, with the reviews' template."""
    import nbformat
    from nbformat.v4 import new_code_cell, new_notebook, new_output

    from opsnb.export import export_html

    lang = data["lang"]
    head = f"{t('rollup.title', lang)} · {data['period']}"
    objs: list[Any] = [ui.heading(head, level=1, anchor="rollup"), ui.paragraph(t("rollup.purpose", lang))]
    out = [u for u in data["units"] if u["status"] == "failed"]
    if out:
        objs.append(ui.note(t("rollup.excluded", lang, n=len(out), units=_join(
            [t("rollup.excluded_item", lang, unit=_name(data, u["unit"]), reason=u["reason"]) for u in out], lang)), kind="warn"))
    objs += _section("rollup.heat", lang, _heat(data, lang))
    objs += _section("rollup.rank", lang, _ranking(data, lang))
    objs += _section("rollup.contrib", lang, _contributions(data, lang))
    objs += _section("rollup.problems", lang, _problems(data, lang))
    objs += _section("rollup.links", lang, _links(data, lang))
    cells = []
    for i, o in enumerate(objs, 1):
        cell = new_code_cell("", execution_count=i)
        cell.outputs = [new_output("display_data", data={"text/html": o._repr_html_(), "text/plain": repr(o)})]
        cells.append(cell)
    nb = new_notebook(cells=cells, metadata={"language_info": {"name": "python"}})
    nbformat.validate(nb)
    names = [_name(data, u["unit"]) for u in data["units"]]
    header = [(t("rollup.units_label", lang), t("rollup.units_value", lang, n=len(names), units=_join(names, lang))),
              (t("common.period", lang), data["period"]),
              (t("common.generated_at", lang), datetime.fromisoformat(data["generated_at"]).strftime("%Y-%m-%d %H:%M UTC"))]
    return export_html(nb, lang=lang, title=head, header=header, toc_title=t("common.contents", lang))


def build_rollup(root: Path, period: str, units: list[str], *, lang: str,
                 failed: dict[str, str] | None = None) -> Path:
    """Write the group roll-up of ``period`` over ``units`` and publish it; returns its ``index.html``.

    Parameters
    ----------
    root : the project root (reads ``outputs/<unit>/<period>/``, writes ``outputs/_group/``).
    period : the period label (``2026-10``).
    units : the units, in the order the page lists them.
    lang : the page's language (``zh`` or ``en``).
    failed : units whose run did not fully succeed, with the batch's reason (kept in ``rollup.json`` as ``error``;
        the page says the run failed, in its language). A unit that published nothing this time is left out of
        the numbers; one that published a partial review (manifest not ok) counts, marked partial.

    Returns
    -------
    Path
        ``outputs/_group/<period>/index.html`` (through the symlink swapped to the new run folder, which
        also holds ``rollup.json``).
    """
    from opsnb import archive

    label = Period.parse(period).label
    data = rollup_data(root, label, units, lang=lang, failed=failed)
    html = render_page(data)
    base = group_dir(root)
    settings = load_params(root=root)
    run_id = datetime.now(UTC).strftime("%Y%m%dT%H%M%S") + f"-{os.getpid()}-{os.urandom(3).hex()}"
    with rf.Lock(base / f".{label}.lock", wait=True, log=lambda m: None):
        run_dir = base / rf.RUNS / label / run_id
        run_dir.mkdir(parents=True)
        rf.write_json(run_dir / FILE, data)
        rf.atomic_write_text(run_dir / rf.INDEX, html)
        target = base / rf.published_name(label, lang, settings.lang)
        rf.write_json(run_dir / rf.MANIFEST, {
            "unit": GROUP, "period": label, "lang": lang, "home_lang": settings.lang, "published_as": target.name,
            "run_id": run_id, "finished_at": datetime.now(UTC).isoformat(timespec="microseconds"), "ok": True,
            "complete": True, "published": True, "units": units,
            "sections": [{"section": "summary", "status": "ok", "html": rf.INDEX}]})
        rf.publish_link(run_dir, target)
        rf.prune(base, label, keep=settings.publish.keep_runs, current=run_dir)
    archive.refresh(root, unit=GROUP, period=label)
    return target / rf.INDEX
