"""A venue fill reaches the ledger in the fewest statements its crash-safety contract allows
(docs/module-map.md, "One fill, step by step", step 4): one per row it changes, all from one call
down from the executor, no read. The executor's mirror is what spares the reads, and it can never
make a wrong row: each write compares it with the table, and a mirror out of step costs a read."""

from __future__ import annotations

import inspect
import random
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from contracts.domain import Outcome, Side, Tif
from contracts.order_status import OrderStatus
from contracts.venue_rules import LOT
from engine.execution import store
from engine.execution.ledger import FillFact, PositionTotals, fold
from engine.venues.base import OrderEvent, TradeEvent, TradeStatus, VenueOrder, VenueOrderStatus, VenueTrade
from storage.engine_stores import execution_ledger
from tests.desk import Desk, make_desk
from tests.execution.fakes import SH, p

SIZE = 100 * SH


@pytest.fixture
def desk(tmp_path: Path) -> Desk:
    desk = make_desk(tmp_path / "d.db")
    with desk.db.write() as conn:
        for vid, side in (("vb", Side.BUY), ("vs", Side.SELL)):
            row = store.insert_order(conn, client_id=f"c-{vid}", venue_order_id=vid, mode="paper", strategy="s",
                                     condition_id="c1", token_id="Y1", outcome=Outcome.YES, side=side,
                                     price=p(0.5), size=SIZE, tif=Tif.GTC, post_only=False, payload=None,
                                     reason=None, now=1, status=OrderStatus.LIVE)
            desk.executor.state.track(row)
    return desk


def trade(tid: str, status: TradeStatus = TradeStatus.MATCHED, *, size: int = 10 * SH, at: int = 100,
          side: Side = Side.BUY, price: float = 0.40) -> TradeEvent:
    return TradeEvent(VenueTrade(tid, "vb" if side is Side.BUY else "vs", "c1", "Y1", side, p(price), size, 1000,
                                 status, "MAKER", at))


def down(calls: list[str], expected: list[str]) -> bool:
    """The calls into the ledger's statements were `expected`."""
    return calls == expected


@contextmanager
def traced(desk: Desk) -> Iterator[tuple[list[str], list[str]]]:
    """In one of the executor's transactions (as the inbox applies a batch): the statements run, by
    their first words (a trigger's echo of its statement counted once), and the calls made into
    storage/engine_stores/execution_ledger.py."""
    statements: list[str] = []
    calls: list[str] = []
    saved = {name: real for name, real in vars(execution_ledger).items()
             if inspect.isfunction(real) and real.__module__ == execution_ledger.__name__}

    def counted(name: str, real: Callable[..., Any]) -> Callable[..., Any]:
        def call(*args: Any, **kwargs: Any) -> Any:
            if sys._getframe(1).f_globals["__name__"] != execution_ledger.__name__:  # a call down, not within
                calls.append(name)
            return real(*args, **kwargs)
        return call

    def seen(sql: str) -> None:
        if not statements or statements[-1] != sql:
            statements.append(sql)

    with desk.executor.transactions.tx() as conn:
        raw = conn.connection.driver_connection
        raw.set_trace_callback(seen)
        for name, real in saved.items():
            setattr(execution_ledger, name, counted(name, real))
        words: list[str] = []
        try:
            yield words, calls
        finally:
            for name, real in saved.items():
                setattr(execution_ledger, name, real)
            raw.set_trace_callback(None)
            words.extend(" ".join(sql.split()[:3]) for sql in statements)


def stored(desk: Desk) -> PositionTotals:
    rows = desk.rows("SELECT settled, pending, cost, realized, fees FROM positions WHERE token_id = 'Y1'")
    return PositionTotals(*rows[0])


def refolded(desk: Desk) -> PositionTotals:
    rows = desk.rows("SELECT side, price, size, fee, status FROM fills ORDER BY matched_at, trade_id")
    return fold(FillFact(Side(s), pr, sz, fee, TradeStatus(st)) for s, pr, sz, fee, st in rows)


def in_step(desk: Desk) -> bool:
    """The stored position is the fold of its fills, and the mirror holds it."""
    return stored(desk) == refolded(desk) == desk.executor.state.totals("s", "Y1")


