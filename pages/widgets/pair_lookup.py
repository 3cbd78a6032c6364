"""Kalshi beside Polymarket on the Markets page: finding and comparing markets through the desk's own
command line (`python -m engine pairs find|show --json`, engine/cli/pairs.py), so the page reads
Kalshi's public market data with exactly the code the CLI uses, and never imports the engine.

Each look-up is a short child process (bounded); its refusal is its own words (no market, Kalshi
unreachable, a scalar market), never a stack trace.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from typing import Any

from pages.widgets.common import settings
from storage.sqlite.db import Database

LOOKUP_S = 60.0  # Kalshi's open markets are read page by page: a wide search takes a while


class LookupFailed(Exception):
    """The look-up's own words (or why it could not run)."""


def engine_pairs(db: Database, *args: str) -> Any:
    """`python -m engine pairs <args> --json`, run against this dashboard's database; its JSON."""
    env = {**os.environ, "TRADER_DB": str(db.path)}
    try:
        done = subprocess.run([sys.executable, "-m", "engine", "pairs", *args, "--json"], cwd=settings().root,
                              env=env, stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=LOOKUP_S,
                              check=False)
    except subprocess.TimeoutExpired:
        raise LookupFailed(f"no answer within {LOOKUP_S:.0f} s (Kalshi slow or unreachable): try again, or narrow "
                           "the words") from None
    except OSError as exc:
        raise LookupFailed(f"the look-up could not start: {exc}") from None
    if done.returncode != 0:
        said = [line for line in done.stderr.strip().splitlines() if line.strip()]
        raise LookupFailed(said[-1].removeprefix("error: ") if said else f"it ended with code {done.returncode}")
    try:
        return json.loads(done.stdout)
    except ValueError:
        raise LookupFailed("its answer was not readable") from None
