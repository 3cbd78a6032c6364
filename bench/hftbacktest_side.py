"""The same recording, the same quoting, in hftbacktest: the yardstick bench/backtest.py prints
its own speed against. Runs in hftbacktest's own virtualenv (bench/.hftbacktest-venv), never in
the desk's: it imports nothing of the desk, only numpy, numba, hftbacktest and the standard library.

    bench/.hftbacktest-venv/bin/python bench/hftbacktest_side.py prepare RECORDING.db FOLDER
    bench/.hftbacktest-venv/bin/python bench/hftbacktest_side.py replay FOLDER [REACH_TICKS]

`prepare` reads the recording's ticks (every token's book snapshots, level changes and prints)
into hftbacktest's event arrays, one asset per token, saved as .npz in FOLDER (its native input:
a user converts once and replays many times, so this is not in its replay's wall). `replay`
loads them and replays them with a market maker that
decides at the recorded decision markers, as the desk's backtest does, and quotes as the desk's
market maker and planner do (engine/strategies/market_making.py, engine/execution/planner.py): a
YES bid and a YES ask a half-spread (0.01) around the YES mid, 20 shares each, post-only, never
closer to the touch than a tick inside it, neither side past 100 shares of net YES; each routed as
the desk routes it: a bid first sells the NO it holds and buys YES for the rest, an ask first sells
the YES it holds and bids NO (at 1 - the ask) for the rest (it never sells what it does not hold),
nothing below the market's 5-share minimum (a holding that would leave less than that goes whole);
a working order at the wanted price and size (or remaining size) is left, any other cancelled.
With REACH_TICKS it also decides
as the desk does with `decide_on_events` on: an asset whose levels within that many ticks of its
touch changed, that printed a trade, or that got an order response, at once (`quote_on_events`);
REACH_TICKS -1 is the desk's rule for a strategy that reads only the touch's prices: an asset whose
touch's prices moved, or that got an order response.
Zero latency (the desk's bench chooses zero too), the risk-averse queue model, no partial fills (an
order fills whole: the paper venue fills a resting order for what a print brings; hftbacktest 2.4.4's
partial-fill exchange stopped this replay with an error), no fees. Each order filled is noted (market,
side and price in YES space) for the bench's comparison with the desk's.
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
MIN_SIZE, MAX_INVENTORY = 5.0, 100.0  # the market's minimum order, the maker's cap on net YES (its default)
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
def note_fills(hbt, asset, quoted, fills):
    """The orders of `asset` that filled, whole or in part, and ended, noted in `fills` (row 0 counts
    them) as (market, side, price) in YES space before they are cleared."""
    values = hbt.orders(asset).values()
    while values.has_next():
        order = values.get()
        status = order.status  # EXPIRED, FILLED or CANCELED: it has ended
        if (status == 2 or status == 3 or status == 4) and order.qty - order.leaves_qty > 1e-9 \
                and fills[0, 0] + 1 < fills.shape[0]:
            n = int(fills[0, 0]) + 1
            if asset < quoted:
                fills[n, 0], fills[n, 1], fills[n, 2] = asset, order.side, order.price
            else:  # a NO order as the YES book sees it: the other side, at 1 - its price
                fills[n, 0], fills[n, 1], fills[n, 2] = asset - quoted, -order.side, 1.0 - order.price
            fills[0, 0] = n
    hbt.clear_inactive_orders(asset)


@njit
def reduce_first(size, held, min_size):
    """What of `size` a holding of `held` sells before the complement is bought (the planner's rule)."""
    reduce = min(size, held)
    if reduce < min_size:
        return 0.0
    if 0.0 < held - reduce < min_size:
        return held
    return reduce


@njit
def keep_or_place(hbt, asset, side, price, qty, tick, min_size, next_id):
    """Leave a working order of `asset` at `price` of `qty` (or with `qty` left), cancel the others of
    that side; place the order if none is left and it is legal. Returns (orders sent, the next order id)."""
    kept = False
    values = hbt.orders(asset).values()
    while values.has_next():
        order = values.get()
        if order.side != side or not order.cancellable:
            continue
        if (not kept and qty >= min_size and abs(order.price - price) < tick / 2
                and (abs(order.qty - qty) < 1e-9 or abs(order.leaves_qty - qty) < 1e-9)):
            kept = True
        else:
            hbt.cancel(asset, order.order_id, False)
    if kept or qty < min_size or price < tick / 2 or price > 1.0 - tick / 2:
        return 0, next_id
    if side == 1:
        hbt.submit_buy_order(asset, next_id, price, qty, GTX, LIMIT, False)
    else:
        hbt.submit_sell_order(asset, next_id, price, qty, GTX, LIMIT, False)
    return 1, next_id + 1


@njit
def requote(hbt, a, quoted, half_spread, size, tick, next_id, fills):
    """One decision on market `a` (its YES asset `a`, its NO asset `a + quoted`), as the desk's market
    maker and planner decide it: a bid and an ask around the YES mid, each routed reduce-first. Returns
    (orders sent, the next order id)."""
    no = a + quoted
    note_fills(hbt, a, quoted, fills)
    note_fills(hbt, no, quoted, fills)
    depth = hbt.depth(a)
    bid_tick, ask_tick = depth.best_bid_tick, depth.best_ask_tick
    if bid_tick <= 0 or ask_tick <= 0 or ask_tick <= bid_tick:
        return 0, next_id
    mid = (bid_tick + ask_tick) * tick / 2.0
    bid = min(np.floor((mid - half_spread) / tick + 1e-9), ask_tick - 1) * tick  # never at or past the touch
    ask = max(np.ceil((mid + half_spread) / tick - 1e-9), bid_tick + 1) * tick
    yes_held, no_held = max(0.0, hbt.position(a)), max(0.0, hbt.position(no))
    net = yes_held - no_held
    buy_yes = sell_no = sell_yes = buy_no = 0.0
    if net + size <= MAX_INVENTORY:  # the bid: sell the NO held first, buy YES for the rest
        sell_no = reduce_first(size, no_held, MIN_SIZE)
        buy_yes = size - sell_no
    if net - size >= -MAX_INVENTORY:  # the ask: sell the YES held first, bid NO for the rest
        sell_yes = reduce_first(size, yes_held, MIN_SIZE)
        buy_no = size - sell_yes
    sent = 0
    for asset, side, price, qty in ((a, 1, bid, buy_yes), (a, -1, ask, sell_yes),
                                    (no, 1, 1.0 - ask, buy_no), (no, -1, 1.0 - bid, sell_no)):
        more, next_id = keep_or_place(hbt, asset, side, round(price / tick) * tick, qty, tick, MIN_SIZE, next_id)
        sent += more
    return sent, next_id


@njit
def quote(hbt, decisions, quoted, half_spread, size, tick, fills):  # numba compiles it: its arguments are untyped
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
            more, next_id = requote(hbt, a, quoted, half_spread, size, tick, next_id, fills)
            sent += more
    for a in range(quoted):  # the last fills, noted
        requote(hbt, a, quoted, half_spread, size, tick, next_id, fills)
    return sent, taken


@njit
def window(hbt, a, reach, seen):
    """Whether asset `a`'s levels within `reach` ticks of each touch differ from `seen[a]` (kept);
    `reach` -1: its touch's prices alone."""
    depth = hbt.depth(a)
    bid, ask = depth.best_bid_tick, depth.best_ask_tick
    changed = seen[a, 0] != bid or seen[a, 1] != ask
    seen[a, 0], seen[a, 1] = bid, ask
    for k in range(reach + 1):
        b, s = depth.bid_qty_at_tick(bid - k), depth.ask_qty_at_tick(ask + k)
        if seen[a, 2 + 2 * k] != b or seen[a, 3 + 2 * k] != s:
            changed = True
            seen[a, 2 + 2 * k], seen[a, 3 + 2 * k] = b, s
    return changed


@njit
def quote_on_events(hbt, decisions, quoted, half_spread, size, tick, reach, fills):
    """The desk's cadence with decisions on events: every asset at each recorded decision, and
    between them an asset as soon as its levels within `reach` ticks of the touch changed, it
    printed a trade, or an order response arrived; `reach` -1 (a strategy reading only the touch's
    prices, as the desk's plain market maker): as soon as its touch's prices moved or an order
    response arrived. Returns (orders sent, decisions taken)."""
    sent, taken, next_id = 0, 0, 1
    if hbt.elapse(1) != 0:
        return sent, taken
    seen = np.zeros((quoted, 2 + 2 * (reach + 1)))
    k, n = 0, len(decisions)
    while True:
        now = hbt.current_timestamp
        if k < n and decisions[k] <= now:
            k += 1
            taken += 1
            for a in range(quoted):
                window(hbt, a, reach, seen)
                more, next_id = requote(hbt, a, quoted, half_spread, size, tick, next_id, fills)
                sent += more
            continue
        got = hbt.wait_next_feed(True, decisions[k] - now if k < n else 1 << 62)
        if got == 1:
            break
        if got != 2 and got != 3:
            continue
        for a in range(quoted):
            printed = len(hbt.last_trades(a)) > 0
            if printed:
                hbt.clear_last_trades(a)
            if window(hbt, a, reach, seen) or (printed and reach >= 0) or got == 3:
                taken += 1
                more, next_id = requote(hbt, a, quoted, half_spread, size, tick, next_id, fills)
                sent += more
    for a in range(quoted):
        requote(hbt, a, quoted, half_spread, size, tick, next_id, fills)
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


def replay(folder: Path, reach: int | None) -> None:
    """`reach` (ticks): decide on events as well as at the markers (None: at the markers only)."""
    began = time.perf_counter()
    shape = json.loads((folder / "assets.json").read_text())
    arrays = [np.load(folder / f"asset-{n}.npz")["data"] for n in range(shape["assets"])]
    decisions = np.load(folder / "decisions.npy")
    loaded = time.perf_counter()
    hbt = HashMapMarketDepthBacktest([asset(a) for a in arrays])  # `arrays` stays alive: the assets point into it
    fills = np.zeros((1_000_000, 3))
    # Compiled on a throwaway copy first, so the replay's time is the replay's.
    warm = HashMapMarketDepthBacktest([asset(a[:1]) for a in arrays])
    if reach is None:
        quote(warm, decisions[:1], shape["quoted"], HALF_SPREAD, SIZE, TICK, np.zeros((2, 3)))
    else:
        quote_on_events(warm, decisions[:1], shape["quoted"], HALF_SPREAD, SIZE, TICK, reach, np.zeros((2, 3)))
    warm.close()
    compiled = time.perf_counter()
    if reach is None:
        sent, taken = quote(hbt, decisions, shape["quoted"], HALF_SPREAD, SIZE, TICK, fills)
    else:
        sent, taken = quote_on_events(hbt, decisions, shape["quoted"], HALF_SPREAD, SIZE, TICK, reach, fills)
    count = sum(int(hbt.state_values(a).num_trades) for a in range(shape["assets"]))
    replayed = time.perf_counter()
    hbt.close()
    noted = fills[1:int(fills[0, 0]) + 1]
    print(json.dumps({"events": shape["rows"], "decisions": int(taken), "orders": int(sent),
                      "fills": count, "load_s": loaded - began, "compile_s": compiled - loaded,
                      "replay_s": replayed - compiled,
                      "fill_list": [[int(a), "BUY" if side > 0 else "SELL", round(price * MICRO)]
                                    for a, side, price in noted]}))


def main() -> None:
    if sys.argv[1:2] == ["prepare"] and len(sys.argv) == 4:
        prepare(sys.argv[2], Path(sys.argv[3]))
    elif sys.argv[1:2] == ["replay"] and len(sys.argv) in (3, 4):
        replay(Path(sys.argv[2]), int(sys.argv[3]) if len(sys.argv) == 4 else None)
    else:
        raise SystemExit(__doc__)


if __name__ == "__main__":
    main()
