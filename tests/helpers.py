"""Shared test plumbing: isolated environments and real engine subprocesses."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from contracts.runtime_settings import BY_KEY as SETTINGS_BY_KEY
from contracts.runtime_settings import parse_setting
from engine.venues.paper import PaperVenue
from storage.command_queue.commands import CommandRow, get_command, post_command
from storage.dashboard_queries import status_queries as queries
from storage.desk import desk_status
from storage.sqlite.db import Database

ROOT = Path(__file__).resolve().parent.parent


def wait_until(predicate: Callable[[], Any], timeout: float = 10.0, interval: float = 0.02, what: str = "") -> Any:
    """Poll `predicate` until it returns something truthy; fail after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout}s waiting for {what or predicate}")


def isolated_env(tmp: Path, **extra: str) -> dict[str, str]:
    """Environment for a subprocess that touches nothing outside `tmp`."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("POLY_", "DASHBOARD_", "TRADER_"))}
    env.update(
        TRADER_DB=str(tmp / "trader.db"),
        TRADER_ENV_FILE=str(tmp / "test.env"),
        DATA_SOURCE="simulator",
        PYTHONUNBUFFERED="1",
        LOG_LEVEL="INFO",
    )
    env.update(extra)
    return env


@dataclass
class EngineProcess:
    """A real `python -m engine run` on a temp database."""

    tmp: Path
    env: dict[str, str]
    proc: subprocess.Popen[bytes] | None = None
    log_path: Path = field(init=False)

    def __post_init__(self) -> None:
        self.log_path = self.tmp / "engine.log"

    @property
    def db_path(self) -> Path:
        return Path(self.env["TRADER_DB"])

    def start(self, *, wait: bool = True) -> EngineProcess:
        log = open(self.log_path, "ab")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "engine", "run"], cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,  # as under supervisord: no terminal
        )
        if wait:
            self.wait_alive()
        return self

    def wait_alive(self, timeout: float = 60.0) -> None:
        """Bounded, not timed: a loaded 2-core machine can take tens of seconds to boot a live engine."""
        assert self.proc is not None
        pid = self.proc.pid

        def alive() -> bool:
            if self.proc is not None and self.proc.poll() is not None:
                raise AssertionError(f"engine exited with {self.proc.returncode}:\n{self.log()}")
            if not self.db_path.exists():
                return False
            try:
                status = queries.engine_status(self.db())
            except Exception:
                return False
            # Booted: this pid beats and start-up recovery has finished.
            return status.pid == pid and not status.heartbeat_stale and status.state != "STARTING"

        wait_until(alive, timeout, what="engine heartbeat")

    def db(self) -> Database:
        if not hasattr(self, "_db"):
            self._db = Database(self.db_path)
        return self._db

    def post(self, kind: str, payload: str | dict[str, Any] | None = None, **kw: Any) -> CommandRow:
        return post_command(self.db(), kind, payload, actor="test", **kw)

    def wait_command(self, command_id: int, timeout: float = 10.0) -> CommandRow:
        def finished() -> CommandRow | None:
            with self.db().read() as conn:
                row = get_command(conn, command_id)
            return row if row is not None and row.finished else None

        return wait_until(finished, timeout, what=f"command {command_id}")

    def run(self, kind: str, payload: str | dict[str, Any] | None = None, timeout: float = 10.0) -> CommandRow:
        return self.wait_command(self.post(kind, payload).id, timeout)

    def rows(self, sql: str, *args: object) -> list[tuple[Any, ...]]:
        """`sql`'s rows, read with sqlite3 alone (as another process reads the desk's file)."""
        import sqlite3

        with sqlite3.connect(self.db_path, timeout=10) as conn:
            return conn.execute(sql, args).fetchall()

    def status(self) -> desk_status.EngineStatus:
        return queries.engine_status(self.db())

    def terminate(self, timeout: float = 20.0) -> int:
        assert self.proc is not None
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        return self.proc.returncode

    def crash(self) -> None:
        assert self.proc is not None
        self.proc.kill()
        self.proc.wait(10)

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def cleanup(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(10)
        if hasattr(self, "_db"):
            self._db.dispose()


def set_book(sim: Any, market: dict[str, Any], *levels: tuple[str, str, str]) -> None:
    """The simulator market's YES book, exactly these (side, price, size) levels of the liquidity account."""
    sim.clear_book(market["condition_id"])
    for side, price, size in levels:
        sim.place_liquidity(market["yes_token_id"], side, price, size)


def run_cli(args: list[str], env: dict[str, str], input_text: str | None = None,
            timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "engine", *args], cwd=ROOT, env=env, input=input_text,
        capture_output=True, text=True, timeout=timeout,
    )


