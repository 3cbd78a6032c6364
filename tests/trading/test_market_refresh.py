"""The market refresh never fails the desk (issue 33): a listing page that fails keeps the last
good catalog (the strategies keep their markets), alerts once however often it repeats, and says
so again once a refresh reads the listing whole. The real trading core and its refresh against
a local keyset Gamma whose pages can be broken."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import text

from engine.venues.polymarket.discovery import make_refresh_job
from simulator.testing import SimHandle, approved_simulator
from tests.feeds.test_discovery_keyset import KeysetGamma
from tests.trading.test_whole_arbitrage import _core


@pytest.fixture(scope="module")
def sim() -> Iterator[SimHandle]:
    with approved_simulator(seed=45, agents=False) as handle:
        yield handle


def test_a_failing_refresh_keeps_the_catalog_and_alerts_once_until_it_reads_again(tmp_path: Path,
                                                                                   sim: SimHandle) -> None:
    core = _core(tmp_path, sim, [sim.markets()[0]["condition_id"]])
    gamma = KeysetGamma(250)

    async def scenario() -> tuple[int, int]:
        await core.start(operator=True)
        await core._stop_loop()
        known = len(core.catalog.all())
        async with gamma as host:
            core.link.refresh_markets = make_refresh_job(core.db, host, host)
            gamma.broken_page = 1
            for _ in range(3):
                await core.link.discover()  # three refreshes fail on their second page
            during = len(core.catalog.all())
            gamma.broken_page = None
            await core.link.discover()
        await core.stop()
        return known, during

    known, during = asyncio.run(scenario())
    assert known == 14 and during == known + 100  # the first page's markets were stored; nothing was lost
    with core.db.read() as conn:
        codes = list(conn.execute(text("SELECT code FROM alerts WHERE code LIKE 'MARKETS_REFRESH%' ORDER BY id"))
                     .scalars())
        closed = conn.execute(text("SELECT COUNT(*) FROM markets WHERE closed = 1")).scalar_one()
    assert codes == ["MARKETS_REFRESH_FAILED", "MARKETS_REFRESH_OK"]
    assert closed == 14  # the simulator's markets left the (complete) listing of the new Gamma: closed
