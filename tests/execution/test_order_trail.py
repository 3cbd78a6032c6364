"""Every order in the audit trail (storage/dashboard_queries/order_trail_queries.py, migration 0091): each
placement with its intent's reason and what the risk gate did with it, each replace and cancel with the
desk's cause and when it was sent, each refusal or end the venue decided, and each fill, read from the
ledger's own rows: a step and the ledger write it records are one write, in one transaction, or none."""

from __future__ import annotations

from dataclasses import replace

import pandas as pd
import pytest

from contracts import order_end
from contracts.domain import GATE_APPROVED, Intent, Outcome, Side, Tif
from contracts.order_status import OrderStatus
from engine.execution import store
from engine.venues.base import TradeStatus, VenueOrder, VenueOrderStatus
from storage.dashboard_queries.order_trail_queries import TrailFilter, count, trail
from tests.desk import Desk
from tests.execution.fakes import SH, p
from tests.execution.test_executor import quote, step

TRIMMED = "BUY 20 at 0.49 -> 10 (MAX_ORDER_SIZE)"


def _trail(desk: Desk, **spec: object) -> list[tuple]:
    """Oldest first: (order, strategy, event, why, gate, a fill's size), None for what a step has not."""
    steps = trail(desk.db, TrailFilter(**spec))  # type: ignore[arg-type]  # the filter's own fields
    return [(int(r.order_id), r.strategy, r.event, r.why, _given(r.gate), _given(r.fill_size))
            for r in steps.itertuples()][::-1]


def _given(value: object) -> object:
    return None if pd.isna(value) else value


def test_each_placement_replace_fill_refusal_and_cancel_names_its_order_strategy_and_why(desk: Desk) -> None:
    desk.books.set("Y1", bids=[(0.48, 100)], asks=[(0.52, 100)])
    step(desk, replace(Intent("mm", "c1", (quote(Side.BUY, 0.49, 10),), "quoting"), gate=TRIMMED))
    desk.clock.advance(1)
    step(desk, Intent("mm", "c1", (quote(Side.BUY, 0.47, 10),), "quoting"))  # a better price replaces it
    desk.clock.advance(1)
    step(desk, Intent("v", "c1", (quote(Side.BUY, 0.52, 5, Tif.FAK),), "edge"))  # takes the ask: a fill
    desk.clock.advance(1)
    step(desk, Intent("v", "c1", (quote(Side.BUY, 0.45, 5, Tif.FAK),), "edge"))  # nothing to take: refused
    desk.clock.advance(1)
    desk.executor.withdraw(why=order_end.PAUSED)
    step(desk)
    desk.clock.advance(1)
    step(desk, Intent("mm", "c1", (quote(Side.BUY, 0.46, 10),), "quoting"))
    desk.clock.advance(1)
    desk.run(desk.executor.kill())
    desk.settle()
    refusal = desk.rows("SELECT error FROM orders WHERE id = 4")[0][0]
    assert refusal
    assert _trail(desk) == [
        (1, "mm", "placed", "quoting", TRIMMED, None),
        (1, "mm", "replaced", order_end.REPLACED, None, None),
        (2, "mm", "placed", "quoting", GATE_APPROVED, None),
        (3, "v", "placed", "edge", GATE_APPROVED, None),
        (3, "v", "filled", "edge", None, 5.0),
        (4, "v", "placed", "edge", GATE_APPROVED, None),
        (4, "v", "refused by the venue", refusal, None, None),
        (2, "mm", "cancel sent", order_end.PAUSED, None, None),
        (5, "mm", "placed", "quoting", GATE_APPROVED, None),
        (5, "mm", "cancel sent", order_end.KILLED, None, None),
    ]
    assert count(desk.db, TrailFilter()) == 10
    assert [s[:3] for s in _trail(desk, strategy="v", order_id=3)] == [(3, "v", "placed"), (3, "v", "filled")]
    assert _trail(desk, strategy="v", condition_id="c2") == [] and count(desk.db, TrailFilter(mode="live")) == 0


def test_an_end_the_venue_decided_says_its_words_and_an_acknowledged_cancel_adds_nothing(desk: Desk) -> None:
    desk.books.set("Y1", bids=[(0.48, 100)], asks=[(0.52, 100)])
    step(desk, Intent("mm", "c1", (quote(Side.BUY, 0.49, 10), quote(Side.SELL, 0.51, 10)), "quoting"))
    first, second = sorted(desk.executor.state.orders.values(), key=lambda o: o.id)
    assert first.venue_order_id is not None
    desk.clock.advance(1)
    desk.executor.applier.order_report(VenueOrder(first.venue_order_id, "c1", first.token_id, first.side, first.price,
                                                  first.size, 0, VenueOrderStatus.CANCELED,
                                                  reason="CANCELED_EXPIRED_ORDER"))
    desk.clock.advance(1)
    step(desk, Intent("mm", "c1", (), "toxic flow"))  # its cancel acknowledged: one step, the cancel's
    assert [row[:4] for row in _trail(desk)] == [
        (first.id, "mm", "placed", "quoting"),
        (second.id, "mm", "placed", "quoting"),
        (first.id, "mm", "ended by the venue", "ended by the venue: CANCELED_EXPIRED_ORDER"),
        (second.id, "mm", "cancel sent", f"{order_end.WITHDRAWN}: toxic flow"),
    ]
    assert desk.rows(f"SELECT status FROM orders WHERE id = {second.id}") == [(OrderStatus.CANCELED.value,)]


def test_a_cancel_and_its_time_are_one_write_and_a_rolled_back_one_leaves_no_step(desk: Desk) -> None:
    with desk.executor.tx() as conn:
        row = store.insert_order(conn, client_id="c-1", venue_order_id="v-1", mode="paper", strategy="mm",
                                 condition_id="c1", token_id="Y1", outcome=Outcome.YES, side=Side.BUY, price=p(0.49),
                                 size=10 * SH, tif=Tif.GTC, post_only=False, payload=None, reason="quoting",
                                 now=desk.clock(), status=OrderStatus.LIVE, gate=GATE_APPROVED)
    desk.clock.advance(5)
    with pytest.raises(RuntimeError), desk.executor.tx() as conn:
        store.upsert_fill(conn, store.FillWrite("t-1", row, p(0.49), 4 * SH, 0, "MAKER", TradeStatus.MATCHED,
                                                desk.clock()), desk.clock())
        store.advance_row(conn, row.id, OrderStatus.CANCEL_PENDING, desk.clock(), end_reason=order_end.REPLACED)
        raise RuntimeError("the engine dies before the commit")
    assert [s[2] for s in _trail(desk)] == ["placed"]  # neither the fill nor the cancel, nor their steps
    with desk.executor.tx() as conn:
        store.advance_row(conn, row.id, OrderStatus.CANCEL_PENDING, desk.clock(), end_reason=order_end.REPLACED)
    assert desk.rows("SELECT end_reason, ending_at - created_at FROM orders") == [(order_end.REPLACED, 5)]
    assert [s[2] for s in _trail(desk)] == ["placed", "replaced"]
