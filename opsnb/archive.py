"""What readers can walk: the archive page, the links between reviews, and a check of everything published.

* :func:`refresh` — after a publish: the links of the review just published and of its neighbours
  (previous and next period, the other languages, the group page of the period), then the archive page
  ``outputs/index.html`` (every unit × period × language, with its status), written atomically;
* :func:`check` — every published review whole: its pages, every link on them, its facts, and the archive.

Links are relative (``../2026-09/index.html``, ``../../index.html``), so the ``outputs`` folder can be
copied or served anywhere and opened offline. Only a review's own pages and its neighbours' index pages
are rewritten, each through one ``os.replace``; the nav block sits between ``<!--opsnb-nav-->`` markers
that the export template leaves empty.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from importlib import resources
from pathlib import Path
from urllib.parse import quote, unquote, urlsplit

from opsnb import facts as _facts
from opsnb import runfolder as rf
from opsnb.params import ParamsError, load_params
from opsnb.paths import GROUP, outputs_dir
from opsnb.periods import Period
from opsnb.render.i18n import t
from opsnb.render.ui import esc

__all__ = ["NAV_CLOSE", "NAV_OPEN", "Review", "build_archive", "check", "refresh", "reviews"]

NAV_OPEN, NAV_CLOSE = "<!--opsnb-nav-->", "<!--/opsnb-nav-->"
_NAV = re.compile(re.escape(NAV_OPEN) + ".*?" + re.escape(NAV_CLOSE), re.S)
_HREF = re.compile(r'<a\b[^>]*\bhref="([^"]*)"', re.I)
_LANG_NAMES = {"zh": "中文", "en": "English"}


@dataclass(frozen=True)
class Review:
    """One published review: a unit's (or the group's) link ``name`` under ``outputs/<unit>/``."""

    unit: str
    name: str
    period: str
    lang: str
    run: rf.RunInfo

    @property
    def folder(self) -> str:
        """Its folder relative to ``outputs/`` (what links name)."""
        return f"{self.unit}/{self.name}"

    @property
    def span(self) -> Period:
        return Period.parse(self.period)


def reviews(outputs: Path) -> list[Review]:
    """Every published review under ``outputs`` (the units' and the group's), by unit then period."""
    out: list[Review] = []
    for unit_dir in [*rf.units_of(outputs), outputs / GROUP]:
        for name, target in sorted(rf.published(unit_dir).items()):
            parsed = rf.parse_published_name(name)
            if parsed is None:
                continue
            info = rf.read_run(target, parsed[0])
            lang = info.lang or parsed[1] or "zh"
            out.append(Review(unit_dir.name, name, parsed[0], lang, info))
    return sorted(out, key=lambda r: (r.unit == GROUP, r.unit, r.span, r.lang))


def _lang_of_workbook(root: Path) -> str:
    try:
        return load_params(root=root).lang
    except ParamsError:
        return "zh"


# ---------------------------------------------------------------- links between reviews


def _pick(found: list[Review], lang: str) -> Review | None:
    """The review in ``lang`` among ``found``, else the first (another language is better than none)."""
    same = [r for r in found if r.lang == lang]
    pool = same or found
    return pool[0] if pool else None


def nav_links(review: Review, everything: list[Review]) -> list[tuple[str, str]]:
    """The links a review's pages carry: previous and next period, other languages, group page, archive."""
    lang = review.lang
    mine = [r for r in everything if r.unit == review.unit]
    links: list[tuple[str, str]] = []
    span = review.span
    for which, other in (("prev", span.previous()), ("next", span.next())):
        hit = _pick([r for r in mine if r.period == other.label], lang)
        if hit is not None:
            links.append((f"../{quote(hit.name)}/index.html", t(f"archive.nav.{which}", lang, period=other.label)))
    for r in mine:
        if r.period == review.period and r.lang != lang:
            links.append((f"../{quote(r.name)}/index.html", _LANG_NAMES.get(r.lang, r.lang)))
    if review.unit != GROUP:
        group = _pick([r for r in everything if r.unit == GROUP and r.period == review.period], lang)
        if group is not None:
            links.append((f"../../{GROUP}/{quote(group.name)}/index.html", t("archive.nav.group", lang)))
    links.append(("../../index.html", t("archive.nav.archive", lang)))
    return links


def nav_html(links: list[tuple[str, str]]) -> str:
    """The nav block's inner HTML (escaped), between its markers."""
    inner = "".join(f'<a href="{esc(href)}">{esc(text)}</a>' for href, text in links)
    return f"{NAV_OPEN}{inner}{NAV_CLOSE}"


