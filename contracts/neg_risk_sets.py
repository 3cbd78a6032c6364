"""When a neg-risk set is a complete set: the desk's rule, from Gamma's events.

Buying one YES of every outcome of a neg-risk event pays exactly 1 only if those are *all* the
event's outcomes. The markets the desk happens to have stored under one `neg_risk_market_id` are
not proof of that (a truncated listing, a market filtered out), and an *augmented* event
(`negRiskAugmented`) is never complete: it has an "Other" market whose meaning changes as
placeholders are named later, and the venue says to trade only its named outcomes. So a set is
complete only when the event is known from `/events`, is not augmented, and every market of it
is in the catalog and tradable; otherwise `why_incomplete` says why, in words.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from typing import Any

Event = Mapping[str, Any]  # storage/engine_stores/catalog_store.py events(): title, augmented, members


def why_incomplete(event: Event | None, tradable: Collection[str]) -> str:
    """"" when the event's whole outcome set is known and tradable here; else why it is not a set."""
    if event is None:
        return "its event was not read from Gamma /events, so its whole outcome set is not known"
    title = str(event.get("title") or event.get("id"))[:80]
    members = list(event["members"])
    if event["augmented"]:
        others = sum(1 for _, role, _ in members if role == "other")
        later = sum(1 for _, role, _ in members if role == "placeholder")
        return (f"event '{title}' is augmented ({others} Other market{'s' * (others != 1)}, {later} placeholder"
                f"{'s' * (later != 1)} named later): only its named outcomes trade, never as a set")
    missing = [cid for cid, _, _ in members if cid not in tradable]
    if missing or not members:
        return (f"the desk has {len(members) - len(missing)} of event '{title}''s {len(members)} markets "
                "tradable: a partial set is a bet, not an arbitrage")
    return ""
