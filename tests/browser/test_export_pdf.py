"""``opsnb export``: the published review printed by real Chromium to PDF (one file, summary first) and long PNGs."""

from __future__ import annotations

import html
import io
import json
import os
import re
import shutil
import time
from importlib import resources
from pathlib import Path
from typing import Any

import pytest
from PIL import Image
from pypdf import PdfReader

from opsnb.errors import OpsnbError
from opsnb.export import pdf as export_pdf
from opsnb.export.pdf import REVIEW_PDF, export_review, review_pages

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.xdist_group("browser")]

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
CSS = (resources.files("opsnb") / "export" / "templates" / "opsnb" / "opsnb.css").read_text(encoding="utf-8")
TITLE = re.compile(r"<title>(.*?)</title>", re.S)


def _title(page: Path) -> str:
    m = TITLE.search(page.read_text(encoding="utf-8"))
    assert m, f"{page} has no <title>"
    return html.unescape(m.group(1)).strip()


def _squash(text: str) -> str:
    """Extracted text without the spaces and line breaks a PDF puts between runs."""
    return re.sub(r"\s+", "", text)


def _embedded_fonts(reader: PdfReader) -> set[str]:
    """``/FontFile*`` kinds of every font on every page (descendant fonts of Type0 included)."""
    kinds: set[str] = set()
    for page in reader.pages:
        fonts = (page.get("/Resources") or {}).get("/Font") or {}
        for ref in fonts.values():
            font = ref.get_object()
            for sub in [font, *(d.get_object() for d in font.get("/DescendantFonts") or [])]:
                desc = sub.get("/FontDescriptor")
                if desc is not None:
                    kinds |= {f"{sub.get('/BaseFont')}:{k}" for k in desc.get_object() if str(k).startswith("/FontFile")}
    return kinds


@pytest.fixture(scope="module")
def exported(report: Any, metrics: dict[str, Any]) -> tuple[str, Path, list[Path], float]:
    """The session's review (per language) exported once: PDF and PNG."""
    lang, res = report
    t0 = time.perf_counter()
    files = export_review(res.out_dir, pdf=True, png=True)
    seconds = time.perf_counter() - t0
    sizes = {p.name: p.stat().st_size for p in files}
    metrics.setdefault(lang, {})["export"] = {"pages": len(review_pages(res.out_dir)), "seconds": round(seconds, 1),
                                              "bytes": sizes}
    print(f"\n[{lang}] export: {len(review_pages(res.out_dir))} pages in {seconds:.1f}s, "
          f"review.pdf {sizes[REVIEW_PDF]:,} B, PNG total {sum(v for k, v in sizes.items() if k.endswith('.png')):,} B")
    return lang, res.out_dir, files, seconds


def test_review_pdf_holds_every_page_summary_first(exported):
    lang, folder, files, _ = exported
    pages = review_pages(folder)
    assert pages[0].name == "index.html" and [p.name for p in pages[1:]] == sorted(p.name for p in pages[1:])
    expected = {folder / REVIEW_PDF, *(p.with_suffix(".pdf") for p in pages), *(p.with_suffix(".png") for p in pages)}
    assert set(files) == expected and all(p.is_file() for p in files)
    assert not list(folder.glob(".*.tmp"))

    review = PdfReader(folder / REVIEW_PDF)
    per_page = [len(PdfReader(p.with_suffix(".pdf")).pages) for p in pages]
    assert len(review.pages) == sum(per_page) > len(pages)
    # the first printed page is the summary's, and each page's bookmark is titled with the page's <title>
    summary = _title(pages[0])
    assert _squash(summary) in _squash(review.pages[0].extract_text())
    top = [item for item in review.outline if not isinstance(item, list)]
    assert [str(item.title) for item in top] == [_title(p) for p in pages]
    starts = [review.get_destination_page_number(item) for item in top]
    assert starts == [sum(per_page[:i]) for i in range(len(pages))]
    assert review.metadata is not None and review.metadata.title == summary
    if lang == "en":
        assert re.search(r"[A-Za-z]{4,}", summary), f"an English review has an English title: {summary!r}"


