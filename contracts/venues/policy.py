"""What truly differs between the venues the desk trades: one small frozen policy per venue, each
written in its venue's package (contracts/venues/<venue>/policy.py) and registered in
contracts/venues/__init__.py.

The trading layer reads a venue's policy instead of asking which venue it is: a branch on a venue's
name becomes a read of the fact that decides it (`policy_of(venue).nets_pairs`, not a comparison of
names). Each fact here is one the trading layer decided by name before; how a venue's orders travel,
how it refuses them and how its fees are computed stays in its adapter (engine/venues/<venue>/) and in
the rule modules the `fees` and `grid` fields name.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal, NewType

# A registered venue's name, as its ledger rows are keyed (contracts/venues/__init__.py): a plain string is
# not one until it is named so.
VenueName = NewType("VenueName", str)
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
class Arming:
    """What arming a venue live checks of it (storage/desk/arming.py builds its checklist from these)."""

    key: str  # what the engine must have read to trade it live ("wallet key")
    key_settings: str  # where the operator puts that key
    preflight: str = ""  # the `python -m engine` subcommand whose passing run on this account and host it needs
    # The parts of the preflight the checklist names, each (its line, the preflight's checks it reads, the fix).
    parts: tuple[tuple[str, tuple[str, ...], str], ...] = ()
    funder: bool = False  # the account is a wallet of a kind that needs its funder set


@dataclass(frozen=True, slots=True)
class VenuePolicy:
    venue: VenueName  # the name the ledger keys rows with (the `venue` column; lower case)
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
    # The desk's own venue: its ledger is the desk's, armed by the desk's mode (`set_mode`; every other venue is
    # armed on its own, `set_venue_mode`), a strategy naming no market trades it, and the desk reads its markets
    # through its adapter's market data (engine/venues/market_data.py). The venue registered last that takes the
    # role holds it (contracts/venues/__init__.py `desk_venue()`).
    desk: bool = False
    # The operator's pairs link the desk's markets to its markets: a cross-venue strategy's other leg trades
    # here (contracts/venues/__init__.py `paired_venue()`; the venue registered last that takes the role).
    paired: bool = False
    preflight: str = ""  # the `python -m engine` command that checks its key ("": none)
    min_marketable_buy: int = 0  # a marketable BUY worth less (micro cash) is refused (0: no minimum)
    # A taker order on one of its crypto markets (contracts/updown.py `is_crypto`) that would match at once is
    # held this long (ms) by the venue before it matches, so a maker has that long to cancel (0: never held).
    crypto_taker_delay_ms: int = 0
    # A marketable order's amounts (its size and its notional) are held to the venue's decimals
    # (contracts/venue_rules.py `TAKE`); else any count on the lot is exact.
    take_amount_decimals: bool = False
    # The whole contract (micro-units) a position holds fractions of only when another trader filled part of
    # one: a residue beyond whole ones is noted on the Portfolio page (0: no such residue).
    whole_contract: int = 0
    # The reference the ledger records what the venue paid for a market under (a settlement, a
    # refund); None: the venue pays nothing by itself (its holders redeem).
    payment_ref: Callable[[str], str] | None = None
    arming: Arming | None = None  # what arming it live checks (None: it cannot be armed live yet)

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
