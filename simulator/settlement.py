"""How a market ends in pUSD: UMA-style resolution, then redemption; and merging sets.

On Polymarket a market resolves through UMA's optimistic oracle: an outcome is proposed,
a liveness period (~2 h) passes (a dispute adds days), and only then does the condition
report its payouts. Winning tokens pay 1 pUSD each, and only when redeemed: by the holder
(``redeemPositions``, through the relayer or a plain transaction) or by the auto-redeem
operator, when the holder approved it. So here:

- ``propose`` (``/_sim/resolve``, ``--resolve-after``) stops trading at once (open orders
  cancelled ``CANCELED_MARKET_RESOLVED``, pending trades confirm) and shows the proposal
  (Gamma ``umaResolutionStatus: "proposed"``), but pays nothing; with ``keep_trading`` (an
  outcome proposed before the market's end, as happens when the event is decided early) the
  book trades on, showing only the status, until the outcome is final;
- ``finalize`` runs ``resolution_delay_s`` later (``dispute`` pushes it out by
  ``dispute_delay_s``; ``reject`` votes a disputed proposal down and the market trades again,
  Gamma's ``umaResolutionStatuses`` keeping the proposal and the dispute): the payouts are
  reported (CLOB ``winner`` and ``is_50_50_outcome``, Gamma ``resolved`` and its prices, the
  ``market_resolved`` event), still paying nothing;
- ``redeem`` pays a wallet each outcome's payout per token held (1/0, or 0.5/0.5 for a
  canceled game) and burns both outcomes, once final; a Protocol V2 market's positions are
  redeemed through the Router one outcome at a time (``redeem_v2``: an amount of that outcome,
  at most what is held, paid at its payout);
  ``auto_redeem_delay_s`` after finality the operator redeems every wallet that approved it;
- ``merge`` burns ``amount`` of each outcome of a market and pays ``amount`` pUSD, any time.

Each payment is an ``activity.py`` item (REDEEM, MERGE), as the venue's Data API lists it.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from .activity import ActivityLog
from .market_payloads import market_resolved_message, now_ms
from .markets import Market, Token
from .orders import CANCELED_MARKET_RESOLVED, DELAYED
from .units import ONE, fmt

if TYPE_CHECKING:
    from .exchange import Exchange

log = logging.getLogger("simulator.settlement")
PROPOSED, DISPUTED, RESOLVED = "proposed", "disputed", "resolved"
NOT_FINAL = "result for condition not received yet"  # the CTF's revert before payouts are reported
Schedule = Callable[[float, Callable[[], object]], Any]  # (delay s, what to run; its value is dropped)


class Revert(Exception):
    """A contract call that fails: the message is the revert reason; `data` a custom error's encoding
    (its 4-byte selector), which a node returns as the error's data and not as a message."""

    def __init__(self, message: str, data: bytes = b"") -> None:
        super().__init__(message)
        self.data = data


Payouts = tuple[int, int]  # micro-pUSD one YES, one NO share pays


def payouts_of(winner: Token) -> Payouts:
    return (ONE, 0) if winner.is_yes else (0, ONE)


def checked_payouts(values: Payouts) -> Payouts:
    """A payout vector the condition can report: two non-negative shares of 1."""
    yes, no = values
    if yes < 0 or no < 0 or yes + no != ONE:
        raise Revert(f"payouts {fmt(yes)}/{fmt(no)} do not sum to 1")
    return values


@dataclass
class Resolution:
    market: Market
    payouts: Payouts
    proposed_at: float
    final_at: float
    status: str = PROPOSED
    generation: int = 0  # a dispute reschedules finality; older timers see a newer generation


