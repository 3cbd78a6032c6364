"""A quote the risk gate trims keeps its queue: the market maker under a max-order-size trim
re-quotes no more often than untrimmed (within 1.5x). Two paper cores side by side on the same
moving simulator markets, one with the trim, ticked together."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import text

from engine.trading.core import TradingCore
from simulator.testing import SimHandle, running_simulator
from storage.db import Database, now_ms
from storage.migrations import migrate
from storage.settings import load_settings

pytestmark = pytest.mark.slow
PARAMS = {"size": 20, "half_spread": 0.02, "refresh_threshold": 0.01, "max_spread": 0.5}


@pytest.fixture(scope="module")
def sim() -> Iterator[SimHandle]:
    with running_simulator(seed=31, agents=True, agent_interval_s=0.1) as handle:
        yield handle


def _core(tmp: Path, sim: SimHandle, max_order_size: str | None) -> TradingCore:
    migrate(tmp / "t.db")
    db = Database(tmp / "t.db")
    with db.write() as conn:
        conn.execute(text("""INSERT INTO strategies (name, kind, params, markets, enabled, created_at, updated_at,
                                 updated_by) VALUES ('mm', 'market_making', :p, :m, 1, :t, :t, 'test')"""),
                     {"p": json.dumps(PARAMS), "m": json.dumps({"filter": {"max_markets": 4}}), "t": now_ms()})
        if max_order_size is not None:
            conn.execute(text("""INSERT INTO risk_limits (name, value, version, updated_at, updated_by)
                                 VALUES ('max_order_size', :v, 1, 0, 'test')"""), {"v": max_order_size})
    settings = load_settings({"TRADER_ENV_FILE": str(tmp / "none"), "SIMULATOR_PORT": str(sim.port),
                              "TRADER_DB": str(tmp / "t.db")})
    return TradingCore(settings, db)


def _placed(core: TradingCore) -> int:
    with core.db.read() as conn:
        return int(conn.execute(text("SELECT COUNT(*) FROM orders")).scalar_one())


def test_a_trimmed_quote_keeps_its_queue(tmp_path: Path, sim: SimHandle) -> None:
    plain = _core(tmp_path / "plain", sim, None)
    trimmed = _core(tmp_path / "trimmed", sim, "16")

    async def scenario() -> tuple[int, int, list[int]]:
        for core in (plain, trimmed):
            await core.start(operator=True)
            core.unblock_orders()
            await core._stop_loop()  # ticked together, by hand
        await asyncio.sleep(1.0)  # books arrive
        for _ in range(3):  # first quotes in place
            for core in (plain, trimmed):
                await core.tick()
        base = (_placed(plain), _placed(trimmed))
        for _ in range(150):  # ~15 s of a moving market
            for core in (plain, trimmed):
                await core.tick()
            await asyncio.sleep(0.1)
        with trimmed.db.read() as conn:
            sizes = sorted(set(conn.execute(text("SELECT size FROM orders")).scalars()))
        result = (_placed(plain) - base[0], _placed(trimmed) - base[1], sizes)
        for core in (plain, trimmed):
            await core.stop()
        return result

    untrimmed_rate, trimmed_rate, sizes = asyncio.run(scenario())
    assert untrimmed_rate > 0, "the market did not move: nothing was measured"
    assert trimmed_rate <= 1.5 * untrimmed_rate + 2, (trimmed_rate, untrimmed_rate)
    assert sizes == [16_000_000]  # the trim was in force throughout
