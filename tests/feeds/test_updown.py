"""The short crypto up/down series on the desk's side: series names checked, window slugs read,
P(Up) from the spot; the spot ticker streams of OKX and Binance read as they speak (the simulator
serves both); each series' current and next window found on Gamma by slug and stored with its
fees; and the reference price of a window only when the desk heard its opening price."""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import Iterator
from pathlib import Path

import pytest

from contracts.domain import MarketInfo
from contracts.updown import Series, SeriesError, average_probability, parse_series, up_probability, window_of
from engine.feeds.catalog import MarketCatalog
from engine.feeds.spot import SpotFeed
from engine.venues.polymarket.series import SeriesDiscovery
from engine.venues.polymarket.spot_reference import UpDownReference
from simulator.testing import SimHandle, running_simulator
from storage.sqlite.db import Database
from storage.sqlite.migrations import migrate

ONE = 1_000_000


@pytest.fixture(scope="module")
def sim() -> Iterator[SimHandle]:
    with running_simulator(seed=9, updown_series="btc-updown-5m,eth-updown-15m") as handle:
        yield handle


def test_series_names_slugs_and_the_probability_of_up() -> None:
    assert parse_series(" BTC-updown-5m, eth-updown-15m,btc-updown-5m") == (Series("btc", "5m"), Series("eth", "15m"))
    for bad, why in (("doge-updown-5m", "asset"), ("btc-updown-10m", "interval"), ("bitcoin 5m", "not a series")):
        with pytest.raises(SeriesError, match=why):
            parse_series(bad)
    window = window_of("btc-updown-5m-1764000000")
    assert window is not None and (window.start_s, window.end_s) == (1764000000, 1764000300)
    assert window_of("btc-updown-5m-1764000001") is None  # not on the window grid
    assert window_of("will-bitcoin-reach-100k") is None and window_of(None) is None
    assert up_probability(100.0, 100.0, 60, 0.001) == ONE // 2
    assert up_probability(101.0, 100.0, 60, 0.001) > 0.9 * ONE  # 1 % above with little time and volatility
    assert up_probability(99.0, 100.0, 0, 0.001) == 0 and up_probability(100.0, 100.0, 0, 0.001) == ONE


@pytest.mark.slow
@pytest.mark.parametrize(("protocol", "path"), [("okx", "/okx/ws/v5/public"), ("binance", "/binance")])
def test_the_spot_feed_reads_the_exchanges_tickers_as_they_speak(sim: SimHandle, protocol: str, path: str) -> None:
    feed = SpotFeed(protocol, f"ws://127.0.0.1:{sim.sim.port}{path}", ["btc", "eth"])

    async def scenario() -> tuple[float, float]:
        await feed.start()
        try:
            for _ in range(200):
                if feed.spot("btc") and feed.spot("eth"):
                    break
                await asyncio.sleep(0.05)
            spot_btc, spot_eth = feed.spot("btc"), feed.spot("eth")
            assert spot_btc is not None and spot_eth is not None, feed.stats
            return spot_btc[0], spot_eth[0]
        finally:
            await feed.close()

    btc, eth = asyncio.run(scenario())
    walks = sim.sim.updown.spot.walks
    assert any(abs(btc - price) < 0.01 for _, price in walks["btc"].points)  # a price the simulator quoted
    assert any(abs(eth - price) < 0.01 for _, price in walks["eth"].points)
    assert feed.rejected == 0


def test_ticker_messages_that_are_not_prices_are_counted_and_dropped() -> None:
    okx = SpotFeed("okx", "ws://127.0.0.1:1/x", ["btc"], clock_ms=lambda: 5)
    okx.on_text('{"event":"error","code":"60018","msg":"Wrong URL"}')
    okx.on_text('{"arg":{},"data":[{"instId":"BTC-USDT","last":"-3"}]}')
    okx.on_text('{"arg":{},"data":[{"instId":"DOGE-USDT","last":"3"}]}')
    okx.on_text("not json")
    okx.on_text('{"arg":{},"data":[{"instId":"BTC-USDT","last":"97000.5"}]}')
    assert okx.rejected == 4 and okx.last_error == "60018: Wrong URL"
    assert okx.spot("btc") == (97000.5, 5)
    binance = SpotFeed("binance", "ws://127.0.0.1:1", ["btc"], clock_ms=lambda: 7)
    assert binance.url == "ws://127.0.0.1:1/stream?streams=btcusdt@ticker"
    binance.on_text('{"stream":"btcusdt@ticker","data":{"e":"24hrTicker","s":"BTCUSDT","c":"96000"}}')
    binance.on_text('{"stream":"btcusdt@ticker","data":{"e":"24hrTicker","s":"BTCUSDT","c":"NaN"}}')
    assert binance.spot("btc") == (96000.0, 7) and binance.rejected == 1


