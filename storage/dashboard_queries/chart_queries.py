"""Reads for the desk's trades drawn on a price chart (the Markets page): a token's fills in a
window and the lifetime of each of its orders, in one mode; and a token's imported price
history as a series (what a history backtest replayed).

Human units (probability, shares, pUSD), UTC times, every list bounded; the market's own
indexes (orders by condition id, fills by mode and condition id) narrow each read.
"""

from __future__ import annotations

import pandas as pd
from sqlalchemy import text

from storage.sqlite.db import Database
from storage.sqlite.frames import OPEN_RANK, to_human, to_utc
from storage.sqlite.frames import frame as _frame

# When an order stopped working: closed_at, or for an ended order without one (written before
# closed_at was kept) its last update; NULL while it still works.
_ENDED = f"COALESCE(closed_at, CASE WHEN status_rank >= {OPEN_RANK} THEN updated_at END)"
# Orders that only rest for an instant (fill-and-kill, fill-or-kill) have no lifetime to draw.
RESTING_TIFS = ("GTC", "GTD")


def token_fills(db: Database, condition_id: str, token_id: str, mode: str, since_ms: int, until_ms: int,
                *, limit: int = 2_000) -> pd.DataFrame:
    """The token's fills matched in [since, until], oldest first: at (UTC), side, price, size,
    fee, value, strategy, liquidity, status, order_id."""
    data = _frame(
        db,
        """SELECT matched_at AS at, side, price, size, fee, price * size / 1000000 AS value, strategy, liquidity,
                  status, order_id
           FROM fills WHERE mode = :mode AND condition_id = :cid AND token_id = :token
                AND matched_at BETWEEN :since AND :until
           ORDER BY matched_at DESC, id DESC LIMIT :lim""",
        {"mode": mode, "cid": condition_id, "token": token_id, "since": since_ms, "until": until_ms, "lim": limit},
    )
    data = data.iloc[::-1].reset_index(drop=True)
    return to_utc(to_human(data, "price", "size", "fee", "value"), "at")


def token_orders(db: Database, condition_id: str, token_id: str, mode: str, since_ms: int, until_ms: int,
                 *, limit: int = 500) -> pd.DataFrame:
    """The token's resting orders (GTC, GTD) alive at any time in [since, until], newest last:
    id, start, end (UTC; NaT while it still works), side, price, size, filled, status, strategy."""
    data = _frame(
        db,
        f"""SELECT id, created_at AS start, {_ENDED} AS "end", side, price, size, filled, status, strategy
            FROM orders WHERE condition_id = :cid AND token_id = :token AND mode = :mode
                 AND tif IN {RESTING_TIFS} AND created_at <= :until AND COALESCE({_ENDED}, :until) >= :since
            ORDER BY created_at DESC, id DESC LIMIT :lim""",
        {"mode": mode, "cid": condition_id, "token": token_id, "since": since_ms, "until": until_ms, "lim": limit},
    )
    data = data.iloc[::-1].reset_index(drop=True)
    return to_utc(to_human(data, "price", "size", "filled"), "start", "end")


def history_series(db: Database, token_id: str, since_ms: int, until_ms: int, *, points: int = 400) -> pd.DataFrame:
    """Imported prices of a token over [since, until] as at (UTC), mid (probability): at most
    `points` rows, the last price of each bucket."""
    width = max(1, (until_ms - since_ms) // points + 1)
    data = _frame(
        db,
        """SELECT MAX(at) AS at, price AS mid FROM price_history
           WHERE token_id = :t AND at BETWEEN :since AND :until GROUP BY (at - :since) / :w ORDER BY 1""",
        {"t": token_id, "since": since_ms, "until": until_ms, "w": width},
    )
    return to_utc(to_human(data, "mid"), "at")


def indicator_series(db: Database, condition_id: str, since: int) -> pd.DataFrame:
    """at (UTC), variant, value (its own unit) of one market since `since`, oldest first."""
    with db.read() as conn:
        rows = conn.execute(text("""SELECT at, variant, value FROM indicator_values
                                    WHERE condition_id = :c AND at >= :since ORDER BY at"""),
                            {"c": condition_id, "since": since}).all()
    frame = pd.DataFrame(rows, columns=["at", "variant", "value"])
    frame["value"] = frame["value"] / 1e6
    frame["at"] = pd.to_datetime(frame["at"], unit="ms", utc=True)
    return frame
