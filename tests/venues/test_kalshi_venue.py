"""The Kalshi venue (engine/venues/kalshi.py) through Kalshi's official SDK against the simulator's
Kalshi side: its key read from settings as a user writes it, orders placed, found, filled,
cancelled and refused in the desk's terms, fills and ended orders heard as events, balances, a
retried send that never makes a second order, and the venue's answers mapped to the desk's errors."""

from __future__ import annotations

import asyncio
import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from contracts.domain import Side, Tif
from contracts.order_status import VenueOrderStatus
from contracts.settings import SettingsError, load_settings
from engine.venues import kalshi_wire as wire
from engine.venues.base import (
    OrderEvent,
    OrderRejected,
    OrderRequest,
    TradeEvent,
    VenueBusy,
    VenueError,
    VenueUnavailable,
)
from engine.venues.kalshi import KalshiVenue
from simulator.testing import SimHandle, running_simulator
from tests.kalshi import keypair, register


def _venue(sim: SimHandle, tmp_path: Path, key_id: str, private_pem: str, timeout_s: float = 10.0) -> KalshiVenue:
    """Settings as a user writes them in .env: the PEM on one line with \\n."""
    env = tmp_path / f"{key_id}.env"
    env.write_text(f"DATA_SOURCE=simulator\nSIMULATOR_PORT={sim.port}\nKALSHI_API_KEY_ID={key_id}\n"
                   f"KALSHI_PRIVATE_KEY={private_pem.strip().replace(chr(10), chr(92) + 'n')}\n")
    settings = load_settings({"TRADER_ENV_FILE": str(env), "TRADER_DB": str(tmp_path / "t.db")})
    assert settings.kalshi is not None and settings.kalshi.host == f"http://127.0.0.1:{sim.port}/trade-api/v2"
    return KalshiVenue(settings.kalshi, poll_s=3600, timeout_s=timeout_s)  # polled by hand here


@pytest.fixture(scope="module")
def sim() -> Iterator[SimHandle]:
    with running_simulator(seed=5, agents=False, prefill_books=False, kalshi_markets=4) as handle:
        yield handle


def _account(sim: SimHandle, tmp_path: Path) -> KalshiVenue:
    private_pem, public_pem = keypair()
    return _venue(sim, tmp_path, register(sim, public_pem), private_pem)


def _ticker(venue: KalshiVenue, n: int) -> tuple[str, int, int]:
    """(ticker, best YES bid, best YES ask) in cents of the n-th market."""
    m = venue.client.get_markets(limit=10).markets[n]
    return m.ticker, m.yes_bid, m.yes_ask


def _request(client_id: str, ticker: str, side: Side, cents: int, contracts: int, *, outcome: str = "yes",
             post_only: bool = False, tif: Tif = Tif.GTC) -> OrderRequest:
    return OrderRequest(client_id, wire.market_id(ticker), wire.token_id(ticker, outcome), side, cents * wire.CENT,
                        contracts * wire.CONTRACT, tif=tif, post_only=post_only, tick=wire.CENT)


async def _place(venue: KalshiVenue, request: OrderRequest) -> Any:
    return await venue.submit(await venue.prepare(request))


