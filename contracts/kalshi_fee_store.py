"""A Kalshi market's fee changes as the desk keeps them with a pair (venue_pairs.kalshi_fee_changes,
migration 0057): a JSON object {"read_at": epoch ms, "changes": [[from epoch ms, fee type, multiplier
ppm], ...]} for its series' changes; when its event's override was in force at the read, "series":
[fee type, multiplier ppm], the series' own settings (the pair's fee columns then hold the override's);
and "event": [[from epoch ms, fee type, multiplier ppm], ...] for the changes of the event's override,
type and multiplier null where a change clears it. Apart from contracts/kalshi_fees.py, which the
strategies import and which does no I/O."""

from __future__ import annotations

import json

from contracts.kalshi_fees import EventFeeChange, FeeChange, FeeSchedule, KalshiFees


def schedule_json(changes: tuple[FeeChange, ...], read_at_ms: int, *, series_base: KalshiFees | None = None,
                  event_changes: tuple[EventFeeChange, ...] = ()) -> str:
    """The changes and the read's time as kept with a pair (venue_pairs.kalshi_fee_changes)."""
    kept: dict[str, object] = {"read_at": read_at_ms,
                               "changes": [[c.at_ms, c.fees.fee_type, c.fees.multiplier_ppm] for c in changes]}
    if series_base is not None:
        kept["series"] = [series_base.fee_type, series_base.multiplier_ppm]
    if event_changes:
        kept["event"] = [[c.at_ms, None, None] if c.fees is None else [c.at_ms, c.fees.fee_type, c.fees.multiplier_ppm]
                         for c in event_changes]
    return json.dumps(kept)


def schedule_from_json(base: KalshiFees, raw: str | None) -> FeeSchedule:
    """What `schedule_json` wrote (None or '': no change known, read at 0)."""
    if not raw:
        return FeeSchedule(base)
    kept = json.loads(raw)
    changes = tuple(FeeChange(int(at), KalshiFees(str(kind), int(ppm))) for at, kind, ppm in kept["changes"])
    series = kept.get("series")
    events = tuple(EventFeeChange(int(at), None if kind is None or ppm is None else KalshiFees(str(kind), int(ppm)))
                   for at, kind, ppm in kept.get("event", ()))
    return FeeSchedule(base, changes, int(kept["read_at"]),
                       None if series is None else KalshiFees(str(series[0]), int(series[1])), events)
