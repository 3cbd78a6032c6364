"""Recovery is start-up: reconcile everything local with the venue before trading.

1. Every non-terminal local order is looked up by its venue id and brought up to date.
   A PENDING_SUBMIT order the venue does not know is given a grace period (its request may
   still be in flight), then marked LOST with an alert. It is never resubmitted.
2. Trades since the oldest open order (and the last known fill) are fetched and applied,
   so a fill that arrived while the engine was down, or just before it died, is not lost.
3. Open orders at the venue that are unknown locally are imported, flagged, and alerted.
4. Positions are recomputed from fills (those in markets the catalog knows resolved settled first,
   with the claims their payment pays), and the caller's `settle_resolutions` books what the venue
   settled, voided or netted by itself meanwhile. Live: positions are compared with the venue's
   token balances; holding less than the ledger says is a mismatch (HALTED + alert), but a
   sell still settling on chain is not (see `balance_mismatches`).
5. What the venue paid while the engine was away (redemptions, merges, maker rebates) is
   booked first (engine/execution/credits.py), then live: the ledger's cash is brought to the
   wallet's collateral, so equity (and with it every drawdown limit) is measured on the money
   really there, not on P&L alone. The first time it is a deposit; after that a difference is
   a deposit or withdrawal made outside the engine between runs, booked as an adjustment with
   an alert. Redeemable claims are not cash on either side (the wallet holds their shares, the
   ledger owes them as claims), so they play no part. Skipped while fills are pending (the
   chain has not settled them, so the wallet lags the ledger), the token balances disagree, or
   the venue's credits could not be read.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from contracts.domain import ONE
from contracts.order_status import OrderStatus
from contracts.venues import CASH_HELD_IN, CASH_UNIT
from engine.execution import store
from engine.execution.credits import book_venue_credits
from engine.execution.executor import Executor
from engine.venues.base import Balances, VenueError
from engine.venues.settlement import SettlementVenue
from storage.desk.audit import raise_alert
from storage.engine_stores import claims_store, execution_ledger

log = logging.getLogger("engine.recovery")
TRADE_LOOKBACK_MS = 10 * 60_000
DUST = 10_000  # 0.01 share


@dataclass
class RecoveryReport:
    checked: int = 0
    updated: int = 0
    lost: int = 0
    gone: int = 0  # acknowledged orders the venue no longer has: closed (it forgets finished orders)
    imported: int = 0
    trades_seen: int = 0
    mismatches: list[str] = field(default_factory=list)
    cash_flow: int = 0  # live: micro-pUSD the cash sync booked (money moved in or out of the wallet)
    credits: int = 0  # what the venue paid (redemptions, merges, rebates) booked at start-up, micro-pUSD


async def recover(ex: Executor, settlement: SettlementVenue | None = None, *,
                  settle_resolutions: Callable[[], Awaitable[Any]] | None = None) -> RecoveryReport:
    """Reconcile a started executor (`Executor.start` loaded its state) with the venue; with
    `settlement`, what the venue paid while the engine was away is booked first.
    `settle_resolutions` settles the markets that resolved while it was away, before those
    payments are booked: a redemption the venue's operator paid meanwhile then pays the claim
    its resolution wrote, once, rather than arriving as cash nobody was owed beside a claim
    still open (the money twice) and shares the wallet no longer holds."""
    report = RecoveryReport()
    unknown_pending = await _check_local_orders(ex, report)
    await _replay_trades(ex, report)
    await _import_unknown(ex, report)
    if unknown_pending:
        await _settle_pending(ex, unknown_pending, report)
    _settle_known_resolutions(ex)
    _recompute_positions(ex)
    if settle_resolutions is not None:
        await settle_resolutions()
    credits_read = await _book_credits(ex, settlement, report)
    if ex.mode == "live":
        report.mismatches, report.cash_flow = await sync_live_balances(ex, book_cash=credits_read)
        if not credits_read:
            log.warning("live cash not synced with the venue: what it paid (redemptions, rebates) could not be read")
    log.info("recovered", extra={"report": report.__dict__})
    return report


async def sync_live_balances(ex: Executor, *, book_cash: bool = True) -> tuple[list[str], int]:
    """The wallet against the ledger (steps 4 and 5): the token mismatches, and the cash the sync
    booked (none without `book_cash`: what the venue paid could not be read, so a difference
    would be booked as a deposit that is really a payment). At start-up, and when an operator's
    Start clears a balance halt while running."""
    balances = await ex.venue.balances(held_tokens(ex))
    mismatches = balance_mismatches(ex, balances)
    return mismatches, (_sync_cash(ex, balances, mismatches) if book_cash else 0)


async def _check_local_orders(ex: Executor, report: RecoveryReport) -> list[store.OrderRow]:
    unknown_pending = []
    for order in list(ex.state.orders.values()):
        report.checked += 1
        found = await ex.venue.get_order(order.venue_order_id) if order.venue_order_id else None
        if found is not None:
            ex.applier.order_report(found)
            report.updated += 1
        elif order.status is OrderStatus.PENDING_SUBMIT:
            unknown_pending.append(order)
        else:  # acknowledged, so it reached the venue: it ended while we were away (finished orders are forgotten)
            ex.close_gone(order, "the venue no longer has it: it ended while the engine was away")
            report.gone += 1
    return unknown_pending


async def _replay_trades(ex: Executor, report: RecoveryReport) -> None:
    with ex.db.read() as conn:
        last_fill = execution_ledger.last_fill_at(conn, ex.mode, ex.venue_name)
    starts = [o.created_at for o in ex.state.orders.values()]
    if last_fill is not None:
        starts.append(last_fill)
    after = (min(starts) if starts else ex.clock()) - TRADE_LOOKBACK_MS
    for trade in await ex.venue.trades(after_ms=after):
        ex.applier.trade_report(trade)
        report.trades_seen += 1
    await ex.settle_lookups()


async def _import_unknown(ex: Executor, report: RecoveryReport) -> None:
    for venue_order in await ex.venue.open_orders():
        if venue_order.venue_order_id in ex.state.by_venue:
            continue
        with ex.db.read() as conn:
            known = store.order_by_venue_id(conn, ex.mode, venue_order.venue_order_id, ex.venue_name)
        ex.applier.order_report(venue_order)
        if known is None:
            report.imported += 1


async def _settle_pending(ex: Executor, pending: list[store.OrderRow], report: RecoveryReport) -> None:
    """Wait out the grace period of the youngest unknown order, look again, then give up."""
    youngest = max(o.created_at for o in pending)
    wait_ms = youngest + ex.config.lost_grace_ms - ex.clock()
    if wait_ms > 0:
        await asyncio.sleep(wait_ms / 1000)
    for order in pending:
        try:
            found = await ex.venue.get_order(order.venue_order_id) if order.venue_order_id else None
        except VenueError as exc:
            log.warning("lookup failed during recovery", extra={"error": str(exc)})
            continue
        if found is not None:
            ex.applier.order_report(found)
            report.updated += 1
        else:
            ex.mark_lost(order, "the engine stopped before the venue acknowledged it, and the venue has no "
                                "such order after the grace period")
            report.lost += 1


async def _book_credits(ex: Executor, settlement: SettlementVenue | None, report: RecoveryReport) -> bool:
    """Whether the venue's credits were read (a sync without them would book them as a deposit)."""
    if settlement is None:
        return True
    try:
        report.credits = sum(b.booking.amount for b in await book_venue_credits(ex, settlement))
    except VenueError as exc:
        log.warning("the venue's credits could not be read at start-up", extra={"error": str(exc)})
        return False
    return True


