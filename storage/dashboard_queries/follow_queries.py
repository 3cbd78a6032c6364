"""The followed wallets as the Strategies page shows them: each one's trades since the desk began
following it and what copying them at their own size would have earned, each trade marked at what
its token paid (a resolved market) or else at its latest recorded mid (a trade with neither is
counted as unmarked, never guessed)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pandas as pd
from sqlalchemy import text

from storage.sqlite.db import Database

COLUMNS = ["label", "wallet", "enabled", "trades", "volume", "earned", "unmarked", "last_at"]


def followed(db: Database, wallets: Sequence[dict[str, Any]]) -> pd.DataFrame:
    with db.read() as conn:
        rows = conn.execute(text(
            """SELECT f.wallet, f.side, f.price, f.size, f.at,
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
    for _, side, price, size, _, paid, mid in trades:
        mark = paid if paid is not None else mid
        if mark is None:
            unmarked += 1
            continue
        earned += (mark - price if side == "BUY" else price - mark) * size / 1e12
    return {"label": wallet.get("label"), "wallet": wallet.get("address"), "enabled": wallet.get("enabled", True),
            "trades": len(trades), "volume": sum(t[2] * t[3] for t in trades) / 1e12,
            "earned": earned if len(trades) > unmarked else None, "unmarked": unmarked,
            "last_at": pd.to_datetime(max(t[4] for t in trades), unit="ms", utc=True) if trades else None}
