"""The exit floor the trader confirms is the one enforced (issue 87, item 1), through the real command path:
a real engine process on paper against the simulator, the market moving between the confirmation and the
send, from each front end:

- the dashboard (Streamlit's AppTest on the Orders page): Exit… opens its preview (sold at no less than
  0.375), the market falls, Sell now: the command carries 0.375, nothing is sold below it and the page says
  the market moved below the floor; the Strategies page's Flatten carries a floor per position;
- the CLI: `engine command exit` with the floor the operator typed after the market fell sells nothing and
  says why; without a floor it states the one it works out (the recorded mark less the max slippage) and
  carries it; `engine command flatten` likewise;
- Telegram (tests/telegram_api.py, a local fake of its API): /flatten's confirmation states the floor, the
  market falls before the button is pressed, and nothing is sold below it.

The engine's side of it in the trading core: tests/trading/test_exit_floors.py.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from streamlit.testing.v1 import AppTest

from simulator.testing import SimHandle, approved_simulator
from tests.helpers import EngineProcess, isolated_env, run_cli, seed_desk, set_book, wait_until

pytestmark = pytest.mark.slow

BEFORE = (("BUY", "0.40", "500"), ("SELL", "0.45", "500"))  # mid 0.425: floor 0.375 (less 0.05 slippage)
FALLEN = (("BUY", "0.30", "500"), ("SELL", "0.34", "500"))  # mid 0.32: the engine's own floor would be 0.27
FLOOR = 375_000


@pytest.fixture(scope="module")
def sim() -> Iterator[SimHandle]:
    with approved_simulator(seed=187, agents=False) as handle:
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


def _market(sim: SimHandle) -> dict[str, Any]:
    return sim.market(neg_risk=False, index=1)


def _mark(engine: EngineProcess, token: str) -> int | None:
    found = engine.rows("SELECT mid FROM ticks WHERE token_id = ? AND mid IS NOT NULL ORDER BY at DESC LIMIT 1",
                        token)
    return int(found[0][0]) if found else None


def _book_is(engine: EngineProcess, market: dict[str, Any], levels: tuple[tuple[str, str, str], ...],
             sim: SimHandle) -> None:
    """The simulator's YES book set to `levels`, and the engine's recorded mark following it."""
    set_book(sim, market, *levels)
    mid = (int(float(levels[0][1]) * 1_000_000) + int(float(levels[1][1]) * 1_000_000)) // 2
    wait_until(lambda: _mark(engine, market["yes_token_id"]) == mid, 60, interval=0.2,
               what=f"the engine's mark following the book to {mid / 1e6}")


def _hold(engine: EngineProcess, sim: SimHandle) -> dict[str, Any]:
    """20 YES shares in the manual book, settled, bought at 0.45 with the book at BEFORE."""
    market = _market(sim)
    set_book(sim, market, *BEFORE)
    bought = engine.run("place_order", {"condition_id": market["condition_id"], "outcome": "YES", "side": "BUY",
                                        "size": 20, "price": 0.45, "tif": "FAK"}, timeout=60)
    assert bought.status == "done", bought.error
    wait_until(lambda: engine.rows("SELECT settled FROM positions WHERE strategy = 'manual' AND outcome = 'YES'")
               == [(20_000_000,)], 60, interval=0.2, what="the bought shares settled")
    _book_is(engine, market, BEFORE, sim)
    return market


def _sales(engine: EngineProcess) -> list[tuple[int, int]]:
    """The fill-and-kill sales sent: (limit, filled)."""
    return [(int(p), int(f)) for p, f in engine.rows("SELECT price, filled FROM orders WHERE side = 'SELL' "
                                                     "AND tif = 'FAK'")]


def _held(engine: EngineProcess) -> int:
    return int(engine.rows("SELECT settled + pending FROM positions WHERE strategy = 'manual' "
                           "AND outcome = 'YES'")[0][0])


def _last(engine: EngineProcess, kind: str) -> tuple[dict[str, Any], str, dict[str, Any]]:
    payload, status, result = engine.rows("SELECT payload, status, result FROM commands WHERE kind = ? "
                                          "ORDER BY id DESC LIMIT 1", kind)[0]
    return json.loads(payload), status, json.loads(result or "{}")


def _dashboard(engine: EngineProcess, monkeypatch: pytest.MonkeyPatch, page: str) -> AppTest:
    from pages.widgets import controls
    from tests.dashboard.conftest import _HASH, _past_the_gate

    monkeypatch.setenv("TRADER_DB", str(engine.db_path))
    monkeypatch.setenv("TRADER_ENV_FILE", engine.env["TRADER_ENV_FILE"])
    monkeypatch.setenv("DASHBOARD_PASSWORD_HASH", _HASH)
    monkeypatch.setattr(controls, "ANSWER_WAIT_S", 60.0)  # a loaded machine: the page waits for the answer
    monkeypatch.setattr(controls, "DEBOUNCE_S", 0.0)  # a second Exit moments later is a new command here
    return _past_the_gate().switch_page(f"pages/{page}.py").run()


def _texts(at: AppTest) -> str:
    return "\n".join(str(e.value) for kind in ("markdown", "success", "warning", "error", "info", "caption")
                     for e in getattr(at, kind))


def test_the_dashboards_exit_sells_at_no_less_than_the_floor_it_showed(
        engine: EngineProcess, sim: SimHandle, monkeypatch: pytest.MonkeyPatch) -> None:
    market = _hold(engine, sim)
    at = _dashboard(engine, monkeypatch, "orders")
    at.button(key="exit_open_orders").click().run()
    assert "sold at no less than **0.375**" in _texts(at), _texts(at)  # what the operator confirms
    _book_is(engine, market, FALLEN, sim)  # the market falls while the dialog is open
    at.button(key="exit_confirm").click().run()
    payload, status, result = _last(engine, "exit")
    assert payload["floors"] == {f"{market['condition_id']}:YES": "0.375"} and status == "done", result
    assert _sales(engine) == [] and _held(engine) == 20_000_000  # nothing sold at 0.30 (or anywhere below 0.38)
    [position] = result["positions"]
    assert "moved below the floor you confirmed (0.375)" in position["not_sold"]
    assert "the market has moved below the floor you confirmed" in _texts(at)  # said on the page, under Exit
    # Back where the floor is reachable: the same Exit sells, at no less than what it showed.
    _book_is(engine, market, BEFORE, sim)
    at.button(key="exit_open_orders").click().run()
    at.button(key="exit_confirm").click().run()
    wait_until(lambda: _held(engine) == 0, 60, interval=0.2, what="the exit selling at the floor shown")
    assert _sales(engine) and all(limit >= FLOOR for limit, _ in _sales(engine))


def test_the_cli_carries_the_floor_it_states_or_the_one_typed(engine: EngineProcess, sim: SimHandle) -> None:
    market = _hold(engine, sim)
    cid = market["condition_id"]
    _book_is(engine, market, FALLEN, sim)
    typed = run_cli(["command", "exit", json.dumps({"strategy": "manual", "condition_id": cid, "outcome": "YES",
                                                     "floors": {f"{cid}:YES": 0.375}})], engine.env)
    assert typed.returncode == 0, typed.stderr
    assert "at no less than 0.375 (the floor you gave)" in typed.stderr
    assert "partly done:" in typed.stderr and "moved below the floor you confirmed (0.375)" in typed.stderr
    assert _sales(engine) == [] and _held(engine) == 20_000_000
    # No floor typed: the CLI states the one it works out from the recorded mark (0.32 less 0.05) and carries it.
    assert engine.run("pause", timeout=30).status == "done"
    stated = run_cli(["command", "flatten", json.dumps({"condition_id": cid})], engine.env)
    assert stated.returncode == 0, stated.stderr
    assert "sold at no less than 0.270 (the mark less the max-slippage limit)" in stated.stderr, stated.stderr
    payload, status, _ = _last(engine, "flatten")
    assert payload["floors"] == {f"{cid}:YES": "0.27"} and status == "done"
    assert _sales(engine) and all(limit >= 270_000 for limit, _ in _sales(engine))


def test_telegrams_flatten_sells_at_no_less_than_the_floor_it_confirmed(
        tmp_path: Path, engine: EngineProcess, sim: SimHandle) -> None:
    from tests.telegram_api import bot_api
    from tests.telegram_bot.test_telegram_bot import CHAT, TOKEN, BotProcess, _telegram_env

    market = _hold(engine, sim)
    assert engine.run("pause", timeout=30).status == "done"  # flatten sells a paused desk's positions
    with bot_api(TOKEN) as api:
        bot = BotProcess(tmp_path, _telegram_env(engine.env, api))
        try:
            bot.start(api)
            api.send(CHAT, f"/flatten {market['condition_id'][:12]}")
            offer = api.wait_for(CHAT, lambda m: "Flatten?" in m.current, what="the flatten confirmation")
            assert "sold at no less than 0.375" in offer.current, offer.current
            _book_is(engine, market, FALLEN, sim)  # the market falls before the button is pressed
            api.press(offer, "Yes")
            done = api.wait_for(CHAT, lambda m: m.message_id == offer.message_id and "partly done" in m.current,
                                timeout=60, what="the engine's answer to the flatten")
            assert "moved below the floor you confirmed (0.375)" in done.current, done.current
            assert api.refused == []
        finally:
            bot.stop(api)
    payload, status, _ = _last(engine, "flatten")
    assert payload["floors"] == {f"{market['condition_id']}:YES": "0.375"} and status == "done"
    assert _sales(engine) == [] and _held(engine) == 20_000_000
