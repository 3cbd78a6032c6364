"""A resting quote the venue refuses is retried at the timed pass's cadence, not once per decision on
events (engine/trading/passes/refused_quotes.py). Live against the simulator refusing every order, the
refusal marked its market, its REJECTED row changed the market's inputs, and the decision that followed
placed the same quote again: 34 placements of each quote in 0.49 s until a breaker halted the desk,
where the timed pass tries it once a pass. Here the timed pass is a minute away: one refused round
from the first pass, none from the decisions on events it marks; the next timed pass tries again, and
the decisions its refusals mark do not."""

from __future__ import annotations

import asyncio
import json
import secrets
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from sqlalchemy import text

from contracts.settings import load_settings
from engine.trading.core import TradingCore
from simulator.testing import SimHandle, approved_simulator
from storage.sqlite.db import Database, now_ms
from storage.sqlite.migrations import migrate

pytestmark = pytest.mark.slow
WAIT_S = 15.0  # far below the timed pass's minute
QUIET_S = 0.5  # how long nothing may happen before the decisions the refusals marked are over


@pytest.fixture(scope="module")
def sim() -> Iterator[SimHandle]:
    with approved_simulator(seed=9, agents=False) as handle:
        handle.set_faults(refuse_in_body_rate=1.0)  # every placement refused (inside a 200, as the venue does)
        yield handle


def _core(tmp: Path, sim: SimHandle) -> TradingCore:
    """A live core making a market in one market (two resting quotes), deciding on events, its timed
    pass a minute apart."""
    migrate(tmp / "t.db")
    db = Database(tmp / "t.db")
    now = now_ms()
    with db.write() as conn:
        conn.execute(text("""INSERT INTO strategies (name, kind, params, markets, enabled, created_at, updated_at,
                                 updated_by, live) VALUES ('mm', 'market_making', :p, :m, 1, :t, :t, 'test', 1)"""),
                     {"p": json.dumps({"size": 20, "max_spread": 0.5}),
                      "m": json.dumps({"filter": {"max_markets": 1}}), "t": now})
        for key, value in {"tick_interval_ms": 60_000, "decide_on_events": 1, "decision_min_gap_ms": 10}.items():
            conn.execute(text("INSERT INTO settings (key, value, version, updated_at, updated_by) "
                              "VALUES (:k, :v, 1, :t, 'test')"), {"k": key, "v": json.dumps(value), "t": now})
        conn.execute(text("UPDATE engine_state SET mode = 'live'"))
    env = {"TRADER_ENV_FILE": str(tmp / "none"), "SIMULATOR_PORT": str(sim.port), "TRADER_DB": str(tmp / "t.db"),
           "POLY_PRIVATE_KEY": "0x" + secrets.token_hex(32)}
    return TradingCore(load_settings(env), db)


def _refused(core: TradingCore) -> int:
    with core.db.read() as conn:
        return int(conn.execute(text("SELECT COUNT(*) FROM orders WHERE status = 'REJECTED'")).scalar_one())


async def _until(condition: Callable[[], bool], timeout_s: float = WAIT_S) -> None:
    deadline = asyncio.get_running_loop().time() + timeout_s
    while not condition():
        assert asyncio.get_running_loop().time() < deadline, "not within the wait"
        await asyncio.sleep(0.01)


async def _quiet(core: TradingCore) -> None:
    """Until no decision ran, none is due and no order was refused for QUIET_S."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + WAIT_S
    last, since = None, loop.time()
    while True:
        now = (core.events.schedule.decided, core.events.schedule.due, _refused(core))
        if now != last:
            last, since = now, loop.time()
        elif now[1] == 0 and loop.time() - since >= QUIET_S:
            return
        assert loop.time() < deadline, "the decisions kept running"
        await asyncio.sleep(0.02)


def test_a_refused_resting_quote_waits_for_the_next_timed_pass(tmp_path: Path, sim: SimHandle) -> None:
    core = _core(tmp_path, sim)
    seen: dict[str, object] = {}

    schedule = core.events.schedule
    real_decide = schedule._decide
    refused_at_start: list[int] = []  # the refusals written when each decision on events started

    async def decide(key: str) -> None:
        refused_at_start.append(_refused(core))
        await real_decide(key)

    schedule._decide = decide  # the schedule's own, seen as each decision starts

    async def scenario() -> None:
        await core.start(operator=True)
        core.gate.unblock()
        # The first round's bid and ask refused, and a decision made after it: the refusals' marks
        # decided (whenever it ran: a poll of the count of decisions could start after it).
        await _until(lambda: any(n >= 2 for n in refused_at_start))
        await _quiet(core)
        seen["events"], seen["state"] = _refused(core), core.risk.memory.trading_state.value
        await core._stop_loop()  # the next timed pass, by hand
        await core.tick()
        seen["pass"] = _refused(core)
        drained = await core.events.schedule.drain()  # the decisions that pass's refusals marked
        seen["drained"], seen["after"] = drained, _refused(core)
        await core.stop()

    asyncio.run(scenario())
    assert seen["events"] == 2, "a decision on events placed the refused quotes again"
    assert seen["state"] == "ACTIVE"
    assert seen["pass"] == 4  # the timed pass tries them again, as it always did
    assert seen["drained"] and seen["after"] == 4  # its refusals' decisions ran, and placed nothing