def test_section_links_point_inside_the_pdf(exported):
    _, folder, _, _ = exported
    review = PdfReader(folder / REVIEW_PDF)
    actions = [a.get_object()["/A"] for page in review.pages for a in page.get("/Annots") or []
               if "/A" in a.get_object()]
    assert not [a for a in actions if str(a.get("/URI", "")).startswith("file:")], "no link to a local HTML path"
    assert sum(1 for a in actions if a.get("/S") == "/GoTo") >= len(review_pages(folder)) - 1
    index = PdfReader(folder / "index.pdf")
    remote = {str(a.get_object()["/A"].get("/F")) for page in index.pages for a in page.get("/Annots") or []
              if a.get_object()["/A"].get("/S") == "/GoToR"}
    assert remote == {p.with_suffix(".pdf").name for p in review_pages(folder)[1:]}


def test_chinese_text_is_extractable_from_an_embedded_font(exported):
    lang, folder, _, _ = exported
    cards = json.loads((folder / "handoff-kpi_cards.json").read_text(encoding="utf-8"))
    facts = json.loads((folder / "facts.json").read_text(encoding="utf-8"))
    headline = [c for c in cards if c.get("headline")]
    assert headline, "the summary shows headline KPI cards"
    card = next((c for c in headline if re.search(r"[\u4e00-\u9fff]", c["label"])), headline[0])
    assert card["value"] in {f["text"] for f in facts}, "the card's value is a published fact"

    reader = PdfReader(folder / "index.pdf")
    text = _squash("".join(page.extract_text() for page in reader.pages))
    assert _squash(card["label"]) in text and _squash(card["value"]) in text
    if lang == "zh":
        assert re.search(r"[\u4e00-\u9fff]", card["label"]), card
        # Kangxi radicals (⽤ for 用) are what a CFF CJK font printed as Type3 reads back as: not searchable
        assert not re.search(r"[\u2e80-\u2fdf]", text), "CJK extracted as radicals, not ideographs"
    fonts = _embedded_fonts(reader)
    assert any(k.endswith(("/FontFile2", "/FontFile3")) for k in fonts), fonts
    if lang == "zh":
        assert any("WenQuanYi" in k or "CJK" in k for k in fonts), f"no embedded CJK font: {fonts}"


def test_kpi_cards_are_never_split_across_pages(exported):
    _, folder, _, _ = exported
    cards = json.loads((folder / "handoff-kpi_cards.json").read_text(encoding="utf-8"))
    pages = [_squash(page.extract_text()) for page in PdfReader(folder / "index.pdf").pages]
    for card in (c for c in cards if c.get("headline")):
        whole = _squash(card["label"] + card["value"] + card["target"])
        assert any(whole in page for page in pages), f"card {card['label']!r} is not whole on one page"


def test_no_heading_is_left_alone_at_the_foot_of_a_page(exported):
    _, folder, _, _ = exported
    for page in review_pages(folder):
        source = page.read_text(encoding="utf-8")
        heads = {_squash(html.unescape(re.sub(r"<[^>]+>", "", h)))
                 for h in re.findall(r'<h[1-3] class="opsnb-h"[^>]*>(.*?)</h[1-3]>', source, re.S)}
        title = _squash(_title(page))
        for number, printed in enumerate(PdfReader(page.with_suffix(".pdf")).pages, start=1):
            lines = [_squash(line) for line in printed.extract_text().splitlines()]
            body = [line for line in lines if line and title not in line and not re.fullmatch(r"\d+/\d+", line)]
            assert body and body[-1] not in heads, f"{page.name} p.{number} ends with the heading {body[-1]!r}"


