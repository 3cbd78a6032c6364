"""A paired market on the Markets page: both venues' books as the desk recorded them (Kalshi's as
the tokens `kalshi:<ticker>:yes` and `:no`, engine/venues/kalshi/reference.py), each mid, and what
hedging the pair would lock in now after both venues' fees (contracts/cross_venue.py's
`pair_ways`, the arithmetic `python -m engine pairs spreads` uses on books it reads itself)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from sqlalchemy import text

from contracts.cross_venue import Way, pair_ways
from contracts.domain import MICRO, Level
from contracts.venues.kalshi import ids as kalshi_ids
from storage.dashboard_queries.market_queries import BookView, latest_book, tick_bounds
from storage.sqlite.db import Database


@dataclass(frozen=True)
class PairedBooks:
    pair_id: int
    ticker: str
    title: str
    inverted: bool
    warnings: str
    poly: BookView | None  # the Polymarket market's YES book
    kalshi: BookView | None  # the Kalshi market's YES book (its asks are 1 - its NO bids)
    ways: list[Way]

    @property
    def poly_mid(self) -> float | None:
        return _mid(self.poly)

    @property
    def kalshi_mid(self) -> float | None:
        """Kalshi's YES mid in this market's YES space (1 - its mid when the pair is inverted)."""
        mid = _mid(self.kalshi)
        return None if mid is None else (1 - mid if self.inverted else mid)


def _mid(book: BookView | None) -> float | None:
    if book is None or not book.bids or not book.asks:
        return None
    return (book.bids[0][0] + book.asks[0][0]) / 2


def _book(db: Database, token: str) -> BookView | None:
    bounds = tick_bounds(db, token)
    return None if bounds is None else latest_book(db, token, last_tick_at=bounds[1])


def _asks(book: BookView | None) -> list[Level]:
    return [] if book is None else [Level(round(p * MICRO), round(s * MICRO)) for p, s in book.asks]


def paired_books(db: Database, condition_id: str, *, margin: float, capital: float) -> PairedBooks | None:
    """The pair of a Polymarket market (None when it has none), both books as last recorded and
    both ways to hedge it; `margin` a share kept after fees, `capital` dollars each venue may spend."""
    with db.read() as conn:
        row: Any = conn.execute(text("""SELECT p.id, p.kalshi_ticker, p.kalshi_title, p.inverted, p.warnings,
                                               m.yes_token, m.no_token, m.fee_rate_ppm, m.fee_exponent
                                        FROM venue_pairs p JOIN markets m ON m.condition_id = p.condition_id
                                        WHERE p.condition_id = :cid"""), {"cid": condition_id}).first()
    if row is None:
        return None
    yes, no = _book(db, row.yes_token), _book(db, row.no_token)
    k_yes = _book(db, kalshi_ids.token_id(row.kalshi_ticker, "yes"))
    k_no = _book(db, kalshi_ids.token_id(row.kalshi_ticker, "no"))
    ways = pair_ways({"YES": _asks(yes), "NO": _asks(no)}, {"yes": _asks(k_yes), "no": _asks(k_no)},
                     inverted=bool(row.inverted), poly_fee_ppm=int(row.fee_rate_ppm),
                     poly_fee_exponent=int(row.fee_exponent), margin=round(margin * MICRO),
                     capital=round(capital * MICRO))
    return PairedBooks(int(row.id), str(row.kalshi_ticker), str(row.kalshi_title), bool(row.inverted),
                       "; ".join(json.loads(row.warnings or "[]")), yes, k_yes, ways)
