"""Equity the breakers can trust, with the real trading core, controller and simulator:
live cash is the wallet's collateral (seeded at start-up, deposits and withdrawals between
runs booked and kept out of the drawdown), a switch from paper to live starts the peak
afresh, a drawdown REDUCING ends when equity recovers, and a re-arm after a kill-switch
kill lets trading resume (and the switch trip again)."""

from __future__ import annotations

import asyncio
import json
import secrets
from collections.abc import Iterator
from pathlib import Path

import pytest
from eth_account import Account
from sqlalchemy import text

from contracts.domain import Intent, Quote, Side, Tif
from contracts.settings import load_settings
from engine.execution import store
from engine.execution.executor import Executor
from engine.execution.recovery import recover
from engine.feeds.catalog import MarketCatalog
from engine.process.control import Controller
from engine.trading.core import TradingCore
from engine.venues.polymarket.discovery import refresh_markets
from engine.venues.polymarket.venue import PolymarketVenue
from simulator.testing import SimHandle, approved_simulator
from storage.engine_stores import execution_ledger
from storage.sqlite.db import Database, now_ms
from storage.sqlite.migrations import migrate
from tests.arming import passed_preflight_for, promoted

pytestmark = pytest.mark.slow
PUSD = 1_000_000
WALLET = 250  # pUSD a new simulator account starts with: a small live wallet, unlike paper's 10,000


@pytest.fixture(scope="module")
def sim() -> Iterator[SimHandle]:
    with approved_simulator(seed=17, agents=False, starting_balance=str(WALLET)) as handle:
        yield handle


def _desk(tmp: Path, sim: SimHandle) -> tuple[Controller, TradingCore, str]:
    key = "0x" + secrets.token_hex(32)
    migrate(tmp / "t.db")
    db = Database(tmp / "t.db")
    settings = load_settings({"TRADER_ENV_FILE": str(tmp / "none"), "SIMULATOR_PORT": str(sim.port),
                              "TRADER_DB": str(tmp / "t.db"), "POLY_PRIVATE_KEY": key,
                              "POLY_SIGNATURE_TYPE": "0"})
    core = TradingCore(settings, db)
    passed_preflight_for(tmp / "t.db", settings)  # the arming gate's preflight of this wallet
    promoted(tmp / "t.db", "held-aside", ["0x" + "0" * 64])  # promoted, on a market nobody lists
    return Controller(settings, db, core, core.gate), core, Account.from_key(key).address


async def _start(controller: Controller, core: TradingCore) -> None:
    await controller.start("operator")
    await core._stop_loop()  # drive ticks by hand


def _one(db: Database, sql: str) -> tuple:
    with db.read() as conn:
        return tuple(conn.execute(text(sql)).one())


def _kills(db: Database) -> list[str]:
    with db.read() as conn:
        return list(conn.execute(text("SELECT payload FROM commands WHERE kind = 'kill' ORDER BY id")).scalars())


def _ledger_cash(db: Database, mode: str) -> int:
    with db.read() as conn:
        return store.cash(conn, mode)


def _lose(core: TradingCore, amount: int) -> None:
    """A loss the ledger keeps across a restart (a restart reloads cash from it)."""
    with core.db.write() as conn:
        execution_ledger.add_cash_entry(conn, mode=core.mode, kind="adjustment", ref=f"test-loss-{now_ms()}",
                                        amount=-amount, note="test loss", now=now_ms(),
                                        venue=core.desk.venue_name)
    core.executor.state.cash -= amount


