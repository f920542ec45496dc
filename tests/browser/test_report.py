"""The exported report in a real browser: offline, no errors, working links, CJK glyphs, printable."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from opsnb.params import NOTEBOOKS, SECTIONS, Settings

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.xdist_group("browser")]

PAGES = ["index.html", *(NOTEBOOKS[s].replace(".ipynb", ".html") for s in SECTIONS)]
PDF_PAGE = re.compile(rb"/Type\s*/Page\b")
PDF_FONT = re.compile(rb"/(?:FontName|BaseFont)\s*/(?:[A-Z]{6}\+)?([A-Za-z0-9_.-]+)")  # subset tag dropped
CJK = re.compile(r"[\u4e00-\u9fff]")
#: code points no font has a glyph for (unassigned, or private use in plane 16): drawn as the missing-glyph box
MISSING = ["\u0378", "\U0003fffd", "\U0010fffd"]
CELL = 64  # px: glyph cells on whole pixels, so identical glyphs give identical pixels


@pytest.mark.parametrize("name", PAGES)
def test_page_is_offline_and_error_free(report, open_page, name):
    lang, res = report
    page, log = open_page(res.out_dir / name)
    assert page.locator("h1").first.is_visible()
    assert page.evaluate("document.documentElement.lang") == lang
    assert log.page_errors == []
    assert log.console_errors == []
    assert log.requests[0] == log.url
    assert log.foreign_requests == [], "a self-contained report requests nothing"
    assert page.query_selector_all("script") == []
    assert page.query_selector_all("iframe, object, embed, link[rel=stylesheet], img[src^=http]") == []


@pytest.mark.parametrize("name", PAGES)
def test_table_of_contents_links_scroll_to_their_heading(report, open_page, name):
    _, res = report
    page, log = open_page(res.out_dir / name)
    hrefs = page.eval_on_selector_all("nav.opsnb-toc a", "els => els.map(e => e.getAttribute('href'))")
    assert len(hrefs) >= 3
    missing = [h for h in hrefs if not page.evaluate("id => document.getElementById(id) !== null", h[1:])]
    assert missing == [], "every table-of-contents entry points at a heading"
    target = hrefs[-1]  # the last one: the page has to scroll to show it
    assert page.evaluate("() => window.scrollY") == 0
    page.locator(f'nav.opsnb-toc a[href="{target}"]').click()
    page.wait_for_function("h => location.hash === h", arg=target)
    top, height, scrolled = page.evaluate(
        "id => [document.getElementById(id).getBoundingClientRect().top, window.innerHeight, window.scrollY]",
        target[1:])
    assert -2 <= top < height and scrolled > 0, (top, height, scrolled)  # sub-pixel scroll positions
    assert page.locator(target).is_visible()
    assert log.foreign_requests == [] and log.page_errors == []


def test_index_shows_headline_kpi_cards(report, open_page):
    lang, res = report
    page, _ = open_page(res.out_dir / "index.html")
    cards = page.locator(".opsnb-card")
    expected = [k.label(lang) for k in Settings().goals.kpis if k.headline]
    assert cards.count() == len(expected)
    assert page.locator(".opsnb-card-label").all_inner_texts() == expected
    for i in range(cards.count()):
        card = cards.nth(i)
        assert card.is_visible()
        box = card.bounding_box()
        assert box is not None and box["width"] > 100 and box["height"] > 50
        assert re.search(r"\d", card.locator(".opsnb-card-value").inner_text())
    assert page.locator(".opsnb-card").first.bounding_box()["y"] < 900, "cards are above the fold"


def test_index_links_open_every_section(report, open_page):
    _, res = report
    page, log = open_page(res.out_dir / "index.html")
    hrefs = page.eval_on_selector_all("ul.opsnb-links a", "els => els.map(e => e.getAttribute('href'))")
    assert sorted(hrefs) == sorted(PAGES[1:])
    first = hrefs[0]
    page.locator(f'ul.opsnb-links a[href="{first}"]').click()
    page.wait_for_load_state("load")
    assert page.url == (res.out_dir / first).resolve().as_uri()
    assert page.locator("h1").first.is_visible()
    assert [u for u in log.foreign_requests if u != page.url] == [] and log.page_errors == []


def _glyph_cells(page: Any, chars: list[str]) -> list[bytes]:
    """Screenshots of ``chars``, each drawn alone in a whole-pixel cell in the h1's font."""
    page.evaluate(
        """([chars, cell]) => {
          const cs = getComputedStyle(document.querySelector('h1'));
          const strip = document.createElement('div');
          strip.id = 'glyph-strip';
          Object.assign(strip.style, {position: 'absolute', left: '0px', top: '0px', zIndex: 9999,
                                      width: (cell * chars.length) + 'px', height: cell + 'px', background: '#fff'});
          chars.forEach((c, i) => {
            const s = document.createElement('div');
            s.textContent = c;
            s.className = 'glyph-cell';
            Object.assign(s.style, {position: 'absolute', left: (i * cell) + 'px', top: '0px', width: cell + 'px',
              height: cell + 'px', paddingLeft: '8px', fontFamily: cs.fontFamily, fontWeight: cs.fontWeight,
              fontSize: '40px', lineHeight: cell + 'px', color: '#000', background: '#fff', overflow: 'hidden'});
            strip.appendChild(s);
          });
          document.body.appendChild(strip);
          window.scrollTo(0, 0);
        }""", [chars, CELL])
    cells = page.locator("#glyph-strip .glyph-cell")
    shots = [cells.nth(i).screenshot(animations="disabled") for i in range(len(chars))]
    page.evaluate("() => document.getElementById('glyph-strip').remove()")
    return shots


