"""Arming Kalshi live (`set_venue_mode`), through the command path the dashboard and the CLI post to: every
unsafe case is refused with its reason and changes nothing (no key, an open Kalshi order, a venue that is
not armed on its own, a mode that does not exist), the desk's own mode is never touched, and an arming
that goes is audited and alerted. The engine-running refusal is the process test's
(tests/process/test_kalshi_live_process.py)."""

from __future__ import annotations

import asyncio
import json
import sqlite3
from pathlib import Path
from typing import Any

import pytest

from contracts.settings import load_settings
from engine.execution.placement import OrderGate
from engine.process.commands import CommandProcessor
from engine.process.control import Controller
from storage.command_queue.command_payloads import PayloadError
from storage.command_queue.commands import post_command
from storage.sqlite.db import Database
from storage.sqlite.migrations import migrate
from tests.arming import passed_preflight_for, promoted
from tests.helpers import post_raw
from tests.kalshi import keypair


class ModeTrading:
    """The Trading seam's mode switch, noting what it was asked."""

    def __init__(self) -> None:
        self.switched: list[tuple[str, str]] = []

    async def set_mode(self, mode: str, venue: str = "polymarket") -> None:
        self.switched.append((venue, mode))


def _desk(tmp: Path, *, key: bool) -> tuple[Path, CommandProcessor, ModeTrading]:
    path = tmp / "k.db"
    migrate(path)
    env = {"TRADER_ENV_FILE": str(tmp / "none"), "TRADER_DB": str(path)}
    if key:
        env.update(KALSHI_API_KEY_ID="key-1", KALSHI_PRIVATE_KEY=keypair()[0])
        passed_preflight_for(path, load_settings(env), "kalshi")  # what the arming gate asks besides
        promoted(path, "kx", ["kalshi:K-1"])
    gate = OrderGate()
    trading = ModeTrading()
    db = Database(path)
    controller = Controller(load_settings(env), db, trading, gate)  # type: ignore[arg-type]  # a stand-in with only what it calls
    return path, CommandProcessor(db, controller, trading, gate), trading  # type: ignore[arg-type]  # as above


def _run(path: Path, processor: CommandProcessor, payload: dict[str, Any] | str) -> tuple[str, str | None]:
    """The command posted (a dict as the front ends post it, a string as a buggy client could write it)
    and claimed once by the engine's command path: its status and error."""
    command_id = post_command(processor.db, "set_venue_mode", payload, actor="test").id if isinstance(payload, dict) \
        else post_raw(path, "set_venue_mode", payload)
    asyncio.run(processor._step())
    with sqlite3.connect(path) as conn:
        found = conn.execute("SELECT status, error FROM commands WHERE id = ?", (command_id,)).fetchone()
    return found[0], found[1]


def _state(path: Path) -> tuple[str, str, int]:
    with sqlite3.connect(path) as conn:
        mode, kalshi = conn.execute("SELECT (SELECT mode FROM engine_state), "
                                     "(SELECT mode FROM venue_modes WHERE venue = 'kalshi')").fetchone()
        audits = conn.execute("SELECT COUNT(*) FROM audit_log WHERE action = 'engine.set_venue_mode'").fetchone()[0]
    return mode, kalshi, audits


def test_arming_kalshi_live_without_its_key_is_refused(tmp_path: Path) -> None:
    path, processor, trading = _desk(tmp_path, key=False)
    status, error = _run(path, processor, {"venue": "kalshi", "mode": "live"})
    assert status == "failed" and "KALSHI_API_KEY_ID" in (error or "")
    assert _state(path) == ("paper", "paper", 0) and trading.switched == []


def test_an_open_kalshi_order_refuses_arming_and_a_polymarket_one_does_not(tmp_path: Path) -> None:
    path, processor, trading = _desk(tmp_path, key=True)
    with sqlite3.connect(path) as conn:
        conn.execute("""INSERT INTO orders (client_id, mode, strategy, condition_id, token_id, outcome, side, price,
                            size, tif, status, status_rank, created_at, updated_at, venue)
                        VALUES ('c1', 'paper', 's', 'kalshi:K-1', 'kalshi:K-1:yes', 'YES', 'BUY', 500000, 1000000,
                                'GTC', 'LIVE', 10, 0, 0, 'kalshi')""")
    status, error = _run(path, processor, {"venue": "kalshi", "mode": "live"})
    assert status == "failed" and "1 Kalshi orders are still open" in (error or "")
    assert _state(path) == ("paper", "paper", 0)
    with sqlite3.connect(path) as conn:
        conn.execute("UPDATE orders SET venue = 'polymarket', condition_id = '0xabc', token_id = '1'")
    status, error = _run(path, processor, {"venue": "kalshi", "mode": "live"})
    assert status == "done", error
    assert _state(path) == ("paper", "live", 1)  # Kalshi armed; the desk's own mode untouched
    assert trading.switched == [("kalshi", "live")]
    with sqlite3.connect(path) as conn:
        alert = conn.execute("SELECT level FROM alerts WHERE code = 'KALSHI_MODE'").fetchone()
    assert alert == ("warning",)
    status, _ = _run(path, processor, {"venue": "kalshi", "mode": "paper"})
    assert status == "done" and _state(path) == ("paper", "paper", 2)


@pytest.mark.parametrize("payload, said", [
    ('{"venue": "polymarket", "mode": "live"}', "must be one of kalshi"),
    ('{"venue": "kalshi", "mode": "yolo"}', "must be one of paper, live"),
    ('{"venue": "kalshi"}', "mode"),
])
def test_a_bad_arming_payload_is_refused_before_anything_changes(tmp_path: Path, payload: str, said: str) -> None:
    path, processor, trading = _desk(tmp_path, key=True)
    with pytest.raises(PayloadError, match=said):  # the front ends refuse it before it is queued
        post_command(processor.db, "set_venue_mode", json.loads(payload), actor="test")
    status, error = _run(path, processor, payload)  # and the engine, written past them
    assert status == "failed" and said in (error or "")
    assert _state(path) == ("paper", "paper", 0) and trading.switched == []