def test_long_image_is_a_tall_sharp_png(exported):
    _, folder, _, _ = exported
    for page in review_pages(folder):
        png = page.with_suffix(".png")
        assert png.read_bytes()[:8] == PNG_MAGIC
        with Image.open(png) as im:
            im.verify()
        with Image.open(png) as im:
            width, height = im.size
        assert width == export_pdf.PNG_WIDTH * export_pdf.PNG_SCALE, (png.name, width)
        assert height > width, (png.name, im.size)
        if page.name == "index.html":
            assert height > 2000, im.size


# --- a synthetic review: many cards, a wide table, failures --------------------------------------------------


def _page(title: str, body: str, lang: str = "zh") -> str:
    return (f'<!DOCTYPE html><html lang="{lang}"><head><meta charset="utf-8"><title>{html.escape(title)}</title>'
            f'<style>{CSS}</style></head><body class="opsnb-report"><main>{body}</main></body></html>')


def _cards(n: int) -> str:
    cards = "".join(f'<div class="opsnb-card opsnb-status-exceeded"><div class="opsnb-card-label">指标卡{i:02d}</div>'
                    f'<div class="opsnb-card-value">数值{i:02d}</div><div class="opsnb-card-target">目标 {i}</div>'
                    f'<div class="opsnb-card-att">100.0% · 超额完成</div><div class="opsnb-card-change">▲ 环比 +{i}%</div>'
                    '</div>' for i in range(n))
    return f'<h1 class="opsnb-h" id="s">卡片压力测试</h1><h2 class="opsnb-h" id="k">核心指标</h2><div class="opsnb-cards">{cards}</div>'


def _wide_table(cols: int) -> str:
    head = "".join(f"<th>第{i}列指标名称</th>" for i in range(cols))
    rows = "".join("<tr>" + "".join(f"<td>¥{r * 1000 + i:,}.00万</td>" for i in range(cols)) + "</tr>" for r in range(8))
    return (f'<h2 class="opsnb-h" id="t">宽表</h2><div class="opsnb-table-wrap"><table class="dataframe opsnb-table">'
            f"<thead><tr>{head}</tr></thead><tbody>{rows}</tbody></table></div>")


@pytest.fixture
def synthetic(tmp_path: Path) -> Path:
    folder = tmp_path / "review"
    folder.mkdir()
    (folder / "index.html").write_text(_page("压力测试 · 2026-10", _cards(60)), encoding="utf-8")
    (folder / "02_wide.html").write_text(_page("二、宽表", _wide_table(18)), encoding="utf-8")
    (folder / "10_last.html").write_text(_page("十、最后", "<h1 class='opsnb-h' id='x'>十、最后</h1>"), encoding="utf-8")
    (folder / "notes.html").write_text(_page("not a section", "<p>x</p>"), encoding="utf-8")
    return folder


def test_cards_stay_whole_when_they_fill_several_pages(synthetic):
    files = export_review(synthetic, pdf=True, png=False)
    assert [p.name for p in review_pages(synthetic)] == ["index.html", "02_wide.html", "10_last.html"]
    assert {p.name for p in files} == {REVIEW_PDF, "index.pdf", "02_wide.pdf", "10_last.pdf"}
    pages = [_squash(p.extract_text()) for p in PdfReader(synthetic / "index.pdf").pages]
    assert len(pages) >= 3, "the stress page spans several printed pages"
    for i in range(60):
        whole = f"指标卡{i:02d}数值{i:02d}目标{i}"
        assert sum(whole in page for page in pages) == 1, f"card {i} split across pages"


def test_wide_table_is_scaled_to_the_page_not_cut(synthetic):
    export_review(synthetic, pdf=True)
    text = _squash(PdfReader(synthetic / "02_wide.pdf").pages[0].extract_text())
    last = _squash("第17列指标名称")
    assert last in text, "the last column is printed"
    assert _squash("¥7,017.00万") in text, "the last cell of the last row is printed whole"


