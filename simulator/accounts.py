"""Simulated pUSD and outcome-token balances, reservations and settlement.

Balances are what ``/balance-allowance`` reports: the total held, like the venue's
on-chain balance. Open orders *reserve* part of it; the reservation only limits
new orders ("not enough balance / allowance ... sum of active orders").
Every fill is recorded as a list of deltas so a failed (ghost) trade can be undone.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from .fees import FEE_COLLECTOR
from .orders import BUY, Order
from .units import notional_up

Delta = tuple[str, str | None, int]  # (address, token id or None for pUSD, amount)


@dataclass
class Account:
    address: str  # lower-case hex
    pusd: int
    tokens: dict[str, int] = field(default_factory=dict)
    reserved_pusd: int = 0
    reserved_tokens: dict[str, int] = field(default_factory=dict)
    internal: bool = False

    def token(self, token_id: str) -> int:
        return self.tokens.get(token_id, 0)

    def available_pusd(self) -> int:
        return self.pusd - self.reserved_pusd


class Ledger:
    def __init__(self, starting_balance: int) -> None:
        self.starting_balance = starting_balance
        self.accounts: dict[str, Account] = {}
        self.account(FEE_COLLECTOR, internal=True)

    def account(self, address: str, internal: bool = False) -> Account:
        """The account for ``address``; a new one starts with the configured pUSD."""
        key = address.lower()
        acct = self.accounts.get(key)
        if acct is None:
            acct = Account(key, 0 if internal else self.starting_balance, internal=internal)
            self.accounts[key] = acct
        return acct

    @staticmethod
    def requirement(order: Order) -> int:
        """What an order still needs held back: pUSD for a BUY, tokens for a SELL."""
        if order.side == BUY:
            if order.budget is not None:
                return max(0, order.budget - order.spent)
            return notional_up(max(0, order.remaining), order.price)
        return max(0, order.remaining)

    def set_reserved(self, order: Order, amount: int) -> None:
        acct = self.account(order.maker_address)
        delta = amount - order.reserved
        order.reserved = amount
        if order.side == BUY:
            acct.reserved_pusd += delta
        else:
            tok = order.token.token_id
            acct.reserved_tokens[tok] = acct.reserved_tokens.get(tok, 0) + delta

    def refresh_reservation(self, order: Order, open_: bool) -> None:
        self.set_reserved(order, self.requirement(order) if open_ else 0)

    def available_for(self, order: Order) -> tuple[int, int]:
        """(balance, already reserved) relevant to ``order``."""
        acct = self.account(order.maker_address)
        if order.side == BUY:
            return acct.pusd, acct.reserved_pusd
        tok = order.token.token_id
        return acct.token(tok), acct.reserved_tokens.get(tok, 0)

    def _move(self, deltas: list[Delta], address: str, token: str | None, amount: int) -> None:
        if amount == 0:
            return
        acct = self.account(address)
        if token is None:
            acct.pusd += amount
        else:
            acct.tokens[token] = acct.token(token) + amount
        deltas.append((acct.address, token, amount))

    def settle_leg(self, order: Order, size: int, cash: int, deltas: list[Delta]) -> None:
        """One side of a fill: a BUY pays cash for tokens, a SELL delivers tokens for cash."""
        sign = 1 if order.side == BUY else -1
        self._move(deltas, order.maker_address, None, -sign * cash)
        self._move(deltas, order.maker_address, order.token.token_id, sign * size)

    def charge_fee(self, taker: Order, fee: int, deltas: list[Delta]) -> None:
        """The taker's fee, in pUSD, to the venue's collector (a BUY pays it on top, a SELL
        receives its proceeds less it; shares are never touched)."""
        self._move(deltas, taker.maker_address, None, -fee)
        self._move(deltas, FEE_COLLECTOR, None, fee)

    def reverse(self, deltas: list[Delta]) -> None:
        for address, token, amount in reversed(deltas):
            self._move([], address, token, -amount)

    def fund(self, address: str, pusd: int = 0, token_id: str | None = None, tokens: int = 0) -> Account:
        acct = self.account(address)
        acct.pusd += pusd
        if token_id is not None and tokens:
            acct.tokens[token_id] = acct.token(token_id) + tokens
        return acct
