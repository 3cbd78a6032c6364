"""`python -m engine import-history --kalshi --market CID --from --to`: Kalshi's public history of a paired
market, read from a local server answering in Kalshi's shapes of today (fixed-point `*_dollars` and
`*_fp` strings, cursor pages, the historical tier before the cutoff), into the recording beside the
Polymarket market's PMXT history, in time order with it, so the pair backtests on both venues."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import datetime, timedelta
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlparse

import pytest

from storage.desk.venue_pairs import add_pair
from tests.helpers import run_cli
from tests.local_http import serving
from tests.marketdata.test_pmxt_as_it_was import _row
from tests.marketdata.test_pmxt_import import CID, T0, _v2_file, desk  # noqa: F401

TICKER, EVENT, SERIES = "KXTEST-26APR17", "KXTEST-26APR17E", "KXTEST"
BASE = "/trade-api/v2"
CUTOFF = T0 + timedelta(minutes=30)  # trades before it are served by the historical tier only


def _iso(at: datetime) -> str:
    return at.strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def _trade(n: int, minute: float, price: str, count: str, taker: str) -> dict[str, Any]:
    return {"trade_id": f"t-{n}", "ticker": TICKER, "count_fp": count, "yes_price_dollars": price,
            "no_price_dollars": str(1 - Decimal(price)), "taker_side": taker, "taker_outcome_side": taker,
            "taker_book_side": "bid" if taker == "yes" else "ask", "is_block_trade": False,
            "created_time": _iso(T0 + timedelta(minutes=minute))}


TRADES = [_trade(1, 5, "0.4500", "10.00", "yes"), _trade(2, 10, "0.4400", "2.50", "no"),
          _trade(3, 20, "0.4600", "1.00", "yes"), _trade(4, 40, "0.4700", "3.00", "yes"),
          _trade(5, 50, "0.4650", "1.00", "no"),
          {"trade_id": "t-6", "ticker": TICKER, "count_fp": "1.00", "created_time": _iso(T0)}]  # no price


def _candles(start: int, end: int) -> list[dict[str, Any]]:
    out = []
    for close in range((start // 60 + 1) * 60, end + 1, 60):
        quoted = close < int(T0.timestamp()) + 3000  # the last ten minutes: no ask quoted
        out.append({"end_period_ts": close, "yes_bid": {"close_dollars": "0.4400"},
                    "yes_ask": {"close_dollars": "0.4800" if quoted else None},
                    "price": {"close_dollars": None}, "volume_fp": "0.00", "open_interest_fp": "0.00"})
    return out


class Kalshi(ThreadingHTTPServer):
    asked: list[str]


class Handler(BaseHTTPRequestHandler):
    server: Kalshi

    def log_message(self, *args: Any) -> None:
        return None

    def _json(self, body: Any, status: int = 200) -> None:
        raw = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(raw)))
        self.end_headers()
        self.wfile.write(raw)

    def do_GET(self) -> None:  # noqa: N802  (the standard library's name)
        url = urlparse(self.path)
        q = {k: v[0] for k, v in parse_qs(url.query).items()}
        path = url.path.removeprefix(BASE)
        self.server.asked.append(path)
        if path == "/historical/cutoff":
            self._json({"market_settled_ts": _iso(T0 - timedelta(days=90)), "trades_created_ts": _iso(CUTOFF),
                        "orders_updated_ts": _iso(CUTOFF)})
        elif path == f"/markets/{TICKER}":
            # Voided by Kalshi since (finalized, no result it can read): the import keeps it, dated.
            self._json({"market": {"ticker": TICKER, "event_ticker": EVENT, "status": "finalized", "result": "",
                                   "settlement_ts": _iso(T0 + timedelta(minutes=50))}})
        elif path == f"/events/{EVENT}":
            self._json({"event": {"event_ticker": EVENT, "series_ticker": SERIES}, "markets": []})
        elif path in ("/historical/trades", "/markets/trades"):
            self._trades(path, q)
        elif path == f"/series/{SERIES}/markets/{TICKER}/candlesticks":
            self._json({"ticker": TICKER, "candlesticks": _candles(int(q["start_ts"]), int(q["end_ts"]))})
        else:
            self._json({"error": {"code": "not_found", "message": "not found"}}, 404)

    def _trades(self, path: str, q: dict[str, str]) -> None:
        historical = path.startswith("/historical")
        low, high = int(q["min_ts"]), int(q["max_ts"])
        cutoff = int(CUTOFF.timestamp())

        def stamp(t: dict[str, Any]) -> int:
            return int(datetime.fromisoformat(t["created_time"].replace("Z", "+00:00")).timestamp())
        chosen = [t for t in reversed(TRADES) if low <= stamp(t) <= high and (stamp(t) < cutoff) == historical]
        start = int(q.get("cursor") or 0)
        page = chosen[start:start + 2]  # pages of two, whatever the limit: the reader must follow the cursor
        self._json({"trades": page, "cursor": str(start + 2) if start + 2 < len(chosen) else ""})


@pytest.fixture
def kalshi() -> Iterator[Kalshi]:
    with serving(Kalshi, Handler) as server:
        server.asked = []
        yield server


def test_a_pairs_kalshi_history_imports_beside_its_polymarket_history(desk: Any, tmp_path: Path,
                                                                       kalshi: Kalshi) -> None:
    env, db, markets = desk
    rows = [_row(s, "book", bids='[["0.46", "100"]]', asks='[["0.50", "100"]]') for s in range(0, 3600, 300)]
    hour = _v2_file(tmp_path / "polymarket_orderbook_2026-04-17T12.parquet", rows)
    assert run_cli(["import-history", "--pmxt", str(hour), "--market", CID, "--markets-file", str(markets)],
                   env).returncode == 0
    add_pair(db, condition_id=CID, kalshi_ticker=TICKER, inverted=False, polymarket_question="q", kalshi_title="t",
             warnings=[], actor="test")
    env = {**env, "KALSHI_HOST": f"http://127.0.0.1:{kalshi.server_address[1]}{BASE}"}
    window = ["--from", "2026-04-17T12:00", "--to", "2026-04-17T12:59:59"]
    done = run_cli(["import-history", "--kalshi", "--market", CID, *window, "--name", "kalshi hour"], env,
                   timeout=120)
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert (report["trades"], report["of_them_historical"]) == (5, 3)  # both tiers, every page
    assert report["left_out"] == {"a trade without a time, a YES price inside (0, 1), a count above 0 and a "
                                  "taker side": 1}
    assert "/historical/trades" in kalshi.asked and "/markets/trades" in kalshi.asked
    with db.read() as conn:
        ticks = [tuple(r) for r in conn.exec_driver_sql("SELECT at, token_id, kind, side, price, size, data "
                                                        "FROM ticks ORDER BY id")]
    times = [t[0] for t in ticks]
    assert times == sorted(times)  # the two imports interleaved in time order: what a replay reads
    yes, no = f"kalshi:{TICKER}:yes", f"kalshi:{TICKER}:no"
    ms = int(T0.timestamp() * 1000)
    trades = [(t[0] - ms, t[3], t[4], t[5]) for t in ticks if t[2] == "trade"]
    assert trades == [(300_000, "BUY", 450_000, 10_000_000), (600_000, "SELL", 440_000, 2_500_000),
                      (1_200_000, "BUY", 460_000, 1_000_000), (2_400_000, "BUY", 470_000, 3_000_000),
                      (3_000_000, "SELL", 465_000, 1_000_000)]
    books = {(t[0] - ms, t[1]): json.loads(t[6]) for t in ticks if t[2] == "book" and t[1] in (yes, no)}
    assert books[(60_000, yes)] == {"b": [[440_000, 100_000_000]], "a": [[480_000, 100_000_000]]}
    assert books[(60_000, no)] == {"b": [[520_000, 100_000_000]], "a": [[560_000, 100_000_000]]}
    assert books[(3_060_000, yes)]["a"] == []  # no ask quoted: an empty side, never a guess
    # How the Kalshi market ended, as Kalshi's record says: kept for a backtest to settle there.
    assert report["resolution"].startswith("void") and "2026-04-17 12:50 UTC (Kalshi)" in report["resolution"]
    with db.read() as conn:
        ended = [tuple(r) for r in conn.exec_driver_sql("SELECT condition_id, at, outcome, yes_pays, source "
                                                        "FROM market_resolutions ORDER BY source")]
    assert ended[1] == (f"kalshi:{TICKER}", ms + 3_000_000, "void", None, "kalshi")
    assert ended[0][0] == CID and ended[0][2:] == ("no", None, "gamma")  # the Polymarket side, from its import
    backtest = run_cli(["backtest", "--strategy", "market_making", "--markets", CID, *window], env, timeout=120)
    assert backtest.returncode == 0, backtest.stderr
    sessions = json.loads(backtest.stdout)["history"]["sessions"]
    assert {s["source"] for s in sessions} == {"pmxt", "kalshi"}
    assert next(s for s in sessions if s["source"] == "kalshi")["prints"] == "kalshi_trades"
    again = run_cli(["import-history", "--kalshi", "--market", CID, *window, "--name", "twice"], env, timeout=120)
    assert again.returncode != 0 and "would mix" in again.stderr and "Traceback" not in again.stderr