def write_nav(folder: Path, block: str, pages: list[str] | None = None) -> int:
    """Put ``block`` into the nav slot of ``pages`` (default: every page) of ``folder``; returns pages changed."""
    changed = 0
    names = pages if pages is not None else sorted(p.name for p in folder.glob("*.html"))
    for name in names:
        page = folder / name
        try:
            html = page.read_text(encoding="utf-8")
        except OSError:
            continue
        new = _NAV.sub(lambda _m: block, html, count=1)
        if new != html:
            rf.atomic_write_text(page, new)
            changed += 1
    return changed


def refresh(root: Path, *, unit: str, period: str, log: Callable[[str], None] | None = None) -> Path:
    """After ``unit`` published ``period``: its links and its neighbours', then the archive page. Returns the page.

    Every page of the unit's reviews of ``period`` (each language: the one just published and the others, which
    now link to it) gets its links, and so does every page of the units' reviews of the period after a group publish;
    the index pages of the previous and next period get theirs updated. Serialised by a
    lock on ``outputs/``, so two publishes never interleave their rewrites.
    """
    outputs = outputs_dir(root)
    with rf.Lock(outputs / ".archive.lock", wait=True, log=log or (lambda m: None)):
        everything = reviews(outputs)
        span = Period.parse(period)
        near = {span.previous().label, span.next().label}
        for r in everything:
            # every page of the period's reviews (each language links the others); the index page of the
            # neighbouring periods and, after a group publish, of the units' reviews of that period
            own = r.unit == unit and r.period == period
            # a group publish links every page of the units' reviews of the period to it (each page carries the
            # same links, whichever way the unit's pages were published: a reader moves from any of them)
            every = own or (unit == GROUP and r.period == period)
            if every or (r.unit == unit and r.period in near):
                write_nav(r.run.path, nav_html(nav_links(r, everything)), None if every else [rf.INDEX])
        return build_archive(root, everything)


# ---------------------------------------------------------------- the archive page


def _status(r: Review, lang: str) -> tuple[str, str]:
    """A review's status in words, and its class (ok, warn, bad)."""
    m = r.run.manifest
    secs = [s for s in m.get("sections", []) if s.get("section") != "summary"]
    failed = [s for s in secs if s.get("status") == "failed"]
    stale = [s for s in secs if s.get("stale")]
    missing = [s for s in secs if not s.get("html")]
    parts = []
    if failed:
        parts.append(t("archive.status.failed", lang, n=len(failed)))
    if missing:
        parts.append(t("archive.status.missing", lang, n=len(missing)))
    if stale:
        parts.append(t("archive.status.stale", lang, n=len(stale)))
    if not parts:
        return t("archive.status.complete", lang), "ok"
    return ("; " if lang == "en" else "；").join(parts), "bad" if failed or missing else "warn"


def _when(text: str) -> str:
    try:
        return datetime.fromisoformat(text).strftime("%Y-%m-%d %H:%M UTC")
    except ValueError:
        return text


def archive_html(everything: list[Review], lang: str) -> str:
    """The archive page: a table per unit (and the group), newest period first, each review linked."""
    css = (resources.files("opsnb") / "export" / "templates" / "opsnb" / "opsnb.css").read_text(encoding="utf-8")
    title = t("archive.title", lang)
    units = sorted({r.unit for r in everything}, key=lambda u: (u == GROUP, u))
    groups = sum(r.unit == GROUP for r in everything)
    purpose = t("archive.purpose_group" if groups else "archive.purpose", lang, n=len(everything) - groups,
                units=len([u for u in units if u != GROUP]), groups=groups)
    body = [f'<h1 class="opsnb-h" id="archive">{esc(title)}</h1>', f'<p class="opsnb-purpose">{esc(purpose)}</p>']
    if not everything:
        body.append(f'<div class="opsnb-note opsnb-note-info">{esc(t("archive.empty", lang))}</div>')
    head = "".join(f"<th>{esc(t(f'archive.col.{c}', lang))}</th>" for c in ("period", "lang", "status", "published"))
    for unit in units:
        name = t("archive.group", lang) if unit == GROUP else unit
        rows = []
        for r in sorted((r for r in everything if r.unit == unit), key=lambda r: (r.span, r.lang), reverse=True):
            text, cls = _status(r, lang)
            href = f"{quote(r.unit)}/{quote(r.name)}/index.html"
            rows.append(f'<tr><td><a href="{esc(href)}">{esc(r.period)}</a></td>'
                        f"<td>{esc(_LANG_NAMES.get(r.lang, r.lang))}</td>"
                        f'<td class="opsnb-archive-{cls}">{esc(text)}</td>'
                        f"<td>{esc(_when(r.run.finished_at))}</td></tr>")
        body.append(f'<h2 class="opsnb-h" id="{esc(quote(unit))}">{esc(name)}</h2>'
                    f'<div class="opsnb-table-wrap"><table class="opsnb-table opsnb-archive"><thead><tr>{head}</tr>'
                    f"</thead><tbody>{''.join(rows)}</tbody></table></div>")
    extra = (".opsnb-archive-ok { color:var(--good); } .opsnb-archive-warn { color:#a66f00; } "
             ".opsnb-archive-bad { color:var(--bad); } table.opsnb-archive td, table.opsnb-archive th { text-align:left; }")
    return (f'<!DOCTYPE html>\n<html lang="{esc(lang)}"><head><meta charset="utf-8">'
            f'<meta name="viewport" content="width=device-width, initial-scale=1"><title>{esc(title)}</title>'
            f"<style>{css}\n{extra}</style></head>"
            f'<body class="opsnb-report"><header class="opsnb-header"><div class="opsnb-brand">opsnb</div></header>'
            f"<main>{''.join(body)}</main></body></html>\n")


