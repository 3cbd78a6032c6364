"""Test-only crash points. `TRADER_CRASH_AT=name` makes the process die at that point.

The crash-point matrix tests kill the real engine between two steps that must survive a
crash (e.g. after an order's intent is committed but before it is sent). Unset in
production, where each call is one dictionary lookup.
"""

from __future__ import annotations

import os
import sys

_TARGET = os.environ.get("TRADER_CRASH_AT", "")


def crash_point(name: str) -> None:
    if _TARGET and _TARGET == name:
        sys.stderr.write(f"failpoint: crashing at {name}\n")
        sys.stderr.flush()
        os._exit(137)
