"""The UTC day's start, in integer milliseconds: the engine's daily-loss reference reads it every
tick, so it is arithmetic, and it must agree with the calendar's own midnight everywhere."""

from __future__ import annotations

from datetime import UTC, datetime

from hypothesis import given
from hypothesis import strategies as st

from storage.sqlite.lite import DAY_MS, utc_day_start


def _calendar_midnight(at_ms: int) -> int:
    day = datetime.fromtimestamp(at_ms // 1000, tz=UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    return int(day.timestamp()) * 1000


@given(st.integers(min_value=0, max_value=4_102_444_800_000))  # 1970 to 2100
def test_the_day_start_is_the_calendars_utc_midnight(at_ms: int) -> None:
    assert utc_day_start(at_ms) == _calendar_midnight(at_ms)


def test_the_last_millisecond_of_a_day_belongs_to_it_and_the_next_starts_a_new_one() -> None:
    midnight = int(datetime(2026, 11, 23, tzinfo=UTC).timestamp()) * 1000
    assert utc_day_start(midnight) == midnight
    assert utc_day_start(midnight - 1) == midnight - DAY_MS
    assert utc_day_start(midnight + DAY_MS - 1) == midnight
    assert utc_day_start(midnight + DAY_MS) == midnight + DAY_MS
