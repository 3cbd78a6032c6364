"""What the venue owes the desk, and the cash it pays: claims, settlement transactions, credits.

A position ends in cash only when the venue pays. A resolved winning position becomes a
*redeem claim* (1 pUSD a share; the position itself is closed and its PnL realized), a merge
sent turns complete YES+NO sets into a *merge claim* (1 pUSD a set; `position_conversions`
take the shares out of the positions), and a market the venue voided turns each position into a
*refund* (a redeem claim at what the venue paid back a share; conversions take the shares out).
Claims are *redeemable*: part of equity, never cash.
Cash arrives only as a venue credit (engine/venues/settlement.py): a redemption or merge
pays the open claims of its market, a maker rebate is income; each is booked once, by the
venue's transaction hash, for exactly the amount the venue reports. The SQL is in
storage/engine_stores/claims_store.py; the executor's transaction wraps every write (single writer).
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Connection

from contracts.domain import ONE, Outcome, fmt
from contracts.venues import desk_venue, venue_of
from engine.venues.settlement import SettlementTx, VenueCredit
from storage.engine_stores import claims_store, execution_ledger
from storage.engine_stores.claims_store import ClaimRow

INCOME = ("rebate", "reward")  # paid to the wallet, owed by no claim: booked as cash, once by hash
CASH_KIND = {"redeem": "redemption", "merge": "merge", "rebate": "rebate", "reward": "reward"}


@dataclass(frozen=True, slots=True)
class Booking:
    """What booking one credit did: `booked` False when it was booked before."""

    booked: bool
    amount: int = 0
    claimed: int = 0  # the open claims it paid, micro-pUSD
    claims: int = 0  # how many


def tx_opened(conn: Connection, *, mode: str, kind: str, condition_id: str | None, amount: int, actor: str,
              now: int) -> int:
    """A redemption or merge about to be sent, recorded first (so a crash after sending is found)."""
    return claims_store.new_tx(conn, mode=mode, kind=kind, condition_id=condition_id, amount=amount, actor=actor,
                               now=now)


def tx_paid_unanswered(conn: Connection, tx_id: int, now: int) -> None:
    """A transaction the venue never answered for, whose claims its reported payment closed."""
    claims_store.tx_moved(conn, tx_id, ref=None, tx_hash=None, via=None, state="confirmed",
                          error="the venue never answered; its payment was reported and booked", now=now)


def tx_failed(conn: Connection, tx_id: int, error: str, now: int) -> None:
    """A settlement transaction the venue refused or reported failed."""
    claims_store.tx_failed(conn, tx_id, error, now)


def tx_moved(conn: Connection, tx_id: int, sent: SettlementTx, now: int) -> None:
    """What the venue answered for a settlement transaction, stored."""
    claims_store.tx_moved(conn, tx_id, ref=sent.ref or None, tx_hash=sent.tx_hash, via=sent.via or None,
                          state=sent.state, error=sent.error, now=now)


# -- merges ----------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class MergeLeg:
    strategy: str
    sets: int  # micro-shares of YES and of NO taken out
    yes_price: int  # the YES leg's price; the NO leg's is ONE - this (a set is worth exactly 1)


def record_merge(conn: Connection, *, mode: str, tx_id: int, condition_id: str, yes_token: str, no_token: str,
                 legs: list[MergeLeg], now: int) -> None:
    """The sets leave the positions now (pending until the venue pays or the merge fails) and
    each strategy is owed 1 pUSD a set."""
    for leg in legs:
        sides = ((yes_token, Outcome.YES, leg.yes_price), (no_token, Outcome.NO, ONE - leg.yes_price))
        for token, outcome, price in sides:
            claims_store.add_conversion(conn, mode=mode, strategy=leg.strategy, condition_id=condition_id,
                                        token_id=token, outcome=outcome.value, shares=leg.sets, price=price,
                                        tx_id=tx_id, now=now)
        claims_store.add_claim(conn, mode=mode, kind="merge", condition_id=condition_id, strategy=leg.strategy,
                               token_id=None, amount=leg.sets, ref=f"merge:{tx_id}:{leg.strategy}", now=now,
                               tx_id=tx_id)


# -- refunds (a voided market) ---------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class RefundLeg:
    strategy: str
    token_id: str
    outcome: Outcome
    shares: int  # micro-shares the venue took back
    price: int  # what it paid back a share at (micro-pUSD)


def record_refund(conn: Connection, *, mode: str, tx_id: int, condition_id: str, legs: list[RefundLeg],
                  now: int) -> int:
    """A market the venue voided and paid back: each leg's shares leave its position at the price
    paid back (final at once: the venue has paid), and each strategy is owed what they fetched, a
    redeem claim the venue's payment pays. Returns what is owed."""
    owed = 0
    for leg in legs:
        claims_store.add_conversion(conn, mode=mode, strategy=leg.strategy, condition_id=condition_id,
                                    token_id=leg.token_id, outcome=leg.outcome.value, shares=leg.shares,
                                    price=leg.price, tx_id=tx_id, now=now)
        amount = leg.shares * leg.price // ONE
        claims_store.add_claim(conn, mode=mode, kind="redeem", condition_id=condition_id, strategy=leg.strategy,
                               token_id=leg.token_id, amount=amount,
                               ref=f"{claims_store.REFUND}{tx_id}:{leg.strategy}:{leg.token_id}", now=now,
                               tx_id=tx_id)
        owed += amount
    claims_store.merges_paid(conn, {tx_id}, now)  # (marks the transaction's conversions done, as a paid merge's)
    return owed


