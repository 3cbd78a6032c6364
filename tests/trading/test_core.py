"""The trading core in-process against the simulator (paper): a strategy that raises is
disabled with an alert and an audit row while the others go on; the kill-switch drawdown
posts a kill; decisions explain what did not trade."""

from __future__ import annotations

import asyncio
import importlib
import json
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text

from contracts.settings import load_settings
from engine.strategies.market_making import MarketMaking
from engine.trading.core import TradingCore
from simulator.testing import SimHandle, approved_simulator
from storage.sqlite.db import Database, now_ms
from storage.sqlite.migrations import migrate
from tests.helpers import paper_venue

pytestmark = pytest.mark.slow
# The package re-exports `registry()`, so reach the module itself.
strategy_registry = importlib.import_module("engine.strategies.registry")


@pytest.fixture(scope="module")
def sim() -> Iterator[SimHandle]:
    # Resolutions are final at once here (no UMA liveness): the missed-resolution test needs one.
    with approved_simulator(seed=9, agents=False, resolution_delay_s=0) as handle:
        yield handle


class Exploding(MarketMaking):
    kind = "exploding"
    title = "Raises on every decision"

    def decide(self, snapshot, state, now_ms):
        raise ZeroDivisionError("bug in strategy code")


def _core(tmp: Path, sim: SimHandle, strategies: list[tuple[str, str, dict]]) -> TradingCore:
    migrate(tmp / "t.db")
    db = Database(tmp / "t.db")
    with db.write() as conn:
        for name, kind, params in strategies:
            conn.execute(text("""INSERT INTO strategies (name, kind, params, markets, enabled, created_at, updated_at,
                                     updated_by) VALUES (:n, :k, :p, :m, 1, :t, :t, 'test')"""),
                         {"n": name, "k": kind, "p": json.dumps(params),
                          "m": json.dumps({"filter": {"max_markets": 3}}), "t": now_ms()})
    settings = load_settings({"TRADER_ENV_FILE": str(tmp / "none"), "SIMULATOR_PORT": str(sim.port),
                              "TRADER_DB": str(tmp / "t.db")})
    return TradingCore(settings, db)


async def _started(core: TradingCore) -> None:
    await core.start(operator=True)
    core.gate.unblock()
    await core._stop_loop()  # drive ticks by hand
    for _ in range(100):
        if all(core.books.book(core.catalog.get(c).yes_token) for c in core.host.markets()):
            return
        await asyncio.sleep(0.05)


