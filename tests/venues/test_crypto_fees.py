"""A taker fill on a crypto up/down window pays on paper what it pays live (issue 88, item 4). The desk finds
the window as it opens and reads its own schedule from the venue (the CLOB's `fd`, Gamma's `feeSchedule`:
r = 0.07, e = 1, makers rebated 20 %); the live adapter prices its fill with it, the venue (the simulator)
charges it, and the paper venue charges the same fill the same: 20 Up at 0.60 pay 20 × 0.07 × 0.60 × 0.40
= 0.336 pUSD, where the old curve (r = 0.25, e = 2) charged 0.288."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from eth_account import Account

from contracts.domain import MarketInfo, Side, Tif
from contracts.updown import parse_series
from engine.feeds.catalog import MarketCatalog
from engine.venues.base import OrderRequest, TradeEvent, VenueEvent
from engine.venues.latency import ZERO
from engine.venues.paper import PaperConfig, PaperVenue
from engine.venues.polymarket.series import SeriesDiscovery
from engine.venues.polymarket.venue import PolymarketVenue
from simulator.testing import SimHandle, approved_simulator
from storage.sqlite.db import Database
from storage.sqlite.migrations import migrate
from tests.execution.fakes import Clock, ScriptedBooks
from tests.venues.conftest import FAST, QUIET, collect, eventually, new_key, run, settings_for

SHARE = 1_000_000
FEE = 336_000  # 20 × 0.07 × 0.60 × 0.40 pUSD, in micro-pUSD

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def sim() -> Iterator[SimHandle]:
    with approved_simulator(seed=89, updown_series="btc-updown-5m", **QUIET) as handle:
        yield handle


def _window(sim: SimHandle, tmp_path: Path) -> MarketInfo:
    """The latest window, as the desk finds and stores it (its fees read from the venue), left to the test
    alone by the series' own trading, its book one resting ask: 20 Up at 0.60."""
    migrate(tmp_path / "t.db")
    db = Database(tmp_path / "t.db")
    discovery = SeriesDiscovery(db, sim.gamma_host, sim.clob_host)
    found = asyncio.run(discovery.discover(parse_series("btc-updown-5m"), time.time()))
    catalog = MarketCatalog()
    catalog.load(db)
    db.dispose()
    info = max((catalog.get(cid) for cid in found), key=lambda m: (m.end_ms or 0) if m else 0)
    assert info is not None
    sim.call(sim.sim.updown.windows.pop, info.condition_id, None)
    sim.clear_book(info.condition_id)
    sim.place_liquidity(info.yes_token, "SELL", "0.60", "20")
    return info


def _take(info: MarketInfo) -> OrderRequest:
    return OrderRequest(client_id="take-1", condition_id=info.condition_id, token_id=info.yes_token, side=Side.BUY,
                        price=600_000, size=20 * SHARE, tif=Tif.FOK, tick=info.tick, neg_risk=info.neg_risk)


def _fees(events: list[VenueEvent]) -> list[tuple[int, bool, str]]:
    return [(e.trade.fee, e.trade.fee_known, e.trade.liquidity) for e in events if isinstance(e, TradeEvent)]


def test_a_paper_fill_on_a_crypto_window_pays_what_the_live_one_pays(sim: SimHandle, tmp_path: Path) -> None:
    info = _window(sim, tmp_path)
    assert (info.fee_rate_ppm, info.fee_exponent, info.rebate_share_ppm) == (70_000, 1, 200_000)
    catalog = MarketCatalog([info])
    key = new_key()

    async def live() -> list[tuple[int, bool, str]]:
        events: list[VenueEvent] = []
        venue = PolymarketVenue(settings_for(sim, key), FAST, fees=catalog.fee_schedule)
        await venue.start()
        collect(venue, events)
        try:
            await eventually(lambda: venue._user is not None and venue._user.stats.connected)
            await venue.submit(await venue.prepare(_take(info)))
            return await eventually(lambda: _fees(events), timeout=10)
        finally:
            await venue.close()

    async def paper() -> list[tuple[int, bool, str]]:
        migrate(tmp_path / "paper.db")
        clock = Clock()
        books = ScriptedBooks(clock)
        books.set(info.yes_token, bids=[], asks=[(0.60, 20)])  # the same book
        venue = PaperVenue(Database(tmp_path / "paper.db"), books, catalog, config=PaperConfig(latency=ZERO),
                           clock=clock)
        await venue.start()
        events: list[VenueEvent] = []
        collect(venue, events)
        await venue.submit(await venue.prepare(_take(info)))
        return await eventually(lambda: _fees(events))

    assert run(live()) == [(FEE, True, "TAKER")]
    wallet = Account.from_key(key).address
    assert sim.balances(wallet)["pusd"] == "9987.664"  # what the venue charged: 12 pUSD and the 0.336 fee
    assert run(paper()) == [(FEE, True, "TAKER")]
