"""The executor's book of cash and claims: settlement transactions, merges, nets, refunds, and a
paper ledger's opening deposit.

Every write of orders, fills, positions, claims and cash goes through the executor of its ledger
(invariant 1), and only the executor reloads its in-memory state. The jobs that decide *when* to
redeem, merge, net or book a refund live in engine/trading/ (collections, auto-merge, Kalshi's
netting and voids); they call this book, owned by the executor (`Executor.cash_book`), which
writes each step in one of the executor's transactions and refolds the positions it changed. The
arithmetic of claims is engine/execution/claims.py's; the SQL is storage's.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass

from sqlalchemy import Connection

from contracts.domain import MarketInfo, Outcome
from engine.execution import claims, store
from engine.execution.state import ExecutionState
from engine.venues.settlement import SettlementTx, VenueCredit
from storage.desk.audit import AlertLevel, raise_alert
from storage.engine_stores import execution_ledger

Transaction = Callable[[], AbstractContextManager[Connection]]


@dataclass(frozen=True, slots=True)
class Alert:
    """An alert written in the same transaction as the ledger change it tells of (so a crash
    never leaves one without the other)."""

    level: AlertLevel
    code: str
    message: str
    subject: str | None = None
    source: str = "venue"

    def raise_in(self, conn: Connection) -> None:
        raise_alert(conn, level=self.level, source=self.source, code=self.code, message=self.message,
                    subject=self.subject)


class CashBook:
    def __init__(self, tx: Transaction, state: ExecutionState, clock: Callable[[], int]):
        """`tx`: the executor's write transaction; `state`: its in-memory ledger, kept here."""
        self.tx = tx
        self.state = state
        self.mode = state.mode
        self.venue_name = state.venue
        self.clock = clock

    def opening_deposit(self, amount: int) -> bool:
        """A paper ledger's starting cash, booked once ever (False: booked before)."""
        with self.tx() as conn:
            booked = paper_starting_cash(conn, amount, self.clock(), self.venue_name)
            if booked:
                self.state.load_positions(conn)
        return booked

    # -- settlement transactions (a redeem or merge the desk sends) ------------------------------

    def opened(self, *, kind: str, condition_id: str | None, amount: int, actor: str) -> int:
        """A redemption or merge about to be sent, recorded first (a crash after sending is found)."""
        with self.tx() as conn:
            return claims.tx_opened(conn, mode=self.mode, kind=kind, condition_id=condition_id, amount=amount,
                                    actor=actor, now=self.clock())

    def moved(self, tx_id: int, sent: SettlementTx) -> None:
        with self.tx() as conn:
            claims.tx_moved(conn, tx_id, sent, self.clock())

    def paid_unanswered(self, tx_id: int) -> None:
        with self.tx() as conn:
            claims.tx_paid_unanswered(conn, tx_id, self.clock())

    def failed(self, tx_id: int, error: str, alert: Alert | None, *, sets_back: bool,
               payout: Callable[[str, Outcome], int | None]) -> None:
        """A transaction the venue refused or reported failed; a failed merge's sets come back
        into the positions (`sets_back`)."""
        with self.tx() as conn:
            claims.tx_failed(conn, tx_id, error, self.clock())
            if alert is not None:
                alert.raise_in(conn)
        if sets_back:
            self.refold_positions(payout)

    # -- merges and Kalshi's nets ----------------------------------------------------------------

    def merge_opened(self, market: MarketInfo, legs: list[claims.MergeLeg], *, actor: str,
                     payout: Callable[[str, Outcome], int | None]) -> int:
        """A merge recorded before it is sent: its sets leave the positions at once."""
        now = self.clock()
        with self.tx() as conn:
            tx_id = claims.tx_opened(conn, mode=self.mode, kind="merge", condition_id=market.condition_id,
                                     amount=sum(leg.sets for leg in legs), actor=actor, now=now)
            claims.record_merge(conn, mode=self.mode, tx_id=tx_id, condition_id=market.condition_id,
                                yes_token=market.yes_token, no_token=market.no_token, legs=legs, now=now)
        self.refold_positions(payout)
        return tx_id

    def netted(self, market: MarketInfo, strategy: str, legs: list[claims.MergeLeg], *, venue: str) -> int:
        """Complete YES+NO sets `venue` turns into cash at once (Kalshi's net), in one transaction:
        the merge recorded, confirmed and paid, the strategy's two positions refolded. Returns the
        sets netted (micro-contracts)."""
        cid = market.condition_id
        sets = sum(leg.sets for leg in legs)
        now = self.clock()
        with self.tx() as conn:
            tx_id = claims.tx_opened(conn, mode=self.mode, kind="merge", condition_id=cid, amount=sets,
                                     actor=venue, now=now)
            ref = f"{venue}-net-{tx_id}"
            claims.tx_moved(conn, tx_id, SettlementTx(ref, "confirmed", tx_hash=ref, via=venue), now)
            claims.record_merge(conn, mode=self.mode, tx_id=tx_id, condition_id=cid, yes_token=market.yes_token,
                                no_token=market.no_token, legs=legs, now=now)
            claims.book_credit(conn, self.mode, VenueCredit("merge", sets, ref, now, cid, sets), now)
            for token in (market.yes_token, market.no_token):
                store.recompute_position(conn, mode=self.mode, strategy=strategy, token_id=token, condition_id=cid,
                                         outcome=market.outcome_of(token), payout=None, now=now)
            self.state.load_positions(conn)
        return sets

    # -- refunds (a market voided, or settled at a value, by the venue) -----------------------------

    def refunded(self, condition_id: str, ref: str, amount: int, legs: list[claims.RefundLeg], alert: Alert,
                 *, venue: str, paid_now: bool) -> bool:
        """A refund `venue` made, in one transaction, once (its transaction carries `ref`: a restart
        that reads the venue's list again books nothing twice); `paid_now`: the cash is booked with
        it (a paper venue pays at once). False: booked before."""
        now = self.clock()
        with self.tx() as conn:
            if claims.recorded(conn, self.mode, ref):
                return False
            tx_id = claims.tx_opened(conn, mode=self.mode, kind="redeem", condition_id=condition_id, amount=amount,
                                     actor=venue, now=now)
            claims.tx_moved(conn, tx_id, SettlementTx(ref, "confirmed", tx_hash=ref, via=venue), now)
            owed = claims.record_refund(conn, mode=self.mode, tx_id=tx_id, condition_id=condition_id, legs=legs,
                                        now=now)
            if paid_now and legs:
                claims.book_credit(conn, self.mode, VenueCredit("redeem", owed, ref, now, condition_id,
                                                              sum(leg.shares for leg in legs)), now)
            for leg in legs:
                store.recompute_position(conn, mode=self.mode, strategy=leg.strategy, token_id=leg.token_id,
                                         condition_id=condition_id, outcome=leg.outcome, payout=None, now=now)
            alert.raise_in(conn)
            self.state.load_positions(conn)
        return True

    # -- positions ---------------------------------------------------------------------------------

    def refold_positions(self, payout: Callable[[str, Outcome], int | None]) -> None:
        """Every position refolded from its fills and conversions (a merge recorded or failed: its
        sets left or came back), and the executor's positions reloaded from them."""
        now = self.clock()
        with self.tx() as conn:
            for strategy, token, condition_id, outcome in store.position_keys_from_fills(conn, self.mode,
                                                                                          self.venue_name):
                store.recompute_position(conn, mode=self.mode, strategy=strategy, token_id=token,
                                         condition_id=condition_id, outcome=outcome,
                                         payout=payout(condition_id, outcome), now=now)
            self.state.load_positions(conn)


def paper_starting_cash(conn: Connection, amount: int, now: int, venue: str) -> bool:
    """A venue's paper ledger's opening deposit, booked once (False when it was booked before)."""
    return execution_ledger.add_cash_entry(conn, mode="paper", kind="deposit", ref="initial", amount=amount,
                                           note="paper starting cash", now=now, venue=venue)
