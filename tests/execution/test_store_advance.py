"""`store.advance_row` (one UPDATE … RETURNING) leaves every column exactly as `advance`
followed by a read-back does, for every status move, fill and error combination."""

from __future__ import annotations

import itertools
from dataclasses import replace
from pathlib import Path

from sqlalchemy import text

from contracts.domain import Outcome, Side, Tif
from contracts.order_status import OrderStatus
from engine.execution import store
from storage.engine_stores import execution_ledger
from storage.sqlite.db import Database
from storage.sqlite.migrations import migrate

SH = 1_000_000
STARTS = (OrderStatus.PENDING_SUBMIT, OrderStatus.LIVE, OrderStatus.PARTIALLY_FILLED, OrderStatus.CANCEL_PENDING,
          OrderStatus.FILLED, OrderStatus.CANCELED)
MOVES = (OrderStatus.LIVE, OrderStatus.PARTIALLY_FILLED, OrderStatus.CANCEL_PENDING, OrderStatus.FILLED,
         OrderStatus.CANCELED, OrderStatus.REJECTED)


def _order(conn, n: int, status: OrderStatus) -> int:
    row = store.insert_order(conn, client_id=f"c{n}", venue_order_id=f"v{n}", mode="paper", strategy="s",
                             condition_id="c1", token_id="Y1", outcome=Outcome.YES, side=Side.BUY, price=500_000,
                             size=10 * SH, tif=Tif.GTC, post_only=False, payload=None, reason=None, now=1,
                             status=status, filled=2 * SH)
    return row.id


def _stored(conn, order_id: int) -> dict:
    return dict(conn.execute(text("SELECT * FROM orders WHERE id = :id"), {"id": order_id}).mappings().one())


def test_advance_row_equals_advance_then_read_back(tmp_path: Path) -> None:
    migrate(tmp_path / "a.db")
    db = Database(tmp_path / "a.db")
    cases = list(itertools.product(STARTS, MOVES, (None, 1 * SH, 5 * SH), (None, "why"), (False, True)))
    with db.write() as conn:
        for n, (start, move, filled, error, acked) in enumerate(cases):
            old, new = _order(conn, 2 * n, start), _order(conn, 2 * n + 1, start)
            execution_ledger.advance(conn, old, move, 100 + n, filled=filled, error=error, acked=acked)
            expected = store.order_by_id(conn, old)
            got = store.advance_row(conn, new, move, 100 + n, filled=filled, error=error, acked=acked)
            assert replace(got, id=old, client_id=f"c{2 * n}", venue_order_id=f"v{2 * n}") == expected
            a, b = _stored(conn, old), _stored(conn, new)
            for key in ("id", "client_id", "venue_order_id"):
                a.pop(key), b.pop(key)
            assert a == b, (start, move, filled, error, acked)
    db.dispose()


def test_advance_row_from_the_stored_row_equals_the_read_back(tmp_path: Path) -> None:
    """Given the order as stored (the executor's mirror), the result is worked out instead of
    read back: the same row, and the same table, except that a move that changes nothing
    writes nothing (its updated_at stays that of the last change)."""
    migrate(tmp_path / "a.db")
    db = Database(tmp_path / "a.db")
    cases = list(itertools.product(STARTS, MOVES, (None, 1 * SH, 2 * SH, 5 * SH), (None, "why"), (False, True)))
    skipped = 0
    with db.write() as conn:
        for n, (start, move, filled, error, acked) in enumerate(cases):
            old, new = _order(conn, 2 * n, start), _order(conn, 2 * n + 1, start)
            expected = store.advance_row(conn, old, move, 100 + n, filled=filled, error=error, acked=acked)
            got = store.advance_row(conn, new, move, 100 + n, filled=filled, error=error, acked=acked,
                                    stored=store.order_by_id(conn, new))
            assert replace(got, id=old, client_id=f"c{2 * n}", venue_order_id=f"v{2 * n}") == expected
            assert got == store.order_by_id(conn, new)
            a, b = _stored(conn, old), _stored(conn, new)
            for key in ("id", "client_id", "venue_order_id"):
                a.pop(key), b.pop(key)
            if a["updated_at"] != b["updated_at"]:  # only where nothing moved
                assert (a["status"], a["filled"]) == (start.value, 2 * SH) and b["updated_at"] == 1
                a.pop("updated_at"), b.pop("updated_at")
                skipped += 1
            assert a == b, (start, move, filled, error, acked)
    assert skipped  # the no-op case was exercised
    db.dispose()


def test_a_new_order_is_returned_as_stored(tmp_path: Path) -> None:
    """`insert_order` builds the row it returns instead of reading it back: the same row."""
    migrate(tmp_path / "a.db")
    db = Database(tmp_path / "a.db")
    with db.write() as conn:
        for n, (status, post_only, submitted, flags) in enumerate(itertools.product(
                (OrderStatus.PENDING_SUBMIT, OrderStatus.LIVE), (False, True), (None, 7), ("", "imported"))):
            row = store.insert_order(conn, client_id=f"c{n}", venue_order_id=None if n % 3 else f"v{n}",
                                     mode="paper", strategy="s", condition_id="c1", token_id="N1",
                                     outcome=Outcome.NO, side=Side.SELL, price=430_000, size=7 * SH, tif=Tif.GTD,
                                     post_only=post_only, payload="{}", reason=None, now=5 + n, status=status,
                                     filled=n * SH, flags=flags, submitted_at=submitted)
            assert row == store.order_by_id(conn, row.id)
    db.dispose()
