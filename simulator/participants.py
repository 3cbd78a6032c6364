"""Who the synthetic participants are and how they write orders.

Internal accounts (no balance checks, never delayed); each intent is written in YES
space and sent through either token, so the mirror paths (mint, merge) get used.
"""

from __future__ import annotations

import itertools
import random

from eth_utils import keccak

from .exchange import Exchange, OrderRejected
from .markets import Market
from .orders import BID, BUY, SELL, Order
from .units import MICRO, ONE

MAKER_OWNER, TAKER_OWNER, INFORMED_OWNER = "sim-agent-maker", "sim-agent-taker", "sim-agent-informed"


def agent_address(name: str, seed: int) -> str:
    return "0x" + keccak(text=f"simulator-agent:{seed}:{name}").hex()[-40:]


def shares(market: Market, amount: float) -> int:
    """``amount`` shares in micro-units, on the 0.01 grid, at least the market's minimum."""
    amount = max(market.min_size / MICRO, amount)
    return int(round(amount, 2) * 100) * 10_000


class OrderWriter:
    def __init__(self, exchange: Exchange, seed: int, rng: random.Random) -> None:
        self.exchange = exchange
        self.seed = seed
        self.rng = rng
        self.addresses = {owner: agent_address(name, seed) for owner, name in
                          ((MAKER_OWNER, "maker"), (TAKER_OWNER, "taker"), (INFORMED_OWNER, "informed"))}
        for address in self.addresses.values():
            exchange.ledger.account(address, internal=True)
        self._ids = itertools.count(1)

    def new_order(self, market: Market, yes_side: str, yes_price: int, size: int, order_type: str,
                  owner: str, via_no: bool, post_only: bool = False) -> Order:
        """An internal order for a YES-space intent, optionally expressed in the NO token."""
        token = market.no if via_no else market.yes
        if via_no:
            side, price = (SELL if yes_side == BID else BUY), ONE - yes_price
        else:
            side, price = (BUY if yes_side == BID else SELL), yes_price
        oid = "0x" + keccak(text=f"agent-order:{self.seed}:{next(self._ids)}").hex()
        return Order(id=oid, market=market, token=token, side=side, price=price, size=size,
                     order_type=order_type, owner=owner, maker_address=self.addresses[owner], created_at=0,
                     post_only=post_only, internal=True)

    def take(self, market: Market, yes_side: str, limit: int, size: int, owner: str) -> Order | None:
        """A fill-and-kill from ``owner`` (30 % through the NO token); None if the venue refused it."""
        order = self.new_order(market, yes_side, limit, size, "FAK", owner, via_no=self.rng.random() < 0.3)
        try:
            self.exchange.place(order)
        except OrderRejected:
            return None
        return order
