"""Kalshi's pauses on the Overview, from what the engine stored (engine_state.kalshi_exchange and its
KALSHI_PAUSED / KALSHI_RESUMED alerts): paused until about when (ET, and the trader's zone: UTC when the
browser has not said it), in the status area and in Kalshi's panel; then "resumed by itself"; otherwise
the next scheduled pause."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import text
from streamlit.testing.v1 import AppTest

from pages.venues.kalshi.pause import span, when
from storage.sqlite.db import Database, now_ms

ET = ZoneInfo("America/New_York")


def _thursday_et(hour: int, weeks_ahead: int = 1) -> int:
    """Epoch ms of a Thursday `hour`:00 New York time, at least `weeks_ahead` weeks from today."""
    today = datetime.now(ET).date()
    thursday = today + timedelta(days=(3 - today.weekday()) % 7 + 7 * weeks_ahead)
    return int(datetime(thursday.year, thursday.month, thursday.day, hour, tzinfo=ET).timestamp() * 1000)


def _kalshi_desk(db: Database, exchange: dict[str, object], *alerts: tuple[str, int]) -> None:
    """A strategy trading a Kalshi market (so the Overview has Kalshi's panel), what the engine last
    read of Kalshi's exchange, and its pause alerts."""
    with db.write() as conn:
        conn.execute(text("""UPDATE strategies SET markets = '["kalshi:KXTEST-1"]' WHERE name = 'mm-btc'"""))
        conn.execute(text("UPDATE engine_state SET kalshi_exchange = :s"), {"s": json.dumps(exchange)})
        for code, at in alerts:
            conn.execute(text("""INSERT INTO alerts (created_at, level, source, code, message)
                                 VALUES (:at, 'info', 'engine', :code, 'm')"""), {"at": at, "code": code})


def _state(**changes: object) -> dict[str, object]:
    return {"read_at": now_ms(), "trading_active": True, "exchange_active": True, "resume_at": None,
            "next_pause": None, "error": None, **changes}


def test_a_pause_is_said_with_its_end_in_et_and_local_time_in_the_status_area_and_kalshis_panel(
        seeded: int, db: Database, page: Callable[[str], AppTest]) -> None:
    resume = _thursday_et(5)
    _kalshi_desk(db, _state(trading_active=False, resume_at=resume), ("KALSHI_PAUSED", now_ms() - 600_000))
    at = page("overview")
    assert not at.exception
    said = [w.value for w in at.warning if w.value.startswith("Kalshi trading is paused until about Thu 05:00 ET (")]
    assert len(said) == 2, [w.value for w in at.warning]  # the status area's and Kalshi's panel's
    utc = datetime.fromtimestamp(resume / 1000, ZoneInfo("UTC"))
    assert f"ET ({utc:%H:%M} UTC)" in said[0] and "resumes by itself when Kalshi does" in said[0]


def test_a_paused_whole_exchange_read_long_ago_says_so(seeded: int, db: Database,
                                                      page: Callable[[str], AppTest]) -> None:
    _kalshi_desk(db, _state(read_at=now_ms() - 3_600_000, trading_active=False, exchange_active=False))
    at = page("overview")
    said = [w.value for w in at.warning if w.value.startswith("Kalshi's whole exchange is paused")]
    assert said and "Kalshi gave no time to resume" in said[0] and "as the engine last read it, 60 min ago" in said[0]


def test_a_stored_state_that_cannot_be_read_is_said_in_kalshis_panel(seeded: int, db: Database,
                                                                     page: Callable[[str], AppTest]) -> None:
    _kalshi_desk(db, {})
    with db.write() as conn:
        conn.execute(text("UPDATE engine_state SET kalshi_exchange = '{not json'"))
    at = page("overview")
    assert not at.exception
    assert [c for c in at.caption if c.value.startswith("Kalshi's exchange status could not be read last time: ")]


def test_after_a_pause_kalshi_is_said_to_have_resumed_by_itself(seeded: int, db: Database,
                                                                page: Callable[[str], AppTest]) -> None:
    now = now_ms()
    _kalshi_desk(db, _state(next_pause=[_thursday_et(3), _thursday_et(5)]),
                 ("KALSHI_PAUSED", now - 7_800_000), ("KALSHI_RESUMED", now - 600_000))
    at = page("overview")
    resumed = [s.value for s in at.success if s.value.startswith("Kalshi resumed by itself at ")]
    assert len(resumed) == 2 and "after a pause from" in resumed[0]
    assert not [w for w in at.warning if "paused" in w.value]


def test_the_next_scheduled_pause_is_in_kalshis_panel_and_in_the_status_area_only_within_a_day(
        seeded: int, db: Database, page: Callable[[str], AppTest]) -> None:
    window = [_thursday_et(3), _thursday_et(5)]
    _kalshi_desk(db, _state(next_pause=window))
    at = page("overview")
    said = [c.value for c in at.caption if c.value.startswith("Kalshi's next scheduled pause: Thu 03:00-05:00 ET (")]
    assert len(said) == 1 and "UTC)" in said[0]  # Kalshi's panel only: it is days ahead
    soon = now_ms() + 3_600_000
    _kalshi_desk(db, _state(next_pause=[soon, soon + 7_200_000]))
    at = page("overview")
    assert len([c for c in at.caption if c.value.startswith("Kalshi's next scheduled pause: ")]) == 2


def test_times_are_said_in_et_and_in_the_traders_own_zone() -> None:
    paris = (ZoneInfo("Europe/Paris"), "your time")
    start = int(datetime(2026, 12, 3, 3, tzinfo=ET).timestamp() * 1000)  # Thursday 03:00 ET = 09:00 in Paris
    assert when(start, paris) == "Thu 03:00 ET (09:00 your time)"
    assert span((start, start + 2 * 3_600_000), paris) == "Thu 03:00-05:00 ET (09:00-11:00 your time)"
    tokyo = (ZoneInfo("Asia/Tokyo"), "your time")
    late = int(datetime(2026, 12, 3, 11, tzinfo=ET).timestamp() * 1000)  # 01:00 Friday in Tokyo
    assert when(late, tokyo) == "Thu 11:00 ET (Fri 01:00 your time)"
    assert when(start, (ET, "your time")) == "Thu 03:00 ET"  # a trader in New York: said once
