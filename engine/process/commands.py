"""Claim -> apply -> acknowledge operator commands: the only dashboard-to-engine path.

Commands apply one at a time in priority order, except that a pending kill jumps ahead
of a command still being applied: the running command is interrupted (and acknowledged
as failed) so a slow start can never delay a kill.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Mapping
from typing import Any

from contracts.command_kinds import BY_NAME as REGISTRY
from contracts.command_kinds import Handler as Applier
from contracts.command_refusal import CommandRejected
from engine.execution.placement import OrderGate
from engine.process.control import Controller
from engine.process.dispatch import HANDLERS, Appliers, Service
from engine.process.trading_seam import Trading
from storage.command_queue import command_effects
from storage.command_queue import command_payloads as payloads
from storage.command_queue import commands as queue
from storage.command_queue.command_payloads import PayloadError, kill_reason
from storage.sqlite.changes import ChangeWatch
from storage.sqlite.db import Database, is_locked, now_ms

log = logging.getLogger("engine.process.commands")
LOCKED_RETRY_S = 0.1
PREKILL_BUDGET_S = 10.0
KILL_LOCKED_S = 60.0  # the longest a kill waits out another process's write lock before it fails

# Which kinds close the order gate at their claim: the registry's (contracts/command_kinds.py); the call
# that applies each kind: engine/process/dispatch.py.
BLOCKING_KINDS = frozenset(kind.name for kind in REGISTRY.values() if kind.closes_gate)


def parse_payload(kind: str, raw: str) -> dict[str, Any]:
    """The command's validated payload. A kill never fails on its payload: whatever it
    carries, it goes ahead with the text as its reason."""
    if kind == "kill":
        return {"reason": kill_reason(raw)}
    try:
        return payloads.parse(kind, raw)
    except PayloadError as exc:
        raise CommandRejected(str(exc)) from None


class CommandProcessor:
    def __init__(self, db: Database, controller: Controller, trading: Trading, gate: OrderGate, *,
                 poll_s: float = 0.01, services: Mapping[Applier, Service] | None = None):
        """The controller applies lifecycle commands, `trading` the order commands (and the
        cancel ahead of a kill the database lock holds up); `gate`: the desk's one order gate,
        which a kill (and a stop) closes here, at the claim."""
        self.db = db
        self.controller = controller
        self.trading = trading
        self.gate = gate
        self.poll_s = poll_s
        self.appliers = Appliers(controller, trading, dict(services or {}))
        self._current: asyncio.Task[None] | None = None
        self._current_id: int | None = None
        self._prekilled: int | None = None  # the pending kill already acted on while the database was locked
        self._changes: ChangeWatch | None = None  # opened by the first poll
        self._nothing_pending: bool | None = None  # the last probe found nothing: of kills only (True), or at all

    async def run(self, stopping: asyncio.Event) -> None:
        while not stopping.is_set():
            try:
                await self._step()
            except Exception:  # a DB hiccup must not end the command loop
                log.exception("command loop error")
            await asyncio.sleep(self.poll_s)
        await self.drain()
        if self._changes is not None:
            self._changes.close()

    async def drain(self, timeout_s: float = 5.0) -> None:
        if self._current is not None and not self._current.done():
            try:
                await asyncio.wait_for(asyncio.shield(self._current), timeout_s)
            except (TimeoutError, asyncio.CancelledError):
                self._current.cancel()

    async def _step(self) -> None:
        busy = self._current is not None and not self._current.done()
        if not self._pending(kill_only=busy):
            return
        try:
            with self.db.write() as conn:
                command = queue.claim_next(conn, now_ms(), kinds=("kill",) if busy else None)
        except Exception as exc:
            if not is_locked(exc):
                raise
            await self._kill_while_locked()
            return
        if command is None:
            return
        try:
            payload = parse_payload(command.kind, command.payload)
        except CommandRejected as exc:  # refused before anything changed: the engine stays as it was
            await self._finish(command.id, ok=False, error=str(exc))
            log.warning("command refused", extra={"command_id": command.id, "kind": command.kind,
                                                  "error": str(exc)})
            return
        if command.kind in BLOCKING_KINDS:
            # Before anything can yield to the event loop: no order leaves after this claim. The
            # one place a kill blocks orders; nothing after it on the kill's path blocks again.
            self.gate.block()
        if busy:
            await self._interrupt_current()
        self._current_id = command.id
        self._current = asyncio.create_task(self.apply(command, payload))
        if command.kind == "kill":
            await self._current  # nothing else runs until the kill has finished

    def _pending(self, *, kill_only: bool) -> bool:
        # Nothing committed since a probe found nothing of these kinds: there is nothing to find (the
        # probe was a read transaction a hundred times a second, most of an idle engine's CPU).
        if self._changes is None:
            self._changes = ChangeWatch(self.db.path)
        if not self._changes.changed() and self._nothing_pending in (False, kill_only):
            return False
        with self.db.read() as conn:
            found = queue.has_pending(conn, ("kill",) if kill_only else None)
        self._nothing_pending = None if found else kill_only
        return found

    async def _kill_while_locked(self) -> None:
        """Another process holds the write lock, so a pending kill cannot be claimed yet. It
        acts at once anyway (reads still work): orders are blocked and everything at the venue
        is cancelled; the kill is claimed, latched and acknowledged once the lock is released."""
        with self.db.read() as conn:
            kill_id = queue.pending_id(conn, "kill")
        if kill_id is None or kill_id == self._prekilled:
            return
        self._prekilled = kill_id
        log.warning("a kill is waiting for the database lock: orders blocked and cancelled at the venue now",
                    extra={"command_id": kill_id})
        self.gate.block()
        try:
            await asyncio.wait_for(self.trading.cancel_at_venue(), PREKILL_BUDGET_S)
        except Exception:
            log.exception("cancelling at the venue ahead of the kill failed; the kill will try again")

    async def _interrupt_current(self) -> None:
        assert self._current is not None
        interrupted_id = self._current_id
        self._current.cancel()
        try:
            await self._current
        except asyncio.CancelledError:
            pass
        if interrupted_id is not None:
            await self._finish(interrupted_id, ok=False, error="interrupted by a kill")

    async def apply(self, command: queue.CommandRow, payload: dict[str, Any]) -> None:
        started = now_ms()
        try:
            with command_effects.applying(command.id):  # its effects are noted on its row as they commit
                result = await (self._kill(command, payload) if command.kind == "kill" else
                                self._dispatch(command, payload))
        except CommandRejected as exc:
            await self._finish(command.id, ok=False, error=str(exc))
            log.warning("command failed", extra={"command_id": command.id, "kind": command.kind, "error": str(exc)})
            return
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            log.exception("command crashed", extra={"command_id": command.id, "kind": command.kind})
            await self._finish(command.id, ok=False, error=f"internal error: {type(exc).__name__}: {exc}")
            return
        await self._finish(command.id, ok=True, result=result)
        log.info("command done", extra={"command_id": command.id, "kind": command.kind,
                                        "apply_ms": now_ms() - started})

    async def _kill(self, command: queue.CommandRow, payload: dict[str, Any]) -> dict[str, Any]:
        """A kill never fails on another process's write lock (an import's batch, a loaded machine): while
        its latch or its bookkeeping cannot be written, everything at the venue is cancelled at once (the
        order gate is already closed) and the kill is applied again (it is idempotent) until it lands, for
        at most KILL_LOCKED_S; only a lock held longer fails it, in words."""
        waited_from = time.monotonic()
        cancelled_ahead = False
        while True:
            try:
                return await self._dispatch(command, payload)
            except Exception as exc:
                if not is_locked(exc) or time.monotonic() - waited_from > KILL_LOCKED_S:
                    raise
            if not cancelled_ahead:
                cancelled_ahead = True
                log.warning("a kill met the database locked by another process: orders cancelled at the venue now, "
                            "the kill applied again once the lock is released", extra={"command_id": command.id})
                try:
                    await asyncio.wait_for(self.trading.cancel_at_venue(), PREKILL_BUDGET_S)
                except Exception:
                    log.exception("cancelling at the venue ahead of the kill failed; the kill will try again")
            await asyncio.sleep(LOCKED_RETRY_S)

    async def _dispatch(self, command: queue.CommandRow, payload: dict[str, Any]) -> dict[str, Any]:
        handler = HANDLERS.get(command.kind)
        if handler is None:
            raise CommandRejected(f"unknown command kind {command.kind!r} (known: {', '.join(sorted(REGISTRY))})")
        return await handler(self.appliers, payload, command.actor)

    async def _finish(self, command_id: int, *, ok: bool, result: Any = None, error: str | None = None) -> None:
        """Acknowledge; while another process holds the write lock, try again until it lands."""
        while True:
            try:
                with self.db.write() as conn:
                    queue.finish(conn, command_id, ok=ok, result=result, error=error)
                return
            except Exception as exc:
                if not is_locked(exc):
                    raise
            await asyncio.sleep(LOCKED_RETRY_S)
