"""The real desk in a real browser: supervisord runs the project's supervisord.conf (simulator, engine,
dashboard) as the README does, headless Chromium logs in over the DevTools protocol at a laptop's
1366 × 900 and opens every page (no Streamlit exception, no metric cut off, no table scrolling
sideways, the decision columns' headers in view, no market named by its raw id, a screenshot each),
then again at 1920 × 1080; opens a market by clicking its row in the Markets list (its detail and
its ticket name it; the ticket's preview figures are not cut); refuses two bad limits at once, each
under its field, and confirms a good one under the Save button; saves a daily loss above the whole
account and a 100 % kill switch only on a second, explicit button, each said beside its field and
audited (tests/browser/forms.py); exits a
position from the Orders page; launches a backtest from the New backtest tab while the desk keeps
recording, and sees it finish with its report to download (its metric tiles not cut); runs a
two-trial sweep from the Sweep tab and sees it finished, final, without a reload; sees a used /
limit label on every row of the usage chart; sees an Overview answer go once the engine was paused
elsewhere; makes a market maker as a newcomer does (tests/browser/strategies.py: markets found by
their words and added when ticked, no market and a size below the minimum said before saving,
"created" under the strategy picker only, why it does not trade in its row, its Pause answered
under its own buttons); presses Kill, confirms, and sees KILLED both in the
database and on the page; presses Start and sees the engine's refusal (the kill latch) with its
reason; then re-arms from the Risk page's live panel.
"""

from __future__ import annotations

import asyncio
import re
import sys
from functools import partial
from pathlib import Path
from typing import Any

import pytest

from contracts.passwords import hash_password
from pages.widgets.controls import CONTROLS
from pages.widgets.usage import usage_rows
from storage.command_queue.commands import post_command
from storage.dashboard_queries import portfolio_queries
from storage.dashboard_queries import status_queries as queries
from storage.dashboard_queries.market_names import short_question
from storage.sqlite.db import Database
from tests.browser.cdp import Chromium, Page, chromium_path, free_port
from tests.browser.forms import protection_is_not_switched_off_by_one_click, save_limits_as_an_operator
from tests.browser.layout import FILLS_HEADERS, HEIGHT, KEY_HEADERS, TALL, TRIPS_HEADERS, WIDE, WIDTH, check_and_shoot
from tests.browser.looks import RAW_IDS, TRUNCATED, preview_a_ticket, tiles_not_cut
from tests.browser.narrow import across_a_restart, on_a_phone
from tests.browser.navigation import EXCEPTIONS, PASSWORD, click, healthy, login, open_page, settled
from tests.browser.strategies import answers_stay_with_their_strategy, make_a_market_maker_as_a_newcomer
from tests.browser.sweep import sweep_to_its_end
from tests.browser.trading import launch_backtest_while_recording, link_the_simulators_pair, trade_by_hand
from tests.browser.where import answer_in_view
from tests.helpers import ROOT, isolated_env, run_cli, wait_until
from tests.supervisor_harness import Supervisor, relocated_conf

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        chromium_path() is None,
        reason="Debian's `chromium` is not installed (apt-get install -y chromium; .ci/run does it)",
    ),
]

ARTIFACTS = ROOT / "test-artifacts"
PAGES = {
    "Overview": "Overview",
    "Markets": "Markets",
    "Orders & trades": "Orders & trades",
    "Strategies": "Strategies",
    "Risk": "Risk",
    "Settings": "Settings",
    "Backtest": "Backtest",
    "Audit & alerts": "Audit & alerts",
}  # sidebar link text -> page title
DIALOG = "(document.querySelector('[data-testid=\"stDialog\"]') || {}).innerText || ''"
# The used / limit labels plotly drew on the Overview's usage chart (it drops one that does not fit).
USAGE_LABELS = """[...document.querySelectorAll('.js-plotly-plot')]
  .filter(p => (p.querySelector('.gtitle') || {}).textContent === 'Usage against each limit')
  .flatMap(p => [...p.querySelectorAll('.bartext')]).filter(t => t.textContent.includes(' / ')).length"""


