"""The few Polygon contracts a desk calls outside the CLOB, as calls a wallet executes.

Polymarket's SDK (``polymarket-client``) builds these and sends them through the relayer
(proxy, Safe and deposit wallets) or as a plain transaction (EOA):

- ``redeemPositions(pUSD, 0x0, conditionId, [1, 2])`` to the collateral adapter (the
  neg-risk collateral adapter for a neg-risk market);
- ``mergePositions(pUSD, 0x0, conditionId, [1, 2], amount)`` to the same adapter;
- ``setApprovalForAll(operator, bool)`` to the conditional tokens (the exchanges, the neg-risk
  adapter, the auto-redeem operator);
- ``approve(spender, amount)`` to pUSD (the trading approvals, simulator/approvals.py);
- for a Protocol V2 market (protocol_v2.py), the Router's ``redeem(bytes31 conditionId, uint256
  outcomeIndex, uint256 amount)`` and ``merge(bytes31 conditionId, uint256 amount)``, which move the
  wallet's positions in the PositionManager and so need the Router approved there
  (``setApprovalForAll(router, true)`` to the PositionManager); its condition is not prepared on
  the conditional tokens, so the CTF's calls revert for it, as the Router's revert for a CTF market.

Reads go through ``eth_call``: ``isApprovedForAll`` and ``balanceOf`` on the conditional
tokens and on the PositionManager (each knows only its own positions), the PositionManager's
``getPayout(uint256 positionId, uint256 amount)`` (what `amount` of a V2 position pays if redeemed: 0
for a losing one; before the market's result it reverts ``ConditionNotResolved()``, for a module it
does not know ``ModuleNotRegistered()``, for an outcome byte over 1 ``InvalidOutcomeIndex()``, each a
custom error, its selector the revert's data, as Polymarket's Protocol V2 contracts declare them),
``balanceOf`` and ``allowance`` on pUSD; ``eth_getCode`` tells a contract wallet from a
plain one (``code_at``). Anything else reverts: the simulator models what the desk calls, not
the chain.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from eth_abi import decode as abi_decode
from eth_abi import encode as abi_encode
from eth_utils import keccak

from .protocol_v2 import BINARY_MODULE, POSITION_MANAGER, ROUTER, router_condition
from .settlement import Revert
from .units import ONE, fmt

if TYPE_CHECKING:
    from .approvals import Approvals
    from .exchange import Exchange
    from .settlement import Settlement

CHAIN_ID = 137
COLLATERAL = "0xC011a7E12a19f7B1f670d46F03B03f3342E82DFB"  # pUSD
CONDITIONAL_TOKENS = "0x4D97DCd97eC945f40cF65F87097ACe5EA0476045"
COLLATERAL_ADAPTER = "0xAdA100Db00Ca00073811820692005400218FcE1f"
NEG_RISK_COLLATERAL_ADAPTER = "0xadA2005600Dec949baf300f4C6120000bDB6eAab"
AUTO_REDEEM_OPERATOR = "0xa1200000d0002264C9a1698e001292D00E1b00af"
GAS_PRICE_WEI = 30 * 10**9  # what eth_gasPrice answers
POL_WEI = 10**18


# Stand-in runtime code per wallet kind: a proxy wallet is an EIP-1167 minimal-proxy clone
# (its fixed prefix, then an implementation the simulator leaves zero); a Safe and a deposit
# wallet are contracts the desk tells apart by calls (``getOwners()`` answers only for a Safe).
WALLET_CODE = {
    1: "0x363d3d373d3d3d363d73" + "00" * 20 + "5af43d82803e903d91602b57fd5bf3",
    2: "0x608060405273ffffffffffffffffffffffffffffffffffffffff600054167f5afe",
    3: "0x60806040526004361061de9051",
}


def selector(signature: str) -> bytes:
    return keccak(text=signature)[:4]


REDEEM = selector("redeemPositions(address,bytes32,bytes32,uint256[])")
MERGE = selector("mergePositions(address,bytes32,bytes32,uint256[],uint256)")
SET_APPROVAL = selector("setApprovalForAll(address,bool)")
IS_APPROVED = selector("isApprovedForAll(address,address)")
BALANCE_OF_1155 = selector("balanceOf(address,uint256)")
BALANCE_OF_20 = selector("balanceOf(address)")
APPROVE_20 = selector("approve(address,uint256)")
ALLOWANCE_20 = selector("allowance(address,address)")
GET_OWNERS = selector("getOwners()")  # a Safe's owners (Gnosis Safe ABI)
ROUTER_REDEEM = selector("redeem(bytes31,uint256,uint256)")
ROUTER_MERGE = selector("merge(bytes31,uint256)")
GET_PAYOUT = selector("getPayout(uint256,uint256)")
NOT_APPROVED = "ERC1155: caller is not token owner or approved"
BINARY_INDEX_SETS = [1, 2]


def _custom(name: str) -> Revert:
    """A revert with a custom error (no arguments): its selector is all a node returns."""
    return Revert(name, selector(name + "()"))


def _same(a: str, b: str) -> bool:
    return a.lower() == b.lower()


@dataclass
class Chain:
    """Calls executed for a wallet, plus what a plain (EOA) transaction needs: POL for gas
    and a nonce per sender."""

    exchange: Exchange
    settlement: Settlement
    approvals: Approvals
    funders: dict[tuple[str, int], str]  # (signer, signature type) -> the wallet it trades for
    pol: dict[str, int] = field(default_factory=dict)  # wei, by lower-case address
    nonces: dict[str, int] = field(default_factory=dict)  # EOA transaction counts

    def execute(self, wallet: str, to: str, data: bytes, tx_hash: str) -> str:
        """Run one call as `wallet` in transaction `tx_hash`; returns what it did, or raises Revert."""
        head, args = data[:4], data[4:]
        if head == SET_APPROVAL and (_same(to, CONDITIONAL_TOKENS) or _same(to, POSITION_MANAGER)):
            operator, approved = self._decode(["address", "bool"], args)
            self.settlement.approve(wallet, operator, approved, v2=_same(to, POSITION_MANAGER))
            return f"setApprovalForAll({operator}, {approved})"
        if head in (ROUTER_REDEEM, ROUTER_MERGE) and _same(to, ROUTER):
            return self._router(wallet, head, args, tx_hash)
        if head == APPROVE_20 and _same(to, COLLATERAL):
            spender, amount = self._decode(["address", "uint256"], args)
            self.approvals.approve_pusd(wallet, spender, amount)
            return f"approve({spender}, {amount})"
        if head == REDEEM:
            collateral, parent, condition, index_sets = self._decode(["address", "bytes32", "bytes32", "uint256[]"],
                                                                     args)
            market = self._market(to, collateral, parent, condition, list(index_sets))
            return f"redeemed {fmt(self.settlement.redeem(wallet, market, tx_hash))} pUSD"
        if head == MERGE:
            collateral, parent, condition, partition, amount = self._decode(
                ["address", "bytes32", "bytes32", "uint256[]", "uint256"], args)
            market = self._market(to, collateral, parent, condition, list(partition))
            return f"merged {fmt(self.settlement.merge(wallet, market, amount, tx_hash))} pUSD"
        raise Revert(f"the simulator does not model call {head.hex()} to {to}")

    def call(self, to: str, data: bytes) -> bytes:
        """A read (eth_call)."""
        head, args = data[:4], data[4:]
        if head == IS_APPROVED and (_same(to, CONDITIONAL_TOKENS) or _same(to, POSITION_MANAGER)):
            owner, operator = self._decode(["address", "address"], args)
            v2 = _same(to, POSITION_MANAGER)
            return abi_encode(["bool"], [self.approvals.shares_approved(owner, operator, v2=v2)])
        if head == BALANCE_OF_1155 and (_same(to, CONDITIONAL_TOKENS) or _same(to, POSITION_MANAGER)):
            owner, token_id = self._decode(["address", "uint256"], args)
            market = self.exchange.market_for_token(str(token_id))
            if market is None or market.protocol_v2 != _same(to, POSITION_MANAGER):
                return abi_encode(["uint256"], [0])  # a position the other contract keeps
            return abi_encode(["uint256"], [max(0, self.exchange.ledger.account(owner).token(str(token_id)))])
        if head == GET_PAYOUT and _same(to, POSITION_MANAGER):
            position, amount = self._decode(["uint256", "uint256"], args)
            return abi_encode(["uint256"], [self._payout(position, amount)])
        if head == BALANCE_OF_20 and _same(to, COLLATERAL):
            (owner,) = self._decode(["address"], args)
            return abi_encode(["uint256"], [max(0, self.exchange.ledger.account(owner).pusd)])
        if head == ALLOWANCE_20 and _same(to, COLLATERAL):
            owner, spender = self._decode(["address", "address"], args)
            return abi_encode(["uint256"], [self.approvals.pusd_allowance(owner, spender)])
        if head == GET_OWNERS and self.wallet_type(to) == 2:
            owners = [signer for (signer, kind), wallet in self.funders.items() if kind == 2 and _same(wallet, to)]
            return abi_encode(["address[]"], [owners])
        raise Revert(f"the simulator does not model call {head.hex()} to {to}")

    def _payout(self, position: int, amount: int) -> int:
        """The PositionManager's ``getPayout``: the position's module answers from its market's result,
        which a market not final here has not got."""
        if position >> 248 != BINARY_MODULE:
            raise _custom("ModuleNotRegistered")
        outcome = position & 0xFF
        if outcome > 1:
            raise _custom("InvalidOutcomeIndex")
        market = self.exchange.markets.get("0x" + (position - outcome).to_bytes(32, "big").hex())
        if market is None or not market.protocol_v2 or not self.settlement.is_final(market):
            raise _custom("ConditionNotResolved")
        return amount * (market.payouts or (0, 0))[outcome] // ONE

    def wallet_type(self, address: str) -> int | None:
        """The signature type of the contract wallet deployed at ``address`` (None: no contract).

        A wallet is deployed once the simulator has seen it trade or been told of it
        (``/_sim/link-funder``); a deposit wallet nobody has used yet has no code, as on chain."""
        for (_, sig_type), wallet in self.funders.items():
            if _same(wallet, address):
                return sig_type
        return None

    def code_at(self, address: str) -> str:
        """``eth_getCode``: a stand-in runtime per wallet kind (only its presence and kind matter)."""
        kind = self.wallet_type(address)
        return "0x" if kind is None else WALLET_CODE[kind]

    def _router(self, wallet: str, head: bytes, args: bytes, tx_hash: str) -> str:
        """The Protocol V2 Router's redeem or merge, for a V2 market whose positions the wallet let it move."""
        if head == ROUTER_REDEEM:
            condition, outcome, amount = self._decode(["bytes31", "uint256", "uint256"], args)
        else:
            (condition, amount), outcome = self._decode(["bytes31", "uint256"], args), None
        try:
            market = self.exchange.markets.get(router_condition(bytes(condition)))
        except ValueError as exc:
            raise Revert(str(exc)) from None
        if market is None or not market.protocol_v2:
            raise Revert("condition not prepared")
        if not self.approvals.shares_approved(wallet, ROUTER, v2=True):
            raise Revert(NOT_APPROVED)
        if outcome is None:
            return f"merged {fmt(self.settlement.merge(wallet, market, amount, tx_hash))} pUSD"
        return f"redeemed {fmt(self.settlement.redeem_v2(wallet, market, outcome, amount, tx_hash))} pUSD"

    def _market(self, to: str, collateral: str, parent: bytes, condition: bytes, index_sets: list[int]):
        if not _same(collateral, COLLATERAL) or parent != b"\x00" * 32 or index_sets != BINARY_INDEX_SETS:
            raise Revert("only pUSD, the root collection and the binary index sets [1, 2] are supported")
        market = self.exchange.markets.get("0x" + condition.hex())
        if market is None or market.protocol_v2:  # a V2 market's condition lives in its own module
            raise Revert("condition not prepared")
        adapter = NEG_RISK_COLLATERAL_ADAPTER if market.neg_risk else COLLATERAL_ADAPTER
        if not _same(to, adapter):
            raise Revert(f"this market's positions are redeemed and merged through {adapter}, not {to}")
        return market

    @staticmethod
    def _decode(types: list[str], args: bytes) -> tuple:
        try:
            return tuple(abi_decode(types, args))
        except Exception:
            raise Revert("malformed call data") from None

