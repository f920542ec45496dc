"""What a run is about: its settings, pack and period, resolved in one place.

Both the batch (:func:`opsnb.batch.run`, before any kernel starts) and every section notebook
(:func:`opsnb.nb.setup`) call :func:`resolve_run`, so the two cannot disagree on how overrides
layer, where the pack is, or which period an empty ``period`` means. The period text is parsed
once, by the settings' validator (:data:`opsnb.params.ReviewPeriod`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from opsnb.errors import NoData, PeriodNotCovered
from opsnb.pack import Pack, open_pack
from opsnb.pack.url import is_url, set_aside
from opsnb.params import Settings, load_params, merge_overrides
from opsnb.paths import project_root
from opsnb.periods import Period, first_full, latest_full, latest_full_month

__all__ = ["NO_PERIOD", "RunSpec", "check_coverage", "pack_path", "resolve_run"]

#: The reason :func:`resolve_run` gives when it cannot choose a period (``NoData("events", NO_PERIOD)``).
NO_PERIOD = "the pack has no events or orders to choose a period from; pass --period"

#: The pack ``settings.pack`` names by default: generated when absent.
SAMPLE_PACK = "data/sample"


@dataclass(frozen=True)
class RunSpec:
    """A resolved run: validated settings, the opened pack (and where it is), the review period."""

    settings: Settings
    #: The pack folder or file, or a warehouse URL (without password: :func:`opsnb.pack.url.redact`).
    pack_path: Path | str
    pack: Pack
    period: Period

    @property
    def unit(self) -> str:
        return self.settings.unit

    @property
    def lang(self) -> str:
        return self.settings.lang

    @property
    def data_first_day(self) -> date | None:
        """First local day with events or orders (None: none)."""
        return self.pack.day_range()[0]

    @property
    def data_last_day(self) -> date | None:
        """Last local day with events or orders (None: none)."""
        return self.pack.day_range()[1]


def pack_path(settings: Settings, root: Path) -> Path | str:
    """The pack folder or file ``settings.pack`` names (``~`` expanded; relative to the project root), or its URL."""
    if is_url(settings.pack):
        return settings.pack
    p = Path(settings.pack).expanduser()
    return p if p.is_absolute() else root / p


def _password_aside(settings: Settings) -> Settings:
    """Settings whose pack URL carries no password: a password written in it waits in the environment.

    The kernels of a batch inherit it (:func:`opsnb.pack.url.set_aside`); the URL that goes into
    params.yaml, the notebooks' parameters, the manifest and the HTML has none.
    """
    if not is_url(settings.pack):
        return settings
    shown = set_aside(settings.pack)
    return settings if shown == settings.pack else settings.model_copy(update={"pack": shown})


def resolve_run(*, unit: str | None = None, period: str | None = None, pack: str | None = None,
                lang: str | None = None, params_file: str | Path | None = None,
                overrides: list[str] | dict[str, Any] | None = None, root: Path | None = None,
                settings: Settings | None = None, log: Callable[[str], None] | None = None) -> RunSpec:
    """Load and validate settings, open the pack (generating the default sample if absent), pick the period.

    Parameters
    ----------
    unit, period, pack, lang : str, optional
        Explicit choices (the command line's flags, a notebook's parameters); empty ones fall back to
        the settings. They win over ``overrides``.
    params_file : str or Path, optional
        Extra YAML settings layered over ``params/default.yaml`` and ``params/<unit>.yaml``.
    overrides : list of str or dict, optional
        ``--set key.path=value`` items or a nested mapping, layered over ``params_file``.
    root : Path, optional
        The project root (default :func:`opsnb.paths.project_root`); a relative pack path is under it.
    settings : Settings, optional
        Settings already validated: used as they are (the other settings arguments are ignored).
    log : callable, optional
        Told when the sample pack is being generated.

    Returns
    -------
    RunSpec
        The period is ``settings.period``, else the latest full month of the pack's data.

    Raises
    ------
    ParamsError
        Settings that fail validation (every problem at once), before the pack is touched.
    PackError
        A pack that cannot be read.
    NoData
        No explicit period and a pack without dated events or orders (``NoData("events", NO_PERIOD)``).
    """
    root = root or project_root()
    if settings is None:
        explicit = {k: v for k, v in {"period": period, "pack": pack, "lang": lang}.items() if v}
        settings = load_params(unit=unit or None, params_file=params_file or None,
                               overrides=merge_overrides(overrides, explicit), root=root)
    settings = _password_aside(settings)
    path = pack_path(settings, root)
    if isinstance(path, Path) and not path.exists() and settings.pack == SAMPLE_PACK:
        from opsnb.sample import generate

        if log is not None:
            log(f"generating the sample pack in {path} …")
        generate(path)
    unit_of = (settings.unit_column, settings.unit_value or settings.unit) if settings.unit_column else None
    opened = open_pack(path, tz=settings.timezone, unit=unit_of)  # validates and warms the cache
    from opsnb.metrics.calendar import business_calendar

    cal = business_calendar(settings)
    opened.business = None if cal.all_open else cal  # day-based rates divide by the unit's open days
    per = settings.period
    if per is None:
        last = opened.day_range()[1]
        if last is None:
            raise NoData("events", NO_PERIOD)
        per = latest_full_month(last)
    check_coverage(opened, per)
    return RunSpec(settings, path, opened, per)


def check_coverage(pack: Pack, period: Period) -> None:
    """Refuse a period the data does not cover: before its first day, after its last, or with no day of data.

    A period the data ends inside (the month in progress) is a to-date review and passes; its pages say
    how many of its days are covered. A pack without events or orders (KPI actuals only) is not judged.

    Raises
    ------
    PeriodNotCovered
        In one line: the period, why, the data's range and the latest complete period of the same kind.
    """
    first, last = pack.day_range()
    if first is None or last is None:
        return  # no events or orders (a pack of KPI actuals): nothing dated to judge the period by
    span = f"the data runs {first.isoformat()} … {last.isoformat()}"
    latest = latest_full(last, period.kind)
    hint = (f"the latest complete {period.kind} is {latest.label}" if latest.start >= first
            else f"no {period.kind} is complete in it")
    if period.start < first:
        begin = first_full(first, period.kind)
        why = f"starts before the data ({span}; the first complete {period.kind} is {begin.label}, {hint})"
    elif period.start > last:
        why = f"is after the data ({span}; {hint})"
    elif not pack.has_data_between(period.start, period.end):
        why = f"holds no day of data ({span}; {hint})"
    else:
        return
    raise PeriodNotCovered(f"period {period.label} {why}: choose another --period; nothing was run")