@pytest.mark.slow
def test_each_series_current_and_next_window_is_found_by_slug_and_stored_with_its_fees(tmp_path: Path,
                                                                                      sim: SimHandle) -> None:
    migrate(tmp_path / "t.db")
    db = Database(tmp_path / "t.db")
    port = sim.sim.port
    discovery = SeriesDiscovery(db, f"http://127.0.0.1:{port}/gamma", f"http://127.0.0.1:{port}")
    series = parse_series("btc-updown-5m,eth-updown-15m")
    now = time.time()
    found = asyncio.run(discovery.discover(series, now))
    assert len(found) == 4  # two series, the current and the next window each
    catalog = MarketCatalog()
    catalog.load(db)
    infos = [catalog.get(cid) for cid in found]
    slugs = {info.slug for info in infos if info is not None}
    btc_start, eth_start = int(now) // 300 * 300, int(now) // 900 * 900
    assert slugs == {f"btc-updown-5m-{btc_start}", f"btc-updown-5m-{btc_start + 300}",
                     f"eth-updown-15m-{eth_start}", f"eth-updown-15m-{eth_start + 900}"}
    # Each market's own schedule, as the venue lists its crypto markets (Gamma's feeSchedule, the CLOB's fd):
    # r = 0.07, e = 1, makers rebated 20 % of the taker fees.
    assert {(i.fees_known, i.fee_rate_ppm, i.fee_exponent, i.rebate_share_ppm) for i in infos if i is not None} == {
        (True, 70_000, 1, 200_000)}
    assert asyncio.run(discovery.discover(series, now)) == []  # known: nothing asked again
    db.dispose()


def test_a_windows_reference_needs_its_price_to_beat_heard_and_a_minute_of_prices() -> None:
    start = 1_764_000_000
    clock = [start * 1000 + 120_000]
    feed = SpotFeed("okx", "ws://127.0.0.1:1/x", ["btc"], clock_ms=lambda: clock[0])
    info = MarketInfo("0xw", "Bitcoin Up or Down?", "up", "down", tick=10_000, min_size=5 * ONE,
                      end_ms=(start + 300) * 1000, slug=f"btc-updown-5m-{start}")
    reference = UpDownReference(None, feed, MarketCatalog([info]), clock_ms=lambda: clock[0], spot_name="okx")
    # heard from 30 s before the start only: the minute its price to beat averages is unknown, so no reference
    feed._history["btc"] = deque((start * 1000 - 30_000 + k * 1000, 100.0 + 0.01 * (k % 3)) for k in range(120))
    assert reference.reference("0xw") is None
    # heard from two minutes before the start: the minute before it averages 100.01 (its last price 100.02, a
    # snapshot's); now 100.5, 3 minutes left, the final average's minute not begun: priced as that minute's
    # average will vary, 40 s less than the 180 left
    feed._history["btc"] = deque((start * 1000 - 120_000 + k * 1000, 100.0 + 0.01 * (k % 3)) for k in range(120))
    feed._history["btc"].extend([(clock[0] - 1000, 100.0), (clock[0], 100.5)])
    latest = reference.reference("0xw")
    assert latest is not None and latest[1] == clock[0]
    sigma = feed.volatility("btc", clock[0])
    assert sigma is not None and latest[0] == up_probability(100.5, 100.01, 140, sigma)
    assert latest[0] == average_probability(100.5, 100.01, 180, sigma) > ONE // 2
    assert reference.history("0xw")[-1] == (clock[0], latest[0])
    # two prices two minutes apart are too few for a volatility: none either
    short = SpotFeed("okx", "ws://127.0.0.1:1/x", ["btc"], clock_ms=lambda: clock[0])
    short._history["btc"] = deque([(start * 1000 - 1000, 100.0), (clock[0], 100.5)])
    assert UpDownReference(None, short, MarketCatalog([info]), clock_ms=lambda: clock[0]).reference("0xw") is None
