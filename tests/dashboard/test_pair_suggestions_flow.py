"""Suggested pairs on the Markets page, as a trader uses them against the simulator (its Kalshi side lists
its Polymarket questions in Kalshi's words): **Refresh suggestions** runs the desk's own refresh in the
background and the page then lists each twin, scored and said how; one is compared side by side (the
CLI's own look-up) and linked only once both were read (audited `pair.add`); another is rejected
(audited `pair.reject`) and not offered again."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from simulator.kalshi.twin import SPECS
from simulator.testing import SimHandle, running_simulator
from storage.desk import pair_suggestions as store
from storage.sqlite.db import Database
from tests.dashboard.conftest import answer_next, engine_up

RUN_S = 90  # a look-up is a Python process of its own: slow on a loaded machine
REFRESH_S = 120
TWINS = {spec.question: spec.twin.title for spec in SPECS if spec.question}


@pytest.fixture(scope="module")
def sim() -> Iterator[SimHandle]:
    with running_simulator(seed=13, agents=False, prefill_books=False, kalshi_markets=1, kalshi_pair=True) as handle:
        yield handle


@pytest.fixture
def discovered(dash_env: Path, db: Database, sim: SimHandle, monkeypatch: pytest.MonkeyPatch) -> None:
    """The desk's markets as its first run discovers them; the page's processes reach the simulator."""
    from engine.venues.polymarket.discovery import refresh_markets

    monkeypatch.setenv("DATA_SOURCE", "simulator")
    monkeypatch.setenv("SIMULATOR_PORT", str(sim.port))
    asyncio.run(refresh_markets(db, f"http://127.0.0.1:{sim.port}/gamma"))


def _audit(db: Database, action: str) -> list[str]:
    with db.read() as conn:
        return [str(r[0]) for r in conn.exec_driver_sql("SELECT entity FROM audit_log WHERE action = ?", (action,))]


def _refreshed(db: Database) -> store.Run:
    deadline = time.monotonic() + REFRESH_S
    while time.monotonic() < deadline:
        run = store.last_run(db)
        if run is not None and run.status != "running":
            return run
        time.sleep(0.5)
    raise AssertionError(f"the refresh did not end within {REFRESH_S} s: {store.last_run(db)}")


def test_refresh_then_confirm_one_and_reject_another(discovered: None, db: Database, sim: SimHandle,
                                                     page: Callable[[str], AppTest]) -> None:
    at = page("markets")
    assert not at.exception
    at.button(key="suggest_refresh").click().run(timeout=RUN_S)  # starts the refresh, returns at once
    assert not at.exception
    run = _refreshed(db)
    assert run.status == "done" and run.found == len(TWINS), run
    at.run(timeout=RUN_S)
    found = {s.id: s for s in store.open_suggestions(db)}
    offered = at.selectbox(key="suggest_pick").options  # each by its score and both markets' words
    assert sorted(offered) == sorted(f"{s.score} · {s.polymarket_question} = {s.kalshi_title} ({s.kalshi_ticker})"
                                     for s in found.values())
    assert {s.polymarket_question: s.kalshi_title for s in found.values()} == TWINS
    shown = " ".join(str(e.value) for e in at.caption)
    assert f"{len(TWINS)} suggestion(s)" in shown and "figures or dates that disagree" in shown

    fed = next(s for s in found.values() if "25 bps" in s.polymarket_question)
    at.selectbox(key="suggest_pick").set_value(fed.id).run()
    at.button(key="suggest_show").click().run(timeout=RUN_S)
    assert not at.exception and not [e.value for e in at.error if "heartbeat" not in e.value]
    assert at.button(key="suggest_link").disabled  # not before both were read
    at.checkbox(key="suggest_read").check().run()
    engine_up(db)
    reload = answer_next(db, "reload_config", ok=True)
    at.button(key="suggest_link").click().run(timeout=RUN_S)
    reload.join(15)
    assert not at.exception
    with db.read() as conn:
        pairs = conn.exec_driver_sql("SELECT condition_id, kalshi_ticker FROM venue_pairs").fetchall()
    assert [tuple(p) for p in pairs] == [(fed.condition_id, fed.kalshi_ticker)]
    assert _audit(db, "pair.add") == ["venue_pairs:1"]
    assert any("Linked as pair 1" in s.value for s in at.success)
    assert not [o for o in at.selectbox(key="suggest_pick").options if fed.kalshi_ticker in o]  # paired: gone

    haaland = next(s for s in found.values() if "Haaland" in s.polymarket_question)
    at.selectbox(key="suggest_pick").set_value(haaland.id).run()
    at.button(key="suggest_reject").click().run()
    assert not at.exception and _audit(db, "pair.reject") == [f"pair_suggestions:{haaland.id}"]
    assert any("it is not offered again" in s.value for s in at.success)
    assert not [o for o in at.selectbox(key="suggest_pick").options if haaland.kalshi_ticker in o]
