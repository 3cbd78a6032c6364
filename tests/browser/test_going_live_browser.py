"""Going live, seen as the operator sees it in a real browser: a real engine (holding a wallet key,
stopped) on the strict simulator, the real dashboard, headless Chromium at 1366 px. The Settings page
shows every requirement of the arming gate up front with its fix; Switch to LIVE is refused naming
the failing checks; a real `engine preflight` and a promoted strategy later, the same page arms the
desk; the header then says LIVE *on the simulator, no real money*, never "real money"; started, a
promoted strategy selecting no market leaves the Overview saying why nothing is placed."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest

from simulator.testing import SimHandle, approved_simulator
from tests.arming import promoted
from tests.browser.cdp import BROWSER_MARKS, Chromium, Page
from tests.browser.layout import HEIGHT, WIDTH
from tests.browser.navigation import EXCEPTIONS, click, login, open_page
from tests.browser.test_foreign_text import _dashboard
from tests.helpers import ROOT, EngineProcess, live_desk, run_cli, wait_until

pytestmark = BROWSER_MARKS
ARTIFACTS = ROOT / "test-artifacts"
BODY = "(document.body ? document.body.innerText : '')"  # (no body for a moment while a reload runs)


@pytest.fixture(scope="module")
def sim() -> Iterator[SimHandle]:
    with approved_simulator(seed=97, agents=False) as handle:
        yield handle


async def _type(page: Page, key: str, value: str) -> None:
    field = f"document.querySelector('.st-key-{key} input')"
    await page.wait_for(f"!!{field}", 30, what=f"the {key} box")
    await page.evaluate(f"(() => {{ const i = {field}; i.scrollIntoView({{block: 'center'}}); i.focus(); "
                        "i.select(); })()")
    await page.type_text(value)
    await page.evaluate(f"{field}.blur()")  # Streamlit takes a text box's value when it loses focus


async def _switch_to_live(page: Page) -> None:
    await _type(page, "live_confirm", "LIVE")
    await click(page, ".st-key-go_live button", "Switch to LIVE")


def _stopped_engine(tmp: Path, sim: SimHandle) -> tuple[EngineProcess, str]:
    engine, funder = live_desk(tmp, sim, mode="paper")
    engine.env["RELAYER_API_KEY"] = "sim-relayer-key"
    sim.fund(funder, pusd="100")
    with sqlite3.connect(engine.db_path) as conn:
        conn.execute("UPDATE engine_state SET desired_state = 'RUNNING'")  # it lists the markets, then stops
    return engine, funder


async def _walk(page: Page, url: str, engine: EngineProcess) -> None:
    await login(page, url)
    await open_page(page, "Settings", "Settings")
    for line in ("wallet key read by the engine", "no preflight of this account on this host in the last hour",
                 "fix: run it", "a promoted strategy", "engine stopped", "no open orders"):
        await page.wait_for(f"{BODY}.includes({line!r})", 30, what=f"the checklist's {line!r}")
    await page.screenshot(ARTIFACTS / "settings-arming-checklist.png")
    await _switch_to_live(page)
    await page.wait_for(f"{BODY}.includes('Not switched to live')", 30, what="the refusal")
    said = await page.evaluate(BODY)
    assert "preflight: no preflight of this account" in said and "a promoted strategy:" in said
    assert engine.status().mode == "paper" and engine.rows("SELECT COUNT(*) FROM commands "
                                                           "WHERE kind = 'set_mode'") == [(0,)]
    done = await asyncio.to_thread(run_cli, ["preflight", "--json"], engine.env, None, 180)
    assert done.returncode == 0, done.stdout + done.stderr
    promoted(engine.db_path, "nowhere-mm", ["0x" + "0" * 64])  # promoted, on a market nobody lists
    await page.reload()
    await page.wait_for(f"{BODY}.includes('passed at')", 40, what="the preflight counted")
    await _switch_to_live(page)
    await page.wait_for(f"{BODY}.includes('Switch to LIVE: done')", 40, what="the engine's answer")
    await page.wait_for(f"{BODY}.includes('LIVE on 127.0.0.1: no real money')", 30, what="the honest badge")
    assert "real money." not in (await page.evaluate(BODY)).replace("no real money", "")
    assert engine.status().mode == "live"
    assert engine.run("start", timeout=60).status == "done"
    await open_page(page, "Overview", "Overview")
    await page.wait_for(f"{BODY}.includes('Running, but no order is working')", 40, what="why nothing is placed")
    assert "nowhere-mm selects no market" in await page.evaluate(BODY)
    assert await page.evaluate(EXCEPTIONS) == 0
    await page.screenshot(ARTIFACTS / "overview-running-idle.png", full=False)


def test_arming_from_the_settings_page_is_gated_and_honest(tmp_path: Path, sim: SimHandle) -> None:
    engine, _ = _stopped_engine(tmp_path, sim)
    try:
        engine.start()
        wait_until(lambda: engine.rows("SELECT COUNT(*) FROM markets")[0][0] > 0, 60, what="the market list")
        assert engine.run("stop", timeout=30).status == "done"
        with _dashboard(tmp_path, engine.db_path) as url:
            chromium = Chromium(tmp_path / "chromium-profile", tmp_path / "chromium.log")
            try:
                async def drive() -> None:
                    page = await Page.open(chromium.page_ws_url())
                    try:
                        await page.viewport(WIDTH, HEIGHT)
                        await _walk(page, url, engine)
                    finally:
                        await page.close()

                asyncio.run(drive())
            finally:
                chromium.close()
    finally:
        engine.cleanup()
