"""Overview on a seeded database, and the controls posting exactly one command per press."""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable

import pytest
from sqlalchemy import text
from streamlit.testing.v1 import AppTest

from storage.command_queue.commands import post_command
from storage.sqlite.db import Database, now_ms
from tests.dashboard.conftest import answer_next, engine_up, fresh_heartbeat, table_with
from tests.dashboard.reading import as_read


def _commands(db: Database) -> list[tuple]:
    with db.read() as conn:
        return [tuple(r) for r in conn.execute(text("SELECT kind, payload, actor FROM commands ORDER BY id"))]


def test_overview_shows_state_mode_and_heartbeat(db: Database, logged_in: Callable[[], AppTest]) -> None:
    with db.write() as conn:
        conn.execute(text("UPDATE engine_state SET state='RUNNING', desired_state='RUNNING', "
                          "heartbeat_at=:beat, pid=4242"), {"beat": fresh_heartbeat()})
    done = post_command(db, "start", {}, actor="dashboard")
    with db.write() as conn:
        conn.execute(text("UPDATE commands SET status='done', finished_at=created_at+42 WHERE id=:id"),
                     {"id": done.id})
    reload = post_command(db, "reload_config", {}, actor="dashboard")  # a page's save: not the operator's command
    at = logged_in()
    assert not at.exception
    header = [m.value for m in at.markdown]  # st.badge renders as markdown: the state once, in the header
    assert any("[RUNNING]" in m for m in header) and any("PAPER" in m for m in header), header
    assert not any(m.label in ("Lifecycle", "Mode", "Trading state", "Heartbeat age") for m in at.metric)
    assert not any("returns to" in c.value for c in at.caption)  # desired as it is: nothing to say
    assert not at.error  # fresh heartbeat: no stale warning
    table = table_with(at, "latency_ms")
    assert list(table["kind"]) == ["start"] and list(table["latency_ms"]) == [42]
    assert reload.id > done.id


def test_stale_heartbeat_is_loud(db: Database, logged_in: Callable[[], AppTest]) -> None:
    with db.write() as conn:
        conn.execute(text("UPDATE engine_state SET state='RUNNING', heartbeat_at=:t, pid=1"),
                     {"t": now_ms() - 60_000})
    at = logged_in()
    assert any("heartbeat is stale" in e.value for e in at.error)


def test_a_desk_that_runs_but_cannot_decide_is_said_so_in_the_header(db: Database,
                                                                     logged_in: Callable[[], AppTest]) -> None:
    with db.write() as conn:  # the heartbeat fresh however slow the page (ahead), the last trading pass a minute old
        conn.execute(text("UPDATE engine_state SET state='RUNNING', heartbeat_at=:ahead, pid=4242, last_pass_at=:then"),
                     {"ahead": now_ms() + 60_000, "then": now_ms() - 60_000})
    at = logged_in()
    shown = [e.value for e in at.error]
    assert any(re.search(r"The desk cannot decide: no trading pass has completed for \d+ s", e) for e in shown), shown
    assert not any("heartbeat is stale" in e.value for e in at.error)


def test_kill_latch_is_shown(db: Database, logged_in: Callable[[], AppTest]) -> None:
    with db.write() as conn:
        conn.execute(text("UPDATE engine_state SET state='KILLED', kill_latched=1, kill_reason='news spike'"))
    at = logged_in()
    assert any("KILL LATCH SET: news spike" in e.value for e in at.error)


def test_kill_needs_confirmation_and_posts_exactly_one_command(db: Database, logged_in: Callable[[], AppTest],
                                                               press_clock: list[float]) -> None:
    at = logged_in()
    at.button(key="btn_kill").click().run()
    assert _commands(db) == []  # the dialog is open, nothing posted yet
    at.text_input(key="kill_reason").input("spread blew out")
    at.button(key="kill_confirm").click().run()
    assert not at.exception
    # A frantic second press within the debounce window collapses into the same command.
    at.button(key="btn_kill").click().run()
    at.button(key="kill_confirm").click().run()
    assert _commands(db) == [("kill", '{"reason": "spread blew out"}', "dashboard")]
    with db.read() as conn:
        audit = conn.execute(text("SELECT action, actor FROM audit_log")).fetchall()
    assert [tuple(a) for a in audit] == [("command.post", "dashboard")]