def _desk(tmp: Path) -> tuple[Supervisor, dict[str, str], int]:
    port = free_port()
    env = isolated_env(
        tmp,
        SIMULATOR_PORT=str(free_port()),
        STREAMLIT_SERVER_PORT=str(port),
        DASHBOARD_PASSWORD_HASH=hash_password(PASSWORD),
        ENGINE_LOG_FILE=str(tmp / "var" / "log" / "engine.log"),
    )
    init = run_cli(["init"], env)  # what `make run` does before supervisord
    assert init.returncode == 0, init.stderr
    conf = relocated_conf(tmp, {"simulator", "engine", "dashboard"})
    return Supervisor(conf, env), env, port


def _log(tmp: Path, name: str) -> str:
    path = tmp / "var" / "log" / f"{name}.log"
    return path.read_text(errors="replace")[-3000:] if path.exists() else "(no log)"


def _shot(title: str, suffix: str = "") -> Path:
    return ARTIFACTS / f"{title.lower().replace(' & ', '-').replace(' ', '-')}{suffix}.png"


async def _tab(page: Page, label: str) -> None:
    await click(page, f"[...document.querySelectorAll('[role=tab]')].find(t => t.innerText === {label!r})",
                f"the {label} tab", js=True)


async def _tour(page: Page, db: Database, ticker: str) -> None:
    """Every page at 1366 × 900: no exception, no metric cut off, no table scrolling sideways, the
    decision columns in view, no market named by its raw id; a Kalshi ticker as written."""
    for link, title in PAGES.items():
        await open_page(page, link, title)
        if title == "Markets":  # the pairs table lists the simulator's pair: the ticker without escapes
            await page.wait_for("document.body.innerText", 20, what="the pair's Kalshi ticker as written",
                                check=lambda body: ticker in body)
            assert "\\-" not in await page.evaluate("document.body.innerText"), "a ticker shows its escapes"
        assert await page.evaluate(EXCEPTIONS) == 0, f"{title}: a Streamlit exception is shown"
        assert await page.evaluate(TRUNCATED) == [], f"{title}: metrics cut off"
        if title == "Backtest":
            await launch_backtest_while_recording(page, db, settled)
            await tiles_not_cut(page, "the backtest's results")  # "−76.0 % a year, fr…" before
        await check_and_shoot(page, title, KEY_HEADERS.get(title, ()), _shot(title))
        assert await page.evaluate(RAW_IDS) == [], f"{title}: a market named by its raw id"
        if title == "Orders & trades":
            for tab, headers in (("Fills", FILLS_HEADERS), ("Round trips", TRIPS_HEADERS)):
                await _tab(page, tab)
                await check_and_shoot(page, tab, headers, _shot(title, f"-{tab.lower().replace(' ', '-')}"))
            await _tab(page, "Orders")
        if title == "Backtest":
            await sweep_to_its_end(page)
        if title == "Audit & alerts":
            await _audit_reads_as_a_person_reads(page)


# The audit table's "what changed" cells (the backtest launched on the Backtest page wrote one).
AUDIT_CHANGES = """[...document.querySelectorAll('[data-testid="stTable"] td')].map(td => td.innerText)
  .filter(t => t.includes(' = ') || t.includes(' → '))"""


async def _audit_reads_as_a_person_reads(page: Page) -> None:
    """Money and times in the audit's "what changed" as a person reads them: the backtest's starting cash
    in pUSD, its range as UTC times, never micro-units or epoch milliseconds."""
    changes = await page.wait_for(AUDIT_CHANGES, 20, what="the audit's what-changed cells",
                                  check=lambda c: any("capital = " in t for t in c))
    launch = next(t for t in changes if "capital = " in t)
    assert re.search(r"capital = [\d,]+\.\d\d pUSD; from_ms = 20\d\d-\d\d-\d\d \d\d:\d\d", launch), launch
    raw = [t for t in changes if re.search(r"\b\d{13}\b|capital = \d{5,}", t)]
    assert raw == [], f"raw micro-units or epoch milliseconds in the audit: {raw}"


