"""The instruments of bench/reaction.py and bench/decision_cost.py measure what they say: a move of
the book is seen on the market channel and the first request it causes is found at the venue after
it (the bare client, in its own process, as the bench runs it); each decision-cost case does what it
is named for (a no-op pass changes no order, a moved book replaces its market's quotes)."""

from __future__ import annotations

import asyncio
import importlib
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))
reaction = importlib.import_module("reaction")
decision_cost = importlib.import_module("decision_cost")
venue_side = importlib.import_module("_reaction_venue")


@pytest.mark.slow  # starts processes
def test_each_move_is_answered_at_the_venue_after_it_by_the_bare_client() -> None:
    with reaction.approved_simulator(seed=5, agents=False, prefill_books=False, sports_markets="none",
                                     v2_markets="none") as sim:
        markets = reaction.eligible_markets(sim, 2)
        receipts, mover = venue_side.Receipts(sim), venue_side.BookMover(sim, markets)
        samples, rate = reaction.bare_phase(sim, receipts, mover, markets, moves=4)
        assert rate == 0.0 and len(samples) == 4 and all(0 < s < 2_000 for s in samples)
        assert not any(mover.up.values())  # the books are back where they started
        # Every request the bare client sent is on the probe's record, its cancels after a move each.
        cancels = [r for r in receipts.seen if r.kind == "cancel"]
        assert len(cancels) == 4 and {r.market for r in cancels} == {m["condition_id"] for m in markets}


@pytest.mark.slow  # starts processes
def test_the_bare_client_quotes_the_flooding_market_too_and_answers_moves_of_the_quiet_ones() -> None:
    """The flood phase's yardstick: the bare client rests a bid in the flooding market as well (its
    frames reach it as they reach the desk), the flood runs while the quiet markets move, and the
    flood never moves its touch: every cancel answers a move of a quiet market."""
    with reaction.approved_simulator(seed=5, agents=False, prefill_books=False, sports_markets="none",
                                     v2_markets="none") as sim:
        *quiet, flooding = reaction.eligible_markets(sim, 3)
        receipts, mover = venue_side.Receipts(sim), venue_side.BookMover(sim, [*quiet, flooding])
        samples, rate = reaction.bare_phase(sim, receipts, mover, quiet, moves=4, flood=flooding, flood_rate=200)
        assert len(samples) == 4 and all(0 < s < 2_000 for s in samples)
        assert rate > 0  # the flood ran through the phase
        placed = {r.market for r in receipts.seen if r.kind == "place"}
        assert flooding["condition_id"] in placed  # it quoted the flooding market
        cancels = [r for r in receipts.seen if r.kind == "cancel"]
        assert len(cancels) == 4 and {r.market for r in cancels} == {m["condition_id"] for m in quiet}


def test_the_decision_cost_cases_do_what_they_are_named_for(tmp_path: Path) -> None:
    async def scenario() -> tuple[list[float], list[float]]:
        core, clock, cids = await decision_cost.started_core(tmp_path, 2)
        try:
            assert len(core.executor.state.orders) == 4  # both markets quoted
            quiet = await decision_cost.timed_passes(core, clock, cids, 5, None)  # asserts no order moved
            moving = await decision_cost.timed_passes(core, clock, cids, 5, cids[0])  # asserts they did
            return quiet, moving
        finally:
            await core.stop()
            core.db.dispose()

    quiet, moving = asyncio.run(scenario())
    assert len(quiet) == len(moving) == 5 and min(quiet + moving) > 0
