"""Which ledger a strategy trades: one (venue, mode) among the desk's and the venue ledgers beside it.

A ledger is named by its venue and its mode. The desk's is the venue in use in the desk's mode; every
other is a venue ledger (engine/trading/passes/venue_ledger.py) kept by the core in one map under the
same key. A strategy trades one venue (contracts/market_filter.py refuses a list naming two), that of its
markets. Its mode: a venue armed apart from the desk (contracts/venue_policies.py `venues_apart`, its mode
kept in engine_state) trades in its armed mode; any other venue trades in the desk's mode once the
strategy is promoted, on paper before (a strategy never promoted never trades real money). A cross-venue
strategy names the desk venue's markets: its first leg is routed as they are, its other leg on the pair
venue's ledger.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from contracts.command_refusal import CommandRejected
from contracts.venues import LABELS, venue_of
from engine.trading.passes.venue_ledger import VenueLedger, ledger_kept_open

LedgerKey = tuple[str, str]  # (venue, mode)


def venue_traded(markets: Sequence[str], desk_venue: str) -> str:
    """The venue a strategy's markets are on (the desk's when it names none)."""
    return venue_of(markets[0]) if markets else desk_venue


def mode_on(venue: str, promoted: bool, desk_mode: str, armed: Mapping[str, str]) -> str:
    """The mode a strategy trades `venue` in: its armed mode for a venue armed on its own, else the
    desk's mode once promoted and paper before."""
    if venue in armed:
        return armed[venue]
    return desk_mode if promoted else "paper"


def ledger_of(hosted: Any, desk: LedgerKey, armed: Mapping[str, str]) -> LedgerKey:
    """The ledger a hosted strategy's intents go to (`desk`: the desk's own)."""
    venue = venue_traded(hosted.markets, desk[0])
    return venue, mode_on(venue, bool(hosted.live), desk[1], armed)


class Ledgers:
    """The ledgers beside the desk's, one per (venue, mode), and which one a strategy or an exit goes to."""

    def __init__(self, desk: Callable[[], LedgerKey], armed: dict[str, str]) -> None:
        self._desk = desk  # the desk's own ledger, now (its mode changes while stopped)
        self.armed = armed  # venues armed apart from the desk, each in its own mode
        self.open: dict[LedgerKey, VenueLedger] = {}

    @property
    def desk_key(self) -> LedgerKey:
        return self._desk()

    def by_key(self) -> list[tuple[LedgerKey, VenueLedger]]:
        """Every one, the desk's venue first (the order their passes run in)."""
        venue = self.desk_key[0]
        return sorted(self.open.items(), key=lambda kv: (kv[0][0] != venue, kv[0]))

    def beside(self) -> list[VenueLedger]:
        return [ledger for _, ledger in self.by_key()]

    def get(self, venue: str, mode: str | None = None) -> VenueLedger | None:
        """The one of `venue` in `mode` (by default the venue's armed mode, else paper)."""
        return self.open.get((venue, mode or self.armed.get(venue, "paper")))

    def route(self, hosted: Any) -> LedgerKey:
        """The ledger a hosted strategy's intents go to (the desk's own key included)."""
        return ledger_of(hosted, self.desk_key, self.armed)

    def for_exit(self, payload: Mapping[str, Any]) -> VenueLedger | None:
        """The ledger an operator's exit sells on (None: the desk's). A position on another venue (its market
        is there, or its strategy trades there) is sold on that venue's ledger, whatever `ledger` says; on the
        desk's venue, `ledger` names the mode (the desk's by default). Refused when that ledger is not open."""
        desk_venue, desk_mode = self.desk_key
        venue = venue_of(str(payload["condition_id"])) if payload.get("condition_id") else desk_venue
        if venue == desk_venue:
            venue = next((other.venue_name for other in self.beside() if other.venue_name != desk_venue
                          and payload.get("strategy") in other.strategies), desk_venue)
        if venue != desk_venue:
            mode = self.armed.get(venue, desk_mode)
            ledger = self.open.get((venue, mode))
            if ledger is None or not ledger.live:
                raise CommandRejected(f"{LABELS[venue]}'s {mode} ledger is not open (no enabled strategy trades a "
                                      f"{LABELS[venue]} market now): its positions can be sold once one does")
            return ledger
        if (mode := payload.get("ledger", desk_mode)) == desk_mode:
            return None
        ledger = self.open.get((desk_venue, mode))
        if ledger is None or not ledger.live:
            raise CommandRejected(f"the desk trades {desk_mode} and nothing trades {mode} beside it now: "
                                  f"its {mode} positions can be sold once it does")
        return ledger

    async def keep_open(self, key: LedgerKey, make: Callable[[LedgerKey], VenueLedger], names: set[str],
                        starting_cash: int, *, rearm: bool, holds: bool = False) -> VenueLedger | None:
        """The ledger of `key` kept open for `names` (venue_ledger.ledger_kept_open)."""
        kept = await ledger_kept_open(self.open.get(key), lambda: make(key), names, starting_cash, rearm=rearm,
                                      holds=holds)
        if kept is not None:
            self.open[key] = kept
        return kept
