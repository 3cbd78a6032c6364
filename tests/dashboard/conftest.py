from __future__ import annotations

import functools
import gc
import os
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from charts.tables import brief
from contracts.passwords import hash_password
from storage.sqlite.db import Database
from storage.sqlite.migrations import migrate
from tests.helpers import ROOT

PASSWORD = "correct horse battery"
_HASH = hash_password(PASSWORD)


FDS_BEFORE_A_COLLECTION = 400  # select() refuses fds past 1023


@pytest.fixture(autouse=True)
def _release_cached_resources(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Each AppTest caches a Database (two engines and their pooled connections) for its own
    file, and the cache outlives the test: hundreds of tests in one process then run out of
    file descriptors (select() refuses fds past 1023). Every Database the test opened is disposed
    (its pooled connections closed) and the caches dropped after every test. A full garbage
    collection runs only if open fds still pile up: one cost 0.5-0.8 s of CPU on this heap, a
    test's whole AppTest run about as much."""
    opened: list[Database] = []
    init = Database.__init__

    def recorded(self: Database, *args: Any, **kwargs: Any) -> None:
        init(self, *args, **kwargs)
        opened.append(self)

    monkeypatch.setattr(Database, "__init__", recorded)
    yield
    import streamlit as st

    st.cache_resource.clear()
    st.cache_data.clear()
    for database in opened:
        database.dispose()
    if _open_fds() > FDS_BEFORE_A_COLLECTION:
        gc.collect()


def _open_fds() -> int:
    try:
        return len(os.listdir("/proc/self/fd"))
    except OSError:  # no /proc (macOS): collect every time, as before
        return FDS_BEFORE_A_COLLECTION + 1


def _scan_manifests_once() -> None:
    """Each new AppTest scans every installed distribution's metadata for Streamlit v2 components
    (streamlit/components/v2/manifest_scanner.py: ~10,000 metadata parses, 0.5-1.3 s of CPU an AppTest,
    as much as the page's run). The installed packages do not change within a test run: the scan's
    answer is kept for the process, and every AppTest registers the same components from it."""
    from streamlit.components.v2 import manifest_scanner

    scan = manifest_scanner.scan_component_manifests
    if not hasattr(scan, "cache_info"):
        manifest_scanner.scan_component_manifests = functools.cache(scan)  # the same call, kept


_scan_manifests_once()


@pytest.fixture(autouse=True)
def _short_answer_wait(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Pages wait up to ANSWER_WAIT_S (4 s) for an engine's answer; most tests have a fresh
    heartbeat and no engine, so each such wait would run out in full. A test that plays the
    engine (`answer_next`) lets the page wait as long as a loaded machine needs: the wait ends at
    the answer. The test's engine stops answering when the test ends."""
    from pages.widgets import controls

    monkeypatch.setattr(controls, "ANSWER_WAIT_S", SHORT_ANSWER_WAIT_S)
    _awaited[0] = 0
    yield
    _test_over.set()
    globals()["_test_over"] = threading.Event()


ENGINE_ANSWER_WAIT_S = 120.0  # a bound, never reached where the test's engine answers
SHORT_ANSWER_WAIT_S = 1.5
_awaited = [0]  # answers the test's engine still owes (answer_next)
_awaited_lock = threading.Lock()
_test_over = threading.Event()  # set when the test that started an answering thread ends


def _awaiting(change: int) -> None:
    """While the test's engine owes an answer, a page waits for it as long as a loaded machine needs
    (the wait ends at the answer) instead of 1.5 s between the post and the answer; once every answer
    is given, a command nobody answers waits 1.5 s again. The autouse fixture above puts the page's
    own wait back after the test."""
    from pages.widgets import controls

    with _awaited_lock:
        _awaited[0] = max(0, _awaited[0] + change)
        controls.ANSWER_WAIT_S = ENGINE_ANSWER_WAIT_S if _awaited[0] else SHORT_ANSWER_WAIT_S


@pytest.fixture
def dash_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Point the dashboard at a fresh migrated DB and a password hash; returns the DB path."""
    db_path = tmp_path / "trader.db"
    migrate(db_path)
    monkeypatch.setenv("TRADER_DB", str(db_path))
    monkeypatch.setenv("TRADER_ENV_FILE", str(tmp_path / "none.env"))
    monkeypatch.setenv("DASHBOARD_PASSWORD_HASH", _HASH)
    for key in ("POLY_PRIVATE_KEY", "POLY_API_KEY", "POLY_API_SECRET", "POLY_API_PASSPHRASE", "POLY_FUNDER"):
        monkeypatch.delenv(key, raising=False)
    return db_path


@pytest.fixture
def db(dash_env: Path) -> Iterator[Database]:
    database = Database(dash_env)
    yield database
    database.dispose()


@pytest.fixture
def logged_in(dash_env: Path) -> Callable[[], AppTest]:
    """An AppTest already past the password gate, on the Overview page."""

    def make() -> AppTest:
        return _past_the_gate().run()

    return make


def _past_the_gate() -> AppTest:
    """The dashboard, not yet run, with the desk's password already given: logged in as its
    administrator (pages/widgets/auth.py reads the login again on every run)."""
    from contracts.settings import load_settings
    from pages.widgets.logins import env_logins

    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=20)
    admin = env_logins(load_settings())[0]
    at.session_state["authenticated"] = True
    at.session_state["login_user"] = admin.name
    at.session_state["login_fingerprint"] = admin.fingerprint
    return at


@pytest.fixture
def seeded(db: Database, dash_env: Path) -> int:
    """The database filled with realistic rows (tests/dashboard/seed.py); returns its `now`."""
    from tests.dashboard.seed import seed

    return seed(dash_env)


@pytest.fixture
def page(dash_env: Path) -> Callable[[str], AppTest]:
    """Open one page (by file stem) in a logged-in AppTest."""

    def open_page(name: str) -> AppTest:
        # Straight to the page, as a bookmarked URL opens it: rendering the Overview first, only
        # to leave it, cost a third of each page test's time.
        return _past_the_gate().switch_page(f"pages/{name}.py").run()

    return open_page


def _shown_tables() -> list[dict[str, Any]]:
    """Every column set the pages draw as tables (charts/tables.py), to read a rendered
    table back under its data's column names."""
    from pages.widgets import (
        backtest_results,
        controls,
        market_panels,
        markout_panel,
        portfolio,
        risk_panels,
        round_trips,
        trade_tables,
    )
    from pages.widgets.audit_panels import AUDIT_COLUMNS, LOG_COLUMNS
    from pages.widgets.calibration_panel import MARKET_COLUMNS as CALIBRATION_COLUMNS
    from pages.widgets.order_trail_panel import TRAIL_COLUMNS
    from pages.widgets.regime_panel import CHANGE_COLUMNS as REGIME_CHANGES
    from pages.widgets.regime_panel import NOW_COLUMNS as REGIME_NOW
    from pages.widgets.signals_view import PAIR_COLUMNS as VENUE_PAIR_COLUMNS
    from pages.widgets.strategy_panels import INSTANCE_COLUMNS
    from pages.widgets.strategy_risk import PAIR_COLUMNS
    from reports.backtest import FILL_COLUMNS, ORDER_COLUMNS

    return [trade_tables.ORDER_COLUMNS, trade_tables.FILL_COLUMNS, trade_tables.STRATEGY_ORDER_COLUMNS,
            portfolio.POSITION_COLUMNS, portfolio.STRATEGY_PNL_COLUMNS, markout_panel.COLUMNS,
            portfolio.ALERT_COLUMNS, portfolio.USAGE_COLUMNS, market_panels.MARKET_COLUMNS,
            market_panels.WHO_COLUMNS, controls.COMMAND_COLUMNS, risk_panels.DECISION_COLUMNS,
            backtest_results.RUN_COLUMNS, FILL_COLUMNS, ORDER_COLUMNS, AUDIT_COLUMNS, LOG_COLUMNS,
            INSTANCE_COLUMNS, round_trips.TRIP_COLUMNS, round_trips.FILL_COLUMNS,
            CALIBRATION_COLUMNS, REGIME_NOW, REGIME_CHANGES, PAIR_COLUMNS, VENUE_PAIR_COLUMNS, TRAIL_COLUMNS]


def _data_names(shown: tuple[str, ...]) -> list[str] | None:
    """The data's column names of a table drawn with these headers: from the known column set
    that holds every one of them (all its columns, or those a trader decides on with some of its
    details), or None."""
    for columns in _shown_tables():
        names = {c.header: name for name, c in columns.items()}
        if set(shown) <= set(names) and {names[h] for h in shown} >= set(brief(columns)):
            return [names[h] for h in shown]
    return None


def tables_of(at: AppTest) -> list[pd.DataFrame]:
    """Every table on the page, as data: st.dataframe's as given, and the tables of
    charts/tables.py named back from the headers shown to the data's column names (a
    table whose headers match no known column set keeps its headers)."""
    frames = [d.value for d in at.dataframe]
    for table in at.table:
        names = _data_names(tuple(table.value.columns))
        frames.append(table.value.set_axis(names, axis=1) if names else table.value)
    return frames


def table_with(at: AppTest, *columns: str) -> pd.DataFrame:
    """The one rendered table whose data has every one of `columns` (see tables_of)."""
    found = [frame for frame in tables_of(at) if all(column in frame.columns for column in columns)]
    assert len(found) == 1, f"{len(found)} tables with the columns {columns!r}"
    return found[0]


def chart_traces(chart: Any) -> dict[str, dict[str, Any]]:
    """A rendered plotly chart's traces by name, their arrays decoded (plotly sends numeric
    arrays as base64 typed arrays: {"dtype": "f8", "bdata": ...})."""
    import base64
    import json

    import numpy as np

    def plain(value: Any) -> Any:
        if isinstance(value, dict) and "bdata" in value and "dtype" in value:
            return np.frombuffer(base64.b64decode(value["bdata"]), dtype=value["dtype"]).tolist()
        return value

    spec = json.loads(chart.proto.spec)
    return {t.get("name", ""): {k: plain(v) for k, v in t.items()} for t in spec["data"]}


def fresh_heartbeat() -> int:
    """A running engine's heartbeat as a test seeds it: ten minutes ahead, so the engine stays up
    however slowly a loaded machine renders the pages or starts the CLI (the header calls a
    heartbeat older than 5 s stale; a running engine keeps it fresh, a seeded row cannot). A test
    of a stale heartbeat sets its own."""
    from storage.sqlite.db import now_ms

    return now_ms() + 600_000


def engine_up(db: Database, *, state: str = "RUNNING", mode: str = "paper") -> None:
    """The engine's row as a running engine keeps it: state, mode, a fresh heartbeat."""
    from sqlalchemy import text

    with db.write() as conn:
        conn.execute(text("UPDATE engine_state SET state = :s, mode = :m, heartbeat_at = :beat, pid = 7"),
                     {"s": state, "m": mode, "beat": fresh_heartbeat()})


def answer_next(db: Database, kind: str, *, ok: bool, error: str | None = None,
                result: str = "{}", then: str | None = None) -> threading.Thread:
    """Plays the engine's part in the background: finishes the next pending `kind` command (done
    with `result`, or failed with `error`; `then`: a statement the engine runs in the same write, as
    its own state's change) as soon as a page posts it. The page waits for this answer however
    slow the machine (`_awaiting`)."""
    from sqlalchemy import text

    from storage.sqlite.db import now_ms

    _awaiting(+1)
    over = _test_over

    def run() -> None:
        deadline = time.monotonic() + ENGINE_ANSWER_WAIT_S
        try:
            while time.monotonic() < deadline and not over.is_set():
                with db.write() as conn:
                    finished = conn.execute(
                        text("""UPDATE commands SET status = :s, result = :r, error = :e, claimed_at = :now,
                                finished_at = :now WHERE kind = :k AND status = 'pending'"""),
                        {"s": "done" if ok else "failed", "r": result if ok else None, "e": error,
                         "now": now_ms(), "k": kind}).rowcount
                    if finished and then is not None:
                        conn.execute(text(then))
                if finished:
                    return
                over.wait(0.05)
        finally:
            if not over.is_set():
                _awaiting(-1)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread
