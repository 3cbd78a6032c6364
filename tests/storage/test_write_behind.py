"""A replay's rows held in memory (storage/sqlite/write_behind.py) end as the statements a live writer
runs leave them: the same random steps on the orders and the paper book, run once inside a held batch
and once statement by statement, leave the same rows (by rowid), count the same changes, and a
statement that reads or writes those tables in between (or a table whose foreign key refers to them)
sees every step before it."""

from __future__ import annotations

import random
from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy import Connection, text

from contracts.order_status import OrderStatus
from storage.engine_stores import execution_ledger as ledger
from storage.engine_stores import paper_book
from storage.sqlite import write_behind
from storage.sqlite.db import Database
from storage.sqlite.migrations import migrate

TABLES = ("orders", "paper_orders", "paper_trades")
TRIGGERS = ("notify_refused_insert", "notify_refused", "notify_venue_cancel", "notify_fill")
Step = Callable[[Connection], object]


def _db(path: Path, held: bool) -> Database:
    migrate(path)
    db = Database(path, write_behind=held)
    with db.write() as conn:  # as a backtest's scratch ledger
        for name in TRIGGERS:
            conn.execute(text(f"DROP TRIGGER IF EXISTS {name}"))
    return db


def _steps(seed: int, count: int) -> list[Step]:
    """Random writes of orders, their statuses, flags and ends, paper orders and trades, and reads."""
    rng = random.Random(seed)
    steps: list[Step] = []
    orders = 0
    statuses = list(OrderStatus)
    for n in range(count):
        now = 1_000 + n
        what = rng.random()
        recent = rng.randint(max(1, orders - 4), max(1, orders))  # mostly an order of this batch: held
        if what < 0.2 or not orders:
            orders += 1
            steps.append(_insert(orders, now, rng.choice(statuses[:3])))
        elif what < 0.55:
            steps.append(_advance(recent, now, rng.choice(statuses),
                                  rng.choice([None, rng.randint(0, 10_000_000)]), rng.choice([None, "e"]),
                                  rng.random() < 0.5, rng.choice([None, None, "why"])))
        elif what < 0.62:
            steps.append(_ending([recent, rng.randint(1, orders)], rng.choice(["kill", "stop"]), now))
        elif what < 0.68:
            steps.append(_flag(recent, rng.choice(["ghost", "GHOST", "late"]), now))
        elif what < 0.85:
            steps.append(_save(rng.randint(1, orders), now, rng.randint(0, 10), rng.randint(0, 9),
                               rng.choice(["LIVE", "MATCHED", "CANCELED"]), rng.choice(["GTC", "FAK"])))
        elif what < 0.92:
            steps.append(_trade(rng.randint(1, orders), now))
        elif what < 0.95:  # a fill of an order of this batch: its foreign key checks the order's row
            steps.append(_fill(recent, f"f{n}"))
        else:  # a statement of another kind in between: it reads what every step before it wrote
            steps.append(_read)
    return steps


def _insert(i: int, now: int, status: OrderStatus) -> Step:
    return lambda conn: ledger.insert_order(
        conn, client_id=f"c{i}", venue_order_id=None if i % 3 else f"v{i}", mode="paper", venue="polymarket",
        strategy="s", condition_id="m", token_id="t", outcome="YES", side="BUY", price=500_000, size=10_000_000,
        filled=0, tif="GTC", post_only=bool(i % 2), status=status, payload=None, flags="", reason="r", now=now,
        submitted_at=now if i % 2 else None, expires_at=None, gate=None)


def _advance(i: int, now: int, status: OrderStatus, filled: int | None, error: str | None, acked: bool,
             end: str | None) -> Step:
    return lambda conn: ledger.advance_at_once(conn, i, status, now, filled=filled, error=error, acked=acked,
                                               end_reason=end)


def _ending(ids: list[int], why: str, now: int) -> Step:
    return lambda conn: ledger.mark_ending(conn, ids, why, now)


def _flag(i: int, word: str, now: int) -> Step:
    return lambda conn: ledger.add_flag(conn, i, word, now)


