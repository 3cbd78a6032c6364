"""`engine/trading/` names no venue (issue 58): it reads a venue's policy (contracts/venue_policies.py)
for what differs and asks engine/venues/registry.py for its adapters, so a third venue is an adapter,
a policy and a registry entry, never a branch in the trading layer.

Every mention of a venue's name counts, case-insensitive (so `KALSHI`, `venue == "polymarket"`, a
module `kalshi_x`, a comment "Polymarket's"): zero in every file, except the ones pinned below at
their count when this test was written, which may only fall (a ratchet): cross-venue arbitrage's
legs, still named by venue, and the core's two calls of them.
"""

from __future__ import annotations

import re

from contracts.venues import VENUES
from tests.helpers import ROOT

NAMES = re.compile("|".join(re.escape(venue) for venue in VENUES), re.IGNORECASE)
PINNED = {
    "engine/trading/core.py": 2,  # cross_arbs.kalshi_legs, renamed with cross_arbs.py
    "engine/trading/passes/cross_arbs.py": 99,
}


def venue_names() -> dict[str, int]:
    """Mentions of a venue's name per file under engine/trading/ (files without any left out)."""
    counts = {}
    for path in sorted((ROOT / "engine" / "trading").rglob("*.py")):
        found = len(NAMES.findall(path.read_text(encoding="utf-8")))
        if found:
            counts[path.relative_to(ROOT).as_posix()] = found
    return counts


def test_the_pattern_catches_every_spelling_of_a_venue() -> None:
    text = 'from contracts.venues import KALSHI\nif venue == "polymarket": pass  # Kalshi nets\nkalshi_netting'
    assert len(NAMES.findall(text)) == 4


def test_engine_trading_names_no_venue_and_the_pinned_files_only_fall() -> None:
    counts = venue_names()
    assert counts, "the walk found none of the pinned files' names: is engine/trading/ where it was?"
    grown = {path: f"{found} mentions, {PINNED.get(path, 0)} allowed" for path, found in counts.items()
             if found > PINNED.get(path, 0)}
    assert grown == {}, (
        f"venue names in engine/trading/: {grown}. Read the venue's policy (contracts/venue_policies.py) "
        "or ask engine/venues/registry.py instead, and say what, not which venue, in comments")
