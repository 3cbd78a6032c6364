"""One trade, one PnL (issue 87, item 2): a real engine on paper against the simulator buys 20 shares (paying a
taker fee) and the operator's exit sells them (paying another); that closed trade then reads the same figure,
after every fee it paid, in each place a trade's or a strategy's PnL is shown: the exit's answer, Round trips,
the Overview's PnL by strategy and its tiles, the strategy's Performance tab, `engine status` and Telegram's
/pnl. The Overview's tiles add up on screen: today's PnL = realized after fees + the unrealized change (+ what
no trade made), the fees said beside them."""

from __future__ import annotations

import re
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from streamlit.testing.v1 import AppTest

from simulator.testing import SimHandle, approved_simulator
from tests.helpers import EngineProcess, decoded, isolated_env, run_cli, seed_desk, set_book, wait_until

pytestmark = pytest.mark.slow
CENT = Decimal("0.01")


@pytest.fixture(scope="module")
def sim() -> Iterator[SimHandle]:
    with approved_simulator(seed=287, agents=False) as handle:
        yield handle


@pytest.fixture
def engine(tmp_path: Path, sim: SimHandle) -> Iterator[EngineProcess]:
    env = isolated_env(tmp_path, SIMULATOR_PORT=str(sim.port), LOG_LEVEL="WARNING")
    seed_desk(Path(env["TRADER_DB"]), settings={"paper_mined_after_ms": 0})
    process = EngineProcess(tmp_path, env)
    try:
        yield process.start()
    finally:
        process.cleanup()


def _closed_trade(engine: EngineProcess, sim: SimHandle) -> Decimal:
    """Buy 20 YES at 0.45 and exit them at 0.40's bids; the exit's answer's realized PnL (after fees)."""
    market = sim.market(neg_risk=False, index=1)  # a market that charges taker fees
    set_book(sim, market, ("BUY", "0.40", "500"), ("SELL", "0.45", "500"))
    wait_until(lambda: engine.rows("SELECT COUNT(*) FROM portfolio_snapshots WHERE mode = 'paper'")[0][0] > 0, 60,
               interval=0.2, what="the day's first snapshot, before the trade")
    bought = engine.run("place_order", {"condition_id": market["condition_id"], "outcome": "YES", "side": "BUY",
                                        "size": 20, "price": 0.45, "tif": "FAK"}, timeout=60)
    assert bought.status == "done", bought.error
    wait_until(lambda: engine.rows("SELECT settled FROM positions WHERE strategy = 'manual'") == [(20_000_000,)],
               60, interval=0.2, what="the bought shares settled")
    sold = engine.run("exit", {"strategy": "manual", "condition_id": market["condition_id"], "outcome": "YES"},
                      timeout=60)
    assert sold.status == "done", sold.error
    [position] = decoded(sold.result)["positions"]
    assert position["sold"] == "20", position
    fees = engine.rows("SELECT SUM(fee) FROM fills WHERE strategy = 'manual'")[0][0]
    assert fees and engine.rows("SELECT COUNT(*) FROM fills WHERE strategy = 'manual' AND fee > 0")[0][0] == 2
    # The snapshots that the pages and status read have caught up with the sale.
    wait_until(lambda: engine.rows("SELECT realized FROM strategy_snapshots WHERE strategy = 'manual' "
                                   "ORDER BY at DESC LIMIT 1") == engine.rows(
                   "SELECT realized FROM positions WHERE strategy = 'manual'"), 60, interval=0.2,
               what="the strategy's snapshot after the sale")
    wait_until(lambda: engine.rows("SELECT fees FROM portfolio_snapshots WHERE mode = 'paper' ORDER BY at DESC "
                                   "LIMIT 1")[0][0] >= fees, 60, interval=0.2,
               what="the desk's snapshot after the sale")
    return Decimal(position["realized_pnl"])


def _money(text: str) -> Decimal:
    return Decimal(text.replace(",", "").replace("−", "-"))


