"""Clocks a test moves by hand, so code that measures time (an order's age, a command's expiry)
is aged without sleeping.

`ShiftedClock` is the wall clock plus a skip the test advances: sockets, books and the
simulator keep running on real time, and the code under test sees time jump forward at once.

`wait_for_beats` is for an engine in its own process, whose clock a test cannot move: a check
that something does *not* happen lets the engine's loop turn a counted number of times (its
heartbeat file is touched every half second from the loop that also ticks), so a loaded machine
that runs the engine slowly makes the test wait longer instead of checking too early.
"""

from __future__ import annotations

import time
from pathlib import Path

from storage.sqlite.lite import file_heartbeat_ms
from tests.helpers import wait_until


class ShiftedClock:
    """Milliseconds since the epoch, `advance`d by hand on top of the wall clock."""

    def __init__(self) -> None:
        self.skip_ms = 0

    def __call__(self) -> int:
        return time.time_ns() // 1_000_000 + self.skip_ms

    def advance(self, seconds: float) -> None:
        self.skip_ms += int(seconds * 1000)


def wait_for_beats(db_path: Path, beats: int = 3, timeout: float = 30.0) -> None:
    """Until the engine of `db_path` has touched its heartbeat `beats` more times."""
    seen = {file_heartbeat_ms(db_path)}

    def beaten() -> bool:
        seen.add(file_heartbeat_ms(db_path))
        return len(seen) > beats

    wait_until(beaten, timeout, 0.05, f"{beats} more engine heartbeats")
