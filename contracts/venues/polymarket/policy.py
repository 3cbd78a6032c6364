"""Polymarket's facts as the trading layer reads them (contracts/venues/policy.py): the desk's own venue,
whose markets carry no prefix. Its fees are a rate and an exponent per market read from the venue
(contracts/venue_rules.py), its prices one tick per market; the holder redeems resolved positions on
chain, a marketable BUY worth under $1 is refused, and a taker on a crypto market waits 50 ms."""

from __future__ import annotations

from contracts.domain import MICRO
from contracts.venue_rules import LOT
from contracts.venues.policy import Arming, VenueName, VenuePolicy

# Its crypto markets hold a taker order that would match at once this long (changelog 2026-08-17: 50 ms, was 250).
CRYPTO_TAKER_DELAY_MS = 50

POLICY = VenuePolicy(
    venue=VenueName("polymarket"), label="Polymarket", cash_unit="pUSD", cash_held_in="the wallet's collateral",
    site="polymarket.com", market_prefix="", fees="rate_per_market", grid="market_tick", lot=LOT,
    nets_pairs=False, announces_pauses=False, refunds_voids=False, one_strategy_per_market_live=False,
    settles="redeem", fills_final_on_match=False, fee_rates_asked=True, resolutions_asked=True,
    desk_feed=True, catalog_rows=True, replay_order_prefix="bt-", desk=True, min_marketable_buy=MICRO,
    take_amount_decimals=True, crypto_taker_delay_ms=CRYPTO_TAKER_DELAY_MS,
    arming=Arming(
        key="wallet key", key_settings="POLY_KEYSTORE (with POLY_KEYSTORE_PASSWORD_FILE)",
        preflight="preflight", funder=True, parts=(
            ("region", ("region",), "the venue refuses orders from this server's region: run the desk where it "
                                    "permits"),
            ("wallet and funder", ("wallet", "settings"),
             "set POLY_SIGNATURE_TYPE and POLY_FUNDER as the preflight says"),
            ("approvals", ("approvals",), "send them: python -m engine preflight --approve"),
            ("test order", ("test order (standard)", "test order (neg-risk)"), "fix what the preflight names"))))
