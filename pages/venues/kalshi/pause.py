"""Kalshi's pauses where the trader looks (Overview's status area and its Kalshi panel): trading paused
until about when, the next scheduled pause, and a pause that ended by itself. Each time is said in US
Eastern (Kalshi's own: its weekly pause is Thursday 03:00-05:00 ET) and in the trader's zone (the
browser's; UTC when the browser has not said it). Read-only (storage/venues/kalshi/exchange_queries.py)."""

from __future__ import annotations

from datetime import UTC, datetime, tzinfo
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import streamlit as st

from charts import text
from pages.widgets.common import age
from storage.sqlite.db import Database, now_ms
from storage.venues.kalshi.exchange_queries import KalshiExchange, kalshi_exchange

ET = ZoneInfo("America/New_York")
STALE_MS = 120_000  # a state older than this is said "as last read" (the engine may be down)
SOON_MS = 86_400_000  # the status area names the next scheduled pause only this close to it


def _local() -> tuple[tzinfo, str]:
    """The trader's zone and how it is named (the browser's; UTC when unknown or not a known zone)."""
    try:
        name = st.context.timezone
        return (ZoneInfo(name), "your time") if name else (UTC, "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        return UTC, "UTC"


def when(ms: int, local: tuple[tzinfo, str]) -> str:
    """'Thu 05:00 ET (11:00 your time)': Kalshi's zone first, the trader's in brackets."""
    at = datetime.fromtimestamp(ms / 1000, UTC)
    et, there = at.astimezone(ET), at.astimezone(local[0])
    if there.utcoffset() == et.utcoffset():
        return f"{et:%a %H:%M} ET"
    return f"{et:%a %H:%M} ET ({_clock(there, et)} {local[1]})"


def span(window: tuple[int, int], local: tuple[tzinfo, str]) -> str:
    """'Thu 03:00-05:00 ET (09:00-11:00 your time)'."""
    start, end = (datetime.fromtimestamp(ms / 1000, UTC) for ms in window)
    et = f"{start.astimezone(ET):%a %H:%M}-{_clock(end.astimezone(ET), start.astimezone(ET))} ET"
    if start.astimezone(local[0]).utcoffset() == start.astimezone(ET).utcoffset():
        return et
    there = start.astimezone(local[0])
    return f"{et} ({_clock(there, start.astimezone(ET))}-{_clock(end.astimezone(local[0]), there)} {local[1]})"


def _clock(at: datetime, beside: datetime) -> str:
    """The time of day, with its weekday when it falls on another day than `beside`."""
    return f"{at:%H:%M}" if at.date() == beside.date() else f"{at:%a %H:%M}"


def _as_read(state: KalshiExchange, now: int) -> str:
    if state.read_at is None or now - state.read_at <= STALE_MS:
        return ""
    return f" (as the engine last read it, {age((now - state.read_at) / 1000)} ago)"


def paused_words(state: KalshiExchange, now: int, local: tuple[tzinfo, str]) -> str:
    kind = ("Kalshi's whole exchange is paused (cancels refused too)" if not state.exchange_active
            else "Kalshi trading is paused")
    until = f" until about {when(state.resume_at, local)}" if state.resume_at else " (Kalshi gave no time to resume)"
    return (f"{kind}{until}{_as_read(state, now)}: the desk places nothing on Kalshi meanwhile (not a fault) and "
            "resumes by itself when Kalshi does.")


def resumed_words(state: KalshiExchange, local: tuple[tzinfo, str]) -> str:
    assert state.resumed_at is not None
    since = f" after a pause from {when(state.paused_at, local)}" if state.paused_at else ""
    return (f"Kalshi resumed by itself at {when(state.resumed_at, local)}{since}: the desk's Kalshi strategies "
            "quote there again.")


def next_pause_words(window: tuple[int, int], local: tuple[tzinfo, str]) -> str:
    return (f"Kalshi's next scheduled pause: {span(window, local)}. The desk withdraws its Kalshi quotes a minute "
            "before and quotes again after, by itself.")


def kalshi_pause_notice(db: Database, *, status_area: bool) -> None:
    """Kalshi paused (a warning), just resumed (a success), its next scheduled pause (in the status area
    only within SOON_MS of it), and a failed read of its status (Kalshi's panel only). Nothing when the
    engine never read Kalshi's exchange."""
    now = now_ms()
    state = kalshi_exchange(db, now=now)
    if state is None:
        return
    local = _local()
    if state.read_at is not None and state.paused:
        st.warning(paused_words(state, now, local), icon=":material/pause_circle:")
    elif state.read_at is not None and state.resumed_at is not None:
        st.success(resumed_words(state, local), icon=":material/play_circle:")
    elif state.next_pause is not None and (not status_area or state.next_pause[0] - now <= SOON_MS):
        st.caption(next_pause_words(state.next_pause, local) + _as_read(state, now))
    if state.error and not status_area:
        st.caption(f"Kalshi's exchange status could not be read last time: {text.markdown(state.error)}")