def test_a_new_fill_is_a_statement_per_row_it_changes_in_one_call_down(desk: Desk) -> None:
    desk.executor.applier.apply(trade("t0", at=50))  # the position has a row, as it does after its first fill
    with traced(desk) as (statements, calls):
        desk.executor.applier.apply(trade("t1"))
    assert statements == ["INSERT INTO fills", "UPDATE orders SET", "INSERT INTO positions"]
    assert down(calls, ["write_new_fill"])
    assert desk.rows("SELECT status, filled FROM orders WHERE venue_order_id = 'vb'") == [("PARTIALLY_FILLED",
                                                                                         20 * SH)]
    assert in_step(desk) and stored(desk).pending == 20 * SH


def test_the_first_fill_of_a_position_is_the_same_three(desk: Desk) -> None:
    with traced(desk) as (statements, calls):
        desk.executor.applier.apply(trade("t1"))
    assert statements == ["INSERT INTO fills", "UPDATE orders SET", "INSERT INTO positions"]
    assert down(calls, ["write_new_fill"])
    assert in_step(desk)


def test_a_status_report_writes_the_fill_and_the_position_only_where_they_move(desk: Desk) -> None:
    desk.executor.applier.apply(trade("t1"))
    with traced(desk) as (statements, calls):
        desk.executor.applier.apply(trade("t1", TradeStatus.MINED))
    assert statements == ["UPDATE fills SET", "INSERT INTO positions"]  # its shares are settled now
    assert down(calls, ["move_fill"])
    assert (stored(desk).settled, stored(desk).pending) == (10 * SH, 0) and in_step(desk)
    with traced(desk) as (statements, calls):
        desk.executor.applier.apply(trade("t1", TradeStatus.CONFIRMED))
    assert statements == ["UPDATE fills SET"] and down(calls, ["move_fill"])  # settled before, settled still
    for repeated in (TradeStatus.CONFIRMED, TradeStatus.MINED):  # the venue repeating itself, or late
        with traced(desk) as (statements, calls):
            desk.executor.applier.apply(trade("t1", repeated))
        assert statements == [] and down(calls, [])
    assert desk.rows("SELECT status FROM fills") == [("CONFIRMED",)] and in_step(desk)


def test_an_order_is_filled_once_its_fills_cover_it_dust_aside(desk: Desk) -> None:
    desk.executor.applier.apply(trade("t1", size=SIZE - LOT))  # a lot short: not covered
    assert desk.rows("SELECT status, filled FROM orders WHERE venue_order_id = 'vb'") == [("PARTIALLY_FILLED",
                                                                                         SIZE - LOT)]
    assert desk.executor.state.by_venue.get("vb") is not None  # still open in the mirror
    desk.executor.applier.apply(trade("t2", size=1, at=101))  # less than a lot short: covered
    assert desk.rows("SELECT status, filled, closed_at IS NOT NULL FROM orders WHERE venue_order_id = 'vb'") == [
        ("FILLED", SIZE - LOT + 1, 1)]
    assert desk.executor.state.by_venue.get("vb") is None  # closed in the mirror too
    assert desk.executor.state.closed["vb"].status is OrderStatus.FILLED


def test_an_order_keeps_the_fill_total_the_venue_said_when_its_fills_are_fewer(desk: Desk) -> None:
    desk.executor.applier.apply(OrderEvent(VenueOrder("vb", "c1", "Y1", Side.BUY, p(0.5), SIZE, 60 * SH,
                                                      VenueOrderStatus.LIVE)))
    reported = desk.clock()
    desk.clock.advance(1_000)
    desk.executor.applier.apply(trade("t1", size=10 * SH))
    # Unmoved, so unwritten: its last change is still the venue's report.
    assert desk.rows("SELECT status, filled, updated_at FROM orders WHERE venue_order_id = 'vb'") == [
        ("PARTIALLY_FILLED", 60 * SH, reported)]
    assert desk.executor.state.orders[desk.executor.state.by_venue["vb"]].filled == 60 * SH


def test_a_position_the_mirror_has_wrong_is_refolded_not_stepped(desk: Desk) -> None:
    desk.executor.applier.apply(trade("t1", at=100))
    wrong = PositionTotals(settled=3 * SH, cost=1 * SH)
    desk.executor.state.set_position("s", "Y1", "c1", Outcome.YES, wrong)
    desk.executor.applier.apply(trade("t2", at=200))
    assert stored(desk).pending == 20 * SH and in_step(desk)