def test_folder_without_summary_fails_clearly_and_writes_nothing(tmp_path):
    (tmp_path / "01_goals.html").write_text(_page("x", "<p>x</p>"), encoding="utf-8")
    before = sorted(p.name for p in tmp_path.iterdir())
    with pytest.raises(OpsnbError, match=r"no index\.html.*opsnb run"):
        export_review(tmp_path, pdf=True, png=True)
    assert sorted(p.name for p in tmp_path.iterdir()) == before


def test_missing_chromium_names_the_fix(synthetic, monkeypatch):
    monkeypatch.setattr(export_pdf, "CHROMIUM", synthetic / "no-chromium")
    with pytest.raises(OpsnbError, match=r"make system.*apt-get install chromium"):
        export_review(synthetic, pdf=True)
    assert not list(synthetic.glob("*.pdf")) and not list(synthetic.glob(".*.tmp"))


def test_network_requests_are_blocked_and_reported(synthetic):
    (synthetic / "02_wide.html").write_text(
        _page("fetches", '<img src="http://198.51.100.7/pixel.png" alt="">'), encoding="utf-8")
    with pytest.raises(OpsnbError, match=r"02_wide\.html tried to fetch http://198\.51\.100\.7/pixel\.png"):
        export_review(synthetic, pdf=True)
    assert not list(synthetic.glob("*.pdf")) and not list(synthetic.glob(".*.tmp"))


@pytest.mark.parametrize("where", ["_merge", "_render"])
def test_failed_export_keeps_the_previous_files_intact(synthetic, monkeypatch, where):
    export_review(synthetic, pdf=True, png=True)
    old = {p.name: p.read_bytes() for p in synthetic.iterdir() if p.suffix in {".pdf", ".png", ".html"}}
    real = getattr(export_pdf, where)
    calls = {"n": 0}

    def failing(*args: Any, **kwargs: Any) -> Any:
        calls["n"] += 1
        if calls["n"] == 2 or where == "_merge":  # mid-way: one page already rendered to a temporary file
            raise OpsnbError(f"simulated failure in {where}")
        return real(*args, **kwargs)

    monkeypatch.setattr(export_pdf, where, failing)
    with pytest.raises(OpsnbError, match="simulated failure"):
        export_review(synthetic, pdf=True, png=True)
    now = {p.name: p.read_bytes() for p in synthetic.iterdir() if p.suffix in {".pdf", ".png", ".html"}}
    assert now == old, "the previous export and the HTML are untouched"
    assert not [p.name for p in synthetic.iterdir() if p.name.startswith(".")], "no temporary file left"


def test_review_pdf_is_replaced_by_a_new_export(synthetic):
    export_review(synthetic, pdf=True)
    held = open(synthetic / REVIEW_PDF, "rb")  # a reader who has the old file open keeps reading the old file
    try:
        first = held.read()
        (synthetic / "10_last.html").unlink()
        shutil.copy(synthetic / "02_wide.html", synthetic / "03_copy.html")
        export_review(synthetic, pdf=True)
        second = PdfReader(synthetic / REVIEW_PDF)
        assert [str(i.title) for i in second.outline if not isinstance(i, list)] == \
            ["压力测试 · 2026-10", "二、宽表", "二、宽表"]
        assert os.fstat(held.fileno()).st_ino != (synthetic / REVIEW_PDF).stat().st_ino, "replaced by a rename"
        held.seek(0)
        assert held.read() == first and PdfReader(io.BytesIO(first)).pages
    finally:
        held.close()


def test_exports_from_inside_a_running_event_loop(synthetic):
    """A Jupyter kernel (or any async caller) has an asyncio loop running: Playwright's sync API refuses
    such a thread, so the export runs its browser in a thread of its own."""
    import asyncio

    async def caller() -> list[Path]:
        return export_review(synthetic, pdf=True, png=False)

    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(1) as pool:  # a thread of its own: this test worker may already run a loop
        written = pool.submit(asyncio.run, caller()).result()
    assert synthetic / REVIEW_PDF in written and len(PdfReader(synthetic / REVIEW_PDF).pages) >= 1
