"""After the venue refuses a take (a fill-and-kill or fill-or-kill finding nothing to match: the
visible liquidity was already used, by us or by someone faster), the same strategy does not
fire takes into that market again until its book changes: the same book would get the same
refusal, every tick (in paper, an arbitrage fired 100 refused legs in 14 s until the refusal
and order-rate breakers stopped it). A book that never changes is tried again after
BACKOFF_MAX_MS. Resting quotes are not held. Pure: the caller passes the time and the books.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace

from contracts.domain import Intent, MarketView, Quote
from engine.execution.planner import TAKE

BACKOFF_MAX_MS = 60_000
DEPTH = 5  # levels of each side compared: where a take's liquidity comes from


def book_signature(view: MarketView | None) -> int:
    """What a take would meet in this market: the top levels of both books (not their times)."""
    if view is None:
        return 0
    books = (view.yes, view.no)
    return hash(tuple((b.bids[:DEPTH], b.asks[:DEPTH]) if b is not None else None for b in books))


@dataclass
class Hold:
    signature: int
    since_ms: int


class TakeBackoff:
    def __init__(self) -> None:
        self.holds: dict[tuple[str, str], Hold] = {}

    def refused(self, strategy: str, condition_id: str, signature: int, now: int) -> None:
        self.holds[(strategy, condition_id)] = Hold(signature, now)

    def next_due(self, now: int, before: int) -> int | None:
        """(contracts/due.py) When the first hold still in force at `now` ends of itself (None: none is)."""
        return min((due for hold in self.holds.values() if (due := hold.since_ms + BACKOFF_MAX_MS) > now),
                   default=None)

    def held(self, strategy: str, condition_id: str, signature: int, now: int) -> Hold | None:
        """The hold on this strategy's takes here, while the book is unchanged (else it ends)."""
        key = (strategy, condition_id)
        hold = self.holds.get(key)
        if hold is None:
            return None
        if hold.signature != signature or now - hold.since_ms >= BACKOFF_MAX_MS:
            del self.holds[key]
            return None
        return hold


def hold_takes(intents: list[Intent], backoff: TakeBackoff, views: Mapping[str, MarketView],
               now: int) -> tuple[list[Intent], list[tuple[Intent, Quote]]]:
    """Each intent without the takes a hold keeps back, and those held (for the decisions log,
    which writes a repeated reason once a minute, not every tick)."""
    out: list[Intent] = []
    held: list[tuple[Intent, Quote]] = []
    for intent in intents:
        takes = [q for q in intent.quotes if q.tif in TAKE]
        if not takes or backoff.held(intent.strategy, intent.condition_id,
                                     book_signature(views.get(intent.condition_id)), now) is None:
            out.append(intent)
            continue
        held += [(intent, q) for q in takes]
        out.append(replace(intent, quotes=tuple(q for q in intent.quotes if q.tif not in TAKE)))
    return out, held
