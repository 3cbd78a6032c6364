"""Placing orders: approve (a GTD's expiry, the venue's phase, the risk gate's last check),
write the intent, send, and record the venue's answer.

Intent before network: a placement's row, with its signed payload and venue order id, is
committed before the request leaves. Nothing is sent while the order gate is closed (a kill
or a stop): it is checked right before every send.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

from contracts.domain import MarketInfo, Tif, fmt
from contracts.expiry import expiry_problem
from contracts.order_status import RANK, TERMINAL_RANK, OrderStatus, from_venue
from engine.execution import store
from engine.execution.bus import EventBus, PlacementRefused, PlacementsAnswered, VenueFault
from engine.execution.planner import TAKE, OrderSpec
from engine.execution.state import ExecutionState
from engine.execution.store import OrderRow
from engine.execution.transactions import OrderTracker, Transactions
from engine.execution.venue_health import VenueHealth
from engine.failpoints import crash_point
from engine.venues.base import (
    OrderRejected,
    OrderRequest,
    PlaceResult,
    PreparedOrder,
    Venue,
    VenueBusy,
    VenueError,
    VenueOrderStatus,
)
from engine.venues.refusals import Refusal, classify
from storage.command_queue import command_effects
from storage.engine_stores import execution_ledger

log = logging.getLogger("engine.executor")

BATCH = 15  # the venue's batch limit
INVALID_EXPIRY = "INVALID_EXPIRY"  # the reason code for a GTD whose expiry is out of bounds

# A last-line check before a placement (risk gate), given the orders open right now (this one
# not included): a reason code to refuse, or None.
PlacementCheck = Callable[[str, MarketInfo, OrderSpec, int], str | None]
Place = tuple[str, MarketInfo, OrderSpec, str]  # (strategy, market, order, reason)


class OrderGate:
    """The one switch a kill or a stop throws: while closed, nothing is sent (every placement
    reads it right before it sends). One per desk: the composition root builds it and hands it
    to the command path, the lifecycle and every executor the trading core builds, so it
    outlives a reopened venue or a mode switch. Closed until trading starts."""

    def __init__(self) -> None:
        self.blocked = True

    def block(self) -> None:
        """No placement is sent after this returns (synchronous: nothing can yield first)."""
        self.blocked = True

    def unblock(self) -> None:
        self.blocked = False


@dataclass
class Placed:
    """What a placement pass did: how many the venue took, the rows it recorded (sent or not),
    and what was refused before sending, with the reason code."""

    count: int = 0
    order_ids: list[int] = field(default_factory=list)
    refused: list[tuple[OrderSpec, str]] = field(default_factory=list)

    def add(self, other: Placed) -> None:
        self.count += other.count
        self.order_ids += other.order_ids
        self.refused += other.refused


@dataclass(frozen=True)
class GroupFill:
    """An arbitrage group the venue filled unevenly: each leg with what it filled."""

    strategy: str
    group: str
    on_partial: str
    legs: tuple[tuple[MarketInfo, OrderSpec, int], ...]


class Placement:
    def __init__(self, venue: Venue, state: ExecutionState, health: VenueHealth, transactions: Transactions,
                 tracker: OrderTracker, bus: EventBus, gate: OrderGate, *, mode: str, clock: Callable[[], int],
                 new_client_id: Callable[[], str], placement_check: PlacementCheck | None):
        self.venue = venue
        self.state = state
        self.health = health
        self.transactions = transactions
        self.tracker = tracker
        self.bus = bus
        self.gate = gate
        self.mode = mode
        self.clock = clock
        self.new_client_id = new_client_id
        self.placement_check = placement_check
        self.partials: list[GroupFill] = []  # arbitrage groups that filled on some legs only, to settle

    async def place(self, places: Sequence[Place], *, override_block: bool = False,
                    gate_notes: Mapping[tuple[str, str], str] | None = None) -> Placed:
        """`gate_notes`: by (strategy, market), what the risk gate did with the intent a strategy's
        placements are for, kept on each order (none for the operator's: they did not come
        through it)."""
        outcome = Placed()
        approved = places if override_block else self._approved(places, outcome)
        for batch in _batches(approved):
            if self.gate.blocked and not override_block:
                break
            outcome.add(await self._place_batch(batch, override_block, gate_notes or {}))
        return outcome

    def _approved(self, places: Sequence[Place], outcome: Placed) -> list[Place]:
        """What may be sent now: the venue takes it (not restarting, not post-only-only for a
        non-post-only order, not rate-limited) and the placement check passes."""
        approved: list[Place] = []
        for group in _by_group(places):
            passed: list[Place] = []
            for strategy, market, spec, reason in group:
                refusal = self._check_one(strategy, market, spec, len(approved) + len(passed))
                if refusal is None:
                    passed.append((strategy, market, spec, reason))
                    continue
                outcome.refused.append((spec, refusal))
                if spec.group:  # an arbitrage goes whole or not at all
                    for other in group:
                        if other[2] is not spec:
                            self._refused(other[0], other[1], other[2], "GROUP_INCOMPLETE", f"with {refusal}")
                    passed.clear()
                    break
            approved += passed
        return approved

    def _check_one(self, strategy: str, market: MarketInfo, spec: OrderSpec, approved_so_far: int) -> str | None:
        if spec.tif is Tif.GTD:  # before its row exists: a bad expiry never leaves an orphan to mark LOST
            problem = expiry_problem(spec.expires_at_s, self.clock() // 1000)
            if problem is not None:
                self._refused(strategy, market, spec, INVALID_EXPIRY, problem)
                return f"{INVALID_EXPIRY}: {problem}"
        held = self.health.holds_back(spec)
        if held is not None:
            self._refused(strategy, market, spec, held, f"held back: {self.health.phase.value}")
            return held
        open_now = len(self.state.orders) + approved_so_far  # each approval counts for the next
        refusal = self.placement_check(strategy, market, spec, open_now) if self.placement_check else None
        if refusal is not None:
            self._refused(strategy, market, spec, refusal, "refused at placement")
        return refusal

    def _refused(self, strategy: str, market: MarketInfo, spec: OrderSpec, reason: str, detail: str,
                 by_venue: bool = False) -> None:
        self.bus.publish(PlacementRefused(strategy, market, spec, reason, detail, by_venue))

    async def _place_batch(self, batch: Sequence[Place], override_block: bool,
                           gate_notes: Mapping[tuple[str, str], str]) -> Placed:
        prepared = [await self.venue.prepare(self._request(market, spec)) for _, market, spec, _ in batch]
        now = self.clock()
        with self.transactions.tx() as conn:  # intent before network (its commit is the record of the attempt)
            rows = [store.insert_order(
                conn, client_id=p.request.client_id, venue_order_id=p.venue_order_id, mode=self.mode,
                strategy=strategy, condition_id=market.condition_id, token_id=spec.token_id, outcome=spec.outcome,
                side=spec.side, price=spec.price, size=spec.size, tif=spec.tif, post_only=spec.post_only,
                payload=p.record, reason=reason or None, now=now, submitted_at=now,
                expires_at=spec.expires_at_s * 1000 if spec.tif is Tif.GTD and spec.expires_at_s else None,
                gate=gate_notes.get((strategy, market.condition_id)),
            ) for p, (strategy, market, spec, reason) in zip(prepared, batch, strict=True)]
            command_effects.note(conn, {"orders": [row.id for row in rows]})  # an operator's command, if any
        for row in rows:
            self.tracker.track(row)
        crash_point("after_intent_commit")
        ids = [row.id for row in rows]
        if self.gate.blocked and not override_block:  # a kill or stop arrived while we prepared: never send
            self._finish_unsent(rows, "blocked before sending (kill or stop)")
            return Placed(0, ids)
        results, busy = await self._send(prepared)
        crash_point("after_submit")
        self._record_acks(rows, results)
        self._explain_refusals(batch, results, busy)
        self.partials += uneven_groups(batch, results)
        accepted = sum(1 for r in results if r is not None and r.error is None)
        if accepted:
            self.bus.publish(PlacementsAnswered(accepted))
        return Placed(accepted, ids)

    def _request(self, market: MarketInfo, spec: OrderSpec) -> OrderRequest:
        return OrderRequest(
            client_id=self.new_client_id(), condition_id=market.condition_id, token_id=spec.token_id,
            side=spec.side, price=spec.price, size=spec.size, tif=spec.tif, post_only=spec.post_only,
            expires_at_s=spec.expires_at_s, neg_risk=market.neg_risk, tick=market.tick,
            protocol_v2=market.protocol_v2,
        )

    async def _send(self, prepared: list[PreparedOrder]) -> tuple[list[PlaceResult | None], VenueBusy | None]:
        """Submit; an unknown outcome (None) leaves the row PENDING_SUBMIT for lookup later.
        A venue that answered it took nothing (restarting, rate-limited) refused them all."""
        try:
            if len(prepared) == 1:
                results = [await self.venue.submit(prepared[0])]
            else:
                results = list(await self.venue.submit_many(prepared))
        except OrderRejected as exc:
            return [PlaceResult(p.venue_order_id, VenueOrderStatus.INVALID, error=str(exc)) for p in prepared], None
        except VenueBusy as exc:
            self.health.busy(exc)
            return [PlaceResult(p.venue_order_id, VenueOrderStatus.INVALID, error=str(exc)) for p in prepared], exc
        except VenueError as exc:
            self.bus.publish(VenueFault(str(exc)))
            self.health.failed()
            log.warning("placement outcome unknown; will look it up", extra={"error": str(exc)})
            return [None] * len(prepared), None
        if any(r.error is None for r in results):
            self.health.answered()
        return list(results), None

    def _record_acks(self, rows: list[OrderRow], results: list[PlaceResult | None]) -> None:
        """Every answered placement moves at once: refused -> REJECTED; a fill-and-kill (or
        fill-or-kill) is done with its answer -> FILLED for what traded (the rest cancelled, said
        in its note), or CANCELED if nothing did; a resting order -> LIVE (or DELAYED-then-matched
        later)."""
        now = self.clock()
        with self.transactions.tx() as conn:
            refreshed = []
            for row, result in zip(rows, results, strict=True):
                if result is None:  # unknown outcome: as stored (now submitted)
                    refreshed.append(store.order_by_id(conn, row.id))
                    continue
                status, filled, note = _answered_status(row, result)
                refreshed.append(store.advance_row(conn, row.id, status, now, filled=filled, error=note, acked=True,
                                                   stored=self.state.orders.get(row.id)))
        for row in refreshed:
            self.tracker.track(row)

    def _explain_refusals(self, batch: Sequence[Place], results: list[PlaceResult | None],
                          busy: VenueBusy | None) -> None:
        """A refusal is the venue's answer to this order (a decision with its reason), the
        venue's maintenance (a restart, its post-only phase, a rate limit), or a fault, the
        only kind counted toward the error-rate breaker."""
        for (strategy, market, spec, _), result in zip(batch, results, strict=True):
            if result is None or result.error is None:
                continue
            detail = result.error[:300]
            if busy is not None:
                self._refused(strategy, market, spec, "VENUE_MAINTENANCE" if busy.maintenance else
                              "VENUE_RATE_LIMITED", detail, by_venue=True)
                continue
            kind = classify(result.error)
            if kind is Refusal.REGION:  # a geoblock: close-only or blocked, the risk monitor's to judge
                self._refused(strategy, market, spec, "VENUE_REGION", detail, by_venue=True)
                continue
            if kind is Refusal.PAUSED:  # this order met the venue's pause: held back until it resumes
                self.health.busy(VenueBusy(result.error, maintenance=True))
                self._refused(strategy, market, spec, "VENUE_MAINTENANCE", detail, by_venue=True)
                continue
            if kind is Refusal.POST_ONLY_MODE:
                self.health.post_only_mode(result.error)
                self._refused(strategy, market, spec, "VENUE_POST_ONLY", detail, by_venue=True)
                continue
            self._refused(strategy, market, spec, "VENUE_REFUSED", detail, by_venue=True)
            if kind is Refusal.FAULT:
                self.bus.publish(VenueFault(result.error))
                log.warning("order rejected", extra={"strategy": strategy, "error": result.error})

    def _finish_unsent(self, rows: list[OrderRow], why: str) -> None:
        now = self.clock()
        with self.transactions.tx() as conn:
            for row in rows:
                execution_ledger.advance(conn, row.id, OrderStatus.CANCELED, now, error=why)
        for row in rows:
            self.tracker.unsent(row, OrderStatus.CANCELED)


def uneven_groups(batch: Sequence[Place], results: Sequence[PlaceResult | None]) -> list[GroupFill]:
    """Groups in this batch whose legs did not all fill the same (every leg answered)."""
    legs: dict[str, list[tuple[str, MarketInfo, OrderSpec, int | None]]] = {}
    for (strategy, market, spec, _), result in zip(batch, results, strict=True):
        if spec.group:
            filled = None if result is None else (0 if result.error else (result.filled or 0))
            legs.setdefault(spec.group, []).append((strategy, market, spec, filled))
    out = []
    for group, members in legs.items():
        fills = [f for *_, f in members]
        if None not in fills and len(set(fills)) > 1:
            out.append(GroupFill(members[0][0], group, members[0][2].on_partial,
                                 tuple((m, s, f or 0) for _, m, s, f in members)))
    return out


def _by_group(places: Sequence[Place]) -> list[list[Place]]:
    """Each ungrouped placement alone, each arbitrage group's legs together (they are adjacent)."""
    out: list[list[Place]] = []
    for place in places:
        group = place[2].group
        if group and out and out[-1][0][2].group == group:
            out[-1].append(place)
        else:
            out.append([place])
    return out


