"""The password gate: no page is reachable before login; no hash means a locked dashboard, whose
first page offers to set the password."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest
from sqlalchemy import text
from streamlit.testing.v1 import AppTest

from contracts.passwords import verify_password
from pages.widgets.auth import page_path
from storage.desk import dashboard_sessions
from storage.sqlite.db import Database, now_ms
from tests.dashboard.conftest import _HASH as _HASH_TEXT
from tests.dashboard.conftest import PASSWORD
from tests.helpers import ROOT


def _app() -> AppTest:
    return AppTest.from_file(str(ROOT / "app.py"), default_timeout=20)


def test_no_hash_configured_offers_to_set_one(dash_env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The first run's page: the password can be chosen right there (the dashboard listens on
    127.0.0.1 only); refusals say why and store nothing; a good one logs in, and only its hash
    is kept (in .env), audited."""
    monkeypatch.delenv("DASHBOARD_PASSWORD_HASH")
    env_file = Path(os.environ["TRADER_ENV_FILE"])
    at = _app().run()
    assert not at.exception
    assert at.title[0].value == "Set a dashboard password first"
    with pytest.raises(ValueError, match="Could not find a navigation page"):
        at.switch_page("pages/overview.py")
    at.text_input(key="first_password").input("a long enough secret")
    at.text_input(key="first_password_repeat").input("a long enough secreT")
    at.button(key="first_password_save").click().run()
    assert [e.value for e in at.error][-1] == "The two passwords differ: nothing saved."
    at.text_input(key="first_password").input("short")
    at.text_input(key="first_password_repeat").input("short")
    at.button(key="first_password_save").click().run()
    assert "at least 8 characters" in at.error[-1].value and not env_file.exists()
    at.text_input(key="first_password").input("a long enough secret")
    at.text_input(key="first_password_repeat").input("a long enough secret")
    at.button(key="first_password_save").click().run()
    assert not at.exception
    assert at.title[0].value == "Overview" and at.session_state["authenticated"]
    stored = env_file.read_text().strip().split("=", 1)[1]
    assert verify_password("a long enough secret", stored) and "a long enough secret" not in env_file.read_text()
    with Database(dash_env).read() as conn:
        assert conn.execute(text("SELECT action, entity FROM audit_log ORDER BY id")).all() == [
            ("dashboard.password_set", "dashboard"), ("dashboard.login", "dashboard")]


