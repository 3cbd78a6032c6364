"""Dashboard logins and logouts are audited (issue 27): each successful login and each logout
leaves an audit row naming the actor and the session (by a digest, never the password, its
hash or the token); a wrong password leaves none (bursts of those raise LOGIN_FAILURES)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import text
from streamlit.testing.v1 import AppTest

from storage.desk import dashboard_sessions
from storage.sqlite.db import Database
from tests.dashboard.conftest import _HASH, PASSWORD
from tests.helpers import ROOT, decoded


def _audit(db_path: Path) -> list[tuple[str, str, str | None, str | None]]:
    db = Database(db_path)
    try:
        with db.read() as conn:
            return [tuple(r) for r in conn.execute(text(
                "SELECT actor, action, before, after FROM audit_log WHERE action LIKE 'dashboard.log%' ORDER BY id"))]
    finally:
        db.dispose()


def _token(at: AppTest) -> str:
    value = at.query_params["s"]
    return str(value[0] if isinstance(value, list) else value)


def test_a_login_is_audited_without_any_secret(dash_env: Path) -> None:
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=20).run()
    at.text_input(key="password").input(PASSWORD)
    at.button[0].click().run()
    assert at.title[0].value == "Overview"
    token = _token(at)
    rows = _audit(dash_env)
    assert [(actor, action) for actor, action, _, _ in rows] == [("dashboard", "dashboard.login")]
    assert decoded(rows[0][3]) == {"session": dashboard_sessions.session_label(token)}
    _no_secret_in(rows, token)


def test_a_logout_is_audited_naming_the_session_its_login_opened(dash_env: Path) -> None:
    """What the sidebar's Log out calls (AppTest renders the sidebar of the first run after a
    login only, so the button's own click cannot be driven here)."""
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=20).run()
    at.text_input(key="password").input(PASSWORD)
    at.button[0].click().run()
    token = _token(at)
    db = Database(dash_env)
    dashboard_sessions.revoke(db, token, actor="dashboard")
    assert dashboard_sessions.session_of(db, token, _HASH, max_hours=24) is None  # and it is refused
    dashboard_sessions.revoke(db, None, actor="dashboard")  # a session without a token (hours = 0)
    db.dispose()
    rows = _audit(dash_env)
    assert [(actor, action, json.loads(before or "null")) for actor, action, before, _ in rows] == [
        ("dashboard", "dashboard.login", None),
        ("dashboard", "dashboard.logout", {"session": dashboard_sessions.session_label(token)}),
        ("dashboard", "dashboard.logout", {"session": None})]
    _no_secret_in(rows, token)


def _no_secret_in(rows: list[tuple[str, str, str | None, str | None]], token: str) -> None:
    everything = " ".join(str(cell) for row in rows for cell in row)
    for secret in (PASSWORD, _HASH, token, *token.split(".")):
        assert secret not in everything


def test_a_wrong_password_is_not_audited_as_a_login(dash_env: Path) -> None:
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=20).run()
    at.text_input(key="password").input("not the password")
    at.button[0].click().run()
    assert [e.value for e in at.error] == ["Wrong password."]
    assert _audit(dash_env) == []


def test_a_login_without_session_tokens_is_audited_too(dash_env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DASHBOARD_SESSION_HOURS", "0")
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=20).run()
    at.text_input(key="password").input(PASSWORD)
    at.button[0].click().run()
    assert at.title[0].value == "Overview"
    assert [(a, b, json.loads(d or "null")) for a, b, _, d in _audit(dash_env)] == [
        ("dashboard", "dashboard.login", {"session": None})]
