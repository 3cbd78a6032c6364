"""Settings page, Kalshi: armed live on its own, with its own checklist and typed confirmation (every
reason it may not go listed at once, nothing posted then), the engine's answer shown; back to paper is
always offered while Kalshi is live. The desk's own switch is not touched by it."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from sqlalchemy import text
from streamlit.testing.v1 import AppTest

from storage.sqlite.db import Database
from tests.arming import armable
from tests.dashboard.conftest import answer_next, fresh_heartbeat
from tests.dashboard.reading import as_read
from tests.kalshi import keypair


def _commands(db: Database) -> list[tuple]:
    with db.read() as conn:
        return [tuple(r) for r in conn.execute(text("SELECT kind, payload FROM commands ORDER BY id"))]


def _engine(db: Database, *, state: str = "STOPPED", kalshi: str = "paper") -> None:
    with db.write() as conn:
        conn.execute(text("UPDATE engine_state SET state = :s, heartbeat_at = :beat, pid = 7"),
                     {"s": state, "beat": fresh_heartbeat()})
        conn.execute(text("UPDATE venue_modes SET mode = :k WHERE venue = 'kalshi'"), {"k": kalshi})


@pytest.fixture
def with_kalshi_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KALSHI_API_KEY_ID", "key-1")
    monkeypatch.setenv("KALSHI_PRIVATE_KEY", keypair()[0].replace("\n", "\\n"))


def _arm(page: Callable[[str], AppTest], typed: str = "LIVE KALSHI") -> AppTest:
    at = page("settings")
    at.text_input(key="kalshi_confirm").input(typed)
    at.button(key="kalshi_go_live").click().run()
    assert not at.exception
    return at


def _refusal(at: AppTest) -> str:
    found = [as_read(e.value) for e in at.error if e.value.startswith("Kalshi not armed live")]
    assert len(found) == 1, [e.value for e in at.error]
    return found[0]


def test_arming_kalshi_live_posts_the_venues_own_command(
        db: Database, with_kalshi_key: None, page: Callable[[str], AppTest]) -> None:
    _engine(db)
    armable(db.path, "kalshi")  # the engine read the key, it passed kalshi-preflight, a strategy is promoted
    engine = answer_next(db, "set_venue_mode", ok=True, result='{"venue": "kalshi", "mode": "live"}')
    at = _arm(page)
    engine.join(5)
    assert _commands(db) == [("set_venue_mode", '{"mode": "live", "venue": "kalshi"}')]
    assert any("Arm Kalshi LIVE: done" in s.value for s in at.success), [s.value for s in at.success]


def test_every_reason_kalshi_may_not_go_live_is_listed_and_nothing_is_posted(
        db: Database, page: Callable[[str], AppTest]) -> None:
    _engine(db, state="RUNNING")
    with db.write() as conn:
        conn.execute(text("""INSERT INTO orders (client_id, mode, strategy, condition_id, token_id, outcome, side,
                                 price, size, tif, status, status_rank, created_at, updated_at, venue)
                             VALUES ('c1', 'paper', 's', 'kalshi:K-1', 'kalshi:K-1:yes', 'YES', 'BUY', 500000,
                                     1000000, 'GTC', 'LIVE', 10, 0, 0, 'kalshi')"""))
    refusal = _refusal(_arm(page, "LIVE"))
    for reason in ("Kalshi key read by the engine: the running engine holds no Kalshi key",
                   "preflight: no preflight of this account on this host in the last hour",
                   "a promoted strategy: no strategy trading Kalshi is promoted", "engine stopped: it is RUNNING",
                   "no open Kalshi orders: 1 open", "Type LIVE KALSHI"):
        assert reason in refusal
    assert _commands(db) == []


def test_kalshi_back_to_paper_is_offered_while_it_is_live(db: Database, page: Callable[[str], AppTest]) -> None:
    _engine(db, state="RUNNING", kalshi="live")  # running, and no key at all: back to paper still goes
    with db.write() as conn:  # the engine read Kalshi's production host at its start
        conn.execute(text("UPDATE venue_modes SET host = 'https://api.elections.kalshi.com/trade-api/v2' "
                          "WHERE venue = 'kalshi'"))
    at = page("settings")
    assert any("Kalshi is armed LIVE" in w.value for w in at.warning)
    # The header says so on every page (st.badge renders as markdown).
    assert ":red-badge[:material/bolt: Kalshi LIVE — real money]" in [m.value for m in at.markdown]
    at.button(key="kalshi_go_paper").click().run()
    assert _commands(db) == [("set_venue_mode", '{"mode": "paper", "venue": "kalshi"}')]
