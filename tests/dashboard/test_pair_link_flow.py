"""Find, compare, link and unlink a Kalshi pair from the Markets page, as an operator does: the
page runs the desk's own `python -m engine pairs find|show --json` (a child process) against the
simulator's Polymarket and Kalshi sides; Link stores the pair (audited) once both were read, and
Unlink removes it (audited), each answer by its button naming the market by its question."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from streamlit.testing.v1 import AppTest

from simulator.testing import SimHandle, running_simulator
from storage.sqlite.db import Database
from tests.dashboard.conftest import answer_next, engine_up

LOOKUP_RUN_S = 90  # each look-up is a Python process of its own: slow on a loaded machine


@pytest.fixture(scope="module")
def sim() -> Iterator[SimHandle]:
    with running_simulator(seed=13, agents=False, prefill_books=False, kalshi_markets=2) as handle:
        yield handle


@pytest.fixture
def market(dash_env: Path, sim: SimHandle, monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    """The simulator's first Polymarket market, discovered by the desk; the page's look-ups reach
    the simulator (its Gamma and its Kalshi side) as the desk's settings point them."""
    monkeypatch.setenv("DATA_SOURCE", "simulator")
    monkeypatch.setenv("SIMULATOR_PORT", str(sim.port))
    found = sim.market(neg_risk=False, index=1)  # "Will …?", as Kalshi's simulated titles read
    with sqlite3.connect(dash_env) as conn:
        conn.execute("""INSERT INTO markets (condition_id, question, yes_token, no_token, tick, min_size, end_at,
                        first_seen_at, updated_at) VALUES (?, ?, 'y', 'n', 10000, 5000000, 1000, 0, 0)""",
                     (found["condition_id"], found["question"]))
    return found


def _texts(at: AppTest) -> str:
    return "\n".join(str(e.value) for kind in ("success", "warning", "error", "info", "markdown", "caption", "text")
                     for e in getattr(at, kind))


def _refused(at: AppTest) -> list[str]:
    """The look-ups' refusals shown (the heartbeat's staleness aside: no engine runs here)."""
    return [e.value for e in at.error if "heartbeat" not in e.value]


def _audit(db: Database, action: str) -> list[dict[str, Any]]:
    with db.read() as conn:
        rows = conn.exec_driver_sql("SELECT before, after FROM audit_log WHERE action = ?", (action,)).fetchall()
    return [json.loads(after or before) for before, after in rows]


def test_find_compare_link_and_unlink_from_the_markets_page(market: dict[str, Any], db: Database, sim: SimHandle,
                                                           page: Callable[[str], AppTest]) -> None:
    engine_up(db)
    ticker = str(sim.call(lambda: sorted(t for t, m in sim.sim.kalshi.exchange.markets.items()
                                         if m.mve_collection is None)[0]))  # a parlay's leg is never listed
    at = page("markets")
    assert not at.exception
    at.text_input(key="pair_words").input("will")  # the word both venues' questions hold
    at.button(key="pair_find").click().run(timeout=LOOKUP_RUN_S)
    assert not at.exception and not _refused(at), _refused(at)
    assert at.selectbox(key="pair_poly").options == [market["question"]]  # by its question, not its id
    assert ticker in " ".join(at.selectbox(key="pair_kalshi").options)
    at.selectbox(key="pair_kalshi").set_value(ticker)
    engine_up(db)
    at.button(key="pair_show").click().run(timeout=LOOKUP_RUN_S)
    assert not at.exception and not _refused(at), _refused(at)
    shown = _texts(at).replace("\\", "")  # as read (Markdown's escapes aside)
    kalshi_title = str(sim.call(lambda: sim.sim.kalshi.exchange.markets[ticker].title))
    assert market["question"] in shown and kalshi_title in shown  # both markets, side by side
    assert "resolution source" in shown and any("end times differ" in w.value for w in at.warning)
    assert at.button(key="pair_link").disabled  # not before both were read
    at.checkbox(key="pair_read").check().run()
    engine_up(db)
    reload = answer_next(db, "reload_config", ok=True)
    at.button(key="pair_link").click().run(timeout=LOOKUP_RUN_S)
    reload.join(15)
    assert not at.exception, at.exception[0].stack_trace
    with db.read() as conn:
        pairs = conn.exec_driver_sql("SELECT condition_id, kalshi_ticker, inverted FROM venue_pairs").fetchall()
    assert [tuple(p) for p in pairs] == [(market["condition_id"], ticker, 0)]
    assert _audit(db, "pair.add")[0]["kalshi_ticker"] == ticker
    said = [s.value.replace("\\", "") for s in at.success]
    assert any(f"Linked as pair 1: {market['question']} = {ticker}" in s for s in said), said

    at.checkbox(key="pair_unlink_ok").check().run()
    engine_up(db)
    reload = answer_next(db, "reload_config", ok=True)
    at.button(key="pair_unlink").click().run(timeout=LOOKUP_RUN_S)
    reload.join(15)
    assert not at.exception
    with db.read() as conn:
        assert conn.exec_driver_sql("SELECT COUNT(*) FROM venue_pairs").scalar() == 0
    assert _audit(db, "pair.remove")[0] == {"condition_id": market["condition_id"], "kalshi_ticker": ticker,
                                            "inverted": False}
    said = [s.value.replace("\\", "") for s in at.success]
    assert any(f"Unlinked pair 1: {market['question']} and {ticker}." in s for s in said), said
    assert not any("0x" in s for s in said)  # the market named, never its id