def test_live_equity_is_the_wallet_and_the_peak_starts_afresh(tmp_path: Path, sim: SimHandle) -> None:
    controller, core, address = _desk(tmp_path, sim)
    db = core.db

    async def scenario() -> None:
        await controller.boot()
        await _start(controller, core)
        assert (await core.tick()).equity == 10_000 * PUSD  # paper: the peak is 10,000
        await controller.stop("operator")
        await controller.set_mode("operator", "live")
        await _start(controller, core)
        collateral = (await core.executor.venue.balances([])).collateral
        assert collateral == WALLET * PUSD
        assert _ledger_cash(db, "live") == collateral  # seeded from the wallet at start-up
        valuation = await core.tick()
        assert valuation.equity == WALLET * PUSD
        assert _one(db, "SELECT trading_state, peak_equity FROM engine_state") == ("ACTIVE", WALLET * PUSD)
        assert not core.executor.blocked and _kills(db) == []
        # A realistic loss: 30 of 250 pUSD is 12% (max drawdown 10%, kill switch 20%).
        core.executor.state.cash -= 30 * PUSD
        await core.tick()
        assert _one(db, "SELECT trading_state, trading_state_reason FROM engine_state") == ("REDUCING", "DRAWDOWN")
        assert _kills(db) == []
        core.executor.state.cash += 25 * PUSD  # back to 2% below the peak: the REDUCING state ends
        await core.tick()
        assert _one(db, "SELECT trading_state, trading_state_reason FROM engine_state") == ("ACTIVE", None)
        await controller.stop("operator")
        # Between runs the operator withdraws 50 pUSD: booked, and not mistaken for a 20% loss.
        sim.fund(address, "-50")
        await _start(controller, core)
        assert _ledger_cash(db, "live") == (WALLET - 50) * PUSD
        await core.tick()
        assert _one(db, "SELECT trading_state, peak_equity FROM engine_state") == ("ACTIVE", (WALLET - 50) * PUSD)
        assert _kills(db) == []
        await controller.stop("operator")

    asyncio.run(scenario())
    with db.read() as conn:
        entries = conn.execute(text("SELECT kind, ref, amount FROM cash_ledger WHERE mode = 'live' ORDER BY id")).all()
        alerts = conn.execute(text("SELECT message FROM alerts WHERE code = 'CASH_SYNC' ORDER BY id")).scalars().all()
        audit = conn.execute(text("SELECT before, after FROM audit_log WHERE action = 'engine.set_mode'")).one()
    assert [(kind, amount) for kind, _, amount in entries] == [("deposit", WALLET * PUSD), ("adjustment", -50 * PUSD)]
    assert entries[0][1] == "initial" and entries[1][1].startswith("balance-sync-")
    assert len(alerts) == 2 and "-50.00 pUSD" in alerts[1]
    before, after = json.loads(audit[0]), json.loads(audit[1])
    assert (before["mode"], before["peak_equity"]) == ("paper", 10_000 * PUSD)
    assert (after["mode"], after["peak_equity"], after["day_start_equity"]) == ("live", None, None)


def test_rearm_after_a_kill_switch_kill_resumes_and_the_switch_trips_again(tmp_path: Path, sim: SimHandle) -> None:
    controller, core, _ = _desk(tmp_path, sim)
    db = core.db

    async def scenario() -> None:
        await controller.boot()
        await _start(controller, core)
        await core.tick()  # the peak: 10,000 pUSD of paper cash
        _lose(core, 2_500 * PUSD)  # 25% below it (kill switch at 20%)
        await core.tick()
        assert core.executor.blocked and len(_kills(db)) == 1
        await controller.kill("risk", json.loads(_kills(db)[0])["reason"])
        assert _one(db, "SELECT trading_state, trading_state_reason FROM engine_state") == (
            "HALTED", "KILL_SWITCH_DRAWDOWN")
        await controller.rearm("operator")
        assert _one(db, "SELECT kill_latched, trading_state, peak_equity FROM engine_state") == (0, "ACTIVE", None)
        await _start(controller, core)
        assert (await core.tick()).equity == 7_500 * PUSD
        assert not core.executor.blocked and len(_kills(db)) == 1  # measured afresh from 7,500: no new kill
        # Trading resumes; today's 2,500 loss is still real, so the daily-loss limit holds it to reducing.
        assert _one(db, "SELECT trading_state, trading_state_reason, peak_equity FROM engine_state") == (
            "REDUCING", "DAILY_LOSS", 7_500 * PUSD)
        _lose(core, 2_000 * PUSD)  # 27% below the new peak, the same day
        await core.tick()
        assert core.executor.blocked and len(_kills(db)) == 2
        await controller.stop("operator")

    asyncio.run(scenario())
    with db.read() as conn:
        audit = conn.execute(text("SELECT before, after FROM audit_log WHERE action = 'engine.rearm'")).one()
    before, after = json.loads(audit[0]), json.loads(audit[1])
    assert (before["trading_state"], before["trading_state_reason"], before["peak_equity"]) == (
        "HALTED", "KILL_SWITCH_DRAWDOWN", 10_000 * PUSD)
    assert (after["kill_latched"], after["trading_state"], after["peak_equity"]) == (False, "ACTIVE", None)


