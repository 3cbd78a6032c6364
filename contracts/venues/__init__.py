"""The registry of the venues one desk trades: which venues exist, by the names its ledger keys rows
with (the `venue` column of orders, fills, positions, cash, claims and valuations, and a venue's mode
row: storage/sqlite/migrations/), each with its policy (contracts/venues/policy.py).

Everything that knows a venue lives in a package named after it, on each floor: contracts/venues/<venue>/
(its policy, ids, fees, grid, settings), engine/venues/<venue>/ (its adapter, wire, client, streams,
settlement, preflight, history import; registered in engine/venues/registry.py), storage/venues/<venue>/
and pages/venues/<venue>/. A market or token belongs to a venue by its id's prefix (`market_prefix`):
the venue whose prefix starts the id, else the one whose prefix is empty (the desk's own venue as built in).

Which venue is the desk's own and which the operator's pairs link to are data of the registry: the policies
that take those roles (`VenuePolicy.desk`, `VenuePolicy.paired`), read at the time of asking (`desk_venue()`,
`paired_venue()`), so a venue registered later (a plugin's, a test's stub) may take one.
"""

from __future__ import annotations

from contracts.venues.kalshi.policy import POLICY as _KALSHI
from contracts.venues.policy import VenueName, VenuePolicy
from contracts.venues.polymarket.policy import POLICY as _POLYMARKET

__all__ = ["CASH_HELD_IN", "CASH_UNIT", "DESK_VENUE", "KALSHI", "LABELS", "PAIRED_VENUE", "POLICIES", "POLYMARKET",
           "VENUES", "VenueName", "VenuePolicy", "desk_venue", "paired_venue", "register", "unregister", "venue_of"]

POLICIES: dict[str, VenuePolicy] = {policy.venue: policy for policy in (_POLYMARKET, _KALSHI)}
POLYMARKET: VenueName = _POLYMARKET.venue
KALSHI: VenueName = _KALSHI.venue
# The venues built in, in the order their ledgers are listed.
VENUES: tuple[VenueName, ...] = tuple(policy.venue for policy in POLICIES.values())
_ROLES: dict[str, VenueName] = {}


def _hold_roles() -> None:
    """Each role to the venue registered last that takes it; unprefixed ids to the venue without a prefix."""
    _ROLES["desk"] = next(policy.venue for policy in reversed(POLICIES.values()) if policy.desk)
    _ROLES["paired"] = next(policy.venue for policy in reversed(POLICIES.values()) if policy.paired)
    _ROLES["unprefixed"] = next((p.venue for p in POLICIES.values() if not p.market_prefix), _ROLES["desk"])


def desk_venue() -> VenueName:
    """The venue of the desk's own ledger, armed by the desk's mode (`set_mode`); every other venue is armed
    apart, in a mode of its own (`set_venue_mode`, one row per venue)."""
    return _ROLES["desk"]


def paired_venue() -> VenueName:
    """The venue the operator's pairs link the desk's markets to: a cross-venue strategy's other leg trades
    there, and a backtest replays its recorded books of the pairs."""
    return _ROLES["paired"]


_hold_roles()
# The roles as built in, for code written before they were data (tests/test_venue_names.py holds every module
# to desk_venue() and paired_venue(), which a venue registered later may take): kept for one release.
DESK_VENUE: VenueName = desk_venue()
PAIRED_VENUE: VenueName = paired_venue()
# How the desk's messages name a venue, what its cash is counted in and where that cash is held (kept
# with the registry: a venue registered later is in them too).
LABELS: dict[str, str] = {name: policy.label for name, policy in POLICIES.items()}
CASH_UNIT: dict[str, str] = {name: policy.cash_unit for name, policy in POLICIES.items()}
CASH_HELD_IN: dict[str, str] = {name: policy.cash_held_in for name, policy in POLICIES.items()}


class VenueClash(ValueError):
    """A venue registered under a name or a market prefix another venue has."""


def register(policy: VenuePolicy) -> None:
    """A venue added to the registry (a plugin's, or a test's stub): its name, lower case, and its
    market prefix are its own."""
    if policy.venue in POLICIES or policy.venue != policy.venue.lower() or not policy.venue.isidentifier():
        raise VenueClash(f"a venue named {policy.venue!r} cannot be registered: names are new, lower-case words")
    overlaps = [p.venue for p in POLICIES.values() if p.market_prefix and (
        policy.market_prefix.startswith(p.market_prefix) or p.market_prefix.startswith(policy.market_prefix))]
    if not policy.market_prefix or overlaps:
        raise VenueClash(f"{policy.venue}'s market prefix {policy.market_prefix!r} is empty or overlaps "
                         f"{', '.join(overlaps) or 'the desk venue'}'s: a venue's ids are told apart by it")
    POLICIES[policy.venue] = policy
    LABELS[policy.venue], CASH_UNIT[policy.venue] = policy.label, policy.cash_unit
    CASH_HELD_IN[policy.venue] = policy.cash_held_in
    _hold_roles()


def unregister(venue: VenueName) -> None:
    """A registered venue taken out again (never one built in)."""
    if venue in VENUES:
        raise VenueClash(f"{venue} is built in")
    for table in (POLICIES, LABELS, CASH_UNIT, CASH_HELD_IN):
        table.pop(venue, None)
    _hold_roles()


def venue_of(market_or_token_id: str) -> VenueName:
    """The venue a desk market or token id belongs to: the one whose prefix starts it, else the one without a
    prefix (the desk's as built in)."""
    for policy in POLICIES.values():
        if policy.market_prefix and market_or_token_id.startswith(policy.market_prefix):
            return policy.venue
    return _ROLES["unprefixed"]

