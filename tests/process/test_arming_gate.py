"""Arming is gated by a fresh passing preflight of the account the engine holds, whoever posts the
command: a real engine refuses `set_mode live` with every failing check named until a real `engine
preflight` of its wallet passed within the hour and a strategy is promoted, then arms (the checks in
the audit row). An override passes only the checks it names, each audited with a critical alert; it
never passes a running engine."""

from __future__ import annotations

import asyncio
import json
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest

from contracts.settings import load_settings
from contracts.venues import KALSHI
from engine.execution.placement import OrderGate
from engine.process.commands import CommandProcessor
from engine.process.control import Controller
from engine.venues.accounts import polymarket_account
from simulator.testing import SimHandle, approved_simulator
from storage.command_queue.commands import post_command
from storage.desk import arming
from storage.sqlite.db import Database, now_ms
from storage.sqlite.migrations import migrate
from tests.arming import (
    EVERY_OVERRIDABLE,
    KALSHI_ACCOUNT,
    KALSHI_HOST,
    passed_preflight_for,
    preflight_run,
    promoted,
)
from tests.helpers import decoded, live_desk, run_cli, wait_until

KEY = "0x" + "ab" * 32
FUNDER = "0x" + "12" * 20


class ModeTrading:
    async def set_mode(self, mode: str, venue: str = "polymarket") -> None:
        pass


def _controller(tmp: Path) -> tuple[Path, CommandProcessor]:
    path = tmp / "g.db"
    migrate(path)
    env = {"TRADER_ENV_FILE": str(tmp / "none"), "TRADER_DB": str(path), "POLY_PRIVATE_KEY": KEY,
           "POLY_SIGNATURE_TYPE": "3", "POLY_FUNDER": FUNDER}
    db, gate, trading = Database(path), OrderGate(), ModeTrading()
    controller = Controller(load_settings(env), db, trading, gate)  # type: ignore[arg-type]  # a stand-in with only what it calls
    return path, CommandProcessor(db, controller, trading, gate)  # type: ignore[arg-type]  # as above


def _arm(path: Path, processor: CommandProcessor, **payload: str) -> tuple[str, str | None]:
    command_id = post_command(processor.db, "set_mode", {"mode": "live", **payload}, actor="test").id
    asyncio.run(processor._step())
    with sqlite3.connect(path) as conn:
        return conn.execute("SELECT status, error FROM commands WHERE id = ?", (command_id,)).fetchone()


def _one(path: Path, sql: str) -> tuple:
    with sqlite3.connect(path) as conn:
        return conn.execute(sql).fetchone()


def test_an_override_passes_only_the_checks_it_names_audited(tmp_path: Path) -> None:
    path, processor = _controller(tmp_path)
    settings = processor.controller.settings
    preflight_run(path, "polymarket", polymarket_account(settings) or "", settings.clob_host,
                  failing=("approvals",))
    status, error = _arm(path, processor)
    assert status == "failed" and error is not None
    for named in ("approvals:", "preflight: failed at", "a promoted strategy:", "override each by name"):
        assert named in error, error
    status, error = _arm(path, processor, override="approvals, preflight")  # one failing check left unnamed
    assert status == "failed" and "a promoted strategy" in (error or "") and _one(path, "SELECT mode FROM "
                                                                                 "engine_state") == ("paper",)
    status, error = _arm(path, processor, override="approvals, preflight, a promoted strategy")
    assert status == "done", error
    assert _one(path, "SELECT mode FROM engine_state") == ("live",)
    (level, message) = _one(path, "SELECT level, message FROM alerts WHERE code = 'ARMED_PAST_CHECKS'")
    assert level == "critical" and "approvals" in message and "a promoted strategy" in message
    after = decoded(_one(path, "SELECT after FROM audit_log WHERE action = 'engine.set_mode'")[0])
    assert after["overridden"] == ["preflight", "approvals", "a promoted strategy"]
    assert {c["check"]: c["ok"] for c in after["checks"]}["region"] is True


def test_no_override_arms_a_running_engine_or_one_with_open_orders(tmp_path: Path) -> None:
    path, processor = _controller(tmp_path)
    passed_preflight_for(path, processor.controller.settings)
    promoted(path)
    with sqlite3.connect(path) as conn:
        conn.execute("""INSERT INTO orders (client_id, mode, strategy, condition_id, token_id, outcome, side, price,
                            size, tif, status, status_rank, created_at, updated_at)
                        VALUES ('c1', 'paper', 's', '0xc', 't', 'YES', 'BUY', 500000, 1000000, 'GTC', 'LIVE', 10,
                                0, 0)""")
    status, error = _arm(path, processor, override="no open orders")
    assert status == "failed" and "still open" in (error or "")
    with sqlite3.connect(path) as conn:
        conn.execute("DELETE FROM orders")
    status, error = _arm(path, processor)  # everything passes: no override needed, none alerted
    assert status == "done", error
    assert _one(path, "SELECT COUNT(*) FROM alerts WHERE code = 'ARMED_PAST_CHECKS'") == (0,)