def test_rearm_after_an_operator_kill_keeps_the_risk_state(tmp_path: Path, sim: SimHandle) -> None:
    controller, core, _ = _desk(tmp_path, sim)
    db = core.db
    with db.write() as conn:
        conn.execute(text("""UPDATE engine_state SET trading_state = 'REDUCING', trading_state_reason = 'DRAWDOWN',
                                 peak_equity = :p"""), {"p": 10_000 * PUSD})

    async def scenario() -> None:
        await controller.boot()
        await controller.kill("operator", "news")
        await controller.rearm("operator")

    asyncio.run(scenario())
    assert _one(db, "SELECT kill_latched, trading_state, trading_state_reason, peak_equity FROM engine_state") == (
        0, "REDUCING", "DRAWDOWN", 10_000 * PUSD)


def test_live_cash_is_not_synced_while_fills_are_pending(tmp_path: Path) -> None:
    """A MATCHED fill has moved the ledger's cash but not yet the wallet's: no entry is booked."""
    async def scenario(sim: SimHandle) -> tuple[int, int, str]:
        settings = load_settings({"TRADER_ENV_FILE": str(tmp_path / "none"), "SIMULATOR_PORT": str(sim.port),
                                  "TRADER_DB": str(tmp_path / "t.db"), "POLY_PRIVATE_KEY": "0x" + secrets.token_hex(32),
                                  "POLY_SIGNATURE_TYPE": "0"})
        migrate(tmp_path / "t.db")
        db = Database(tmp_path / "t.db")
        await refresh_markets(db, settings.gamma_host)
        catalog = MarketCatalog()
        catalog.load(db)
        market = next(m for m in catalog.all() if not m.neg_risk and m.min_size <= 20 * PUSD)
        sim.place_liquidity(market.yes_token, "SELL", "0.5", "100")
        trader = Executor(db, PolymarketVenue(settings), catalog, mode="live")
        await trader.start()
        trader.gate.unblock()
        try:
            trader.set_intents([Intent("s", market.condition_id, (Quote(Side.BUY, 500_000, 20 * PUSD, Tif.FAK),))])
            await trader.reconcile()
            deadline = asyncio.get_running_loop().time() + 10
            while not any(t.pending for t in trader.state.positions.values()):
                assert asyncio.get_running_loop().time() < deadline, "no MATCHED fill"
                await asyncio.sleep(0.05)
        finally:
            await trader.close()
        restarted = Executor(db, PolymarketVenue(settings), catalog, mode="live")
        await restarted.start()
        try:
            report = await recover(restarted)
        finally:
            await restarted.close()
        assert report.cash_flow == 0 and not report.mismatches
        with db.read() as conn:
            assert conn.execute(text("SELECT COUNT(*) FROM cash_ledger WHERE mode = 'live'")).scalar_one() == 0
            assert conn.execute(text("SELECT status FROM fills")).scalars().all() == ["MATCHED"]
            trade_id, fee = conn.execute(text("SELECT trade_id, fee FROM fills")).one()
        return _ledger_cash(db, "live"), fee, trade_id

    # On-chain settlement is slow here: the fill stays MATCHED for the whole test.
    # The live wallet is a plain type-0 (EOA) key, which the venue refuses as a maker: allowed here.
    with approved_simulator(seed=17, agents=False, prefill_books=False, mined_delay_s=120.0,
                           allow_eoa_makers=True) as sim:
        cash, fee, trade_id = asyncio.run(scenario(sim))
        # The taker fee as the venue charged it, though the catalog had not read this market's schedule.
        assert fee == round(float(sim.trade(trade_id)["fee"]) * PUSD)
        assert cash == -10 * PUSD - fee  # the fill's cost and fee alone: no deposit was booked



