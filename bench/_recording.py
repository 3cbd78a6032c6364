"""A synthetic but realistic recording (markets + ticks), shared by the backtest benchmark
and tests: random-walking two-sided books on several markets, level changes, trades and a
decision marker every 200 ms of recorded time, written the way the recorder writes them."""

from __future__ import annotations

import json
import random
import sqlite3
from pathlib import Path

from storage.sqlite.migrations import migrate

SH = 1_000_000
TICK = 10_000


def _market_row(i: int, now: int) -> dict:
    return {"condition_id": f"0x{i:064x}", "question": f"Synthetic market {i}?", "slug": f"synthetic-{i}",
            "yes_token": f"{10**20 + 2 * i}", "no_token": f"{10**20 + 2 * i + 1}", "tick": TICK, "min_size": 5 * SH,
            "volume": 1000 * SH, "liquidity": 500 * SH, "first_seen_at": now, "updated_at": now}


def _book(mid: int) -> dict:
    bids = [[mid - TICK * (k + 1), (50 + 10 * k) * SH] for k in range(10)]
    asks = [[mid + TICK * (k + 1), (50 + 10 * k) * SH] for k in range(10)]
    return {"b": bids, "a": asks}


def write_recording(path: Path, *, markets: int = 5, events: int = 10_000, start_ms: int = 1_800_000_000_000,
                    seed: int = 1, events_per_decision: int = 20,
                    mirror_prints: bool = False) -> tuple[list[str], int, int]:
    """Write `events` market events (plus decision markers); returns (condition ids, start, end).
    `mirror_prints`: each YES print is also printed on NO, as the mirrored books imply (a YES buyer
    lifting the ask at p is a NO seller hitting the bid at 1 - p), so a resting NO bid (a maker's ask
    when it holds no YES) fills from prints as a YES ask would."""
    migrate(path)
    rng = random.Random(seed)
    rows = [_market_row(i, start_ms) for i in range(markets)]
    mids = [rng.randrange(30, 70) * TICK for _ in rows]
    conn = sqlite3.connect(path)
    conn.executemany(f"INSERT INTO markets ({', '.join(rows[0])}) VALUES ({', '.join('?' * len(rows[0]))})",
                     [tuple(r.values()) for r in rows])
    batch: list[tuple] = []
    at = start_ms
    for i, row in enumerate(rows):
        for token, mid in ((row["yes_token"], mids[i]), (row["no_token"], 1_000_000 - mids[i])):
            batch.append((at, token, "book", None, None, None, mid, json.dumps(_book(mid))))
    for n in range(events):
        at += rng.randrange(5, 16)
        i = rng.randrange(markets)
        yes, no = rows[i]["yes_token"], rows[i]["no_token"]
        if rng.random() < 0.1:
            side = rng.choice(("BUY", "SELL"))
            price = mids[i] + (TICK if side == "BUY" else -TICK)
            size = rng.randrange(1, 40) * SH
            batch.append((at, yes, "trade", side, price, size, mids[i], None))
            if mirror_prints:
                batch.append((at, no, "trade", "SELL" if side == "BUY" else "BUY", 1_000_000 - price, size,
                              1_000_000 - mids[i], None))
        else:
            if rng.random() < 0.05:  # the market moves a tick: fresh books (NO mirrors YES)
                mids[i] = min(90 * TICK, max(10 * TICK, mids[i] + rng.choice((-TICK, TICK))))
                batch.append((at, yes, "book", None, None, None, mids[i], json.dumps(_book(mids[i]))))
                batch.append((at, no, "book", None, None, None, 1_000_000 - mids[i],
                              json.dumps(_book(1_000_000 - mids[i]))))
            else:
                k = rng.randrange(1, 10)
                is_bid = rng.random() < 0.5
                price = mids[i] - TICK * k if is_bid else mids[i] + TICK * k
                size = rng.randrange(0, 200) * SH
                batch.append((at, yes, "change", "BUY" if is_bid else "SELL", price, size, mids[i], None))
                batch.append((at, no, "change", "SELL" if is_bid else "BUY", 1_000_000 - price, size,
                              1_000_000 - mids[i], None))
        if n % events_per_decision == 0:
            batch.append((at, "", "decide", None, None, None, None, None))
        if len(batch) >= 50_000:
            conn.executemany("INSERT INTO ticks (at, token_id, kind, side, price, size, mid, data) "
                             "VALUES (?, ?, ?, ?, ?, ?, ?, ?)", batch)
            batch.clear()
    conn.executemany("INSERT INTO ticks (at, token_id, kind, side, price, size, mid, data) "
                     "VALUES (?, ?, ?, ?, ?, ?, ?, ?)", batch)
    conn.commit()
    conn.close()
    return [r["condition_id"] for r in rows], start_ms, at
