"""What truly differs between the venues the desk trades, one small frozen policy per venue.

The trading layer reads a venue's policy instead of asking which venue it is: a branch on a venue's
name becomes a read of the fact that decides it (`policy_of(venue).nets_pairs`, not `venue ==
"kalshi"`). Each fact here is one the trading layer decided by name before; how a venue's orders
travel, how it refuses them and how its fees are computed stays in its adapter (engine/venues/) and
in the rule modules the `fees` and `grid` fields name.

A third venue is an adapter (engine/venues/), a `VenuePolicy` here, a `POLICIES` entry and a
`contracts/venues/__init__.py` name (docs/ARCHITECTURE.md, "Adding a venue").
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

from contracts import venue_rules
from contracts.domain import MICRO
from contracts.venues import CASH_HELD_IN, CASH_UNIT, KALSHI, LABELS, POLYMARKET, VENUES, VenueName, venue_of
from contracts.venues.kalshi import ids as kalshi_ids

# How a resolved market's positions become cash: the holder redeems its claims on the venue (and
# the desk asks whether a market resolved), or the venue pays by itself and the desk books it.
Settles = Literal["redeem", "venue_pays"]
# Which rule module charges a fill's fee: contracts/venue_rules.py's `taker_fee` (a rate and an
# exponent per market, read from the venue), or contracts/venues/kalshi/fees.py (a series' schedule).
FeeRule = Literal["rate_per_market", "series_schedule"]
# How a price is checked: one tick per market (contracts/venue_rules.py `round_price`), or a
# market's price bands (contracts/venues/kalshi/grid.py).
GridRule = Literal["market_tick", "price_bands"]


@dataclass(frozen=True, slots=True)
class VenuePolicy:
    venue: VenueName  # the name the ledger keys rows with (contracts/venues/__init__.py)
    label: str  # how the desk's messages name it
    cash_unit: str  # what its cash is counted in
    cash_held_in: str  # where that cash is held, as alerts name it
    site: str  # where the operator looks at the account
    market_prefix: str  # a market or token id of this venue starts with it ("": the unprefixed default)
    fees: FeeRule
    grid: GridRule
    lot: int  # the smallest size step, in micro-units
    nets_pairs: bool  # YES and NO of a market held together net into cash at once
    announces_pauses: bool  # the exchange announces pauses, which hold new orders before and while they run
    refunds_voids: bool  # a voided market pays its holders back at cost
    one_strategy_per_market_live: bool  # live, the venue nets an account's positions in a market
    settles: Settles
    fills_final_on_match: bool  # a fill is final when it matches (no chain to mine or fail it)
    fee_rates_asked: bool  # each market's fee rate is read from the venue (not known from its rules)
    resolutions_asked: bool  # the desk asks whether a held market resolved (the venue does not tell)
    desk_feed: bool  # its books come over the desk's market feed (else its own reference feed follows them)
    catalog_rows: bool  # its markets have rows in the markets table (else the catalog builds them from the pairs,
    # and an ending its feed tells is the only word the desk has that one is over)
    replay_order_prefix: str  # client ids a backtest gives its orders here
    preflight: str = ""  # the `python -m engine` command that checks its key ("": none)
    min_marketable_buy: int = 0  # a marketable BUY worth less (micro cash) is refused (0: no minimum)
    # The reference the ledger records what the venue paid for a market under (a settlement, a
    # refund); None: the venue pays nothing by itself (its holders redeem).
    payment_ref: Callable[[str], str] | None = None

    @property
    def redeems(self) -> bool:
        """Positions of a resolved market are redeemed by the holder (claims), not paid by the venue."""
        return self.settles == "redeem"

    def market_name(self, condition_id: str) -> str:
        """How the venue names a desk market (its own id, without the desk's prefix)."""
        return condition_id.removeprefix(self.market_prefix)

    def code(self, what: str) -> str:
        """An alert code about this venue: `KALSHI_PAUSED` for ("kalshi", "PAUSED")."""
        return f"{self.venue.upper()}_{what}"


POLICIES: dict[str, VenuePolicy] = {
    POLYMARKET: VenuePolicy(
        venue=POLYMARKET, label=LABELS[POLYMARKET], cash_unit=CASH_UNIT[POLYMARKET],
        cash_held_in=CASH_HELD_IN[POLYMARKET], site="polymarket.com", market_prefix="",
        fees="rate_per_market", grid="market_tick", lot=venue_rules.LOT,
        nets_pairs=False, announces_pauses=False, refunds_voids=False, one_strategy_per_market_live=False,
        settles="redeem", fills_final_on_match=False, fee_rates_asked=True, resolutions_asked=True,
        desk_feed=True, catalog_rows=True, replay_order_prefix="bt-", min_marketable_buy=MICRO),
    KALSHI: VenuePolicy(
        venue=KALSHI, label=LABELS[KALSHI], cash_unit=CASH_UNIT[KALSHI],
        cash_held_in=CASH_HELD_IN[KALSHI], site="kalshi.com", market_prefix=kalshi_ids.PREFIX,
        fees="series_schedule", grid="price_bands", lot=kalshi_ids.LOT,
        nets_pairs=True, announces_pauses=True, refunds_voids=True, one_strategy_per_market_live=True,
        settles="venue_pays", fills_final_on_match=True, fee_rates_asked=False, resolutions_asked=False,
        desk_feed=False, catalog_rows=False, replay_order_prefix="bt-kalshi-", preflight="kalshi-preflight",
        payment_ref=lambda cid: kalshi_ids.settlement_ref(kalshi_ids.ticker_of(cid))),
}
assert tuple(POLICIES) == VENUES, "every venue has a policy, in the order contracts/venues/__init__.py lists them"
# The venue of the desk's own ledger, armed by the desk's mode; every other venue's live ledger is
# armed on its own (engine/process/control.py).
DESK_VENUE: VenueName = POLYMARKET


class UnknownVenue(ValueError):
    """A venue name no policy is registered for."""


def policy_of(venue: str) -> VenuePolicy:
    """The policy of a venue, by its name (contracts/venues/__init__.py)."""
    try:
        return POLICIES[venue]
    except KeyError:
        raise UnknownVenue(f"no venue policy for {venue!r}: the venues are {', '.join(POLICIES)}") from None


def venues_apart() -> tuple[VenuePolicy, ...]:
    """The venues whose live ledgers are armed apart from the desk's, each in its own mode (every venue
    but the desk's)."""
    return tuple(policy for venue, policy in POLICIES.items() if venue != DESK_VENUE)


def policy_for_market(market_or_token_id: str) -> VenuePolicy:
    """The policy of the venue a desk market or token id belongs to."""
    return POLICIES[venue_of(market_or_token_id)]