async def _wide_tour(page: Page) -> None:
    """Every page again at 1920 × 1080: no exception, no metric cut off, no table scrolling sideways."""
    await page.viewport(WIDE, TALL)
    try:
        for link, title in PAGES.items():
            await open_page(page, link, title)
            assert await page.evaluate(EXCEPTIONS) == 0, f"{title}: a Streamlit exception is shown at {WIDE} px"
            assert await page.evaluate(TRUNCATED) == [], f"{title}: metrics cut off at {WIDE} px"
            await check_and_shoot(page, title, KEY_HEADERS.get(title, ()), _shot(title, f"-{WIDE}"), size=(WIDE, TALL))
    finally:
        await page.viewport(WIDTH, HEIGHT)


async def _drive(ws_url: str, url: str, db: Database, sup: Supervisor, sim_port: str) -> None:
    page = await Page.open(ws_url)
    try:
        await page.viewport(WIDTH, HEIGHT)
        await login(page, f"{url}/risk", lands_on="Risk")  # a link to a page, opened before logging in
        await page.reload()  # a reload keeps the login (the session token)
        await settled(page, "Risk")
        assert not await page.evaluate("!!document.querySelector('.st-key-password input')")
        await asyncio.to_thread(trade_by_hand, db)  # a fill, a position and a refusal to show
        ticker = await asyncio.to_thread(link_the_simulators_pair, db, sim_port)  # a pair on the Markets page
        await _tour(page, db, ticker)
        await _wide_tour(page)
        await _open_a_market_from_the_list(page)
        await save_limits_as_an_operator(page, db, ARTIFACTS / "risk-limits-saved.png")
        await protection_is_not_switched_off_by_one_click(page, db, ARTIFACTS / "risk-limits-loosening.png")
        await _exit_a_position_from_the_orders_page(page, db)
        await open_page(page, "Overview", "Overview")
        await _pause_and_resume_answer_by_their_buttons(page, db)
        await make_a_market_maker_as_a_newcomer(page, db)
        await answers_stay_with_their_strategy(page, db)
        await open_page(page, "Overview", "Overview")
        limits_shown = len(usage_rows(portfolio_queries.risk_usage(db, "paper")))
        await page.wait_for(USAGE_LABELS, 20, what="a used / limit label on every row of the usage chart",
                            check=lambda n: n == limits_shown)
        if queries.engine_status(db).state != "RUNNING":
            await click(page, ".st-key-btn_start button", "the Start button")
            await asyncio.to_thread(
                wait_until,
                lambda: queries.engine_status(db).state == "RUNNING",
                60,
                0.2,
                "the engine RUNNING after Start",
            )
        await click(page, ".st-key-btn_kill button", "the Kill button")
        await click(page, ".st-key-kill_confirm button", "the Kill confirmation")
        await asyncio.to_thread(
            wait_until, lambda: queries.engine_status(db).state == "KILLED", 30, 0.2, "engine_state KILLED"
        )
        status = queries.engine_status(db)
        assert status.kill_latched and status.kill_reason == "operator kill from dashboard"
        await page.wait_for("document.body.innerText.includes('KILL LATCH SET')", 20, what="the latch banner")
        await page.wait_for(
            "[...document.querySelectorAll('[data-testid=\"stBadge\"], .stBadge, span')]"
            ".some(m => m.innerText.trim() === 'KILLED')",
            20,
            what="the header's lifecycle badge KILLED",
        )
        await page.wait_for("document.body.innerText.includes('Kill: done')", 20, what="the engine's answer")
        await page.wait_for("document.body.innerText.includes('KILLED: no orders')", 20, what="the KILLED badge")
        assert not await page.evaluate("document.body.innerText.includes('trading ACTIVE')")
        await page.wait_for(EQUITY_MARKS, 40, what="the kill marked on the equity chart",
                            check=lambda marks: "kill" in marks)
        tops = await page.evaluate(HEADING_TOPS)
        assert None not in tops and tops == sorted(tops), f"PnL by strategy, then positions, then commands: {tops}"
        assert await page.evaluate(EXCEPTIONS) == 0
        await page.screenshot(ARTIFACTS / "overview-killed.png", full=False)
        await _start_is_refused_under_the_latch(page, db)
        await _rearm_from_the_risk_page(page, db)
        await across_a_restart(page, sup, url, "Risk")
        await on_a_phone(page)
    finally:
        await page.close()


