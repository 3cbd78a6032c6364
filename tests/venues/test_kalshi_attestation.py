"""A lapsed location attestation bars only Sports, Elections and Entertainment markets (Kalshi's changelog of
2026-08-16: "once this date has passed, API keys are not valid for trading Sports, Elections, and
Entertainment markets"): the simulator's Kalshi side refuses the key's orders there (403) and takes them
elsewhere; the desk's live Kalshi venue holds its quotes in those markets (VENUE_RESTRICTED) and nowhere
else, and quotes them again once the attestation is renewed."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from contracts.settings import load_settings
from contracts.venues.kalshi.ids import market_id
from engine.venues.kalshi.http import KalshiError
from engine.venues.kalshi.venue import KalshiVenue
from simulator.testing import SimHandle, running_simulator
from tests.kalshi import admin, binary_tickers, host, keypair
from tests.kalshi import client as kalshi_client

MICRO = 1_000_000


@pytest.fixture(scope="module")
def sim() -> Iterator[SimHandle]:
    with running_simulator(seed=188, agents=False, prefill_books=False, kalshi_markets=3, kalshi_parlays=0,
                           kalshi_weekly_pause=False) as handle:
        yield handle


def _sports(sim: SimHandle) -> tuple[str, str]:
    """(a market of a Sports series, a market of another series)."""
    tickers = binary_tickers(sim)
    series = {t: sim.call(lambda t=t: sim.sim.kalshi.exchange.markets[t].series_ticker) for t in tickers}
    sports = tickers[-1]
    other = next(t for t in tickers if series[t] != series[sports])
    assert admin(sim, f"/_sim/kalshi/series/{series[sports]}/categories", {"categories": ["Sports"]})[0] == 200
    return sports, other


def test_the_simulator_bars_a_lapsed_keys_orders_in_the_barred_categories_only(sim: SimHandle) -> None:
    sports, other = _sports(sim)
    c, name = kalshi_client(sim)
    admin(sim, "/_sim/kalshi/attestation", {"account": name, "expires_at_s": None})  # never attested

    def bid(ticker: str) -> object:
        return asyncio.run(c.create_order(ticker=ticker, client_order_id=f"b-{ticker}", book_side="bid",
                                          price=10_000, count=MICRO, time_in_force="good_till_canceled"))

    with pytest.raises(KalshiError) as refused:
        bid(sports)
    assert refused.value.status == 403 and "Sports" in refused.value.details
    assert bid(other) is not None  # every other market trades on
    asyncio.run(c.close())


def test_the_desk_holds_its_quotes_in_a_barred_market_and_quotes_it_again_once_renewed(
        sim: SimHandle, tmp_path: Path) -> None:
    sports, other = _sports(sim)
    private, public = keypair()
    status, body = admin(sim, "/_sim/kalshi/api-keys", {"public_key": public})
    assert status == 200
    env = tmp_path / "k.env"
    env.write_text(f"DATA_SOURCE=simulator\nSIMULATOR_PORT={sim.port}\nKALSHI_API_KEY_ID={body['api_key_id']}\n"
                   f"KALSHI_PRIVATE_KEY={private.strip().replace(chr(10), chr(92) + 'n')}\n")
    settings = load_settings({"TRADER_ENV_FILE": str(env), "TRADER_DB": str(tmp_path / "t.db")})
    assert settings.kalshi is not None and settings.kalshi.host == host(sim)
    admin(sim, "/_sim/kalshi/attestation", {"account": body["account"], "expires_at_s": int(time.time()) - 60})
    venue = KalshiVenue(settings.kalshi, poll_s=3600, reconcile_s=3600, stream=False)
    wanted = {market_id(sports): [(10_000, MICRO)], market_id(other): [(10_000, MICRO)]}

    async def scenario() -> tuple[dict[str, str], dict[str, str]]:
        await venue.start()
        try:
            held = {}
            for _ in range(100):  # the market's category is read in the background, once
                held = {c: h.reason for c, h in venue.funds.quote_holds(wanted, {}, int(time.time() * 1000)).items()}
                if venue.funds.location.categories.get(sports) is not None:
                    break
                await asyncio.sleep(0.05)
            admin(sim, "/_sim/kalshi/attestation", {"account": body["account"],
                                                   "expires_at_s": int(time.time()) + 90 * 86_400})
            await venue.funds.location.refresh(int(time.time() * 1000))  # (the hourly read, now)
            renewed = {c: h.reason for c, h in venue.funds.quote_holds(wanted, {}, int(time.time() * 1000)).items()}
            return held, renewed
        finally:
            await venue.close()

    held, renewed = asyncio.run(scenario())
    assert held == {market_id(sports): "VENUE_RESTRICTED"}  # the Sports market alone, not the other
    assert renewed == {}