def test_cancelling_the_kill_dialog_posts_nothing(db: Database, logged_in: Callable[[], AppTest]) -> None:
    at = logged_in()
    at.button(key="btn_kill").click().run()
    at.button(key="kill_cancel").click().run()
    assert _commands(db) == []
    assert not [b for b in at.button if b.key == "kill_confirm"]


@pytest.fixture
def press_clock(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """The wall clock the controls time a press by for its debounce (controls.wall_s), held still
    until the test moves it (`clock[0] += seconds`): two presses a loaded machine runs seconds
    apart are still one frantic double click."""
    from pages.widgets import controls

    clock = [time.time()]
    monkeypatch.setattr(controls, "wall_s", lambda: clock[0])
    return clock


def test_double_click_on_start_posts_one_command(db: Database, logged_in: Callable[[], AppTest],
                                                 press_clock: list[float]) -> None:
    from pages.widgets.controls import DEBOUNCE_S

    at = logged_in()
    at.button(key="btn_start").click().run()
    at.button(key="btn_start").click().run()
    assert [c[0] for c in _commands(db)] == ["start"]
    at.button(key="btn_stop").click().run()
    assert [c[0] for c in _commands(db)] == ["start", "stop"]
    press_clock[0] += DEBOUNCE_S + 0.1  # past the window: a new press is a new command
    at.button(key="btn_start").click().run()
    assert [c[0] for c in _commands(db)] == ["start", "stop", "start"]


def test_rearm_goes_through_a_confirmation(db: Database, logged_in: Callable[[], AppTest]) -> None:
    at = logged_in()
    at.button(key="btn_rearm").click().run()
    assert _commands(db) == []
    at.button(key="rearm_confirm").click().run()
    assert [c[0] for c in _commands(db)] == ["rearm"]


def test_a_start_the_engine_refuses_shows_the_refusal_not_a_green_posted(
    db: Database, logged_in: Callable[[], AppTest]
) -> None:
    engine_up(db, state="KILLED")
    engine = answer_next(db, "start", ok=False, error="the kill latch is set: re-arm before starting")
    at = logged_in()
    at.button(key="btn_start").click().run()
    engine.join(5)
    assert any("Start: failed" in e.value and "re-arm before starting" in as_read(e.value) for e in at.error)
    assert not [s.value for s in at.success if "Start" in s.value]


def test_a_start_the_engine_applies_says_done(db: Database, logged_in: Callable[[], AppTest]) -> None:
    engine_up(db, state="STOPPED")
    engine = answer_next(db, "start", ok=True, result='{"state": "RUNNING"}')
    at = logged_in()
    at.button(key="btn_start").click().run()
    engine.join(5)
    assert any("Start: done" in s.value for s in at.success)


def test_with_no_engine_running_a_command_says_it_is_queued(db: Database, logged_in: Callable[[], AppTest]) -> None:
    at = logged_in()  # no heartbeat: no engine
    at.button(key="btn_start").click().run()
    assert [c[0] for c in _commands(db)] == ["start"]
    assert any("Start: queued" in w.value and "engine is not running" in w.value for w in at.warning)
    assert not [s.value for s in at.success if "Start" in s.value]


def test_a_kill_answered_by_the_engine_is_reported_done(db: Database, logged_in: Callable[[], AppTest]) -> None:
    engine_up(db)
    engine = answer_next(db, "kill", ok=True, result='{"state": "KILLED", "cancelled": 3}')
    at = logged_in()
    at.button(key="btn_kill").click().run()
    at.button(key="kill_confirm").click().run()
    engine.join(5)
    assert any("Kill: done" in s.value for s in at.success), [s.value for s in at.success]


def test_while_killed_no_badge_or_metric_says_trading_active(db: Database, logged_in: Callable[[], AppTest]) -> None:
    engine_up(db, state="KILLED")
    with db.write() as conn:
        conn.execute(text("UPDATE engine_state SET kill_latched = 1, kill_reason = 'news spike', "
                          "trading_state = 'ACTIVE'"))
    at = logged_in()
    shown = [m.value for m in at.markdown]  # st.badge renders as markdown
    assert any("KILLED: no orders" in s for s in shown), shown
    assert not any("trading ACTIVE" in s for s in shown)


def test_venue_maintenance_shows_as_a_banner_not_an_error(db: Database, logged_in: Callable[[], AppTest]) -> None:
    engine_up(db)
    with db.write() as conn:
        conn.execute(text("UPDATE engine_state SET venue_status = 'maintenance', venue_status_at = :t"),
                     {"t": now_ms()})
    at = logged_in()
    assert any("Venue maintenance" in w.value and "resumes by itself" in w.value for w in at.warning)
    assert not any("maintenance" in e.value.lower() for e in at.error)


def test_every_active_venue_condition_shows_in_the_header_while_the_phase_is_ok(
        db: Database, logged_in: Callable[[], AppTest]) -> None:
    engine_up(db)
    since = now_ms() - 60_000
    conditions = [{"code": "unreachable", "since": since, "detail": "no answer from the venue for over 30 s"},
                  {"code": "balance_drift", "since": None, "detail": "the wallet's collateral differs by +1.25 pUSD"}]
    with db.write() as conn:
        conn.execute(text("UPDATE engine_state SET venue_status = 'ok', venue_conditions = :c"),
                     {"c": json.dumps(conditions)})
    warnings = [as_read(w.value) for w in logged_in().warning]
    assert any("no answer from the venue for over 30 s" in w and "since" in w for w in warnings), warnings
    assert any("differs by +1.25 pUSD" in w for w in warnings), warnings
    tier = {"tier": "bronze", "read_at": since, "order_rate": 80, "order_burst": 120, "cancel_rate": 160,
            "cancel_burst": 240}
    with db.write() as conn:
        conn.execute(text("UPDATE engine_state SET venue_conditions = '[]', venue_tier = :t"), {"t": json.dumps(tier)})
    at = logged_in()
    assert not any(w.startswith("Venue") for w in (w.value for w in at.warning))
    # The tier the live desk paces by is said beside the heartbeat: no warning, a fact.
    assert any("venue rate tier bronze: 80 orders/s, 160 cancels/s" in as_read(c.value) for c in at.caption)


def test_redeemable_is_shown_apart_from_cash_and_redeem_needs_confirmation(
        db: Database, logged_in: Callable[[], AppTest]) -> None:
    with db.write() as conn:
        conn.execute(text("INSERT INTO cash_ledger (mode, at, kind, amount, ref) VALUES "
                          "('paper', 1, 'deposit', 100000000, 'initial'), ('paper', 2, 'rebate', 1250000, '0xr')"))
        conn.execute(text("""INSERT INTO claims (mode, kind, condition_id, strategy, token_id, amount, ref, created_at)
                             VALUES ('paper', 'redeem', '0xc1', 'mm', 'T1', 20000000, '0xc1:mm:T1', :now)"""),
                     {"now": now_ms()})
    at = logged_in()
    assert not at.exception
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Cash (pUSD)"] == "101.25" and metrics["Redeemable (pUSD)"] == "20.00"
    assert metrics["Maker rebates (pUSD)"] == "1.25"
    table = next(d.value for d in at.dataframe if "owed_usdc" in d.value.columns)
    assert list(table["owed_usdc"]) == [20.0] and list(table["last_tx"]) == ["not sent yet"]
    at.button(key="btn_redeem").click().run()
    assert _commands(db) == []  # the dialog is open, nothing posted yet
    at.button(key="redeem_confirm").click().run()
    assert not at.exception
    assert _commands(db) == [("redeem", '{"reason": "Redeem button on the Overview"}', "dashboard")]
    with db.read() as conn:
        audit = conn.execute(text("SELECT action, actor FROM audit_log")).fetchall()
    assert [tuple(a) for a in audit] == [("command.post", "dashboard")]


def test_nothing_redeemable_says_so(db: Database, logged_in: Callable[[], AppTest]) -> None:
    at = logged_in()
    assert not at.exception
    assert any("Nothing redeemable" in c.value for c in at.caption)
    assert not [b for b in at.button if b.key == "btn_redeem"]
