"""The trading core's reads (engine/trading/): the engine row's mode and kill latch, the
strategies to host, fair values, the markets strategies choose from, and the rows of orders
the core has just placed. Each takes the open connection it is given (`Database.read()` or a
write transaction the caller holds). Prices and sizes are micro-units, times epoch ms.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from sqlalchemy import Connection, text

from contracts.average_cost import Lot
from storage.engine_stores import venue_modes


def engine_mode(conn: Connection) -> str:
    """'paper' or 'live', as the engine row says."""
    return str(conn.execute(text("SELECT mode FROM engine_state WHERE id = 1")).scalar_one())


def armed_modes(conn: Connection) -> dict[str, str]:
    """'paper' or 'live' by venue: the arming of each venue armed on its own, beside the desk's
    mode (its row of venue_modes; a venue without one is on paper)."""
    return venue_modes.modes(conn)


def kill_latched(conn: Connection) -> bool:
    return bool(conn.execute(text("SELECT kill_latched FROM engine_state WHERE id = 1")).scalar_one())


def ledger_holds(conn: Connection, mode: str, venue: str) -> bool:
    """Whether a ledger holds anything (a promoted strategy's paper leftovers keep the paper ledger open
    beside a live desk, so they stay valued and can be exited)."""
    return conn.execute(text("SELECT 1 FROM positions WHERE mode = :m AND venue = :v AND settled + pending != 0 "
                             "LIMIT 1"), {"m": mode, "v": venue}).first() is not None


def enabled_strategies(conn: Connection) -> list[dict[str, Any]]:
    """The strategies to host (enabled, not in error, not deleted), by name: name, kind, params, markets,
    version, paused, live (0: paper only)."""
    rows = conn.execute(text("""SELECT name, kind, params, markets, version, paused, live FROM strategies
                                WHERE enabled = 1 AND status = 'ok' AND deleted_at IS NULL
                                ORDER BY name""")).mappings().all()
    return [dict(r) for r in rows]


def fair_values(conn: Connection, *, now: int, operator_source: str) -> dict[str, object]:
    """Each market's fair value: the operator's wins over external ones, and among external
    sources the newest; a signal past its `expires_at` is not one, nor one from a source the
    model-confidence breaker benched (`signal_sources`). As stored (see `fair_signals`)."""
    return {cid: value for cid, (value, _) in fair_signals(conn, now=now, operator_source=operator_source).items()}


def fair_signals(conn: Connection, *, now: int, operator_source: str) -> dict[str, tuple[object, int | None]]:
    """`fair_values` with the confidence of the signal in force (micros; the operator's counts as
    certain, a source that stated none has None). A value is as stored: an integer of micro-units as
    the desk's writers store it, or whatever was written around them (the column's type lets REALs
    and text in): the reader checks it."""
    rows = conn.execute(text("""SELECT condition_id, fair_value,
                                       CASE WHEN source = :op THEN 1000000 ELSE confidence END
                                FROM signals
                                WHERE (expires_at IS NULL OR expires_at > :now)
                                  AND source NOT IN (SELECT source FROM signal_sources WHERE state = 'benched')
                                ORDER BY (source = :op), updated_at"""),
                        {"op": operator_source, "now": now}).all()
    return {cid: (value, confidence) for cid, value, confidence in rows}


def fair_sources(conn: Connection, *, now: int, operator_source: str
                 ) -> list[tuple[str, str, object, object, object]]:
    """Every signal in force (not expired, its source not benched), each source's own: (condition id,
    source, fair value, confidence (the operator's counts as certain), its source's Brier score as the
    model-confidence breaker last judged it, None before it is judged), by market and source. The
    figures as stored, as `fair_signals` returns them: the reader checks them."""
    rows = conn.execute(text("""SELECT s.condition_id, s.source, s.fair_value,
                                       CASE WHEN s.source = :op THEN 1000000 ELSE s.confidence END, v.brier
                                FROM signals s LEFT JOIN signal_sources v ON v.source = s.source
                                WHERE (s.expires_at IS NULL OR s.expires_at > :now)
                                  AND COALESCE(v.state, '') != 'benched'
                                ORDER BY s.condition_id, s.source"""),
                        {"op": operator_source, "now": now}).all()
    return [(str(r[0]), str(r[1]), r[2], r[3], r[4]) for r in rows]


def fair_value_history(conn: Connection) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]],
                                                   list[tuple[Any, ...]]]:
    """What a replay's fair values are made of (its scratch database holds only the run's): the standing
    signals without an expiry (condition id, source, value, confidence, updated at), every outside and poll
    post as the desk received it (received at, expires at, condition id, source, value, confidence; in the
    order received) and the breaker's verdicts (source, state, Brier score). As stored: the reader checks them."""
    standing = conn.execute(text("""SELECT condition_id, source, fair_value, confidence, updated_at FROM signals
                                    WHERE expires_at IS NULL ORDER BY condition_id, source""")).all()
    posts = conn.execute(text("""SELECT received_at, expires_at, condition_id, source, fair_value, confidence
                                 FROM signal_posts ORDER BY received_at, id""")).all()
    verdicts = conn.execute(text("SELECT source, state, brier FROM signal_sources")).all()
    return [tuple(r) for r in standing], [tuple(r) for r in posts], [tuple(r) for r in verdicts]


