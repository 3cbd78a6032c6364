"""Each order's row says why it ended (orders.end_reason, contracts/order_end.py): the executor
records the desk's cause with the cancel it sends, and the venue's ends are read from the status."""

from __future__ import annotations

from contracts import order_end
from contracts.domain import Intent, Side, Tif
from tests.desk import Desk
from tests.execution.test_executor import quote, step


def _ends(desk: Desk) -> list[str]:
    rows = desk.rows("SELECT status, end_reason, error, tif, filled, size FROM orders ORDER BY id")
    return [order_end.shown(*row) for row in rows]


def test_a_replace_a_pause_a_kill_and_a_fill_each_say_so(desk: Desk) -> None:
    desk.books.set("Y1", bids=[(0.48, 100)], asks=[(0.52, 100)])
    step(desk, Intent("mm", "c1", (quote(Side.BUY, 0.49, 10),), "quoting"))
    step(desk, Intent("mm", "c1", (quote(Side.BUY, 0.47, 10),), "quoting"))  # a better price replaces it
    desk.executor.withdraw(why=order_end.PAUSED)
    step(desk)
    step(desk, Intent("mm", "c1", (quote(Side.BUY, 0.46, 10),), "quoting"))
    desk.run(desk.executor.kill())
    desk.settle()
    step(desk, Intent("v", "c1", (quote(Side.BUY, 0.52, 5, Tif.FAK),), "edge"))
    assert _ends(desk) == [order_end.REPLACED, order_end.PAUSED, order_end.KILLED, order_end.FILLED]


def test_a_strategy_s_own_withdrawal_keeps_its_words_and_a_protection_names_itself(desk: Desk) -> None:
    desk.books.set("Y1", bids=[(0.48, 100)], asks=[(0.52, 100)])
    step(desk, Intent("mm", "c1", (quote(Side.BUY, 0.49, 10),), "quoting"))
    step(desk, Intent("mm", "c1", (), "toxic flow: quotes pulled"))
    step(desk, Intent("mm", "c1", (quote(Side.BUY, 0.49, 10),), "quoting"))
    step(desk, Intent("mm", "c1", (), order_end.because(order_end.PROTECTION, "STALE_DATA")))
    assert _ends(desk) == [f"{order_end.WITHDRAWN}: toxic flow: quotes pulled", f"{order_end.PROTECTION}: STALE_DATA"]


def test_venue_ends_read_from_the_status() -> None:
    shown = order_end.shown
    assert shown("REJECTED", None, "not enough balance", "GTC", 0, 10) == f"{order_end.REFUSED}: not enough balance"
    assert shown("CANCELED", None, "ended by the venue: CANCELED_EXPIRED_ORDER", "GTD", 0, 10) == "expired"
    assert shown("CANCELED", None, None, "FAK", 0, 10) == order_end.TAKE_REST
    assert shown("FILLED", order_end.REPLACED, None, "GTC", 10, 10) == order_end.FILLED  # filled before the cancel
    assert shown("CANCELED", order_end.EXITED, None, "GTC", 4, 10) == f"{order_end.EXITED} (partly filled)"
    assert shown("LIVE", None, None, "GTC", 0, 10) == ""
    assert shown("CANCEL_PENDING", order_end.PAUSED, None, "GTC", 0, 10) == "ending (paused)"

