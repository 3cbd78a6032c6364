"""A replay's ledger rows kept in memory and written once a batch (a backtest's scratch ledger only).

A replay's executor and paper venue write an order's row several times in a decision (placed,
acknowledged, its cancel pending, cancelled; the paper venue's order saved as it rests, fills and
leaves), and binding each statement's named parameters cost as much as running it. Inside a
replay's batch (`Database.batch()` of a handle opened with `write_behind=True`) those writes are
kept here instead: the executor's order rows (`orders`), the paper venue's orders and trades
(`paper_orders`, `paper_trades`), each worked out as its statement would leave the row; at the
batch's end they are written with one `executemany` a table, before the batch commits.

The same functions write them live (storage/engine_stores/execution_ledger.py, paper_book.py): only
this seam differs, and only while a batch is open. What keeps it exact:
- any other statement on the batch's connection that names these tables, or a table whose foreign
  key refers to one (a fill, checked against its order's row and moving it; a read of them), through
  storage/sqlite/sql.py's `run` or SQLAlchemy (whose writer engine's `before_cursor_execute` hook
  calls `flush_before`), first writes what is held and forgets it, so it
  runs on the rows a live writer would have left; a statement naming none (the decisions log, the
  risk state) cannot see them and leaves them held;
- a write to a row not held (written in an earlier batch, or after such a flush) runs as its
  statement, at once;
- no trigger or view may name the tables it holds (a scratch ledger drops the live desk's
  triggers: engine/backtest/runner.py), since a row written once at the end would not fire what each
  step fires;
- `changes` counts the rows its held writes would have changed, as SQLite's `total_changes` does,
  so a replay still tells a pass that wrote from one that did not (engine/backtest/quiet_passes.py).
A constraint a held row breaks (a repeated client id) fails the batch when it is written, not the
step that made it: a replay then stops with that error, as it would have a step later.
"""

from __future__ import annotations

import sqlite3
from typing import Any

from sqlalchemy import Connection

# The order row's columns, in the order a held row keeps them (its list's positions below).
ORDER_COLS = ("id", "client_id", "venue_order_id", "mode", "venue", "strategy", "condition_id", "token_id",
              "outcome", "side", "price", "size", "filled", "tif", "post_only", "status", "status_rank",
              "signed_payload", "flags", "reason", "created_at", "updated_at", "submitted_at", "expires_at", "gate",
              "error", "acked_at", "closed_at", "ending_at", "end_reason")
(_ID, _CLIENT, _VENUE_ID, _MODE, _VENUE, _STRATEGY, _CID, _TOKEN, _OUTCOME, _SIDE, _PRICE, _SIZE, _FILLED, _TIF,
 _POST_ONLY, _STATUS, _RANK, _PAYLOAD, _FLAGS, _REASON, _CREATED, _UPDATED, _SUBMITTED, _EXPIRES, _GATE, _ERROR,
 _ACKED, _CLOSED, _ENDING, _END_REASON) = range(len(ORDER_COLS))
# (A held order or trade is always a new row: only an insert holds one.)
_INSERT_ORDERS = f"INSERT INTO orders ({', '.join(ORDER_COLS)}) VALUES ({', '.join('?' * len(ORDER_COLS))})"
TERMINAL = 100  # an order's rank from which it is closed (contracts/order_status.py), as the SQL says it

PAPER_ORDER_COLS = ("venue_order_id", "token_id", "condition_id", "side", "price", "size", "filled", "queue_ahead",
                    "tif", "status", "created_at", "updated_at", "expires_at", "venue")
# The paper venue's `save_order` as it is live: an upsert moving a known order's fill, queue and status.
_SAVE_PAPER_ORDERS = (f"INSERT INTO paper_orders ({', '.join(PAPER_ORDER_COLS)}) "
                      f"VALUES ({', '.join('?' * len(PAPER_ORDER_COLS))}) ON CONFLICT (venue_order_id) DO UPDATE SET "
                      "filled = excluded.filled, queue_ahead = excluded.queue_ahead, status = excluded.status, "
                      "updated_at = excluded.updated_at")