def build_archive(root: Path, everything: list[Review] | None = None) -> Path:
    """Write ``outputs/index.html`` (atomically) in the workbook's language; returns its path."""
    outputs = outputs_dir(root)
    page = outputs / rf.INDEX
    rf.atomic_write_text(page, archive_html(everything if everything is not None else reviews(outputs),
                                            _lang_of_workbook(root)))
    return page


# ---------------------------------------------------------------- checking what is published


def _local_target(page: Path, folder_link: Path, href: str) -> Path | None:
    """The file a relative link on ``page`` opens, resolved from the published link as a browser does."""
    parts = urlsplit(href)
    if parts.scheme or parts.netloc or href.startswith(("#", "mailto:", "data:")):
        return None
    if not parts.path:
        return None
    return Path(_normpath(folder_link / unquote(parts.path)))


def _normpath(p: Path) -> str:
    import os

    return os.path.normpath(str(p))


def check(outputs: Path) -> list[str]:
    """Every problem a reader of ``outputs`` would meet; empty when everything published is whole.

    Per published review: it resolves to a finished run folder with its index page; every section the manifest
    lists with a page has it; every relative link on every page opens a file (resolved from the published link,
    as a browser does); ``facts.json`` holds as many facts as the manifest says, with the conflicts it lists.
    And the archive page lists every review.
    """
    problems: list[str] = []
    everything = reviews(outputs)
    for unit_dir in [*rf.units_of(outputs), outputs / GROUP]:
        for p in unit_dir.iterdir() if unit_dir.is_dir() else []:
            if p.is_symlink() and not p.exists() and rf.parse_published_name(p.name) is not None:
                problems.append(f"{unit_dir.name}/{p.name}: a published link that points nowhere")
    for r in everything:
        where = r.folder
        link = outputs / r.unit / r.name
        if not r.run.finished:
            problems.append(f"{where}: the run it shows never finished (no manifest.json)")
            continue
        if not (link / rf.INDEX).is_file():
            problems.append(f"{where}: no index.html")
        for s in r.run.manifest.get("sections", []):
            html = s.get("html")
            if html and (s.get("status") in rf.SHOWN or s.get("carried_from")) and not (link / html).is_file():
                problems.append(f"{where}: section {s.get('section')} is listed with page {html}, which is missing")
        for page in sorted(link.glob("*.html")):
            for href in _HREF.findall(page.read_text(encoding="utf-8", errors="replace")):
                target = _local_target(page, link, href)
                if target is not None and not target.exists():
                    problems.append(f"{where}/{page.name}: link {href} opens nothing")
        if r.unit != GROUP:
            problems += _check_facts(link, r.run.manifest, where)
    archive = outputs / rf.INDEX
    if everything and not archive.is_file():
        problems.append("index.html: the archive page is missing")
    elif everything:
        listed = set(_HREF.findall(archive.read_text(encoding="utf-8")))
        for r in everything:
            if f"{quote(r.unit)}/{quote(r.name)}/index.html" not in listed:
                problems.append(f"index.html: the archive does not list {r.folder}")
    return problems


def _check_facts(link: Path, manifest: dict[str, object], where: str) -> list[str]:
    path = link / _facts.FILE
    if not path.is_file():
        return [f"{where}: no {_facts.FILE}"]
    try:
        shown = _facts.load(path)
    except (OSError, ValueError, TypeError) as exc:
        return [f"{where}: {_facts.FILE} unreadable ({exc})"]
    said = manifest.get("facts") or {}
    out = []
    if isinstance(said, dict) and said.get("count") != len(shown):
        out.append(f"{where}: {_facts.FILE} holds {len(shown)} facts, the manifest says {said.get('count')}")
    clashes = _facts.describe(_facts.conflicts(shown))
    if isinstance(said, dict) and sorted(clashes) != sorted(said.get("conflicts") or []):
        out.append(f"{where}: the facts' conflicts differ from the manifest's")
    return out
