"""engine/venues/registry.py: every venue the ledger knows has an adapter and a policy, and a venue
without one is refused by name, so adding a venue cannot half-happen."""

from __future__ import annotations

import pytest

from contracts.venue_policies import POLICIES
from contracts.venues import VENUES
from engine.venues.base import VenueError
from engine.venues.registry import ADAPTERS, adapter_of


def test_every_venue_has_an_adapter_and_a_policy() -> None:
    assert tuple(ADAPTERS) == VENUES == tuple(POLICIES)
    for venue in VENUES:
        assert adapter_of(venue) is ADAPTERS[venue]


def test_a_venue_without_an_adapter_is_refused_by_name() -> None:
    with pytest.raises(VenueError, match="no adapter for venue 'betfair'"):
        adapter_of("betfair")
