"""The paper ledger with the real trading core, live against the simulator (issue 38): a paper-only
value-betting strategy on a live desk buys on the paper venue, into the paper ledger only (the live
ledger and the wallet untouched); the operator's exit of that position sells it on paper; when its
market resolves the ledger settles the position and redeems it into paper cash; the ledger's own kill
switch halts the ledger alone."""

from __future__ import annotations

import asyncio
import json
import secrets
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from eth_account import Account
from sqlalchemy import text

from contracts.command_refusal import CommandRejected
from contracts.settings import load_settings
from contracts.venues import POLYMARKET
from engine.process.control import Controller
from engine.risk.gate import TradingState
from engine.trading.core import TradingCore
from simulator.testing import SimHandle, approved_simulator
from storage.sqlite.db import Database, now_ms
from storage.sqlite.migrations import migrate

pytestmark = pytest.mark.slow
WALLET = 300


@pytest.fixture(scope="module")
def sim() -> Iterator[SimHandle]:
    with approved_simulator(seed=23, agents=False, starting_balance=str(WALLET), resolution_delay_s=0.1) as handle:
        yield handle


def _desk(tmp: Path, sim: SimHandle, cid: str) -> tuple[Controller, TradingCore, str]:
    migrate(tmp / "t.db")
    db = Database(tmp / "t.db")
    params = {"order_style": "take", "edge": 0.03, "max_order": 10}
    with db.write() as conn:
        conn.execute(text("UPDATE engine_state SET mode = 'live'"))
        conn.execute(text("""INSERT INTO strategies (name, kind, params, markets, enabled, created_at, updated_at,
                                 updated_by, live) VALUES ('vb', 'value_betting', :p, :m, 1, :t, :t, 'test', 0)"""),
                     {"p": json.dumps(params), "m": json.dumps([cid]), "t": now_ms()})
        conn.execute(text("INSERT INTO settings (key, value, version, updated_at, updated_by) "
                          "VALUES ('paper_mined_after_ms', '0', 1, 0, 'test')"))  # paper buys sellable at once
    key = "0x" + secrets.token_hex(32)
    settings = load_settings({"TRADER_ENV_FILE": str(tmp / "none"), "SIMULATOR_PORT": str(sim.port),
                              "TRADER_DB": str(tmp / "t.db"), "POLY_PRIVATE_KEY": key, "POLY_SIGNATURE_TYPE": "0"})
    core = TradingCore(settings, db)
    return Controller(settings, db, core, core.gate), core, Account.from_key(key).address


def _rows(db: Database, sql: str) -> list[tuple]:
    with db.read() as conn:
        return [tuple(r) for r in conn.execute(text(sql))]


async def _until(core: TradingCore, done: Callable[[], bool], what: str) -> None:
    for _ in range(200):
        await core.tick()
        if done():
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


def test_a_paper_only_strategy_trades_settles_and_halts_in_its_ledger(tmp_path: Path, sim: SimHandle) -> None:
    market = sim.market(neg_risk=False)
    cid = market["condition_id"]
    controller, core, wallet = _desk(tmp_path, sim, cid)

    async def scenario() -> None:
        await controller.start("operator")
        await core._stop_loop()  # ticks by hand
        ledger = core.ledgers.get(POLYMARKET, "paper")
        assert ledger is not None and ledger.live and core.mode == "live"
        info = core.catalog.get(cid)
        assert info is not None
        await _until(core, lambda: (b := core.books.book(info.yes_token)) is not None and b.mid is not None,
                     "the market's book")
        book = core.books.book(info.yes_token)
        assert book is not None and book.mid is not None
        with core.db.write() as conn:  # a fair value well above the ask: value betting takes
            conn.execute(text("""INSERT INTO signals (condition_id, source, fair_value, updated_at, updated_by)
                                 VALUES (:c, 'operator', :v, :t, 'test')"""),
                         {"c": cid, "v": min(book.mid + 200_000, 980_000), "t": now_ms()})
        core.signals.fair_at = 0
        await _until(core, lambda: ledger.executor.state.totals("vb", info.yes_token).size > 0, "a paper fill")
        assert not [o for o in core.executor.state.orders.values() if o.strategy == "vb"]  # nothing live
        assert _rows(core.db, "SELECT COUNT(*) FROM fills WHERE mode = 'live'") == [(0,)]
        assert _rows(core.db, "SELECT COUNT(*) FROM fills WHERE mode = 'paper' AND strategy = 'vb'")[0][0] > 0
        assert sim.open_order_count(wallet) == 0 and not sim.activity(wallet)  # the wallet traded nothing
        # The operator exits the ledger's position from the dashboard (its ledger named): sold on paper.
        answer = await core.operator.exit({"strategy": "vb", "condition_id": cid, "outcome": "YES",
                                            "ledger": "paper", "reason": "by hand"})
        assert [p["strategy"] for p in answer["positions"]] == ["vb"]
        await _until(core, lambda: _rows(core.db, "SELECT COUNT(*) FROM fills WHERE mode = 'paper' AND strategy = 'vb' "
                                                  "AND side = 'SELL'")[0][0] > 0, "the paper exit's sale")
        await _until(core, lambda: ledger.executor.state.totals("vb", info.yes_token).size > 0, "vb buying again")
        # The market resolves YES: the ledger settles its position and redeems it on paper.
        sim.resolve(cid, "YES")
        await _until(core, lambda: ledger.executor.state.totals("vb", info.yes_token).size == 0,
                     "the ledger's settlement")
        claims = _rows(core.db, "SELECT mode, strategy FROM claims")
        assert claims and {c[0] for c in claims} == {"paper"} and {c[1] for c in claims} == {"vb"}
        owed, cash = ledger.executor.state.redeemable, ledger.executor.state.cash
        assert owed > 0
        for _ in range(200):  # the ledger's collections redeem it on the paper venue: paper cash, not live's
            await ledger.collections.run(auto=True, grace_ms=0)
            ledger.executor.drain()
            if ledger.executor.state.redeemable == 0:
                break
            await asyncio.sleep(0.05)
        assert ledger.executor.state.redeemable == 0 and ledger.executor.state.cash == cash + owed
        assert _rows(core.db, "SELECT COUNT(*) FROM cash_ledger WHERE mode = 'live' AND kind != 'deposit'") == [(0,)]
        # The ledger's kill switch: its equity far below its peak halts the ledger, not the desk.
        ledger.risk.memory = ledger.risk.memory.__class__(TradingState.ACTIVE, None, 10 ** 12, 10 ** 12, now_ms())
        await core.tick()
        assert ledger.risk.memory.trading_state is TradingState.HALTED
        assert core.risk.memory.trading_state is TradingState.ACTIVE
        assert _rows(core.db, "SELECT COUNT(*) FROM commands WHERE kind = 'kill'") == [(0,)]
        assert _rows(core.db, "SELECT subject FROM alerts WHERE code = 'KILL_SWITCH_DRAWDOWN'") == [("paper ledger",)]
        await controller.stop("operator")
        assert core.ledgers.get(POLYMARKET, "paper") is None
        with pytest.raises(CommandRejected, match="nothing trades paper beside it now"):
            await core.operator.exit({"strategy": "vb", "ledger": "paper"})

    asyncio.run(scenario())
