"""A decision's cancel to the venue leaves before its CANCEL_PENDING mark is written, and is
marked while it travels (engine/execution/cancels.py): another writer holding the database's
write lock (the recorder's thread, an import, the CLI) no longer holds the cancel back. An
operator command's cancel is still marked, synced with the command's noted effect, before it
leaves. A real executor and a real SQLite file (its writer synced as the engine's), the venue's
client, and the simulator's book as the judge; and the loop sender's word that a request has
left, against a local server that holds its answer back."""

from __future__ import annotations

import asyncio
import sqlite3
import threading
import time
from pathlib import Path
from typing import NamedTuple

from aiohttp import web
from sqlalchemy.exc import OperationalError

from contracts import order_end
from contracts.domain import Intent, Quote, Side
from engine.execution.executor import Executor
from engine.feeds.catalog import MarketCatalog
from engine.venues.polymarket.client import SignedRequest
from engine.venues.polymarket.discovery import refresh_markets
from engine.venues.polymarket.loop_http import LoopHttp
from engine.venues.polymarket.venue import PolymarketVenue
from simulator.testing import SimHandle
from storage.command_queue import command_effects
from storage.sqlite.db import BUSY_TIMEOUT_MS, ENGINE_BUSY_TIMEOUT_MS, Database, is_locked
from storage.sqlite.migrations import migrate
from tests.venues.conftest import FAST, eventually, fresh_market, run, settings_for, tick_of


class Withdrawn(NamedTuple):
    gone_while_locked: bool | None
    failed: bool
    rows: list[tuple[str, str | None]]


class LockHolder(threading.Thread):
    """Another writer: takes the database's write lock, holds it until the simulator's book shows
    none of the funder's orders (or `patience_s` passes) and at least `hold_s`, and says whether
    the orders were gone while it held it."""

    def __init__(self, path: Path, sim: SimHandle, funder: str, patience_s: float, hold_s: float):
        super().__init__(daemon=True)
        self.path, self.sim, self.funder, self.patience_s, self.hold_s = path, sim, funder, patience_s, hold_s
        self.locked = threading.Event()
        self.gone_while_locked: bool | None = None

    def run(self) -> None:
        other = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
        try:
            other.execute("BEGIN IMMEDIATE")
            self.locked.set()
            deadline = time.monotonic() + self.patience_s
            while self.sim.open_order_count(self.funder) > 0 and time.monotonic() < deadline:
                time.sleep(0.005)
            self.gone_while_locked = self.sim.open_order_count(self.funder) == 0
            time.sleep(max(0.0, self.hold_s - (time.monotonic() - (deadline - self.patience_s))))
            other.execute("ROLLBACK")
        finally:
            other.close()


def withdraw_under_a_held_lock(tmp_path: Path, sim: SimHandle, *, command: int | None, patience_s: float,
                               lock_wait_ms: int = BUSY_TIMEOUT_MS, hold_s: float = 0.0) -> Withdrawn:
    """A resting bid withdrawn (its strategy wants nothing) while another writer holds the lock:
    whether the venue had cancelled it before the lock was let go, whether the withdrawal failed
    (its mark waited for the lock longer than `lock_wait_ms`: the engine's is ENGINE_BUSY_TIMEOUT_MS),
    and the order's row once the executor has read the venue's reports."""
    path = tmp_path / "desk.db"
    migrate(path)
    market = fresh_market(sim)
    settings = settings_for(sim)

    async def scenario() -> Withdrawn:
        db = Database(path, writer_sync="FULL", busy_timeout_ms=lock_wait_ms)  # (synced as the engine's writer)
        await refresh_markets(db, settings.gamma_host)
        catalog = MarketCatalog()
        catalog.load(db)
        venue = PolymarketVenue(settings, FAST)
        executor = Executor(db, venue, catalog, mode="live")
        executor.load()
        await venue.start()  # (its reports wait on its queue until `drain`: no write of theirs meets the lock)
        executor.gate.unblock()
        holder = LockHolder(path, sim, venue.signer.funder, patience_s, hold_s)
        failed = False
        try:
            bid = Quote(Side.BUY, 10 * tick_of(market), 5_000_000)
            executor.set_intents([Intent("mm", market["condition_id"], (bid,))])
            await executor.reconcile()
            await eventually(lambda: sim.open_order_count(venue.signer.funder) == 1)
            holder.start()
            await asyncio.to_thread(holder.locked.wait, 5)
            executor.set_intents([Intent("mm", market["condition_id"], ())])  # it wants nothing there now
            if command is None:
                try:
                    await executor.reconcile()
                except OperationalError as exc:  # its mark, when the lock outlasted the wait
                    assert is_locked(exc), exc
                    failed = True
            else:
                with command_effects.applying(command):
                    await executor.cancel_orders(list(executor.state.orders.values()))
            await asyncio.to_thread(holder.join, 10)
            await eventually(lambda: executor.drain() >= 0 and not executor.state.orders)  # (the reports read)
            with db.read() as conn:
                rows = [(r[0], r[1]) for r in conn.exec_driver_sql("SELECT status, end_reason FROM orders")]
            return Withdrawn(holder.gone_while_locked, failed, rows)
        finally:
            holder.join(10)
            await executor.close()
            db.dispose()

    return run(scenario())


