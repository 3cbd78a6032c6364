"""Protocol V2's contract calls: redeeming and merging a V2 market's positions through its Router,
and reading them in the PositionManager. Pure.

Facts from Polymarket's TypeScript SDK (`Polymarket/ts-sdk`, `@polymarket/client` abis and position
lifecycle, 2026-08-24) and its documentation (the Router and PositionManager addresses, "Redeem
resolved positions", "merge"); read as a specification, no code taken:

- a V2 market's positions are ERC-1155 balances of the PositionManager; a position id is the
  uint256 of the market's 31-byte condition id followed by the outcome's byte (0 YES, 1 NO), and
  Gamma lists the condition padded to 32 bytes with that byte zero;
- ``redeem(bytes31 conditionId, uint256 outcomeIndex, uint256 amount)`` on the Router redeems
  `amount` of one outcome of a resolved market (the SDK redeems the wallet's whole balance of the
  position); ``merge(bytes31 conditionId, uint256 amount)`` burns `amount` of both outcomes and
  pays `amount` pUSD; both need the Router approved as an operator of the wallet's positions
  (``setApprovalForAll(router, true)`` on the PositionManager, one of the venue's standard trading
  approvals);
- the condition is taken as 31 bytes, or 32 whose last byte is an outcome byte (00 or 01).

They are sent as any other call of the wallet (engine/venues/onchain.py: the relayer's envelopes,
or a plain wallet's own transaction).

Checked against the venue's contract-integration guide for Protocol V2 (docs.polymarket.com,
"Polymarket Protocol V2 Contract Migration", late 2026): V2 positions are a separate ledger (the
PositionManager, `uint256` ids), the CTF approvals do not carry over (merge and redeem need the
Router approved on the PositionManager, a split pUSD approved for it: engine/venues/approvals.py
asks for both), the Router pulls and pays in one transaction (nothing is sent ahead of a call), and
protocol mints fire no ERC-1155 receiver callbacks (the desk reads balances, never relies on one).
The guide reads redemption proceeds through a PositionManager view whose ABI neither the stored
guide nor the SDK shows: the desk books what the venue reports it paid (its REDEEM activity), as for
a CTF market, and redeems only what a final resolution says it is owed (a losing position, paying
0, is left).
"""

from __future__ import annotations

from eth_abi import encode as abi_encode
from eth_utils import keccak

from engine.venues.onchain import Call

ROUTER = "0x12121212006e4CD160D18e3f00711DA5c3372600"
POSITION_MANAGER = "0x006F54F7f9A22e0000CC2AB60031000000ae9fEF"
OUTCOMES = (0, 1)  # YES, NO: a position id's last byte


def _selector(signature: str) -> bytes:
    return keccak(text=signature)[:4]


def router_condition(condition_id: str) -> bytes:
    """The Router's 31-byte condition of a V2 market's condition id; ValueError for anything else."""
    raw = bytes.fromhex(condition_id.removeprefix("0x"))
    if len(raw) == 32 and raw[-1] in OUTCOMES:
        raw = raw[:31]
    if len(raw) != 31:
        raise ValueError(f"a Protocol V2 condition id is 31 bytes, or 32 ending in an outcome byte: {condition_id!r}")
    return raw


def outcome_index(position_id: str) -> int:
    """Which outcome a V2 position id is (0 YES, 1 NO); ValueError for anything else."""
    index = int(position_id) & 0xFF
    if index not in OUTCOMES:
        raise ValueError(f"{position_id!r} is not a Protocol V2 position id (its last byte is not 0 or 1)")
    return index


def redeem_call(condition_id: str, outcome: int, amount: int) -> Call:
    if outcome not in OUTCOMES or amount <= 0:
        raise ValueError("a redemption names outcome 0 or 1 and a positive amount")
    args = abi_encode(["bytes31", "uint256", "uint256"], [router_condition(condition_id), outcome, amount])
    return Call(ROUTER, _selector("redeem(bytes31,uint256,uint256)") + args)


def merge_call(condition_id: str, amount: int) -> Call:
    if amount <= 0:
        raise ValueError("a merge amount must be positive")
    args = abi_encode(["bytes31", "uint256"], [router_condition(condition_id), amount])
    return Call(ROUTER, _selector("merge(bytes31,uint256)") + args)


def balance_call(owner: str, position_id: str) -> Call:
    """The PositionManager's ``balanceOf(owner, positionId)``."""
    args = abi_encode(["address", "uint256"], [owner, int(position_id)])
    return Call(POSITION_MANAGER, _selector("balanceOf(address,uint256)") + args)


def approval_call(operator: str = ROUTER, approved: bool = True) -> Call:
    """``setApprovalForAll(operator, approved)`` on the PositionManager."""
    args = abi_encode(["address", "bool"], [operator, approved])
    return Call(POSITION_MANAGER, _selector("setApprovalForAll(address,bool)") + args)


def is_approved_call(owner: str, operator: str = ROUTER) -> Call:
    args = abi_encode(["address", "address"], [owner, operator])
    return Call(POSITION_MANAGER, _selector("isApprovedForAll(address,address)") + args)
