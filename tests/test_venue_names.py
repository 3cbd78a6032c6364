"""`engine/trading/` names no venue (issue 58): it reads a venue's policy (contracts/venue_policies.py)
for what differs and asks engine/venues/registry.py for its adapters, so a third venue is an adapter,
a policy and a registry entry, never a branch in the trading layer.

Every mention of a venue's name counts, case-insensitive (so `KALSHI`, `venue == "polymarket"`, a
module `kalshi_x`, a comment "Polymarket's"): zero in every file. (It was a ratchet, files pinned at
their counts, until the last of them, cross-venue arbitrage's legs, named them by role.)
"""

from __future__ import annotations

import re
from pathlib import Path

from contracts.venues import VENUES
from tests.helpers import ROOT

NAMES = re.compile("|".join(re.escape(venue) for venue in VENUES), re.IGNORECASE)


def trading_files() -> list[Path]:
    return sorted((ROOT / "engine" / "trading").rglob("*.py"))


def venue_names(paths: list[Path]) -> dict[str, int]:
    """Mentions of a venue's name per file (files without any left out)."""
    counts = {}
    for path in paths:
        found = len(NAMES.findall(path.read_text(encoding="utf-8")))
        if found:
            counts[path.relative_to(ROOT).as_posix()] = found
    return counts


def test_the_pattern_catches_every_spelling_of_a_venue() -> None:
    text = 'from contracts.venues import KALSHI\nif venue == "polymarket": pass  # Kalshi nets\nkalshi_netting'
    assert len(NAMES.findall(text)) == 4


def test_engine_trading_names_no_venue() -> None:
    paths = trading_files()
    assert len(paths) > 20, "the walk found almost no file: is engine/trading/ where it was?"
    found = venue_names(paths)
    assert found == {}, (
        f"venue names in engine/trading/: {found}. Read the venue's policy (contracts/venue_policies.py) "
        "or ask engine/venues/registry.py instead, and say what, not which venue, in comments")
