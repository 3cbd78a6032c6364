"""Valuation and exposure on a paper desk: the snapshot's exposure is the risk gate's figure."""

from __future__ import annotations

from contracts.domain import Intent, Quote, Side, Tif
from engine.execution import portfolio
from tests.desk import Desk
from tests.execution.fakes import SH, p


def test_valuation_exposure_is_the_risk_exposure_total(desk: Desk) -> None:
    desk.books.set("Y1", bids=[(0.38, 100)], asks=[(0.40, 100)])
    desk.executor.set_intents([Intent("s", "c1", (Quote(Side.BUY, p(0.40), 10 * SH, Tif.FAK),))])
    desk.run(desk.executor.reconcile())
    desk.settle()
    desk.executor.set_intents([Intent("s", "c1", (Quote(Side.BUY, p(0.30), 10 * SH),))])
    desk.run(desk.executor.reconcile())
    desk.settle()
    state = desk.executor.state
    risk = portfolio.exposure(state, desk.catalog)
    # 10 held at 0.40 (cost 4) and an open BUY of 10 at 0.30 (3).
    assert risk.total == 7 * SH
    assert risk.by_market == {"c1": 7 * SH}
    assert risk.own_orders == {("s", "c1"): 3 * SH}
    assert portfolio.value(state, desk.books.book).exposure == risk.total
