"""The same recording, the same quoting, in hftbacktest: the yardstick bench/backtest.py prints
its own speed against. Runs in hftbacktest's own virtualenv (bench/.hftbacktest-venv), never in
the desk's: it imports nothing of the desk, only numpy, numba, hftbacktest and the standard library.

    bench/.hftbacktest-venv/bin/python bench/hftbacktest_side.py prepare RECORDING.db FOLDER
    bench/.hftbacktest-venv/bin/python bench/hftbacktest_side.py replay FOLDER

`prepare` reads the recording's ticks (every token's book snapshots, level changes and prints)
into hftbacktest's event arrays, one asset per token, saved as .npz in FOLDER (its native input:
a user converts once and replays many times, so this is not in its replay's wall). `replay`
loads them and replays them with a market maker that
decides at the recorded decision markers, as the desk's backtest does: on each YES token it
quotes a bid and an ask a half-spread (0.01) around the mid, 20 shares each, post-only, leaving
a quote that is already at its price and cancelling one that is not. Zero latency (the desk's
bench chooses zero too), the risk-averse queue model, no partial fills, no fees.
Each prints one JSON line: `prepare` its time; `replay` events (the recording's rows, as the
desk counts them), decisions, orders, fills and
the time to load, to compile (numba) and to replay. The caller measures the whole process's wall.
"""

from __future__ import annotations

import json
import sqlite3
import sys
import time
from pathlib import Path

import numpy as np
from hftbacktest import (
    BUY_EVENT,
    DEPTH_CLEAR_EVENT,
    DEPTH_EVENT,
    EXCH_EVENT,
    GTX,
    LIMIT,
    LOCAL_EVENT,
    SELL_EVENT,
    TRADE_EVENT,
    BacktestAsset,
    HashMapMarketDepthBacktest,
)
from hftbacktest.binding import event_dtype
from numba import njit

MICRO = 1_000_000
MS = 1_000_000  # nanoseconds a millisecond
HALF_SPREAD, SIZE, TICK, LOT = 0.01, 20.0, 0.01, 0.01
FLAGS = EXCH_EVENT | LOCAL_EVENT


def read_recording(path: str) -> tuple[list[str], list[str], dict[str, list[tuple]], np.ndarray]:
    """(yes tokens, every token, rows per token, decision times in ns) from the recording."""
    conn = sqlite3.connect(path)
    markets = conn.execute("SELECT yes_token, no_token FROM markets ORDER BY condition_id").fetchall()
    yes = [m[0] for m in markets]
    tokens = yes + [m[1] for m in markets]
    rows: dict[str, list[tuple]] = {t: [] for t in tokens}
    decisions: list[int] = []
    for at, token, kind, side, price, size, data in conn.execute(
            "SELECT at, token_id, kind, side, price, size, data FROM ticks ORDER BY id"):
        if kind == "decide":
            decisions.append(at * MS)
        elif token in rows:
            rows[token].append((at, kind, side, price, size, data))
    conn.close()
    return yes, tokens, rows, np.asarray(decisions, dtype=np.int64)


def events_of(rows: list[tuple]) -> np.ndarray:
    """One token's rows as hftbacktest events: a book snapshot clears the depth and sets each
    level; a change sets one level (size 0 removes it); a print is a trade by its taker's side."""
    out: list[tuple] = []
    for at, kind, side, price, size, data in rows:
        ts = at * MS
        if kind == "book":
            book = json.loads(data)
            out.append((DEPTH_CLEAR_EVENT | FLAGS, ts, ts, 0.0, 0.0, 0, 0, 0.0))
            out += [(DEPTH_EVENT | FLAGS | BUY_EVENT, ts, ts, p / MICRO, s / MICRO, 0, 0, 0.0) for p, s in book["b"]]
            out += [(DEPTH_EVENT | FLAGS | SELL_EVENT, ts, ts, p / MICRO, s / MICRO, 0, 0, 0.0) for p, s in book["a"]]
        elif kind == "change":
            flag = BUY_EVENT if side == "BUY" else SELL_EVENT
            out.append((DEPTH_EVENT | FLAGS | flag, ts, ts, price / MICRO, size / MICRO, 0, 0, 0.0))
        elif kind == "trade":
            flag = BUY_EVENT if side == "BUY" else SELL_EVENT
            out.append((TRADE_EVENT | FLAGS | flag, ts, ts, price / MICRO, size / MICRO, 0, 0, 0.0))
    return np.array(out, dtype=event_dtype)