def _page(engine: EngineProcess, monkeypatch: pytest.MonkeyPatch, page: str) -> AppTest:
    from tests.dashboard.conftest import _HASH, _past_the_gate

    monkeypatch.setenv("TRADER_DB", str(engine.db_path))
    monkeypatch.setenv("TRADER_ENV_FILE", engine.env["TRADER_ENV_FILE"])
    monkeypatch.setenv("DASHBOARD_PASSWORD_HASH", _HASH)
    return _past_the_gate().switch_page(f"pages/{page}.py").run()


def _performance(db_path: str) -> None:
    """The strategy's Performance tab (pages/widgets/strategy_risk.py) for the manual book."""
    from pathlib import Path

    from pages.widgets.strategy_risk import performance_panel
    from storage.sqlite.db import Database

    performance_panel(Database(Path(db_path)), "paper", "manual")


def _tables(at: AppTest) -> list[Any]:
    from tests.dashboard.conftest import tables_of

    return tables_of(at)


def test_a_closed_trade_reads_one_pnl_after_fees_everywhere_and_the_tiles_add_up(
        engine: EngineProcess, sim: SimHandle, monkeypatch: pytest.MonkeyPatch) -> None:
    answered = _closed_trade(engine, sim)
    seen: dict[str, Decimal] = {"the exit's answer": answered.quantize(CENT)}

    from storage.dashboard_queries.trade_queries import trades

    _, trips = trades(engine.db(), "paper", strategy="manual")
    [trip] = trips[trips["exit"] != "open"].itertuples()
    seen["Round trips"] = Decimal(str(trip.net)).quantize(CENT)

    overview = _page(engine, monkeypatch, "overview")
    by_strategy = next(t for t in _tables(overview) if "net" in t.columns).set_index("strategy")
    seen["the Overview's PnL by strategy"] = Decimal(str(by_strategy.loc["manual", "net"])).quantize(CENT)
    tiles = {m.label: m.value for m in overview.metric}
    seen["the Overview's realized today"] = _money(tiles["Realized today (pUSD)"])
    # The tiles add up on screen, the fees said with them.
    total, unrealized = _money(tiles["Today's PnL (pUSD)"]), _money(tiles["Unrealized today (pUSD)"])
    caption = next(c.value for c in overview.caption if c.value.startswith("Today "))
    said = re.match(r"Today ([-+][\d,.]+) = realized ([-+][\d,.]+) \(after ([\d,.]+) of fees\) \+ unrealized "
                    r"change ([-+][\d,.]+)(?: \+ ([-+][\d,.]+) other)?", caption)
    assert said is not None, caption
    other = _money(said[5]) if said[5] else Decimal(0)
    assert total == _money(said[1]) == _money(said[2]) + _money(said[4]) + other, caption
    assert _money(said[2]) == seen["the Overview's realized today"] and _money(said[4]) == unrealized
    assert _money(said[3]) > 0  # the two taker fees, shown

    performance = AppTest.from_function(_performance, args=(str(engine.db_path),), default_timeout=30).run()
    shown = {m.label: m.value for m in performance.metric}
    seen["the Performance tab"] = _money(shown["PnL (pUSD)"])
    assert _money(shown["Realized (pUSD)"]) == seen["the Performance tab"]  # nothing open: all realized
    assert any(c.value.startswith("PnL and realized are after fees") for c in performance.caption)  # said so

    status = run_cli(["status"], engine.env)
    assert status.returncode == 0, status.stderr
    row = next(line.split() for line in status.stdout.splitlines() if line.startswith("  manual "))
    seen["engine status"] = _money(row[5])

    from contracts.settings import load_settings
    from engine.telegram_bot.replies import pnl

    told = pnl(load_settings(engine.env), "today")
    line = re.search(r"  manual: ([-+][\d,.]+) \(fees", told)
    assert line is not None, told
    seen["Telegram's /pnl"] = _money(line[1])

    assert len(set(seen.values())) == 1, seen
    assert answered < 0  # bought at 0.45, sold at 0.40, both fees on top
