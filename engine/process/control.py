"""Lifecycle operations: what start, stop, pause, resume, kill, re-arm and mode switches do.

Every state change goes through `_go`, which checks the transition table and persists the
new state in the same transaction as any side fields (desired state, latch, errors), so
what the dashboard reads is always a state the engine really reached.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from contracts.command_refusal import CommandRejected
from contracts.settings import Settings
from contracts.venue_policies import UnknownVenue, VenuePolicy, policy_of, venues_armed_alone
from contracts.venues import desk_venue
from engine.execution.placement import OrderGate
from engine.process.lifecycle import Desired, State, check_transition
from engine.process.start_lock import Waited, patiently
from engine.process.trading_seam import Trading
from engine.risk import breakers
from engine.venues.registry import adapter_of
from storage.desk import arming
from storage.desk.audit import raise_alert, write_audit
from storage.engine_stores import engine_state as state_store
from storage.engine_stores import execution_ledger, venue_modes
from storage.sqlite.db import Database, is_locked, now_ms

log = logging.getLogger("engine.process.control")
HALT_CANCEL_BUDGET_S = 20.0


class Controller:
    def __init__(self, settings: Settings, db: Database, trading: Trading, gate: OrderGate):
        """`gate`: the desk's one order gate, opened when trading starts and closed by every
        way out of it (the kill closes it where it is claimed: engine/process/commands.py)."""
        self.settings = settings
        self.db = db
        self.trading = trading
        self.gate = gate
        self.state = State.IDLE
        self.mode = "paper"
        self.venue_modes: dict[str, str] = {}  # each venue armed on its own, in its own mode beside the desk's

    # -- transitions -------------------------------------------------------------------

    def _go(self, target: State, **fields: Any) -> None:
        check_transition(self.state, target)
        with self.db.write() as conn:
            state_store.save(conn, state=target.value, **fields)
        log.info("state change", extra={"from_state": self.state.value, "to_state": target.value})
        self.state = target

    def _save(self, **fields: Any) -> None:
        with self.db.write() as conn:
            state_store.save(conn, **fields)

    async def _enter_trading(self, target: State, *, operator: bool = False, waited: Waited | None = None) -> None:
        """STARTING -> target (RUNNING or PAUSED), or ERROR with an alert if start-up fails. A write lock
        another process holds is waited for, up to START_LOCK_WAIT_SECONDS (engine/process/start_lock.py)."""
        waited = waited or Waited()
        budget = self.settings.start_lock_wait_s
        try:
            await patiently(lambda: self.trading.start(operator=operator), "trading start", budget, waited)
            if target is State.PAUSED:
                await self.trading.pause()
            else:
                self.gate.unblock()
        except Exception as exc:  # the trading core failed; the engine stays up, halted
            self.gate.block()
            said = (f"the database stayed locked by another process past the {budget} s the start waits for it "
                    "(START_LOCK_WAIT_SECONDS): "
                    f"close whatever holds it (an sqlite3 shell, a backup, a long query), then press Start ({exc})"
                    if is_locked(exc) else str(exc))
            await self.fail(f"start failed: {said}")
            raise CommandRejected(f"start failed: {said}") from exc
        await patiently(lambda: self._go(target), "state change", budget, waited)
        if waited.tries:
            log.warning(waited.said())
            with self.db.write() as conn:
                raise_alert(conn, level="info", source="engine", code="START_LOCK_WAITED", message=waited.said())

    async def fail(self, message: str) -> None:
        """Move to ERROR with an alert; trading is already blocked by the caller."""
        log.error("engine error", extra={"error": message})
        with self.db.write() as conn:
            raise_alert(conn, level="critical", source="engine", code="ENGINE_ERROR", message=message)
        if self.state is not State.ERROR:
            self._go(State.ERROR, last_error=message)

    # -- boot --------------------------------------------------------------------------

    async def boot(self, waited: Waited | None = None) -> None:
        """Start-up is recovery: come back to where the persisted state says, or halted. A write lock
        another process holds meanwhile is waited for (`waited` counts what the start waited so far)."""
        waited = waited or Waited()
        snap, crashed = await patiently(self._record_boot, "boot", self.settings.start_lock_wait_s, waited)
        self.mode = snap.mode
        self.venue_modes = dict(snap.venue_modes)
        log.info("boot", extra={"previous_state": snap.state, "desired": snap.desired_state,
                                "crashed": crashed, "kill_latched": snap.kill_latched})
        if snap.kill_latched:
            self._go(State.KILLED)
        elif crashed and len(snap.recent_crashes) >= self.settings.crash_loop_max_restarts:
            await self._halt_for_crash_loop(len(snap.recent_crashes))
        elif snap.desired_state in (Desired.RUNNING, Desired.PAUSED):
            await patiently(lambda: self._go(State.STARTING), "state change", self.settings.start_lock_wait_s, waited)
            try:
                await self._enter_trading(State(snap.desired_state), waited=waited)
            except CommandRejected:
                pass  # already ERROR with an alert
        elif snap.state != State.IDLE:
            self._go(State.STOPPED)

    def _record_boot(self) -> tuple[Any, bool]:
        with self.db.write() as conn:
            snap, crashed = state_store.record_boot(conn, window_ms=self.settings.crash_loop_window_s * 1000)
            state_store.save(conn, **self._reads())
            for policy in venues_armed_alone():
                adapter = adapter_of(policy.venue)
                venue_modes.record_reads(conn, policy.venue, adapter.account(self.settings),
                                         adapter.host(self.settings))
        return snap, crashed

    def _reads(self) -> dict[str, Any]:
        """What this engine read at its start for the desk's venue: where it trades (so "real money" is said
        only against a real venue) and with which account (arming needs a preflight of these:
        storage/desk/arming.py); those of each venue armed on its own go to its row (`boot`)."""
        desk = adapter_of(desk_venue())
        return {"venue_host": desk.host(self.settings), "venue_wallet": desk.account(self.settings),
                "reads_at": now_ms()}

    async def _halt_for_crash_loop(self, crashes: int) -> None:
        """Come up halted, and leave nothing resting: the crashed processes' orders are
        cancelled at the venue before the engine idles (bounded; a failure is alerted)."""
        minutes = self.settings.crash_loop_window_s // 60
        message = (
            f"crash loop: {crashes} unclean restarts within {minutes} min; the engine came up "
            "halted. Read var/log/engine.log, fix the cause, then press Start."
        )
        self.gate.block()
        with self.db.write() as conn:
            raise_alert(conn, level="critical", source="engine", code="CRASH_LOOP", message=message)
        self._go(State.STOPPED, desired_state=Desired.STOPPED.value, last_error=message)
        try:
            cancelled = await asyncio.wait_for(self.trading.cancel_everything(), HALT_CANCEL_BUDGET_S)
            log.warning("crash-loop halt: cancelled every order at the venue", extra={"result": cancelled})
        except Exception as exc:  # the venue may be what keeps failing: say so, stay halted
            log.exception("crash-loop halt: cancelling the venue's orders failed")
            with self.db.write() as conn:
                raise_alert(conn, level="critical", source="engine", code="HALT_CANCEL_FAILED",
                            message=f"the crash-loop halt could not cancel the orders at the venue ({exc!r}); "
                                    "run `python -m engine cancel-all` or cancel them on "
                                    f"{policy_of(desk_venue()).site}")

    # -- operator commands -------------------------------------------------------------

    async def start(self, actor: str) -> dict[str, Any]:
        if self.state is State.RUNNING:
            return await self._start_while_running(actor)
        if self.state is State.KILLED:
            raise CommandRejected("the kill latch is set: re-arm before starting")
        if self.state not in (State.IDLE, State.STOPPED, State.ERROR):
            hint = "use resume" if self.state is State.PAUSED else "wait for it to settle"
            raise CommandRejected(f"cannot start while {self.state.value}: {hint}")
        # An operator start is a deliberate retry: forget the crash history.
        self._go(State.STARTING, desired_state=Desired.RUNNING.value, last_error=None, recent_crashes=[])
        await self._enter_trading(State.RUNNING, operator=True)
        return {"state": self.state.value}

    async def _start_while_running(self, actor: str) -> dict[str, Any]:
        """A deliberate Start while running ends a halt that a Start ends (the README's promise:
        an error-rate or balance-mismatch HALTED), audited; otherwise there is nothing to do."""
        cleared = await self.trading.clear_start_halts()
        if cleared is None:
            return {"state": self.state.value, "note": "already running"}
        with self.db.write() as conn:
            after = breakers.load_memory(conn)
            write_audit(conn, actor=actor, action="engine.start_clears_halt", entity="engine_state",
                        before={"trading_state": "HALTED", "reason": cleared},
                        after={"trading_state": after.trading_state.value, "reason": after.reason})
        note = f"already running; the {cleared} halt is cleared"
        if after.trading_state.value == "HALTED":  # checked again at once, and it still holds
            note += f", but trading halted again at once: {after.reason}"
        return {"state": self.state.value, "note": note}

    async def stop(self, actor: str) -> dict[str, Any]:
        self.gate.block()
        if self.state is State.IDLE:
            self._go(State.STOPPED, desired_state=Desired.STOPPED.value)
            return {"state": self.state.value}
        if self.state in (State.STOPPED, State.KILLED):
            self._save(desired_state=Desired.STOPPED.value)
            return {"state": self.state.value, "note": "already stopped"}
        self._go(State.STOPPING, desired_state=Desired.STOPPED.value)
        await self.trading.stop()
        self._go(State.STOPPED)
        return {"state": self.state.value}

    async def pause(self, actor: str) -> dict[str, Any]:
        if self.state is State.PAUSED:
            return {"state": self.state.value, "note": "already paused"}
        if self.state is not State.RUNNING:
            raise CommandRejected(f"cannot pause while {self.state.value}: only a RUNNING engine pauses")
        withdrawn = await self.trading.pause()
        self._go(State.PAUSED, desired_state=Desired.PAUSED.value)
        return {"state": self.state.value, "withdrawn": withdrawn,
                "note": "the strategies stopped and their orders were withdrawn; manual orders stay working"}

    async def resume(self, actor: str) -> dict[str, Any]:
        if self.state is State.RUNNING:
            return {"state": self.state.value, "note": "already running"}
        if self.state is not State.PAUSED:
            raise CommandRejected(f"cannot resume while {self.state.value}: only a PAUSED engine resumes (use start)")
        await self.trading.resume()
        self._go(State.RUNNING, desired_state=Desired.RUNNING.value)
        return {"state": self.state.value}

    async def kill(self, actor: str, reason: str) -> dict[str, Any]:
        """Latch durably, then cancel everything at the venue. The order gate was closed where
        the kill was claimed (engine/process/commands.py, before anything could yield): the one
        place a kill blocks orders."""
        if self.state is not State.KILLED:
            with self.db.write() as conn:
                raise_alert(conn, level="critical", source=actor, code="KILLED", message=f"kill: {reason}")
            self._go(State.KILLED, kill_latched=1, killed_at=now_ms(), kill_reason=reason,
                     desired_state=Desired.STOPPED.value)
        cancelled = await self.trading.kill()
        return {"state": self.state.value, **cancelled}

    def latch_from_interrupted_kill(self) -> None:
        """A kill was claimed by a process that died: honour it rather than replay or drop it."""
        self.gate.block()
        with self.db.write() as conn:
            raise_alert(conn, level="critical", source="engine", code="KILL_INTERRUPTED",
                        message="a kill was interrupted by a crash; the kill latch is set")
            state_store.save(conn, kill_latched=1, killed_at=now_ms(), kill_reason="interrupted kill",
                             desired_state=Desired.STOPPED.value)

    async def rearm(self, actor: str) -> dict[str, Any]:
        with self.db.read() as conn:
            snap = state_store.load(conn)
        if not snap.kill_latched:
            return {"state": self.state.value, "note": "not latched"}
        self._go(State.STOPPED, kill_latched=0, kill_reason=None, killed_at=None)
        with self.db.write() as conn:
            # After a kill-switch kill, re-arming also ends its HALTED state and restarts the peak.
            risk_before, risk_after = breakers.clear_kill_switch(conn, snap.kill_reason, now_ms())
            write_audit(conn, actor=actor, action="engine.rearm", entity="engine_state",
                        before={"kill_latched": True, "kill_reason": snap.kill_reason, **risk_before},
                        after={"kill_latched": False, **risk_after})
        return {"state": self.state.value}

    async def set_mode(self, actor: str, mode: str, override: str = "") -> dict[str, Any]:
        if mode not in ("paper", "live"):
            raise CommandRejected(f"mode must be 'paper' or 'live', not {mode!r}")
        if mode == self.mode:
            return {"mode": mode, "note": "already in this mode"}
        armed: dict[str, Any] = {}
        if mode == "live":
            self._check_can_go_live()
            armed = self._passes_gate(desk_venue(), override, actor)
        elif self.state not in (State.IDLE, State.STOPPED, State.KILLED, State.ERROR):
            await self.stop(actor)  # back to paper is always allowed: stop live trading first
        await self.trading.set_mode(mode)
        before, self.mode = self.mode, mode
        with self.db.write() as conn:
            state_store.save(conn, mode=mode)
            # The peak and the day's reference were the other mode's equity: start them afresh.
            risk_before, risk_after = breakers.reset_for_new_mode(conn, now_ms())
            write_audit(conn, actor=actor, action="engine.set_mode", entity="engine_state",
                        before={"mode": before, **risk_before}, after={"mode": mode, **risk_after, **armed})
        return {"mode": mode, "state": self.state.value}

    async def set_venue_mode(self, actor: str, venue: str, mode: str, override: str = "") -> dict[str, Any]:
        """A venue armed on its own armed live, or back to paper, on its own: the desk's mode is not touched.
        Live needs the venue's keys, the engine stopped and none of its orders open (the dashboard asks
        for the typed confirmation first); back to paper is always allowed, stopping the engine first."""
        policy = self._apart(venue)
        if mode not in ("paper", "live"):
            raise CommandRejected(f"mode must be 'paper' or 'live', not {mode!r}")
        if mode == self.venue_modes.get(venue, "paper"):
            return {"venue": venue, "mode": mode, "note": f"{policy.label} is in this mode already"}
        armed: dict[str, Any] = {}
        if mode == "live":
            self._check_venue_can_go_live(venue)
            armed = self._passes_gate(venue, override, actor)
        elif self.state not in (State.IDLE, State.STOPPED, State.KILLED, State.ERROR):
            await self.stop(actor)  # back to paper is always allowed: stop live trading first
        await self.trading.set_mode(mode, venue=venue)
        before, self.venue_modes[venue] = self.venue_modes.get(venue, "paper"), mode
        with self.db.write() as conn:
            venue_modes.set_mode(conn, venue, mode)
            write_audit(conn, actor=actor, action="engine.set_venue_mode", entity="venue_modes",
                        before={"venue": venue, "mode": before}, after={"venue": venue, "mode": mode, **armed})
            raise_alert(conn, level="warning" if mode == "live" else "info", source=actor, code=policy.code("MODE"),
                        message=f"{policy.label} armed {mode.upper()}: " + (
                            f"promoted strategies that name {policy.label} markets trade real money there from "
                            "the next Start" if mode == "live" else
                            f"strategies that name {policy.label} markets trade its paper ledger"))
        return {"venue": venue, "mode": mode, "state": self.state.value}

    @staticmethod
    def _apart(venue: str) -> VenuePolicy:
        """The policy of a venue armed on its own (refused: the desk's own, or no venue)."""
        try:
            policy = policy_of(venue)
        except UnknownVenue as exc:
            raise CommandRejected(str(exc)) from None
        if policy not in venues_armed_alone():
            raise CommandRejected(f"{policy.label} is the desk's own venue: its mode is set_mode")
        return policy

    def _passes_gate(self, venue: str, override: str, actor: str) -> dict[str, Any]:
        """The arming gate (storage/desk/arming.py) with this engine's own reads: the account it holds
        and the host it trades on. Refused unless every check passes or each failing one is overridden
        by name; what the audit row keeps of it (the checks, and the overrides with a critical alert)."""
        adapter = adapter_of(venue)
        reads = arming.EngineReads(True, self.state.value, adapter.account(self.settings), adapter.host(self.settings))
        with self.db.read() as conn:
            gate = arming.venue_gate(conn.connection.driver_connection, venue, reads, now_ms())  # type: ignore[arg-type]  # SQLAlchemy types the DBAPI connection loosely; it is sqlite3's
        refusal = gate.refusal(override)
        if refusal is not None:
            raise CommandRejected(f"not armed: {refusal}")
        overridden = [c for c in gate.failing if c.name in arming.override_names(override)]
        if overridden:
            with self.db.write() as conn:
                raise_alert(conn, level="critical", source=actor, code="ARMED_PAST_CHECKS", subject=venue,
                            message=f"{policy_of(venue).label} armed LIVE past failing checks, by {actor}: "
                                    + "; ".join(f"{c.name} ({c.detail})" for c in overridden))
        return {"checks": arming.gate_lines(gate), "overridden": [c.name for c in overridden]}

    def _check_venue_can_go_live(self, venue: str) -> None:
        policy, adapter = policy_of(venue), adapter_of(venue)
        if not adapter.armable(self.settings):
            raise CommandRejected(f"live trading on {policy.label} needs {adapter.arm_needs}")
        if self.state not in (State.IDLE, State.STOPPED):
            raise CommandRejected(f"stop the engine before arming {policy.label} live (it is {self.state.value})")
        with self.db.read() as conn:
            still_open = execution_ledger.count_open(conn, venue=venue)
        if still_open:
            raise CommandRejected(f"{still_open} {policy.label} orders are still open: cancel them (Orders page) "
                                  f"before arming {policy.label} live")

    def _check_can_go_live(self) -> None:
        if not self.settings.live_credentials_present:
            raise CommandRejected("live trading needs a wallet key: POLY_KEYSTORE (encrypted) or POLY_PRIVATE_KEY "
                                  "in .env (see docs/going-live.md)")
        problem = self.settings.wallet_problem()
        if problem is not None:
            raise CommandRejected(f"{problem}; then run `python -m engine preflight`")
        if self.state not in (State.IDLE, State.STOPPED):
            raise CommandRejected(f"stop the engine before going live (it is {self.state.value})")
        with self.db.read() as conn:
            still_open = execution_ledger.count_open(conn)
        if still_open:
            raise CommandRejected(f"{still_open} orders are still open: cancel them (Orders page) before going live")

    async def reload_config(self, actor: str) -> dict[str, Any]:
        return await self.trading.reload_config()

    async def shutdown(self) -> None:
        """SIGTERM: cancel strategy orders best-effort and stop; the desired state is kept,
        so the next process resumes what the operator asked for."""
        self.gate.block()
        if self.state in (State.STARTING, State.RUNNING, State.PAUSED, State.ERROR):
            self._go(State.STOPPING)
        await self.trading.close()
        if self.state is State.STOPPING:
            self._go(State.STOPPED)
        self._save(clean_exit=1, pid=None)
