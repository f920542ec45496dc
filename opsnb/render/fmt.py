"""Number formats for zh and en (great_tables' ``fmt_*`` family, as plain functions).

zh: 万 / 亿 for large numbers; en: K / M / B. Currency with ¥ (configurable). Percentages with
one decimal; changes of ratios in percentage points, named as such. Undefined values render as
"不适用" / "n/a" (optionally with the reason), never as "nan" or "inf".
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

from opsnb.render.i18n import display_name, t

try:  # pandas.NA without importing pandas at module level for every caller
    from pandas import NA as _NA
except ImportError:  # pragma: no cover
    _NA = object()

#: The currency symbol of the unit being reported (``settings.currency``). ``nb.setup`` sets it for
#: the notebook, so every amount (tables, bullets, chart axes) carries the unit's currency even when
#: a caller does not pass one; an explicit ``currency=`` argument still wins.
_CURRENCY: ContextVar[str] = ContextVar("opsnb_currency", default="¥")


def use_currency(symbol: str) -> None:
    """Make ``symbol`` the default currency of :func:`money` and :func:`value` in this context."""
    _CURRENCY.set(symbol)


def currency() -> str:
    """The currency symbol in use (see :func:`use_currency`)."""
    return _CURRENCY.get()


def is_missing(x: Any) -> bool:
    """True for None, NA, NaN and ±inf — a *number* that is not there.

    Only for numbers (a text that is not a number counts as missing here): never use it on data
    labels such as a platform or a channel name — :func:`is_blank` and :func:`label` are for those.
    """
    if x is None or x is _NA:
        return True
    try:
        f = float(x)
    except (TypeError, ValueError):
        return True
    return math.isnan(f) or math.isinf(f)


def is_blank(v: Any) -> bool:
    """True when a data label is absent: None, NA, NaN or an empty/whitespace string."""
    if v is None or v is _NA:
        return True
    if isinstance(v, str):
        return not v.strip()
    try:
        return bool(math.isnan(float(v)))
    except (TypeError, ValueError):
        return False


def table_name(table: str, lang: str) -> str:
    """A pack table as readers name it ("活动表" / "campaigns table"); the id, quoted, when the catalogue has none."""
    from opsnb.render.i18n import has

    key = f"common.table.{table}"
    return t(key, lang) if has(key, lang) else f"“{table}”"


def label(v: Any, lang: str) -> str:
    """A value from the data as readers see it: its display name in ``lang`` when the pack names it
    (``pack.yaml`` ``labels``, :func:`opsnb.render.i18n.display_name`), else as the data has it;
    "未知" / "unknown" only when it is absent."""
    return t("common.unknown", lang) if is_blank(v) else display_name(str(v), lang)


def na(lang: str, reason: str | None = None) -> str:
    """The "not applicable" text, with its reason when given."""
    return t("common.na_reason", lang, reason=reason) if reason else t("common.na", lang)


def _grouped(x: float, digits: int) -> str:
    return f"{x:,.{digits}f}"


def number(x: Any, lang: str, *, digits: int = 0, compact: bool = True, compact_from: float = 1e5,
           signed: bool = False) -> str:
    """A count: ``12,345`` / ``1.2万`` (zh ≥ 10万) / ``123.5K`` (en ≥ 100K).

    ``compact_from`` lowers the threshold of 万 / K (a table column uses 1e4 when some of its values
    are compact, so one column has one format). ``signed``: a change, ``+1,234`` (``-`` is always shown).
    """
    if is_missing(x):
        return na(lang)
    v = float(x)
    if signed and v > 0:
        return "+" + number(v, lang, digits=digits, compact=compact, compact_from=compact_from)
    a = abs(v)
    if compact:
        if lang == "zh":
            if a >= 1e8:
                return f"{v / 1e8:,.2f}亿"
            if a >= compact_from:
                return f"{v / 1e4:,.1f}万"
        else:
            if a >= 1e9:
                return f"{v / 1e9:,.2f}B"
            if a >= 1e6:
                return f"{v / 1e6:,.2f}M"
            if a >= compact_from:
                return f"{v / 1e3:,.1f}K"
    return _grouped(v, digits)


#: Compact scales of a column, largest first: (smallest value written in it, divisor, suffix, decimals). A column
#: is written in a scale only when all its non-zero values reach the scale's divisor and its largest reaches the
#: first value (the one :func:`number` compacts from), so no column mixes ``¥5,481.63`` with ``¥14.8万``.
COLUMN_SCALES: dict[str, tuple[tuple[float, float, str, int], ...]] = {
    "zh": ((1e8, 1e8, "亿", 2), (1e5, 1e4, "万", 1)),
    "en": ((1e9, 1e9, "B", 2), (1e6, 1e6, "M", 2), (1e5, 1e3, "K", 1)),
}


@dataclass(frozen=True)
class Scale:
    """How every number of one column is written: divided by ``divisor``, ``suffix`` after it, ``digits`` decimals."""

    divisor: float = 1.0
    suffix: str = ""
    digits: int = 0

    def write(self, x: float) -> str:
        """``|x|`` in this scale, without sign or currency: ``12.3万``, ``5,482``."""
        return _grouped(abs(x) / self.divisor, self.digits) + self.suffix


def column_scale(values: Iterable[Any], unit: str, lang: str) -> Scale:
    """The one scale of a column of counts or amounts (``unit`` count or currency), chosen from its values.

    The largest scale (万/亿, K/M/B) that every non-zero value reaches, when the largest value is
    compacted by :func:`number` at all; otherwise plain grouped digits: amounts with cents when every
    amount is below 1万 / 10K, whole otherwise; counts whole. So ``¥5,481.63 / ¥14,984`` becomes
    ``¥5,482 / ¥14,984``, ``¥255.1万 / ¥3,070.79`` becomes ``¥2,551,234 / ¥3,071`` and (en)
    ``¥1.07M / ¥943.0K`` becomes ``¥1,070.3K / ¥943.0K``.
    """
    if unit not in ("count", "currency"):
        raise ValueError(f"a column scale is for count or currency, not {unit!r}")
    vals = [abs(float(v)) for v in values if not is_missing(v) and float(v) != 0]
    if not vals:
        return Scale(digits=2 if unit == "currency" else 0)
    lo, hi = min(vals), max(vals)
    for start, divisor, suffix, digits in COLUMN_SCALES.get(lang, COLUMN_SCALES["en"]):
        if hi >= start and lo >= divisor:
            return Scale(divisor, suffix, digits)
    return Scale(digits=2 if unit == "currency" and hi < 1e4 else 0)


def column(values: Sequence[Any], unit: str, lang: str, *, currency: str | None = None,
           signed: bool = False) -> list[str]:
    """Format a column (or a row of like figures) of ``unit`` in one scale and one precision (:func:`column_scale`).

    Counts and amounts share :func:`column_scale`; other units have one format already
    (:func:`value`). Missing values are "不适用" / "n/a"; ``signed``: changes, ``+¥1,234``.
    """
    if unit not in ("count", "currency"):
        out = [value(v, unit, lang, currency=currency) for v in values]
        return [("+" + s if signed and not is_missing(v) and float(v) > 0 else s) for v, s in zip(values, out, strict=True)]
    scale = column_scale(values, unit, lang)
    symbol = (_CURRENCY.get() if currency is None else currency) if unit == "currency" else ""
    out = []
    for v in values:
        if is_missing(v):
            out.append(na(lang))
            continue
        x = float(v)
        sign = "-" if x < 0 and round(abs(x) / scale.divisor, scale.digits) else "+" if signed and x > 0 else ""
        out.append(sign + symbol + scale.write(x))
    return out


def money(x: Any, lang: str, *, currency: str | None = None, compact: bool = True, compact_from: float = 1e5,
          digits: int | None = None, signed: bool = False) -> str:
    """A currency amount: ``¥235.40`` / ``¥12.3万`` / ``¥123.5K`` (the unit's currency unless given).

    Not compact, ``digits`` fixes the decimals (default: cents below 1万 / 10K, none from there);
    ``signed``: a change, ``+¥1,234.50`` (``-`` is always shown).
    """
    if is_missing(x):
        return na(lang)
    currency = _CURRENCY.get() if currency is None else currency
    v = float(x)
    sign = "-" if v < 0 else "+" if signed and v > 0 else ""
    a = abs(v)
    if compact and a >= compact_from:
        return sign + currency + number(a, lang, compact_from=compact_from)
    return sign + currency + _grouped(a, digits if digits is not None else 2 if a < 1e4 else 0)


def pct(x: Any, lang: str, *, digits: int = 1, signed: bool = False) -> str:
    """A fraction as a percentage: ``0.153`` → ``15.3%`` (``+15.3%`` when signed)."""
    if is_missing(x):
        return na(lang)
    return f"{float(x) * 100:{'+' if signed else ''}.{digits}f}%"


def pp(delta: Any, lang: str, *, digits: int = 1, signed: bool = True) -> str:
    """A change of a ratio in percentage points: ``0.03`` → ``+3.0个百分点`` / ``+3.0 pp``."""
    if is_missing(delta):
        return na(lang)
    num = f"{float(delta) * 100:{'+' if signed else ''}.{digits}f}"
    return f"{num}个百分点" if lang == "zh" else f"{num} pp"


def value(x: Any, unit: str, lang: str, *, currency: str | None = None) -> str:
    """Format ``x`` by KPI unit: count, currency, ratio, roi, hours or score."""
    if is_missing(x):
        return na(lang)
    if unit == "roi":
        return ratio_x(x, lang)
    if unit == "count":
        return number(x, lang)
    if unit == "currency":
        return money(x, lang, currency=currency)
    if unit == "ratio":
        return pct(x, lang)
    if unit == "hours":
        return f"{float(x):,.1f}小时" if lang == "zh" else f"{float(x):,.1f} h"
    if unit == "score":
        return f"{float(x):,.1f}"
    raise ValueError(f"unknown unit {unit!r}; known: count, currency, ratio, roi, hours, score")


#: Decimals of a ratio as :func:`pct` shows it (one decimal of a percent = 3 of the fraction).
SHOWN_RATIO_DIGITS = 3
#: Decimals of the ``x`` of an ROI shown as ``1:x`` (投入产出比 1:4.5).
ROI_DIGITS = 1


def shown_ratio_change(new: Any, old: Any) -> float:
    """The change between two ratios *as shown*: 21.6 % → 25.4 % is +3.8 points, whatever the raw digits,
    so a reader can check a change against the numbers beside it."""
    return round(float(new), SHOWN_RATIO_DIGITS) - round(float(old), SHOWN_RATIO_DIGITS)


def shown_difference(new: Any, old: Any, unit: str) -> float:
    """The difference of two values *as shown* in ``unit``: ratios to 0.1 % (:func:`shown_ratio_change`),
    ROI to :data:`ROI_DIGITS` decimals (1:4.5 → 1:5.1 is +0.6), other units as computed."""
    if unit == "ratio":
        return shown_ratio_change(new, old)
    if unit == "roi":
        return round(float(new), ROI_DIGITS) - round(float(old), ROI_DIGITS)
    return float(new) - float(old)


def roi_change(delta: Any, lang: str, *, signed: bool = True) -> str:
    """A change of ROI: the difference of the ``x`` of ``1:x``, ``+0.6`` (not a percentage, not points)."""
    if is_missing(delta):
        return na(lang)
    d = round(float(delta), ROI_DIGITS) + 0.0  # no "-0.0"
    return f"{d:{'+' if signed else ''}.{ROI_DIGITS}f}"


def delta(x: Any, kind: str, lang: str) -> str:
    """A computed change by its kind: ``relative`` +15.0%, ``pp`` +3.0个百分点 (ratios), ``diff`` +0.6 (ROI)."""
    if kind == "pp":
        return pp(x, lang)
    if kind == "diff":
        return roi_change(x, lang)
    if kind == "relative":
        return pct(x, lang, signed=True)
    raise ValueError(f"unknown change kind {kind!r}; known: relative, pp, diff")


def change(new: Any, old: Any, unit: str, lang: str) -> str:
    """Change from ``old`` to ``new``: relative % for volumes, percentage points for ratios, ``+0.6`` for ROI."""
    if is_missing(new) or is_missing(old):
        return na(lang)
    if unit == "ratio":
        return pp(shown_ratio_change(new, old), lang)
    if unit == "roi":
        return roi_change(shown_difference(new, old, unit), lang)
    if float(old) == 0:
        return na(lang, "基数为0" if lang == "zh" else "base is 0")
    return pct(relative_change(new, old), lang, signed=True)


def relative_change(new: Any, old: Any) -> float:
    """``(new − old) ÷ |old|``, as a reader computes a change from the two values shown (``new / old − 1`` rounds
    differently at a half: 107 against 80 is 33.75 %, shown 33.8 %, where 107/80 − 1 shows 33.7 %)."""
    return (float(new) - float(old)) / abs(float(old))


def ratio_x(x: Any, lang: str) -> str:
    """ROI as 投入产出比 ``1:x`` (``1:4.5``, GMV ÷ cost): the one display of ROI on every page, card and message.

    A KPI with unit ``roi`` is shown through it (:func:`value`); a change of ROI is the difference of
    the ``x`` (:func:`roi_change`, ``+0.6``), never a percentage or percentage points.
    """
    if is_missing(x):
        return na(lang)
    return f"1:{float(x):.{ROI_DIGITS}f}"


def p_value(x: Any, lang: str) -> str:
    """A p-value with four decimals; below 0.0001 ``< 0.0001`` (zh and en), never ``0.0000``."""
    if is_missing(x):
        return na(lang)
    v = float(x)
    return "< 0.0001" if v < 1e-4 else f"{v:.4f}"
