"""The planner's amends (issue 91, item 2): on a venue whose policy changes resting orders in place (Kalshi),
an order that no longer matches is moved to a wanted one rather than cancelled and replaced; a decrease keeps
its price, a move is any other change; neither where the venue does not amend (Polymarket), nor an arbitrage's
leg, a take, a SELL past its inventory, an order whose last amend the venue refused or one still awaiting it."""

from __future__ import annotations

from contracts.domain import ONE, MarketInfo, Quote, Side, Tif
from contracts.order_status import OrderStatus
from contracts.venues.kalshi.ids import CONTRACT, LOT, market_id, token_id
from engine.execution.planner import Amend, Holdings, WorkingOrder, plan

TICKER = "KXTEST-26MOVE"
KALSHI = MarketInfo(condition_id=market_id(TICKER), question="?", yes_token=token_id(TICKER, "yes"),
                    no_token=token_id(TICKER, "no"), tick=10_000, min_size=LOT, kalshi_fee_type="quadratic",
                    price_grid=((0, CONTRACT, 10_000),))
POLY = MarketInfo(condition_id="c1", question="?", yes_token="Y", no_token="N", tick=10_000, min_size=5 * CONTRACT)
YES = KALSHI.yes_token


def q(side: Side, price: float, size: float, tif: Tif = Tif.GTC, *, group: str = "") -> Quote:
    return Quote(side, round(price * ONE), round(size * CONTRACT), tif, post_only=tif is Tif.GTC, group=group)


def w(token: str, side: Side, price: float, size: float, filled: float = 0, *, cid: str = "o1",
      amending: bool = False, amendable: bool = True) -> WorkingOrder:
    return WorkingOrder(cid, token, side, round(price * ONE), round(size * CONTRACT), round(filled * CONTRACT),
                        Tif.GTC, OrderStatus.LIVE if not filled else OrderStatus.PARTIALLY_FILLED, post_only=True,
                        amending=amending, amendable=amendable)


def test_a_shrink_is_a_decrease_and_a_new_price_a_move() -> None:
    shrink = plan([q(Side.BUY, 0.40, 4)], KALSHI, Holdings(), [w(YES, Side.BUY, 0.40, 10)], amends=True)
    assert (shrink.cancel, shrink.place) == ((), ())
    [amend] = shrink.amend
    assert amend.decrease and amend.size == 4 * CONTRACT
    # partly filled: the new total is what filled and what is wanted resting
    partly = plan([q(Side.BUY, 0.40, 3)], KALSHI, Holdings(), [w(YES, Side.BUY, 0.40, 10, 4)], amends=True)
    assert [(a.decrease, a.size) for a in partly.amend] == [(True, 7 * CONTRACT)]
    moved = plan([q(Side.BUY, 0.42, 10)], KALSHI, Holdings(), [w(YES, Side.BUY, 0.40, 10)], amends=True)
    assert (moved.cancel, moved.place) == ((), ())
    assert [(a.decrease, a.spec.price, a.size) for a in moved.amend] == [(False, 420_000, 10 * CONTRACT)]
    grown = plan([q(Side.BUY, 0.40, 12)], KALSHI, Holdings(), [w(YES, Side.BUY, 0.40, 10)], amends=True)
    assert [a.decrease for a in grown.amend] == [False]  # more at the same price: back of the queue


def test_without_amends_or_where_the_venue_does_not_amend_it_is_cancelled_and_replaced() -> None:
    for market, token, amends in ((KALSHI, YES, False), (POLY, "Y", True)):
        result = plan([q(Side.BUY, 0.40, 5)], market, Holdings(), [w(token, Side.BUY, 0.40, 10)], amends=amends)
        assert result.amend == () and len(result.cancel) == 1 and len(result.place) == 1


def test_the_decrease_is_chosen_before_a_move_and_the_nearest_order_is_moved() -> None:
    working = [w(YES, Side.BUY, 0.30, 10, cid="far"), w(YES, Side.BUY, 0.40, 10, cid="near")]
    result = plan([q(Side.BUY, 0.41, 10), q(Side.BUY, 0.30, 5)], KALSHI, Holdings(), working, amends=True)
    assert {(a.order.client_id, a.decrease) for a in result.amend} == {("far", True), ("near", False)}


def test_what_cannot_be_amended_is_replaced() -> None:
    taken = plan([q(Side.BUY, 0.40, 5, Tif.FAK)], KALSHI, Holdings(), [w(YES, Side.BUY, 0.40, 10)], amends=True)
    assert taken.amend == () and len(taken.cancel) == 1  # a take is never an amend
    leg = plan([q(Side.BUY, 0.40, 5, group="arb")], KALSHI, Holdings(), [w(YES, Side.BUY, 0.40, 10)], amends=True)
    assert leg.amend == ()  # an arbitrage's legs are placed whole or not at all
    refused = plan([q(Side.BUY, 0.40, 5)], KALSHI, Holdings(), [w(YES, Side.BUY, 0.40, 10, amendable=False)],
                   amends=True)
    assert refused.amend == () and len(refused.cancel) == 1 and len(refused.place) == 1


def test_an_order_awaiting_its_amends_answer_is_neither_cancelled_nor_amended_again() -> None:
    waiting = [w(YES, Side.BUY, 0.40, 4, amending=True)]  # shown at the amend's terms
    kept = plan([q(Side.BUY, 0.40, 4)], KALSHI, Holdings(), waiting, amends=True)
    assert (kept.keep, kept.cancel, kept.place, kept.amend) == (tuple(waiting), (), (), ())
    other = plan([q(Side.BUY, 0.45, 4)], KALSHI, Holdings(), waiting, amends=True)
    assert (other.cancel, other.amend, len(other.place)) == ((), (), 1)  # left as it is until the venue answers


def test_a_sell_grows_only_within_its_inventory() -> None:
    sell = w(YES, Side.SELL, 0.60, 5)
    within = plan([q(Side.SELL, 0.62, 8)], KALSHI, Holdings(yes=8 * CONTRACT), [sell], amends=True)
    assert [a.spec.size for a in within.amend] == [8 * CONTRACT]
    # Another SELL still holds the sixth contract: the move cannot grow into it; replaced within the SELL rules
    other = w(YES, Side.SELL, 0.70, 1, cid="o2")
    beyond = plan([q(Side.SELL, 0.62, 6)], KALSHI, Holdings(yes=6 * CONTRACT), [sell, other], amends=True)
    assert beyond.amend == () and {o.client_id for o in beyond.cancel} == {"o1", "o2"}
    assert beyond.place == () and [r.reason for r in beyond.residuals] == ["waiting for the old sell's cancel ack"]
    smaller = plan([q(Side.SELL, 0.62, 3)], KALSHI, Holdings(yes=6 * CONTRACT), [sell], amends=True)
    assert [(a.decrease, a.spec.size) for a in smaller.amend] == [(False, 3 * CONTRACT)]


def test_an_amend_is_a_decrease_only_at_the_same_price_with_fewer_resting() -> None:
    order = w(YES, Side.BUY, 0.40, 10, 2)
    from contracts.domain import Outcome
    from engine.execution.planner import OrderSpec

    def spec(price: float, size: float) -> OrderSpec:
        return OrderSpec(YES, Outcome.YES, Side.BUY, round(price * ONE), round(size * CONTRACT), post_only=True)

    assert Amend(order, spec(0.40, 7)).decrease and not Amend(order, spec(0.40, 8)).decrease
    assert not Amend(order, spec(0.39, 1)).decrease