def _batches(places: Sequence[Place]) -> list[list[Place]]:
    """Batches of at most BATCH orders that never split an arbitrage group."""
    batches: list[list[Place]] = [[]]
    for group in _by_group(places):
        if batches[-1] and len(batches[-1]) + len(group) > BATCH:
            batches.append([])
        for start in range(0, len(group), BATCH):  # a group past the venue's batch limit cannot be one
            if start:
                batches.append([])
            batches[-1].extend(group[start:start + BATCH])
    return [b for b in batches if b]


def _answered_status(row: OrderRow, result: PlaceResult) -> tuple[OrderStatus, int | None, str | None]:
    """(status, shares filled if the answer said, note) for a placement the venue answered."""
    if result.error is not None:
        return OrderStatus.REJECTED, None, result.error
    filled = row.filled if result.filled is None else max(row.filled, result.filled)
    take = row.tif in TAKE
    status = from_venue(result.status, size=row.size, filled=filled, take=take)
    note = None
    if take and RANK[status] >= TERMINAL_RANK and filled < row.size:  # FILLED for what traded, or CANCELED
        note = (f"{row.tif.value}: {fmt(filled)} of {fmt(row.size)} shares traded; the venue cancelled the rest"
                if filled else f"{row.tif.value}: nothing traded")
    return status, filled if result.filled is not None else None, note
