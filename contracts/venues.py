"""The venues one desk trades, by the names its ledger keys rows with (the `venue` column of
orders, fills, positions, cash, claims and valuations: storage/sqlite/migrations/m0052_ledger_venue.py).

A market or token belongs to a venue by its id: Kalshi's carry the `kalshi:` prefix
(contracts/kalshi_ids.py), anything else is Polymarket's.
"""

from __future__ import annotations

from typing import Literal

from contracts.kalshi_ids import PREFIX as KALSHI_PREFIX

VenueName = Literal["polymarket", "kalshi"]
POLYMARKET: VenueName = "polymarket"
KALSHI: VenueName = "kalshi"
VENUES: tuple[VenueName, ...] = (POLYMARKET, KALSHI)
LABELS: dict[str, str] = {POLYMARKET: "Polymarket", KALSHI: "Kalshi"}
# What a venue's cash is counted in, and where it is held, as the desk's messages name them.
CASH_UNIT: dict[str, str] = {POLYMARKET: "pUSD", KALSHI: "USD"}
CASH_HELD_IN: dict[str, str] = {POLYMARKET: "the wallet's collateral", KALSHI: "the Kalshi account's balance"}


def venue_of(market_or_token_id: str) -> VenueName:
    """The venue a desk market or token id belongs to."""
    return KALSHI if market_or_token_id.startswith(KALSHI_PREFIX) else POLYMARKET
