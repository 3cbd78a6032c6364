"""Collecting what the venue owes: redemptions, merges, and booking what it paid.

Every few seconds (`redeem_check_s`) the trading core runs `Collections.run`: it books what
the venue paid (engine/execution/credits.py), follows the redeem and merge transactions it
sent (a failed merge puts its sets back in the positions), and, with `auto_redeem` on,
redeems every market whose resolution is final and still owes: at once, or, when the
wallet approved the venue's auto-redeem operator, after `auto_redeem_grace_s` if the
operator has not paid by then. The operator's `redeem` command (the Redeem button) redeems
now; `merge` turns complete YES+NO sets back into pUSD. Each redeem or merge is recorded
before it is sent (`settlement_txs`) and audited by its command.

A Protocol V2 market is redeemed and merged through its Router (the venue's `onchain_v2` module): a
redemption is one transaction per outcome the desk is owed for (the wallet's whole balance of
that position, as the venue's SDK redeems), each paying that outcome's claims when the venue
reports it; a merge is one transaction, as a CTF market's. Before each, the venue's contract is asked
what the position pays (payout_check.py: a market without a result on chain waits, unsent; a payout
of 0 is not sent), and each payment reported is checked against it. A redemption that fails once the
market owes nothing more (another transaction, or the auto-redeem operator, paid it) is recorded
without an alert.

A backtest runs the same collections on its replay's clock (engine/backtest/resolutions.py): their reads
see the replay's batch, uncommitted (`Database.read_own`; live, each is a read of its own).
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from contracts.command_refusal import CommandRejected
from contracts.domain import BadNumber, Side, fmt, to_micros
from contracts.venue_policies import policy_of
from engine.execution import claims
from engine.execution.cash_book import Alert
from engine.execution.credits import book_venue_credits
from engine.execution.ledger import merge_yes_price
from engine.failpoints import crash_point
from engine.trading.settlement.payout_check import PayoutCheck
from engine.trading.settlement.void_refunds import book_refunds
from engine.venues.base import VenueError, VenueUnavailable
from engine.venues.settlement import RefundSource, SettlementTx, SettlementVenue
from storage.desk.audit import raise_alert
from storage.engine_stores import claims_store

if TYPE_CHECKING:
    from engine.execution.executor import Executor
    from engine.trading.parts import TradingSite

log = logging.getLogger("engine.trading.settlement.collections")
APPROVAL_RECHECK_MS = 10 * 60_000  # how long an answer about the auto-redeem approval is trusted
RETRY_MS = 5 * 60_000  # a failed redeem is tried again this long after
# A redeem or merge sent without an answer (or recorded, then the engine died) may be mined late:
# it is given up (a merge's sets put back, a redemption tried again) only after this long without
# the venue reporting it.
UNKNOWN_MS = 10 * 60_000
UNPAID_MS = 30 * 60_000  # a redemption mined this long ago with no payment reported is alerted


class Collections:
    def __init__(self, link: TradingSite):
        """The settlement venue is the link's (the paper venue's redemptions, or the desk venue's)."""
        self.link = link
        self.clock = link.clock
        self.catalog = link.catalog
        self.switched_venue()

    def switched_venue(self) -> None:
        """A mode switch: what was learnt of the other venue is forgotten."""
        self._approved: dict[bool, tuple[bool, int]] = {}  # protocol v2? -> (approved, when it was read)
        self._unpaid_alerted: set[int] = set()  # redeem transactions alerted as mined but unpaid
        self.payouts = PayoutCheck(self.link)

    @property
    def venue(self) -> SettlementVenue:
        return self.link.settlement

    @property
    def ex(self) -> Executor:
        return self.link.executor

    # -- the job ------------------------------------------------------------------------------

    async def run(self, *, auto: bool, grace_ms: int) -> dict[str, Any]:
        """Book credits, follow transactions, redeem what is due (with `auto`). A venue that
        does not answer is tried again at the next run (nothing is lost meanwhile: what it paid
        stays listed, what is owed stays open)."""
        try:
            if isinstance(self.venue, RefundSource):  # a voided market's refund first: its payment pays it
                await book_refunds(self.ex, self.catalog, self.venue)
            booked = await book_venue_credits(self.ex, self.venue)
            await self.payouts.after(booked)
            await self.follow()
            sent = await self.redeem_due(grace_ms=grace_ms) if auto else []
        except VenueError as exc:
            log.warning("collections: the venue did not answer", extra={"error": str(exc)})
            return {"error": str(exc)}
        return {"booked": len(booked), "redeems_sent": len(sent)}

    async def follow(self) -> None:
        """Bring every transaction in flight up to date with the venue."""
        now = self.clock()
        with self.ex.db.read_own() as conn:
            flying = claims_store.open_txs(conn, self.ex.mode, self.ex.venue_name)
        for tx in flying:
            if tx.ref is None:
                if tx.kind in ("redeem", "merge") and self._paid(tx):
                    self.ex.cash_book.paid_unanswered(tx.id)
                elif now - tx.created_at > UNKNOWN_MS:
                    self._failed(tx.id, tx.kind, tx.condition_id,
                                 "recorded but never known to be sent or mined (the engine stopped while sending "
                                 "it, or the venue never answered and never reported it)")
                continue
            try:
                state = await self.venue.transaction(tx.ref)
            except VenueError as exc:
                log.warning("a settlement transaction could not be followed", extra={"ref": tx.ref, "error": str(exc)})
                continue
            if state.state == "failed":
                self._failed(tx.id, tx.kind, tx.condition_id, state.error or "the transaction failed")
            elif state.state != tx.state:
                self.ex.cash_book.moved(tx.id, state)
                crash_point("settlement_after_mined")

    def _paid(self, tx: claims_store.TxRow) -> bool:
        """Its claims were paid by what the venue reported (so it was mined, answer or not)."""
        with self.ex.db.read_own() as conn:
            return claims_store.still_owed_by(conn, self.ex.mode, tx) == 0

    def _failed(self, tx_id: int, kind: str, condition_id: str | None, error: str) -> None:
        # A redemption failing once its market owes nothing more: another one (or the auto-redeem
        # operator) paid it, nothing is missing, so nothing is alerted.
        paid_already = kind == "redeem" and condition_id is not None and not self._owed(condition_id)
        alert = None
        if paid_already:
            log.info("a redemption failed after its market was paid", extra={"condition_id": condition_id,
                                                                             "error": error[:300]})
        else:
            what = {"redeem": "redemption", "merge": "merge", "approve": "approval"}.get(kind, kind)
            retry = " (tried again in a few minutes)" if kind == "redeem" else ""
            alert = Alert("warning", f"{kind.upper()}_FAILED",
                          f"the {what}{_in(condition_id)} failed at the venue{retry}: {error[:300]}")
        self.ex.cash_book.failed(tx_id, error, alert, sets_back=kind == "merge" and condition_id is not None,
                                   payout=self.catalog.payout)

    # -- redeeming ---------------------------------------------------------------------------

    async def redeem_due(self, *, grace_ms: int, condition_id: str | None = None,
                         now_please: bool = False) -> list[dict[str, Any]]:
        """Redeem the markets (or `condition_id`) whose claims are open and final; `now_please`
        (the operator) skips the wait for the auto-redeem operator and the retry delay."""
        now = self.clock()
        owed = self._owed(condition_id)
        if not owed:
            return []
        sent = []
        for cid, since in sorted(owed.items()):
            v2 = self._protocol_v2(cid)
            approved = await self._auto_redeem_approved(v2) if not now_please else False
            with self.ex.db.read_own() as conn:
                last = claims_store.last_attempt(conn, self.ex.mode, "redeem", cid)
            if last is not None and last.state in claims_store.OPEN_TX_STATES \
                    and not (now_please and last.ref is None):
                # In flight. The operator may send again one the venue never answered: a redemption
                # mined twice pays once (the second finds nothing left to redeem and pays 0).
                continue
            if last is not None and last.created_at > since and last.state == "confirmed" and not now_please:
                if now - last.created_at > UNPAID_MS:
                    self._unpaid(last)
                continue  # mined: the venue's payment is on its way
            if last is not None and last.state == "failed" and now - last.created_at < RETRY_MS and not now_please:
                continue
            if approved and now - since < grace_ms:
                continue  # the venue's auto-redeem operator comes first
            sent.append(await (self._send_redeem_v2(cid) if v2 else self._send_redeem(cid)))
        return sent

    def _unpaid(self, tx: claims_store.TxRow) -> None:
        """A redemption the venue mined whose payment it has not reported: said once."""
        if tx.id in self._unpaid_alerted:
            return
        self._unpaid_alerted.add(tx.id)
        with self.ex.tx() as conn:
            raise_alert(conn, level="warning", source="venue", code="REDEEM_UNPAID",
                        message=f"the redemption{_in(tx.condition_id)} was mined over 30 minutes ago but the venue "
                                f"reports no payment for it: check the wallet's positions on "
                                f"{policy_of(self.ex.venue_name).site} (Redeem "
                                "now sends it again)")

    def _protocol_v2(self, condition_id: str) -> bool:
        market = self.catalog.get(condition_id)
        return market is not None and market.protocol_v2

    def _owed(self, condition_id: str | None) -> dict[str, int]:
        """Markets with open redeem claims, final here, and since when they are owed."""
        with self.ex.db.read_own() as conn:
            rows = claims_store.open_claims(conn, self.ex.mode, condition_id, self.ex.venue_name)
        owed: dict[str, int] = {}
        for claim in rows:
            if claim.kind == "redeem" and self.catalog.resolution(claim.condition_id) is not None:
                owed[claim.condition_id] = min(owed.get(claim.condition_id, claim.created_at), claim.created_at)
        return owed

    async def _send_redeem(self, condition_id: str) -> dict[str, Any]:
        market = self.catalog.get(condition_id)
        neg_risk = market.neg_risk if market is not None else False
        with self.ex.db.read_own() as conn:
            owed = claims_store.open_claims(conn, self.ex.mode, condition_id, self.ex.venue_name)
        amount = sum(c.amount for c in owed if c.kind == "redeem")
        return await self._send_one(condition_id, amount, lambda: self.venue.redeem(condition_id, neg_risk))

    async def _send_redeem_v2(self, condition_id: str) -> dict[str, Any]:
        """A Protocol V2 market: each outcome owed for redeemed through the Router, a transaction each."""
        with self.ex.db.read_own() as conn:
            owed = claims_store.open_claims(conn, self.ex.mode, condition_id, self.ex.venue_name)
        by_position: dict[str, int] = defaultdict(int)
        for claim in owed:
            if claim.kind == "redeem" and claim.token_id:
                by_position[claim.token_id] += claim.amount
        done = []
        for position, amount in sorted(by_position.items()):
            held_back, pays = await self.payouts.before(condition_id, position, amount)
            if held_back is not None:
                done.append(held_back)
                continue

            def send(position: str = position) -> Awaitable[SettlementTx]:
                return self.venue.redeem_position(condition_id, position)

            sent = await self._send_one(condition_id, amount, send) | {"position": position}
            done.append(sent if pays is None else sent | {"pays": fmt(pays)})
        if len(done) == 1:
            return done[0]
        return {"condition_id": condition_id, "owed": fmt(sum(by_position.values())),
                "sent": all(d["sent"] for d in done), "positions": done}

    async def _send_one(self, condition_id: str, amount: int,
                        send: Callable[[], Awaitable[SettlementTx]]) -> dict[str, Any]:
        """One redemption: recorded first, then sent, its answer stored."""
        tx_id = self.ex.cash_book.opened(kind="redeem", condition_id=condition_id, amount=amount, actor="engine")
        crash_point("redeem_before_submit")
        try:
            sent = await send()
        except VenueUnavailable as exc:
            # No answer (a timeout, a 5xx): the relayer may still mine it. The claim stays open and
            # the venue's activity pays it when mined (credits.py); tried again only after
            # UNKNOWN_MS without it (follow).
            log.warning("a redemption's outcome is unknown", extra={"condition_id": condition_id, "error": str(exc)})
            return {"condition_id": condition_id, "owed": fmt(amount), "sent": None, "outcome": "unknown",
                    "note": f"the venue did not answer ({exc}); the redemption may still be mined: the desk books "
                            "the payment when the venue reports it"}
        except VenueError as exc:
            self._failed(tx_id, "redeem", condition_id, str(exc))
            return {"condition_id": condition_id, "owed": fmt(amount), "sent": False, "error": str(exc)}
        crash_point("redeem_after_submit")
        self._moved(tx_id, sent)
        log.info("redemption sent", extra={"condition_id": condition_id, "owed": amount, "ref": sent.ref})
        return {"condition_id": condition_id, "owed": fmt(amount), "sent": True, "tx": sent.ref, "via": sent.via}

    async def _auto_redeem_approved(self, protocol_v2: bool) -> bool:
        now = self.clock()
        known = self._approved.get(protocol_v2)
        if known is None or now - known[1] > APPROVAL_RECHECK_MS:
            try:
                known = self._approved[protocol_v2] = (await self.venue.auto_redeem_approved(protocol_v2), now)
            except VenueError as exc:
                log.warning("could not read the auto-redeem approval", extra={"error": str(exc)})
                return False
        return known[0]

    def _moved(self, tx_id: int, sent: SettlementTx) -> None:
        self.ex.cash_book.moved(tx_id, sent)

    # -- operator commands -------------------------------------------------------------------

    async def command(self, kind: str, payload: dict[str, Any]) -> dict[str, Any]:
        if kind == "redeem":
            return await self.redeem_now(payload.get("condition_id"))
        return await self.merge(payload)

    async def redeem_now(self, condition_id: str | None) -> dict[str, Any]:
        """The Redeem button: every final market that still owes (or one), now."""
        await book_venue_credits(self.ex, self.venue)  # what was paid meanwhile is not redeemed again
        if not self._owed(condition_id):
            raise CommandRejected(f"nothing to redeem{_in(condition_id)}: no resolved position is owed by the venue "
                                  "(redeemable claims are listed on the Overview page)")
        return {"redeems": await self.redeem_due(grace_ms=0, condition_id=condition_id, now_please=True)}

    async def merge(self, payload: dict[str, Any], *, actor: str = "operator") -> dict[str, Any]:
        """Merge complete YES+NO sets of a market back into pUSD (all a strategy's, or `shares`)."""
        cid = str(payload["condition_id"])
        market = self.catalog.get(cid)
        if market is None:
            raise CommandRejected(f"unknown market {cid!r}")
        if self.catalog.resolution(cid) is not None:
            raise CommandRejected("this market has resolved: redeem it instead of merging")
        legs = self.merge_legs(market, payload.get("strategy"), _shares(payload.get("shares")))
        amount = sum(leg.sets for leg in legs)
        tx_id = self.ex.cash_book.merge_opened(market, legs, actor=actor, payout=self.catalog.payout)
        try:
            crash_point("merge_before_submit")
            sent = await self.venue.merge(cid, market.neg_risk, amount, protocol_v2=market.protocol_v2)
        except VenueUnavailable as exc:
            # No answer (a timeout, a 5xx): the relayer may still mine it. The sets stay out of the
            # positions and owed; the venue's activity books it when mined (credits.py), and only
            # after UNKNOWN_MS without it are the sets put back (follow).
            log.warning("a merge's outcome is unknown", extra={"condition_id": cid, "error": str(exc)})
            return {"condition_id": cid, "sets": fmt(amount), "tx": None, "outcome": "unknown",
                    "note": f"the venue did not answer ({exc}); the merge may still be mined: the desk books it "
                            f"when the venue reports it, or puts the sets back after {UNKNOWN_MS // 60_000} "
                            "minutes without it"}
        except VenueError as exc:
            self._failed(tx_id, "merge", cid, str(exc))
            raise CommandRejected(f"the venue refused the merge: {exc}") from None
        crash_point("merge_after_submit")
        self._moved(tx_id, sent)
        return {"condition_id": cid, "sets": fmt(amount), "tx": sent.ref, "via": sent.via,
                "strategies": {leg.strategy: fmt(leg.sets) for leg in legs},
                "note": "the sets are redeemable until the venue pays (then cash)"}

    def merge_legs(self, market: Any, strategy: str | None, shares: int | None) -> list[claims.MergeLeg]:
        """Complete sets per strategy: settled YES and NO not promised to an open SELL."""
        state = self.ex.state
        promised: dict[tuple[str, str], int] = defaultdict(int)
        for order in state.orders.values():
            if order.side is Side.SELL:
                promised[(order.strategy, order.token_id)] += order.remaining
        names = sorted({s for (s, token) in state.positions if token in (market.yes_token, market.no_token)})
        legs, left = [], shares
        for name in names if strategy is None else [strategy]:
            yes, no = state.totals(name, market.yes_token), state.totals(name, market.no_token)
            sets = min(yes.sellable - promised[(name, market.yes_token)],
                       no.sellable - promised[(name, market.no_token)])
            if left is not None:
                sets = min(sets, left)
            if sets > 0:
                legs.append(claims.MergeLeg(name, sets, merge_yes_price(yes, no)))
                if left is not None:
                    left -= sets
        if not legs:
            raise CommandRejected(f"no complete YES+NO sets to merge in this market{_for(strategy)} (settled shares "
                                  "of both outcomes, not promised to an open SELL)")
        if left and shares is not None:  # (left counts down from shares)
            raise CommandRejected(f"only {fmt(shares - left)} complete sets are held{_for(strategy)}; asked to merge "
                                  f"{fmt(shares)}")
        return legs


def _shares(raw: Any) -> int | None:
    if raw is None:
        return None
    try:
        value = to_micros(str(raw), exact=True)
    except BadNumber:
        raise CommandRejected(f"shares must be a number of shares, not {raw!r:.40}") from None
    if value <= 0:
        raise CommandRejected("shares must be positive")
    return value


def _in(condition_id: str | None) -> str:
    return f" in market {condition_id[:14]}…" if condition_id else ""


def _for(strategy: str | None) -> str:
    return f" for strategy {strategy!r}" if strategy else ""

