"""Every dashboard page in a real browser, on a desk with a day of trading and a dozen backtests.

Builds the desk from a real one (bench/_desk_day.py: the engine trades the demo strategy on the
simulator for a few minutes, its rows are copied back to cover a day as three strategies, one real
backtest is copied to twelve), starts it as `make run` does (simulator, engine, dashboard under the
project's supervisord.conf), and drives headless Chromium at 1366 × 900 over the DevTools protocol: the
login (password typed, "Log in" pressed, until the Overview has settled; the first, just after the
dashboard started, with the form shown TYPING_S before the password is typed, as a person does), then
each page opened from the sidebar until its title shows and no script run is left (bench/_browser.py),
`--rounds` times. Each page's p50 and p99 against the target (issue 87: every page within 2 s), met or
MISSED; beside it the CPU a page load took, the dashboard process's and the browser's (what a busy
machine inflates far less than wall time; the load average is printed). Baseline, in the same run and
browser: a trivial Streamlit page served the same way.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path

from _browser import (
    PAGES,
    WIDTH,
    browser,
    cpu_seconds,
    group_cpu_seconds,
    log_in,
    open_page,
    open_tab,
    require_chromium,
    settle_time,
)
from _common import ROOT, percentile, report
from _desk_day import build_day_desk, desk_in, running

from tests.browser.cdp import Chromium, Page
from tests.browser.serve import streamlit

TARGET_MS = 2_000
TYPING_S = 3.0  # the first login: the form shown this long before the password is typed, as a person does
FIRST_LOGIN = "first login after a start"


@dataclass
class Loads:
    """What each load took: wall ms, and the CPU ms of the dashboard process and of the browser."""

    wall: list[float] = field(default_factory=list)
    server: list[float] = field(default_factory=list)
    browser: list[float] = field(default_factory=list)


class Meter:
    def __init__(self, dashboard_pid: int, browser_pgid: int):
        self.pid, self.pgid = dashboard_pid, browser_pgid

    async def measure(self, loads: Loads, load: Callable[[], Awaitable[float]]) -> None:
        server, browser_ = cpu_seconds(self.pid), group_cpu_seconds(self.pgid)
        loads.wall.append(await load() * 1000)
        loads.server.append((cpu_seconds(self.pid) - server) * 1000)
        loads.browser.append((group_cpu_seconds(self.pgid) - browser_) * 1000)


@contextmanager
def trivial_app(tmp: Path) -> Iterator[str]:
    """A trivial Streamlit page served the same way: the baseline."""
    script = tmp / "trivial.py"
    script.write_text("import streamlit as st\nst.title('Baseline')\nst.write('a trivial page')\n")
    with streamlit(script, dict(os.environ), tmp / "trivial.log", cwd=tmp) as (url, _):
        yield url


async def _baseline(page: Page, url: str, runs: int) -> list[float]:
    samples = []
    for _ in range(runs):
        began = time.perf_counter()
        await page.navigate(url)
        samples.append(await settle_time(page, "Baseline", began) * 1000)
    return samples


async def tour(chromium: Chromium, url: str, meter: Meter, rounds: int, links: list[str]) -> dict[str, Loads]:
    """Log in, open each page of `links` from the sidebar (then the Overview again), log out; `rounds` times."""
    page = await open_tab(chromium)
    loads = {name: Loads() for name in (FIRST_LOGIN, "login", *links)}
    try:
        for round_ in range(rounds):
            if round_ == 0:  # the dashboard just started: nothing of the pages is loaded yet
                await meter.measure(loads[FIRST_LOGIN], partial(log_in, page, url, typing_s=TYPING_S))
            else:
                await meter.measure(loads["login"], partial(log_in, page, url))
            # The Overview last: the login lands on it, so it is opened from another page like the rest.
            for link in [*(link for link in links if link != "Overview"), "Overview"]:
                if link not in loads:  # only there to leave the last page for
                    await open_page(page, link)
                    continue
                await meter.measure(loads[link], partial(open_page, page, link))
            await page.evaluate("[...document.querySelectorAll('button')].find(b => b.innerText.includes('Log out'))"
                                ".click()")
            await page.wait_for("!!document.querySelector('.st-key-password input')", 60, what="logged out")
    finally:
        await page.close()
    return loads


def _line(name: str, loads: Loads, baseline: list[float]) -> None:
    figures = report(name, loads.wall, baseline, target=f"p99 <= {TARGET_MS} ms", baseline_name="a trivial page")
    verdict = "met" if figures["p99_ms"] <= TARGET_MS else "MISSED"
    print(f"  {verdict}; CPU a load: the dashboard's p50 {statistics.median(loads.server):.0f} ms "
          f"(p99 {percentile(loads.server, 99):.0f}), the browser's p50 {statistics.median(loads.browser):.0f} ms "
          f"(p99 {percentile(loads.browser, 99):.0f})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=5, help="logins, and visits of each page (default 5)")
    parser.add_argument("--trade-s", type=float, default=90, help="how long the real desk trades before its rows "
                        "are copied back over a day (default 90)")
    parser.add_argument("--strategies", type=int, default=3, help="the day's history as this many strategies")
    parser.add_argument("--desk", type=Path, help="build the desk in this folder and keep it, or use the one "
                        "built there before (comparing code on the same desk)")
    parser.add_argument("--pages", default=",".join(PAGES), help="the pages to time, by their link's text, "
                        "comma-separated (default: every page)")
    args = parser.parse_args()
    links = [link.strip() for link in args.pages.split(",") if link.strip()]
    if unknown := [link for link in links if link not in PAGES]:
        raise SystemExit(f"no such page: {', '.join(unknown)} (the pages: {', '.join(PAGES)})")
    require_chromium()
    with tempfile.TemporaryDirectory(prefix="bench-pages-") as tmp_name:
        tmp = args.desk or Path(tmp_name)
        if args.desk is not None and (args.desk / "trader.db").exists():
            desk = desk_in(args.desk)
        else:
            tmp.mkdir(parents=True, exist_ok=True)
            desk = build_day_desk(tmp, trade_s=args.trade_s, strategies=args.strategies)
        with (trivial_app(tmp) as base_url, running(desk, {"simulator", "engine", "dashboard"}) as sup,
              browser(tmp) as chromium):
            meter = Meter(sup.wait_running("dashboard"), chromium.proc.pid)
            load = os.getloadavg()[0]
            loads = asyncio.run(tour(chromium, desk.url, meter, args.rounds, links))

            async def base() -> list[float]:
                page = await open_tab(chromium)
                try:
                    return await _baseline(page, base_url, 2 * args.rounds)
                finally:
                    await page.close()

            baseline = asyncio.run(base())
    print(f"{args.rounds} rounds at {WIDTH} px; load average at the start {load:.1f} on {os.cpu_count()} cores "
          "(wall times grow with it; the CPU a load much less)")
    for name, measured in loads.items():
        if measured.wall:
            _line(name if "login" in name else f"page {name}", measured, baseline)


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    main()
