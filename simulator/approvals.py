"""Trading approvals: what a wallet allowed the venue's contracts to move, and the refusal of an
order its approvals do not cover.

The venue (../shared/notes/polymarket-venue-behaviour.md, "Approvals"; protocol-v1 notes): a
wallet trades only after it approved pUSD (ERC-20 ``approve``) and the conditional tokens
(ERC-1155 ``setApprovalForAll``) for the exchange of the market, and the neg-risk adapter too in
a neg-risk market. Without them a BUY or a SELL is refused ``not enough balance / allowance``.
A new wallet has none. ``pre_approved_wallets`` (an explicit leniency) makes every wallet read
as approved for the trading contracts; the auto-redeem operator is never approved that way.

A Protocol V2 market's positions live in the PositionManager, not the conditional tokens: its
orders need ExchangeV3 approved there, and its merges and redemptions the Router (the standard
approvals the venue's SDK makes: ``polymarket-client``'s trading approvals set).

The conditional-token and PositionManager approvals live in the settlement (the auto-redeem
operator is one of them); pUSD allowances here. An allowance is not spent down by trades: the venue's own setup
approves the maximum, so the simulator checks only that the order fits inside it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .chain import COLLATERAL_ADAPTER, NEG_RISK_COLLATERAL_ADAPTER
from .orders import Order
from .protocol_v2 import ROUTER
from .signing import EXCHANGE_V2, EXCHANGE_V3, NEG_RISK_ADAPTER, NEG_RISK_EXCHANGE_V2

if TYPE_CHECKING:
    from .settlement import Settlement

MAX_UINT = 2**256 - 1
# What the venue's own setup approves for trading (an order checks only its exchange and adapter;
# merges and redeems go through the collateral adapters).
CTF_OPERATORS = (EXCHANGE_V2, NEG_RISK_EXCHANGE_V2, NEG_RISK_ADAPTER, COLLATERAL_ADAPTER, NEG_RISK_COLLATERAL_ADAPTER)
V2_OPERATORS = (EXCHANGE_V3, ROUTER)  # of the PositionManager's positions
TRADING_SPENDERS = (*CTF_OPERATORS, *V2_OPERATORS)
ALLOWANCE_REFUSAL = "not enough balance / allowance: the allowance is not enough -> "


def spenders_for(neg_risk: bool, protocol_v2: bool = False) -> tuple[str, ...]:
    """The contracts an order in such a market moves the wallet's pUSD or shares through (a
    Protocol V2 market's: ExchangeV3, protocol-v2 notes)."""
    if protocol_v2:
        return (EXCHANGE_V3,)
    return (NEG_RISK_EXCHANGE_V2, NEG_RISK_ADAPTER) if neg_risk else (EXCHANGE_V2,)


def _is_trading(spender: str, among: tuple[str, ...] = TRADING_SPENDERS) -> bool:
    return any(spender.lower() == s.lower() for s in among)


class Approvals:
    def __init__(self, settlement: Settlement, pre_approved: bool) -> None:
        self.settlement = settlement
        self.pre_approved = pre_approved
        self.pusd: dict[tuple[str, str], int] = {}  # (owner, spender), lower case -> allowance in micro-pUSD

    def approve_pusd(self, owner: str, spender: str, amount: int) -> None:
        self.pusd[(owner.lower(), spender.lower())] = amount

    def pusd_allowance(self, owner: str, spender: str) -> int:
        if self.pre_approved and _is_trading(spender):
            return MAX_UINT
        return self.pusd.get((owner.lower(), spender.lower()), 0)

    def shares_approved(self, owner: str, operator: str, *, v2: bool = False) -> bool:
        """ERC-1155 ``isApprovedForAll`` of the conditional tokens (with `v2`, the PositionManager's)."""
        if self.pre_approved and _is_trading(operator, V2_OPERATORS if v2 else CTF_OPERATORS):
            return True
        return self.settlement.is_approved(owner, operator, v2=v2)

    def refusal(self, order: Order, amount: int) -> str | None:
        """Why the maker's approvals do not cover ``order`` (``amount``: pUSD a BUY needs), or None."""
        owner = order.maker_address
        for spender in spenders_for(order.market.neg_risk, order.market.protocol_v2):
            if order.side == "BUY":
                allowance = self.pusd_allowance(owner, spender)
                if allowance < amount:
                    return (f"{ALLOWANCE_REFUSAL}spender: {spender}, allowance: {allowance}, "
                            f"order amount: {amount}")
            elif not self.shares_approved(owner, spender, v2=order.market.protocol_v2):
                where = "positions (PositionManager)" if order.market.protocol_v2 else "conditional tokens"
                return f"{ALLOWANCE_REFUSAL}the {where} are not approved for {spender} (setApprovalForAll)"
        return None

    def report(self, owner: str, asset_type: str) -> dict[str, str]:
        """``/balance-allowance``'s ``allowances``: the trading contracts this wallet approved."""
        found: dict[str, str] = {}
        # ExchangeV3 trades Protocol V2 positions: reported with those (CONDITIONAL-V2), so the
        # V1 answers keep the captured venue's shape.
        v2 = asset_type == "CONDITIONAL-V2"
        for spender in (EXCHANGE_V3,) if v2 else CTF_OPERATORS:  # (the Router trades nothing)
            if asset_type == "COLLATERAL":
                allowance = self.pusd_allowance(owner, spender)
                if allowance > 0:
                    found[spender] = str(allowance)
            elif self.shares_approved(owner, spender, v2=v2):
                found[spender] = str(MAX_UINT)
        return found