# The words marked on the Overview's equity chart (a kill, a re-arm, live, paper).
EQUITY_MARKS = """[...document.querySelectorAll('.js-plotly-plot')]
  .filter(p => ((p.querySelector('.gtitle') || {}).textContent || '').startsWith('Equity and drawdown'))
  .flatMap(p => [...p.querySelectorAll('.annotation-text')]).map(t => t.textContent)"""
# Where the Overview's figures and its latest commands sit, top to bottom as read.
HEADING_TOPS = """['PnL by strategy', 'Open positions', 'Latest commands'].map(text => {
  const h = [...document.querySelectorAll('h3')].find(h => h.innerText.trim() === text);
  return h ? h.getBoundingClientRect().top + window.scrollY : null;
})"""


# The market list's grid (a canvas): its box, and each drawn row's text from the grid's accessible
# table (aria-rowindex 1 is the header); null before the page has drawn it.
GRID_ROWS = """(() => {
  const grid = document.querySelector('.st-key-mk_scan [data-testid="stDataFrame"]');
  if (!grid) return null;
  grid.scrollIntoView({block: 'center'});
  const box = grid.getBoundingClientRect();
  const rows = Object.fromEntries([...grid.querySelectorAll('[role=row]')]
    .map(r => [r.getAttribute('aria-rowindex'), r.innerText]));
  return {top: box.top, left: box.left, rows};
})()"""
HEADINGS = "[...document.querySelectorAll('h3')].map(h => h.innerText.trim())"
GRID_HEADER_PX, GRID_ROW_PX, MARKER_X_PX = 36, 35, 16


def _market_rows_drawn(grid: dict[str, Any] | None) -> bool:
    if not grid or "priced" not in grid["rows"].get("1", ""):
        return False
    listed = [text_ for index, text_ in grid["rows"].items() if index != "1"]
    return len(listed) >= 2 and all(any(word in r for word in ("book", "listing", "no price yet")) for r in listed)


async def _open_a_market_from_the_list(page: Page) -> None:
    """Click the second market's row in the Markets list (its selection box on the grid's canvas):
    that market opens below, with its question as the heading and on the ticket."""
    await open_page(page, "Markets", "Markets")
    # Until the page's rerun has drawn the list, the grid may still hold the previous page's table,
    # header and rows apart (loaded machines read a backtest's runs there, once under the list's own
    # header): wait until every row drawn is a market's (priced, or saying it is not).
    grid = await page.wait_for(GRID_ROWS, 30, what="the market list drawn", check=_market_rows_drawn)
    first, second = grid["rows"]["2"], grid["rows"]["3"]
    listed = [text_ for index, text_ in grid["rows"].items() if index != "1"]
    # Every market listed is priced (its book, or the venue's listing for one the desk does not follow).
    assert listed and not [r for r in listed if "no price yet" in r or not ("book" in r or "listing" in r)], listed
    opened = await page.evaluate(HEADINGS)
    assert opened and opened[0] in first, (opened, first)  # before the click: the list's first market
    await page.mouse_click(grid["left"] + MARKER_X_PX, grid["top"] + GRID_HEADER_PX + GRID_ROW_PX * 1.5)
    heading = await page.wait_for(HEADINGS, 20, what="the clicked market's detail",
                                  check=lambda h: bool(h) and h[0] in second and h[0] not in first)
    # The ticket names the market it trades (once the rerun has drawn it: the old one lingers a moment).
    ticket = ("[...document.querySelectorAll('p')].map(p => p.innerText)"
              ".find(t => t.startsWith('Trade it by hand')) || ''")
    # The ticket names it in short, as every place short of room does (a long question is cut with "…").
    await page.wait_for(ticket, 20, what="the ticket naming the clicked market",
                        check=lambda t: short_question(heading[0]) in t)
    await page.screenshot(ARTIFACTS / "markets-row-opened.png", full=False)
    await preview_a_ticket(page)
    await page.screenshot(ARTIFACTS / "markets-ticket-preview.png", full=False)
    assert await page.evaluate(EXCEPTIONS) == 0


