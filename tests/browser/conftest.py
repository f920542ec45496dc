"""Browser fixtures: Debian's Chromium driven by Playwright, and sample reports built once per language.

Nothing is ever downloaded: the browser is ``/usr/bin/chromium`` (installed by ``make setup``); when it
is missing every browser test is skipped with that reason. Every page is opened from ``file://`` with
its console messages, page errors, requests and dialogs recorded (:class:`PageLog`). Network requests
(http, https, ws) are aborted, so a report that tries to fetch something fails its test instead of
hanging or leaking. Metrics (PDF pages, screenshot bytes) are printed and written to
``tests/browser/.last_metrics.json`` at the end of the session.
"""

from __future__ import annotations

import json
import re
import shutil
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from opsnb import batch
from opsnb.sample import generate

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = Path("/usr/bin/chromium")
LAUNCH_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
               "--disable-component-update", "--disable-sync"]
METRICS_FILE = Path(__file__).with_name(".last_metrics.json")
NETWORK = re.compile(r"^(?:https?|wss?|ftp)://", re.I)


@dataclass
class PageLog:
    """What a page did while it was open."""

    url: str
    requests: list[str] = field(default_factory=list)
    console: list[tuple[str, str]] = field(default_factory=list)
    page_errors: list[str] = field(default_factory=list)
    dialogs: list[str] = field(default_factory=list)

    @property
    def console_errors(self) -> list[str]:
        return [text for kind, text in self.console if kind == "error"]

    @property
    def foreign_requests(self) -> list[str]:
        """Requests other than the document itself (``data:`` URLs are not requests for anything)."""
        return [u for u in self.requests if u != self.url and not u.startswith("data:")]


def make_project(root: Path, *, copy_params: bool = False) -> Path:
    """A temporary project: notebooks symlinked, params symlinked (or copied, to be edited), pack generated."""
    root.mkdir(parents=True, exist_ok=True)
    if copy_params:
        shutil.copytree(ROOT / "params", root / "params", ignore=shutil.ignore_patterns("commentary"))
    else:
        (root / "params").symlink_to(ROOT / "params")
    (root / "notebooks").symlink_to(ROOT / "notebooks")
    generate(root / "pack", scale=0.1)
    return root


def run_batch(root: Path, lang: str, unit: str) -> batch.RunResult:
    """Run the whole review on the project's pack; every section must succeed."""
    res = batch.run(root=root, pack=str(root / "pack"), lang=lang, unit=unit, progress=False, log=lambda m: None)
    failed = {s.section: s.error for s in res.sections if not s.ok}
    assert failed == {}, f"sections failed: {failed}"
    return res


def report_pages(res: batch.RunResult) -> list[Path]:
    """``index.html`` first, then the section pages in order."""
    return [res.out_dir / "index.html", *sorted(p for p in res.out_dir.glob("*.html") if p.name != "index.html")]


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    """One headless Chromium for the session (skips the browser tests when Chromium is not installed)."""
    if not CHROMIUM.is_file():
        pytest.skip(f"{CHROMIUM} is missing: install Debian's chromium (`make setup`) to run the browser tests")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=LAUNCH_ARGS)
        try:
            yield b
        finally:
            b.close()


@pytest.fixture
def open_page(browser: Any) -> Iterator[Callable[..., tuple[Any, PageLog]]]:
    """``open_page(path)`` → (page, log): a fresh browser context per page, everything recorded."""
    contexts: list[Any] = []

    def _open(path: Path, *, viewport: dict[str, int] | None = None) -> tuple[Any, PageLog]:
        ctx = browser.new_context(viewport=viewport or {"width": 1280, "height": 900}, java_script_enabled=True)
        contexts.append(ctx)
        ctx.route(NETWORK, lambda route: route.abort())
        page = ctx.new_page()
        log = PageLog(path.resolve().as_uri())
        page.on("request", lambda r: log.requests.append(r.url))
        page.on("console", lambda m: log.console.append((m.type, m.text)))
        page.on("pageerror", lambda e: log.page_errors.append(str(e)))

        def _dialog(d: Any) -> None:
            log.dialogs.append(f"{d.type}: {d.message}")
            d.dismiss()

        page.on("dialog", _dialog)
        page.goto(log.url, wait_until="load")
        return page, log

    yield _open
    for ctx in contexts:
        ctx.close()


@pytest.fixture(scope="session")
def metrics() -> Iterator[dict[str, Any]]:
    """Measured numbers, keyed by language then page; printed and saved to ``.last_metrics.json``."""
    data: dict[str, Any] = {}
    yield data
    if data:
        METRICS_FILE.write_text(json.dumps(data, ensure_ascii=False, indent=2, sort_keys=True) + "\n",
                                encoding="utf-8")
        print(f"\nbrowser metrics written to {METRICS_FILE}")


@pytest.fixture(scope="session")
def new_project() -> Callable[..., Path]:
    """:func:`make_project`, for test modules that build their own project."""
    return make_project


@pytest.fixture(scope="session")
def run_review() -> Callable[[Path, str, str], batch.RunResult]:
    """:func:`run_batch`, for test modules that build their own project."""
    return run_batch


@pytest.fixture(scope="session")
def clean_project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A temporary project on the untouched scale-0.1 sample pack."""
    return make_project(tmp_path_factory.mktemp("browser-proj") / "proj")


@pytest.fixture(scope="session", params=["zh", "en"])
def report(request: pytest.FixtureRequest, clean_project: Path) -> tuple[str, batch.RunResult]:
    """The whole review of the sample, run once per language for the session."""
    lang = request.param
    return lang, run_batch(clean_project, lang, f"browser_{lang}")
