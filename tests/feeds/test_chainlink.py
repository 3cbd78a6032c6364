"""Up/down windows priced on what they settle on (issue 61, item 3): the Chainlink feed reads RTDS's
`crypto_prices_chainlink` messages as the venue sends them (its first dump of recent prices and each
report, at Chainlink's own time) and refuses what is not a price; the reference prices a window on
Chainlink while that stream is fresh and falls back to the exchange spot, naming which; its price to
beat is Gamma's when published (a window joined late is priced), else the settlement stream's average
over the minute before the start, and never a guess; near the end it prices the average that settles the
window, part known, part to come; Gamma's event is read for it, hostile answers left out. Against the
simulator: the feed hears the same Chainlink reports the simulator resolves its windows on."""

from __future__ import annotations

import asyncio
import json
import math
import time
from collections import deque
from collections.abc import Iterator

import pytest

from contracts.domain import MarketInfo
from contracts.updown import average_probability, up_probability
from engine.feeds.catalog import MarketCatalog
from engine.feeds.spot import SpotFeed
from engine.venues.polymarket.chainlink import ChainlinkFeed
from engine.venues.polymarket.series import _price_to_beat, prices_to_beat
from engine.venues.polymarket.spot_reference import Pricing, UpDownReference
from simulator.testing import SimHandle, running_simulator

ONE = 1_000_000
START = 1_764_000_000


def _message(payload: object, topic: str = "crypto_prices_chainlink") -> str:
    return json.dumps({"topic": topic, "type": "update", "timestamp": 1, "payload": payload})


def test_chainlink_messages_are_read_as_the_venue_sends_them_and_the_rest_refused() -> None:
    now = [START * 1000]
    feed = ChainlinkFeed("ws://127.0.0.1:1/rtds", ["btc"], clock_ms=lambda: now[0])
    assert json.loads(feed.subscribe_message or "") == {"action": "subscribe", "subscriptions": [
        {"topic": "crypto_prices_chainlink", "type": "*", "filters": '{"symbol":"btc/usd"}'}]}
    feed.on_text(_message({"symbol": "btc/usd", "data": [{"timestamp": START * 1000 - 2000, "value": 99.0},
                                                         {"timestamp": START * 1000 - 1000, "value": 100.0},
                                                         {"timestamp": "soon", "value": 1.0}]}))
    assert feed.history("btc") == ((START * 1000 - 2000, 99.0), (START * 1000 - 1000, 100.0))
    assert feed.age_ms("btc") is None  # a dump is history, not a report heard now
    feed.on_text(_message({"symbol": "btc/usd", "timestamp": START * 1000 + 500, "value": 101.0,
                           "full_accuracy_value": "101.000000001"}))
    assert feed.spot("btc") == (101.000000001, START * 1000 + 500) and feed.age_ms("btc") == 0
    for bad in ({"symbol": "btc/usd", "timestamp": START * 1000 + 900, "value": -5},
                {"symbol": "btc/usd", "timestamp": START * 1000 + 900, "value": "NaN"},
                {"symbol": "btc/usd", "timestamp": True, "value": 100},
                {"symbol": "btc/usd", "timestamp": START * 1000 + 600_000, "value": 100},  # ten minutes ahead
                {"symbol": "doge/usd", "timestamp": START * 1000 + 900, "value": 100},
                {"symbol": "btc/usd", "data": "all of it"}):
        feed.on_text(_message(bad))
    feed.on_text("{not json")
    feed.on_text(json.dumps({"topic": "crypto_prices_chainlink", "payload": []}))
    assert feed.rejected == 1 + 8  # the dump's unreadable point, the six above, and two frames
    feed.on_text(_message({"symbol": "btc/usd", "timestamp": START * 1000 + 400, "value": 102.0}))  # older: a repeat
    feed.on_text("PONG")
    feed.on_text(_message({"x": 1}, topic="activity"))  # another topic's: not judged here
    assert feed.spot("btc") == (101.000000001, START * 1000 + 500) and feed.rejected == 9
    for absurd in (5e-324, 1e300, 0.101):  # no market's price; a 99.9 % fall in a second (a bad print)
        feed.on_text(_message({"symbol": "btc/usd", "timestamp": START * 1000 + 1500, "value": absurd}))
    assert feed.spot("btc") == (101.000000001, START * 1000 + 500) and feed.rejected == 12
    assert feed.refusals.first == "a first dump's point without a time"  # what the one alert says


