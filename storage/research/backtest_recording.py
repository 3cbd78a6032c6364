"""A backtest's reads of a desk's recording (`ticks`) and imported history (`price_history`).

Read with the standard library's `sqlite3` on a read-only connection, like the command line's
fast reads (storage/sqlite/lite.py): a replay reads millions of rows, and a plain tuple per row is
most of the cost of reading one; SQLAlchemy's row objects would double it.

Replay rows are (at, token index, kind code, 1 if BUY / 0 if SELL / None, price, size, data):
small integers instead of text, because sqlite3 builds a new str for every text value it
returns, and for most rows that was the larger part of reading them.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from contracts.market_filter import MarketCandidate, select_markets
from contracts.ticket import market_for_ticket

# A replay row's kind codes (TICK: a tick size change; RESOLVE: a market's end, its condition id in `data`:
# engine/backtest/resolutions.py).
BOOK, CHANGE, TRADE, DECIDE, TICK, RESOLVE = 0, 1, 2, 3, 4, 5
Row = tuple[int, int | None, int, int | None, int | None, int | None, str | None]
Event = tuple[int, str, str, str | None, int | None, int | None, str | None]  # at, token, kind, side, price, size, data


def open_recording(db_path: Path) -> sqlite3.Connection:
    return sqlite3.connect(f"file:{db_path}?mode=ro", uri=True)


def id_span(conn: sqlite3.Connection, from_ms: int, to_ms: int) -> tuple[int | None, int | None]:
    """(first id, last id) of the ticks recorded in [from, to]: one pass over ix_ticks_at, which
    holds the id; (None, None) when there are none."""
    low, high = conn.execute("SELECT MIN(id), MAX(id) FROM ticks WHERE at BETWEEN :f AND :t",
                             {"f": from_ms, "t": to_ms}).fetchone()
    return low, high


def has_decision_markers(conn: sqlite3.Connection, from_ms: int, to_ms: int) -> bool:
    """Whether the live engine's decision markers are recorded in [from, to]: one probe of
    ix_ticks_token_at (the recorder writes a marker with token_id '')."""
    return conn.execute("""SELECT 1 FROM ticks WHERE token_id = '' AND kind = 'decide' AND at BETWEEN :f AND :t
                           LIMIT 1""", {"f": from_ms, "t": to_ms}).fetchone() is not None


class ReplayRows:
    """The statement reading one window of ids as replay rows (token i = tokens[i]), prepared
    once for a replay's tokens: the scan walks the ids in storage order (no sort); the time
    filter still decides which rows count."""

    def __init__(self, tokens: Sequence[str]) -> None:
        self.tokens = list(tokens)
        marks = ",".join(f":k{i}" for i in range(len(tokens))) or "NULL"
        token_index = " ".join(f"WHEN :k{i} THEN {i}" for i in range(len(tokens)))
        self.sql = f"""SELECT at, CASE token_id {token_index} ELSE NULL END,
                              CASE kind WHEN 'change' THEN {CHANGE} WHEN 'book' THEN {BOOK}
                                        WHEN 'trade' THEN {TRADE} ELSE {DECIDE} END,
                              side = 'BUY', price, size, data FROM ticks
                       WHERE id BETWEEN :first AND :last AND +at BETWEEN :f AND :t
                         AND (+token_id IN ({marks}) OR kind = 'decide')
                       ORDER BY id"""
        self.keys = {f"k{i}": token for i, token in enumerate(tokens)}

    def window(self, conn: sqlite3.Connection, first: int, last: int, from_ms: int, to_ms: int) -> list[Row]:
        return conn.execute(self.sql, {**self.keys, "first": first, "last": last, "f": from_ms, "t": to_ms}).fetchall()


def recorded_events(db_path: Path, tokens: Sequence[str], from_ms: int, to_ms: int) -> Iterator[Event]:
    """Ticks of `tokens` (and every decision marker) in [from, to], in recording order, as the
    recorder wrote them."""
    conn = open_recording(db_path)
    try:
        marks = ",".join(f":k{i}" for i in range(len(tokens))) or "NULL"
        cursor = conn.execute(
            f"""SELECT at, token_id, kind, side, price, size, data FROM ticks
                WHERE at BETWEEN :f AND :t AND (token_id IN ({marks}) OR kind = 'decide') ORDER BY id""",
            {"f": from_ms, "t": to_ms, **{f"k{i}": token for i, token in enumerate(tokens)}},
        )
        while batch := cursor.fetchmany(10_000):
            yield from batch
    finally:
        conn.close()


def history_points(db_path: Path, tokens: Sequence[str], from_ms: int, to_ms: int) -> Iterator[tuple[int, str, int]]:
    """(at, token, price) of the imported history of `tokens` in [from, to], by time then token."""
    conn = open_recording(db_path)
    try:
        marks = ",".join(f":k{i}" for i in range(len(tokens))) or "NULL"
        yield from conn.execute(f"""SELECT at, token_id, price FROM price_history WHERE token_id IN ({marks})
                                    AND at BETWEEN :f AND :t ORDER BY at, token_id""",
                                {"f": from_ms, "t": to_ms, **{f"k{i}": token for i, token in enumerate(tokens)}})
    finally:
        conn.close()


def _rows(db_path: Path, sql: str, params: dict[str, object]) -> list[dict[str, object]]:
    conn = open_recording(db_path)
    conn.row_factory = sqlite3.Row
    try:
        return [dict(r) for r in conn.execute(sql, params).fetchall()]
    finally:
        conn.close()


def markets_named(db_path: Path, condition_ids: Sequence[str]) -> list[dict[str, object]]:
    """The desk's rows of these markets (those it has discovered)."""
    marks = ",".join(f":c{i}" for i in range(len(condition_ids))) or "NULL"
    return _rows(db_path, f"SELECT * FROM markets WHERE condition_id IN ({marks})",
                 {f"c{i}": cid for i, cid in enumerate(condition_ids)})


