"""Positions kept up fill by fill equal positions refolded from all their fills.

The executor steps a position by one fill when it can (a new latest fill, a status move
between non-failed statuses) and refolds it otherwise. Whatever order the venue reports
arrive in (late fills, ties, duplicates, ghosts), the stored position must be exactly the
fold of its fills in match order, as recovery would rebuild it."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from contracts.domain import Outcome, Side, Tif
from engine.execution import store
from engine.execution.ledger import FillFact, PositionTotals, fold
from engine.venues.base import TradeEvent, TradeStatus, VenueTrade
from tests.desk import Desk, make_desk
from tests.execution.fakes import SH, p

PROGRESS = (TradeStatus.MATCHED, TradeStatus.MINED, TradeStatus.CONFIRMED)


def _desk(path: Path) -> Desk:
    desk = make_desk(path)
    with desk.db.write() as conn:
        for vid, side in (("vb", Side.BUY), ("vs", Side.SELL)):
            row = store.insert_order(conn, client_id=f"c-{vid}", venue_order_id=vid, mode="paper", strategy="s",
                                     condition_id="c1", token_id="Y1", outcome=Outcome.YES, side=side,
                                     price=p(0.5), size=10_000 * SH, tif=Tif.GTC, post_only=False, payload=None,
                                     reason=None, now=1)
            desk.executor.state.track(row)
    return desk


def _reports(rng: random.Random, trades: int) -> list[TradeEvent]:
    """Status reports of `trades` fills at scattered match times (ties included), some of them
    ghosts, each fill's reports in order but interleaved with the others' and duplicated."""
    ledgers = []
    for i in range(trades):
        side = Side.BUY if rng.random() < 0.6 else Side.SELL
        at = rng.randrange(0, trades * 3)  # late fills and equal match times both happen
        price, size, fee = p(rng.randrange(5, 96) / 100), rng.randrange(1, 40) * SH, rng.randrange(0, 3) * 1000
        statuses = PROGRESS[:rng.randrange(1, 4)]
        if rng.random() < 0.15:
            statuses = (TradeStatus.MATCHED, TradeStatus.FAILED)
        ledgers.append([TradeEvent(VenueTrade(f"t{i:03d}", "vb" if side is Side.BUY else "vs", "c1", "Y1", side, price,
                                            size, fee, status, "MAKER", at)) for status in statuses])
    reports: list[TradeEvent] = []
    while any(ledgers):
        ledger = rng.choice([ledger for ledger in ledgers if ledger])
        reports.append(ledger[0])
        if rng.random() < 0.8:
            ledger.pop(0)
    return reports


def _refolded(desk: Desk) -> PositionTotals:
    rows = desk.rows("SELECT side, price, size, fee, status FROM fills ORDER BY matched_at, trade_id")
    return fold(FillFact(Side(s), pr, sz, fee, TradeStatus(st)) for s, pr, sz, fee, st in rows)


def _stored(desk: Desk) -> PositionTotals:
    rows = desk.rows("SELECT settled, pending, cost, realized, fees FROM positions WHERE token_id = 'Y1'")
    return PositionTotals(*rows[0])


@pytest.mark.parametrize("seed", range(6))
def test_a_position_kept_fill_by_fill_is_the_fold_of_its_fills(tmp_path: Path, seed: int) -> None:
    desk = _desk(tmp_path / "d.db")
    rng = random.Random(seed)
    for report in _reports(rng, 40):
        desk.executor.applier.apply(report)
        assert _stored(desk) == _refolded(desk), report
        assert desk.executor.state.totals("s", "Y1") == _stored(desk)


def test_a_late_fill_refolds_the_position_at_its_place_in_match_order(tmp_path: Path) -> None:
    desk = _desk(tmp_path / "d.db")

    def fill(tid: str, side: Side, price: float, size: int, at: int) -> TradeEvent:
        return TradeEvent(VenueTrade(tid, "vb" if side is Side.BUY else "vs", "c1", "Y1", side, p(price),
                                     size * SH, 0, TradeStatus.MATCHED, "MAKER", at))

    desk.executor.applier.apply(fill("t1", Side.BUY, 0.40, 10, 100))
    desk.executor.applier.apply(fill("t3", Side.SELL, 0.60, 10, 300))
    # A buy matched between the two, reported last: the sell closed 10 of 20 shares at the
    # average cost of both buys (0.50), not all of the first buy's shares at 0.40.
    desk.executor.applier.apply(fill("t2", Side.BUY, 0.60, 10, 200))
    totals = _stored(desk)
    assert (totals.size, totals.cost, totals.realized) == (10 * SH, 5 * SH, 1 * SH)


def test_a_status_report_moves_the_shares_the_fill_was_stored_with(tmp_path: Path) -> None:
    desk = _desk(tmp_path / "d.db")

    def report(size: int, status: TradeStatus) -> TradeEvent:
        return TradeEvent(VenueTrade("t1", "vb", "c1", "Y1", Side.BUY, p(0.40), size * SH, 0, status, "MAKER", 100))

    desk.executor.applier.apply(report(10, TradeStatus.MATCHED))
    desk.executor.applier.apply(report(12, TradeStatus.MINED))  # a settlement report that disagrees on size
    assert _stored(desk) == _refolded(desk)
    assert (_stored(desk).settled, _stored(desk).pending) == (10 * SH, 0)


def test_a_ghost_report_reverses_the_cash_the_fill_was_stored_with(tmp_path: Path) -> None:
    desk = _desk(tmp_path / "d.db")
    cash_before = desk.executor.state.cash

    def report(size: int, status: TradeStatus) -> TradeEvent:
        return TradeEvent(VenueTrade("t1", "vb", "c1", "Y1", Side.BUY, p(0.40), size * SH, 0, status, "MAKER", 100))

    desk.executor.applier.apply(report(10, TradeStatus.MATCHED))
    desk.executor.applier.apply(report(12, TradeStatus.FAILED))
    assert desk.executor.state.cash == cash_before  # 10 shares paid, 10 shares refunded
    with desk.db.read() as conn:
        assert store.cash(conn, "paper") == cash_before
