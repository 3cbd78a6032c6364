"""Sports markets at their game's start: the venue removes every resting order of a market whose
Gamma item says `clearBookOnStart` when the game starts (`gameStartTime`). A quote left there
vanishes at kick-off, and one placed just before it lives seconds. So from `lead_ms` before the
start until GRACE_MS after it (the venue has cleared the book by then) the desk's intents there
are empty: its orders are withdrawn, none is placed, and the decisions log says why
(GAME_STARTING). A market without a known start, or whose book is not cleared, is quoted as usual.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import UTC, datetime

from contracts import order_end
from contracts.domain import Intent, MarketInfo
from engine.feeds.catalog import MarketCatalog
from engine.risk.gate import Decision, Reason

GRACE_MS = 5_000


def starting(market: MarketInfo, now_ms: int, lead_ms: int) -> bool:
    start = market.game_start_ms
    return (market.clear_book_on_start and start is not None and lead_ms > 0
            and start - lead_ms <= now_ms < start + GRACE_MS)


def next_change(market: MarketInfo, now_ms: int, lead_ms: int) -> int | None:
    """When `starting` next changes for this market with the clock alone (None: never again)."""
    start = market.game_start_ms
    if not market.clear_book_on_start or start is None or lead_ms <= 0:
        return None
    return min((t for t in (start - lead_ms, start + GRACE_MS) if t > now_ms), default=None)


class GameStarts:
    """The hold around a game's start as a part of the pass that reads the clock (contracts/due.py): the
    markets its strategies trade (`markets`), each held from `lead_ms` (the desk's setting) before its
    game's start."""

    def __init__(self, catalog: MarketCatalog, markets: Callable[[], Iterable[str]], lead_ms: Callable[[], int]):
        self.catalog, self.markets, self.lead_ms = catalog, markets, lead_ms

    def next_due(self, now: int, before: int) -> int | None:
        """When a market's hold next starts or ends with the clock alone (None: never again)."""
        lead = self.lead_ms()
        return min((due for cid in self.markets() if (market := self.catalog.get(cid)) is not None
                    and (due := next_change(market, now, lead)) is not None), default=None)


def hold_for_game_start(intents: list[Intent], catalog: MarketCatalog, now_ms: int,
                        lead_ms: int) -> tuple[list[Intent], list[Decision]]:
    """The intents with those in a market about to clear its book emptied, and a decision for each
    quote withdrawn."""
    out: list[Intent] = []
    decisions: list[Decision] = []
    for intent in intents:
        market = catalog.get(intent.condition_id)
        if not intent.quotes or market is None or not starting(market, now_ms, lead_ms):
            out.append(intent)
            continue
        assert market.game_start_ms is not None
        at = datetime.fromtimestamp(market.game_start_ms / 1000, tz=UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
        detail = (f"the game starts at {at} and the venue clears this market's book then: quotes withdrawn "
                  f"{lead_ms // 1000} s before, placed again once it has started")
        decisions += [Decision(intent.strategy, intent.condition_id, q.side, q.price, q.size, 0, Reason.GAME_STARTING,
                               detail) for q in intent.quotes]
        out.append(Intent(intent.strategy, intent.condition_id, (),
                          order_end.because(order_end.PROTECTION, "the game is starting")))
    return out, decisions