def test_a_fill_status_the_mirror_has_wrong_is_read_from_the_table(desk: Desk) -> None:
    desk.executor.applier.apply(trade("t1"))
    state = desk.executor.state
    mined = state.known_fill("t1", state.by_venue["vb"])
    assert mined is not None
    state.fills[("t1", mined.order.id)] = store.FillWrite("t1", mined.order, mined.price, mined.size, mined.fee,
                                                          mined.liquidity, TradeStatus.MINED, mined.matched_at)
    desk.executor.applier.apply(trade("t1", TradeStatus.CONFIRMED))  # the table says MATCHED: shares move
    assert (stored(desk).settled, stored(desk).pending) == (10 * SH, 0) and in_step(desk)


def test_after_a_restart_a_status_report_reads_the_fill_it_moves(desk: Desk) -> None:
    desk.executor.applier.apply(trade("t1", size=10 * SH))
    desk.executor.load()  # a restart: the mirror is the table's, without the fills it wrote
    with traced(desk) as (statements, calls):
        desk.executor.applier.apply(trade("t1", TradeStatus.MINED, size=12 * SH))  # a size the fill was not
    assert statements == ["INSERT INTO fills", "SELECT status, price,", "UPDATE fills SET", "INSERT INTO positions"]
    assert down(calls, ["write_new_fill", "stored_fill", "move_fill"])
    assert (stored(desk).settled, stored(desk).pending) == (10 * SH, 0) and in_step(desk)


@pytest.mark.parametrize("reloaded", [True, False], ids=["mirror without it", "mirror with it wrong"])
def test_a_position_row_gone_with_its_fills_kept_is_refolded(desk: Desk, reloaded: bool) -> None:
    desk.executor.applier.apply(trade("t1", at=100))
    with desk.db.write() as conn:
        conn.exec_driver_sql("DELETE FROM positions")
    if reloaded:
        desk.executor.load()
    else:
        desk.executor.state.set_position("s", "Y1", "c1", Outcome.YES, PositionTotals(pending=4 * SH))
    desk.executor.applier.apply(trade("t2", at=200))  # not the position's first fill, whatever the rows say
    assert stored(desk).pending == 20 * SH and in_step(desk)


@pytest.mark.parametrize("seed", range(4))
def test_a_position_kept_across_restarts_is_the_fold_of_its_fills(desk: Desk, seed: int) -> None:
    """Reports in any order, duplicated, with restarts between them (each a mirror without the fills
    it wrote, whose next reports take the read-back path)."""
    rng = random.Random(seed)
    ledgers = []
    for i in range(30):
        side = Side.BUY if rng.random() < 0.6 else Side.SELL
        progress = (TradeStatus.MATCHED, TradeStatus.MINED, TradeStatus.RETRYING, TradeStatus.CONFIRMED)
        statuses = progress[:rng.randrange(1, 5)] if rng.random() > 0.15 else (TradeStatus.MATCHED,
                                                                               TradeStatus.FAILED)
        at, size, price = rng.randrange(0, 90), rng.randrange(1, 30) * SH, rng.randrange(5, 96) / 100
        ledgers.append([trade(f"t{i:02d}", status, size=size, at=at, side=side, price=price) for status in statuses])
    while any(ledgers):
        ledger = rng.choice([ledger for ledger in ledgers if ledger])
        desk.executor.applier.apply(ledger[0])
        if rng.random() < 0.8:
            ledger.pop(0)
        if rng.random() < 0.1:
            desk.executor.load()
        assert in_step(desk)


def test_a_report_for_an_order_just_closed_is_applied_without_a_read(desk: Desk) -> None:
    desk.executor.applier.apply(trade("t1", size=SIZE))  # fills it: the mirror keeps it among the closed
    with traced(desk) as (statements, _):
        desk.executor.applier.apply(trade("t1", TradeStatus.MINED, size=SIZE))
    assert statements == ["UPDATE fills SET", "INSERT INTO positions"]


def test_an_order_report_that_moves_nothing_costs_no_statement(desk: Desk) -> None:
    with traced(desk) as (statements, _):
        desk.executor.applier.apply(OrderEvent(VenueOrder("vb", "c1", "Y1", Side.BUY, p(0.5), SIZE, 0,
                                                          VenueOrderStatus.LIVE)))
    assert statements == []
    with traced(desk) as (statements, _):
        desk.executor.applier.cancel_acknowledged(["vb"])
    assert statements == ["UPDATE orders SET"]
