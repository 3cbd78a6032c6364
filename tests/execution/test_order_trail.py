"""Every order in the audit trail (`order_trail`, migration 0091): each placement with its intent's
reason and what the risk gate did with it, each replace and cancel with the desk's cause, each
refusal or end the venue decided, and each fill, written in the ledger's own transaction: a row and
its record commit together or not at all."""

from __future__ import annotations

import sqlite3
from dataclasses import replace

import pytest

from contracts import order_end
from contracts.domain import GATE_APPROVED, Intent, Outcome, Side, Tif
from contracts.order_status import OrderStatus
from engine.execution import store
from engine.venues.base import TradeStatus, VenueOrder, VenueOrderStatus
from tests.desk import Desk
from tests.execution.fakes import SH, p
from tests.execution.test_executor import quote, step

TRIMMED = "BUY 20 at 0.49 -> 10 (MAX_ORDER_SIZE)"


def _trail(desk: Desk) -> list[tuple]:
    return desk.rows("SELECT order_id, strategy, event, why, gate, fill_id IS NOT NULL FROM order_trail ORDER BY id")


def test_each_placement_replace_fill_refusal_and_cancel_names_its_order_strategy_and_why(desk: Desk) -> None:
    desk.books.set("Y1", bids=[(0.48, 100)], asks=[(0.52, 100)])
    step(desk, replace(Intent("mm", "c1", (quote(Side.BUY, 0.49, 10),), "quoting"), gate=TRIMMED))
    step(desk, Intent("mm", "c1", (quote(Side.BUY, 0.47, 10),), "quoting"))  # a better price replaces it
    step(desk, Intent("v", "c1", (quote(Side.BUY, 0.52, 5, Tif.FAK),), "edge"))  # takes the ask: a fill
    step(desk, Intent("v", "c1", (quote(Side.BUY, 0.45, 5, Tif.FAK),), "edge"))  # nothing to take: refused
    desk.executor.withdraw(why=order_end.PAUSED)
    step(desk)
    step(desk, Intent("mm", "c1", (quote(Side.BUY, 0.46, 10),), "quoting"))
    desk.run(desk.executor.kill())
    desk.settle()
    refusal = desk.rows("SELECT error FROM orders WHERE id = 4")[0][0]
    assert refusal
    assert _trail(desk) == [
        (1, "mm", "placed", "quoting", TRIMMED, False),
        (1, "mm", "replace", order_end.REPLACED, None, False),
        (2, "mm", "placed", "quoting", GATE_APPROVED, False),
        (3, "v", "placed", "edge", GATE_APPROVED, False),
        (3, "v", "fill", "edge", None, True),
        (4, "v", "placed", "edge", GATE_APPROVED, False),
        (4, "v", "refused", refusal, None, False),
        (2, "mm", "cancel", order_end.PAUSED, None, False),
        (5, "mm", "placed", "quoting", GATE_APPROVED, False),
        (5, "mm", "cancel", order_end.KILLED, None, False),
    ]
    assert desk.rows("SELECT t.fill_id = f.id FROM order_trail t JOIN fills f ON f.order_id = t.order_id "
                     "WHERE t.event = 'fill'") == [(1,)]


def test_an_end_the_venue_decided_says_its_words_and_an_acknowledged_cancel_adds_nothing(desk: Desk) -> None:
    desk.books.set("Y1", bids=[(0.48, 100)], asks=[(0.52, 100)])
    step(desk, Intent("mm", "c1", (quote(Side.BUY, 0.49, 10), quote(Side.SELL, 0.51, 10)), "quoting"))
    first, second = sorted(desk.executor.state.orders.values(), key=lambda o: o.id)
    assert first.venue_order_id is not None
    desk.executor.applier.order_report(VenueOrder(first.venue_order_id, "c1", first.token_id, first.side, first.price,
                                                  first.size, 0, VenueOrderStatus.CANCELED,
                                                  reason="CANCELED_EXPIRED_ORDER"))
    step(desk, Intent("mm", "c1", (), "toxic flow"))  # its cancel acknowledged: one row, the cancel's
    assert [row[:4] for row in _trail(desk)] == [
        (first.id, "mm", "placed", "quoting"),
        (second.id, "mm", "placed", "quoting"),
        (first.id, "mm", "ended", "ended by the venue: CANCELED_EXPIRED_ORDER"),
        (second.id, "mm", "cancel", f"{order_end.WITHDRAWN}: toxic flow"),
    ]
    assert desk.rows(f"SELECT status FROM orders WHERE id = {second.id}") == [(OrderStatus.CANCELED.value,)]


def _write_a_placement_a_cancel_and_a_fill(desk: Desk) -> None:
    with desk.executor.tx() as conn:
        row = store.insert_order(conn, client_id="c-1", venue_order_id="v-1", mode="paper", strategy="mm",
                                 condition_id="c1", token_id="Y1", outcome=Outcome.YES, side=Side.BUY, price=p(0.49),
                                 size=10 * SH, tif=Tif.GTC, post_only=False, payload=None, reason="quoting",
                                 now=desk.clock(), status=OrderStatus.LIVE, gate=GATE_APPROVED)
        store.upsert_fill(conn, store.FillWrite("t-1", row, p(0.49), 4 * SH, 0, "MAKER", TradeStatus.MATCHED,
                                                desk.clock()), desk.clock())
        store.advance_row(conn, row.id, OrderStatus.CANCEL_PENDING, desk.clock(), end_reason=order_end.REPLACED)
        seen = conn.exec_driver_sql("SELECT event FROM order_trail ORDER BY id").scalars().all()
        assert seen == ["placed", "fill", "replace"]  # in this transaction, before it commits
        raise RuntimeError("the engine dies before the commit")


def test_a_rolled_back_write_leaves_neither_the_ledger_rows_nor_their_trail(desk: Desk) -> None:
    with pytest.raises(RuntimeError):
        _write_a_placement_a_cancel_and_a_fill(desk)
    assert desk.rows("SELECT (SELECT COUNT(*) FROM orders), (SELECT COUNT(*) FROM fills), "
                     "(SELECT COUNT(*) FROM order_trail)") == [(0, 0, 0)]


def test_an_order_whose_trail_cannot_be_written_is_not_written_either(desk: Desk) -> None:
    desk.books.set("Y1", bids=[(0.48, 100)], asks=[(0.52, 100)])
    with desk.db.write() as conn:  # the trail's write fails (as a full disk would fail it)
        conn.exec_driver_sql("CREATE TRIGGER trail_fails BEFORE INSERT ON order_trail "
                             "BEGIN SELECT RAISE(ABORT, 'the trail cannot be written'); END")
    with pytest.raises(sqlite3.IntegrityError, match="the trail cannot be written"):
        step(desk, Intent("mm", "c1", (quote(Side.BUY, 0.49, 10),), "quoting"))
    assert desk.rows("SELECT COUNT(*) FROM orders") == [(0,)]