def _window_info() -> MarketInfo:
    return MarketInfo("0xw", "Bitcoin Up or Down?", "up", "down", tick=10_000, min_size=5 * ONE,
                      end_ms=(START + 300) * 1000, slug=f"btc-updown-5m-{START}")


def _flat(feed: ChainlinkFeed | SpotFeed, begin_ms: int, seconds: int, level: float) -> None:
    feed._history["btc"] = deque((begin_ms + k * 1000, level * (1 + 0.0001 * (k % 2))) for k in range(seconds))


def test_a_window_is_priced_on_chainlink_with_the_spot_as_a_named_fallback() -> None:
    now = [START * 1000 + 120_000]
    chainlink = ChainlinkFeed("ws://127.0.0.1:1/rtds", ["btc"], clock_ms=lambda: now[0])
    spot = SpotFeed("okx", "ws://127.0.0.1:1/x", ["btc"], clock_ms=lambda: now[0])
    reference = UpDownReference(chainlink, spot, MarketCatalog([_window_info()]), clock_ms=lambda: now[0],
                                spot_name="okx")
    _flat(chainlink, START * 1000 - 60_000, 181, 100.0)  # heard from a minute before the start
    _flat(spot, START * 1000 - 60_000, 181, 100.3)  # the exchange, a basis above
    chainlink.heard["btc"] = now[0]
    pricing = reference.pricing("0xw")
    assert pricing is not None and (pricing.priced_by, pricing.beat_from) == ("chainlink", "chainlink")
    # the price to beat is the stream's average over the minute before the start, not its price at the start
    assert pricing.beat == chainlink.average("btc", START * 1000 - 60_000, START * 1000, 5_000) == 100.005
    assert chainlink.at("btc", START * 1000, 5_000) == 100.0
    fair, latest = reference.reference("0xw"), chainlink.spot("btc")
    assert fair is not None and latest is not None
    sigma = chainlink.volatility("btc", latest[1])
    assert sigma is not None and pricing.beat is not None
    assert fair[0] == average_probability(latest[0], pricing.beat, 300 - 120, sigma)

    now[0] += 11_000  # Chainlink silent past STALE_MS: the exchange spot prices it, and says so
    fallback = reference.pricing("0xw")
    assert fallback is not None and fallback.priced_by == "okx" and fallback.beat_from == "okx"
    assert reference.reference("0xw") is not None
    reference.spot = None  # and with neither: no price at all, never a guess
    assert reference.pricing("0xw") is not None and reference.reference("0xw") is None


def test_a_window_joined_late_is_priced_on_gammas_price_to_beat() -> None:
    now = [START * 1000 + 200_000]
    chainlink = ChainlinkFeed("ws://127.0.0.1:1/rtds", ["btc"], clock_ms=lambda: now[0])
    reference = UpDownReference(chainlink, None, MarketCatalog([_window_info()]), clock_ms=lambda: now[0])
    _flat(chainlink, START * 1000 + 120_000, 80, 100.0)  # joined two minutes after the start
    chainlink.heard["btc"] = now[0]
    assert reference.reference("0xw") is None  # its start not heard: not priced
    window = reference._window("0xw")
    assert window is not None
    reference.set_beat(window, 99.5)  # Gamma's price to beat
    fair = reference.reference("0xw")
    latest = chainlink.spot("btc")
    assert latest is not None
    sigma = chainlink.volatility("btc", latest[1])
    assert fair is not None and sigma is not None and fair[0] > ONE // 2  # above the price to beat
    assert fair[0] == average_probability(latest[0], 99.5, (START + 300) - latest[1] / 1000, sigma)
    assert reference.pricing("0xw") == Pricing("chainlink", 99.5, "gamma")


