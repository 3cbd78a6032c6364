"""A GTD order's expiry is stored on its row (issue 27: `orders.expires_at` stayed NULL), in
epoch milliseconds like every other time in the database; every other order keeps NULL."""

from __future__ import annotations

from dataclasses import replace

from contracts.domain import Intent, Quote, Side, Tif
from tests.desk import Desk
from tests.execution.fakes import SH, p


def _step(desk: Desk, *intents: Intent) -> None:
    desk.executor.set_intents(intents)
    desk.run(desk.executor.reconcile())
    desk.settle()


def test_a_gtd_order_row_carries_its_expiry_and_a_gtc_none(desk: Desk) -> None:
    desk.books.set("Y1", bids=[(0.40, 100)], asks=[(0.60, 100)])
    expires_s = desk.clock() // 1000 + 900
    gtd = replace(Quote(Side.BUY, p(0.45), 10 * SH, Tif.GTD), expires_at_s=expires_s)
    _step(desk, Intent("s", "c1", (gtd, Quote(Side.SELL, p(0.55), 10 * SH, Tif.GTC))))
    rows = desk.rows("SELECT tif, token_id, side, status, expires_at FROM orders ORDER BY tif")
    assert rows == [("GTC", "N1", "BUY", "LIVE", None), ("GTD", "Y1", "BUY", "LIVE", expires_s * 1000)]
