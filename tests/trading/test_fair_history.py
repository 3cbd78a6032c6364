"""A replay's fair values at each moment (engine/trading/hosting/fair_history.py) read as live reads the
signals in force (storage/engine_stores/trading_reads.py): the operator's standing value wins, else the
newest post in force; a post holds from when it was received until its time-to-live runs out or its source's
next post replaces it; a benched source is left out; an ensemble sees every source in force with its Brier
score; a stored row that is not a probability is never a fair value."""

from __future__ import annotations

from contracts.domain import ONE, SourcedFair
from engine.trading.hosting.fair_history import Post, ReplayedFairValues, from_rows


def _post(at: int, source: str, value: int, expires: int | None = None, cid: str = "m") -> Post:
    return Post(at, expires, cid, source, value, 800_000)


def test_values_hold_from_receipt_until_expiry_or_replacement_and_the_newest_wins() -> None:
    posts = [_post(10, "a", 600_000, expires=100), _post(20, "b", 650_000, expires=50),
             _post(60, "a", 610_000, expires=70)]
    replay = ReplayedFairValues([], posts, {"a": ("feeding", 100_000)}, "operator")
    assert replay.at(5).fair == {}
    assert replay.at(15).fair == {"m": 600_000}
    held = replay.at(30)
    assert held.fair == {"m": 650_000} and held.confidence == {"m": 800_000}  # b is newer
    assert held.sources["m"] == (SourcedFair("a", 600_000, 800_000, 100_000), SourcedFair("b", 650_000, 800_000))
    assert replay.at(50).fair == {"m": 600_000}  # b expired at 50
    assert replay.at(65).fair == {"m": 610_000}  # a's next post replaced its first
    assert replay.at(70).fair == {}  # and expired at 70, though the first would have held to 100
    assert replay.replayed.posts == 3 and replay.replayed.most_sources == 2 and replay.replayed.sources == {"a", "b"}


def test_the_operators_standing_value_wins_and_a_benched_source_is_left_out() -> None:
    replay = ReplayedFairValues([("m", "operator", 700_000, None, 0)], [_post(10, "a", 600_000), _post(10, "x", 1)],
                                {"x": ("benched", 300_000)}, "operator")
    held = replay.at(20)
    assert held.fair == {"m": 700_000} and held.confidence == {"m": ONE}
    assert [s.source for s in held.sources["m"]] == ["a", "operator"]
    assert replay.replayed.standing == {"m"} and replay.replayed.sources == {"a"}


def test_stored_rows_that_are_not_probabilities_are_never_fair_values() -> None:
    replay = from_rows([("m", "operator", 1.5, None, 0)], [(10, None, "m", "a", "0.6", None), (10, None, "n", "a",
                                                                                                 600_000, 2.0)],
                       [("a", "feeding", "bad")], "operator")
    held = replay.at(20)
    assert held.fair == {"n": 600_000} and held.sources["n"] == (SourcedFair("a", 600_000, None, None),)
