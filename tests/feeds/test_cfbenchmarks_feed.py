"""The desk's reader of Kalshi's `cfbenchmarks_value` channel (engine/feeds/cfbenchmarks.py), fed frames
by hand: a value at CF Benchmarks' own time (its raw frame is a JSON string inside the message), the
final minute's accumulation kept with the close it belongs to, Kalshi's lags from `sending_ts_ms` (an
optional field: a frame without it is read all the same), and every frame it cannot believe counted and
left out, a lost message counted as a gap."""

from __future__ import annotations

import json
from typing import Any

from contracts.kalshi_settings import KalshiSettings
from contracts.settings import Secret
from engine.feeds.cfbenchmarks import CfBenchmarksFeed
from tests.kalshi import keypair

NOW = 1_800_000_000_000
CLOSE = NOW // 900_000 * 900_000 + 900_000


def _frame(seq: int, at: int, value: str, **extra: Any) -> str:
    msg = {"index_id": "BRTI", "received_at": at + 40, "avg_60s_data": {
        "value": value, "window_size": 10, "window_start_ts_ms": at - 60_000, "window_end_ts_exclusive": at},
        "data": json.dumps({"type": "value", "id": "BRTI", "time": at, "value": value}), **extra}
    return json.dumps({"type": "cfbenchmarks_value", "sid": 1, "seq": seq, "msg": msg, "sending_ts_ms": at + 90})


def test_values_quarters_lags_and_refusals() -> None:
    private, _ = keypair()
    feed = CfBenchmarksFeed(KalshiSettings("http://127.0.0.1:1/trade-api/v2", "simulator", "key",
                                           Secret(private)), ["BRTI"], clock_ms=lambda: NOW + 100)
    feed.on_text(_frame(1, NOW - 1_000, "95000.00"))
    quarter = {"value": "95010.12345678", "window_size": 30, "window_start_ts_ms": CLOSE - 60_000,
               "window_end_ts_exclusive": CLOSE + 1}
    feed.on_text(_frame(2, NOW, "95010.50", last_60s_windowed_average_15min=quarter))
    assert feed.spot("BRTI") == (95010.5, NOW) and feed.history("BRTI") == ((NOW - 1_000, 95000.0), (NOW, 95010.5))
    assert feed.quarter("BRTI", CLOSE) == (95010.12345678, 30) and feed.quarter("BRTI", CLOSE + 900_000) is None
    assert (feed.lags["BRTI"].inside_kalshi_ms, feed.lags["BRTI"].transit_ms) == (50, 10)
    no_sending = json.loads(_frame(3, NOW + 1_000, "95011.00"))
    del no_sending["sending_ts_ms"]
    feed.on_text(json.dumps(no_sending))
    assert feed.spot("BRTI") == (95011.0, NOW + 1_000) and feed.lags["BRTI"].transit_ms is None
    for hostile in (_frame(5, NOW + 2_000, "-1"), _frame(6, NOW + 120_000, "95000.00"),  # a gap; negative; future
                    _frame(7, NOW + 3_000, "95000.00").replace('"BRTI"', '"ETHUSD_RTI"', 1), "not json", "[1]",
                    _frame(8, NOW + 4_000, "950000.00")):  # a 900 % jump in a few seconds
        feed.on_text(hostile)
    assert feed.spot("BRTI") == (95011.0, NOW + 1_000) and feed.gaps == 1 and feed.refusals.count == 6
    feed.on_text(json.dumps({"id": 1, "type": "error", "msg": {"code": 9, "msg": "Authentication required"}}))
    assert feed.refused is not None and "Authentication required" in feed.refused