def test_a_passed_preflight_dated_ahead_of_the_clock_does_not_count(tmp_path: Path) -> None:
    """Clock skew, or a database restored from elsewhere: a run 30 days ahead is not fresh. The refusal
    says why, with its fix; a run of now counts beside it."""
    path, processor = _controller(tmp_path)
    settings = processor.controller.settings
    promoted(path)
    preflight_run(path, "polymarket", polymarket_account(settings) or "", settings.clob_host,
                  at=now_ms() + 30 * 86_400_000)
    status, error = _arm(path, processor)
    assert status == "failed" and _one(path, "SELECT mode FROM engine_state") == ("paper",)
    assert "preflight: the last preflight is dated" in (error or "") and "30 days ahead of this machine's clock" \
        in (error or "") and "set the clock right" in (error or ""), error
    passed_preflight_for(path, settings)  # one of now, beside the one from the future
    status, error = _arm(path, processor)
    assert status == "done", error


def test_kalshis_checklist_says_a_preflight_ahead_of_the_clock_does_not_count(tmp_path: Path) -> None:
    """The Settings page's checklist (the same gate, the dashboard's reads) for Kalshi."""
    path = tmp_path / "k.db"
    migrate(path)
    preflight_run(path, KALSHI, KALSHI_ACCOUNT, KALSHI_HOST, at=now_ms() + 3 * 3_600_000)
    reads = arming.EngineReads(True, "STOPPED", KALSHI_ACCOUNT, KALSHI_HOST)
    with sqlite3.connect(path) as conn:
        conn.row_factory = sqlite3.Row
        line = next(c for c in arming.venue_gate(conn, KALSHI, reads, now_ms()).checks if c.name == "preflight")
    assert not line.ok and "3 h ahead of this machine's clock" in line.detail and "kalshi-preflight" in line.fix


@pytest.mark.parametrize("named", ["engine stopped", "no open orders", "wallet key read by the engine", "funder",
                                   "no such check"])
def test_an_override_naming_a_check_no_override_passes_is_refused_even_when_it_passes(
        tmp_path: Path, named: str) -> None:
    path, processor = _controller(tmp_path)  # stopped, no open orders, a key read: those pass
    status, error = _arm(path, processor, override=f"{EVERY_OVERRIDABLE}, {named}")
    assert status == "failed" and f"the override names {named}" in (error or ""), error
    assert _one(path, "SELECT mode FROM engine_state") == ("paper",)
    assert _one(path, "SELECT COUNT(*) FROM alerts WHERE code = 'ARMED_PAST_CHECKS'") == (0,)
    status, error = _arm(path, processor, override=EVERY_OVERRIDABLE)  # the same override without it arms
    assert status == "done", error


@pytest.fixture(scope="module")
def sim() -> Iterator[SimHandle]:
    with approved_simulator(seed=67, agents=False) as handle:
        yield handle


@pytest.mark.slow
def test_a_real_engine_arms_only_after_a_real_preflight_of_its_wallet(tmp_path: Path, sim: SimHandle) -> None:
    engine, funder = live_desk(tmp_path, sim, mode="paper")
    engine.env["RELAYER_API_KEY"] = "sim-relayer-key"  # resolved positions can be collected: preflight's last check
    sim.fund(funder, pusd="100")
    path = engine.db_path
    try:
        engine.start()
        reads = wait_until(lambda: _one(path, "SELECT venue_wallet, venue_host FROM engine_state WHERE "
                                              "venue_wallet IS NOT NULL"), 30, what="the engine's reads")
        assert reads == (polymarket_account(load_settings(engine.env)), f"http://127.0.0.1:{sim.port}")
        wait_until(lambda: _one(path, "SELECT COUNT(*) FROM markets")[0] > 0, 60, what="the market list")
        assert engine.run("stop", timeout=30).status == "done"
        refused = engine.run("set_mode", {"mode": "live"})
        assert refused.status == "failed" and "no preflight of this account on this host" in (refused.error or "")
        done = run_cli(["preflight", "--json"], engine.env, timeout=180)  # the real one, against the simulator
        assert done.returncode == 0, done.stdout + done.stderr
        assert _one(path, "SELECT venue, account, ok, actor FROM preflight_runs") == (
            "polymarket", reads[0], 1, "cli")
        refused = engine.run("set_mode", {"mode": "live"})
        assert refused.status == "failed" and "a promoted strategy" in (refused.error or "")
        assert "preflight:" not in (refused.error or "")  # the preflight counts now
        promoted(path, "mm-live", [sim.market(neg_risk=False)["condition_id"]])
        armed = engine.run("set_mode", {"mode": "live"})
        assert armed.status == "done", armed.error
        audit = decoded(_one(path, "SELECT after FROM audit_log WHERE action = 'engine.set_mode'")[0])
        assert audit["overridden"] == [] and all(c["ok"] for c in audit["checks"])
        assert "region" in {c["check"] for c in json.loads(_one(path, "SELECT checks FROM preflight_runs")[0])}
    finally:
        engine.cleanup()