def test_a_raising_strategy_is_isolated(tmp_path: Path, sim: SimHandle, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(strategy_registry, "_KINDS", (*strategy_registry._KINDS, Exploding))
    core = _core(tmp_path, sim, [("good", "market_making", {"size": 20, "max_spread": 0.5}), ("bad", "exploding", {})])

    async def scenario() -> None:
        await _started(core)
        await core.tick()
        await core.tick()
        assert set(core.host.hosted) == {"good"}
        assert {o.strategy for o in core.executor.state.orders.values()} == {"good"}
        await core.stop()

    asyncio.run(scenario())
    with core.db.read() as conn:
        row = conn.execute(text("SELECT enabled, status, last_error FROM strategies WHERE name = 'bad'")).one()
        alerts = conn.execute(text("SELECT code FROM alerts")).scalars().all()
        audit = conn.execute(text("SELECT actor, action FROM audit_log")).all()
    assert (row[0], row[1]) == (0, "error") and "ZeroDivisionError" in row[2]
    assert "STRATEGY_ERROR" in alerts and ("engine", "strategy.disable") in [tuple(a) for a in audit]


def test_kill_switch_drawdown_posts_a_kill(tmp_path: Path, sim: SimHandle) -> None:
    core = _core(tmp_path, sim, [])

    async def scenario() -> None:
        await _started(core)
        await core.tick()  # records the peak: 10,000 pUSD of paper cash
        core.executor.state.cash -= 2_500_000_000  # a 25% fall from the peak (default switch: 20%)
        await core.tick()
        assert core.executor.blocked
        await core.stop()

    asyncio.run(scenario())
    with core.db.read() as conn:
        kills = conn.execute(text("SELECT kind, actor, payload FROM commands")).all()
        state = conn.execute(text("SELECT trading_state, trading_state_reason FROM engine_state")).one()
    assert [(k, a) for k, a, _ in kills] == [("kill", "risk")] and "drawdown" in kills[0][2]
    assert tuple(state) == ("HALTED", "KILL_SWITCH_DRAWDOWN")


def test_residuals_and_refusals_land_in_the_decisions_log(tmp_path: Path, sim: SimHandle) -> None:
    # 4 shares: worth more than the 1 pUSD minimum order value wherever the price is above 0.25,
    # so the gate passes them, but below every simulator market's minimum size (5 or 15 shares):
    # the planner cannot place them and says so as a residual.
    core = _core(tmp_path, sim, [("tiny", "market_making", {"size": 4, "max_spread": 0.5})])

    async def scenario() -> None:
        await _started(core)
        await core.tick()
        assert not core.executor.state.orders  # nothing legal to place
        await core.stop()

    asyncio.run(scenario())
    with core.db.read() as conn:
        rows = conn.execute(text("SELECT reason, requested, approved, detail FROM decisions "
                                 "WHERE strategy = 'tiny'")).all()
    residuals = [r for r in rows if r.reason == "BELOW_MIN_SIZE"]
    assert residuals and all((r.requested, r.approved) == (4_000_000, 0) for r in residuals)
    assert all(r.detail == "below the market's minimum size" for r in residuals)


def test_a_resolution_missed_while_down_is_settled_at_start(tmp_path: Path, sim: SimHandle) -> None:
    from contracts.domain import Intent, Quote, Side, Tif

    core = _core(tmp_path, sim, [("hand", "market_making", {"size": 20, "max_spread": 0.5})])
    cid = None

    async def buy_then_stop() -> None:
        nonlocal cid
        await _started(core)
        await core.tick()  # the risk context now covers the strategy's markets
        cid = sorted(core.host.markets())[0]
        info = core.catalog.get(cid)
        ask = core.books.book(info.yes_token).best_ask
        core.executor.set_intents([Intent("hand", cid, (Quote(Side.BUY, ask.price, 20_000_000, Tif.FAK),))])
        await core.executor.reconcile()
        core.executor.drain()
        await core.stop()

    asyncio.run(buy_then_stop())
    with core.db.read() as conn:
        held = conn.execute(text("SELECT SUM(settled + pending) FROM positions WHERE strategy = 'hand' "
                                 "AND condition_id = :c AND outcome = 'YES'"), {"c": cid}).scalar()
    assert held == 20_000_000
    assert cid is not None
    sim.resolve(cid, "YES")  # while the engine is down: no market-channel event reaches it
    again = TradingCore(core.settings, core.db)

    async def restart() -> None:
        await again.start(operator=True)
        await again.stop()

    asyncio.run(restart())
    with core.db.read() as conn:
        position = conn.execute(text("SELECT settled + pending FROM positions WHERE condition_id = :c "
                                     "AND outcome = 'YES'"), {"c": cid}).scalar()
        resolved = conn.execute(text("SELECT resolved_outcome FROM markets WHERE condition_id = :c"),
                                {"c": cid}).scalar()
        owed = conn.execute(text("SELECT SUM(amount) FROM claims WHERE status = 'open'")).scalar()
        as_cash = conn.execute(
            text("SELECT COUNT(*) FROM cash_ledger WHERE kind IN ('settlement', 'redemption')")).scalar()
    assert position == 0 and resolved == "YES" and owed >= 20_000_000
    assert as_cash == 0  # owed by the venue (redeemable), not cash until it pays


def _buy_some(core: TradingCore, size: int = 20_000_000) -> str:
    """A held YES position for strategy 'hand' (the first of its markets), via a take."""
    from contracts.domain import Intent, Quote, Side, Tif

    cid = sorted(core.host.markets())[0]
    ask = core.books.book(core.catalog.get(cid).yes_token).best_ask
    core.executor.set_intents([Intent("hand", cid, (Quote(Side.BUY, ask.price, size, Tif.FAK),))])
    return cid


def test_cancel_order_and_flatten_commands(tmp_path: Path, sim: SimHandle) -> None:
    from contracts.command_refusal import CommandRejected

    core = _core(tmp_path, sim, [("hand", "market_making", {"size": 20, "max_spread": 0.5})])

    async def scenario() -> None:
        await _started(core)
        await core.reload_config()  # paper fills settle at the next tick (paper_mined_after_ms 0)
        await core.tick()  # resting quotes
        working = next(iter(core.executor.state.orders.values()))
        with pytest.raises(CommandRejected, match="order_id"):
            await core.operator.cancel_order({"oops": 1})
        assert (await core.operator.cancel_order({"order_id": working.id}))["cancelled"]
        assert working.id not in core.executor.state.orders
        cid = _buy_some(core)
        await core.executor.reconcile()
        core.executor.drain()
        with pytest.raises(CommandRejected, match="pause or stop"):
            await core.operator.flatten({"condition_id": cid})
        await core.pause()
        paper_venue(core).advance()  # the paper fill settles (mined_after 0 here): sellable
        core.executor.drain()
        result = await core.operator.flatten({"condition_id": cid})
        assert result["orders"] == 1, result
        paper_venue(core).advance()
        core.executor.drain()
        yes = core.executor.state.totals("hand", core.catalog.get(cid).yes_token)
        assert yes.settled + yes.pending < 20_000_000  # sold into the bids down to the slippage floor
        await core.stop()

    with core.db.write() as conn:
        conn.execute(text("INSERT INTO settings (key, value, version, updated_at, updated_by) "
                          "VALUES ('paper_mined_after_ms', '0', 1, 0, 't')"))
    asyncio.run(scenario())
    with core.db.read() as conn:
        sells = conn.execute(text("SELECT reason, tif FROM orders WHERE side = 'SELL' AND strategy = 'hand'")).all()
    assert [tuple(s) for s in sells] == [("flatten", "FAK")]


def test_flatten_is_refused_under_the_latch_unless_it_follows_the_kill(tmp_path: Path, sim: SimHandle) -> None:
    from contracts.command_refusal import CommandRejected

    core = _core(tmp_path, sim, [("hand", "market_making", {"size": 20, "max_spread": 0.5})])

    async def scenario() -> None:
        await _started(core)
        await core.reload_config()
        await core.tick()
        _buy_some(core)
        await core.executor.reconcile()
        paper_venue(core).advance()
        core.executor.drain()
        await core.kill()
        with core.db.write() as conn:
            conn.execute(text("UPDATE engine_state SET kill_latched = 1"))
        with pytest.raises(CommandRejected, match="kill latch"):
            await core.operator.flatten({})
        from engine.trading.operator.operator_actions import flatten

        flattened = await flatten(core.desk, core.risk, {}, deciding=False, after_kill=True)
        assert flattened["orders"] >= 1  # the engine's own exception
        await core.stop()

    with core.db.write() as conn:
        conn.execute(text("INSERT INTO settings (key, value, version, updated_at, updated_by) "
                          "VALUES ('paper_mined_after_ms', '0', 1, 0, 't')"))
    asyncio.run(scenario())


def test_a_strategy_that_selects_nothing_or_is_malformed_says_so(tmp_path: Path, sim: SimHandle) -> None:
    core = _core(tmp_path, sim, [("good", "market_making", {"size": 20, "max_spread": 0.5})])
    with core.db.write() as conn:  # written around the dashboard's checks
        conn.execute(text("""INSERT INTO strategies (name, kind, params, markets, enabled, created_at, updated_at,
                                 updated_by) VALUES ('empty', 'market_making', '{}', :m, 1, 0, 0, 't'),
                                                    ('broken', 'market_making', '{}', :b, 1, 0, 0, 't')"""),
                     {"m": json.dumps({"filter": {"text": "no market has this in its question"}}),
                      "b": json.dumps({"filter": {"max_markets": "many", "nonsense": 1}})})

    async def scenario() -> None:
        await _started(core)
        await core.tick()
        await core.stop()

    asyncio.run(scenario())
    with core.db.read() as conn:
        selection: dict[str, Any] = dict(conn.execute(text("SELECT name, selected FROM strategy_selection")).all())
        broken = conn.execute(text("SELECT enabled, status, last_error FROM strategies WHERE name = 'broken'")).one()
        alerts = conn.execute(text("SELECT code, message FROM alerts ORDER BY id")).all()
    assert selection == {"good": 3, "empty": 0}
    assert ("STRATEGY_NO_MARKETS", "strategy 'empty' selects no market: it quotes nothing until its market list "
            "or filter selects one (Strategies page)") in [tuple(a) for a in alerts]
    assert broken[0] == 0 and broken[1] == "error" and "filter.max_markets" in broken[2]
    assert "STRATEGY_ERROR" in {a[0] for a in alerts}


def test_a_strategy_whose_stored_limit_is_invalid_is_disabled_not_run_on_a_wider_default(
        tmp_path: Path, sim: SimHandle) -> None:
    """A per-strategy limit that does not validate would fall back to its default, off for the
    loss limits and exits: the strategy is disabled with the reason instead (at start, and when
    a value goes bad while it trades, its orders withdrawn), and the others trade on."""
    params = {"size": 20, "max_spread": 0.9}
    core = _core(tmp_path, sim, [("tight", "market_making", params), ("other", "market_making", params)])
    now = now_ms()

    def garbage(strategy: str, name: str) -> None:  # written around the dashboard's checks
        with core.db.write() as conn:
            conn.execute(text("""INSERT INTO strategy_limits (strategy, name, value, version, updated_at, updated_by)
                                 VALUES (:s, :n, 'abc', 1, :t, 'script')"""), {"s": strategy, "n": name, "t": now})

    garbage("tight", "max_daily_loss")

    def strategy(name: str) -> tuple[Any, ...]:
        with core.db.read() as conn:
            return tuple(conn.execute(text("SELECT enabled, status, last_error FROM strategies WHERE name = :n"),
                                      {"n": name}).one())

    def working(name: str) -> int:
        return sum(1 for o in core.executor.state.orders.values() if o.strategy == name)

    async def scenario() -> None:
        await _started(core)
        try:
            assert set(core.host.hosted) == {"other"}
            enabled, status, error = strategy("tight")
            assert (enabled, status) == (0, "error") and "max_daily_loss" in error and "'abc'" in error
            for _ in range(3):
                await core.tick()
            assert working("other") > 0 and working("tight") == 0
            garbage("other", "stop_loss_pnl")  # gone bad while it trades
            await core.reload_config()
            assert core.host.hosted == {} and strategy("other")[:2] == (0, "error")
            for _ in range(3):
                await core.tick()
            assert working("other") == 0  # withdrawn, not left resting under a limit it no longer has
        finally:
            await core.stop()

    asyncio.run(scenario())
    with core.db.read() as conn:
        codes = [r[0] for r in conn.execute(text("SELECT code FROM alerts ORDER BY id")).all()]
    assert codes.count("CONFIG_INVALID") == 2 and codes.count("STRATEGY_ERROR") == 2


def test_the_first_minutes_of_trading_are_snapshotted_every_few_seconds(tmp_path: Path) -> None:
    """The Overview's equity curve starts as a curve: early snapshots for EARLY_WINDOW_MS, then
    only the configured interval."""
    from engine.trading.passes import jobs as jobs_module

    migrate(tmp_path / "t.db")
    db = Database(tmp_path / "t.db")
    clock = [1_800_000_000_000]
    core = TradingCore(load_settings({"TRADER_ENV_FILE": str(tmp_path / "none"), "TRADER_DB": str(tmp_path / "t.db")}),
                       db, clock=lambda: clock[0])
    assert "early_snapshots" in {job.id for job in core.jobs()}

    def snapshots() -> int:
        with db.read() as conn:
            return int(conn.execute(text("SELECT COUNT(*) FROM portfolio_snapshots")).scalar_one())

    core.scheduled.early_snapshot()
    assert snapshots() == 0  # not trading yet
    core.trading_since, core.deciding, core.ledger_ready = clock[0], True, True  # as a start leaves them
    for _ in range(3):
        clock[0] += jobs_module.EARLY_SNAPSHOT_S * 1000
        core.scheduled.early_snapshot()
    assert snapshots() == 3
    clock[0] = core.trading_since + jobs_module.EARLY_WINDOW_MS + 1
    core.scheduled.early_snapshot()
    assert snapshots() == 3  # past the early window: the regular interval only
    db.dispose()


def test_a_fill_is_snapshotted_within_seconds_so_todays_pnl_moves_with_it(tmp_path: Path, sim: SimHandle) -> None:
    """The Overview reads equity and today's PnL from the newest snapshot: a fill brings one at the
    next fill-snapshot pass, not at the minute's scheduled one; no fill, no extra snapshot."""
    core = _core(tmp_path, sim, [("hand", "market_making", {"size": 20, "max_spread": 0.5})])

    def snapshot_count() -> int:
        with core.db.read() as conn:
            return int(conn.execute(text("SELECT COUNT(*) FROM portfolio_snapshots")).scalar_one())

    def fill_count() -> int:
        with core.db.read() as conn:
            return int(conn.execute(text("SELECT COUNT(*) FROM fills")).scalar_one())

    async def scenario() -> tuple[int, int, int]:
        await _started(core)
        try:
            await core.reload_config()  # paper fills settle at the next tick (paper_mined_after_ms 0)
            await core.tick()  # resting quotes
            core.scheduled.fill_snapshot()
            core.scheduled.filled = False  # a start's own fills, if any, are not this test's
            quiet = snapshot_count()
            _buy_some(core)
            await core.executor.reconcile()
            for _ in range(100):
                core.executor.drain()
                if fill_count():
                    break
                await asyncio.sleep(0.05)
            assert fill_count(), "the take did not fill"
            assert core.scheduled.filled  # heard of it through the executor's bus
            core.scheduled.fill_snapshot()
            after_fill = snapshot_count()
            core.scheduled.fill_snapshot()
            return quiet, after_fill, snapshot_count()
        finally:
            await core.stop()

    before = snapshot_count()
    quiet, after_fill, again = asyncio.run(scenario())
    assert "fill_snapshots" in {job.id for job in core.jobs()}
    assert after_fill == quiet + 1 and again == after_fill  # one snapshot for the fill, none without one
    assert quiet >= before


def test_the_operator_exits_a_position_while_the_desk_trades(tmp_path: Path, sim: SimHandle) -> None:
    """`exit` sells a strategy's position through the exit path without pausing the desk: its
    quotes there are withdrawn first, the strategy stays out of the market, the sale is a
    fill-and-kill at the slippage floor; the answer says what sold; decisions, audit and alert."""
    from contracts.command_refusal import CommandRejected

    core = _core(tmp_path, sim, [("hand", "market_making", {"size": 20, "max_spread": 0.5})])

    async def scenario() -> tuple[dict, int]:
        await _started(core)
        await core.reload_config()
        await core.tick()
        cid = _buy_some(core)
        await core.executor.reconcile()
        paper_venue(core).advance()  # the paper fill settles (mined_after 0 here): sellable
        core.executor.drain()
        token = core.catalog.get(cid).yes_token
        assert core.executor.state.totals("hand", token).size >= 20_000_000
        with pytest.raises(CommandRejected, match="holds nothing"):
            await core.operator.exit({"strategy": "nobody"})
        answer = await core.operator.exit({"strategy": "hand", "condition_id": cid, "outcome": "YES",
                                            "reason": "taking profit by hand"})
        for _ in range(20):  # a first attempt that had to withdraw quotes sells on a later pass
            if core.executor.state.totals("hand", token).size <= 0:
                break
            await core.tick()
            paper_venue(core).advance()
            core.executor.drain()
        left = core.executor.state.totals("hand", token).size
        await core.stop()
        return answer, left

    with core.db.write() as conn:
        conn.execute(text("INSERT INTO settings (key, value, version, updated_at, updated_by) "
                          "VALUES ('paper_mined_after_ms', '0', 1, 0, 't')"))
    answer, left = asyncio.run(scenario())
    [position] = answer["positions"]
    assert position["strategy"] == "hand" and position["outcome"] == "YES" and position["question"]
    assert left < 20_000_000  # sold into the bids down to the slippage floor
    # As a trader reads a fill: its average price (at or above the floor), proceeds after the fee, the
    # PnL it realized against the cost of what it sold (the ledger's own change).
    sold, price, fee = (Decimal(position[k]) for k in ("sold", "price", "fee"))
    assert sold > 0 and Decimal(position["limit"]) <= price < 1 and fee > 0
    assert Decimal(position["proceeds"]) == sold * price - fee
    with core.db.read() as conn:  # the answer's sale: what it realized, less its fee and its shares' buying fees
        first_sale = conn.execute(text("SELECT MIN(id) FROM orders WHERE strategy = 'hand' AND side = 'SELL'")).scalar()
        gross = conn.execute(text("SELECT SUM(f.price * f.size / 1000000) FROM fills f WHERE f.order_id = :o"),
                             {"o": first_sale}).scalar_one()
        bought, buy_fees, cost = conn.execute(text("SELECT SUM(size), SUM(fee), SUM(price * size / 1000000) FROM fills "
                                                   "WHERE strategy = 'hand' AND side = 'BUY'")).one()
    sold_micro = int(sold * 1_000_000)
    after_fees = gross - cost * sold_micro // bought - int(fee * 1_000_000) - buy_fees * sold_micro // bought
    assert buy_fees > 0 and Decimal(position["realized_pnl"]) == Decimal(after_fees) / 1_000_000
    with core.db.read() as conn:
        sells = [tuple(r) for r in conn.execute(text(
            "SELECT reason, tif FROM orders WHERE side = 'SELL' AND strategy = 'hand'")).all()]
        decisions = conn.execute(text("SELECT detail FROM decisions WHERE reason = 'OPERATOR_EXIT'")).scalars().all()
        audits = conn.execute(text("SELECT action FROM audit_log WHERE action = 'exit.operator_exit'")).scalars().all()
        alerts = conn.execute(text("SELECT message FROM alerts WHERE code = 'OPERATOR_EXIT'")).scalars().all()
    assert sells and all(s == ("operator_exit", "FAK") for s in sells)
    assert decisions and "the operator's exit: taking profit by hand" in decisions[0]
    assert audits == ["exit.operator_exit"] and len(alerts) == 1


def test_a_paused_strategy_withdraws_and_decides_nothing_while_the_other_trades(tmp_path: Path,
                                                                               sim: SimHandle) -> None:
    """Per-strategy pause (storage/desk/strategy_lifecycle.py): the paused one's quotes are cancelled
    and it places nothing; the other keeps quoting; resumed, it quotes again."""
    from storage.desk import strategy_lifecycle as lifecycle

    core = _core(tmp_path, sim, [("quiet", "market_making", {"size": 20, "max_spread": 0.5}),
                                 ("busy", "market_making", {"size": 20, "max_spread": 0.5})])

    def working(strategy: str) -> int:
        return sum(1 for o in core.executor.state.orders.values() if o.strategy == strategy)

    def version(name: str) -> int:
        with core.db.read() as conn:
            return int(conn.execute(text("SELECT version FROM strategies WHERE name = :n"), {"n": name}).scalar_one())

    async def passes(n: int) -> None:
        for _ in range(n):
            await core.tick()
            core.executor.drain()

    async def scenario() -> None:
        await _started(core)
        await core.reload_config()
        await passes(2)
        assert working("quiet") > 0 and working("busy") > 0
        lifecycle.set_strategy_paused(core.db, name="quiet", version=version("quiet"), paused=True, actor="test")
        await core.reload_config()
        await passes(3)
        assert working("quiet") == 0 and working("busy") > 0
        assert "quiet" in core.host.hosted and core.host.hosted["quiet"].paused  # still hosted: exits guard it
        lifecycle.set_strategy_paused(core.db, name="quiet", version=version("quiet"), paused=False, actor="test")
        await core.reload_config()
        await passes(2)
        assert working("quiet") > 0
        await core.stop()

    asyncio.run(scenario())


def test_a_plugin_kind_trades_and_a_broken_one_is_alerted_and_its_strategy_disabled(
        tmp_path: Path, sim: SimHandle, monkeypatch: pytest.MonkeyPatch) -> None:
    """Strategy plugins in the engine: the example plugin quotes like a built-in kind; a plugin that
    does not import is alerted once (STRATEGY_PLUGIN) and a strategy of its kind is disabled with the
    reason, while the desk trades on."""
    import shutil

    from tests.helpers import ROOT

    folder = tmp_path / "plugins"
    shutil.copytree(ROOT / "plugins" / "examples" / "mid_band", folder / "mid_band")
    (folder / "broken").mkdir()
    (folder / "broken" / "schema.py").write_text("raise RuntimeError('half-written plugin')\n")
    monkeypatch.setenv("STRATEGY_PLUGINS_DIR", str(folder))
    core = _core(tmp_path, sim, [("band", "mid_band", {"size": 20, "half_band": 0.05}),
                                 ("gone", "broken", {})])

    async def scenario() -> None:
        await _started(core)
        await core.reload_config()
        for _ in range(2):
            await core.tick()
            core.executor.drain()
        assert any(o.strategy == "band" for o in core.executor.state.orders.values())
        await core.reload_config()  # the same problem is not alerted twice
        await core.stop()

    asyncio.run(scenario())
    with core.db.read() as conn:
        alerts = conn.execute(text("SELECT message FROM alerts WHERE code = 'STRATEGY_PLUGIN'")).scalars().all()
        gone = conn.execute(text("SELECT enabled, status, last_error FROM strategies WHERE name = 'gone'")).one()
    assert len(alerts) == 1 and "strategy plugin 'broken' is left out: schema.py does not import: RuntimeError: " \
                                  "half-written plugin" in alerts[0]
    assert (gone.enabled, gone.status) == (0, "error") and "unknown strategy kind 'broken'" in gone.last_error
