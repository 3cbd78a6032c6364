"""Nothing foreign runs: with hostile text in every field that comes from the venue, a file, a
feed or a user (tests/browser/hostile.py), headless Chromium opens the backtest report from disk
and every page of the dashboard, and sees no script run (no dialog: every payload calls alert),
no element, attribute or style rule a payload made, and no request to another host; the text
itself reads as written. The report's Content-Security-Policy is checked on its own: a report
with a script slipped into it still runs only its own scripts (its charts draw, the slipped one
does not run)."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from contracts.passwords import hash_password
from reports.backtest import write_backtest_report
from storage.sqlite.db import Database
from storage.sqlite.migrations import migrate
from tests.browser.cdp import Chromium, Page, chromium_path, free_port
from tests.browser.hostile import FOREIGN, Canary, foreign_rules, make_hostile, payload
from tests.browser.navigation import EXCEPTIONS, PASSWORD, click, healthy, login, open_page
from tests.dashboard.seed import BTC, seed
from tests.dashboard.test_backtest_page import METRICS, insert_run
from tests.helpers import ROOT, isolated_env, wait_until

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        chromium_path() is None,
        reason="Debian's `chromium` is not installed (apt-get install -y chromium; .ci/run does it)",
    ),
]

RUN_NAME = 70  # the payload numbers of the backtest run's texts
CHARTS = "[...document.querySelectorAll('.js-plotly-plot')].filter(p => p.querySelector('.main-svg')).length"
IMAGES_DONE = "[...document.images].every(i => i.complete)"
PAGES = ("Overview", "Markets", "Orders & trades", "Strategies", "Risk", "Settings", "Backtest", "Audit & alerts")


def _hostile_desk(tmp: Path, canary: str) -> tuple[Path, int]:
    """A seeded desk with hostile text everywhere, and a finished backtest run named with it."""
    path = tmp / "trader.db"
    migrate(path)
    now = seed(path)
    make_hostile(path, canary)
    metrics = {**METRICS, "refusals": {"note": payload(RUN_NAME + 1, canary), "checked": 3,
                                       "refused": {payload(RUN_NAME + 2, canary): 2}, "trimmed": {}}}
    run = insert_run(Database(path), name=payload(RUN_NAME, canary), start=now - 3_600_000,
                     markets=json.dumps([BTC]), metrics=json.dumps(metrics))
    return path, run


async def _nothing_foreign(page: Page, canary: Canary, where: str) -> None:
    await page.wait_for(IMAGES_DONE, 30, what=f"{where}: every image loaded or failed")
    assert page.dialogs == [], f"{where}: a payload ran ({page.dialogs[:3]})"
    assert await page.evaluate(FOREIGN) == [], f"{where}: an element or attribute a payload made"
    assert await page.evaluate(foreign_rules(canary.url)) == 0, f"{where}: a style rule a payload made"
    assert canary.hits == [], f"{where}: requests to another host {canary.hits[:5]}"


def _report_in_chromium(path: Path, check: Callable[[Page], Awaitable[None]]) -> None:
    """Open the report file in Chromium, wait until its own scripts drew every chart, then `check`."""
    charts = path.read_text().count('class="plotly-graph-div"')
    chromium = Chromium(path.parent / f"{path.stem}-profile", path.parent / f"{path.stem}-chromium.log")

    async def drive() -> None:
        page = await Page.open(chromium.page_ws_url())
        try:
            await page.navigate(path.as_uri())
            await page.wait_for(CHARTS, 40, what="the report's charts, drawn by its own scripts",
                                check=lambda n: n == charts)
            await check(page)
        finally:
            await page.close()

    try:
        asyncio.run(drive())
    finally:
        chromium.close()


def test_the_report_shows_hostile_text_as_text_and_runs_nothing_of_it(tmp_path: Path) -> None:
    with Canary.running() as canary:
        db_path, run = _hostile_desk(tmp_path, canary.url)
        report = write_backtest_report(Database(db_path), run, tmp_path / "report.html")

        async def check(page: Page) -> None:
            await _nothing_foreign(page, canary, "the report")
            shown = await page.evaluate("document.body.innerText")
            for n in (2, RUN_NAME, RUN_NAME + 1):  # a question, the run's name, a refusal note: as written
                assert payload(n, canary.url) in shown, n

        _report_in_chromium(report, check)


def test_the_reports_policy_runs_only_its_own_scripts(tmp_path: Path) -> None:
    """An escape missed somewhere: a script and an event handler slipped into the page's HTML do
    not run, and nothing is fetched, while the report's own scripts (plotly.js, each chart) do run."""
    with Canary.running() as canary:
        db_path, run = _hostile_desk(tmp_path, canary.url)
        page_html = write_backtest_report(Database(db_path), run, tmp_path / "clean.html").read_text()
        slipped = (f'<img src=x onerror="alert(901)"><script>alert(902)</script>'
                   f'<img src="{canary.url}/img"><style>body {{ background: url({canary.url}/css) }}</style>')
        tampered = tmp_path / "tampered.html"
        tampered.write_text(page_html.replace("<main>", "<main>" + slipped, 1))

        async def check(page: Page) -> None:
            await page.wait_for(IMAGES_DONE, 30, what="every image loaded or refused")
            assert page.dialogs == []
            assert canary.hits == []

        _report_in_chromium(tampered, check)