def markets_with_data(db_path: Path, source: str, from_ms: int, to_ms: int) -> list[dict[str, object]]:
    """Every market whose YES token has recorded ticks (`recorded`) or imported history
    (`history`) in [from, to], by condition id."""
    table = "ticks" if source == "recorded" else "price_history"
    return _rows(db_path, f"""SELECT * FROM markets WHERE yes_token IN (SELECT DISTINCT token_id FROM {table}
                              WHERE at BETWEEN :f AND :t) ORDER BY condition_id""", {"f": from_ms, "t": to_ms})


@dataclass(frozen=True)
class Configured:
    """A configured strategy as a backtest of it runs it: its kind, its params and the markets it trades
    that have data in the range."""

    name: str
    kind: str
    params: dict[str, object]
    markets: tuple[str, ...]


def configured_strategy(db_path: Path, name: str, source: str, from_ms: int, to_ms: int,
                        now_ms: int) -> Configured | None:
    """The strategy `name` (None: there is none) and the markets with data in [from, to] it trades: those its
    list names, or those its filter selects among them as the engine selects (contracts/market_filter.py), so
    a backtest of it trades its markets, not every market the desk recorded beside them."""
    rows = _rows(db_path, "SELECT kind, params, markets FROM strategies WHERE name = :n AND deleted_at IS NULL",
                 {"n": name})
    if not rows:
        return None
    params = _json(rows[0]["params"], {})
    spec = _json(rows[0]["markets"], [])
    with_data = markets_with_data(db_path, source, from_ms, to_ms)
    candidates = [MarketCandidate(market_for_ticket(r), _amount(r["volume"]), _amount(r["liquidity"]),
                                  _amount(r["volume_24h"])) for r in with_data]
    chosen = select_markets(spec, candidates, now_ms=now_ms)
    known = {c.condition_id for c in candidates}
    return Configured(name, str(rows[0]["kind"]), params if isinstance(params, dict) else {},
                      tuple(cid for cid in chosen if cid in known))


def _amount(value: object) -> int:
    return value if isinstance(value, int) else 0


def _json(text: object, default: object) -> object:
    try:
        return json.loads(str(text)) if text is not None else default
    except ValueError:
        return default


def history_point_count(db_path: Path, tokens: Sequence[str], from_ms: int, to_ms: int) -> int:
    marks = ",".join(f":k{i}" for i in range(len(tokens))) or "NULL"
    conn = open_recording(db_path)
    try:
        return int(conn.execute(f"SELECT COUNT(*) FROM price_history WHERE at BETWEEN :f AND :t AND token_id IN "
                                f"({marks})",
                                {"f": from_ms, "t": to_ms, **{f"k{i}": t for i, t in enumerate(tokens)}}).fetchone()[0])
    finally:
        conn.close()


def desk_limits_and_settings(db_path: Path) -> tuple[list[dict[str, object]], list[dict[str, object]]]:
    """The desk's risk limits and settings rows, for a backtest's scratch ledger to start from."""
    return (_rows(db_path, "SELECT name, value, version, updated_at, updated_by FROM risk_limits", {}),
            _rows(db_path, "SELECT key, value, version, updated_at, updated_by FROM settings", {}))


def desk_fair_values(db_path: Path, condition_ids: Sequence[str]) -> list[dict[str, object]]:
    """The desk's standing fair values for these markets (the operator's and external signals'
    without an expiry), for a value-betting backtest to trade toward as they stand today; the expiring
    ones are replayed from their history (`fair_value_posts`), news signals not at all (none is kept)."""
    marks = ",".join(f":c{i}" for i in range(len(condition_ids))) or "NULL"
    return _rows(db_path, f"""SELECT condition_id, source, fair_value, version, updated_at, updated_by, detail,
                                     confidence
                              FROM signals WHERE expires_at IS NULL AND condition_id IN ({marks})""",
                 {f"c{i}": cid for i, cid in enumerate(condition_ids)})


