"""Every ledger lives one life (engine/trading/passes/ledger.py), the desk's and any other alike: opened (on
paper its deposit, booked once ever; its venue connected; recovered against its venue, not valued until it
is), drained (its strategies' orders withdrawn and their cancels answered, valued no more) and closed (its
venue and settlement venue released), and killed. What differs is data: the desk's recovery asks the venue
about held markets that resolved meanwhile, and the desk's ledger, which stands while the engine is stopped,
has its venue connected to be killed, where a closed ledger of another venue has nothing left to kill.

On a paper desk with no network: each ledger's venue is a paper venue on the core's books."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text

from contracts.domain import Intent, MarketInfo, Quote, Side, Tif
from contracts.settings import load_settings
from contracts.venues import KALSHI, POLYMARKET
from contracts.venues.kalshi import ids as kalshi_ids
from contracts.venues.kalshi.grid import WHOLE_CENTS
from engine.execution.cash_book import CashBook
from engine.execution.executor import Executor
from engine.trading.core import TradingCore
from engine.trading.passes import ledger as ledger_module
from engine.trading.passes.ledger import Ledger, other_ledger
from engine.venues.paper_settlement import PaperSettlement
from storage.sqlite.db import Database, now_ms
from storage.sqlite.migrations import migrate

SH = 1_000_000
CASH = 500 * SH
TICKER = "KXLIFE-26"
OPEN = ["deposit", "venue connected", "recovering", "recovered"]
DRAIN = ["withdrawn", "reconciled"]
CLOSE = ["venue closed", "settlement closed"]
KILL_CLOSED = {"desk": ["venue connected", "killed", "withdrawn"], "kalshi": []}


def _core(tmp: Path) -> TradingCore:
    """A paper desk on a fresh database, its paper venues answering at once."""
    migrate(tmp / "t.db")
    db = Database(tmp / "t.db")
    with db.write() as conn:
        conn.execute(text("INSERT INTO settings (key, value, version, updated_at, updated_by) "
                          "VALUES ('paper_latency', '\"zero\"', 1, 0, 'test')"))
    return TradingCore(load_settings({"TRADER_ENV_FILE": str(tmp / "none"), "TRADER_DB": str(tmp / "t.db")}), db)


def _market(core: TradingCore, which: str) -> MarketInfo:
    """A market of the ledger's venue in the catalog, with its book (bids up to 40 cents, asks from 60)."""
    if which == "desk":
        info = MarketInfo(condition_id="0x" + "ab" * 32, question="Life?", yes_token="71", no_token="72",
                          tick=10_000, min_size=5 * SH)
    else:
        info = MarketInfo(condition_id=kalshi_ids.market_id(TICKER), question="Kalshi: life?",
                          yes_token=kalshi_ids.token_id(TICKER, "yes"), no_token=kalshi_ids.token_id(TICKER, "no"),
                          tick=kalshi_ids.CENT, min_size=kalshi_ids.LOT, kalshi_fee_type="quadratic",
                          kalshi_fee_multiplier_ppm=1_000_000, price_grid=WHOLE_CENTS)
    core.catalog.add(info)
    core.books.apply_snapshot(info.yes_token, [(400_000, 100 * SH)], [(600_000, 100 * SH)], now_ms())
    core.books.apply_snapshot(info.no_token, [(400_000, 100 * SH)], [(600_000, 100 * SH)], now_ms())
    return info


def _recorded(monkeypatch: pytest.MonkeyPatch, core: TradingCore) -> list[str]:
    """The steps of a ledger's life as its parts take them (each the real call, noted as it is made)."""
    steps: list[str] = []

    def noting(owner: Any, name: str, step: str) -> None:
        real = getattr(owner, name)
        if asyncio.iscoroutinefunction(real):
            async def async_noted(*args: Any, **kwargs: Any) -> Any:
                steps.append(step)
                return await real(*args, **kwargs)
            monkeypatch.setattr(owner, name, async_noted)
        else:
            def noted(*args: Any, **kwargs: Any) -> Any:
                steps.append(step)
                return real(*args, **kwargs)
            monkeypatch.setattr(owner, name, noted)

    noting(CashBook, "opening_deposit", "deposit")
    noting(Executor, "start", "venue connected")
    noting(Executor, "withdraw", "withdrawn")
    noting(Executor, "reconcile", "reconciled")
    noting(Executor, "close", "venue closed")
    noting(Executor, "kill", "killed")
    noting(PaperSettlement, "close", "settlement closed")
    noting(core.scheduled, "settle_missed", "resolutions asked")
    real_recover = ledger_module.recover

    async def recovering(executor: Executor, *args: Any, **kwargs: Any) -> Any:
        steps.append("recovering")
        report = await real_recover(executor, *args, **kwargs)
        steps.append("recovered")
        return report

    monkeypatch.setattr(ledger_module, "recover", recovering)
    return steps


def _ledger(core: TradingCore, which: str) -> Ledger:
    return core.desk if which == "desk" else other_ledger(core.link, core.risk, KALSHI, "paper")


def _taken(steps: list[str]) -> list[str]:
    taken = list(steps)
    steps.clear()
    return taken


def _deposits(core: TradingCore, venue: str) -> int:
    with core.db.read() as conn:
        return int(conn.execute(text("SELECT COUNT(*) FROM cash_ledger WHERE kind = 'deposit' AND venue = :v"),
                                {"v": venue}).scalar_one())


