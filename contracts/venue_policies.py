"""A venue's policy looked up (contracts/venues/policy.py says what a policy holds; contracts/venues/__init__.py
registers the venues): by its name, by a market or token id, and the venues armed on their own.

The trading layer reads a venue's policy instead of asking which venue it is. A third venue is its
packages and two registry entries (docs/ARCHITECTURE.md, "Adding a venue").
"""

from __future__ import annotations

from contracts.jsonsafe import read_stored
from contracts.venues import DESK_VENUE, POLICIES, desk_venue, venue_of
from contracts.venues.policy import FeeRule, GridRule, Settles, VenueName, VenuePolicy

__all__ = ["DESK_VENUE", "POLICIES", "FeeRule", "GridRule", "Settles", "UnknownVenue", "VenuePolicy",
           "policy_for_market", "policy_of", "venue_named", "venues_armed_alone"]


# (DESK_VENUE: the desk's venue as built in, kept for one release for code written against it; read desk_venue().)


class UnknownVenue(ValueError):
    """A venue name no policy is registered for."""


def policy_of(venue: str) -> VenuePolicy:
    """The policy of a venue, by its name (contracts/venues/__init__.py)."""
    try:
        return POLICIES[venue]
    except KeyError:
        raise UnknownVenue(f"no venue policy for {venue!r}: the venues are {', '.join(POLICIES)}") from None


def venues_armed_alone() -> tuple[VenuePolicy, ...]:
    """The venues armed on their own, each in its own mode (every registered venue but the
    desk's)."""
    desk = desk_venue()
    return tuple(policy for venue, policy in POLICIES.items() if venue != desk)


def policy_for_market(market_or_token_id: str) -> VenuePolicy:
    """The policy of the venue a desk market or token id belongs to."""
    return POLICIES[venue_of(market_or_token_id)]


def venue_named(markets: str | None) -> VenueName:
    """The venue a strategy's stored market list (JSON) names: a list names one venue
    (contracts/market_filter.py); the desk's when it names none or cannot be read (malformed, too big
    or too deep)."""
    listed, _unreadable = read_stored(markets or "[]")  # bounded: a stored list may be anything, never raises
    first = next((m for m in listed if isinstance(m, str)), None) if isinstance(listed, list) else None
    return desk_venue() if first is None else venue_of(first)