def test_winning_shares_not_yet_redeemed_are_redeemable_not_live_cash(tmp_path: Path) -> None:
    """Polymarket pays a winning position only when its shares are redeemed: until then the
    ledger owes it as a redeemable claim, not cash, as the wallet holds the shares, not pUSD. A
    restart's sync sees the two agree: nothing was withdrawn."""
    async def until(check, what: str) -> None:
        deadline = asyncio.get_running_loop().time() + 15
        while not check():
            assert asyncio.get_running_loop().time() < deadline, what
            await asyncio.sleep(0.05)

    def claims() -> int:
        with db.read() as conn:
            return conn.execute(text("SELECT COUNT(*) FROM claims WHERE status = 'open'")).scalar_one()

    async def scenario(sim: SimHandle) -> None:
        await controller.boot()
        await _start(controller, core)
        core.deciding = False  # the strategy only selects markets (so the feed follows them); no quotes
        cid = next(c for c in sorted(core.host.markets()) if core.catalog.get(c).min_size <= 20 * PUSD)
        yes = core.catalog.get(cid).yes_token
        await until(lambda: core.books.book(yes) is not None, "a book")
        await core.tick()  # the risk context covers the market now
        ask = core.books.book(yes).best_ask
        core.executor.set_intents([Intent("hand", cid, (Quote(Side.BUY, ask.price, 20 * PUSD, Tif.FAK),))])
        await core.executor.reconcile()
        await until(lambda: core.executor.state.totals("hand", yes).settled == 20 * PUSD, "a settled buy")
        cash = _ledger_cash(db, "live")
        sim.resolve(cid, "YES")
        await until(lambda: claims() == 1, "the resolution final and owed")
        assert _ledger_cash(db, "live") == cash and core.executor.state.redeemable == 20 * PUSD
        await controller.stop("operator")
        await _start(controller, core)
        collateral = (await core.executor.venue.balances([])).collateral
        assert _ledger_cash(db, "live") == collateral  # the shares are in the wallet, the claim in the ledger
        assert core.executor.state.redeemable == 20 * PUSD
        assert sim.balances(address)["tokens"] == {yes: "20"}
        await controller.stop("operator")

    # The live wallet is a plain type-0 (EOA) key, which the venue refuses as a maker: allowed here.
    with approved_simulator(seed=23, agents=False, mined_delay_s=0.05, confirmed_delay_s=0.05,
                           allow_eoa_makers=True, resolution_delay_s=0.1) as sim:
        key = "0x" + secrets.token_hex(32)
        migrate(tmp_path / "t.db")
        db = Database(tmp_path / "t.db")
        with db.write() as conn:
            conn.execute(text("UPDATE engine_state SET mode = 'live'"))
            conn.execute(text("""INSERT INTO strategies (name, kind, params, markets, enabled, created_at, updated_at,
                                     updated_by) VALUES ('hand', 'market_making', '{}', :m, 1, 0, 0, 'test')"""),
                         {"m": json.dumps({"filter": {"max_markets": 10}})})
            # Collect nothing: this test is about what is owed before the venue pays.
            conn.execute(text("INSERT INTO settings (key, value, version, updated_at, updated_by) "
                              "VALUES ('auto_redeem', '0', 1, 0, 'test')"))
        settings = load_settings({"TRADER_ENV_FILE": str(tmp_path / "none"), "SIMULATOR_PORT": str(sim.port),
                                  "TRADER_DB": str(tmp_path / "t.db"), "POLY_PRIVATE_KEY": key,
                                  "POLY_SIGNATURE_TYPE": "0"})
        core = TradingCore(settings, db)
        controller, address = Controller(settings, db, core, core.gate), Account.from_key(key).address
        asyncio.run(scenario(sim))
    with db.read() as conn:
        kinds = conn.execute(text("SELECT kind FROM cash_ledger WHERE mode = 'live' ORDER BY id")).scalars().all()
    assert kinds == ["deposit"]  # no settlement as cash, no adjustment: nothing was withdrawn