async def _exit_a_position_from_the_orders_page(page: Page, db: Database) -> None:
    """Exit…, the preview in its dialog, Sell now: the engine sells while it trades and the page
    says what sold."""
    await open_page(page, "Orders & trades", "Orders & trades")
    await click(page, ".st-key-exit_open_orders button", "the Exit button")
    await page.wait_for(DIALOG, 15, what="the exit dialog",
                        check=lambda t: "Sell now?" in t and "sold at no less than" in t)
    await page.screenshot(ARTIFACTS / "orders-exit-dialog.png", full=False)
    await click(page, ".st-key-exit_confirm button", "the exit confirmation")
    # Done in green, or partly done in amber when some of the shares were still settling (a paper fill
    # settles after a moment): either way what sold, at no less than the floor shown, and its PnL after fees.
    sold = ("[...document.querySelectorAll('[data-testid=\"stAlertContentSuccess\"], "
            "[data-testid=\"stAlertContentWarning\"]')]"
            ".some(e => e.innerText.includes(' done (command #') && e.innerText.includes('sold ')"
            " && e.innerText.includes(' on average (no less than ') && e.innerText.includes('realized PnL')"
            " && e.innerText.includes('after fees'))")
    await page.wait_for(sold, 30, what="the engine's answer to the exit: what sold, at what price, for what "
                                       "proceeds and realized PnL")
    with db.read() as conn:
        kinds = [row[0] for row in conn.exec_driver_sql("SELECT kind FROM commands WHERE kind = 'exit'")]
    assert kinds == ["exit"]
    assert await page.evaluate(EXCEPTIONS) == 0


async def _start_is_refused_under_the_latch(page: Page, db: Database) -> None:
    """Start while the kill latch is set: the button is disabled, saying why on hover (re-arm
    first), and Re-arm is the one enabled to clear the latch."""
    disabled = "(document.querySelector('.st-key-btn_start button') || {}).disabled"
    await page.wait_for(disabled, 20, what="Start disabled under the kill latch", check=lambda d: d is True)
    assert await page.evaluate("document.querySelector('.st-key-btn_rearm button').disabled") is False
    assert queries.engine_status(db).state == "KILLED"
    assert await page.evaluate(EXCEPTIONS) == 0
    await page.screenshot(ARTIFACTS / "overview-start-disabled.png", full=False)


