"""The followed wallets as the Strategies page shows them: each one's trades since the desk began
following it, how late the stream's reached the desk (the median of seen_at - reported_at), and what
copying them at their own size would have earned, each trade marked at what its token paid (a
resolved market) or else at its latest recorded mid (a trade with neither is counted as unmarked,
never guessed); and the wallet finder's latest scores (`python -m engine wallets`)."""

from __future__ import annotations

import json
import statistics
from collections.abc import Sequence
from typing import Any

import pandas as pd
from sqlalchemy import text

from storage.sqlite.db import Database

COLUMNS = ["label", "wallet", "enabled", "trades", "volume", "earned", "unmarked", "heard_after_s", "last_at"]
SCORE_COLUMNS = ["rank", "wallet", "name", "board", "board_pnl", "window_days", "realized_pnl", "hit_rate", "closed",
                 "trades", "markets", "volume", "biggest", "complete", "scored_at"]


def followed(db: Database, wallets: Sequence[dict[str, Any]]) -> pd.DataFrame:
    with db.read() as conn:
        rows = conn.execute(text(
            """SELECT f.wallet, f.side, f.price, f.size, f.at, f.seen_at - f.reported_at AS late,
                      CASE WHEN f.token_id = m.yes_token THEN m.payout_yes
                           WHEN f.token_id = m.no_token THEN m.payout_no END AS paid,
                      (SELECT t.mid FROM ticks t WHERE t.token_id = f.token_id AND t.mid IS NOT NULL
                       ORDER BY t.at DESC LIMIT 1) AS mid
               FROM followed_trades f LEFT JOIN markets m ON m.condition_id = f.condition_id""")).all()
    by_wallet: dict[str, list[Any]] = {}
    for row in rows:
        by_wallet.setdefault(row[0], []).append(row)
    return pd.DataFrame([_summary(w, by_wallet.get(str(w.get("address", "")).lower(), [])) for w in wallets],
                        columns=COLUMNS)


def _summary(wallet: dict[str, Any], trades: list[Any]) -> dict[str, Any]:
    earned, unmarked = 0.0, 0
    for _, side, price, size, _, _, paid, mid in trades:
        mark = paid if paid is not None else mid
        if mark is None:
            unmarked += 1
            continue
        earned += (mark - price if side == "BUY" else price - mark) * size / 1e12
    return {"label": wallet.get("label"), "wallet": wallet.get("address"), "enabled": wallet.get("enabled", True),
            "trades": len(trades), "volume": sum(t[2] * t[3] for t in trades) / 1e12,
            "earned": earned if len(trades) > unmarked else None, "unmarked": unmarked,
            "heard_after_s": _median_s([t[5] for t in trades if t[5] is not None]),
            "last_at": pd.to_datetime(max(t[4] for t in trades), unit="ms", utc=True) if trades else None}


def _median_s(lates_ms: list[int]) -> float | None:
    return statistics.median(lates_ms) / 1000 if lates_ms else None


def wallet_scores(db: Database, limit: int = 200) -> pd.DataFrame:
    """The finder's scores, newest scoring first, then by rank."""
    with db.read() as conn:
        rows = conn.execute(text(
            """SELECT rank, wallet, name, category, period, board_pnl, window_days, realized_pnl, hit_rate, closed,
                      trades, markets, volume, mix, complete, scored_at
               FROM wallet_scores ORDER BY scored_at DESC, rank IS NULL, rank LIMIT :n"""), {"n": limit}).all()
    out = []
    for (rank, wallet, name, category, period, board_pnl, days, realized, hit, closed, trades, markets, volume, mix,
         complete, scored_at) in rows:
        try:
            top = json.loads(mix)[0]
            biggest = f"{top[1] / 1e4:.0f}% {top[0]}"
        except (ValueError, IndexError, KeyError, TypeError):
            biggest = None
        out.append({"rank": rank, "wallet": wallet, "name": name, "board": f"{category} {period}" if category else None,
                    "board_pnl": None if board_pnl is None else board_pnl / 1e6, "window_days": days,
                    "realized_pnl": realized / 1e6, "hit_rate": None if hit is None else hit / 1e4, "closed": closed,
                    "trades": trades, "markets": markets, "volume": volume / 1e6, "biggest": biggest,
                    "complete": bool(complete), "scored_at": pd.to_datetime(scored_at, unit="ms", utc=True)})
    return pd.DataFrame(out, columns=SCORE_COLUMNS)
