"""Each venue's policy (contracts/venue_policies.py): one per venue, looked up by name or by id, and
its facts agree with the venue's own rule modules."""

from __future__ import annotations

import dataclasses

import pytest

from contracts import venue_rules
from contracts.domain import MICRO
from contracts.venue_policies import (
    DESK_VENUE,
    POLICIES,
    UnknownVenue,
    policy_for_market,
    policy_of,
    venues_armed_alone,
)
from contracts.venues import CASH_UNIT, KALSHI, LABELS, POLYMARKET, VENUES, venue_of
from contracts.venues.kalshi import ids as kalshi_ids


def test_every_venue_has_one_policy_named_for_it() -> None:
    assert tuple(POLICIES) == VENUES
    for name, policy in POLICIES.items():
        assert policy.venue == name
        assert policy_of(name) is policy
        assert policy.label == LABELS[name] and policy.cash_unit == CASH_UNIT[name]


def test_an_unknown_venue_is_refused_by_name() -> None:
    with pytest.raises(UnknownVenue, match="no venue policy for 'betfair'"):
        policy_of("betfair")


def test_a_market_id_finds_its_venues_policy() -> None:
    assert policy_for_market("0xabc").venue == POLYMARKET
    assert policy_for_market(f"{kalshi_ids.PREFIX}KXBTC-26").venue == KALSHI
    for policy in POLICIES.values():
        assert venue_of(f"{policy.market_prefix}SOME-ID") == policy.venue


def test_policies_are_frozen() -> None:
    with pytest.raises(dataclasses.FrozenInstanceError):
        policy_of(KALSHI).nets_pairs = False  # type: ignore[misc]  # frozen: the write is what the test expects refused


def test_the_facts_the_trading_layer_branched_on() -> None:
    polymarket, kalshi = policy_of(POLYMARKET), policy_of(KALSHI)
    # Kalshi nets YES and NO at once, announces pauses, refunds voids, pays settlements itself and
    # nets an account's positions per market; Polymarket's holder redeems claims and is asked.
    assert (kalshi.nets_pairs, kalshi.announces_pauses, kalshi.refunds_voids) == (True, True, True)
    assert kalshi.one_strategy_per_market_live and not kalshi.redeems and kalshi.fills_final_on_match
    assert not (polymarket.nets_pairs or polymarket.announces_pauses or polymarket.refunds_voids)
    assert polymarket.redeems and polymarket.resolutions_asked and polymarket.fee_rates_asked
    assert not (kalshi.resolutions_asked or kalshi.fee_rates_asked or kalshi.desk_feed) and polymarket.desk_feed
    assert (polymarket.lot, kalshi.lot) == (venue_rules.LOT, kalshi_ids.LOT)
    # Polymarket refuses a marketable BUY worth under $1; Kalshi has no minimum (engine/venues/paper_rules.py).
    assert (polymarket.min_marketable_buy, kalshi.min_marketable_buy) == (MICRO, 0)
    assert len({p.replay_order_prefix for p in POLICIES.values()}) == len(POLICIES)


def test_every_venue_but_the_desks_is_armed_apart_so_a_third_is_one_more_entry(
        monkeypatch: pytest.MonkeyPatch) -> None:
    assert [policy.venue for policy in venues_armed_alone()] == [KALSHI] and DESK_VENUE == POLYMARKET
    third = dataclasses.replace(policy_of(KALSHI), venue="betfair", label="Betfair", market_prefix="BF-")  # type: ignore[arg-type]  # a venue name contracts/venues/__init__.py does not list: the registry entry is what is tested
    monkeypatch.setitem(POLICIES, "betfair", third)
    assert [policy.venue for policy in venues_armed_alone()] == [KALSHI, "betfair"]
