"""The backtest report reads on the screens traders use: opened from disk in headless Chromium at
1366 and 1920 px wide, nothing scrolls sideways, every chart is drawn at the page's width, no
chart's text (titles, axes, bar labels, legends) is cut at its edge or drawn too small to read,
and the markout section says how many fills each horizon measured. Screenshots of both widths
are kept beside the test's files for a person to look at."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import pytest

from reports.backtest import write_backtest_report
from storage.sqlite.db import Database
from storage.sqlite.migrations import migrate
from tests.browser.cdp import Chromium, Page, chromium_path
from tests.dashboard.seed import BTC, seed
from tests.dashboard.test_backtest_page import METRICS, insert_run

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        chromium_path() is None,
        reason="Debian's `chromium` is not installed (apt-get install -y chromium; .ci/run does it)",
    ),
]

WIDTHS = (1366, 1920)
MARKOUTS = {"markout_1s_usdc": 1.5, "markout_1s_bps": 12.0, "markout_1s_fills": 4,
            "markout_10s_usdc": -2.25, "markout_10s_bps": -18.0, "markout_10s_fills": 4,
            "markout_60s_usdc": -3.0, "markout_60s_bps": -31.0, "markout_60s_fills": 3}
DRAWN = "[...document.querySelectorAll('.js-plotly-plot')].filter(p => p.querySelector('.main-svg')).length"
# Per chart: its width against the page's content width, and every text it draws that sticks out
# of it or is smaller than 10 px.
LAYOUT = """(() => {
  const main = document.querySelector('main').getBoundingClientRect();
  return [...document.querySelectorAll('.js-plotly-plot')].map((plot, i) => {
    const box = plot.getBoundingClientRect();
    const texts = [...plot.querySelectorAll('text')].filter(t => t.textContent.trim());
    const cut = texts.filter(t => { const r = t.getBoundingClientRect();
      return r.width > 0 && (r.left < box.left - 1 || r.right > box.right + 1 || r.top < box.top - 1
                             || r.bottom > box.bottom + 1); }).map(t => t.textContent.slice(0, 40));
    const small = texts.filter(t => parseFloat(getComputedStyle(t).fontSize) < 10).map(t => t.textContent);
    return {i, width: box.width, main: main.width, cut, small};
  });
})()"""


def _report(tmp: Path) -> Path:
    path = tmp / "trader.db"
    migrate(path)
    now = seed(path)
    run = insert_run(Database(path), name="layout check", start=now - 3_600_000, markets=json.dumps([BTC]),
                     metrics=json.dumps({**METRICS, **MARKOUTS}))
    return write_backtest_report(Database(path), run, tmp / "report.html")


def test_the_report_reads_at_1366_and_1920_pixels(tmp_path: Path) -> None:
    report = _report(tmp_path)
    charts = report.read_text().count('class="plotly-graph-div"')
    chromium = Chromium(tmp_path / "profile", tmp_path / "chromium.log")
    found: dict[int, list[dict[str, Any]]] = {}  # JSON from the page

    async def drive() -> None:
        page = await Page.open(chromium.page_ws_url())
        try:
            for width in WIDTHS:
                await page.viewport(width, 900)
                await page.navigate(report.as_uri())
                await page.wait_for(DRAWN, 40, what="the report's charts", check=lambda n: n == charts)
                await page.wait_for("document.documentElement.scrollWidth <= window.innerWidth", 10,
                                    what=f"no sideways scroll at {width} px")
                found[width] = await page.evaluate(LAYOUT)
                shown = await page.evaluate("document.body.innerText")
                assert "+12 bps of 4 fills" in shown and "-31 bps of 3 fills" in shown, shown[:2000]
                await page.screenshot(tmp_path / f"report-{width}.png")
        finally:
            await page.close()

    try:
        asyncio.run(drive())
    finally:
        chromium.close()
    for width, plots in found.items():
        assert len(plots) == charts >= 4, (width, plots)
        for plot in plots:
            assert plot["width"] >= 0.95 * plot["main"] - 80, (width, plot)  # drawn at the page's width
            assert plot["cut"] == [] and plot["small"] == [], (width, plot)
        assert (tmp_path / f"report-{width}.png").stat().st_size > 20_000
