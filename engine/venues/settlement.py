"""How positions end in cash at a venue: redemption, merging, and what the venue pays.

A resolved winning position is worth 1 pUSD a share, but the venue pays it only when the
shares are redeemed (by the desk, or by the venue's auto-redeem operator when the wallet
approved it); complete YES+NO sets can be merged back into pUSD any time; makers are paid
rebates. `SettlementVenue` is what the engine asks of a venue for these: send a redeem or a
merge (a Protocol V2 market's through its Router, one position at a time), follow the
transaction, and list what the venue paid (`VenueCredit`), which is the only thing the ledger
books as cash. Paper (engine/venues/paper_settlement.py) and live
(engine/venues/polymarket/settlement.py) implement it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, Protocol, runtime_checkable

from contracts.domain import Outcome
from engine.venues.base import VenueError

CreditKind = Literal["redeem", "merge", "rebate", "reward"]
TxState = Literal["pending", "confirmed", "failed"]


@dataclass(frozen=True, slots=True)
class VenueCredit:
    """Money the venue paid the wallet outside trading, as it reports it."""

    kind: CreditKind
    amount: int  # micro-pUSD
    tx_hash: str
    at_ms: int
    condition_id: str | None = None  # None for a rebate or a liquidity reward
    shares: int = 0  # micro-shares burned (redeem, merge)
    token_id: str | None = None  # the one outcome a redemption burned (a Protocol V2 Router's); None: all


@dataclass(frozen=True, slots=True)
class SettlementTx:
    """A redeem, merge or approval sent to the venue: `ref` finds it again (a relayer
    transaction id, or a plain wallet's transaction hash)."""

    ref: str
    state: TxState
    tx_hash: str | None = None
    error: str | None = None
    via: str = ""  # "relayer", "transaction" or "paper"


@dataclass(frozen=True, slots=True)
class VenueRefund:
    """A market the venue voided, paying the positions back at what they cost (Kalshi's `void`):
    what the account held of each side, what that cost, and what the venue paid. `ref` is the
    `tx_hash` of the credit that pays it."""

    condition_id: str
    yes_shares: int  # micro-shares
    yes_cost: int  # micro-pUSD
    no_shares: int
    no_cost: int
    amount: int  # micro-pUSD paid back
    ref: str
    at_ms: int
    # What a contract of each side was closed at (micro; None: its cost a share, yes_cost / yes_shares):
    # Kalshi's scalar settlement pays YES its value and NO the rest of the dollar.
    yes_price: int | None = None
    no_price: int | None = None
    voided: bool = True  # False: settled at a value, not paid back at cost


@dataclass(frozen=True, slots=True)
class PositionPayout:
    """What the venue's contract says `shares` of a position pay if redeemed now (Protocol V2's
    PositionManager): `amount` micro-pUSD, 0 for a losing position; None when it will not say (it
    reverted: `waiting` when only because the market has no result on chain yet; `reason` says)."""

    position_id: str
    shares: int  # micro-shares asked about
    amount: int | None
    waiting: bool = False
    reason: str = ""


@runtime_checkable
class PayoutSource(Protocol):
    """A settlement venue whose contract answers what a position pays before and after it is redeemed
    (engine/trading/settlement/payout_check.py reads it)."""

    async def position_payout(self, position_id: str, shares: int | None = None) -> PositionPayout:
        """What `shares` of the position pay (None: all the wallet holds of it)."""
        ...


@runtime_checkable
class RefundSource(Protocol):
    """A settlement venue that can void a market: its refunds are booked before its credits, and
    the credit that pays a void is listed only once the refund is booked (`refund_booked`): read
    before, it would be cash nobody was owed beside positions still open."""

    async def refunds(self, since_ms: int) -> list[VenueRefund]: ...

    def refund_booked(self, condition_id: str) -> None: ...


@runtime_checkable
class ResultSource(Protocol):
    """A settlement venue that settles markets by itself and lists each one's result (Kalshi): a market it
    settled while the engine was away is settled on the ledger at start-up, before the ledger is compared
    with the venue's balances (which no longer hold its contracts)."""

    async def results(self, since_ms: int) -> list[tuple[str, Outcome]]:
        """(condition id, the outcome that won) of each market settled with a winner since `since_ms`."""
        ...


class CreditSource(Protocol):
    """The part of a settlement venue that reports what it paid (all that booking credits needs)."""

    async def credits(self, since_ms: int) -> list[VenueCredit]: ...


class NothingHeld(VenueError):
    """A Protocol V2 position to redeem that the wallet holds none of (redeemed already)."""


class SettlementVenue(Protocol):
    async def redeem(self, condition_id: str, neg_risk: bool) -> SettlementTx: ...

    async def redeem_position(self, condition_id: str, position_id: str) -> SettlementTx:
        """A Protocol V2 market's position redeemed through its Router: all the wallet holds of it
        (NothingHeld when that is none)."""

    async def merge(self, condition_id: str, neg_risk: bool, amount: int, protocol_v2: bool = False) -> SettlementTx:
        ...

    async def transaction(self, ref: str) -> SettlementTx: ...

    async def credits(self, since_ms: int) -> list[VenueCredit]:
        """What the venue paid since `since_ms`, oldest first (repeats are harmless)."""

    async def auto_redeem_approved(self, protocol_v2: bool = False) -> bool:
        """Whether the venue's auto-redeem operator may redeem this wallet's positions (with
        `protocol_v2`, its Protocol V2 positions: the PositionManager's approval)."""

    async def approve_auto_redeem(self, protocol_v2: bool = False) -> SettlementTx: ...

    async def close(self) -> None: ...