def asset(events: np.ndarray) -> BacktestAsset:
    return (BacktestAsset().data(events).linear_asset(1.0).constant_order_latency(0, 0)
            .risk_adverse_queue_model().no_partial_fill_exchange().trading_value_fee_model(0.0, 0.0)
            .tick_size(TICK).lot_size(LOT))


@njit
def quote(hbt, decisions, quoted, half_spread, size, tick):  # numba compiles it: its arguments are untyped
    """Elapse to each decision; on each quoted asset keep a bid and an ask around the mid.
    Returns (orders sent, decisions taken)."""
    sent, taken, next_id = 0, 0, 1
    if hbt.elapse(1) != 0:  # the clock starts at the first event
        return sent, taken
    for at in decisions:
        if at > hbt.current_timestamp and hbt.elapse(at - hbt.current_timestamp) != 0:
            break
        taken += 1
        for a in range(quoted):
            hbt.clear_inactive_orders(a)
            depth = hbt.depth(a)
            bid_tick, ask_tick = depth.best_bid_tick, depth.best_ask_tick
            if bid_tick <= 0 or ask_tick <= 0 or ask_tick <= bid_tick:
                continue
            mid = (bid_tick + ask_tick) * tick / 2.0
            want_bid = np.floor((mid - half_spread) / tick + 1e-9) * tick
            want_ask = np.ceil((mid + half_spread) / tick - 1e-9) * tick
            have_bid, have_ask = False, False
            orders = hbt.orders(a)
            values = orders.values()
            while values.has_next():
                order = values.get()
                if order.cancellable:
                    if order.side == 1 and abs(order.price - want_bid) < tick / 2 and not have_bid:
                        have_bid = True
                    elif order.side == -1 and abs(order.price - want_ask) < tick / 2 and not have_ask:
                        have_ask = True
                    else:
                        hbt.cancel(a, order.order_id, False)
            if not have_bid and want_bid > 0:
                hbt.submit_buy_order(a, next_id, want_bid, size, GTX, LIMIT, False)
                next_id += 1
                sent += 1
            if not have_ask and want_ask < 1:
                hbt.submit_sell_order(a, next_id, want_ask, size, GTX, LIMIT, False)
                next_id += 1
                sent += 1
    return sent, taken


def prepare(recording: str, folder: Path) -> None:
    began = time.perf_counter()
    yes, tokens, rows, decisions = read_recording(recording)
    for n, token in enumerate(tokens):
        np.savez_compressed(folder / f"asset-{n}.npz", data=events_of(rows[token]))
    np.save(folder / "decisions.npy", decisions)
    shape = {"quoted": len(yes), "assets": len(tokens), "rows": sum(len(rows[t]) for t in tokens)}
    (folder / "assets.json").write_text(json.dumps(shape))
    print(json.dumps({"prepare_s": time.perf_counter() - began}))


def replay(folder: Path) -> None:
    began = time.perf_counter()
    shape = json.loads((folder / "assets.json").read_text())
    arrays = [np.load(folder / f"asset-{n}.npz")["data"] for n in range(shape["assets"])]
    decisions = np.load(folder / "decisions.npy")
    loaded = time.perf_counter()
    hbt = HashMapMarketDepthBacktest([asset(a) for a in arrays])  # `arrays` stays alive: the assets point into it
    # Compiled on a throwaway copy first, so the replay's time is the replay's.
    warm = HashMapMarketDepthBacktest([asset(a[:1]) for a in arrays])
    quote(warm, decisions[:1], shape["quoted"], HALF_SPREAD, SIZE, TICK)
    warm.close()
    compiled = time.perf_counter()
    sent, taken = quote(hbt, decisions, shape["quoted"], HALF_SPREAD, SIZE, TICK)
    fills = sum(int(hbt.state_values(a).num_trades) for a in range(shape["quoted"]))
    replayed = time.perf_counter()
    hbt.close()
    print(json.dumps({"events": shape["rows"], "decisions": int(taken), "orders": int(sent),
                      "fills": fills, "load_s": loaded - began, "compile_s": compiled - loaded,
                      "replay_s": replayed - compiled}))


def main() -> None:
    if sys.argv[1:2] == ["prepare"] and len(sys.argv) == 4:
        prepare(sys.argv[2], Path(sys.argv[3]))
    elif sys.argv[1:2] == ["replay"] and len(sys.argv) == 3:
        replay(Path(sys.argv[2]))
    else:
        raise SystemExit(__doc__)


if __name__ == "__main__":
    main()