@contextmanager
def _dashboard(tmp: Path, db_path: Path) -> Iterator[str]:
    port = free_port()
    env = isolated_env(tmp, TRADER_DB=str(db_path), DASHBOARD_PASSWORD_HASH=hash_password(PASSWORD))
    log = open(tmp / "dashboard.log", "wb")
    proc = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", "app.py", "--server.headless=true", "--server.address=127.0.0.1",
         f"--server.port={port}", "--browser.gatherUsageStats=false", "--server.fileWatcherType=none",
         "--client.toolbarMode=viewer"], cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until(lambda: healthy(url), 60, 0.25, "the dashboard's /_stcore/health")
        yield url
    finally:
        proc.kill()
        proc.wait(10)
        log.close()


async def _tour(page: Page, url: str, canary: Canary) -> None:
    await login(page, url)
    for title in PAGES:
        await open_page(page, title, title)
        assert await page.evaluate(EXCEPTIONS) == 0, f"{title}: a Streamlit exception is shown"
        await _nothing_foreign(page, canary, title)
        if title == "Orders & trades":
            await click(page, "[...document.querySelectorAll('[role=tab]')].find(t => t.innerText === 'Fills')",
                        "the Fills tab", js=True)
            await _nothing_foreign(page, canary, "Fills")
        if title == "Backtest":
            await click(page, "[...document.querySelectorAll('[role=tab]')].find(t => t.innerText === 'Sessions')",
                        "the Sessions tab", js=True)
            await _nothing_foreign(page, canary, "Sessions")
    shown = await page.evaluate("document.body.innerText")
    assert payload(43, canary.url) in shown  # the kill latch's reason in the header, as written


def test_no_dashboard_page_runs_or_loads_hostile_text(tmp_path: Path) -> None:
    with Canary.running() as canary:
        db_path, _ = _hostile_desk(tmp_path, canary.url)
        with _dashboard(tmp_path, db_path) as url:
            chromium = Chromium(tmp_path / "chromium-profile", tmp_path / "chromium.log")
            try:
                async def drive() -> None:
                    page = await Page.open(chromium.page_ws_url())
                    try:
                        await _tour(page, url, canary)
                    finally:
                        await page.close()

                asyncio.run(drive())
            except AssertionError as exc:
                log = (tmp_path / "dashboard.log").read_text(errors="replace")[-3000:]
                raise AssertionError(f"{exc}\n--- dashboard log tail ---\n{log}") from None
            finally:
                chromium.close()