def post_raw(db_path: Path, kind: str, payload: str, actor: str = "test") -> int:
    """Queue a command row as a buggy or hostile client could write it, bypassing
    storage.command_queue.commands' checks, so the engine's own refusal is what a test sees."""
    import sqlite3
    import uuid

    with sqlite3.connect(db_path, timeout=10) as conn:
        now = time.time_ns() // 1_000_000
        cur = conn.execute(
            """INSERT INTO commands (idempotency_key, kind, payload, priority, status, actor, created_at, expires_at)
               VALUES (?, ?, ?, ?, 'pending', ?, ?, ?)""",
            (uuid.uuid4().hex, kind, payload, 100 if kind == "kill" else 50, actor, now, now + 60_000))
        return int(cur.lastrowid or 0)



Strategy = tuple[str, str, dict[str, Any], Any]  # name, kind, params, markets (a list or a filter)


def seed_desk(db_path: Path, *, mode: str = "paper", strategies: Sequence[Strategy] = (),
              limits: dict[str, str] | None = None, settings: dict[str, Any] | None = None,
              promoted: bool | None = None) -> None:
    """A migrated database an engine finds ready to trade: `strategies` enabled, risk `limits`
    and runtime `settings` stored (as the dashboard would), desired RUNNING in `mode`. The
    strategies are `promoted` to live (default: on a live desk; every strategy starts paper only)."""
    import json
    import sqlite3

    from storage.sqlite.db import now_ms
    from storage.sqlite.migrations import migrate

    migrate(db_path)
    now = now_ms()
    with sqlite3.connect(db_path) as conn:
        for name, kind, params, markets in strategies:
            conn.execute("""INSERT INTO strategies (name, kind, params, markets, enabled, created_at, updated_at,
                                updated_by, live) VALUES (?, ?, ?, ?, 1, ?, ?, 'test', ?)""",
                         (name, kind, json.dumps(params), json.dumps(markets), now, now,
                          int(mode == "live" if promoted is None else promoted)))
        for name, value in (limits or {}).items():
            conn.execute("INSERT INTO risk_limits (name, value, version, updated_at, updated_by) "
                         "VALUES (?, ?, 1, ?, 'test')", (name, value, now))
        for key, setting in (settings or {}).items():
            if key in SETTINGS_BY_KEY:  # the engine replaces a value out of bounds by its default: say so here
                parse_setting(SETTINGS_BY_KEY[key], setting)
            conn.execute("INSERT INTO settings (key, value, version, updated_at, updated_by) VALUES (?, ?, 1, ?, 't')",
                         (key, json.dumps(setting), now))
        conn.execute("UPDATE engine_state SET desired_state = 'RUNNING', mode = ?", (mode,))


def paper_desk(tmp: Path, sim: Any, strategies: Sequence[Strategy], *,
               limits: dict[str, str] | None = None, settings: dict[str, Any] | None = None) -> EngineProcess:
    """An engine (not started) paper trading `strategies` on the simulator `sim`."""
    env = isolated_env(tmp, SIMULATOR_PORT=str(sim.port), LOG_LEVEL="WARNING")
    seed_desk(Path(env["TRADER_DB"]), strategies=strategies, limits=limits, settings=settings)
    return EngineProcess(tmp, env)


def live_desk(tmp: Path, sim: Any, *, mode: str = "live", mm: tuple[dict[str, Any], Any] | None = None,
              settings: dict[str, Any] | None = None) -> tuple[EngineProcess, str]:
    """An engine (not started) on the simulator `sim` with a fresh type-3 (deposit wallet) account,
    desired RUNNING in `mode`; `mm` = (params, markets) adds a market-making strategy named mm,
    `settings` stored runtime settings. Returns the engine and the wallet (funder) address."""
    import secrets

    from eth_account import Account

    key = "0x" + secrets.token_hex(32)
    funder = Account.create().address
    sim.link_funder(Account.from_key(key).address, funder, 3)
    env = isolated_env(tmp, SIMULATOR_PORT=str(sim.port), POLY_PRIVATE_KEY=key, POLY_SIGNATURE_TYPE="3",
                       POLY_FUNDER=funder)
    seed_desk(Path(env["TRADER_DB"]), mode=mode, settings=settings,
              strategies=[] if mm is None else [("mm", "market_making", mm[0], mm[1])])
    return EngineProcess(tmp, env), funder


def decoded(document: str | None) -> Any:
    """A stored JSON document (a command's result, an audit row's after), decoded; a missing one
    fails the test here rather than as a TypeError inside json."""
    assert document is not None, "no JSON document where one was expected"
    return json.loads(document)


def paper_venue(core: Any) -> PaperVenue:
    """A paper engine core's venue, as the paper venue it is (to advance its settlement clock)."""
    venue = core.executor.venue
    assert isinstance(venue, PaperVenue), f"a paper core was expected, its venue is {type(venue).__name__}"
    return venue
