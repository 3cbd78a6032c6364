"""A sweep driven to its end in the browser: two trials on one recorded market, launched from the
Backtest page's Sweep tab; the tab follows it while it runs and, once it ends, shows it final (all
trials counted, none still running) in the same page, with no reload."""

from __future__ import annotations

from tests.browser.cdp import Page
from tests.browser.looks import type_number
from tests.browser.navigation import settled
from tests.browser.trading import MARKET_OPTION, TABS

SWEEP_S = 300  # two trials, each a backtest in a process of its own: minutes on a loaded 2-core machine
# The sweep's view as drawn: its bar's words, its trials' rows (the grid's accessible rows), any
# count of it drawn anywhere on the page (a picker's label included) other than the final one, and
# whether this is still the page the sweep was launched from.
FINAL = """(() => {
  const grid = [...document.querySelectorAll('[data-testid="stDataFrame"]')]
    .find(d => d.textContent.includes('score (training)'));  // (its last columns are drawn only scrolled to)
  if (grid) grid.scrollIntoView({block: 'center'});
  const rows = grid ? [...grid.querySelectorAll('[role=row]')].slice(1).map(r => r.textContent) : [];
  const main = document.querySelector('[data-testid="stMain"]').innerHTML;
  return {finished: document.body.innerText.includes('2/2 trials · finished'), rows,
          stale: main.match(/[01]\\/2 trials/g) || [], same: window.sweepPageKept === true};
})()"""


async def sweep_to_its_end(page: Page) -> None:
    await page.evaluate(f"{TABS}.find(t => t.innerText.trim() === 'Sweep').click()")
    await page.wait_for("!!document.querySelector('.st-key-sw_trials input')", 20, what="the sweep form")
    await type_number(page, "sw_trials", "2", "Backtest")
    await type_number(page, "sw_jobs", "1", "Backtest")
    await page.evaluate("document.querySelector('.st-key-sw_markets input').click()")
    await page.wait_for("document.querySelectorAll('[role=option]').length", 20, what="the markets offered")
    await page.evaluate(f"{MARKET_OPTION}.click()")
    await page.evaluate("document.body.click()")  # close the list
    await settled(page, "Backtest")
    await page.evaluate("window.sweepPageKept = true")  # a reload would lose it
    await page.evaluate("(b => { b.scrollIntoView({block: 'center'}); b.click(); })"
                        "(document.querySelector('.st-key-sw_launch button'))")
    await page.wait_for("(document.querySelector('.st-key-said_sw_launched') || {}).innerText || ''", 30,
                        what="the launch's answer in the Sweep tab", check=lambda t: "launched with 1 worker" in t)
    # The bar and the trials' grid are drawn apart (the grid's rows a moment later, on a loaded machine
    # once a whole poll later): the page is final when both say so, and a trial row left RUNNING under
    # a finished bar never passes (it times out with the rows it showed).
    final = await page.wait_for(FINAL, SWEEP_S, what="the sweep shown finished, its trials final, without a reload",
                                check=lambda f: f["finished"] and len(f["rows"]) == 2
                                and not [r for r in f["rows"] if "RUNNING" in r])
    assert final["same"], "the page was reloaded"
    assert final["stale"] == [], f"the page still says {final['stale']} of the finished sweep"
