"""The login form under a flood of guesses (issue 86, item 2), through the real login path (the form, the
desk-wide budget in the database, the clock moved by hand): once five wrong guesses have emptied the
budget, attempts every 5 or 10 ms keep coming; one of them, or the administrator, still gets a guess
every 10 s, as docs/security.md says. Mid-flood the form says the true wait (not a wait that never
ends), and the administrator who asks first once the guess has refilled logs in."""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from pages.widgets import auth
from storage.desk.login_budget import CAPACITY, DatabaseBudget
from storage.sqlite.db import Database
from tests.dashboard.conftest import PASSWORD
from tests.helpers import ROOT

START = 1_790_000_000.0


def _submit(clock: list[float], at_s: float, password: str) -> AppTest:
    clock[0] = START + at_s
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=20).run()
    at.text_input(key="password").input(password)
    return at.button[0].click().run()


@pytest.mark.parametrize("every_ms", [5, 10])
def test_a_flood_of_guesses_leaves_a_guess_every_ten_seconds(dash_env: Path, monkeypatch: pytest.MonkeyPatch,
                                                             every_ms: int) -> None:
    clock = [START]
    monkeypatch.setattr(auth, "login_clock", lambda: clock[0])
    monkeypatch.setattr(auth, "FAILED_LOGIN_DELAY_S", 0.0)
    for _ in range(CAPACITY):  # typos are free: five wrong guesses empty the budget
        assert [e.value for e in _submit(clock, 0.0, "a wrong guess").error] == ["Wrong password."]
    db = Database(dash_env)
    try:
        flood = DatabaseBudget(db)  # what every other session's submit takes from (auth.login_budget)
        for i in range(1, 5_000 // every_ms):
            assert not flood.take(START + i * every_ms / 1000).allowed
        halfway = _submit(clock, 5.0 + 0.0005, PASSWORD)
        assert [e.value for e in halfway.error][0].startswith("Too many failed logins: try again in 5 s")
        for i in range(5_000 // every_ms + 1, 10_000 // every_ms):
            assert not flood.take(START + i * every_ms / 1000).allowed
    finally:
        db.dispose()
    logged_in = _submit(clock, 10.0 + 0.0005, PASSWORD)  # the first to ask once the guess has refilled
    assert logged_in.session_state["authenticated"] and logged_in.title[0].value == "Overview"
