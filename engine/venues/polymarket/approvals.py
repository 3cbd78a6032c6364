"""Every approval trading on Polymarket needs, in one table, and the contract calls that read and
set them. Pure.

Facts (../shared/notes/polymarket-venue-behaviour.md "Approvals", polymarket-protocol-v2.md §6):
a wallet trades only after it approved pUSD (ERC-20 ``approve``) and the conditional tokens
(ERC-1155 ``setApprovalForAll``) for the CTF Exchange, the Neg Risk CTF Exchange and their
adapters (the Neg Risk Adapter; the collateral adapters merges and redeems go through). Without
the conditional-token approval a SELL is refused ``not enough balance / allowance``. A Protocol V2
market's positions are the PositionManager's (engine/venues/polymarket/onchain_v2.py): its trades need pUSD
and the positions approved for Exchange V3, its merges and redemptions the positions approved for
the Router (and its splits pUSD), as the venue's SDK sets up every wallet (`polymarket-client`'s
trading approvals).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from eth_abi import decode as abi_decode
from eth_abi import encode as abi_encode
from eth_utils import keccak

from engine.venues.polymarket import onchain, onchain_v2

EXCHANGE_V2 = "0xE111180000d2663C0091e4f400237545B87B996B"
NEG_RISK_EXCHANGE_V2 = "0xe2222d279d744050d28e00520010520000310F59"
NEG_RISK_ADAPTER = "0xd91E80cF2E7be2e162c6513ceD06f1dD0dA35296"
EXCHANGE_V3 = "0xe3333700cA9d93003F00f0F71f8515005F6c00Aa"  # Protocol V2 markets (domain "3")
MAX_UINT = 2**256 - 1

Asset = Literal["pUSD", "conditional tokens", "V2 positions"]


@dataclass(frozen=True, slots=True)
class Spender:
    name: str
    address: str
    protocol: Literal["v1", "v2"]  # the markets that need it (Gamma `version`)


SPENDERS: tuple[Spender, ...] = (
    Spender("CTF Exchange", EXCHANGE_V2, "v1"),
    Spender("Neg Risk CTF Exchange", NEG_RISK_EXCHANGE_V2, "v1"),
    Spender("Neg Risk Adapter", NEG_RISK_ADAPTER, "v1"),
    Spender("Collateral Adapter", onchain.COLLATERAL_ADAPTER, "v1"),
    Spender("Neg Risk Collateral Adapter", onchain.NEG_RISK_COLLATERAL_ADAPTER, "v1"),
    Spender("Exchange V3", EXCHANGE_V3, "v2"),
    Spender("Router", onchain_v2.ROUTER, "v2"),
)
ASSETS: dict[str, tuple[Asset, ...]] = {"v1": ("pUSD", "conditional tokens"), "v2": ("pUSD", "V2 positions")}


@dataclass(frozen=True, slots=True)
class Approval:
    """One approval trading needs: ``asset`` may be moved by ``spender``."""

    asset: Asset
    spender: Spender

    @property
    def label(self) -> str:
        return f"{self.asset} -> {self.spender.name}"


def required(protocol: Literal["v1", "v2"] = "v1") -> list[Approval]:
    """The approvals markets of ``protocol`` need (v1: every market the desk trades today)."""
    return [Approval(asset, s) for s in SPENDERS if s.protocol == protocol for asset in ASSETS[protocol]]


def read_call(approval: Approval, owner: str) -> onchain.Call:
    """The ``eth_call`` that reads it: pUSD ``allowance``, or the conditional tokens' or the
    PositionManager's ``isApprovedForAll``."""
    spender = approval.spender.address
    if approval.asset == "pUSD":
        data = _selector("allowance(address,address)") + abi_encode(["address", "address"], [owner, spender])
        return onchain.Call(onchain.COLLATERAL, data)
    if approval.asset == "V2 positions":
        return onchain_v2.is_approved_call(owner, spender)
    return onchain.is_approved_call(owner, spender)


def is_set(approval: Approval, result: str) -> bool:
    """Whether an ``eth_call`` answer says it is set (any pUSD allowance short of the maximum the
    venue's own setup approves counts as missing: a trade larger than it would be refused)."""
    raw = bytes.fromhex(result.removeprefix("0x"))
    if approval.asset == "pUSD":
        (amount,) = abi_decode(["uint256"], raw)
        return int(amount) >= MAX_UINT // 2
    return onchain.decode_bool(result)


def set_call(approval: Approval) -> onchain.Call:
    """The call that makes it: pUSD ``approve(spender, max)`` or ``setApprovalForAll(spender, true)``."""
    spender = approval.spender.address
    if approval.asset == "pUSD":
        data = _selector("approve(address,uint256)") + abi_encode(["address", "uint256"], [spender, MAX_UINT])
        return onchain.Call(onchain.COLLATERAL, data)
    if approval.asset == "V2 positions":
        return onchain_v2.approval_call(spender, True)
    return onchain.approval_call(spender, True)


def _selector(signature: str) -> bytes:
    return keccak(text=signature)[:4]