@pytest.mark.parametrize(("minute", "last", "up"), [(100.2, 99.9, True), (99.8, 100.1, False)])
def test_near_its_end_a_window_is_priced_on_the_average_that_settles_it_not_its_last_price(
        minute: float, last: float, up: bool) -> None:
    """15 s before the end, 45 of the final minute's 60 s are known: their average, on the price to beat's
    other side from the last price, decides. The rest must average (60 K - 45 A) / 15: 99.4 when the minute
    stood at 100.2 (the last price, 99.9, clears it), 100.6 when it stood at 99.8 (100.1 does not)."""
    end_ms = (START + 300) * 1000
    now = [end_ms - 15_000]
    chainlink = ChainlinkFeed("ws://127.0.0.1:1/rtds", ["btc"], clock_ms=lambda: now[0])
    reference = UpDownReference(chainlink, None, MarketCatalog([_window_info()]), clock_ms=lambda: now[0])
    window = reference._window("0xw")
    assert window is not None
    reference.set_beat(window, 100.0)
    _flat(chainlink, START * 1000 - 60_000, 300, 100.0)  # the window at its price to beat until its last minute
    chainlink._history["btc"].extend((end_ms - 60_000 + k * 1000, minute) for k in range(45))
    chainlink._history["btc"].append((now[0], last))
    chainlink.heard["btc"] = now[0]
    fair = reference.reference("0xw")
    sigma = chainlink.volatility("btc", now[0])
    assert fair is not None and sigma is not None and fair[1] == now[0]
    assert chainlink.average("btc", end_ms - 60_000, now[0], 5_000) == minute
    assert fair[0] == average_probability(last, 100.0, 15, sigma, minute)
    snapshot = up_probability(last, 100.0, 15, sigma)  # the last price alone says the other way
    if up:
        assert fair[0] > 0.9 * ONE and snapshot < ONE // 2
    else:
        assert fair[0] < 0.1 * ONE and snapshot > ONE // 2
    assert reference.history("0xw")[-1] == (fair[1], fair[0])  # the history's last point: the same known part
    now[0] = end_ms  # the end: the minute is all known (the last price stood its 15 s), the outcome decided
    chainlink._history["btc"].append((end_ms, 50.0 if up else 150.0))  # a print at the end weighs nothing
    chainlink.heard["btc"] = now[0]
    settled = (45 * minute + 15 * last) / 60
    assert (settled >= 100.0) is up
    assert reference.reference("0xw") == ((ONE if up else 0), end_ms)


def test_gammas_price_to_beat_is_read_from_its_event_and_checked() -> None:
    slug = f"btc-updown-5m-{START}"
    assert _price_to_beat([{"slug": slug, "eventMetadata": {"priceToBeat": 64058.03}}], slug) == 64058.03
    assert _price_to_beat([{"slug": slug, "eventMetadata": {"priceToBeat": "64058.03"}}], slug) == 64058.03
    for hostile in ({"slug": slug}, {"slug": slug, "eventMetadata": {"priceToBeat": -1}},
                    {"slug": slug, "eventMetadata": {"priceToBeat": True}},
                    {"slug": slug, "eventMetadata": {"priceToBeat": "NaN"}},
                    {"slug": "another", "eventMetadata": {"priceToBeat": 1.0}},
                    {"slug": slug, "eventMetadata": "64058"}):
        assert _price_to_beat([hostile], slug) is None, hostile
    assert _price_to_beat({"slug": slug}, slug) is None  # not a list
    two = {"slug": slug, "eventMetadata": {"priceToBeat": 1.0}}
    assert _price_to_beat([two, two], slug) is None  # ambiguous


@pytest.fixture(scope="module")
def sim() -> Iterator[SimHandle]:
    with running_simulator(seed=19, updown_series="btc-updown-5m", agents=False,
                           price_to_beat_delay_s=0) as handle:
        yield handle


@pytest.mark.slow
def test_the_feed_hears_the_simulators_chainlink_and_gamma_publishes_the_price_to_beat(sim: SimHandle) -> None:
    feed = ChainlinkFeed(f"ws://127.0.0.1:{sim.port}/rtds", ["btc"])

    async def heard() -> tuple[float, int]:
        await feed.start()
        try:
            for _ in range(200):
                if feed.age_ms("btc") is not None:
                    break
                await asyncio.sleep(0.05)
            latest = feed.spot("btc")
            assert latest is not None, feed.stats
            return latest
        finally:
            await feed.close()

    price, at = asyncio.run(heard())
    oracle = sim.sim.updown.spot.chainlink["btc"]
    # the price heard is one of Chainlink's, not the spot
    assert any(math.isclose(price, p) and abs(at - t * 1000) <= 1 for t, p in oracle.points)
    assert feed.rejected == 0
    start = int(time.time()) // 300 * 300
    found = asyncio.run(prices_to_beat(f"http://127.0.0.1:{sim.port}/gamma", [f"btc-updown-5m-{start}",
                                                                             f"btc-updown-5m-{start + 300}"]))
    cid = next(c for c, (_, begin, _) in sim.sim.updown.events.items() if begin == start)
    assert found == {f"btc-updown-5m-{start}": round(sim.sim.updown.openings[cid], 8)}  # the next: not open
