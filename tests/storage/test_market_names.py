"""Alerts a person reads name markets by their question: on the pages, in `status` and in the
notifications the notifier sends; an id that names no market, or two, is left as it is."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import text

from storage.dashboard_queries import status_queries as queries
from storage.dashboard_queries.market_names import name_markets
from storage.desk import desk_status
from storage.desk.audit import raise_alert
from storage.engine_stores import notify_sources
from storage.sqlite.db import Database
from storage.sqlite.migrations import migrate

BTC = "0xe72ccc87d523" + "a" * 52
RAIN = "0xe72ccc87d524" + "b" * 52
LONG = "Will the incumbent win the 2028 election after a contested primary and a recount in three states?"


@pytest.fixture
def db(tmp_path: Path) -> Iterator[Database]:
    migrate(tmp_path / "n.db")
    database = Database(tmp_path / "n.db")
    with database.write() as conn:
        for cid, question in ((BTC, "Will Bitcoin reach $100k by June?"), (RAIN, LONG)):
            conn.execute(text("""INSERT INTO markets (condition_id, question, yes_token, no_token, tick, min_size,
                                     first_seen_at, updated_at) VALUES (:c, :q, :y, :n, 10000, 5000000, 0, 0)"""),
                         {"c": cid, "q": question, "y": cid[-6:] + "1", "n": cid[-6:] + "2"})
        raise_alert(conn, level="warning", source="risk", code="VOLATILITY_REDUCING",
                    message=f"market {BTC[:14]}… volatility REDUCING: the mid moved 9 points in 60 s")
        raise_alert(conn, level="info", source="engine", code="X", message=f"market {RAIN} and market 0xe72ccc87d52…")
    yield database
    database.dispose()


def test_alerts_name_their_markets_everywhere_a_person_reads_them(db: Database) -> None:
    shown = list(queries.alerts(db)["message"])
    assert shown[1] == ("market “Will Bitcoin reach $100k by June?” (0xe72ccc…) volatility REDUCING: the mid moved "
                        "9 points in 60 s")
    # A long question is shortened; a prefix that names two markets is left as it was.
    assert shown[0].startswith("market “Will the incumbent win the 2028 election after a contested…” (0xe72ccc…)")
    assert shown[0].endswith("and market 0xe72ccc87d52…")
    with db.read() as conn:
        _, unacked = desk_status.unacked_alerts(conn.connection.driver_connection)  # type: ignore[arg-type]  # SQLAlchemy types the DBAPI connection loosely; it is sqlite3's
        sent = notify_sources.alerts_after(conn, 0, 10)
    assert [a["message"] for a in unacked] == shown
    assert [row[5] for row in sent] == shown[::-1]  # oldest first


def test_text_without_a_known_market_is_unchanged() -> None:
    assert name_markets(["order 0x1234 refused", "no id here"], lambda prefix: []) == [
        "order 0x1234 refused", "no id here"]


def test_a_volatility_alert_shows_its_state_before_the_list_cuts_it(db: Database) -> None:
    """The breaker's alert names the state first: read as the alert lists read it (the market named
    by its question) and cut where their message column cuts, it still says what happened."""
    from charts.tables import TEXT_CHARS, cut
    from engine.risk.gate import TradingState
    from engine.risk.volatility import Change, Reading
    from engine.risk.volatility_guard import market_alert

    with db.write() as conn:
        market_alert(conn, Change(RAIN, TradingState.ACTIVE, TradingState.HALTED, Reading(80_000.0, 10_000.0)))
        market_alert(conn, Change(RAIN, TradingState.HALTED, TradingState.ACTIVE, Reading(5_000.0, 10_000.0)))
    cleared, halted = (cut(message, TEXT_CHARS) for message in list(queries.alerts(db)["message"])[:2])
    assert halted.startswith("volatility HALTED in market “Will the incumbent win"), halted
    assert cleared.startswith("volatility cleared in market “Will the incumbent"), cleared
