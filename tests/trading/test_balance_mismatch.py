"""A balance-mismatch halt ends by itself once a later check agrees (issue 11 item 5), with the
real trading core and controller on the simulator: a start-up that finds the venue holding fewer
shares than the ledger halts; the recheck job keeps it halted while they still disagree and
lifts it (ACTIVE, with an info alert) once the shares are back, with no operator action."""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from eth_account import Account
from sqlalchemy import text

from contracts.command_refusal import CommandRejected
from contracts.settings import load_settings
from engine.process.control import Controller
from engine.trading.core import TradingCore
from simulator.testing import SimHandle, approved_simulator
from storage.sqlite.db import Database
from storage.sqlite.migrations import migrate

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def sim() -> Iterator[SimHandle]:
    # The wallet is a plain type-0 key (EOA): allowed as a maker here; it only takes anyway.
    with approved_simulator(seed=61, agents=False, allow_eoa_makers=True, mined_delay_s=0.2,
                           confirmed_delay_s=0.2) as handle:
        yield handle


def _one(db: Database, sql: str) -> tuple[Any, ...]:
    with db.read() as conn:
        return tuple(conn.execute(text(sql)).one())


def _codes(db: Database) -> list[str]:
    with db.read() as conn:
        return list(conn.execute(text("SELECT code FROM alerts ORDER BY id")).scalars())


async def _until(predicate: Any, core: TradingCore, timeout: float = 15.0) -> None:
    for _ in range(int(timeout / 0.1)):
        await core.tick()  # applies the venue's events as the loop would
        if predicate():
            return
        await asyncio.sleep(0.1)
    raise AssertionError(f"timed out waiting for {predicate}")


def test_a_mismatch_halt_ends_when_a_later_check_agrees(tmp_path: Path, sim: SimHandle) -> None:
    key = "0x" + secrets.token_hex(32)
    address = Account.from_key(key).address
    migrate(tmp_path / "t.db")
    db = Database(tmp_path / "t.db")
    with db.write() as conn:
        conn.execute(text("UPDATE engine_state SET mode = 'live'"))
    settings = load_settings({"TRADER_ENV_FILE": str(tmp_path / "none"), "SIMULATOR_PORT": str(sim.port),
                              "TRADER_DB": str(tmp_path / "t.db"), "POLY_PRIVATE_KEY": key,
                              "POLY_SIGNATURE_TYPE": "0"})
    core = TradingCore(settings, db)
    controller = Controller(settings, db, core, core.gate)
    market = sim.market(neg_risk=False, index=5)
    sim.clear_book(market["condition_id"])
    lot = int(float(market["min_size"]))
    sim.place_liquidity(market["yes_token_id"], "BUY", "0.40", str(lot))
    sim.place_liquidity(market["yes_token_id"], "SELL", "0.50", str(lot))
    token = market["yes_token_id"]

    async def scenario() -> None:
        await controller.boot()
        await controller.start("operator")
        await core._stop_loop()  # drive ticks and jobs by hand
        ticket = {"condition_id": market["condition_id"], "outcome": "YES", "side": "BUY", "size": lot,
                  "price": 0.50, "tif": "FAK", "post_only": False}
        for _ in range(100):  # the first ticks build the engine's market picture
            await core.tick()
            try:
                await core.operator.place_order(ticket)
                break
            except CommandRejected as exc:
                assert "no market picture" in str(exc), exc
                await asyncio.sleep(0.1)
        await _until(lambda: _one(db, "SELECT COUNT(*) FROM fills WHERE status IN ('MINED', 'CONFIRMED')") == (1,),
                     core)
        await controller.stop("operator")
        sim.fund(address, token_id=token, tokens=str(-lot))  # the venue now holds none of them
        await controller.start("operator")
        await core._stop_loop()
        assert _one(db, "SELECT trading_state, trading_state_reason FROM engine_state") == ("HALTED",
                                                                                            "BALANCE_MISMATCH")
        assert "balance_check" in {job.id for job in core.jobs()}
        await core.scheduled.check_balances()  # still short at the venue: still halted
        assert _one(db, "SELECT trading_state FROM engine_state") == ("HALTED",)
        sim.fund(address, token_id=token, tokens=str(lot))  # settlement caught up
        await core.scheduled.check_balances()
        assert _one(db, "SELECT trading_state, trading_state_reason FROM engine_state") == ("ACTIVE", None)
        assert not core.risk.halted_for_balances
        await controller.stop("operator")

    try:
        asyncio.run(scenario())
    finally:
        db.dispose()
    codes = _codes(db)
    assert "BALANCE_MISMATCH_CLEARED" in codes and codes.index("BALANCE_MISMATCH_CLEARED") > max(
        i for i, c in enumerate(codes) if c.startswith("BALANCE_MISMATCH") and c != "BALANCE_MISMATCH_CLEARED")
