"""What the venue paid a wallet outside trading: redemptions, merges, maker rebates, liquidity rewards.

Polymarket's Data API lists these as ``/activity`` items (``type`` REDEEM, MERGE,
MAKER_REBATE, REWARD, with ``usdcSize`` in pUSD and the ``transactionHash`` that paid it); the
desk books its cash from them. This is the simulator's record of them, served by
``data_api.py``. A Protocol V2 redemption goes through the Router one outcome at a time, so its
item names that outcome's position (``asset``, ``outcomeIndex``, ``outcome``); a CTF redemption
burns both outcomes and names neither.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

from eth_utils import keccak

from .markets import Market, Token
from .units import fmt

KINDS = ("REDEEM", "MERGE", "MAKER_REBATE", "REWARD")


@dataclass(frozen=True)
class Activity:
    wallet: str  # lower-case
    kind: str  # one of KINDS
    amount: int  # micro-pUSD paid
    shares: int  # micro-shares burned (0 for a rebate)
    tx_hash: str
    at_s: int
    market: Market | None = None
    token: Token | None = None  # the one outcome a Protocol V2 Router redemption burned (None: both)

    def as_json(self) -> dict[str, Any]:
        market, token = self.market, self.token
        return {
            "proxyWallet": self.wallet,
            "timestamp": self.at_s,
            "conditionId": market.condition_id if market else "",
            "type": self.kind,
            "size": fmt(self.shares),
            "usdcSize": fmt(self.amount),
            "transactionHash": self.tx_hash,
            "price": 0,
            "asset": token.token_id if token else "",
            "side": "",
            "outcomeIndex": (0 if token.is_yes else 1) if token else 999,
            "title": market.question if market else "",
            "slug": market.slug if market else "",
            "icon": market.icon if market else "",
            "eventSlug": market.group or market.slug if market else "",
            "outcome": token.outcome if token else "",
        }


@dataclass
class ActivityLog:
    by_wallet: dict[str, list[Activity]] = field(default_factory=dict)
    _count: int = 0

    def tx_hash(self, label: str) -> str:
        """A fresh transaction hash (deterministic in the order of events)."""
        self._count += 1
        return "0x" + keccak(text=f"simulator-tx:{label}:{self._count}").hex()

    def record(self, wallet: str, kind: str, amount: int, shares: int, tx_hash: str,
               market: Market | None = None, token: Token | None = None) -> Activity:
        item = Activity(wallet.lower(), kind, amount, shares, tx_hash, int(time.time()), market, token)
        self.by_wallet.setdefault(item.wallet, []).append(item)
        return item

    def of(self, wallet: str, kinds: tuple[str, ...] = KINDS, start_s: int | None = None,
           end_s: int | None = None) -> list[Activity]:
        """A wallet's items of `kinds`, newest first (the Data API's default order)."""
        items = [a for a in self.by_wallet.get(wallet.lower(), []) if a.kind in kinds
                 and (start_s is None or a.at_s >= start_s) and (end_s is None or a.at_s <= end_s)]
        return list(reversed(items))
