"""What the risk limits count: the cost of holdings plus open BUY orders, broken down by
market, strategy and event. Portfolio valuation computes it and the risk gate reads it, so it
lives below both."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from contracts.domain import MarketInfo


@dataclass(frozen=True)
class Exposure:
    """Cost of holdings plus open BUY orders, in micro-pUSD, broken down for the limits.

    `own_orders[(strategy, market)]` is the open-BUY part of a strategy's market: an intent
    replaces those orders, so it is not counted against the intent that replaces them.
    """

    total: int = 0
    by_market: Mapping[str, int] = field(default_factory=dict)
    by_strategy: Mapping[str, int] = field(default_factory=dict)
    by_event: Mapping[str, int] = field(default_factory=dict)
    own_orders: Mapping[tuple[str, str], int] = field(default_factory=dict)


def event_key(market: MarketInfo) -> str:
    """Markets of one negative-risk event count together; any other market is its own event."""
    return market.neg_risk_market_id or market.condition_id
