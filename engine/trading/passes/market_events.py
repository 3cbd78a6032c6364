"""What the market's own events do to every ledger: the feed's moves matched by each paper venue, a market
resolved settled on every ledger, a void refunded on a paper ledger whose venue refunds voids, a tick size
change kept, and a market that ended (a paired market over, or not binary) quoted no more."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine
from typing import Any

from contracts.venue_policies import policy_of
from contracts.venues import venue_of
from engine.feeds.market_data_events import MarketEvent, MarketResolved, MarketVoided, TickSizeChanged
from engine.trading.ledgers.market_endings import close_ended
from engine.trading.ledgers.ticks import apply_tick_change
from engine.trading.ledgers.venue_link import VenueLink
from engine.trading.operator.operator_actions import settle_won
from engine.trading.passes.routing import Ledgers
from engine.trading.settlement.void_refunds import book_paper_void


class MarketEvents:
    """The book cache's listener for the ledgers (the desk's first)."""

    def __init__(self, link: VenueLink, ledgers: Ledgers,
                 settle_missed: Callable[[], Coroutine[Any, Any, None]]) -> None:
        """`settle_missed`: the resolutions asked of the venue (a resolution with no single winner)."""
        self.link, self.ledgers, self.settle_missed = link, ledgers, settle_missed
        self._resolution_check: asyncio.Task[None] | None = None

    def on_market_event(self, event: MarketEvent) -> None:
        link = self.link
        for ledger in self.ledgers.all():
            ledger.forward(event)
        if isinstance(event, MarketResolved) and event.winning_token:
            # Every ledger settles now, while its positions still hold what they held: a fill's later
            # status report is folded at the payout, and a position settled that way owes no claim.
            for ledger in self.ledgers.all():
                if ledger.live or ledger.desk:
                    settle_won(ledger, event.condition_id, event.winning_token)
        elif isinstance(event, MarketResolved):
            self._check_resolutions_soon()  # no single winner (a 50/50): its payouts come from Gamma
        elif isinstance(event, MarketVoided):  # on paper (live, the venue's settlement list says what it paid back)
            for ledger in self.ledgers.trading():
                if ledger.mode == "paper" and ledger.venue_name == venue_of(event.condition_id) \
                        and policy_of(ledger.venue_name).refunds_voids:
                    book_paper_void(ledger.executor, link.catalog, event.condition_id, event.yes_value)
        elif isinstance(event, TickSizeChanged):
            apply_tick_change(link.catalog, link.db, event, link.clock())
        # (after settling: a paired market over, or not binary, is quoted no more)
        close_ended(link.catalog, link.db, event, link.references.pairs)

    def _check_resolutions_soon(self) -> None:
        if self._resolution_check is None or self._resolution_check.done():
            self._resolution_check = asyncio.get_running_loop().create_task(self.settle_missed(),
                                                                            name="resolution-check")
