"""Render a published review through headless Chromium: one PDF (summary first), a PDF and a long PNG per page.

The browser is Debian's ``/usr/bin/chromium`` driven by Playwright; nothing is downloaded and every request
other than ``file:`` and ``data:`` is aborted. One browser renders every page. Files are written next to the
HTML (``review.pdf``, ``index.pdf``, ``01_goals.pdf`` …, ``index.png`` …), each through a temporary file and
one ``os.replace`` after every page rendered, so a failed export leaves the previous files and the HTML as
they were.
"""

from __future__ import annotations

import io
import os
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlparse

from opsnb.errors import OpsnbError

CHROMIUM = Path("/usr/bin/chromium")
LAUNCH_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
               "--disable-component-update", "--disable-sync", "--font-render-hinting=none"]
REVIEW_PDF = "review.pdf"
SUMMARY = "index.html"
SECTION_PAGE = re.compile(r"^(\d+)_[\w-]+\.html$")
#: width of the long image in CSS px (x ``PNG_SCALE`` device px): a phone zooms in, tables still fit
PNG_WIDTH = 760
PNG_SCALE = 2
#: Chromium's page header/footer (inside the ``@page`` margin of the print CSS); ``title`` is the page's <title>
FOOTER = ('<div style="width:100%;padding:0 12mm;font-size:7.5px;color:#607d8b;display:flex;'
          'justify-content:space-between"><span class="title"></span>'
          '<span><span class="pageNumber"></span> / <span class="totalPages"></span></span></div>')
TIMEOUT_MS = 60_000
#: scale a table down at most this far to fit the printed width; beyond it the cells wrap
MIN_TABLE_ZOOM = 0.6

_SETTLE_JS = """async () => {
  await document.fonts.ready;
  const pending = [...document.images].filter(i => !i.complete);
  await Promise.all(pending.map(i => new Promise(r => { i.addEventListener('load', r); i.addEventListener('error', r); })));
  await Promise.all([...document.images].map(i => i.decode ? i.decode().catch(() => null) : null));
  await new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)));
  return document.title;
}"""
# A table wider than the printed column is scaled down (CSS zoom) rather than cut at the right edge.
_FIT_TABLES_JS = """(minZoom) => {
  let n = 0;
  for (const wrap of document.querySelectorAll('.opsnb-table-wrap')) {
    const t = wrap.querySelector('table');
    if (!t) continue;
    t.style.zoom = '';
    t.classList.remove('opsnb-print-squeeze');
    const room = wrap.clientWidth, need = t.scrollWidth;
    if (room > 0 && need > room + 1) {
      const z = Math.max(minZoom, room / need);
      t.style.zoom = String(z);
      if (t.getBoundingClientRect().width > room + 1) t.classList.add('opsnb-print-squeeze');
      n += 1;
    }
  }
  return n;
}"""


