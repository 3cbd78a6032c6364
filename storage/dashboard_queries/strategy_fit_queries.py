"""What the strategy form reads to say, before saving, whether a strategy could trade as set
(contracts/strategy_fit.py): the markets a filter picks now, their prices, how many fair-value sources price
them, and the order size most of the desk's markets accept (the new-strategy form's default).
"""

from __future__ import annotations

import json
import math
from typing import Any

from sqlalchemy import text

from contracts.domain import MarketInfo
from contracts.market_filter import MarketCandidate, select_markets
from contracts.venues import desk_venue, venue_of
from storage.sqlite.db import Database, now_ms
from storage.sqlite.sql import in_list

MICRO = 1_000_000
USUAL_SHARE = 0.9  # the default order size meets the minimum of at least this share of the desk's markets


def filter_picks(db: Database, spec: Any, *, now: int | None = None) -> list[str]:
    """The markets a filter (`{"filter": {...}}`) picks among those the desk knows now, as the engine picks
    them (contracts/market_filter.py); an explicit list as given."""
    if not isinstance(spec, dict):
        return select_markets(spec, [], now_ms=now_ms() if now is None else now)
    with db.read() as conn:
        rows = conn.execute(text("""SELECT condition_id, question, yes_token, no_token, tick, min_size, neg_risk,
                                           end_at, tradable, accepting_orders, closed, slug, tags, volume, liquidity,
                                           volume_24h FROM markets""")).all()
    candidates = [MarketCandidate(MarketInfo(condition_id=r[0], question=r[1], yes_token=r[2], no_token=r[3],
                                             tick=int(r[4]), min_size=int(r[5]), neg_risk=bool(r[6]), end_ms=r[7],
                                             tradable=bool(r[8]), accepting_orders=bool(r[9]), closed=bool(r[10]),
                                             slug=r[11], tags=_tags(r[12])),
                                  int(r[13] or 0), int(r[14] or 0), int(r[15] or 0)) for r in rows]
    return select_markets(spec, candidates, now_ms=now_ms() if now is None else now)


def _tags(raw: Any) -> tuple[str, ...]:
    try:
        found = json.loads(raw or "[]")
    except ValueError:
        return ()
    return tuple(t for t in found if isinstance(t, str)) if isinstance(found, list) else ()


def market_prices(db: Database, ids: list[str]) -> dict[str, float]:
    """Each market's price as the desk last saw it (probability): its YES token's latest recorded mid, else the
    venue's listing (the mid of its listed bid and ask, or its last trade); markets with none are left out."""
    if not ids:
        return {}
    names, params = in_list("c", ids)
    with db.read() as conn:
        rows = conn.execute(text(f"""SELECT m.condition_id,
                                        (SELECT t.mid FROM ticks t WHERE t.token_id = m.yes_token AND t.mid IS NOT NULL
                                         ORDER BY t.at DESC LIMIT 1),
                                        CASE WHEN m.listed_bid IS NOT NULL AND m.listed_ask IS NOT NULL
                                             THEN (m.listed_bid + m.listed_ask) / 2 ELSE m.listed_last END
                                    FROM markets m WHERE m.condition_id IN {names}"""), params).all()
        found = {cid: (mid if mid is not None else listed) for cid, mid, listed in rows}
        for cid in ids:  # another venue's market (no markets row): its YES token's recorded mid
            if cid not in found and venue_of(cid) != desk_venue():
                mid = conn.execute(text("""SELECT mid FROM ticks WHERE token_id = :t AND mid IS NOT NULL
                                           ORDER BY at DESC LIMIT 1"""), {"t": f"{cid}:yes"}).scalar()
                found[cid] = mid
    return {cid: value / MICRO for cid, value in found.items() if value is not None}


def sources_pricing(db: Database, ids: list[str], *, now: int | None = None) -> dict[str, int]:
    """How many fair-value sources price each market now (the operator's and each outside source's in force,
    benched sources left out): what an ensemble weighs."""
    if not ids:
        return {}
    names, params = in_list("c", ids)
    with db.read() as conn:
        rows = conn.execute(text(f"""SELECT s.condition_id, COUNT(DISTINCT s.source) FROM signals s
                                     LEFT JOIN signal_sources v ON v.source = s.source
                                     WHERE s.condition_id IN {names} AND (s.expires_at IS NULL OR s.expires_at > :now)
                                       AND COALESCE(v.state, '') != 'benched'
                                     GROUP BY s.condition_id"""),
                            {**params, "now": now_ms() if now is None else now}).all()
    counted = {str(cid): int(n) for cid, n in rows}
    return {cid: counted.get(cid, 0) for cid in ids}


def usual_min_size(db: Database) -> float | None:
    """The order size (shares) that meets the minimum of at least 90 % of the open markets the desk knows (None:
    it knows none yet): the simulator's markets mostly need 15 shares, Polymarket's mostly 5."""
    with db.read() as conn:
        sizes = sorted(int(r[0]) for r in conn.execute(text(
            "SELECT min_size FROM markets WHERE closed = 0 AND tradable = 1 AND accepting_orders = 1")))
    if not sizes:
        return None
    return sizes[max(0, math.ceil(USUAL_SHARE * len(sizes)) - 1)] / MICRO
