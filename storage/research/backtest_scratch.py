"""A backtest's scratch ledger: its own database file (orders, fills, positions, the paper
venue's tables), started from copies of the desk's markets, limits and settings, and read back
as a stream when the run ends (a long run's orders are never all held in memory)."""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from typing import Any

from sqlalchemy import Connection, text

from storage.sqlite.db import Database

# A market as it traded while it was recorded: its row holds what is true of it today (an imported
# archive hour is usually of a market that has since closed and resolved), which would leave a
# replay with nothing to trade, and its payouts would settle every position at once, before the
# market ended. A resolution inside the range comes from the recording itself, at its time
# (engine/backtest/resolutions.py).
AS_RECORDED = {"origin": "venue", "closed": 0, "accepting_orders": 1, "resolution_status": "",
               "resolution_history": "[]", "resolved_outcome": None, "payout_yes": None, "payout_no": None}


def seed_scratch(db: Database, *, markets: Sequence[dict[str, Any]], limits: Sequence[dict[str, Any]],
                 settings: Sequence[dict[str, Any]], strategy: str, kind: str, params: dict[str, Any],
                 fair_values: Sequence[dict[str, Any]] = (), pairs: Sequence[dict[str, Any]] = (),
                 strategy_markets: Sequence[str] = (), followed: Sequence[dict[str, Any]] = (),
                 verdicts: Sequence[dict[str, Any]] = (), posts: Sequence[dict[str, Any]] = ()) -> None:
    """The run's markets, the desk's limits and settings, its standing fair values, the outside and poll
    values it received (`posts`, replayed as it received them) and the verdicts on their sources
    (`verdicts`), the followed wallets' trades in its markets (`followed`), its one strategy (enabled, on
    those markets), and paper mode, in one transaction. The run's markets are
    its venue's, whether the desk discovered them or a session file brought them; a Kalshi
    strategy's are its `pairs` (the desk's venue_pairs rows), named in `strategy_markets`."""
    with db.write() as conn:
        rows = [{**row, **AS_RECORDED} for row in markets]
        if rows:
            columns = list(rows[0])
            conn.execute(text(f"INSERT INTO markets ({', '.join(columns)}) "
                              f"VALUES ({', '.join(':' + c for c in columns)})"), rows)
        for pair in pairs:
            conn.execute(text("""INSERT INTO venue_pairs (condition_id, kalshi_ticker, inverted, polymarket_question,
                                     kalshi_title, warnings, created_at, created_by, kalshi_price_grid,
                                     kalshi_fee_type, kalshi_fee_multiplier_ppm, kalshi_fee_changes)
                                 VALUES (:condition_id, :kalshi_ticker, :inverted, :polymarket_question,
                                     :kalshi_title, :warnings, :created_at, :created_by, :kalshi_price_grid,
                                     :kalshi_fee_type, :kalshi_fee_multiplier_ppm, :kalshi_fee_changes)"""),
                         {"kalshi_price_grid": None, "kalshi_fee_type": None, "kalshi_fee_multiplier_ppm": None,
                          "kalshi_fee_changes": None, **pair})
        for row in limits:
            conn.execute(text("""INSERT INTO risk_limits (name, value, version, updated_at, updated_by)
                                 VALUES (:name, :value, :version, :updated_at, :updated_by)"""), row)
        for row in settings:
            conn.execute(text("""INSERT INTO settings (key, value, version, updated_at, updated_by)
                                 VALUES (:key, :value, :version, :updated_at, :updated_by)"""), row)
        for row in fair_values:
            conn.execute(text("""INSERT INTO signals (condition_id, source, fair_value, version, updated_at, updated_by,
                                     detail, confidence) VALUES (:condition_id, :source, :fair_value, :version,
                                     :updated_at, :updated_by, :detail, :confidence)"""), {"confidence": None, **row})
        if posts:
            conn.execute(text("""INSERT INTO signal_posts (source, condition_id, fair_value, confidence, nonce,
                                     posted_at, received_at, expires_at, via, actor, detail)
                                 VALUES (:source, :condition_id, :fair_value, :confidence, :nonce, :posted_at,
                                     :received_at, :expires_at, :via, :actor, :detail)"""), list(posts))
        for row in verdicts:
            conn.execute(text("""INSERT INTO signal_sources (source, state, brier, markets, judged_at, changed_at,
                                     reason)
                                 VALUES (:source, :state, :brier, :markets, :judged_at, :changed_at, :reason)"""), row)
        if followed:
            conn.execute(text("""INSERT INTO followed_trades (wallet, label, trade_key, condition_id, token_id, side,
                                     price, size, at, seen_at, reported_at, source)
                                 VALUES (:wallet, :label, :trade_key, :condition_id, :token_id, :side, :price,
                                     :size, :at, :seen_at, :reported_at, :source)"""), list(followed))
        conn.execute(text("""INSERT INTO strategies (name, kind, params, markets, enabled, created_at, updated_at,
                                 updated_by) VALUES (:n, :k, :p, :m, 1, 0, 0, 'backtest')"""),
                     {"n": strategy, "k": kind, "p": json.dumps(params),
                      "m": json.dumps(list(strategy_markets) or [r["condition_id"] for r in markets])})
        conn.execute(text("UPDATE engine_state SET mode = 'paper'"))


def known_payouts(db: Database, markets: Sequence[dict[str, Any]]) -> None:
    """After the replay: the payouts the desk knows today of the run's markets (`markets`, its rows), on the
    scratch rows the run did not resolve, for its forecasts to be scored against."""
    rows = [{"c": r["condition_id"], "y": r["payout_yes"], "n": r["payout_no"], "w": r.get("resolved_outcome")}
            for r in markets if r.get("payout_yes") is not None and r.get("payout_no") is not None]
    if rows:
        with db.write() as conn:
            conn.execute(text("""UPDATE markets SET payout_yes = :y, payout_no = :n, resolved_outcome = :w
                                 WHERE condition_id = :c AND payout_yes IS NULL"""), rows)


def drop_unused(db: Database, *, indexes: Sequence[str], triggers: Sequence[str]) -> None:
    """Drop the live desk's indexes and triggers a scratch ledger never needs, in one transaction."""
    with db.write() as conn:
        for kind, names in (("INDEX", indexes), ("TRIGGER", triggers)):
            for name in names:
                conn.execute(text(f"DROP {kind} IF EXISTS {name}"))


def fill_rows(conn: Connection) -> Iterator[dict[str, Any]]:
    """Every fill, in match order, one at a time."""
    for row in conn.execute(text(
            """SELECT matched_at, condition_id, token_id, outcome, side, price, size, fee, liquidity, status, trade_id,
                      order_id FROM fills ORDER BY matched_at, trade_id""")).mappings():
        yield dict(row)


def first_orders(conn: Connection, limit: int) -> list[dict[str, Any]]:
    """The first `limit` orders by id; closed_at: when it ended (None: still working)."""
    return [dict(r) for r in conn.execute(text(
        """SELECT id, created_at, closed_at, condition_id, token_id, outcome, side, price, size, filled, tif, status
           FROM orders ORDER BY id LIMIT :n"""), {"n": limit}).mappings()]


def ledger_counts(conn: Connection) -> tuple[int, int]:
    """(fills, orders) in the ledger."""
    fills, orders = conn.execute(text("SELECT (SELECT COUNT(*) FROM fills), (SELECT COUNT(*) FROM orders)")).one()
    return int(fills), int(orders)
