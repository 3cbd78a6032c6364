"""The Backtest page's Sessions tab and session pickers, through Streamlit's AppTest on a real
database: the list, start, stop, notes, export, confirmed delete (each audited), and a backtest
launched on a session's span and markets."""

from __future__ import annotations

import gzip
import json
import sqlite3
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from storage.research import recording_sessions as rs
from storage.sqlite.db import Database
from tests.dashboard.test_backtest_launch import _run_row, _stop
from tests.dashboard.test_backtest_page import P
from tests.helpers import ROOT

sys.path.insert(0, str(ROOT / "bench"))
from _recording import write_recording  # noqa: E402


def _audit(path: Path) -> list[tuple[str, str]]:
    with sqlite3.connect(path) as conn:
        return conn.execute("SELECT action, actor FROM audit_log WHERE entity LIKE 'session:%' ORDER BY id").fetchall()


def test_sessions_tab_starts_stops_annotates_exports_and_deletes(
    dash_env: Path, db: Database, page: Callable[[str], AppTest]
) -> None:
    markets, _, _ = write_recording(dash_env, markets=2, events=100)
    at = page("backtest")
    assert any("No recording session yet" in i.value for i in at.info)
    at.text_input(key="ss_name").input("debate night")
    at.multiselect(key="ss_markets").set_value(markets[:1])
    at.text_area(key="ss_notes").input("before the debate")
    at.button(key="ss_start").click().run()
    assert not at.exception
    (session,) = rs.sessions(db)
    assert (session.name, session.markets, session.notes, session.recording) == \
        ("debate night", (markets[0],), "before the debate", True)
    (table,) = [d.value for d in at.dataframe if "Name" in d.value.columns]  # the sessions table
    assert list(table["Name"]) == ["debate night"] and list(table["Status"]) == ["recording"]
    at.button(key="ss_stop").click().run()
    assert not rs.get_session(db, "debate night").recording
    at.text_area(key=f"ss_edit_notes_{session.id}").input("spreads widened")
    at.button(key="ss_save_notes").click().run()
    assert rs.get_session(db, "debate night").notes == "spreads widened"
    at.button(key="ss_export").click().run()
    assert not at.exception
    export = dash_env.parent / "exports" / "debate-night.jsonl.gz"
    with gzip.open(export, "rt") as lines:
        assert json.loads(lines.readline())["session"]["name"] == "debate night"
    assert at.button(key="ss_delete").disabled  # not before the box is ticked
    at.checkbox(key="ss_delete_ok").check().run()
    at.button(key="ss_delete").click().run()
    assert not at.exception and rs.sessions(db) == []
    assert [a for a, _ in _audit(dash_env)] == ["session.start", "session.stop", "session.annotate",
                                                 "session.delete"]
    assert {actor for _, actor in _audit(dash_env)} == {"dashboard"}


def test_a_refused_name_says_why_and_starts_nothing(dash_env: Path, db: Database,
                                                    page: Callable[[str], AppTest]) -> None:
    write_recording(dash_env, markets=1, events=10)
    at = page("backtest")
    at.text_input(key="ss_name").input("-bad")
    at.button(key="ss_start").click().run()
    assert any("starts with a letter" in e.value for e in at.error)
    assert rs.sessions(db) == []


def test_a_backtest_launches_on_a_session(
    dash_env: Path, db: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    page: Callable[[str], AppTest],
) -> None:
    monkeypatch.setenv("ENGINE_LOG_FILE", str(tmp_path / "engine.log"))
    markets, start, end = write_recording(dash_env, markets=3, events=300)
    rs.start_session(db, name="two of three", markets=markets[1:], actor="t", now=start + 100)
    rs.stop_session(db, name="two of three", actor="t", now=end - 100)
    at = page("backtest")
    assert list(at.selectbox(key="sw_session").options) == ["— none: pick a range —", "two of three"]
    at.selectbox(key="bt_session").select("two of three").run()
    assert at.multiselect(key="bt_markets").value == markets[1:]  # the session's markets, picked
    assert any("Session **two of three**" in c.value for c in at.caption)
    at.text_input(key=f"{P}size").input("20")
    at.button(key="bt_launch").click().run()
    try:
        assert not at.exception
        row = _run_row(db)
        assert row is not None
        assert (row["from_at"], row["to_at"], json.loads(row["markets"])) == (start + 100, end - 100, markets[1:])
    finally:
        _stop((_run_row(db) or {}).get("pid"))


def test_a_session_over_every_market_backtests_every_market_it_recorded(
    dash_env: Path, db: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    page: Callable[[str], AppTest],
) -> None:
    """A session started over "all markets" names none: the New backtest tab backtests every market
    with ticks in its span, as the Sweep tab and the CLI do (it once refused to launch)."""
    monkeypatch.setenv("ENGINE_LOG_FILE", str(tmp_path / "engine.log"))
    markets, start, end = write_recording(dash_env, markets=3, events=300)
    rs.start_session(db, name="everything", markets=[], actor="t", now=start + 100)
    rs.stop_session(db, name="everything", actor="t", now=end - 100)
    at = page("backtest")
    at.selectbox(key="bt_session").select("everything").run()
    assert at.multiselect(key="bt_markets").value == []
    assert any("No market picked: all 3 with ticks in the range are backtested" in c.value for c in at.caption)
    at.text_input(key=f"{P}size").input("20")
    at.button(key="bt_launch").click().run()
    try:
        assert not at.exception
        row = _run_row(db)
        assert row is not None and sorted(json.loads(row["markets"])) == sorted(markets)
    finally:
        _stop((_run_row(db) or {}).get("pid"))
