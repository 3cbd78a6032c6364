"""Bookmakers' odds as fair probabilities (contracts/odds.py), on odds files written for the tests
(tests/fixtures/odds/): Shin's method takes the margin out (checked against the closed form two
outcomes have, and against its own defining equation for three), the median over fresh bookmakers
prices a market, and everything unreadable in a feed is left out, never guessed at."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

from contracts.odds import MAX_EVENTS, OddsError, fair_probability, parse_events, shin

ODDS = Path(__file__).resolve().parents[1] / "fixtures" / "odds"
NOON = 1_800_014_400_000  # 2027-01-15T12:00:00Z, the files' latest update
TEN_MIN = 600_000


def test_shin_on_two_outcomes_is_half_the_overround_off_each() -> None:
    """With two outcomes Shin's probabilities have a closed form: each implied probability less
    half the margin."""
    for a, b in ((1.50, 2.60), (1.45, 2.75), (1.90, 1.90), (1.05, 12.0)):
        margin = 1 / a + 1 / b - 1
        assert shin([a, b]) == pytest.approx([1 / a - margin / 2, 1 / b - margin / 2], abs=1e-9)


def test_shin_on_three_outcomes_solves_its_equation_and_shrinks_the_long_shot() -> None:
    prices = [2.10, 3.60, 3.30]
    found = shin(prices)
    assert sum(found) == pytest.approx(1.0, abs=1e-12)
    implied = [1 / p for p in prices]
    total = sum(implied)
    # One z explains every outcome: solve it from the first, check the others with it.
    p0, i0 = found[0], implied[0]
    z = _z_of(p0, i0, total)
    for p, i in zip(found, implied, strict=True):
        assert p == pytest.approx((math.sqrt(z * z + 4 * (1 - z) * i * i / total) - z) / (2 * (1 - z)), abs=1e-9)
    proportional = [i / total for i in implied]
    assert found[0] > proportional[0] and found[1] < proportional[1]  # favourite up, long shot down


def _z_of(p: float, implied: float, total: float) -> float:
    """Shin's z from one outcome: p = (sqrt(z² + 4(1-z) q) - z) / (2(1-z)), q = implied² / total,
    solved for z: z = (q - p²) / (p - p²)."""
    q = implied * implied / total
    return (q - p * p) / (p - p * p)


def test_a_book_without_margin_is_only_scaled() -> None:
    assert shin([2.0, 2.0]) == [0.5, 0.5]
    assert shin([2.2, 2.2]) == pytest.approx([0.5, 0.5])  # under-round (an arbitrage): scaled up


def test_the_market_is_the_median_of_fresh_bookmakers() -> None:
    events = parse_events(json.loads((ODDS / "final.json").read_text()))
    final = events["evt-final-001"]
    assert (final.home, final.away, final.outcomes) == ("Harbor City", "Northfield", ("Harbor City", "Northfield"))
    fair = fair_probability(final, "Harbor City", now_ms=NOON, max_age_ms=TEN_MIN)
    books = [shin([1.50, 2.60])[0], shin([1.45, 2.75])[0], shin([2.50, 1.55])[1]]  # the stale book left out
    assert fair == (round(sorted(books)[1] * 1e6), 3)
    other = fair_probability(final, "Northfield", now_ms=NOON, max_age_ms=TEN_MIN)
    assert other is not None and abs(other[0] + fair[0] - 1_000_000) <= 1
    with_stale = fair_probability(final, "Harbor City", now_ms=NOON, max_age_ms=2 * 3_600_000)
    assert with_stale is not None and with_stale[1] == 4
    assert fair_probability(final, "Harbor City", now_ms=NOON + 3_600_000, max_age_ms=TEN_MIN) is None  # all old
    assert fair_probability(final, "Nobody", now_ms=NOON, max_age_ms=TEN_MIN) is None
    draw = fair_probability(events["evt-league-002"], "Draw", now_ms=NOON, max_age_ms=TEN_MIN)
    assert draw == (round(shin([2.10, 3.60, 3.30])[2] * 1e6), 1)


def test_what_cannot_be_read_is_left_out() -> None:
    events = parse_events(json.loads((ODDS / "hostile.json").read_text()))
    assert sorted(events) == ["bad-price", "good", "nan-price", "no-name", "no-update", "twice"]
    priced = {eid for eid, event in events.items() if event.books}
    assert priced == {"good"}  # every other event's only bookmaker is unreadable, so it prices nothing
    assert "no-teams" not in events and "text-books" not in events
    not_feeds: list[object] = [{"events": []}, "[]", 3]
    for not_a_feed in not_feeds:
        with pytest.raises(OddsError):
            parse_events(not_a_feed)
    with pytest.raises(OddsError, match="at most"):
        parse_events([{}] * (MAX_EVENTS + 1))
