"""The Kalshi venue (engine/venues/kalshi/venue.py) through the desk's own client against the simulator's
Kalshi side as Kalshi answers today: its key read from settings as a user writes it, V2 orders placed
on the YES book for either token, found, filled by another trader in fractions of a contract (heard
on the account's stream and reconciled from REST, each once), cancelled and refused in the desk's
terms with Kalshi's codes, Kalshi's own fee per fill booked, balances exact to $0.0001, a retried send
that never makes a second order, pacing by the account's token budget, and not one call to an
endpoint Kalshi retired."""

from __future__ import annotations

import asyncio
import json
import os
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from contracts.domain import Side, Tif
from contracts.order_status import VenueOrderStatus
from contracts.settings import SettingsError, load_settings
from contracts.venues.kalshi.ids import market_id, token_id
from engine.venues.base import (
    OrderEvent,
    OrderRejected,
    OrderRequest,
    TradeEvent,
    VenueBusy,
    VenueError,
    VenueUnavailable,
)
from engine.venues.kalshi.venue import KalshiVenue
from engine.venues.refusals import Refusal, classify
from simulator.testing import SimHandle, running_simulator
from tests.kalshi import binary_tickers, keypair, register, structure, trade

C = 1_000_000  # a contract, a dollar


def _venue(sim: SimHandle, tmp_path: Path, key_id: str, private_pem: str, timeout_s: float = 10.0,
           stream: bool = True) -> KalshiVenue:
    """Settings as a user writes them in .env: the PEM on one line with \\n."""
    env = tmp_path / f"{key_id}.env"
    env.write_text(f"DATA_SOURCE=simulator\nSIMULATOR_PORT={sim.port}\nKALSHI_API_KEY_ID={key_id}\n"
                   f"KALSHI_PRIVATE_KEY={private_pem.strip().replace(chr(10), chr(92) + 'n')}\n")
    settings = load_settings({"TRADER_ENV_FILE": str(env), "TRADER_DB": str(tmp_path / "t.db")})
    assert settings.kalshi is not None and settings.kalshi.host == f"http://127.0.0.1:{sim.port}/trade-api/v2"
    assert settings.kalshi.ws_host == f"ws://127.0.0.1:{sim.port}/trade-api/ws/v2"
    return KalshiVenue(settings.kalshi, poll_s=3600, reconcile_s=3600, timeout_s=timeout_s, stream=stream)


@pytest.fixture(scope="module")
def sim() -> Iterator[SimHandle]:
    with running_simulator(seed=5, agents=False, prefill_books=False, kalshi_markets=6) as handle:
        yield handle
        assert handle.call(lambda: handle.sim.kalshi.retired_calls) == 0  # no endpoint Kalshi retired, ever


def _account(sim: SimHandle, tmp_path: Path, **kwargs: Any) -> KalshiVenue:
    private_pem, public_pem = keypair()
    return _venue(sim, tmp_path, register(sim, public_pem), private_pem, **kwargs)


def _market(venue: KalshiVenue, ticker: str) -> tuple[int, int]:
    """(best YES bid, best YES ask) in micro-dollars."""
    m = asyncio.run(venue.client.market(ticker))
    return m.yes_bid, m.yes_ask


def _request(client_id: str, ticker: str, side: Side, price: int, size: int, *, outcome: str = "yes",
             post_only: bool = False, tif: Tif = Tif.GTC) -> OrderRequest:
    return OrderRequest(client_id, market_id(ticker), token_id(ticker, outcome), side, price, size, tif=tif,
                        post_only=post_only)


async def _place(venue: KalshiVenue, request: OrderRequest) -> Any:
    return await venue.submit(await venue.prepare(request))