def test_a_resting_order_is_found_filled_heard_and_paid_for(sim: SimHandle, tmp_path: Path) -> None:
    maker, taker = _account(sim, tmp_path), _account(sim, tmp_path)

    async def scenario() -> None:
        await maker.start()
        await taker.start()
        try:
            ticker, bid, _ = _ticker(maker, 1)  # the even-numbered simulated markets charge makers
            price = bid + 1
            before = await maker.balances([wire.token_id(ticker, "yes")])
            placed = await _place(maker, _request("mm-1", ticker, Side.BUY, price, 4, post_only=True))
            assert (placed.venue_order_id, placed.status, placed.filled) == ("mm-1", VenueOrderStatus.LIVE, 0)
            assert [o.venue_order_id for o in await maker.open_orders()] == ["mm-1"]
            # a second account sells into it: the maker hears the fill and the order's end
            sold = await _place(taker, _request("t-1", ticker, Side.SELL, price, 4, outcome="yes"))
            assert sold.status is VenueOrderStatus.MATCHED
            assert await maker.poll_once() == 2
            trade = maker.events.get_nowait()
            ended = maker.events.get_nowait()
            assert isinstance(trade, TradeEvent) and isinstance(ended, OrderEvent)
            t = trade.trade
            assert (t.venue_order_id, t.token_id, t.side, t.price, t.size, t.liquidity) == \
                ("mm-1", wire.token_id(ticker, "yes"), Side.BUY, price * wire.CENT, 4 * wire.CONTRACT, "MAKER")
            assert t.fee == wire.fee_cents(wire.MAKER_RATE, 4, price) * wire.CENT > 0
            assert ended.order.status is VenueOrderStatus.MATCHED and ended.order.filled == 4 * wire.CONTRACT
            after = await maker.balances([wire.token_id(ticker, "yes")])
            assert after.tokens[wire.token_id(ticker, "yes")] == 4 * wire.CONTRACT
            assert before.collateral - after.collateral == 4 * price * wire.CENT + t.fee  # the cost and the fee
            taken = (await taker.trades())[0]
            assert taken.liquidity == "TAKER" and taken.fee == wire.fee_cents(wire.TAKER_RATE, 4, price) * wire.CENT
        finally:
            await maker.close()
            await taker.close()

    asyncio.run(scenario())


def test_cancel_a_retried_send_and_refusals(sim: SimHandle, tmp_path: Path) -> None:
    venue = _account(sim, tmp_path)

    async def scenario() -> None:
        await venue.start()
        try:
            ticker, bid, ask = _ticker(venue, 0)
            request = _request("c-1", ticker, Side.BUY, bid - 2, 3, post_only=True)
            first = await _place(venue, request)
            again = await _place(venue, request)  # the answer was lost and the executor sends it again
            assert again.venue_order_id == first.venue_order_id == "c-1"
            assert len(await venue.open_orders()) == 1  # never a second order
            done = await venue.cancel(["c-1", "nobody"])
            assert done.canceled == ("c-1",) and "nobody" in done.not_canceled
            assert (await venue.get_order("c-1")).status is VenueOrderStatus.CANCELED
            with pytest.raises(OrderRejected, match="post_only_cross"):
                await _place(venue, _request("c-2", ticker, Side.BUY, ask, 1, post_only=True))
            off_grid = OrderRequest("c-3", wire.market_id(ticker), wire.token_id(ticker, "yes"), Side.BUY,
                                    455_000, wire.CONTRACT)
            with pytest.raises(OrderRejected, match="not a whole cent"):
                await _place(venue, off_grid)
            gtd = _request("c-4", ticker, Side.BUY, bid - 2, 1, tif=Tif.GTD)
            assert "GTD" in json.loads((await venue.prepare(gtd)).payload)["refused"]
            results = await venue.submit_many([await venue.prepare(off_grid),
                                               await venue.prepare(_request("c-5", ticker, Side.BUY, 2, 1))])
            assert results[0].error is not None and results[1].status is VenueOrderStatus.LIVE
            assert (await venue.cancel_all()).canceled == ("c-5",)
        finally:
            await venue.close()

    asyncio.run(scenario())


def test_a_wrong_key_and_the_write_limit_read_as_the_desks_errors(sim: SimHandle, tmp_path: Path) -> None:
    _, public_pem = keypair()
    stranger, _ = keypair()
    impostor = _venue(sim, tmp_path, register(sim, public_pem), stranger)
    with pytest.raises(VenueError, match="check KALSHI_API_KEY_ID"):
        asyncio.run(impostor.start())
    venue = _account(sim, tmp_path)
    now = [50.0]
    sim.call(setattr, sim.sim.kalshi, "clock", lambda: now[0])

    async def burst() -> list[str]:
        ticker, _, _ = _ticker(venue, 2)
        seen = []
        for n in range(11):
            try:
                await _place(venue, _request(f"w-{n}", ticker, Side.BUY, 1, 1))
                seen.append("ok")
            except VenueBusy as exc:
                seen.append(f"busy {exc.retry_after_s:g}")
        return seen

    try:
        assert asyncio.run(burst()) == ["ok"] * 10 + ["busy 1"]
    finally:
        sim.call(setattr, sim.sim.kalshi, "clock", __import__("time").monotonic)