@dataclass
class _Pending:
    """Files rendered to temporary names, moved into place together by :meth:`commit`."""

    folder: Path
    tmps: dict[Path, Path] = field(default_factory=dict)

    def path(self, name: str) -> Path:
        target = self.folder / name
        tmp = self.folder / f".{name}.{os.getpid()}.tmp"
        self.tmps[target] = tmp
        return tmp

    def write(self, name: str, data: bytes) -> None:
        with open(self.path(name), "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())

    def commit(self) -> list[Path]:
        for target, tmp in self.tmps.items():
            os.replace(tmp, target)
        done = list(self.tmps)
        self.tmps.clear()
        return done

    def discard(self) -> None:
        for tmp in self.tmps.values():
            tmp.unlink(missing_ok=True)
        self.tmps.clear()


def review_pages(review: Path) -> list[Path]:
    """The pages of a published review in reading order: ``index.html`` then ``NN_section.html`` by number.

    Sections that were not run have no page and are simply absent.
    """
    if not (review / SUMMARY).is_file():
        raise OpsnbError(f"{review} has no {SUMMARY}: not a published review (run `opsnb run` first, "
                         "or pass the folder outputs/<unit>/<period>)")
    sections = sorted((p for p in review.iterdir() if SECTION_PAGE.match(p.name) and p.is_file()),
                      key=lambda p: (int(SECTION_PAGE.match(p.name).group(1)), p.name))  # type: ignore[union-attr]
    return [review / SUMMARY, *sections]


def export_review(review: Path, *, pdf: bool = True, png: bool = False) -> list[Path]:
    """Render a published review folder's pages through headless Chromium.

    pdf: ``review.pdf`` — every page in one file, the summary (index.html) first then the sections in order,
    with a bookmark per page (titled with the page's title) and its headings below — and one PDF per page;
    png: one long image (长图) per page (full page, device scale 2 for sharp text on phones).
    Returns the files written (inside ``review``, written atomically: tmp + rename; a failure never leaves
    half a file or damages the HTML).
    """
    folder = Path(review).resolve()  # a published period is a symlink: keep writing into the same run folder
    if not folder.is_dir():
        raise OpsnbError(f"no published review at {review}: run `opsnb run` first")
    pages = review_pages(folder)
    if not (pdf or png):
        return []
    pending = _Pending(folder)
    try:
        parts: list[tuple[str, str, bytes]] = []  # (html name, title, pdf bytes)
        for html, (title, page_pdf, page_png) in zip(pages, _render_all(pages, pdf=pdf, png=png), strict=True):
            if page_pdf is not None:
                parts.append((html.name, title, page_pdf))
            if page_png is not None:
                pending.write(html.with_suffix(".png").name, page_png)
        if parts:
            names = {name: Path(name).with_suffix(".pdf").name for name, _, _ in parts}
            for name, _, data in parts:
                pending.write(names[name], _relink(data, names))
            pending.write(REVIEW_PDF, _merge(parts))
        return [Path(review) / p.name for p in pending.commit()]  # as the caller names the folder
    finally:
        pending.discard()


def _render_all(pages: list[Path], *, pdf: bool, png: bool) -> list[tuple[str, bytes | None, bytes | None]]:
    """Every page through one browser, in a thread of its own.

    Playwright's sync API refuses to run in a thread that has an asyncio loop running (a Jupyter kernel, a
    caller's own async code, another Playwright session): a fresh thread never has one.
    """
    from concurrent.futures import ThreadPoolExecutor

    def work() -> list[tuple[str, bytes | None, bytes | None]]:
        with _browser() as browser:
            return [_render(browser, html, pdf=pdf, png=png) for html in pages]

    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="opsnb-export") as pool:
        return pool.submit(work).result()


@contextmanager
def _browser() -> Iterator[Any]:
    """One headless Chromium (Debian's) for every page of the export."""
    if not CHROMIUM.is_file():
        raise OpsnbError(f"{CHROMIUM} is missing: run `make system` (or `apt-get install chromium`) to export "
                         "PDF and PNG; opsnb never downloads a browser")
    try:
        from playwright.sync_api import Error as PlaywrightError
        from playwright.sync_api import sync_playwright
    except ImportError:
        raise OpsnbError("Playwright is not installed: run `pip install playwright` (no browser download needed, "
                         f"opsnb uses {CHROMIUM})") from None
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=LAUNCH_ARGS)
            try:
                yield browser
            finally:
                browser.close()
    except PlaywrightError as exc:
        raise OpsnbError(f"Chromium failed while exporting: {exc}") from exc


def _render(browser: Any, html: Path, *, pdf: bool, png: bool) -> tuple[str, bytes | None, bytes | None]:
    """(title, PDF, PNG) of one page, each rendered in a fresh, offline context."""
    from playwright.sync_api import Error as PlaywrightError

    url = html.as_uri()
    blocked: list[str] = []

    def _route(route: Any) -> None:
        if route.request.url.startswith(("file:", "data:", "about:")):
            route.continue_()
        else:
            blocked.append(route.request.url)
            route.abort()

    title = html.stem
    out_pdf = out_png = None
    try:
        if pdf:
            ctx = browser.new_context(viewport={"width": 794, "height": 1123}, service_workers="block")
            try:
                ctx.route("**/*", _route)
                page = _open(ctx, url)
                title = page.title() or title
                page.emulate_media(media="print")
                page.evaluate(_FIT_TABLES_JS, MIN_TABLE_ZOOM)
                out_pdf = page.pdf(print_background=True, prefer_css_page_size=True, outline=True, tagged=True,
                                   display_header_footer=True, header_template="<span></span>",
                                   footer_template=FOOTER, margin={"top": "14mm", "bottom": "16mm",
                                                                   "left": "12mm", "right": "12mm"})
            finally:
                ctx.close()
        if png:
            ctx = browser.new_context(viewport={"width": PNG_WIDTH, "height": 1200}, device_scale_factor=PNG_SCALE,
                                      service_workers="block")
            try:
                ctx.route("**/*", _route)
                page = _open(ctx, url)
                title = page.title() or title
                page.evaluate(_FIT_TABLES_JS, MIN_TABLE_ZOOM)  # an image cannot scroll sideways
                out_png = page.screenshot(full_page=True, type="png", animations="disabled")
            finally:
                ctx.close()
    except PlaywrightError as exc:
        raise OpsnbError(f"Chromium could not render {html}: {exc}") from exc
    if blocked:
        raise OpsnbError(f"{html.name} tried to fetch {blocked[0]} (blocked: published pages must be self-contained; "
                         "re-export them with `opsnb run`)")
    return title, out_pdf, out_png


