"""The password gate: no page is reachable before login; no hash means a locked dashboard."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from tests.dashboard.conftest import PASSWORD
from tests.helpers import ROOT


def _app() -> AppTest:
    return AppTest.from_file(str(ROOT / "app.py"), default_timeout=20)


def test_no_hash_configured_shows_how_to_set_one(dash_env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DASHBOARD_PASSWORD_HASH")
    at = _app().run()
    assert not at.exception
    assert at.title[0].value == "Set a dashboard password first"
    assert any("python -m engine set-password" in m.value for m in at.markdown)
    assert not at.text_input  # there is nothing to log into
    with pytest.raises(ValueError, match="Could not find a navigation page"):
        at.switch_page("pages/overview.py")


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
