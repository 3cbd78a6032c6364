"""A backtest's result says how its markets ended (engine/backtest/resolutions.py writes the facts into its
history): the ends it booked as the venue pays them, and, as a warning on the Backtest page and in its HTML
report, the markets it still held at its end, valued at their last mid, with what is known of their end."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from streamlit.testing.v1 import AppTest

from reports import backtest as report
from reports.backtest import finished_run
from storage.sqlite.db import Database
from tests.dashboard.reading import as_read
from tests.dashboard.seed import BTC
from tests.dashboard.test_backtest_page import METRICS, insert_run, logs  # noqa: F401  (logs: a fixture)

ENDED = {"settled": [{"market": "0x" + "aa" * 32, "at": 1_800_000_600_000, "outcome": "YES", "source": "feed"}],
         "open": [{"market": BTC, "known": "it resolved NO at 2027-01-16 00:00 UTC, after the run's end",
                   "refused": None}],
         "owed": "2.5"}
HISTORY: dict[str, Any] = {"source": "recorded ticks", "sessions": [], "gaps": [], "fair_values": None,
                           "tick_changes": 0, "resolutions": ENDED}


def test_the_page_warns_that_held_positions_are_valued_at_their_last_mid(
        seeded: int, db: Database, logs: Path, page: Callable[[str], AppTest]) -> None:
    run_id = insert_run(db, metrics=json.dumps({**METRICS, "history": HISTORY}))
    at = page("backtest")
    at.selectbox(key="bt_run_pick").set_value(run_id).run()
    assert not at.exception
    warned = " ".join(as_read(w.value) for w in at.warning)
    assert "Resolved inside the run, booked as the venue pays it: 0xaaaaaaaaaa" in warned
    assert "is valued at its last mid" in warned and "after the run's end" in warned
    assert "Owed by the venue at the run's end, not yet paid (in equity, not in cash): 2.5." in warned


def test_a_run_that_held_nothing_at_its_end_is_not_warned_about(
        seeded: int, db: Database, logs: Path, page: Callable[[str], AppTest]) -> None:
    history = {**HISTORY, "resolutions": {**ENDED, "open": [], "owed": None}}
    run_id = insert_run(db, metrics=json.dumps({**METRICS, "history": history}))
    at = page("backtest")
    at.selectbox(key="bt_run_pick").set_value(run_id).run()
    assert not any("Resolved inside the run" in as_read(w.value) for w in at.warning)
    assert any("Resolved inside the run" in as_read(c.value) for c in at.caption)


def test_the_report_says_it_too(seeded: int, db: Database) -> None:
    run = finished_run(db, insert_run(db, metrics=json.dumps({**METRICS, "history": HISTORY})))
    page = report.backtest_report(db, run)
    assert "is valued at its last mid" in page and "Resolved inside the run" in page
