"""Which markets are Protocol V2 markets, how the venue tells them apart, and their identifiers.

A Protocol V2 market (Gamma ``version: "v2"``) lists its outcomes as ``positionIds`` (a real
array; no ``clobTokenIds``), takes orders signed for ExchangeV3 (EIP-712 domain version "3") and
keeps its positions' balances as asset type ``CONDITIONAL-V2`` (../shared/notes,
polymarket-protocol-v2.md §4, §7; polymarket-venue-behaviour.md). An order on it signed for the
V2 exchanges (domain "2") does not recover to its signer and is refused, as a V2 market's order
signed for V3 is: the position id goes on the wire as the order's ``tokenId`` either way.

Its identifiers are structured, as Polymarket's TypeScript SDK (``@polymarket/bindings``
``protocol/ids``) decodes them: a condition id is 31 bytes, its top byte the module (1 for a
binary market), then an identity, the neg-risk arity (0 for binary), reserved bits, the
resolution chain and the condition index (0 for binary); on the wire (Gamma's ``conditionId``)
it is padded to 32 bytes with a zero byte. A position id is the uint256 of the 31-byte condition
followed by its outcome byte (0 for YES, 1 for NO). The Router (``router_condition``) takes the
31 bytes, and refuses a condition that is not a binary module's.

The default set is one standalone market, the Haaland goals-record question (index 7 of the default
10 markets), so a default simulator serves both protocols without moving any market's index.
"""

from __future__ import annotations

from collections.abc import Sequence

from eth_utils import keccak

from .markets import Market, Token, choose_markets

DEFAULT_V2_QUESTION = "Will Erling Haaland break the Premier League goals record"
ROUTER = "0x12121212006e4CD160D18e3f00711DA5c3372600"
POSITION_MANAGER = "0x006F54F7f9A22e0000CC2AB60031000000ae9fEF"
BINARY_MODULE = 1
IDENTITY_SHIFT = 120  # the identity's 16 bytes sit above the arity (bits 104-119) and below the module


def is_default_v2(market: Market) -> bool:
    return market.question.startswith(DEFAULT_V2_QUESTION) and not market.neg_risk


def protocol_condition_id(seed: str) -> str:
    """A binary module's condition id as Gamma lists it (32 bytes, its last byte zero), its identity
    derived from `seed`."""
    identity = int.from_bytes(keccak(text=f"simulator-protocol-v2:{seed}")[:16], "big")
    value = (BINARY_MODULE << 248) | (identity << IDENTITY_SHIFT)
    return "0x" + value.to_bytes(32, "big").hex()


def position_id(condition_id: str, outcome_index: int) -> str:
    """The decimal position id of one outcome (0 YES, 1 NO) of a padded condition id."""
    return str(int(condition_id, 16) | outcome_index)


def router_condition(raw: bytes) -> str:
    """The padded condition id a Router call's 31 bytes name; ValueError for anything but a binary
    module's condition."""
    if len(raw) != 31 or raw[0] != BINARY_MODULE or int.from_bytes(raw[-2:], "big") != 0:
        raise ValueError("not a binary market's condition")
    return "0x" + raw.hex() + "00"


def assign_v2(markets: Sequence[Market], setting: str, *, derive_ids: bool = True) -> list[Market]:
    """Mark the Protocol V2 markets (``setting``: default, none, all, or indexes / condition ids);
    returns them. A listed index or condition id that matches no market is an error. With
    `derive_ids` (not in a replay, whose recorded ids stay) each gets a structured condition id and
    its outcomes position ids."""
    chosen = choose_markets(markets, setting, "v2_markets", is_default_v2)
    for market in markets:
        market.protocol_v2 = market in chosen
        if market.protocol_v2 and derive_ids:
            cid = protocol_condition_id(market.condition_id)
            market.condition_id = cid
            market.yes = Token(position_id(cid, 0), market.yes.outcome, True)
            market.no = Token(position_id(cid, 1), market.no.outcome, False)
    return chosen
