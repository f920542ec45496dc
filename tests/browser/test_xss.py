"""Data is text, never markup: hostile strings in the pack, params and commentary reach every page as text.

The sample pack is edited so that markup and template syntax travel through every table a section
shows (campaign name and owner, action title and owner, a channel renamed in every table, content
titles, feedback categories, risk names), a KPI label in the settings, and one commentary file per
section. The report must show those strings verbatim, never run them: no dialog, no ``<img src=x>``
element, no ``<script>`` anywhere, and ``{{7*7}}`` never turned into 49.
"""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd
import pytest

from opsnb.params import NOTEBOOKS
from opsnb.periods import Period

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.xdist_group("browser")]

SCRIPT = "<script>alert(1)</script>"
IMG = "<img src=x onerror=alert(1)>"
TD = "</td>"
TPL = "{{7*7}}"
PAYLOADS = (SCRIPT, IMG, TD, TPL)
CHANNEL = "小红书"
EVIL_CHANNEL = f"{CHANNEL}{TD}{IMG}{TPL}"
KPI_LABEL = f"GMV{SCRIPT}"
COMMENTARY = f"""分析师点评 {TPL}

- 脚本：{SCRIPT}
- 图片：{IMG}
- 表格：{TD}

<div onmouseover="alert(1)">raw html block</div>

[link](javascript:alert(1))
"""
UNIT = "xss"
LANG = "zh"


def _suffix(df: pd.DataFrame, col: str, payload: str) -> pd.DataFrame:
    df[col] = df[col].astype("string") + payload
    return df


def _inject(root: Path) -> dict[str, set[str]]:
    """Edit the pack, params and commentary; returns each field's injected strings."""
    pack = root / "pack"
    fields: dict[str, set[str]] = {}

    def csv(name: str, edits: dict[str, str]) -> None:
        path = pack / f"{name}.csv"
        df = pd.read_csv(path, dtype=str, keep_default_na=False)
        for col, payload in edits.items():
            df[col] = df[col] + payload
            fields[f"{name}.{col}"] = set(df[col])
        df.to_csv(path, index=False, lineterminator="\n", encoding="utf-8")

    csv("campaigns", {"name": f" {SCRIPT}", "owner": f" {IMG}"})
    csv("actions", {"title": f" {TPL}", "owner": f" {TD}"})
    csv("content", {"title": f"{TPL}{SCRIPT}"})
    csv("feedback", {"category": IMG})
    csv("risks", {"risk": f"{TD}{TPL}"})

    # one channel renamed everywhere it appears (Parquet and CSV tables; campaigns list channels with "+")
    for name in ("users", "orders", "touchpoints", "events"):
        path = pack / f"{name}.parquet"
        df = pd.read_parquet(path)
        assert (df["channel"] == CHANNEL).any(), name
        df["channel"] = df["channel"].mask(df["channel"] == CHANNEL, EVIL_CHANNEL)
        df.to_parquet(path, index=False)
    for name in ("channel_spend", "content", "campaigns"):
        path = pack / f"{name}.csv"
        df = pd.read_csv(path, dtype=str, keep_default_na=False)
        df["channel"] = df["channel"].map(lambda v: "+".join(EVIL_CHANNEL if c == CHANNEL else c for c in v.split("+")))
        assert df["channel"].str.contains(EVIL_CHANNEL, regex=False).any(), name
        df.to_csv(path, index=False, lineterminator="\n", encoding="utf-8")
    fields["channel"] = {EVIL_CHANNEL}

    # a KPI label in the settings (the copied params/default.yaml)
    default = root / "params" / "default.yaml"
    text = default.read_text(encoding="utf-8")
    assert "label: {zh: GMV, en: GMV}" in text
    default.write_text(text.replace("label: {zh: GMV, en: GMV}", f'label: {{zh: "{KPI_LABEL}", en: "{KPI_LABEL}"}}', 1),
                       encoding="utf-8")
    fields["kpi.label"] = {KPI_LABEL}
    # feedback categories reach the report through service problems: judge every category, on any base, flag them all
    (root / "params" / f"{UNIT}.yaml").write_text("min_base: 1\nproblems: {service_min_tickets: 1, satisfaction_min: 5.0}\n",
                                                  encoding="utf-8")

    period = Period.parse("2026-10").label  # the sample's latest full month (the batch's default period)
    folder = root / "params" / "commentary" / UNIT / period
    folder.mkdir(parents=True)
    for section in NOTEBOOKS:
        (folder / f"{section}.md").write_text(f"{section}: {COMMENTARY}", encoding="utf-8")
    return fields


@pytest.fixture(scope="module")
def hostile(tmp_path_factory: pytest.TempPathFactory, new_project, run_review):
    root = new_project(tmp_path_factory.mktemp("xss") / "proj", copy_params=True)
    fields = _inject(root)
    res = run_review(root, LANG, UNIT)
    assert res.period == "2026-10"
    return res, fields