@pytest.mark.parametrize("which", ["desk", "kalshi"])
def test_every_ledger_is_opened_drained_closed_and_killed_in_the_same_order(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, which: str) -> None:
    core = _core(tmp_path)
    steps = _recorded(monkeypatch, core)
    ledger = _ledger(core, which)
    venue = POLYMARKET if which == "desk" else KALSHI
    ready_while_recovering: list[bool] = []
    real_before = ledger._before_balances

    async def before_balances() -> None:  # (inside its recovery)
        ready_while_recovering.append(ledger.ready)
        await real_before()

    ledger._before_balances = before_balances  # type: ignore[method-assign]  # its readiness noted inside its recovery

    async def life() -> None:
        await ledger.open(CASH)
        opened = _taken(steps)
        # The desk's recovery asks the venue about held markets resolved meanwhile (its data); another's does not.
        expected = [*OPEN[:3], "resolutions asked", OPEN[3]] if which == "desk" else OPEN
        assert opened == expected and ledger.live and ledger.ready and ready_while_recovering == [False]
        assert ledger.executor.state.cash == CASH and _deposits(core, venue) == 1

        info = _market(core, which)  # a strategy's bid resting at its venue, through the ledger's own pass
        core.gate.unblock()
        bid = Intent("mm", info.condition_id, (Quote(Side.BUY, 300_000, 10 * SH, Tif.GTC),))
        now = core.clock()
        await ledger.run_pass(now, core.views.of([info.condition_id], now), lambda: [bid], 0, deciding=True)
        ledger.executor.drain()
        assert [o.strategy for o in ledger.executor.state.orders.values()] == ["mm"]  # resting at its paper venue
        _taken(steps)

        await ledger.drain()
        drained = _taken(steps)
        assert drained[:2] == DRAIN and set(drained[2:]) <= {"reconciled"}  # its cancels' answers awaited
        assert not ledger.executor.state.orders and not ledger.ready and ledger.live
        with core.db.read() as conn:
            assert conn.execute(text("SELECT status, end_reason FROM orders")).one() == ("CANCELED", "stopped")

        await ledger.disconnect()
        assert _taken(steps) == CLOSE and not ledger.live

        answer = await ledger.kill()
        assert _taken(steps) == KILL_CLOSED[which]
        assert (answer != {}) is (which == "desk") and ledger.live is (which == "desk")

        await ledger.disconnect()
        await ledger.open(CASH)  # opened again: its deposit is booked once ever
        assert _deposits(core, venue) == 1 and ledger.executor.state.cash == CASH and ledger.ready
        await ledger.close()
        assert not ledger.live and not ledger.ready

    asyncio.run(life())
    core.db.dispose()


def test_the_desks_kill_answers_for_every_ledger_each_under_its_name(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The core kills every ledger, the desk's first (its venue connected for it while stopped): the desk's
    answer is the kill's, each other's under its name."""
    core = _core(tmp_path)
    steps = _recorded(monkeypatch, core)
    kalshi = other_ledger(core.link, core.risk, KALSHI, "paper")

    async def scenario() -> dict[str, Any]:
        await kalshi.open(CASH)
        core.ledgers.open[(KALSHI, "paper")] = kalshi
        _taken(steps)
        answer = await core.kill()
        assert _taken(steps) == ["venue connected", "killed", "withdrawn", "killed", "withdrawn"]
        await core.ledgers.close()
        assert not core.ledgers.open and not kalshi.live and not core.desk.live
        return answer

    answer = asyncio.run(scenario())
    assert answer == {"cancelled": 0, "still_open": 0, "kalshi_paper": {"cancelled": 0, "still_open": 0}}
    core.db.dispose()


def test_a_stop_drains_every_ledger_while_the_loop_runs_then_releases_each(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The core's stop iterates its ledgers: each drained, the desk's first, while the loop still runs (its
    passes keep reconciling), then the loop stopped and the feeds closed, then each ledger's venue released
    and the others forgotten."""
    core = _core(tmp_path)
    kalshi = other_ledger(core.link, core.risk, KALSHI, "paper")
    said: list[tuple[str, str, bool]] = []
    real_drain, real_disconnect = Ledger.drain, Ledger.disconnect

    async def drain(ledger: Ledger, why: str = "") -> None:
        said.append(("drained", ledger.label, core._loop is not None and not core._loop.done()))
        await real_drain(ledger, why)

    async def disconnect(ledger: Ledger) -> None:
        said.append(("released", ledger.label, core._loop is not None))
        await real_disconnect(ledger)

    monkeypatch.setattr(Ledger, "drain", drain)
    monkeypatch.setattr(Ledger, "disconnect", disconnect)

    async def scenario() -> None:
        await core.desk.open(CASH)
        await kalshi.open(CASH)
        core.ledgers.open[(KALSHI, "paper")] = kalshi
        core._loop = asyncio.create_task(asyncio.sleep(3600))  # the loop, running
        await core.stop()

    asyncio.run(scenario())
    assert said == [("drained", "the desk", True), ("drained", "Kalshi paper", True),
                    ("released", "the desk", False), ("released", "Kalshi paper", False)]
    assert not core.ledgers.open and not core.desk.live and not kalshi.live and not core.desk.ready
    core.db.dispose()
