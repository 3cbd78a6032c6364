"""What RefusedQuotes (engine/trading/passes/refused_quotes.py) holds out of a decision on events:
a resting quote the venue refused (by its YES side and price, any size), not a take (the risk gate
holds those) nor one refused before sending; an arbitrage with a refused leg whole; until a timed
pass that started after the refusal; a refused quote whose price has an order working leaves its
intent as in force."""

from __future__ import annotations

from contracts.domain import Intent, MarketInfo, Outcome, Quote, Side, Tif
from engine.execution.bus import PlacementRefused
from engine.execution.planner import OrderSpec
from engine.trading.passes.refused_quotes import RefusedQuotes

MARKET = MarketInfo(condition_id="c1", question="?", yes_token="Y", no_token="N", tick=10_000, min_size=5_000_000)
BID, ASK = Quote(Side.BUY, 400_000, 20_000_000), Quote(Side.SELL, 600_000, 20_000_000)


def _none(strategy: str, market: str) -> list[tuple[Side, int]]:
    return []  # no order working


def _refusal(spec: OrderSpec, *, by_venue: bool = True, strategy: str = "mm") -> PlacementRefused:
    return PlacementRefused(strategy, MARKET, spec, "VENUE_REFUSED", "not enough balance", by_venue)


def test_a_refused_quote_is_held_by_its_yes_side_and_price_until_a_later_pass() -> None:
    held = RefusedQuotes()
    # The ask, routed as a BUY of NO at 0.40 and trimmed to 15 shares, was refused.
    held.refused(_refusal(OrderSpec("N", Outcome.NO, Side.BUY, 400_000, 15_000_000)), now=1_000)
    intent = Intent("mm", "c1", (BID, ASK))
    assert held.hold([intent, Intent("other", "c1", (BID, ASK))], _none) == [Intent("mm", "c1", (BID,)),
                                                                        Intent("other", "c1", (BID, ASK))]
    held.passed(started=1_000)  # a pass that started with the refusal: it was that pass's own
    assert held.hold([intent], _none) == [Intent("mm", "c1", (BID,))]
    held.passed(started=1_001)  # a pass that started after it tried it again
    assert held.hold([intent], _none) == [intent]


def test_a_refused_top_up_leaves_the_intent_as_in_force() -> None:
    """More at a price where an order works, refused: leaving the quote out would cancel that order."""
    held = RefusedQuotes()
    held.refused(_refusal(OrderSpec("Y", Outcome.YES, Side.BUY, 400_000, 10_000_000)), now=1)
    assert held.hold([Intent("mm", "c1", (BID, ASK))], lambda strategy, market: [(Side.BUY, 400_000)]) == []


def test_takes_refusals_before_sending_and_arbitrage_legs() -> None:
    held = RefusedQuotes()
    held.refused(_refusal(OrderSpec("Y", Outcome.YES, Side.BUY, 400_000, 20_000_000, Tif.FAK)), now=1)
    held.refused(_refusal(OrderSpec("Y", Outcome.YES, Side.SELL, 600_000, 20_000_000), by_venue=False), now=1)
    intent = Intent("mm", "c1", (BID, ASK, Quote(Side.BUY, 400_000, 5_000_000, Tif.FAK)))
    assert held.hold([intent], _none) == [intent]  # neither is held here
    legs = Intent("arb", "c1", (Quote(Side.BUY, 300_000, 10_000_000, group="g"),))
    held.refused(_refusal(OrderSpec("Y", Outcome.YES, Side.BUY, 300_000, 10_000_000, group="g"), strategy="arb"),
                 now=1)
    assert held.hold([legs, intent], _none) == [intent]  # the arbitrage is left out whole: what is in force stays