def _open(ctx: Any, url: str) -> Any:
    page = ctx.new_page()
    page.set_default_timeout(TIMEOUT_MS)
    page.goto(url, wait_until="load")
    page.evaluate(_SETTLE_JS)
    return page


def _relink(data: bytes, names: dict[str, str]) -> bytes:
    """A page PDF whose links to sibling pages (``01_goals.html``) open the sibling PDF instead of a local path."""
    from pypdf import PdfReader, PdfWriter
    from pypdf.generic import DictionaryObject, NameObject, TextStringObject

    reader = PdfReader(io.BytesIO(data))
    if not any(_sibling(a["/A"]["/URI"], names) for page in reader.pages for a in _links(page)):
        return data  # nothing to relink: Chromium's bytes as they are
    writer = PdfWriter(reader, incremental=True)  # appends the changed annotations; the rest is not rewritten
    for page in writer.pages:
        for annot in _links(page):
            target = _sibling(annot["/A"]["/URI"], names)
            if target is not None:
                annot[NameObject("/A")] = DictionaryObject({
                    NameObject("/S"): NameObject("/GoToR"), NameObject("/F"): TextStringObject(names[target]),
                    NameObject("/D"): _fit_dest(0), NameObject("/NewWindow"): _false()})
    buf = io.BytesIO()
    writer.write(buf)
    return buf.getvalue()


def _merge(parts: list[tuple[str, str, bytes]]) -> bytes:
    """One PDF of every page, a bookmark per page (its title) with its headings below; links between pages kept."""
    from pypdf import PdfReader, PdfWriter
    from pypdf.generic import ArrayObject, DictionaryObject, NameObject

    writer = PdfWriter()
    first: dict[str, Any] = {}  # html name → first page object in the merged file
    for name, title, data in parts:
        reader = PdfReader(io.BytesIO(data))
        start = len(writer.pages)
        writer.append(reader, import_outline=False)
        first[name] = writer.pages[start].indirect_reference
        parent = writer.add_outline_item(title=title, page_number=start)
        _copy_outline(writer, reader, reader.outline, parent, start, title)
    for page in writer.pages:
        for annot in _links(page):
            target = _sibling(annot["/A"]["/URI"], {k: k for k in first})
            if target is not None:
                annot[NameObject("/A")] = DictionaryObject({
                    NameObject("/S"): NameObject("/GoTo"),
                    NameObject("/D"): ArrayObject([first[target], NameObject("/Fit")])})
    writer.add_metadata({"/Title": parts[0][1], "/Creator": "opsnb"})
    writer.page_mode = "/UseOutlines"
    buf = io.BytesIO()
    writer.write(buf)
    return buf.getvalue()


def _copy_outline(writer: Any, reader: Any, items: list[Any], parent: Any, start: int, title: str) -> None:
    """Chromium's heading outline of one page under that page's bookmark (its own <h1>, the title, skipped)."""
    from pypdf.generic import Fit

    last = None
    for item in items:
        if isinstance(item, list):
            if last is not None:
                _copy_outline(writer, reader, item, last, start, title)
            else:
                _copy_outline(writer, reader, item, parent, start, title)
            continue
        number = reader.get_destination_page_number(item)
        if number is None or number < 0:
            continue
        if str(item.title).strip() == title.strip():
            last = None  # its children go straight under the page's bookmark
            continue
        top = item.get("/Top")
        fit = Fit.xyz(top=float(top)) if top is not None else Fit.fit()
        last = writer.add_outline_item(title=str(item.title), page_number=start + number, parent=parent, fit=fit)


def _links(page: Any) -> Iterator[Any]:
    for ref in page.get("/Annots") or []:
        annot = ref.get_object()
        action = annot.get("/A")
        if annot.get("/Subtype") == "/Link" and action is not None and action.get("/S") == "/URI":
            yield annot


def _sibling(uri: Any, names: dict[str, str]) -> str | None:
    """The sibling page a ``file:`` link points at (``…/01_goals.html`` or ``…/01_goals.html#x``), if any."""
    parsed = urlparse(str(uri))
    if parsed.scheme != "file":
        return None
    name = Path(unquote(parsed.path)).name
    return name if name in names else None


def _fit_dest(page_number: int) -> Any:
    from pypdf.generic import ArrayObject, NameObject, NumberObject

    return ArrayObject([NumberObject(page_number), NameObject("/Fit")])


def _false() -> Any:
    from pypdf.generic import BooleanObject

    return BooleanObject(False)
