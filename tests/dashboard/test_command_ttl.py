"""Commands the dashboard posts expire after COMMAND_TTL_SECONDS, as the CLI's do (not after a
fixed default)."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from sqlalchemy import text
from streamlit.testing.v1 import AppTest

from storage.sqlite.db import Database

TTL_S = 600  # far from post_command's 60 s default, so a dropped setting shows


@pytest.fixture(autouse=True)
def long_ttl(dash_env: object, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COMMAND_TTL_SECONDS", str(TTL_S))


def _lifetimes(db: Database) -> dict[str, int]:
    with db.read() as conn:
        rows = conn.execute(text("SELECT kind, expires_at - created_at FROM commands")).all()
    return {kind: ms for kind, ms in rows}


def test_a_control_press_expires_after_the_configured_ttl(
    db: Database, logged_in: Callable[[], AppTest]
) -> None:
    at = logged_in()
    at.button(key="btn_start").click().run()
    assert not at.exception
    assert _lifetimes(db) == {"start": TTL_S * 1000}


def test_the_reload_after_a_config_save_expires_after_the_configured_ttl(
    db: Database, page: Callable[[str], AppTest]
) -> None:
    at = page("risk")
    at.text_input(key="limit_max_daily_loss_v0").input("250")
    at.button(key="limit_save").click().run()
    assert not at.exception
    assert _lifetimes(db) == {"reload_config": TTL_S * 1000}