def _settle_known_resolutions(ex: Executor) -> None:
    """Positions held in markets the catalog knows resolved, settled at their payouts (the claims the
    venue's payment pays), right before the positions are refolded: the refold closes a position at a
    known payout without writing its claim, so a resolution heard while this ledger was away, or a crash
    between recording a resolution and settling it, would leave the payment owed to nobody (booked as
    unclaimed cash) and, on a venue that pays by itself, the ledger holding contracts the venue no longer
    does. Settling twice changes nothing."""
    state = ex.state
    held = sorted({cid for key, (cid, _) in state.position_market.items() if state.totals(*key).size > 0})
    for condition_id in held:
        payouts = ex.catalog.resolution(condition_id)
        if payouts is not None:
            ex.applier.settle_market(condition_id, payouts)


def _recompute_positions(ex: Executor) -> None:
    now = ex.clock()
    with ex.db.write() as conn:
        for strategy, token, condition_id, outcome in store.position_keys_from_fills(conn, ex.mode, ex.venue_name):
            store.recompute_position(conn, mode=ex.mode, strategy=strategy, token_id=token, condition_id=condition_id,
                                     outcome=outcome, payout=ex.catalog.payout(condition_id, outcome), now=now)
        ex.state.load_positions(conn)  # orders are unchanged: recomputing touches positions only


