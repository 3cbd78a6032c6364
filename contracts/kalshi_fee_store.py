"""A Kalshi series' fee changes as the desk keeps them with a pair (venue_pairs.kalshi_fee_changes,
migration 0057): a JSON object {"read_at": epoch ms, "changes": [[from epoch ms, fee type, multiplier
ppm], ...]}. Apart from contracts/kalshi_fees.py, which the strategies import and which does no I/O."""

from __future__ import annotations

import json

from contracts.kalshi_fees import FeeChange, FeeSchedule, KalshiFees


def schedule_json(changes: tuple[FeeChange, ...], read_at_ms: int) -> str:
    """The changes and the read's time as kept with a pair (venue_pairs.kalshi_fee_changes)."""
    return json.dumps({"read_at": read_at_ms,
                       "changes": [[c.at_ms, c.fees.fee_type, c.fees.multiplier_ppm] for c in changes]})


def schedule_from_json(base: KalshiFees, raw: str | None) -> FeeSchedule:
    """What `schedule_json` wrote (None or '': no change known, read at 0)."""
    if not raw:
        return FeeSchedule(base)
    kept = json.loads(raw)
    changes = tuple(FeeChange(int(at), KalshiFees(str(kind), int(ppm))) for at, kind, ppm in kept["changes"])
    return FeeSchedule(base, changes, int(kept["read_at"]))
