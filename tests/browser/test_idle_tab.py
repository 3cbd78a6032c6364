"""A tab at rest costs nothing (issue 87): the real dashboard process, its every SQL statement traced
(tests/browser/sql_trace.py), shown in headless Chromium on the Overview of a seeded desk whose
engine heartbeat beats twice a second, as the engine's does:

- while the tab is shown and nothing of the desk changes, the dashboard reads only its live panels'
  probes (storage/dashboard_queries/change_probes.py), never a panel's own query: no panel reruns;
- while the tab is hidden (another tab opened over it, as a person switches tabs), the browser sends
  the dashboard nothing and the dashboard reads nothing: no rerun at all;
- shown again, a change the engine made meanwhile (a command answered) is on the page within a beat
  or two, its panel's query run again.

Counted, not timed: statements and WebSocket frames (the CPU it saves is bench/dashboard_idle.py's)."""

from __future__ import annotations

import asyncio
import re
import sqlite3
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from contracts.passwords import hash_password
from storage.command_queue.commands import post_command
from storage.dashboard_queries import change_probes
from storage.engine_stores import engine_state
from storage.sqlite.db import Database
from storage.sqlite.migrations import is_migrated, migrate
from tests.browser.cdp import BROWSER_MARKS, Chromium, Page
from tests.browser.navigation import PASSWORD, login
from tests.browser.serve import streamlit
from tests.browser.sql_trace import read_trace, trace_into
from tests.dashboard.seed import seed
from tests.helpers import isolated_env

pytestmark = BROWSER_MARKS

SHOWN_S = 10.0  # five beats of the pulse (pages/widgets/live.py BEAT_S)
HIDDEN_S = 10.0
FRAMES_SENT = "Network.webSocketFrameSent"
ACTOR = "idle-tab-test"  # who posts the change: its name shows in the latest commands' "by" column
PAGE_TEXT = "document.body.innerText"


def _shape(statement: str) -> str:
    """A statement with its literal numbers and strings left out (a probe's `since` moves with time)."""
    return re.sub(r"'[^']*'|\b\d+(\.\d+)?\b", "?", statement).strip()


def _probe_shapes(db_path: Path, tmp: Path) -> set[str]:
    """What the probes read, traced here in this process, as the dashboard's callback runs them
    (with the check that the database is migrated every page's handle makes)."""
    trace = tmp / "probes.trace"
    real = sqlite3.connect
    trace_into(trace)
    try:
        db = Database(db_path, read_only=True)
        is_migrated(db_path)
        for name in ("engine", "ledger", "recent_orders", "config", "commands", "alerts", "backtests", "desk",
                     "desk_and_idle", "desk_and_alerts", "desk_and_rate"):
            getattr(change_probes, name)(db)
        db.dispose()
    finally:
        sqlite3.connect = sqlite3.dbapi2.connect = real  # as they were
    return {_shape(s) for s in read_trace(trace)}


class Heartbeat:
    """The engine's heartbeat, written as the engine writes it, twice a second: every commit of it
    changes SQLite's data_version, which is why the probes must not read it."""

    def __init__(self, db: Database):
        self.db, self.stop = db, threading.Event()
        self.thread = threading.Thread(target=self._beat, daemon=True)

    def _beat(self) -> None:
        while not self.stop.wait(0.5):
            engine_state.heartbeat(self.db)

    def __enter__(self) -> Heartbeat:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop.set()
        self.thread.join(5)


@contextmanager
def traced_dashboard(tmp: Path, db_path: Path, trace: Path) -> Iterator[str]:
    """The dashboard as supervisord starts it, every statement it executes traced into `trace`."""
    env = isolated_env(tmp, TRADER_DB=str(db_path), DASHBOARD_PASSWORD_HASH=hash_password(PASSWORD))
    with streamlit("app.py", env, tmp / "dashboard.log", runner=("-m", "tests.browser.sql_trace", str(trace))) as (
            url, _):
        yield url


async def _drive(page: Page, url: str, db: Database, trace: Path, allowed: set[str]) -> None:
    await login(page, url)
    await page.wait_for(PAGE_TEXT, 30, what="the latest commands panel", check=lambda t: "Latest commands" in t)
    await asyncio.sleep(2 * 2.0)  # a rerun a first draw may ask for is over

    # Shown, nothing changing but the heartbeat: the probes, and only them.
    began = time.time()
    await asyncio.sleep(SHOWN_S)
    shown = read_trace(trace, began)
    read = [s for s in shown if _shape(s) not in allowed and not s.startswith(("BEGIN", "COMMIT", "ROLLBACK"))]
    assert read == [], f"an unchanged desk made the dashboard read more than its probes: {read[:5]}"
    probes_read = sum(1 for s in shown if "FROM orders" in s and "/* probe */" in s)
    assert probes_read >= 2, f"the shown tab's pulse did not look for changes ({probes_read} probes in {SHOWN_S} s)"

    # Hidden behind another tab: nothing sent, nothing read.
    page.recorded.add(FRAMES_SENT)
    await page.send("Network.enable")
    other = await page.send("Target.createTarget", {"url": "about:blank"})
    await page.wait_for("document.visibilityState", 10, what="the tab hidden", check=lambda v: v == "hidden")
    await asyncio.sleep(2.0)  # a beat sent just before it hid has been answered
    page.events.clear()
    began = time.time()
    await asyncio.sleep(HIDDEN_S)
    await page.send("Runtime.evaluate", {"expression": "1"})  # every event of the window is in
    assert [e for e in page.events if e["method"] == FRAMES_SENT] == [], "a hidden tab sent the dashboard messages"
    assert read_trace(trace, began) == [], "the dashboard read the database for a hidden tab"

    # Shown again, after a change made meanwhile: on the page within a few beats, its panel read again.
    post_command(db, "pause", {"reason": "idle tab test"}, actor=ACTOR)
    began = time.time()
    await page.send("Target.closeTarget", {"targetId": other["targetId"]})
    await page.send("Page.bringToFront")
    await page.wait_for(PAGE_TEXT, 20, what="the new command in the latest commands", check=lambda t: ACTOR in t)
    again = [s for s in read_trace(trace, began) if _shape(s) not in allowed and s.startswith("SELECT")]
    assert any("FROM commands" in s for s in again), "the commands panel was not read again after the change"


def test_a_tab_at_rest_reads_only_probes_and_a_hidden_one_nothing(tmp_path: Path) -> None:
    db_path = tmp_path / "trader.db"
    migrate(db_path)
    seed(db_path)
    trace = tmp_path / "dashboard.trace"
    allowed = _probe_shapes(db_path, tmp_path)
    db = Database(db_path)
    with Heartbeat(db), traced_dashboard(tmp_path, db_path, trace) as url:
        chromium = Chromium(tmp_path / "chromium-profile", tmp_path / "chromium.log")
        try:
            async def drive() -> None:
                page = await Page.open(chromium.page_ws_url())
                try:
                    await _drive(page, url, db, trace, allowed)
                finally:
                    await page.close()

            asyncio.run(drive())
        except AssertionError as exc:
            log = (tmp_path / "dashboard.log").read_text(errors="replace")[-3000:]
            raise AssertionError(f"{exc}\n--- dashboard log tail ---\n{log}") from None
        finally:
            chromium.close()
    db.dispose()