@pytest.mark.parametrize("report", ["zh"], indirect=True)  # the Chinese report only
def test_chinese_text_is_drawn_with_real_glyphs_not_tofu(report, open_page, metrics):
    """Chinese headings are drawn with CJK glyphs, not missing-glyph boxes ("tofu").

    A font without a glyph draws its ``.notdef`` box, and that box is the same for *every* missing
    character. So, in the report's own h1 font stack (the page's computed font-family, fallbacks
    included), each glyph is drawn alone in a cell placed on whole pixels, and we compare pixels:

    1. control: three code points no font covers (unassigned U+0378 and U+3FFFD, plane-16 private use
       U+10FFFD) must give identical screenshots — this proves the method can see tofu at all (if it
       fails, the test is wrong, not the report);
    2. the distinct Chinese characters of the report's real h1 must each differ from that tofu cell,
       and from each other (tofu would make them all equal).

    Comparing against a font-family without CJK would prove nothing: the browser falls back to any
    installed CJK font. Finally the real heading is screenshotted before and after replacing its
    Chinese characters by a missing code point (same element, same place), and the two must differ.
    """
    _, res = report
    page, _ = open_page(res.out_dir / "index.html")
    heading = page.locator("h1").first.inner_text()
    han = list(dict.fromkeys(CJK.findall(heading)))[:6]
    assert len(han) >= 3, heading
    shots = _glyph_cells(page, [*MISSING, *han])
    tofu, glyphs = shots[: len(MISSING)], shots[len(MISSING):]
    assert len(set(tofu)) == 1, "premise: every missing glyph is drawn as the same box"
    assert [g == tofu[0] for g in glyphs] == [False] * len(han), f"tofu in {heading!r}"
    assert len(set(glyphs)) == len(han), "distinct characters have distinct glyphs"

    h1 = page.locator("h1").first
    real = h1.screenshot()
    page.evaluate("([m]) => { const h = document.querySelector('h1');"
                  " h.textContent = h.textContent.replace(/[\\u4e00-\\u9fff]/g, m); }", [MISSING[-1]])
    boxed = h1.screenshot()
    assert real != boxed
    metrics.setdefault("zh", {})["glyph_check"] = {"heading": heading, "chars": "".join(han),
                                                   "heading_png_bytes": len(real), "tofu_png_bytes": len(boxed)}


@pytest.mark.parametrize("name", PAGES)
def test_prints_to_pdf_and_screenshots(report, open_page, metrics, name):
    lang, res = report
    page, log = open_page(res.out_dir / name)
    shot = page.screenshot(full_page=True, type="png")
    assert shot[:8] == b"\x89PNG\r\n\x1a\n" and len(shot) > 20_000
    page.emulate_media(media="print")
    pdf = page.pdf(format="A4", print_background=True)
    assert pdf.startswith(b"%PDF-")
    pages = len(PDF_PAGE.findall(pdf))
    assert 1 <= pages <= 60, pages
    fonts = sorted({m.decode() for m in PDF_FONT.findall(pdf)})
    if lang == "zh":
        assert any("CJK" in f or "SC" in f or "Hei" in f or "Song" in f for f in fonts), fonts
    assert log.foreign_requests == [] and log.page_errors == [] and log.console_errors == []
    entry = {"pdf_pages": pages, "pdf_bytes": len(pdf), "screenshot_bytes": len(shot),
             "html_bytes": Path(res.out_dir / name).stat().st_size, "pdf_fonts": fonts}
    metrics.setdefault(lang, {})[name] = entry
    print(f"\n[{lang}] {name}: PDF {pages} pages ({len(pdf):,} B), full-page screenshot {len(shot):,} B, "
          f"HTML {entry['html_bytes']:,} B, fonts {', '.join(fonts)}")