def held_tokens(ex: Executor) -> list[str]:
    return sorted({token for _, token in ex.state.positions})


def balance_mismatches(ex: Executor, balances: Balances) -> list[str]:
    """Tokens the venue holds fewer of than the ledger must have there. Settlement in flight
    is not a mismatch: a SELL matched but not yet mined has left the venue's balance while the
    ledger still counts it settled (its shares are pending, negative), and a BUY not yet mined
    may or may not be in the balance, so the ledger's floor is settled shares less pending sells."""
    floor: dict[str, int] = {}
    settling = {token for (_, token), (cid, _) in ex.state.position_market.items()
                if cid in balances.settled} if balances.settled else set()
    for (_, token), totals in ex.state.positions.items():
        if token in settling:  # the venue settled its market: paid, not missing (booked when the ledger hears)
            continue
        floor[token] = floor.get(token, 0) + totals.settled + min(0, totals.pending)
    problems = []
    for token, ours in floor.items():
        theirs = balances.tokens.get(token, 0)
        if theirs + DUST < ours:
            problems.append(f"token {token}: the ledger holds at least {ours / 1e6:.2f} shares, the venue "
                            f"{theirs / 1e6:.2f}")
    return problems


def _sync_cash(ex: Executor, balances: Balances, mismatches: list[str]) -> int:
    """Book the difference between the wallet's collateral and the ledger's cash (step 5);
    returns the amount booked."""
    if mismatches:
        log.warning("live cash not synced with the venue: its token balances disagree with the ledger")
        return 0
    if not balances.collateral_exact:
        log.info("live cash not synced with the venue: its balance leaves out what resting orders hold back")
        return 0
    target = wallet_cash(ex, balances)
    now = ex.clock()
    with ex.tx() as conn:
        pending = execution_ledger.pending_fill_count(conn, ex.mode, ex.venue_name)
        if pending:
            log.info("live cash not synced with the venue: fills are still pending on-chain",
                     extra={"pending_fills": pending})
            return 0
        flying = claims_store.open_txs(conn, ex.mode, ex.venue_name)
        if flying:  # the wallet may hold its payment before the venue lists it: that is booked as the payment
            log.info("live cash not synced with the venue: a redemption or merge is on its way",
                     extra={"transactions": [tx.id for tx in flying]})
            return 0
        flow = target - store.cash(conn, ex.mode, ex.venue_name)
        held, unit = CASH_HELD_IN[ex.venue_name], CASH_UNIT[ex.venue_name]
        if execution_ledger.add_cash_entry(conn, mode=ex.mode, kind="deposit", ref="initial", amount=flow, now=now,
                                           note="the wallet's collateral when live trading first started",
                                           venue=ex.venue_name):
            message = f"live cash starts at {held}: {target / 1e6:.2f} {unit}"
        elif flow and execution_ledger.add_cash_entry(conn, mode=ex.mode, kind="adjustment",
                                                      ref=f"balance-sync-{now}", amount=flow, now=now,
                                                      note="wallet collateral differed at start-up",
                                                      venue=ex.venue_name):
            message = (f"{held} differs from the ledger by {flow / 1e6:+.2f} {unit} (a deposit or "
                       f"withdrawal since the last run): live cash adjusted to {target / 1e6:.2f} {unit}")
        else:
            return 0
        raise_alert(conn, level="info", source="engine", code="CASH_SYNC", message=message)
    ex.state.cash += flow
    log.info("live cash synced with the venue", extra={"amount": flow, "cash": target})
    return flow


def wallet_cash(ex: Executor, balances: Balances) -> int:
    """What the ledger's cash should be, read from the wallet: its collateral plus the winnings
    the ledger paid out that the wallet has not redeemed yet."""
    return balances.collateral + _unredeemed_winnings(ex, balances)


def _unredeemed_winnings(ex: Executor, balances: Balances) -> int:
    """Winning shares still in the wallet of markets whose payout an older version of the desk
    booked as cash at resolution ('settlement' entries): that cash arrives only when they are
    redeemed. Resolutions since are redeemable claims, never cash, so they are not counted."""
    with ex.db.read() as conn:
        legacy = execution_ledger.legacy_settlement_markets(conn, ex.mode, ex.venue_name)
    markets = {token: market for (_, token), market in ex.state.position_market.items()}
    return sum(balances.tokens.get(token, 0) * (ex.catalog.payout(condition_id, outcome) or 0) // ONE
               for token, (condition_id, outcome) in markets.items() if condition_id in legacy)
