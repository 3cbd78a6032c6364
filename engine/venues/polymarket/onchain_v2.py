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

They are sent as any other call of the wallet (engine/venues/polymarket/onchain.py: the relayer's envelopes,
or a plain wallet's own transaction).

Checked against the venue's contract-integration guide for Protocol V2 (docs.polymarket.com,
"Polymarket Protocol V2 Contract Migration", late 2026): V2 positions are a separate ledger (the
PositionManager, `uint256` ids), the CTF approvals do not carry over (merge and redeem need the
Router approved on the PositionManager, a split pUSD approved for it: engine/venues/polymarket/approvals.py
asks for both), the Router pulls and pays in one transaction (nothing is sent ahead of a call), and
protocol mints fire no ERC-1155 receiver callbacks (the desk reads balances, never relies on one).
The guide reads redemption proceeds through the PositionManager; its view, as Polymarket's Protocol V2
contracts declare it (`Polymarket/polymarket-v2-external`, src/positionManager/PositionManager.sol and
the binary module's `getPayout`), is ``getPayout(uint256 positionId, uint256 amount) returns (uint256)``
(a position id is a `uint256` value type): the pUSD base units `amount` of the position pays if
redeemed, computed from the market's result whatever the caller holds; 0 is a losing position's valid
answer; before the result it reverts ``ConditionNotResolved()`` (an unknown module
``ModuleNotRegistered()``, an outcome byte over 1 ``InvalidOutcomeIndex()``). The desk reads it before
each redemption (engine/trading/settlement/payout_check.py) and books only what the venue reports
it paid (its REDEEM activity), as for a CTF market.
"""

from __future__ import annotations

from eth_abi import encode as abi_encode
from eth_utils import keccak

from engine.venues.polymarket.onchain import Call

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


# The PositionManager's custom errors a payout read reverts with (their 4-byte selectors).
PAYOUT_ERRORS = {_selector(name + "()"): name for name in ("ConditionNotResolved", "ModuleNotRegistered",
                                                             "InvalidOutcomeIndex")}


def payout_call(position_id: str, amount: int) -> Call:
    """The PositionManager's ``getPayout(positionId, amount)``: what `amount` (base units) of a V2 position
    pays if redeemed."""
    if amount < 0:
        raise ValueError("a payout is asked for a non-negative amount")
    args = abi_encode(["uint256", "uint256"], [int(position_id), amount])
    return Call(POSITION_MANAGER, _selector("getPayout(uint256,uint256)") + args)


def revert_name(data: str) -> str | None:
    """The PositionManager error a revert's data names (None: no data, or an error it does not declare)."""
    raw = data.removeprefix("0x")
    try:
        return PAYOUT_ERRORS.get(bytes.fromhex(raw[:8])) if len(raw) >= 8 else None
    except ValueError:
        return None