def market_activity(conn: Connection) -> list[tuple[str, int, int, int]]:
    """(condition id, volume, liquidity, 24 h volume) of every stored market, in micro-pUSD."""
    rows = conn.execute(text("SELECT condition_id, volume, liquidity, volume_24h FROM markets")).all()
    return [(r[0], int(r[1] or 0), int(r[2] or 0), int(r[3] or 0)) for r in rows]


def ticket_orders(conn: Connection, order_ids: Sequence[int]) -> list[dict[str, Any]]:
    """The rows of a manual ticket's orders as its answer shows them, by id."""
    if not order_ids:
        return []
    rows = conn.execute(text("""SELECT id, client_id, token_id, side, price, size, filled, tif, status, error
                                FROM orders WHERE id IN (SELECT value FROM json_each(:ids)) ORDER BY id"""),
                        {"ids": json.dumps(list(order_ids))}).mappings().all()
    return [dict(r) for r in rows]


def sale_orders(conn: Connection, order_ids: Sequence[int]) -> list[dict[str, Any]]:
    """What a sale's orders did: id, strategy, token, status, filled, error."""
    if not order_ids:
        return []
    rows = conn.execute(text("""SELECT id, strategy, token_id, status, filled, error FROM orders
                                WHERE id IN (SELECT value FROM json_each(:ids))"""),
                        {"ids": json.dumps(list(order_ids))}).mappings().all()
    return [dict(r) for r in rows]


def sales_after_fees(conn: Connection, mode: str, strategy: str, token_id: str, order_ids: Sequence[int]) -> int:
    """The PnL these orders' fills realized after fees, as a trade reads it (contracts/average_cost.py's `Lot`,
    over the holding's fills in match order, as the Round trips page reads them)."""
    lot, total = Lot(), 0
    wanted = set(order_ids)
    for order_id, side, price, size, fee in conn.execute(text(
            """SELECT order_id, side, price, size, fee FROM fills
               WHERE mode = :m AND strategy = :s AND token_id = :t AND status != 'FAILED'
               ORDER BY matched_at, id"""), {"m": mode, "s": strategy, "t": token_id}):
        if lot.held <= 0 and side == "BUY":
            lot = Lot()  # flat again: a new trade
        net = lot.step(side, price, size, fee)
        if net is not None and order_id in wanted:
            total += net
    return total


def filled_by_token(conn: Connection, order_ids: Sequence[int]) -> dict[str, int]:
    """Shares these orders filled, summed per token."""
    if not order_ids:
        return {}
    rows = conn.execute(text("""SELECT token_id, SUM(filled) FROM orders
                                WHERE id IN (SELECT value FROM json_each(:ids)) GROUP BY token_id"""),
                        {"ids": json.dumps(list(order_ids))}).all()
    return {token: int(filled) for token, filled in rows}


# A placement answered after this long was settled by a lookup (its answer was lost), not answered:
# its time is not a round trip.
ROUND_TRIP_CEILING_MS = 10_000


def live_round_trips(conn: Connection, *, limit: int = 1_000) -> list[int]:
    """How long the newest `limit` live placements took to be answered (ms, `acked_at - submitted_at`),
    newest first: the desk's own order round trips, which the measured latency model draws from."""
    rows = conn.execute(text("""SELECT acked_at - submitted_at FROM orders
                                WHERE mode = 'live' AND submitted_at IS NOT NULL AND acked_at IS NOT NULL
                                  AND acked_at >= submitted_at AND acked_at - submitted_at <= :ceiling
                                ORDER BY id DESC LIMIT :limit"""),
                        {"ceiling": ROUND_TRIP_CEILING_MS, "limit": limit}).all()
    return [int(ms) for (ms,) in rows]


def fills_in_flight(conn: Connection, *, mode: str, venue: str, strategy: str, condition_ids: Sequence[str],
                    since: int) -> int:
    """Shares the strategy's orders in these markets (changed since `since`) say were filled whose fills
    the ledger does not hold yet: a venue that answers an order before it reports its trades (Kalshi's
    fills are polled) leaves its position short until they land."""
    return int(conn.execute(text("""
        SELECT COALESCE(SUM(o.filled - COALESCE((SELECT SUM(f.size) FROM fills f
                                                 WHERE f.order_id = o.id AND f.status != 'FAILED'), 0)), 0)
        FROM orders o
        WHERE o.mode = :m AND o.venue = :v AND o.strategy = :s AND o.filled > 0 AND o.updated_at >= :since
          AND o.condition_id IN (SELECT value FROM json_each(:cids))"""),
        {"m": mode, "v": venue, "s": strategy, "cids": json.dumps(list(condition_ids)), "since": since}).scalar_one())
