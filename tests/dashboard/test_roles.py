"""Roles on the dashboard (issue 76): an administrator adds users with a role and changes a role only
once confirmed, each change audited; a viewer meets no control that writes on any page; an operator
steers the engine (its commands name them) but meets neither arming, settings nor users, and a user
demoted or removed is held to it at their next click."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from sqlalchemy import text
from streamlit.testing.v1 import AppTest

from pages.widgets.users_panel import edit_prefix
from storage.desk import dashboard_users
from storage.sqlite.db import Database
from tests.dashboard.conftest import answer_next, engine_up
from tests.helpers import ROOT, decoded

PASSWORD = "a long enough password"
PAGES = sorted(p.stem for p in (ROOT / "pages").glob("*.py") if p.stem != "__init__")
# What a viewer may still press: leaving, and buttons that only change what the page shows.
VIEWER_BUTTONS = {"logout", "bt_launched_results"}


def _rows(db: Database, sql: str) -> list[tuple]:
    with db.read() as conn:
        return [tuple(r) for r in conn.execute(text(sql))]


def _login(name: str) -> AppTest:
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=20).run()
    at.text_input(key="user").input(name)
    at.text_input(key="password").input(PASSWORD)
    at.button[0].click().run()
    assert at.session_state["authenticated"], [e.value for e in at.error]
    return at


def _add(db: Database, name: str, role: str) -> None:
    dashboard_users.add_user(db, name=name, password=PASSWORD, role=role, venue=None, actor="test")


def test_an_administrator_adds_a_user_and_changes_their_role_once_confirmed(
        db: Database, logged_in: Callable[[], AppTest]) -> None:
    at = logged_in().switch_page("pages/settings.py").run()
    at.text_input(key="users_add_name").input("Alice")
    at.text_input(key="users_add_password").input(PASSWORD)
    at.text_input(key="users_add_repeat").input(PASSWORD)
    at.text_input(key="users_add_confirm").input("alice")
    at.button(key="users_add").click().run()
    assert [(u.name, u.role.value) for u in dashboard_users.users(db)] == [("alice", "operator")]

    at.selectbox(key=f"{edit_prefix('alice', 1)}_role").select("viewer")
    at.button(key="users_edit_save").click().run()  # the name not typed: nothing changes
    assert any("type the user's name" in e.value for e in at.error)
    assert dashboard_users.user(db, "alice").role.value == "operator"

    at.text_input(key="users_edit_confirm").input("alice")
    at.button(key="users_edit_save").click().run()
    assert dashboard_users.user(db, "alice").role.value == "viewer"
    assert at.selectbox(key=f"{edit_prefix('alice', 2)}_role").value == "viewer"  # the form shows it as stored
    audit = _rows(db, "SELECT actor, action, before, after FROM audit_log WHERE action LIKE 'user.%' ORDER BY id")
    assert [(actor, action) for actor, action, _, _ in audit] == [("dashboard", "user.add"),
                                                                   ("dashboard", "user.change")]
    assert (decoded(audit[1][2])["role"], decoded(audit[1][3])["role"]) == ("operator", "viewer")


def test_a_viewer_meets_no_control_that_writes(db: Database, seeded: int) -> None:
    _add(db, "vic", "viewer")
    at = _login("vic")
    assert at.session_state["login_role"] == "viewer"
    for name in PAGES:
        shown = at.switch_page(f"pages/{name}.py").run()
        assert not shown.exception and not shown.error, name
        pressed = {b.key for b in shown.button} - VIEWER_BUTTONS
        assert pressed == set(), f"{name}: a viewer is offered {sorted(map(str, pressed))}"
    assert _rows(db, "SELECT actor FROM audit_log WHERE action = 'dashboard.login'") == [("dashboard:vic",)]


def test_an_operator_steers_and_meets_no_arming_settings_or_users(dash_env: Path, db: Database) -> None:
    _add(db, "olive", "operator")
    engine_up(db)
    at = _login("olive")
    assert at.button(key="btn_kill") and at.button(key="btn_pause")
    answer_next(db, "pause", ok=True)
    at.button(key="btn_pause").click().run()
    assert _rows(db, "SELECT kind, actor FROM commands") == [("pause", "dashboard:olive")]
    settings = at.switch_page("pages/settings.py").run()
    assert not settings.exception and not settings.error
    assert {b.key for b in settings.button} <= {"logout"}  # no arming, no password, users or settings form
    assert any("administrator's" in i.value for i in settings.info)


def test_a_user_demoted_or_removed_is_held_to_it_at_the_next_click(db: Database) -> None:
    _add(db, "olive", "operator")
    engine_up(db)
    at = _login("olive")
    assert at.button(key="btn_start")
    dashboard_users.change_user(db, name="olive", version=1, role="viewer", venue=None, password=None, actor="t")
    at.run()
    assert at.session_state["login_role"] == "viewer" and not [b for b in at.button if b.key == "btn_start"]
    dashboard_users.remove_user(db, name="olive", version=2, actor="t")
    at.run()
    assert "authenticated" not in at.session_state and at.text_input(key="password")


def test_an_operator_changes_strategies_of_their_venue_only_and_never_promotes(db: Database, seeded: int) -> None:
    dashboard_users.add_user(db, name="kim", password=PASSWORD, role="operator", venue="kalshi", actor="test")
    with db.write() as conn:
        conn.execute(text("UPDATE strategies SET live = 0 WHERE name = 'mm-btc'"))  # paper only: promotable
    at = _login("kim").switch_page("pages/strategies.py").run()
    assert not [b for b in at.button if b.key == "strategy_promote"]  # arming is the administrator's
    at.text_input(key="strategy_mm-btc_v1_p_size").input("12")
    at.button(key="strategy_mm-btc_v1_save").click().run()  # a Polymarket strategy: the writer refuses it
    assert any("refused" in e.value and "Kalshi only" in e.value for e in at.error)
    assert _rows(db, "SELECT version FROM strategies WHERE name = 'mm-btc'") == [(1,)]
    assert _rows(db, "SELECT actor FROM audit_log WHERE action = 'access.refused'") == [("dashboard:kim",)]