def fair_value_posts(db_path: Path, condition_ids: Sequence[str], from_ms: int, to_ms: int) -> list[dict[str, object]]:
    """The outside and poll fair values the desk received for these markets that were in force at some time
    in [from, to] (received by its end, expiring after its start), as kept (`signal_posts`), for a backtest
    to replay each as the desk held it (engine/trading/hosting/fair_history.py)."""
    marks = ",".join(f":c{i}" for i in range(len(condition_ids))) or "NULL"
    return _rows(db_path, f"""SELECT source, condition_id, fair_value, confidence, nonce, posted_at, received_at,
                                     expires_at, via, actor, detail
                              FROM signal_posts WHERE condition_id IN ({marks}) AND received_at <= :t
                                  AND expires_at > :f ORDER BY received_at, id""",
                 {"f": from_ms, "t": to_ms, **{f"c{i}": cid for i, cid in enumerate(condition_ids)}})


def desk_source_verdicts(db_path: Path) -> list[dict[str, object]]:
    """The model-confidence breaker's verdicts on the outside sources (`signal_sources`: benched or
    not, Brier score) as they stand today, for a backtest to weigh and bench its fair values alike."""
    return _rows(db_path, "SELECT source, state, brier, markets, judged_at, changed_at, reason FROM signal_sources",
                 {})


def followed_trades(db_path: Path, condition_ids: Sequence[str], from_ms: int, to_ms: int,
                    window_ms: int) -> list[dict[str, object]]:
    """The followed wallets' trades in these markets the desk knew (`seen_at`) by `to_ms` and that a
    copy could still see from `from_ms` (traded within `window_ms` before it), for a copy-trading
    backtest to copy each as of when the desk heard of it, as live did."""
    marks = ",".join(f":c{i}" for i in range(len(condition_ids))) or "NULL"
    return _rows(db_path, f"""SELECT wallet, label, trade_key, condition_id, token_id, side, price, size, at, seen_at,
                                     reported_at, source
                              FROM followed_trades WHERE condition_id IN ({marks}) AND seen_at <= :t AND at >= :f
                              ORDER BY seen_at, id""",
                 {"f": from_ms - window_ms, "t": to_ms, **{f"c{i}": cid for i, cid in enumerate(condition_ids)}})


def desk_pairs(db_path: Path, condition_ids: Sequence[str]) -> dict[str, tuple[str, bool]]:
    """These markets' links to Kalshi markets (`venue_pairs`): condition id -> (ticker, inverted),
    for a backtest to price them from the Kalshi books the recorder kept, as live does."""
    marks = ",".join(f":c{i}" for i in range(len(condition_ids))) or "NULL"
    rows = _rows(db_path, f"""SELECT condition_id, kalshi_ticker, inverted FROM venue_pairs
                              WHERE condition_id IN ({marks})""",
                 {f"c{i}": cid for i, cid in enumerate(condition_ids)})
    return {str(r["condition_id"]): (str(r["kalshi_ticker"]), bool(r["inverted"])) for r in rows}


def kalshi_pairs(db_path: Path, tickers: Sequence[str]) -> list[dict[str, object]]:
    """The desk's `venue_pairs` rows of these Kalshi markets (a backtest of a Kalshi strategy
    copies them: its catalog knows a Kalshi market by its pair, as live does, its price grid and its
    series' fees with it)."""
    marks = ",".join(f":t{i}" for i in range(len(tickers))) or "NULL"
    rows = _rows(db_path, f"""SELECT condition_id, kalshi_ticker, inverted, polymarket_question, kalshi_title,
                                     warnings, created_at, created_by, kalshi_price_grid, kalshi_fee_type,
                                     kalshi_fee_multiplier_ppm, kalshi_fee_changes FROM venue_pairs
                              WHERE kalshi_ticker IN ({marks})""",
                 {f"t{i}": ticker for i, ticker in enumerate(tickers)})
    return [dict(r) for r in rows]


def desk_setting(db_path: Path, key: str) -> object:
    """One of the desk's settings as stored (decoded JSON), or None when it was never set."""
    rows = _rows(db_path, "SELECT value FROM settings WHERE key = :key", {"key": key})
    if not rows:
        return None
    try:
        return json.loads(str(rows[0]["value"]))
    except ValueError:  # not JSON: the raw text, for the caller's own check to name
        return rows[0]["value"]


def tick_changes(db_path: Path, tokens: Sequence[str]) -> list[tuple[str, int, int | None, int]]:
    """(token, at, old tick, new tick) of `tokens`, by time, all of them: a change after a run's end
    still says what the tick was during it (engine/backtest/as_it_was.py)."""
    marks = ",".join(f":k{i}" for i in range(len(tokens))) or "NULL"
    conn = open_recording(db_path)
    try:
        return conn.execute(f"""SELECT token_id, at, old_tick, tick FROM tick_sizes WHERE token_id IN ({marks})
                                ORDER BY at, token_id""",
                            {f"k{i}": t for i, t in enumerate(tokens)}).fetchall()
    finally:
        conn.close()


def session_histories(db_path: Path, from_ms: int, to_ms: int) -> list[dict[str, object]]:
    """The sessions overlapping [from, to] with what their history says (name, span, history JSON)."""
    return _rows(db_path, """SELECT name, markets, started_at, stopped_at, origin, history FROM recording_sessions
                             WHERE started_at <= :t AND COALESCE(stopped_at, 4611686018427387904) >= :f
                             ORDER BY started_at""", {"f": from_ms, "t": to_ms})
