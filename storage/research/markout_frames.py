"""What the Strategies page draws of markouts: per strategy and market, each horizon's markout
summed, and each fill's edge against the mid at its match (spread capture), as frames. Apart from
markout_queries.py, whose SQL the engine runs, so that the engine never imports pandas.

Amounts in pUSD, bps of the notional; NaN where no fill has a value (never a zero).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import pandas as pd
from sqlalchemy import Connection, text

from contracts.venues import venue_of
from storage.research.markout_queries import HORIZONS, MICRO, mid_at_sql
from storage.sqlite.db import Database
from storage.sqlite.sql import in_list


def markout_tables(db: Database, mode: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(per strategy, per strategy and market): at each horizon the markout summed in pUSD
    (`usdc_<h>`), in bps of the notional of the fills that have it (`bps_<h>`), and how many
    fills count there (`fills_<h>`; NaN sums where none); `fills` and `notional` (pUSD) are
    those of the fills marked out at 1 s. The per-strategy table's market columns read "—".
    Positive: the fills earned against the later mid; negative: adverse selection. Summed from
    the covering index ix_fill_markouts_sums (no join over the fills)."""
    with db.read() as conn:
        rows = conn.execute(text(
            """SELECT strategy, condition_id, horizon, SUM(markout), SUM(notional), COUNT(*) FROM fill_markouts
               WHERE mode = :m AND markout IS NOT NULL GROUP BY strategy, condition_id, horizon"""),
            {"m": mode}).all()
        names = _questions(conn, {r[1] for r in rows})
    return _table(rows, names, by_market=False), _table(rows, names, by_market=True)


def _questions(conn: Connection, condition_ids: Iterable[str]) -> dict[str, str]:
    """The question of each of these markets (only these: the table may hold tens of thousands)."""
    markets = sorted(condition_ids)
    if not markets:
        return {}
    names, params = in_list("c", markets)
    return dict(conn.execute(text(f"""SELECT condition_id, question FROM markets WHERE condition_id IN {names}
                                      UNION ALL SELECT 'kalshi:' || kalshi_ticker, kalshi_title FROM venue_pairs
                                      WHERE 'kalshi:' || kalshi_ticker IN {names}"""), params).all())


def _table(rows: Sequence[Any], names: dict[str, str], *, by_market: bool) -> pd.DataFrame:
    sums: dict[tuple[str, str], dict[str, tuple[int, int, int]]] = {}
    for strategy, cid, horizon, total, notional, count in rows:
        key = (strategy, cid if by_market else "—")
        before = sums.setdefault(key, {}).get(horizon, (0, 0, 0))
        sums[key][horizon] = (before[0] + total, before[1] + notional, before[2] + count)
    out = []
    for (strategy, cid), by_horizon in sorted(sums.items()):
        first = by_horizon.get("1s", (0, 0, 0))
        row: dict[str, Any] = {"strategy": strategy, "condition_id": cid, "market": names.get(cid, cid),
                               "venue": venue_of(cid) if by_market else "—", "fills": first[2],
                               "notional": first[1] / MICRO}
        for h in HORIZONS:
            total, notional, count = by_horizon.get(h, (0, 0, 0))
            row[f"usdc_{h}"] = total / MICRO if count else float("nan")
            row[f"bps_{h}"] = total * 10_000 / notional if count and notional else float("nan")
            row[f"fills_{h}"] = count
        out.append(row)
    columns = ["strategy", "condition_id", "market", "venue", "fills", "notional",
               *(f"{kind}_{h}" for h in HORIZONS for kind in ("usdc", "bps", "fills"))]
    return pd.DataFrame(out, columns=columns)


def spread_capture(db: Database, mode: str, strategy: str | None = None) -> pd.DataFrame:
    """Per strategy and market (one strategy's, or every one's): each fill's edge against the
    mid at its match time (the markout at 0 s: BUY (mid - price) x size, SELL the other way,
    rounded toward zero per fill like a markout), summed in pUSD over the fills that have a
    recorded mid (`usdc`, NaN when none; `bps` of their notional); `measured` counts those,
    `unmeasured` the fills with no mid at or before their time (never counted as zero)."""
    edge = f"({mid_at_sql('f.token_id', 'f.matched_at')})"
    with db.read() as conn:
        rows = conn.execute(text(
            f"""SELECT strategy, condition_id, COUNT(mid), COUNT(*) - COUNT(mid),
                       SUM(CASE WHEN side = 'BUY' THEN (mid - price) * size / {MICRO}
                                ELSE (price - mid) * size / {MICRO} END),
                       SUM(CASE WHEN mid IS NOT NULL THEN price * size / {MICRO} END)
                FROM (SELECT f.strategy, f.condition_id, f.side, f.price, f.size, {edge} AS mid FROM fills f
                      WHERE f.mode = :m AND f.status != 'FAILED' AND (:s IS NULL OR f.strategy = :s))
                GROUP BY strategy, condition_id ORDER BY strategy, condition_id"""),
            {"m": mode, "s": strategy}).all()
        names = _questions(conn, {r[1] for r in rows})
    out = [{"strategy": s, "condition_id": c, "market": names.get(c, c), "measured": n, "unmeasured": u,
            "usdc": total / MICRO if n else float("nan"),
            "bps": total * 10_000 / notional if n and notional else float("nan")}
           for s, c, n, u, total, notional in rows]
    return pd.DataFrame(out, columns=["strategy", "condition_id", "market", "measured", "unmeasured", "usdc", "bps"])
