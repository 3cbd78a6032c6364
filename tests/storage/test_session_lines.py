"""A session file's tick lines, checked one by one before any is written
(storage/research/session_checks.py): a tick outside the session's span is refused, at either end,
and one at its very ends is the session's."""

from __future__ import annotations

import json

import pytest

from storage.research.recording_sessions import SessionError
from storage.research.session_checks import checked_tick

SPAN = (1_600_000_000_000, 1_600_000_060_000)
TOKENS = {"11", "22"}


def _line(at: object) -> str:
    return json.dumps([at, "11", "trade", "BUY", 510_000, 3_000_000, 500_000, None])


@pytest.mark.parametrize("at", [SPAN[0] - 1, SPAN[1] + 1, 0, -SPAN[1], 2**70, SPAN[0] + 0.5, True, "1600000000001"])
def test_a_tick_outside_the_sessions_span_or_not_a_time_is_refused(at: object) -> None:
    with pytest.raises(SessionError, match="line 7: its time is not a time inside the session's span"):
        checked_tick(_line(at), 7, TOKENS, SPAN)


@pytest.mark.parametrize("at", [SPAN[0], SPAN[1], SPAN[0] + 30_000])
def test_a_tick_inside_the_span_ends_included_is_the_sessions(at: int) -> None:
    assert checked_tick(_line(at), 2, TOKENS, SPAN)["at"] == at
