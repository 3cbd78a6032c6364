"""The Sessions tab imports from the PMXT archive as a user would: a form checked whole before
anything starts, then the CLI's import in a process of its own (audited), followed on the page to
what it imported; a bad path or id starts nothing and says every problem at once."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from storage.research import recording_sessions as rs
from storage.sqlite.db import Database
from tests.dashboard.reading import as_read
from tests.helpers import wait_until
from tests.marketdata.test_pmxt_import import CID, GAMMA, _v2_file, _v2_rows


def _successes(at: AppTest) -> str:
    return "\n".join(as_read(s.value) for s in at.success)


def test_an_archive_hour_imports_from_the_sessions_tab(
    dash_env: Path, db: Database, page: Callable[[str], AppTest], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ENGINE_LOG_FILE", str(tmp_path / "log" / "engine.log"))  # the import's output beside it
    hour = _v2_file(tmp_path / "hour.parquet", _v2_rows())
    markets = tmp_path / "gamma.json"
    markets.write_text(json.dumps([GAMMA]))
    at = page("backtest")
    at.text_input(key="px_path").input(str(hour))
    at.text_area(key="px_markets").input(CID)
    at.text_input(key="px_markets_file").input(str(markets))
    at.text_input(key="px_name").input("archive hour")
    at.button(key="px_go").click().run()
    assert not at.exception and not any("Nothing started" in e.value for e in at.error)

    def finished() -> bool:
        at.run()
        return "Imported 6 ticks" in _successes(at)
    wait_until(finished, 90, 0.5, "the import's result on the page")
    said = _successes(at)
    assert "session 'archive hour'" in said and "1 a change before its token's first book snapshot" in said
    assert rs.get_session(db, "archive hour").markets == (CID,)
    with db.read() as conn:
        actions = [r[0] for r in conn.exec_driver_sql("SELECT action FROM audit_log ORDER BY id")]
    assert actions[:2] == ["session.pmxt_import", "session.import"]  # the launch, then the import itself


def test_a_bad_form_starts_nothing_and_names_every_problem(
    dash_env: Path, db: Database, page: Callable[[str], AppTest], tmp_path: Path
) -> None:
    at = page("backtest")
    at.text_input(key="px_path").input(str(tmp_path / "nowhere"))
    at.text_area(key="px_markets").input("btc, 0x12")
    at.text_input(key="px_trades").input(str(tmp_path / "no-trades.json"))
    at.checkbox(key="px_public_trades").check()
    at.button(key="px_go").click().run()
    (error,) = [as_read(e.value) for e in at.error if "heartbeat" not in e.value]  # (no engine runs here)
    assert "Nothing started" in error and "nothing at" in error and "is not a condition id" in error
    assert "Trades file: no file" in error and "a trades file or fetch them from the Data API, not both" in error
    assert "px_running" not in at.session_state
    with db.read() as conn:
        assert conn.exec_driver_sql("SELECT COUNT(*) FROM audit_log").scalar() == 0


def test_the_data_apis_trades_are_asked_for_with_the_flag() -> None:
    from pages.widgets.pmxt_panel import Asked, command

    asked = Asked("/tmp/hour.parquet", [CID], "", "", "", public_trades=True)
    assert command(asked)[-1] == "--public-trades" and "--trades" not in command(asked)
    assert "--public-trades" not in command(Asked("/tmp/hour.parquet", [CID], "", "", ""))
