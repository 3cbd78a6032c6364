"""Kalshi's facts as the trading layer reads them (contracts/venues/policy.py): its markets carry the
`kalshi:` prefix (ids.py); its fees follow a series' schedule (fees.py) and its prices a market's
bands (grid.py); it nets YES and NO held together, announces its pauses, refunds voided markets and
pays settlements itself; its resting orders are amended and decreased in place (Kalshi's Amend and
Decrease Order (V2)); it is armed on its own, with its own preflight."""

from __future__ import annotations

from contracts.venues.kalshi import ids
from contracts.venues.policy import Arming, VenueName, VenuePolicy

POLICY = VenuePolicy(
    venue=VenueName("kalshi"), label="Kalshi", cash_unit="USD", cash_held_in="the Kalshi account's balance",
    site="kalshi.com", market_prefix=ids.PREFIX, fees="series_schedule", grid="price_bands", lot=ids.LOT,
    nets_pairs=True, announces_pauses=True, refunds_voids=True, one_strategy_per_market_live=True,
    settles="venue_pays", fills_final_on_match=True, fee_rates_asked=False, resolutions_asked=False,
    desk_feed=False, catalog_rows=False, replay_order_prefix="bt-kalshi-", paired=True,
    preflight="kalshi-preflight", whole_contract=ids.CONTRACT, amends=True,
    payment_ref=lambda cid: ids.settlement_ref(ids.ticker_of(cid)),
    arming=Arming(
        key="Kalshi key", key_settings="KALSHI_API_KEY_ID and KALSHI_PRIVATE_KEY",
        preflight="kalshi-preflight", parts=(
            ("region", ("region",), "Kalshi refuses this server's region: run the desk where it permits"),
            ("test order", ("test order",), "fix what the preflight names"))))