async def _pause_and_resume_answer_by_their_buttons(page: Page, db: Database) -> None:
    """Pause, then Resume on a wide screen: each answer shows right under the controls, inside the
    window as the click left it (at 1366 × 900 and at 1920 × 1080), and stays there."""
    if queries.engine_status(db).state != "RUNNING":
        await click(page, ".st-key-btn_start button", "the Start button")
        await asyncio.to_thread(wait_until, lambda: queries.engine_status(db).state == "RUNNING", 60, 0.2,
                                "the engine RUNNING after Start")
    await page.wait_for("document.querySelector('.st-key-btn_pause button').disabled === false", 20,
                        what="Pause enabled while running")
    await click(page, ".st-key-btn_pause button", "the Pause button")
    await answer_in_view(page, CONTROLS, "Pause: done", "Pause's answer by its button (1366 × 900)")
    await page.screenshot(ARTIFACTS / "overview-pause-answer.png", full=False)
    await page.viewport(WIDE, TALL)
    try:
        await page.wait_for("document.querySelector('.st-key-btn_resume button').disabled === false", 20,
                            what="Resume enabled while paused")
        await click(page, ".st-key-btn_resume button", "the Resume button")
        await answer_in_view(page, CONTROLS, "Resume: done", "Resume's answer by its button (1920 × 1080)")
        await page.screenshot(ARTIFACTS / "overview-resume-answer-1920.png", full=False)
    finally:
        await page.viewport(WIDTH, HEIGHT)
    # Paused elsewhere (the CLI, the bot): "Resume: done" no longer holds and goes; resumed again.
    for kind, state in (("pause", "PAUSED"), ("resume", "RUNNING")):
        post_command(db, kind, {"reason": "elsewhere"}, actor="test")
        await asyncio.to_thread(wait_until, partial(_in_state, db, state), 30, 0.2, f"the engine {state}")
        if kind == "pause":
            said = f"(document.querySelector('.st-key-said_{CONTROLS}') || {{}}).innerText || ''"
            await page.wait_for(said, 20, what="'Resume: done' gone once the engine was paused elsewhere",
                                check=lambda t: "Resume: done" not in t)


def _in_state(db: Database, state: str) -> bool:
    return queries.engine_status(db).state == state


async def _rearm_from_the_risk_page(page: Page, db: Database) -> None:
    """The Risk page's Re-arm button sits in an auto-refreshing fragment: in a browser (unlike
    AppTest, which always reruns the whole script) its click must still open the dialog."""
    await open_page(page, "Risk", "Risk")
    await click(page, ".st-key-risk_rearm button", "the Risk page's Re-arm button")
    await page.wait_for(DIALOG, 15, what="the re-arm dialog", check=lambda t: "Re-arm after a kill?" in t)
    await page.screenshot(ARTIFACTS / "risk-rearm-dialog.png", full=False)
    await click(page, ".st-key-rearm_confirm button", "the re-arm confirmation")
    await asyncio.to_thread(
        wait_until, lambda: not queries.engine_status(db).kill_latched, 30, 0.2, "the kill latch cleared"
    )
    assert await page.evaluate(EXCEPTIONS) == 0


@pytest.mark.runs_long  # ~2 min: started first, not left for last
def test_every_page_in_a_browser_and_kill(tmp_path: Path) -> None:
    sup, env, port = _desk(tmp_path)
    chromium = None
    try:
        for program in ("simulator", "engine", "dashboard"):
            try:
                sup.wait_running(program, timeout=60)
            except AssertionError:
                raise AssertionError(f"{program} did not reach RUNNING:\n{_log(tmp_path, program)}") from None
        url = f"http://127.0.0.1:{port}"
        wait_until(lambda: healthy(url), 60, 0.25, "the dashboard's /_stcore/health")
        db = Database(Path(env["TRADER_DB"]))
        wait_until(
            lambda: db.exists() and not queries.engine_status(db).heartbeat_stale,
            60,
            0.2,
            "the engine's heartbeat",
        )
        chromium = Chromium(tmp_path / "chromium-profile", tmp_path / "chromium.log")
        try:
            asyncio.run(_drive(chromium.page_ws_url(), url, db, sup, env["SIMULATOR_PORT"]))
        except AssertionError as exc:
            raise AssertionError(
                f"{exc}\n--- engine log tail ---\n{_log(tmp_path, 'engine')}\n"
                f"--- dashboard log tail ---\n{_log(tmp_path, 'dashboard')}"
            ) from None
        # A whole walk through every page leaves the dashboard's log free of Streamlit's deprecation warnings.
        logged = (tmp_path / "var" / "log" / "dashboard.log").read_text(errors="replace")
        assert [line for line in logged.splitlines() if "deprecat" in line.lower()] == []
    finally:
        if chromium is not None:
            chromium.close()
        sup.shutdown()


if __name__ == "__main__":  # pragma: no cover - handy when iterating on the browser flow
    sys.exit(pytest.main([__file__, "-x", "-q"]))