async def _until(predicate: Any, what: str, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        await asyncio.sleep(0.02)


async def _next(venue: KalshiVenue) -> Any:
    return await asyncio.wait_for(venue.events.get(), 10)


def test_a_resting_order_is_filled_in_fractions_heard_at_once_and_booked_with_kalshis_fee(sim: SimHandle,
                                                                                         tmp_path: Path) -> None:
    ticker = next(t for t in binary_tickers(sim) if structure(sim, t) == "tapered_deci_cent")  # charges makers
    maker = _account(sim, tmp_path)
    bid, _ = _market(maker, ticker)

    async def scenario() -> None:
        await maker.start()
        try:
            await _until(lambda: maker.stream is not None and maker.stream.stats.connected, "the stream")
            price = bid + 10_000
            before = await maker.balances([token_id(ticker, "yes")])
            placed = await _place(maker, _request("mm-1", ticker, Side.BUY, price, 4 * C, post_only=True))
            assert (placed.status, placed.filled) == (VenueOrderStatus.LIVE, 0)
            assert placed.venue_order_id == "mm-1:yes:buy"  # the desk's token and side, in Kalshi's client order id
            assert [o.venue_order_id for o in await maker.open_orders()] == ["mm-1:yes:buy"]
            for count in ("1.50", "2.50"):  # another trader sells into it, half a contract at a time and more
                await asyncio.to_thread(trade, sim, ticker, "ask", f"{price / C:.4f}", count)
            first, second, ended = await _next(maker), await _next(maker), await _next(maker)
            assert isinstance(first, TradeEvent) and isinstance(second, TradeEvent) and isinstance(ended, OrderEvent)
            t = first.trade
            assert (t.venue_order_id, t.token_id, t.side, t.price, t.size, t.liquidity) == \
                ("mm-1:yes:buy", token_id(ticker, "yes"), Side.BUY, price, 1_500_000, "MAKER")
            assert t.fee > 0 and second.trade.size == 2_500_000
            assert ended.order.status is VenueOrderStatus.MATCHED and ended.order.filled == 4 * C
            assert await maker.poll_once() == 0  # the REST reconcile finds nothing the stream did not bring
            after = await maker.balances([token_id(ticker, "yes")])
            assert after.tokens[token_id(ticker, "yes")] == 4 * C
            fees = t.fee + second.trade.fee  # Kalshi's own, to the micro-dollar
            assert before.collateral - after.collateral == 4 * price + fees and after.collateral % 100 == 0
        finally:
            await maker.close()

    asyncio.run(scenario())


def test_a_no_order_goes_to_the_yes_book_and_comes_back_as_the_desks_order(sim: SimHandle, tmp_path: Path) -> None:
    ticker = binary_tickers(sim)[0]
    venue = _account(sim, tmp_path, stream=False)
    bid, ask = _market(venue, ticker)

    async def scenario() -> None:
        await venue.start()
        try:
            no_price = C - bid  # buying NO at 1 - the YES bid takes that bid: an ask on the YES book
            placed = await _place(venue, _request("n-1", ticker, Side.BUY, no_price, 2 * C, outcome="no",
                                                  tif=Tif.FAK))
            assert placed.status is VenueOrderStatus.MATCHED and placed.filled == 2 * C
            assert await venue.poll_once() == 1
            fill = venue.events.get_nowait()
            assert isinstance(fill, TradeEvent)
            assert (fill.trade.token_id, fill.trade.side, fill.trade.price) == (token_id(ticker, "no"), Side.BUY,
                                                                                 no_price)
            held = await venue.balances([token_id(ticker, "no"), token_id(ticker, "yes")])
            assert held.tokens == {token_id(ticker, "no"): 2 * C, token_id(ticker, "yes"): 0}
        finally:
            await venue.close()

    asyncio.run(scenario())


def test_cancel_a_retried_send_and_refusals_in_kalshis_words(sim: SimHandle, tmp_path: Path) -> None:
    ticker = next(t for t in binary_tickers(sim) if structure(sim, t) == "linear_cent")
    venue = _account(sim, tmp_path, stream=False)
    bid, ask = _market(venue, ticker)

    async def scenario() -> None:
        await venue.start()
        try:
            request = _request("c-1", ticker, Side.BUY, bid - 20_000, 3 * C, post_only=True)
            first = await _place(venue, request)
            again = await _place(venue, request)  # the answer was lost and the executor sends it again
            assert again.venue_order_id == first.venue_order_id == "c-1:yes:buy"
            assert len(await venue.open_orders()) == 1  # never a second order
            done = await venue.cancel(["c-1:yes:buy", "nobody"])
            assert done.canceled == ("c-1:yes:buy",) and "nobody" in done.not_canceled
            assert (await venue.get_order("c-1:yes:buy")).status is VenueOrderStatus.CANCELED
            with pytest.raises(OrderRejected, match="post only cross") as crossed:
                await _place(venue, _request("c-2", ticker, Side.BUY, ask, C, post_only=True))
            assert classify(str(crossed.value)) is Refusal.BUSINESS  # the market's answer, not a fault
            off_grid = _request("c-3", ticker, Side.BUY, 455_000, C)  # half a cent, on a whole-cent market
            venue.grid_of = lambda cid: ((0, C, 1_000),)  # as if the desk had read a finer grid than Kalshi's
            with pytest.raises(OrderRejected, match="invalid_price"):
                await _place(venue, off_grid)  # Kalshi refuses it in its words
            venue.grid_of = lambda cid: ()  # (not read: whole cents, which every grid accepts)
            with pytest.raises(OrderRejected, match="0.01"):
                await _place(venue, _request("c-4", ticker, Side.BUY, bid - 20_000, 1_234))  # 0.001234 contract
            gtd = _request("c-5", ticker, Side.BUY, bid - 20_000, C, tif=Tif.GTD)
            assert "GTD" in json.loads((await venue.prepare(gtd)).payload)["refused"]
            results = await venue.submit_many([await venue.prepare(off_grid),
                                               await venue.prepare(_request("c-6", ticker, Side.BUY, 20_000, C))])
            assert results[0].error is not None and results[1].status is VenueOrderStatus.LIVE
            assert (await venue.cancel_all()).canceled == ("c-6:yes:buy",)
        finally:
            await venue.close()

    asyncio.run(scenario())


def test_a_grid_the_desk_has_read_refuses_an_off_grid_price_before_sending(sim: SimHandle, tmp_path: Path) -> None:
    ticker = binary_tickers(sim)[0]
    private_pem, public_pem = keypair()
    venue = _venue(sim, tmp_path, register(sim, public_pem), private_pem)
    venue.grid_of = lambda cid: ((0, C, 10_000),)
    payload = json.loads(asyncio.run(venue.prepare(_request("g-1", ticker, Side.BUY, 455_000, C))).payload)
    assert "not on the market's price grid" in payload["refused"]
    sub_penny = json.loads(asyncio.run(venue.prepare(_request("g-2", ticker, Side.SELL, 995_000, C))).payload)
    venue.grid_of = lambda cid: ((0, 100_000, 1_000), (100_000, 900_000, 10_000), (900_000, C, 1_000))
    sub_penny = json.loads(asyncio.run(venue.prepare(_request("g-2", ticker, Side.SELL, 995_000, C))).payload)
    assert (sub_penny["price"], sub_penny["side"], sub_penny["count"]) == ("0.9950", "ask", "1.00")  # exactly


def test_a_wrong_key_a_read_only_key_and_the_write_budget_read_as_the_desks_errors(sim: SimHandle,
                                                                                   tmp_path: Path) -> None:
    _, public_pem = keypair()
    stranger, _ = keypair()
    impostor = _venue(sim, tmp_path, register(sim, public_pem), stranger)
    with pytest.raises(VenueError, match="check KALSHI_API_KEY_ID"):
        asyncio.run(impostor.start())
    ticker = binary_tickers(sim)[1]
    private_pem, public_pem = keypair()
    from tests.kalshi import admin

    status, body = admin(sim, "/_sim/kalshi/api-keys", {"public_key": public_pem, "scopes": ["read"]})
    reader = _venue(sim, tmp_path, body["api_key_id"], private_pem, stream=False)
    with pytest.raises(VenueError, match="403"):
        asyncio.run(_place(reader, _request("r-1", ticker, Side.BUY, 20_000, C)))
    asyncio.run(reader.close())

    venue = _account(sim, tmp_path, stream=False)

    async def burst() -> tuple[int, int]:
        await venue.start()  # reads the account's budget: 100 write tokens a second, an order 10
        try:
            started = time.monotonic()
            for n in range(25):
                await _place(venue, _request(f"w-{n}", ticker, Side.BUY, 20_000, C))
            return venue.client.http.busy, round(time.monotonic() - started)
        finally:
            await venue.close()

    busy, took = asyncio.run(burst())
    assert busy == 0 and took >= 1  # paced below Kalshi's budget: never refused, the 25th waited its tokens


def test_a_429_is_backed_off_and_the_order_then_goes(sim: SimHandle, tmp_path: Path) -> None:
    """Another client of the same account spends the write budget: Kalshi answers 429 with no
    Retry-After; the desk backs off exponentially and the order goes once tokens are back."""
    ticker = binary_tickers(sim)[2]
    venue = _account(sim, tmp_path, stream=False)
    account = sim.call(lambda: next(iter(sim.sim.kalshi.keys.keys.values())).account)
    assert account

    async def scenario() -> Any:
        await venue.start()
        try:
            who = sim.call(lambda: sim.sim.kalshi.keys.keys[venue.client.http.signer.key_id].account)
            sim.call(lambda: sim.sim.kalshi.limited(who, True, 100))  # the bucket spent elsewhere
            return await _place(venue, _request("bk-1", ticker, Side.BUY, 20_000, C))
        finally:
            await venue.close()

    placed = asyncio.run(scenario())
    assert placed.status is VenueOrderStatus.LIVE and venue.client.http.busy >= 1


def test_kalshi_settings_are_checked_and_never_echo_the_key(tmp_path: Path) -> None:
    private_pem, _ = keypair()
    base = {"TRADER_ENV_FILE": os.devnull, "TRADER_DB": str(tmp_path / "t.db")}
    with pytest.raises(SettingsError, match="KALSHI_PRIVATE_KEY is malformed") as bad:
        load_settings({**base, "KALSHI_API_KEY_ID": "k", "KALSHI_PRIVATE_KEY": "MIIEv-not-a-key"})
    assert "MIIEv" not in str(bad.value)
    with pytest.raises(SettingsError, match="KALSHI_PRIVATE_KEY is empty"):
        load_settings({**base, "KALSHI_API_KEY_ID": "k"})
    demo = load_settings({**base, "DATA_SOURCE": "polymarket", "KALSHI_ENVIRONMENT": "demo"}).kalshi
    assert demo is not None and demo.host == "https://external-api.demo.kalshi.co/trade-api/v2" and not demo.configured
    assert demo.ws_host == "wss://external-api-ws.demo.kalshi.co/trade-api/ws/v2"  # its own name, not derived
    prod = load_settings({**base, "DATA_SOURCE": "polymarket", "KALSHI_HOST": "https://api.elections.kalshi.com/"
                                                                             "trade-api/v2"}).kalshi
    assert prod is not None and prod.ws_host == "wss://external-api-ws.kalshi.com/trade-api/ws/v2"
    with pytest.raises(SettingsError, match="KALSHI_WS_HOST must start with ws"):
        load_settings({**base, "KALSHI_WS_HOST": "https://x"})
    with pytest.raises(SettingsError, match="KALSHI_ENVIRONMENT must be prod or demo"):
        load_settings({**base, "KALSHI_ENVIRONMENT": "staging"})
    settings = load_settings({**base, "KALSHI_API_KEY_ID": "k", "KALSHI_PRIVATE_KEY": private_pem})
    assert settings.kalshi is not None and "PRIVATE" not in repr(settings.kalshi)
    from contracts.settings import secret_values

    body_line = private_pem.splitlines()[1]
    assert body_line in secret_values(settings)  # the log filter redacts each line of the key


def test_the_kalshi_key_seals_with_the_other_secrets(tmp_path: Path) -> None:
    """Kept encrypted at rest: sealed, the key is only read with the passphrase (and the plain
    value beside a sealed one is refused, as for every sealed secret)."""
    from contracts.sealed_secrets import seal, unseal

    private_pem, _ = keypair()
    values = {"KALSHI_API_KEY_ID": "key-1", "KALSHI_PRIVATE_KEY": private_pem.replace("\n", "\\n")}
    sealed = tmp_path / "secrets.json"
    sealed.write_text(json.dumps(seal(values, "a long passphrase")))
    base = {"TRADER_ENV_FILE": os.devnull, "TRADER_DB": str(tmp_path / "t.db"), "POLY_SECRETS_FILE": str(sealed)}
    locked = load_settings(base)
    assert locked.kalshi is not None and not locked.kalshi.configured
    assert set(locked.sealed_names) == set(values)
    opened = load_settings(base, unsealed=unseal(json.loads(sealed.read_text()), "a long passphrase", sealed))
    assert opened.kalshi is not None and opened.kalshi.configured and opened.kalshi.api_key_id == "key-1"
    with pytest.raises(SettingsError, match="both sealed"):
        load_settings({**base, "KALSHI_API_KEY_ID": "key-2"}, unsealed={})


def test_an_order_whose_answer_is_lost_is_sent_again_without_a_second_order(sim: SimHandle, tmp_path: Path) -> None:
    """The simulator takes the order and holds its answer past the venue's timeout (its timeout
    fault, which covers Kalshi's V2 order endpoint as it does Polymarket's): the outcome is unknown;
    the executor sends it again with the same client order id and gets the first order back."""
    ticker = binary_tickers(sim)[3]
    venue = _account(sim, tmp_path, timeout_s=1.0, stream=False)
    bid, _ = _market(venue, ticker)

    async def scenario() -> tuple[Any, int]:
        request = _request("lost-1", ticker, Side.BUY, bid - 30_000, 2 * C, post_only=True)
        sim.set_faults(timeout_rate=1.0, timeout_hold_s=2.0)
        try:
            with pytest.raises(VenueUnavailable):
                await _place(venue, request)
        finally:
            sim.clear_faults()
        again = await _place(venue, request)
        return again, len([o for o in await venue.open_orders() if o.venue_order_id == "lost-1:yes:buy"])

    again, resting = asyncio.run(scenario())
    assert (again.venue_order_id, again.status) == ("lost-1:yes:buy", VenueOrderStatus.LIVE) and resting == 1
    asyncio.run(venue.close())


def test_a_pause_refusal_is_busy_not_a_fault(sim: SimHandle, tmp_path: Path) -> None:
    from tests.kalshi import admin

    ticker = binary_tickers(sim)[4]
    venue = _account(sim, tmp_path, stream=False)
    admin(sim, "/_sim/kalshi/exchange/pause", {"in_s": 0, "seconds": 30})
    try:
        with pytest.raises(VenueBusy) as busy:
            asyncio.run(_place(venue, _request("p-1", ticker, Side.BUY, 20_000, C)))
        assert busy.value.maintenance and "paused" in str(busy.value)
    finally:
        admin(sim, "/_sim/kalshi/exchange/pause", {"clear": True})
        asyncio.run(venue.close())
