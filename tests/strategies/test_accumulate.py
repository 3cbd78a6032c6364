"""Accumulation to a target (DCA): a slice at the touch every interval while the price is within the
cap, what is held counted toward the target, nothing sold, the interval remembered across a restart."""

from __future__ import annotations

from dataclasses import replace

from contracts.domain import Quote, Side, Tif
from engine.strategies.accumulate import Accumulate
from tests.strategies.builders import book, order, px, sh, snap, state, view

BASE = {"target_shares": 30, "size": 10, "interval_s": 60, "price_cap": 0.55}
BOOK = book(bids=[("0.48", 100)], asks=[("0.52", 100)])


def test_slices_at_the_interval_until_the_target_is_held() -> None:
    dca = Accumulate("d", BASE)
    [first] = dca.decide(snap(view(yes=BOOK)), state(), 0)
    assert first.quotes == (Quote(Side.BUY, px("0.52"), sh(10), Tif.FAK),)
    [early] = dca.decide(snap(view(yes=BOOK)), state(positions={"c1": 10}), 59_000)
    assert early.quotes == () and "next slice in 1 s" in early.reason
    [second] = dca.decide(snap(view(yes=BOOK)), state(positions={"c1": 10}), 60_000)
    assert second.quotes == (Quote(Side.BUY, px("0.52"), sh(10), Tif.FAK),)
    [last] = dca.decide(snap(view(yes=BOOK)), state(positions={"c1": 25}), 120_000)
    assert last.quotes[0].size == sh(5)  # the rest of the target only
    [done] = dca.decide(snap(view(yes=BOOK)), state(positions={"c1": 30}), 180_000)
    assert done.quotes == () and "at target" in done.reason


def test_above_the_cap_it_waits_without_starting_the_interval() -> None:
    dca = Accumulate("d", BASE)
    dear = book(bids=[("0.54", 100)], asks=[("0.56", 100)])
    [waits] = dca.decide(snap(view(yes=dear)), state(), 0)
    assert waits.quotes == () and "above the cap 0.55" in waits.reason
    [buys] = dca.decide(snap(view(yes=BOOK)), state(), 1_000)
    assert buys.quotes


def test_no_is_bought_by_selling_yes_at_the_bid_and_yes_held_counts_against_it() -> None:
    dca = Accumulate("d", {**BASE, "outcome": "NO", "target_shares": 20})
    [intent] = dca.decide(snap(view(yes=BOOK)), state(positions={"c1": 5}), 0)  # NO at 0.52: within 0.55
    assert intent.quotes == (Quote(Side.SELL, px("0.48"), sh(10), Tif.FAK),)
    [dear] = Accumulate("d", {**BASE, "outcome": "NO"}).decide(
        snap(view(yes=book(bids=[("0.44", 100)], asks=[("0.46", 100)]))), state(), 0)
    assert dear.quotes == () and "NO costs 0.56" in dear.reason


def test_thin_touches_and_slices_in_flight() -> None:
    thin = book(bids=[("0.48", 100)], asks=[("0.52", 3)])  # under the market's 5-share minimum
    [intent] = Accumulate("d", BASE).decide(snap(view(yes=thin)), state(), 0)
    assert intent.quotes == () and "minimum" in intent.reason
    busy = state(orders=[order("c1", Side.BUY, "0.52", 10)])
    assert Accumulate("d", BASE).decide(snap(view(yes=BOOK)), busy, 0) == []


def test_a_restart_waits_for_the_interval_it_remembers() -> None:
    dca = Accumulate("d", BASE)
    dca.decide(snap(view(yes=BOOK)), state(), 0)
    restarted = Accumulate("d", BASE)
    restarted.recall(dca.memory())
    [intent] = restarted.decide(snap(view(yes=BOOK)), state(positions={"c1": 10}), 30_000)
    assert intent.quotes == () and "next slice in 30 s" in intent.reason


ICEBERG = {**BASE, "how": "iceberg"}


def test_as_an_iceberg_it_rests_one_slice_at_the_cap_with_the_rest_behind_it() -> None:
    dca = Accumulate("d", ICEBERG)
    [first] = dca.decide(snap(view(yes=BOOK)), state(), 0)
    assert first.quotes == (Quote(Side.BUY, px("0.55"), sh(10), Tif.GTC, reserve=sh(20)),)
    # The slice rests, 4 of it filled: the same slice is asked for (it keeps its place), the rest behind it.
    resting = state(positions={"c1": 4}, orders=[replace(order("c1", Side.BUY, "0.55", 10), filled=sh(4))])
    [same] = dca.decide(snap(view(yes=BOOK)), resting, 1_000)
    assert same.quotes == (Quote(Side.BUY, px("0.55"), sh(10), Tif.GTC, reserve=sh(20)),)
    # Filled in full: the next slice at once (no interval), at the same price.
    [second] = dca.decide(snap(view(yes=BOOK)), state(positions={"c1": 10}), 2_000)
    assert second.quotes == (Quote(Side.BUY, px("0.55"), sh(10), Tif.GTC, reserve=sh(10)),)
    [last] = dca.decide(snap(view(yes=BOOK)), state(positions={"c1": 25}), 3_000)
    assert last.quotes == (Quote(Side.BUY, px("0.55"), sh(5), Tif.GTC),)
    [done] = dca.decide(snap(view(yes=BOOK)), state(positions={"c1": 30}), 4_000)
    assert done.quotes == () and "at target" in done.reason


def test_a_no_iceberg_rests_its_slice_as_an_ask_of_yes_at_one_less_the_cap() -> None:
    [intent] = Accumulate("d", {**ICEBERG, "outcome": "NO"}).decide(snap(view(yes=BOOK)), state(), 0)
    assert intent.quotes == (Quote(Side.SELL, px("0.45"), sh(10), Tif.GTC, reserve=sh(20)),)
