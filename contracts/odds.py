"""Bookmakers' odds as fair probabilities (pure).

The feed's layout is The Odds API v4's `/v4/sports/{sport}/odds` answer with `oddsFormat=decimal`,
the layout most odds tools read and write: a JSON list of events, each
`{"id", "sport_key", "commence_time", "home_team", "away_team", "bookmakers": [{"key", "title",
"last_update", "markets": [{"key": "h2h", "outcomes": [{"name", "price"}]}]}]}`, prices as decimal
odds (2.5 pays 2.5 per 1 staked). Any vendor, or a file the operator writes, in that layout will do.
Only the head-to-head market (`h2h`: who wins, a draw as an outcome where there is one) is read.

A bookmaker's prices hold its margin: the implied probabilities 1/price add up to more than 1.
Shin's method takes it out: it models the margin as the bookmaker's protection against a share z
of insiders, which weighs more on long shots, so it shrinks a long shot's probability more than a
favourite's (the favourite-longshot bias proportional scaling ignores). For implied probabilities
π_i summing to Π > 1, each outcome's probability is

    p_i(z) = (sqrt(z² + 4 (1 − z) π_i² / Π) − z) / (2 (1 − z))

with z in [0, 1) found so that Σ p_i(z) = 1 (by bisection: the sum falls from √Π at z = 0 to below
1 as z grows). A book with no margin (Π ≤ 1) is only scaled to sum to 1. The market's fair
probability is the median of the bookmakers' Shin probabilities for the outcome, over bookmakers
whose prices are fresh (`max_age_ms`) and whose h2h market is whole.

Every field is checked (hostile until checked): a malformed event, a price of 1 or less, a
bookmaker without a readable update time is left out, never guessed at; a feed past MAX_EVENTS
events is refused whole.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from statistics import median
from typing import Any

from contracts.domain import ONE

H2H = "h2h"
MAX_EVENTS = 5_000
MAX_BOOKMAKERS = 100
MAX_OUTCOMES = 20
MAX_TEXT = 200


class OddsError(ValueError):
    """The feed is not in the layout read here, or past its bounds; the message says which."""


@dataclass(frozen=True, slots=True)
class BookPrices:
    bookmaker: str
    updated_ms: int
    prices: Mapping[str, float]  # outcome name -> decimal odds


@dataclass(frozen=True, slots=True)
class OddsEvent:
    id: str
    home: str
    away: str
    commence_ms: int | None
    books: tuple[BookPrices, ...]

    @property
    def outcomes(self) -> tuple[str, ...]:
        return tuple(sorted({name for book in self.books for name in book.prices}))


def shin(prices: Sequence[float]) -> list[float]:
    """Margin-free probabilities of decimal odds `prices` (each > 1), by Shin's method."""
    implied = [1.0 / price for price in prices]
    total = sum(implied)
    if total <= 1.0:
        return [p / total for p in implied]
    low, high = 0.0, 0.999_999
    for _ in range(100):
        z = (low + high) / 2
        if sum(_shin_p(p, total, z) for p in implied) > 1.0:
            low = z
        else:
            high = z
    found = [_shin_p(p, total, (low + high) / 2) for p in implied]
    scale = sum(found)
    return [p / scale for p in found]  # the bisection's last few ulps


def _shin_p(implied: float, total: float, z: float) -> float:
    return (math.sqrt(z * z + 4 * (1 - z) * implied * implied / total) - z) / (2 * (1 - z))


def fair_probability(event: OddsEvent, outcome: str, *, now_ms: int, max_age_ms: int) -> tuple[int, int] | None:
    """(the outcome's fair probability in micros, how many bookmakers gave it), or None when no
    fresh bookmaker prices it."""
    found = []
    for book in event.books:
        if outcome not in book.prices or now_ms - book.updated_ms > max_age_ms:
            continue
        names = sorted(book.prices)
        probabilities = dict(zip(names, shin([book.prices[n] for n in names]), strict=True))
        found.append(probabilities[outcome])
    if not found:
        return None
    return min(ONE - 1, max(1, round(median(found) * ONE))), len(found)


def parse_events(raw: object) -> dict[str, OddsEvent]:
    """Every readable event by id; OddsError when the document is not a list of events or too long."""
    if not isinstance(raw, list):
        raise OddsError("the odds feed is not a JSON list of events (The Odds API v4 layout)")
    if len(raw) > MAX_EVENTS:
        raise OddsError(f"the odds feed lists {len(raw):,} events; at most {MAX_EVENTS:,} are read")
    events = {}
    for item in raw:
        event = _event(item)
        if event is not None:
            events[event.id] = event
    return events


def _text(value: object) -> str | None:
    return value if isinstance(value, str) and 0 < len(value) <= MAX_TEXT and value.isprintable() else None


def _time_ms(value: object) -> int | None:
    if not isinstance(value, str) or len(value) > 40:
        return None
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return None if moment.tzinfo is None else int(moment.timestamp() * 1000)


def _event(item: object) -> OddsEvent | None:
    if not isinstance(item, dict):
        return None
    event_id, home, away = _text(item.get("id")), _text(item.get("home_team")), _text(item.get("away_team"))
    books = item.get("bookmakers")
    if event_id is None or home is None or away is None or not isinstance(books, list):
        return None
    read = [b for b in (_book(raw) for raw in books[:MAX_BOOKMAKERS]) if b is not None]
    return OddsEvent(event_id, home, away, _time_ms(item.get("commence_time")), tuple(read))


def _book(raw: object) -> BookPrices | None:
    if not isinstance(raw, dict):
        return None
    key, updated = _text(raw.get("key")), _time_ms(raw.get("last_update"))
    markets = raw.get("markets")
    if key is None or updated is None or not isinstance(markets, list):
        return None
    h2h = next((m for m in markets if isinstance(m, dict) and m.get("key") == H2H), None)
    if h2h is None:
        return None
    prices = _prices(h2h.get("outcomes"))
    return None if prices is None else BookPrices(key, updated, prices)


def _prices(outcomes: Any) -> dict[str, float] | None:
    """The market's prices by outcome, or None when any is unreadable (a book is priced whole or not at all)."""
    if not isinstance(outcomes, list) or not 2 <= len(outcomes) <= MAX_OUTCOMES:
        return None
    prices: dict[str, float] = {}
    for outcome in outcomes:
        name = _text(outcome.get("name")) if isinstance(outcome, dict) else None
        price = outcome.get("price") if isinstance(outcome, dict) else None
        if name is None or name in prices or isinstance(price, bool) or not isinstance(price, int | float):
            return None
        if not math.isfinite(price) or not 1.0 < price <= 10_000:
            return None
        prices[name] = float(price)
    return prices
