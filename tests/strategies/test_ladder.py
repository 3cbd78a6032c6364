"""The ladder (grid): levels each side at a spacing around its centre, sizes per level, left in place
until the centre moves `recenter_move`, never crossing the book, capped in inventory."""

from __future__ import annotations

from contracts.domain import MarketView, Outcome, Quote, Side, Tif
from engine.strategies.ladder import Ladder
from tests.strategies.builders import book, order, px, sh, snap, state, view

BASE = {"levels": 3, "spacing": 0.01, "size": 10, "recenter_move": 0.02}


def prices(quotes: tuple[Quote, ...], side: Side) -> list[str]:
    return [f"{q.price / 1e6:.2f}" for q in quotes if q.side is side]


def around(mid_bid: str, mid_ask: str) -> MarketView:
    return view(yes=book(bids=[(mid_bid, 100)], asks=[(mid_ask, 100)]))


def test_levels_each_side_at_the_spacing_post_only() -> None:
    [intent] = Ladder("l", BASE).decide(snap(around("0.49", "0.51")), state(), 0)
    assert prices(intent.quotes, Side.BUY) == ["0.49", "0.48", "0.47"]
    assert prices(intent.quotes, Side.SELL) == ["0.51", "0.52", "0.53"]
    assert all(q.size == sh(10) and q.tif is Tif.GTC and q.post_only for q in intent.quotes)


def test_it_stays_in_place_until_the_centre_moves_far_enough_and_never_crosses() -> None:
    ladder = Ladder("l", {**BASE, "recenter_move": 0.05})
    ladder.decide(snap(around("0.49", "0.51")), state(), 0)
    [moved] = ladder.decide(snap(around("0.51", "0.53")), state(), 1)
    assert prices(moved.quotes, Side.BUY) == ["0.49", "0.48", "0.47"]  # still around 0.50
    assert prices(moved.quotes, Side.SELL) == ["0.52", "0.53"]  # 0.51 would cross the 0.51 bid: left out
    [far] = ladder.decide(snap(around("0.54", "0.56")), state(), 2)
    assert prices(far.quotes, Side.BUY) == ["0.54", "0.53", "0.52"] and "around 0.55" in far.reason


def test_a_fixed_centre_quotes_an_empty_book_and_sizes_grow_outward() -> None:
    params = {**BASE, "center": "fixed", "center_price": 0.4, "size_multiplier": 1.5}
    [intent] = Ladder("l", params).decide(snap(view(yes=None)), state(), 0)
    assert prices(intent.quotes, Side.BUY) == ["0.39", "0.38", "0.37"]
    assert [q.size for q in intent.quotes if q.side is Side.SELL] == [sh(10), sh(15), sh("22.5")]


def test_the_inventory_cap_and_one_sided_ladders() -> None:
    ladder = Ladder("l", {**BASE, "max_inventory": 30})
    [long] = ladder.decide(snap(around("0.49", "0.51")), state(positions={"c1": 25}), 0)
    assert prices(long.quotes, Side.BUY) == [] and len(prices(long.quotes, Side.SELL)) == 3
    [short] = ladder.decide(snap(around("0.49", "0.51")), state(positions={"c1": -15}), 0)
    assert len(prices(short.quotes, Side.BUY)) == 3 and prices(short.quotes, Side.SELL) == ["0.51"]
    [bids] = Ladder("l", {**BASE, "sides": "buy"}).decide(snap(around("0.49", "0.51")), state(), 0)
    assert prices(bids.quotes, Side.SELL) == [] and len(bids.quotes) == 3


def test_no_centre_no_quotes_and_the_grid_is_remembered() -> None:
    [none] = Ladder("l", {**BASE, "center": "signal"}).decide(snap(around("0.49", "0.51")), state(), 0)
    assert none.quotes == () and "no signal" in none.reason
    ladder = Ladder("l", BASE)
    ladder.decide(snap(around("0.49", "0.51")), state(), 0)
    restarted = Ladder("l", BASE)
    restarted.recall(ladder.memory())
    [kept] = restarted.decide(snap(around("0.50", "0.52")), state(), 1)
    assert prices(kept.quotes, Side.BUY)[0] == "0.49" and restarted.anchors == {"c1": px("0.50")}


def test_a_level_the_book_crosses_is_kept_where_an_order_of_its_own_rests() -> None:
    """The venue refuses a post-only order that crosses, so none is placed there; but an order of its own
    already resting at a level the book now crosses is being filled: it is not withdrawn."""
    ladder = Ladder("l", {**BASE, "recenter_move": 0.1})
    ladder.decide(snap(around("0.49", "0.51")), state(), 0)
    crossed = around("0.51", "0.53")  # the bid now at 0.51: the 0.51 ask crosses it
    [fresh] = ladder.decide(snap(crossed), state(), 1)
    assert "0.51" not in prices(fresh.quotes, Side.SELL)
    [kept] = ladder.decide(snap(crossed), state(orders=[order("c1", Side.BUY, "0.49", 10, outcome=Outcome.NO)]), 2)
    assert "0.51" in prices(kept.quotes, Side.SELL)  # its NO bid at 0.49 is that YES ask at 0.51
