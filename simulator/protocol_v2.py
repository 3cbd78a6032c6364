"""Which markets are Protocol V2 markets, and how the venue tells them apart.

A Protocol V2 market (Gamma ``version: "v2"``) lists its outcomes as ``positionIds`` (a real
array; no ``clobTokenIds``), takes orders signed for ExchangeV3 (EIP-712 domain version "3") and
keeps its positions' balances as asset type ``CONDITIONAL-V2`` (../shared/notes,
polymarket-protocol-v2.md §4, §7; polymarket-venue-behaviour.md). An order on it signed for the
V2 exchanges (domain "2") does not recover to its signer and is refused, as a V2 market's order
signed for V3 is: the position id goes on the wire as the order's ``tokenId`` either way.

The default set is one standalone market, the Haaland goals-record question (index 7 of the default
10 markets), so a default simulator serves both protocols without moving any market's index.
"""

from __future__ import annotations

from collections.abc import Sequence

from .markets import Market, choose_markets

DEFAULT_V2_QUESTION = "Will Erling Haaland break the Premier League goals record"


def is_default_v2(market: Market) -> bool:
    return market.question.startswith(DEFAULT_V2_QUESTION) and not market.neg_risk


def assign_v2(markets: Sequence[Market], setting: str) -> list[Market]:
    """Mark the Protocol V2 markets (``setting``: default, none, all, or indexes / condition ids);
    returns them. A listed index or condition id that matches no market is an error."""
    chosen = choose_markets(markets, setting, "v2_markets", is_default_v2)
    for market in markets:
        market.protocol_v2 = market in chosen
    return chosen