class Settlement:
    def __init__(self, exchange: Exchange, activity: ActivityLog, schedule: Schedule | None, *,
                 resolution_delay_s: float, dispute_delay_s: float, auto_redeem_delay_s: float,
                 auto_redeem_operator: str) -> None:
        self.ex = exchange
        self.ledger = exchange.ledger
        self.activity = activity
        self.schedule = schedule
        self.resolution_delay_s = resolution_delay_s
        self.dispute_delay_s = dispute_delay_s
        self.auto_redeem_delay_s = auto_redeem_delay_s
        self.auto_redeem_operator = auto_redeem_operator.lower()
        self.resolutions: dict[str, Resolution] = {}
        self.approvals: set[tuple[str, str]] = set()  # (wallet, operator) with setApprovalForAll(true)
        self.v2_approvals: set[tuple[str, str]] = set()  # the same, on the PositionManager (V2 positions)

    # -- resolution ----------------------------------------------------------------------------

    def propose(self, market: Market, payouts: Payouts, *, keep_trading: bool = False) -> Resolution:
        """Trading stops now (unless `keep_trading`: a proposal made before the market's end, whose
        book trades on until the outcome is final); the payouts are reported `resolution_delay_s` later."""
        checked_payouts(payouts)
        if market.condition_id in self.resolutions or market.closed:
            raise Revert(f"market {market.condition_id} is already resolving or resolved")
        if not keep_trading:
            self._halt(market)
            market.proposed = payouts
        now = time.time()
        resolution = Resolution(market, payouts, now, now + self.resolution_delay_s)
        self.resolutions[market.condition_id] = resolution
        market.set_uma_status(PROPOSED)
        self._arm(resolution)
        return resolution

    def dispute(self, market: Market) -> Resolution:
        """A disputed proposal: finality moves `dispute_delay_s` from now."""
        resolution = self.resolutions.get(market.condition_id)
        if resolution is None or resolution.status == RESOLVED:
            raise Revert("only a proposed, not yet final, resolution can be disputed")
        resolution.status = DISPUTED
        resolution.final_at = time.time() + self.dispute_delay_s
        resolution.generation += 1
        market.set_uma_status(DISPUTED)
        self._arm(resolution)
        return resolution

    def reject(self, market: Market) -> None:
        """A disputed proposal voted down (UMA's vote found it wrong, or the event not over): no
        resolution stands and the market trades again, Gamma's current status empty, the proposal and
        the dispute left in its trail (`umaResolutionStatuses`)."""
        resolution = self.resolutions.get(market.condition_id)
        if resolution is None or resolution.status != DISPUTED:
            raise Revert("only a disputed, not yet final, resolution can be voted down")
        resolution.generation += 1  # its finality timer stands down
        del self.resolutions[market.condition_id]
        market.set_uma_status("")
        market.closed, market.accepting_orders, market.proposed = False, True, None

    def is_final(self, market: Market) -> bool:
        found = self.resolutions.get(market.condition_id)
        return found is not None and found.status == RESOLVED

    def _halt(self, market: Market) -> None:
        resting = list(self.ex.books[market.condition_id].orders())
        waiting = [o for owned in self.ex.open_by_owner.values() for o in owned.values()
                   if o.market is market and o.status == DELAYED]
        self.ex.cancel(resting + waiting, CANCELED_MARKET_RESOLVED)
        self.ex.trades.finalize_market(market)
        market.closed = True
        market.accepting_orders = False

    def _arm(self, resolution: Resolution) -> None:
        delay = max(0.0, resolution.final_at - time.time())
        generation = resolution.generation
        if delay <= 0 or self.schedule is None:
            self.finalize(resolution.market)
            return
        def finalize_unless_reopened() -> None:
            if resolution.generation == generation:
                self.finalize(resolution.market)

        self.schedule(delay, finalize_unless_reopened)

    def finalize(self, market: Market) -> None:
        """The condition reports its payouts: redeemable from now on."""
        resolution = self.resolutions[market.condition_id]
        if resolution.status == RESOLVED:
            return
        resolution.status = RESOLVED
        if not market.closed:  # proposed while trading went on: the book closes now
            self._halt(market)
        yes, no = market.payouts = resolution.payouts
        market.winner = market.yes.token_id if yes == ONE else market.no.token_id if no == ONE else None
        market.set_uma_status(RESOLVED)
        market.last_trade_price = yes
        self.ex.sink.market(market, market_resolved_message(market, now_ms()))
        log.info("market %s resolved %s/%s", market.condition_id, fmt(yes), fmt(no))
        if self.schedule is not None:
            self.schedule(self.auto_redeem_delay_s, lambda: self.auto_redeem(market))
        else:
            self.auto_redeem(market)

    # -- redemption and merging ----------------------------------------------------------------

    def approve(self, wallet: str, operator: str, approved: bool, *, v2: bool = False) -> None:
        """``setApprovalForAll`` on the conditional tokens, or with `v2` on the PositionManager."""
        key, held = (wallet.lower(), operator.lower()), self.v2_approvals if v2 else self.approvals
        if approved:
            held.add(key)
        else:
            held.discard(key)

    def is_approved(self, wallet: str, operator: str, *, v2: bool = False) -> bool:
        return (wallet.lower(), operator.lower()) in (self.v2_approvals if v2 else self.approvals)

    def auto_redeem(self, market: Market) -> list[tuple[str, int]]:
        """The operator redeems, for every wallet that approved it (on the PositionManager for a
        Protocol V2 market), what it holds of `market`."""
        paid = []
        for acct in list(self.ledger.accounts.values()):
            held = [(index, t, acct.token(t.token_id)) for index, t in enumerate(market.tokens)]
            if acct.internal or not any(amount for _, _, amount in held):
                continue
            if not self.is_approved(acct.address, self.auto_redeem_operator, v2=market.protocol_v2):
                continue
            if not market.protocol_v2:
                paid.append((acct.address, self.redeem(acct.address, market, self.activity.tx_hash("auto-redeem"))))
                continue
            for index, _, amount in held:
                if amount > 0:
                    tx_hash = self.activity.tx_hash("auto-redeem")
                    paid.append((acct.address, self.redeem_v2(acct.address, market, index, amount, tx_hash)))
        return paid

    def redeem(self, wallet: str, market: Market, tx_hash: str) -> int:
        """Each token held paid at its outcome's payout (1 per winning token, 0 per losing one,
        0.5 each in a 50/50), both burned; returns what was paid (recorded under `tx_hash`, the
        transaction that redeemed)."""
        if not self.is_final(market):
            raise Revert(NOT_FINAL)
        acct = self.ledger.account(wallet)
        held = {t.token_id: acct.tokens.pop(t.token_id, 0) for t in market.tokens}
        for token_id in held:
            acct.reserved_tokens.pop(token_id, None)
        pays = dict(zip((t.token_id for t in market.tokens), market.payouts or (0, 0), strict=True))
        # a reversed ghost fill can leave a negative balance: it pays nothing
        payout = sum(max(0, held[token]) * pays[token] for token in held) // ONE
        burned = sum(max(0, v) for v in held.values())
        if payout:
            acct.pusd += payout
        if burned:
            self.activity.record(acct.address, "REDEEM", payout, burned, tx_hash, market)
        return payout

    def redeem_v2(self, wallet: str, market: Market, outcome_index: int, amount: int, tx_hash: str) -> int:
        """The Router's ``redeem``: `amount` of one outcome of a final Protocol V2 market burned and
        paid at its payout; returns what was paid."""
        if not self.is_final(market):
            raise Revert(NOT_FINAL)
        if outcome_index not in (0, 1):
            raise Revert("outcome index out of range")
        if amount <= 0:
            raise Revert("redeem amount must be positive")
        token = market.tokens[outcome_index]
        acct = self.ledger.account(wallet)
        if acct.token(token.token_id) < amount:
            raise Revert(f"ERC1155: insufficient balance for transfer (holds {fmt(max(0, acct.token(token.token_id)))}"
                         f", redeeming {fmt(amount)})")
        acct.tokens[token.token_id] = acct.token(token.token_id) - amount
        payout = amount * (market.payouts or (0, 0))[outcome_index] // ONE
        acct.pusd += payout
        self.activity.record(acct.address, "REDEEM", payout, amount, tx_hash, market, token)
        return payout

    def merge(self, wallet: str, market: Market, amount: int, tx_hash: str) -> int:
        """Burn `amount` of each outcome (held and not reserved by open orders), pay `amount` pUSD."""
        acct = self.ledger.account(wallet)
        free = [acct.token(t.token_id) - acct.reserved_tokens.get(t.token_id, 0) for t in market.tokens]
        if amount <= 0:
            raise Revert("merge amount must be positive")
        if amount > min(free):
            raise Revert(f"not enough complete sets to merge {fmt(amount)}: free YES {fmt(free[0])}, "
                         f"NO {fmt(free[1])}")
        for token in market.tokens:
            acct.tokens[token.token_id] = acct.token(token.token_id) - amount
        acct.pusd += amount
        self.activity.record(acct.address, "MERGE", amount, 2 * amount, tx_hash, market)
        return amount

    def status(self, market: Market) -> dict[str, Any]:
        found = self.resolutions.get(market.condition_id)
        if found is None:
            return {"condition_id": market.condition_id, "status": "open"}
        yes, no = found.payouts
        winner = market.yes.token_id if yes == ONE else market.no.token_id if no == ONE else None
        return {"condition_id": market.condition_id, "status": found.status, "winner": winner,
                "payouts": [fmt(yes), fmt(no)], "proposed_at": found.proposed_at, "final_at": found.final_at}
