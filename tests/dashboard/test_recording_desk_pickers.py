"""The market pickers of the New backtest and Sweep forms on a desk that is recording: ticks
arrive between two reruns of the page, and the markets the operator picked stay picked.

The browser keeps the label it showed when a market was picked and sends that label back on
every later rerun; a label carrying the live tick count no longer matched any option once more
ticks had arrived, so the pick fell out and the launch was refused for a "market" named by the
stale label. AppTest re-labels the value on every run, so what these tests pin down is the
cause: an option's label does not change while data arrives. (The browser test launches a
backtest on a recording desk end to end.)"""

from __future__ import annotations

import json
import sqlite3
import sys
from collections.abc import Callable
from pathlib import Path

import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from pages.widgets.market_picker import stable_labels
from storage.sqlite.db import Database
from tests.dashboard.reading import as_read
from tests.dashboard.test_backtest_launch import _run_row, _stop
from tests.dashboard.test_backtest_page import P
from tests.helpers import ROOT

sys.path.insert(0, str(ROOT / "bench"))
from _recording import write_recording  # noqa: E402


def _record_more(path: Path, condition_id: str, at: int, n: int = 25) -> None:
    """What the recorder does meanwhile: more ticks on the market's YES token, inside the range."""
    conn = sqlite3.connect(path)
    (token,) = conn.execute("SELECT yes_token FROM markets WHERE condition_id = ?", (condition_id,)).fetchone()
    conn.executemany("INSERT INTO ticks (at, token_id, kind, side, price, size, mid, data) "
                     "VALUES (?, ?, 'change', 'BUY', 400000, 5000000, 450000, NULL)",
                     [(at + i, token) for i in range(n)])
    conn.commit()
    conn.close()


def test_a_backtest_launches_while_ticks_keep_arriving(
    dash_env: Path, db: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    page: Callable[[str], AppTest],
) -> None:
    monkeypatch.setenv("ENGINE_LOG_FILE", str(tmp_path / "engine.log"))
    markets, start, end = write_recording(dash_env, markets=2, events=400)
    at = page("backtest")
    at.multiselect(key="bt_markets").set_value(markets[:1]).run()
    shown = list(at.multiselect(key="bt_markets").options)
    _record_more(dash_env, markets[0], end)  # the desk keeps recording while the form is filled in
    at.text_input(key=f"{P}size").input("20")
    at.button(key="bt_launch").click().run()
    try:
        assert not at.exception
        assert list(at.multiselect(key="bt_markets").options) == shown
        assert at.multiselect(key="bt_markets").value == markets[:1]
        refusals = [e.value for e in at.error if "heartbeat" not in e.value]
        assert refusals == []
        assert any(s.value.startswith("Backtest #1 launched") for s in at.success)
        row = _run_row(db)
        assert row is not None and json.loads(row["markets"]) == markets[:1]
    finally:
        _stop((_run_row(db) or {}).get("pid"))


def test_the_sweep_picker_keeps_its_markets_while_ticks_keep_arriving(
    dash_env: Path, db: Database, page: Callable[[str], AppTest]
) -> None:
    markets, _, end = write_recording(dash_env, markets=3, events=400)
    at = page("backtest")
    at.multiselect(key="sw_markets").set_value(markets[:2]).run()
    shown = list(at.multiselect(key="sw_markets").options)
    _record_more(dash_env, markets[1], end)
    at.text_input(key="sw_name").input("while recording").run()
    assert not at.exception
    assert list(at.multiselect(key="sw_markets").options) == shown
    assert at.multiselect(key="sw_markets").value == markets[:2]
    assert any("Synthetic market 1? · " in as_read(c.value) and " ticks" in c.value for c in at.caption)


def test_two_markets_with_the_same_question_read_differently() -> None:
    choices = pd.DataFrame({"condition_id": ["0xaaaaaaaaaaaaaaaa", "0xbbbbbbbbbbbbbbbb", "0xcc"],
                            "question": ["Same?", "Same?", None], "events": [1, 2, 0]})
    labels = stable_labels(choices)
    assert len(set(labels.values())) == 3
    assert labels["0xaaaaaaaaaaaaaaaa"].startswith("Same? · 0xaaaaaaaaaa")
    assert labels["0xcc"] == "unnamed market · 0xcc…"