def _fill(i: int, trade_id: str) -> Step:
    return lambda conn: conn.execute(text(
        "INSERT INTO fills (trade_id, order_id, mode, strategy, condition_id, token_id, outcome, side, price, size, "
        "liquidity, status, status_rank, matched_at, updated_at) VALUES (:t, :o, 'paper', 's', 'm', 't', 'YES', "
        "'BUY', 1, 1, 'MAKER', 'MATCHED', 10, 1, 1)"), {"t": trade_id, "o": i}).rowcount


def _save(i: int, now: int, filled: int, queue: int, status: str, tif: str) -> Step:
    def step(conn: Connection) -> object:
        before = paper_book.order_exists(conn, f"p{i}")
        paper_book.save_order(conn, venue_order_id=f"p{i}", token_id="t", condition_id="m", side="BUY",
                              price=500_000, size=10, filled=filled, queue_ahead=queue, tif=tif, status=status,
                              created_at=now, now=now, expires_at=None)
        return before, paper_book.order_exists(conn, f"p{i}")
    return step


def _trade(i: int, now: int) -> Step:
    def step(conn: Connection) -> int:
        seq = paper_book.trade_count(conn, f"p{i}")
        paper_book.insert_trade(conn, trade_id=f"p{i}-t{seq + 1}", venue_order_id=f"p{i}", token_id="t", side="BUY",
                                price=500_000, size=1, fee=0, liquidity="MAKER", now=now, settle_at=now + 5)
        return seq
    return step


def _read(conn: Connection) -> object:
    return (tuple(conn.execute(text("SELECT COUNT(*), SUM(status_rank), MAX(updated_at) FROM orders")).one()),
            [tuple(r) for r in paper_book.due_trades(conn, 10**9, "polymarket")], ledger.count_open(conn, "paper"))


def _run(db: Database, steps: list[Step]) -> tuple[dict[str, list[tuple]], list[object], list[int | None]]:
    answers: list[object] = []
    changes: list[int | None] = []
    for chunk in (steps[:len(steps) // 2], steps[len(steps) // 2:]):  # two batches, as a replay commits them
        with db.batch() as conn:
            for step in chunk:
                answers.append(step(conn))
                changes.append(db.batch_changes())
    with db.read() as conn:
        rows = {t: [tuple(r) for r in conn.execute(text(f"SELECT * FROM {t} ORDER BY rowid"))] for t in TABLES}
    return rows, answers, changes


@pytest.mark.parametrize("seed", range(6))
def test_held_rows_end_as_each_statement_leaves_them(tmp_path: Path, seed: int) -> None:
    steps = _steps(seed, 400)
    live = _run(_db(tmp_path / "live.db", held=False), steps)
    held = _run(_db(tmp_path / "held.db", held=True), steps)
    assert live[0]["orders"] and live[0]["paper_trades"]
    assert held[0] == live[0]  # every row, column and rowid
    assert held[1] == live[1]  # every answer on the way (ids, counts, reads in between)
    assert held[2] == live[2]  # the changes a replay counts to tell a pass that wrote


def test_rows_are_held_only_inside_a_replays_batch(tmp_path: Path) -> None:
    db = _db(tmp_path / "held.db", held=True)
    with db.batch() as conn:
        ledger.insert_order(conn, client_id="c", venue_order_id=None, mode="paper", venue="polymarket",
                            strategy="s", condition_id="m", token_id="t", outcome="YES", side="BUY", price=1,
                            size=1, filled=0, tif="GTC", post_only=False, status=OrderStatus.LIVE, payload=None,
                            flags="", reason=None, now=1, submitted_at=None, expires_at=None)
        assert write_behind.of(conn) is not None
        assert conn.connection.driver_connection.execute("SELECT COUNT(*) FROM orders").fetchone()[0] == 0  # held
    with db.read() as conn:
        assert conn.execute(text("SELECT COUNT(*) FROM orders")).scalar() == 1  # written before the commit
    with db.write() as conn:
        assert write_behind.of(conn) is None  # a write outside a batch (live's every write) runs at once
    live = _db(tmp_path / "live.db", held=False)
    with live.batch() as conn:
        assert write_behind.of(conn) is None


def test_tables_with_triggers_are_never_held(tmp_path: Path) -> None:
    migrate(tmp_path / "d.db")
    db = Database(tmp_path / "d.db", write_behind=True)  # the live desk's triggers still there
    with pytest.raises(RuntimeError, match="triggers or views"), db.batch():
        pass