PAPER_TRADE_COLS = ("trade_id", "venue_order_id", "token_id", "side", "price", "size", "fee", "liquidity", "status",
                    "matched_at", "settle_at", "updated_at", "venue")
_INSERT_PAPER_TRADES = (f"INSERT INTO paper_trades ({', '.join(PAPER_TRADE_COLS)}) "
                        f"VALUES ({', '.join('?' * len(PAPER_TRADE_COLS))})")
HELD_TABLES = ("orders", "paper_orders", "paper_trades")

_ACTIVE: dict[int, WriteBehind] = {}  # id(the batch's Connection) -> its rows held


def of(conn: Connection) -> WriteBehind | None:
    """The rows held for this connection's batch (None, always, on a live desk: nothing is held)."""
    return _ACTIVE.get(id(conn)) if _ACTIVE else None


def flush_before(conn: Connection, sql: str) -> None:
    """Statement `sql` is about to run on `conn`: if it names a table rows are held for, write them first
    and forget them (a statement naming none cannot see or change them: no trigger or view of the
    schema names them either, which `WriteBehind` checks)."""
    if _ACTIVE:
        held = _ACTIVE.get(id(conn))
        if held is not None and held.holding and any(name in sql for name in held.names):
            held.flush()


class WriteBehind:
    def __init__(self, conn: Connection):
        self.conn = conn
        self.raw: sqlite3.Connection = conn.connection.driver_connection  # type: ignore[assignment]  # sqlite3's
        naming = [name for name, sql in self.raw.execute(
            "SELECT name, sql FROM sqlite_master WHERE type IN ('trigger', 'view')").fetchall()
            if "orders" in sql or "paper_trades" in sql]
        if naming:  # a row written once at the end would not fire what each step fires, nor be seen by a view
            raise RuntimeError(f"rows cannot be held for tables that triggers or views name: {naming}")
        # What a statement that must see the held rows names: their tables, or a table whose foreign key
        # refers to one (a fill names its order: it is checked against the order's row).
        tables = [t for (t,) in self.raw.execute("SELECT name FROM sqlite_master WHERE type = 'table'").fetchall()]
        self.names = tuple(sorted({"orders", "paper_trades"} | {  # ("orders" is in "paper_orders" too)
            t for t in tables if any(ref[2] in HELD_TABLES for ref in self.raw.execute(
                "SELECT * FROM pragma_foreign_key_list(?)", (t,)).fetchall())}))
        self.orders: dict[int, list[Any]] = {}
        self.paper_orders: dict[str, tuple[Any, ...]] = {}
        self.paper_trades: dict[str, list[Any]] = {}
        self.trade_counts: dict[str, int] = {}  # venue order id -> its trades, held and written
        self._next_id: int | None = None
        self.changes = 0  # rows the held writes changed, as SQLite would have counted them
        self.flushed = 0  # rows the flushes changed (SQLite counts those again)

    def __enter__(self) -> WriteBehind:
        _ACTIVE[id(self.conn)] = self
        return self

    def __exit__(self, kind: type[BaseException] | None, *exc: object) -> None:
        try:
            if kind is None:
                self.flush()  # before the batch commits
        finally:
            del _ACTIVE[id(self.conn)]

    @property
    def holding(self) -> bool:
        return bool(self.orders or self.paper_orders or self.paper_trades or self.trade_counts
                    or self._next_id is not None)

    def flush(self) -> None:
        """Write every held row (an upsert a row, one `executemany` a table) and forget them: another
        statement may change these tables as it likes, and a row not held is written as its statement."""
        cursor = self.raw.cursor()
        if self.orders:
            cursor.executemany(_INSERT_ORDERS, self.orders.values())
            self.flushed += cursor.rowcount
        if self.paper_orders:
            cursor.executemany(_SAVE_PAPER_ORDERS, self.paper_orders.values())
            self.flushed += cursor.rowcount
        if self.paper_trades:
            cursor.executemany(_INSERT_PAPER_TRADES, self.paper_trades.values())
            self.flushed += cursor.rowcount
        self.orders, self.paper_orders, self.paper_trades, self.trade_counts = {}, {}, {}, {}
        self._next_id = None

    # -- orders (storage/engine_stores/execution_ledger.py) ------------------------------------------

    def insert_order(self, values: list[Any]) -> int:
        """`values`: ORDER_COLS' values but the id; the id the table would have given it."""
        if self._next_id is None:
            self._next_id = int(self.raw.execute("SELECT COALESCE(MAX(id), 0) + 1 FROM orders").fetchone()[0])
        order_id = self._next_id
        self._next_id += 1
        values[_ID] = order_id
        self.orders[order_id] = values
        self.changes += 1
        return order_id

    def advance(self, order_id: int, status: str, rank: int, now: int, filled: int | None, error: str | None,
                acked: bool, end_reason: str | None) -> bool:
        """execution_ledger's `_ADVANCE`, `_ADVANCE_CLOSING` or `_ADVANCE_ENDING` (with `end_reason`) on a
        held row, as SQLite evaluates it (every SET sees the row as it was); False: not held."""
        row = self.orders.get(order_id)
        if row is None:
            return False
        moved = row[_RANK] < rank
        if moved:
            if end_reason is not None:
                if row[_END_REASON] is None:
                    row[_END_REASON] = end_reason
                if row[_ENDING] is None:
                    row[_ENDING] = now
            elif rank >= TERMINAL and row[_ENDING] is None and status != "FILLED":
                row[_ENDING] = now
            row[_STATUS] = status
            if error is not None:
                row[_ERROR] = error
            if acked and row[_ACKED] is None:
                row[_ACKED] = now
            if rank >= TERMINAL:
                row[_CLOSED] = now
            row[_RANK] = rank
        if filled is not None:
            row[_FILLED] = max(row[_FILLED], filled)
        if moved or filled is not None:
            row[_UPDATED] = now
        self.changes += 1  # an UPDATE by id counts its row, changed or not
        return True

    def mark_ending(self, order_id: int, end_reason: str, now: int) -> bool:
        row = self.orders.get(order_id)
        if row is None:
            return False
        if row[_END_REASON] is None:
            row[_END_REASON], row[_ENDING] = end_reason, now
        self.changes += 1
        return True

    def add_flag(self, order_id: int, flag: str, now: int) -> bool:
        row = self.orders.get(order_id)
        if row is None:
            return False
        if f" {flag} ".lower() not in f" {row[_FLAGS]} ".lower():  # `NOT LIKE`: ASCII case folded
            row[_FLAGS] = f"{row[_FLAGS]} {flag}".strip(" ")
            row[_UPDATED] = now
            self.changes += 1
        return True

    # -- the paper venue's book (storage/engine_stores/paper_book.py) -------------------------------

    def save_paper_order(self, values: tuple[Any, ...]) -> None:
        """PAPER_ORDER_COLS' values: its upsert, written at the flush (a held upsert of a row written
        before moves the same columns of it as the statement would now)."""
        held = self.paper_orders.get(values[0])
        self.paper_orders[values[0]] = values if held is None else (  # filled, queue_ahead, status, updated_at
            *held[:6], values[6], values[7], held[8], values[9], held[10], values[11], *held[12:])
        self.changes += 1

    def paper_order_held(self, venue_order_id: str) -> bool:
        return venue_order_id in self.paper_orders

    def trade_count(self, venue_order_id: str) -> int:
        count = self.trade_counts.get(venue_order_id)
        if count is None:
            count = self.trade_counts[venue_order_id] = int(self.raw.execute(
                "SELECT COUNT(*) FROM paper_trades WHERE venue_order_id = ?", (venue_order_id,)).fetchone()[0])
        return count

    def insert_paper_trade(self, values: list[Any]) -> None:
        """PAPER_TRADE_COLS' values of a new trade."""
        venue_order_id = values[1]
        self.trade_counts[venue_order_id] = self.trade_count(venue_order_id) + 1
        self.paper_trades[values[0]] = values
        self.changes += 1