def recorded(conn: Connection, mode: str, tx_hash: str) -> bool:
    """Whether a settlement transaction the venue reported as `tx_hash` is on `mode`'s ledger already."""
    return claims_store.tx_recorded(conn, mode, tx_hash)


# -- credits ---------------------------------------------------------------------------------------


def book_credit(conn: Connection, mode: str, credit: VenueCredit, now: int) -> Booking:
    """Book what the venue paid, once; a redemption or a merge pays its market's open claims
    (a merge first those of the transaction that paid; a redemption of one outcome, a Protocol V2
    market's, that outcome's)."""
    cash_kind = CASH_KIND[credit.kind]
    ref = credit.tx_hash if credit.kind in INCOME else f"{credit.tx_hash}:{credit.condition_id}"
    if credit.token_id is not None:  # one transaction may redeem each outcome of a market
        ref = f"{ref}:{credit.token_id}"
    note = _note(credit)
    venue = venue_of(credit.condition_id) if credit.condition_id else desk_venue()
    if not execution_ledger.add_cash_entry(conn, mode=mode, kind=cash_kind, amount=credit.amount, ref=ref, note=note,
                                           now=now, venue=venue):
        return Booking(False)
    if credit.kind in INCOME or credit.condition_id is None:
        return Booking(True, credit.amount)
    claims = [c for c in claims_store.open_claims(conn, mode, credit.condition_id) if c.kind == credit.kind
              and (credit.token_id is None or c.token_id == credit.token_id)]
    if credit.kind == "merge":
        claims = _merge_claims_paid(conn, claims, credit)
        claims_store.merges_paid(conn, {c.tx_id for c in claims if c.tx_id is not None}, now)
    claims_store.settle_claims(conn, claims, "paid", credit.tx_hash, now)
    return Booking(True, credit.amount, sum(c.amount for c in claims), len(claims))


def _merge_claims_paid(conn: Connection, claims: list[ClaimRow], credit: VenueCredit) -> list[ClaimRow]:
    """The merge claims this credit pays: those of the transaction with its hash, else the
    oldest open ones up to its amount."""
    tx_ids = claims_store.tx_ids_by_hash(conn, credit.tx_hash)
    mine = [c for c in claims if c.tx_id in tx_ids]
    if mine:
        return mine
    paid, left = [], credit.amount
    for claim in claims:
        if claim.amount <= left:
            paid.append(claim)
            left -= claim.amount
    return paid


def _note(credit: VenueCredit) -> str:
    what = {"redeem": "redemption paid", "merge": "complete sets merged", "rebate": "maker rebate paid",
            "reward": "liquidity rewards paid"}[credit.kind]
    where = f" in {credit.condition_id[:14]}…" if credit.condition_id else ""
    return f"{what}{where}: {fmt(credit.amount)} pUSD (venue tx {credit.tx_hash[:14]}…)"
