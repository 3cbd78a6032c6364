"""Two strategies wanting opposite things in one market: the surer one trades, the other is told
why, a quote that reduces the loser's own position still goes, and without a stated confidence
nothing changes (engine/risk/conflicts.py)."""

from __future__ import annotations

from dataclasses import replace

from contracts.domain import Intent, Quote, Side
from engine.risk.conflicts import direction, settle

BUY, SELL = Side.BUY, Side.SELL
SH = 1_000_000


def c(x: float) -> int:
    return round(x * 1_000_000)


def _intent(strategy: str, confidence: float | None, *quotes: tuple[Side, float], market: str = "m") -> Intent:
    return Intent(strategy, market, tuple(Quote(side, c(price), 10 * SH) for side, price in quotes),
                  confidence=None if confidence is None else c(confidence))


def flat(strategy: str, market: str) -> int:
    return 0


def test_the_surer_strategy_wins_whichever_way_round() -> None:
    up, down = _intent("a", 0.9, (BUY, 0.40)), _intent("b", 0.6, (SELL, 0.60))
    kept, refused = settle([up, down], flat, {})
    assert kept == [up, replace(down, quotes=())]
    assert [(r.strategy, r.quote.side) for r in refused] == [("b", SELL)]
    assert "strategy 'a' wants YES up here with confidence 0.9 against this one's 0.6 (surer)" in refused[0].detail
    up, down = _intent("a", 0.3, (BUY, 0.40)), _intent("b", 0.6, (SELL, 0.60))
    kept, refused = settle([up, down], flat, {"a": 9})  # priority does not beat confidence
    assert kept[0].quotes == () and kept[1] == down
    assert [r.strategy for r in refused] == ["a"]


def test_a_stated_confidence_beats_none_and_ties_go_by_priority_then_name() -> None:
    stated, silent = _intent("z", 0.1, (SELL, 0.60)), _intent("a", None, (BUY, 0.40))
    kept, refused = settle([stated, silent], flat, {"a": 9})
    assert kept[0] == stated and kept[1].quotes == () and "unstated" in refused[0].detail
    one, two = _intent("a", 0.5, (BUY, 0.40)), _intent("b", 0.5, (SELL, 0.60))
    assert settle([one, two], flat, {"b": 1})[0][0].quotes == ()  # same confidence: b's priority
    kept, refused = settle([one, two], flat, {})
    assert kept[1].quotes == () and "as sure, higher in priority or name" in refused[0].detail


def test_nothing_changes_without_a_stated_confidence_or_without_opposite_wants() -> None:
    silent = [_intent("a", None, (BUY, 0.40)), _intent("b", None, (SELL, 0.60))]
    assert settle(silent, flat, {}) == (silent, [])
    same_way = [_intent("a", 0.9, (BUY, 0.40)), _intent("b", 0.1, (BUY, 0.41))]
    assert settle(same_way, flat, {}) == (same_way, [])
    other_market = [_intent("a", 0.9, (BUY, 0.40)), _intent("b", 0.1, (SELL, 0.60), market="n")]
    assert settle(other_market, flat, {}) == (other_market, [])


def test_a_two_sided_market_maker_is_never_in_a_conflict() -> None:
    maker = _intent("mm", None, (BUY, 0.45), (SELL, 0.55))
    assert direction(maker) is None
    bettor = _intent("vb", 0.9, (SELL, 0.50))
    assert settle([maker, bettor], flat, {}) == ([maker, bettor], [])


def test_the_losers_exit_still_goes() -> None:
    """The loser holds YES: its ask sells what it holds (an exit comes first, whoever is surer);
    holding NO, its bid buys it back; flat, its ask opens a short and waits."""
    winner, loser = _intent("a", 0.9, (BUY, 0.40)), _intent("b", 0.2, (SELL, 0.60))
    kept, refused = settle([winner, loser], lambda s, m: 5 * SH if s == "b" else 0, {})
    assert kept == [winner, loser] and refused == []
    winner, loser = _intent("a", 0.9, (SELL, 0.60)), _intent("b", 0.2, (BUY, 0.40))
    kept, refused = settle([winner, loser], lambda s, m: -5 * SH if s == "b" else 0, {})
    assert kept == [winner, loser] and refused == []
    kept, refused = settle([winner, loser], flat, {})
    assert kept[1].quotes == () and len(refused) == 1

