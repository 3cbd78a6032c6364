"""The simulator's Kalshi side, spoken to by Kalshi's official SDK (kalshi-python-sync, pinned):
keys registered by the admin call, every request signed (RSA-PSS), the SDK's strict models
reading every answer, cents and fees as Kalshi charges them, post-only, self-trade prevention,
the Basic tier's write limit, and settlement paying in cash."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest
from kalshi_python_sync import Configuration, KalshiClient
from kalshi_python_sync.api.market_api import MarketApi
from kalshi_python_sync.exceptions import ApiException

from simulator.kalshi.orders import MAKER_RATE, TAKER_RATE, fee
from simulator.testing import SimHandle, running_simulator
from tests.kalshi import admin, keypair


def _client(sim: SimHandle, key_id: str, private_pem: str) -> KalshiClient:
    config = Configuration(host=f"{sim.clob_host}/trade-api/v2")
    config.api_key_id = key_id
    config.private_key_pem = private_pem
    return KalshiClient(config)


@pytest.fixture(scope="module")
def sim() -> Iterator[SimHandle]:
    with running_simulator(seed=3, agents=False, prefill_books=False, kalshi_markets=7) as handle:
        yield handle


@pytest.fixture
def trader(sim: SimHandle) -> KalshiClient:
    private_pem, public_pem = keypair()
    status, body = admin(sim, "/_sim/kalshi/api-keys", {"public_key": public_pem})
    assert status == 200 and body["balance"] == 1_000_000  # the starting balance, $10,000 in cents
    return _client(sim, body["api_key_id"], private_pem)


def _market(client: KalshiClient, n: int = 0) -> Any:
    return client.get_markets(limit=10).markets[n]


def test_market_data_reads_through_the_sdks_models(trader: KalshiClient) -> None:
    assert trader.get_exchange_status().trading_active is True
    markets = trader.get_markets(limit=2)
    assert len(markets.markets) == 2 and markets.cursor == "2"  # a next page: 7 markets listed
    rest = trader.get_markets(limit=10, cursor=markets.cursor)
    assert len(rest.markets) == 5 and rest.cursor == ""
    m = markets.markets[0]
    assert m.status == "active" and m.tick_size == 1 and m.price_ranges[0].step == "0.0100"
    assert 0 < m.yes_bid < m.yes_ask < 100 and m.yes_ask == 100 - m.no_bid
    book = trader.get_market_orderbook(m.ticker).orderbook
    assert book.yes_dollars[-1][0] == f"{m.yes_bid / 100:.4f}"  # ascending: the best bid last
    event = trader.get_event(m.event_ticker)
    assert {x.ticker for x in event.markets} >= {m.ticker}


def test_a_taker_pays_kalshis_fee_and_the_position_and_balance_follow(trader: KalshiClient) -> None:
    m = _market(trader, 0)
    before = trader.get_balance().balance
    placed = trader.create_order(ticker=m.ticker, side="yes", action="buy", count=10, yes_price=m.yes_ask,
                                 type="limit", client_order_id="take-1").order
    assert placed.status == "executed" and placed.fill_count == 10
    assert placed.taker_fees == fee(TAKER_RATE, 10, m.yes_ask)
    assert trader.get_balance().balance == before - 10 * m.yes_ask - placed.taker_fees
    fills = trader.get_fills(ticker=m.ticker).fills
    assert [(f.count, f.yes_price, f.is_taker) for f in fills] == [(10, m.yes_ask, True)]
    position = trader.get_positions(ticker=m.ticker).market_positions[0]
    assert position.position == 10 and position.market_exposure == 10 * m.yes_ask
    # selling them back at the bid closes the position: the proceeds, less the fee, come back
    sold = trader.create_order(ticker=m.ticker, side="yes", action="sell", count=10, yes_price=m.yes_bid,
                               type="limit").order
    assert sold.status == "executed"
    assert trader.get_positions(ticker=m.ticker).market_positions == []
    # Both matches are public, newest first: the side each taker bought (selling YES buys NO).
    trades = MarketApi(trader).get_trades(ticker=m.ticker, limit=10).trades
    assert [(t.count, t.yes_price, t.taker_side) for t in trades][:2] == [(10, m.yes_bid, "no"), (10, m.yes_ask, "yes")]
    assert trades[0].yes_price_dollars == f"{m.yes_bid / 100:.4f}" and trades[0].no_price == 100 - m.yes_bid
    assert MarketApi(trader).get_trades(ticker=m.ticker, min_ts=2**31).trades == []  # none after the range


def test_resting_orders_hold_cash_and_a_cancel_gives_it_back(trader: KalshiClient) -> None:
    m = _market(trader, 1)
    before = trader.get_balance().balance
    bid = m.yes_bid - 3
    order = trader.create_order(ticker=m.ticker, side="no", action="buy", count=5, no_price=100 - (m.yes_ask + 3),
                                type="limit", post_only=True).order
    assert order.status == "resting" and order.yes_price == m.yes_ask + 3
    held = before - trader.get_balance().balance
    assert held == 5 * (100 - order.yes_price) + fee(TAKER_RATE, 5, order.yes_price)
    resting = trader.create_order(ticker=m.ticker, side="yes", action="buy", count=5, yes_price=bid,
                                  type="limit", post_only=True).order
    assert [o.order_id for o in trader.get_orders(ticker=m.ticker, status="resting").orders] == \
        [resting.order_id, order.order_id]
    for o in (order, resting):
        cancelled = trader.cancel_order(o.order_id)
        assert cancelled.order.status == "canceled" and cancelled.reduced_by == 5
    assert trader.get_balance().balance == before
    with pytest.raises(ApiException) as refused:
        trader.cancel_order(order.order_id)
    assert refused.value.status == 400 and "order_not_resting" in str(refused.value.body)


def test_bad_orders_are_refused_with_a_reason_and_change_nothing(trader: KalshiClient) -> None:
    m = _market(trader, 2)
    before = trader.get_balance().balance
    refusals = {
        "post_only_cross": dict(side="yes", action="buy", count=1, yes_price=m.yes_ask, post_only=True),
        "insufficient_balance": dict(side="yes", action="buy", count=1_000_000, yes_price=1),
        "fill_or_kill_insufficient": dict(side="yes", action="buy", count=100_000, yes_price=m.yes_ask,
                                          time_in_force="fill_or_kill"),
    }
    for code, fields in refusals.items():
        with pytest.raises(ApiException) as refused:
            trader.create_order(ticker=m.ticker, type="limit", **fields)
        assert refused.value.status == 400 and code in str(refused.value.body), code
    with pytest.raises(ApiException) as off_grid:
        trader.create_order(ticker=m.ticker, side="yes", action="buy", count=1, yes_price_dollars="0.455",
                            type="limit")
    assert off_grid.value.status == 400 and "cent grid" in str(off_grid.value.body)
    trader.create_order(ticker=m.ticker, side="yes", action="buy", count=1, yes_price=1, client_order_id="dup-1",
                        type="limit")
    with pytest.raises(ApiException) as duplicate:
        trader.create_order(ticker=m.ticker, side="yes", action="buy", count=1, yes_price=1,
                            client_order_id="dup-1", type="limit")
    assert duplicate.value.status == 409
    assert before - trader.get_balance().balance == 1 + fee(TAKER_RATE, 1, 1)  # only the one order rests


def test_a_request_not_signed_by_the_key_is_refused(sim: SimHandle, trader: KalshiClient) -> None:
    assert trader.kalshi_auth is not None
    key_id = trader.kalshi_auth.key_id
    stranger, _ = keypair()
    with pytest.raises(ApiException) as refused:
        _client(sim, key_id, stranger).get_balance()
    assert refused.value.status == 401 and "signature does not match" in str(refused.value.body)
    status, body = admin(sim, "/_sim/kalshi/api-keys", {"public_key": "not a key"})
    assert status == 400 and "PEM" in body["message"]


def test_self_trade_prevention_cancels_the_taker_at_the_cross(trader: KalshiClient) -> None:
    m = _market(trader, 3)
    price = m.yes_bid + 1  # inside the spread
    mine = trader.create_order(ticker=m.ticker, side="yes", action="sell", count=3, yes_price=price,
                               type="limit").order
    crossing = trader.create_order(ticker=m.ticker, side="yes", action="buy", count=3, yes_price=price,
                                   type="limit").order
    assert crossing.status == "canceled" and crossing.fill_count == 0
    assert trader.get_order(mine.order_id).order.status == "resting"
    trader.cancel_order(mine.order_id)


def test_makers_pay_the_maker_fee_only_where_the_market_charges_it(sim: SimHandle, trader: KalshiClient) -> None:
    private_pem, public_pem = keypair()
    _, body = admin(sim, "/_sim/kalshi/api-keys", {"public_key": public_pem})
    other = _client(sim, body["api_key_id"], private_pem)
    for n, charges in ((0, False), (1, True)):  # the simulated event's even-numbered markets charge makers
        m = _market(trader, n)
        price = m.yes_bid + 1
        maker = trader.create_order(ticker=m.ticker, side="yes", action="buy", count=4, yes_price=price,
                                    type="limit", post_only=True).order
        other.create_order(ticker=m.ticker, side="yes", action="sell", count=4, yes_price=price, type="limit")
        filled = trader.get_order(maker.order_id).order
        assert filled.status == "executed"
        assert filled.maker_fees == (fee(MAKER_RATE, 4, price) if charges else 0)


def test_settlement_pays_the_winning_side_in_cash(sim: SimHandle, trader: KalshiClient) -> None:
    m = _market(trader, 5)
    trader.create_order(ticker=m.ticker, side="no", action="buy", count=7, no_price=100 - m.yes_bid,
                        type="limit")
    before = trader.get_balance().balance
    status, body = admin(sim, f"/_sim/kalshi/markets/{m.ticker}/settle", {"result": "no"})
    assert status == 200 and body["settled"] >= 1
    settled = trader.get_settlements().settlements[0]
    assert (settled.ticker, settled.market_result, settled.no_count, settled.revenue) == (m.ticker, "no", 7, 700)
    assert trader.get_balance().balance >= before + 700  # and the resting 1-cent bid's reserve came back
    assert trader.get_market(m.ticker).market.status == "settled"
    with pytest.raises(ApiException) as closed:
        trader.create_order(ticker=m.ticker, side="yes", action="buy", count=1, yes_price=5, type="limit")
    assert closed.value.status == 400 and "market_closed" in str(closed.value.body)


def test_a_voided_market_pays_each_position_back_at_cost(sim: SimHandle, trader: KalshiClient) -> None:
    m = _market(trader, 6)
    trader.create_order(ticker=m.ticker, side="yes", action="buy", count=3, yes_price=m.yes_ask, type="limit")
    held = next(p for p in trader.get_positions(ticker=m.ticker).market_positions or [] if p.ticker == m.ticker)
    cost = held.market_exposure
    before = trader.get_balance().balance
    status, body = admin(sim, f"/_sim/kalshi/markets/{m.ticker}/settle", {"result": "void"})
    assert status == 200 and body["settled"] >= 1
    settled = next(s for s in trader.get_settlements().settlements if s.ticker == m.ticker)
    assert (settled.market_result, settled.yes_count, settled.yes_total_cost, settled.revenue, settled.value) == \
        ("void", 3, cost, cost, None)
    assert trader.get_balance().balance == before + cost  # the fee is not returned
    market = trader.get_market(m.ticker).market
    assert (market.status, market.result, market.settlement_value) == ("settled", "", None)
    status, body = admin(sim, f"/_sim/kalshi/markets/{_market(trader, 4).ticker}/settle", {"result": "maybe"})
    assert status == 400 and "yes, no or void" in str(body)


def test_the_basic_tiers_write_limit_answers_429(sim: SimHandle, trader: KalshiClient) -> None:
    """The buckets' clock stands still (so the machine's speed does not decide what is admitted):
    a second's worth of writes (10) goes, the next is refused with Retry-After; reads have their
    own bucket; when the clock moves on a second, writes go again."""
    m = _market(trader, 4)
    now = [1_000.0]
    sim.call(setattr, sim.sim.kalshi, "clock", lambda: now[0])
    try:
        codes = []
        for _ in range(12):
            try:
                trader.create_order(ticker=m.ticker, side="yes", action="buy", count=1, yes_price=1, type="limit")
                codes.append(201)
            except ApiException as exc:
                codes.append(exc.status)
                assert exc.headers is not None and exc.headers["Retry-After"] == "1"
        assert codes == [201] * 10 + [429, 429]
        assert trader.get_balance().balance > 0  # a read still goes
        now[0] += 1.0
        trader.create_order(ticker=m.ticker, side="yes", action="buy", count=1, yes_price=1, type="limit")
    finally:
        sim.call(setattr, sim.sim.kalshi, "clock", time.monotonic)


def test_a_signature_older_than_thirty_seconds_is_refused(sim: SimHandle) -> None:
    """Kalshi's published tolerance (30 s), whatever the Polymarket side's skew setting allows."""
    import base64
    import urllib.error
    import urllib.request

    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import padding, rsa

    private_pem, public_pem = keypair()
    _, body = admin(sim, "/_sim/kalshi/api-keys", {"public_key": public_pem})
    key = serialization.load_pem_private_key(private_pem.encode(), password=None)
    assert isinstance(key, rsa.RSAPrivateKey)
    path = "/trade-api/v2/portfolio/balance"

    def status_at(age_s: float) -> int:
        stamp = str(int((time.time() - age_s) * 1000))
        signature = key.sign(f"{stamp}GET{path}".encode(), padding.PSS(mgf=padding.MGF1(hashes.SHA256()),
                             salt_length=padding.PSS.DIGEST_LENGTH), hashes.SHA256())
        request = urllib.request.Request(f"{sim.clob_host}{path}", headers={
            "KALSHI-ACCESS-KEY": body["api_key_id"], "KALSHI-ACCESS-TIMESTAMP": stamp,
            "KALSHI-ACCESS-SIGNATURE": base64.b64encode(signature).decode()})
        try:
            with urllib.request.urlopen(request, timeout=10) as answer:
                return int(answer.status)
        except urllib.error.HTTPError as exc:
            return int(exc.code)

    assert status_at(5) == 200
    assert status_at(60) == 401