def test_no_hash_on_a_public_address_gives_the_shell_command(dash_env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DASHBOARD_PASSWORD_HASH")
    monkeypatch.setattr("pages.widgets.first_run.listens_locally", lambda: False)
    at = _app().run()
    assert not at.exception and not at.text_input  # nothing to type a password into
    assert any("python -m engine set-password" in m.value for m in at.markdown)


def test_wrong_password_is_refused_after_a_delay(dash_env: Path) -> None:
    at = _app().run()
    at.text_input(key="password").input("not the password")
    began = time.monotonic()
    at.button[0].click().run()
    assert time.monotonic() - began >= 1.0
    assert [e.value for e in at.error] == ["Wrong password."]
    assert "authenticated" not in at.session_state
    assert at.title[0].value == "Polymarket desk"


def test_pages_unreachable_before_login(dash_env: Path) -> None:
    at = _app().run()
    # Before login only the login page is registered, so no other page has a URL at all.
    for page in ("overview", "risk", "settings"):
        with pytest.raises(ValueError, match="Could not find a navigation page"):
            at.switch_page(f"pages/{page}.py")
    at.text_input(key="password").input(PASSWORD)
    at.button[0].click().run()
    at.switch_page("pages/risk.py").run()
    assert not at.exception and at.title[0].value == "Risk"


def test_right_password_opens_the_overview(dash_env: Path) -> None:
    at = _app().run()
    at.text_input(key="password").input(PASSWORD)
    at.button[0].click().run()
    assert not at.exception
    assert at.title[0].value == "Overview"
    assert at.session_state["authenticated"] is True


def test_a_malformed_env_file_says_which_setting_to_fix(
    dash_env: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("SIMULATOR_PORT", raising=False)
    (tmp_path / "none.env").write_text("SIMULATOR_PORT=eighty\n")  # the fixture's TRADER_ENV_FILE
    at = _app().run()
    assert not at.exception
    assert [e.value for e in at.error] == [
        "The dashboard cannot start: SIMULATOR_PORT must be a whole number, got 'eighty'."
    ]
    assert not at.text_input and not at.title  # no login form, no page behind it


def _log_in(at: AppTest, password: str = PASSWORD) -> AppTest:
    at.text_input(key="password").input(password)
    return at.button[0].click().run()


def _with_token(token: str) -> AppTest:
    at = _app()
    at.query_params["s"] = token
    return at.run()


def test_a_reload_keeps_the_login_through_a_signed_token(dash_env: Path) -> None:
    at = _log_in(_app().run())
    token = at.query_params["s"][0] if isinstance(at.query_params["s"], list) else at.query_params["s"]
    assert PASSWORD not in token and _HASH_TEXT not in token  # neither the password nor its hash
    reloaded = _with_token(token)  # a new browser session: what a reload is
    assert not reloaded.exception and reloaded.title[0].value == "Overview"
    assert reloaded.session_state["authenticated"] is True


def test_a_forged_or_expired_token_opens_nothing(dash_env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    at = _log_in(_app().run())
    token = str(at.query_params["s"][0] if isinstance(at.query_params["s"], list) else at.query_params["s"])
    session_id, expiry, signature = token.split(".")
    forged = f"{session_id}.{int(expiry) + 10**9}.{signature}"  # a later expiry under the old signature
    for bad in (forged, "garbage", token[:-1] + ("0" if token[-1] != "0" else "1")):
        refused = _with_token(bad)
        assert refused.title[0].value == "Polymarket desk" and "authenticated" not in refused.session_state
    hour_later = dashboard_sessions.issue(_HASH_TEXT, 1, now=now_ms() - 2 * 3_600_000)  # expired an hour ago
    assert _with_token(hour_later).title[0].value == "Polymarket desk"


def test_a_logged_out_token_is_refused(dash_env: Path) -> None:
    at = _log_in(_app().run())
    token = str(at.query_params["s"][0] if isinstance(at.query_params["s"], list) else at.query_params["s"])
    db = Database(dash_env)
    dashboard_sessions.revoke(db, token, actor="dashboard")  # what Log out does with the session's token
    assert _with_token(token).title[0].value == "Polymarket desk"
    other = _log_in(_app().run())  # another login is a new session, unaffected
    fresh = str(other.query_params["s"][0] if isinstance(other.query_params["s"], list) else other.query_params["s"])
    assert fresh != token and _with_token(fresh).title[0].value == "Overview"
    db.dispose()


def test_lowering_the_session_hours_ends_the_longer_sessions_issued_before(
        dash_env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A token issued for 720 h must not outlive DASHBOARD_SESSION_HOURS lowered to 1."""
    month = dashboard_sessions.issue(_HASH_TEXT, 720)
    monkeypatch.setenv("DASHBOARD_SESSION_HOURS", "720")
    assert _with_token(month).title[0].value == "Overview"
    monkeypatch.setenv("DASHBOARD_SESSION_HOURS", "1")
    assert _with_token(month).title[0].value == "Polymarket desk"
    assert _with_token(dashboard_sessions.issue(_HASH_TEXT, 1)).title[0].value == "Overview"


def test_session_hours_zero_keeps_no_token(dash_env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DASHBOARD_SESSION_HOURS", "0")
    at = _log_in(_app().run())
    assert at.title[0].value == "Overview" and "s" not in at.query_params


def test_a_page_asked_for_before_login_opens_after_it(dash_env: Path) -> None:
    assert page_path("http://127.0.0.1:8501/risk", {"risk", "orders"}) == "risk"
    assert page_path("http://127.0.0.1:8501/", {"risk"}) is None
    assert page_path("http://127.0.0.1:8501/nope?s=1", {"risk"}) is None
    at = _app().run()
    at.session_state["after_login"] = "risk"  # what remember_requested_page keeps from the address
    _log_in(at)
    assert not at.exception and at.title[0].value == "Risk"


def test_wrong_passwords_from_many_sessions_share_one_budget(dash_env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from pages.widgets import auth

    monkeypatch.setattr(auth, "FAILED_LOGIN_DELAY_S", 0.0)  # the per-session delay is tested above
    sessions = [_app().run() for _ in range(4)]
    refused = []
    for i in range(12):
        at = _log_in(sessions[i % 4], f"guess {i}")
        refused += [e.value for e in at.error]
    assert any(r.startswith("Too many failed logins") for r in refused)
    locked = _log_in(_app().run())  # even the right password waits out the lock
    assert [e.value for e in locked.error][0].startswith("Too many failed logins")
    assert "authenticated" not in locked.session_state
    db = Database(dash_env)
    with db.read() as conn:
        alerts = conn.execute(text("SELECT code, level FROM alerts")).fetchall()
        audits = conn.execute(text("SELECT action FROM audit_log WHERE action = 'login.failures'")).fetchall()
    db.dispose()
    assert [tuple(a) for a in alerts] == [("LOGIN_FAILURES", "warning")] and len(audits) == 1
    monkeypatch.setattr(auth, "login_clock", lambda: time.time() + 60)  # the budget has refilled
    assert _log_in(_app().run()).title[0].value == "Overview"


@pytest.mark.parametrize("page", ["overview", "markets", "orders", "strategies", "risk", "settings", "backtest",
                                  "audit"])
def test_a_page_run_by_its_own_address_shows_nothing_before_login(dash_env: Path, page: str) -> None:
    """Streamlit serves pages/<name>.py by its address (/risk) without app.py: the page's own gate
    must hold (the browser test opens /risk before logging in, too)."""
    at = AppTest.from_file(str(ROOT / "pages" / f"{page}.py"), default_timeout=20).run()
    assert not at.exception
    assert not at.title and not at.metric and not at.dataframe and not at.button
    assert at.session_state["after_login"] == page


def test_the_overview_asked_for_before_login_is_simply_where_login_lands(dash_env: Path) -> None:
    at = _app().run()
    at.session_state["after_login"] = "overview"  # what the Overview page's own gate keeps
    _log_in(at)
    assert not at.exception and at.title[0].value == "Overview"