def test_a_decisions_cancel_reaches_the_venue_while_another_writer_holds_the_lock(tmp_path: Path,
                                                                                  sim: SimHandle) -> None:
    withdrawn = withdraw_under_a_held_lock(tmp_path, sim, command=None, patience_s=5.0)
    assert withdrawn.gone_while_locked is True  # (marked first, it would wait here for the lock, the bid resting)
    assert not withdrawn.failed
    assert withdrawn.rows == [("CANCELED", order_end.WITHDRAWN)]  # marked once the lock was free, then answered


def test_an_operator_commands_cancel_is_marked_before_it_leaves(tmp_path: Path, sim: SimHandle) -> None:
    withdrawn = withdraw_under_a_held_lock(tmp_path, sim, command=1, patience_s=0.5)
    assert withdrawn.gone_while_locked is False  # waited for the lock: its effect is noted, synced, first
    assert withdrawn.rows == [("CANCELED", order_end.WITHDRAWN)]


def test_a_cancel_whose_mark_cannot_wait_for_the_lock_is_closed_by_the_venues_report(tmp_path: Path,
                                                                                     sim: SimHandle) -> None:
    """The engine's writes wait 100 ms for the lock; held longer, the decision fails after its cancel
    left. Nothing is lost: the venue's report of the cancel closes the order once the lock is free."""
    withdrawn = withdraw_under_a_held_lock(tmp_path, sim, command=None, patience_s=5.0, hold_s=0.5,
                                           lock_wait_ms=ENGINE_BUSY_TIMEOUT_MS)
    assert withdrawn.gone_while_locked is True and withdrawn.failed
    assert [status for status, _ in withdrawn.rows] == ["CANCELED"]


def test_the_loop_sender_says_when_a_request_has_left_before_its_answer() -> None:
    """`written` is set once the request's body is on the socket: here, while the server still
    holds its answer back (a local server that answers only when told)."""
    async def scenario() -> tuple[bool, bool, object]:
        arrived, answer = asyncio.Event(), asyncio.Event()

        async def cancel(request: web.Request) -> web.Response:
            await request.read()
            arrived.set()
            await answer.wait()
            return web.json_response({"canceled": ["0x1"], "not_canceled": {}})

        app = web.Application()
        app.router.add_delete("/order", cancel)
        runner = web.AppRunner(app)
        await runner.setup()
        await web.TCPSite(runner, "127.0.0.1", 0).start()
        port = runner.addresses[0][1]
        http = LoopHttp(5.0)
        try:
            written: asyncio.Future[None] = asyncio.get_running_loop().create_future()
            sending = asyncio.ensure_future(http.send(SignedRequest(
                "DELETE", f"http://127.0.0.1:{port}/order", {"Content-Type": "application/json"},
                b'{"orderID": "0x1"}', None), written))
            await asyncio.wait_for(asyncio.shield(written), 5)
            told_before_answer = not sending.done()
            await asyncio.wait_for(arrived.wait(), 5)
            answer.set()
            value, _ = await asyncio.wait_for(sending, 5)
            return told_before_answer, written.done(), value
        finally:
            await http.close()
            await runner.cleanup()

    told_before_answer, told, value = run(scenario())
    assert told and told_before_answer
    assert value == {"canceled": ["0x1"], "not_canceled": {}}