def _inspect(page) -> dict:
    """What a loaded page shows and did; ``page.on`` handlers must already record dialogs and errors."""
    page.mouse.move(400, 300)  # hover handlers, had any survived, would fire now
    page.mouse.move(600, 500)
    return {
        "text": page.inner_text("body"),
        "svg_text": "\n".join(page.eval_on_selector_all("svg text", "els => els.map(e => e.textContent)")),
        "commentary": page.locator("aside.opsnb-commentary").all_inner_texts(),
        "img_x": len(page.query_selector_all('img[src="x"]')),
        "handlers": page.eval_on_selector_all(
            "*", "els => els.flatMap(e => [...e.attributes].filter(a => /^on/i.test(a.name)).map(a => a.name))"),
        "scripts": len(page.query_selector_all("script")),
        "js_links": len(page.query_selector_all('a[href^="javascript:" i]')),
    }


def _open(browser, url: str | None = None, *, content: str | None = None) -> dict:
    ctx = browser.new_context()
    try:
        page = ctx.new_page()
        dialogs: list[str] = []
        errors: list[str] = []
        page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
        page.on("pageerror", lambda e: errors.append(str(e)))
        if url is not None:
            page.goto(url, wait_until="load")
        else:
            page.set_content(content or "", wait_until="load")
            page.wait_for_timeout(200)  # let an onerror handler of a broken image run
        return {**_inspect(page), "dialogs": dialogs, "errors": errors}
    finally:
        ctx.close()


@pytest.fixture(scope="module")
def seen(hostile, browser):
    """Every page opened once: html source, visible text, chart text, dialogs and DOM findings."""
    res, _ = hostile
    return {path.name: {**_open(browser, path.resolve().as_uri()), "html": path.read_text(encoding="utf-8")}
            for path in sorted(res.out_dir.glob("*.html"))}


def test_the_checks_catch_markup_that_was_not_escaped(browser):
    """The harness itself: the same payloads pasted raw into a page are caught (so the checks can fail)."""
    raw = _open(browser, content=f"<p>{IMG}</p><table><tr><td>a{TD}<td>b</td></tr></table>{SCRIPT}"
                                 f'<a href="javascript:alert(1)">x</a>')
    assert raw["dialogs"] == ["1", "1"]
    assert raw["img_x"] == 1 and raw["scripts"] == 1 and raw["handlers"] == ["onerror"] and raw["js_links"] == 1
    assert IMG not in raw["text"] and SCRIPT not in raw["text"] and TD not in raw["text"]


def test_every_page_was_built(seen):
    assert sorted(seen) == sorted(["index.html", *(NOTEBOOKS[s].replace(".ipynb", ".html") for s in NOTEBOOKS
                                                    if s != "summary")])


def test_no_dialog_script_or_injected_element(seen):
    for name, s in seen.items():
        assert s["dialogs"] == [], name
        assert s["errors"] == [], name
        assert s["img_x"] == 0, name
        assert s["scripts"] == 0, name
        assert s["handlers"] == [], name
        assert s["js_links"] == 0, name


def test_html_files_carry_no_script(seen):
    for name, s in seen.items():
        low = s["html"].lower()
        assert "<script" not in low, name
        assert "application/javascript" not in low, name
        assert "<img src=x" not in low and "<img src=\"x\"" not in low, name


def test_commentary_is_shown_as_text_on_every_page(seen):
    for name, s in seen.items():
        assert len(s["commentary"]) == 1, name
        shown = s["commentary"][0]
        for payload in PAYLOADS:
            assert payload in shown, (name, payload)
        assert '<div onmouseover="alert(1)">raw html block</div>' in shown, name


def test_every_injected_field_is_visible_text_somewhere(seen, hostile):
    _, fields = hostile
    where = {f: sorted(n for n, s in seen.items() if any(v in s["text"] for v in values))
             for f, values in fields.items()}
    print("\ninjected fields shown on:", where)
    assert {f: pages for f, pages in where.items() if not pages} == {}
    in_charts = sorted(n for n, s in seen.items() if EVIL_CHANNEL in s["svg_text"])
    print("renamed channel in chart text on:", in_charts)


def test_template_syntax_is_never_evaluated(seen, hostile):
    _, fields = hostile
    single = re.compile(r"(?<!\{)\{7\*7\}(?!\})")
    for name, s in seen.items():
        text = s["text"] + "\n" + s["svg_text"]
        assert TPL in text, name  # at least the commentary
        assert not single.search(text), f"{name}: '{{{{7*7}}}}' went through str.format"
        for values in fields.values():
            for v in values:
                if TPL in v:
                    assert v.replace(TPL, "49") not in text, (name, v)