def test_kalshi_settings_are_checked_and_never_echo_the_key(tmp_path: Path) -> None:
    private_pem, _ = keypair()
    base = {"TRADER_ENV_FILE": os.devnull, "TRADER_DB": str(tmp_path / "t.db")}
    with pytest.raises(SettingsError, match="KALSHI_PRIVATE_KEY is malformed") as bad:
        load_settings({**base, "KALSHI_API_KEY_ID": "k", "KALSHI_PRIVATE_KEY": "MIIEv-not-a-key"})
    assert "MIIEv" not in str(bad.value)
    with pytest.raises(SettingsError, match="KALSHI_PRIVATE_KEY is empty"):
        load_settings({**base, "KALSHI_API_KEY_ID": "k"})
    demo = load_settings({**base, "DATA_SOURCE": "polymarket", "KALSHI_ENVIRONMENT": "demo"}).kalshi
    assert demo is not None and demo.host == "https://demo-api.kalshi.co/trade-api/v2" and not demo.configured
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


def test_a_batch_cut_by_the_write_limit_keeps_what_was_placed(sim: SimHandle, tmp_path: Path) -> None:
    """Orders Kalshi took before it answered 429 keep their answers (never recorded as refused while
    they rest); the rest are reported not sent. A Kalshi refusal that answers the order (post-only
    crossing) reads as the market's answer, not a fault for the error-rate breaker."""
    from engine.venues.refusals import Refusal, classify

    venue = _account(sim, tmp_path)
    now = [90.0]
    sim.call(setattr, sim.sim.kalshi, "clock", lambda: now[0])

    async def batch() -> tuple[list[Any], str]:
        ticker, _, ask = _ticker(venue, 3)
        prepared = [await venue.prepare(_request(f"b-{n}", ticker, Side.BUY, 1, 1)) for n in range(12)]
        results = await venue.submit_many(prepared)
        now[0] += 5.0
        try:
            await _place(venue, _request("cross", ticker, Side.BUY, ask, 1, post_only=True))
        except OrderRejected as exc:
            return results, str(exc)
        return results, ""

    try:
        results, crossing = asyncio.run(batch())
    finally:
        sim.call(setattr, sim.sim.kalshi, "clock", __import__("time").monotonic)
    assert [r.status for r in results] == [VenueOrderStatus.LIVE] * 10 + [VenueOrderStatus.INVALID] * 2
    assert all(r.error is not None and r.error.startswith("not sent: Kalshi 429") for r in results[10:])
    assert "post_only_cross" in crossing and classify(crossing) is Refusal.BUSINESS


def test_an_order_whose_answer_is_lost_is_sent_again_without_a_second_order(sim: SimHandle, tmp_path: Path) -> None:
    """The simulator takes the order and holds its answer past the venue's timeout (its timeout
    fault, which covers Kalshi's order endpoint as it does Polymarket's): the outcome is unknown;
    the executor sends it again with the same client order id and gets the first order back."""
    private_pem, public_pem = keypair()
    venue = _venue(sim, tmp_path, register(sim, public_pem), private_pem, timeout_s=1.0)

    async def scenario() -> tuple[Any, int]:
        ticker, bid, _ = _ticker(venue, 0)
        request = _request("lost-1", ticker, Side.BUY, bid - 3, 2, post_only=True)
        sim.set_faults(timeout_rate=1.0, timeout_hold_s=2.0)
        try:
            with pytest.raises(VenueUnavailable):
                await _place(venue, request)
        finally:
            sim.clear_faults()
        again = await _place(venue, request)
        return again, len([o for o in await venue.open_orders() if o.venue_order_id == "lost-1"])

    again, resting = asyncio.run(scenario())
    assert (again.venue_order_id, again.status) == ("lost-1", VenueOrderStatus.LIVE) and resting == 1
