"""Market-feed ingest: frames/s through parse + book update on one core, against bare
`json.loads` of the same frames.

Frames are realistic and seeded: mostly new-format `price_change` (one to three entries,
both tokens of a market mirrored, with hashes and best bid/ask), some full `book`
snapshots and `last_trade_price` prints, for 100 markets. Each chunk of frames is timed
through `MarketFeed.handle_frame` (the production hot path: decode, parse, timestamp
checks, level updates) and, right after, through `json.loads` alone, so machine noise
hits both alike. Figures are per 1000 frames.
Target: >= 50k frames/s and <= 3x json.loads. The bounded parse alone is close to json.loads
(a frame with no more opening brackets than the depth limit skips the depth check); most of the
ratio is turning decimal strings into integers and updating the book.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import time

from _common import report

from engine.feeds.books import BookCache
from engine.venues.polymarket.market_ws import MarketFeed

CHUNK = 1000


def token_ids(rng: random.Random, markets: int) -> list[tuple[str, str, str]]:
    """(condition id, YES token, NO token) per market."""
    return [(f"0x{rng.getrandbits(256):064x}", str(rng.getrandbits(255)), str(rng.getrandbits(255)))
            for _ in range(markets)]


def price_change(rng: random.Random, market: tuple[str, str, str], ts: int) -> dict[str, object]:
    condition_id, yes, no = market
    entries = []
    for _ in range(rng.choice((1, 1, 1, 2, 3))):
        cents = rng.randrange(1, 100)
        size = "0" if rng.random() < 0.25 else f"{rng.randrange(1, 20_000)}.{rng.randrange(100):02d}"
        side = rng.choice(("BUY", "SELL"))
        mirror = "SELL" if side == "BUY" else "BUY"
        for token, price, s in ((yes, cents, side), (no, 100 - cents, mirror)):
            entries.append({"asset_id": token, "price": f"0.{price:02d}", "size": size, "side": s,
                            "hash": f"{rng.getrandbits(160):040x}", "best_bid": "0.48", "best_ask": "0.52"})
    return {"market": condition_id, "price_changes": entries, "event_type": "price_change", "timestamp": str(ts)}


def book(rng: random.Random, token: str, ts: int) -> dict[str, object]:
    mid = rng.randrange(20, 80)
    bids = [{"price": f"0.{p:02d}", "size": f"{rng.randrange(1, 5000)}.{rng.randrange(100):02d}"}
            for p in range(max(1, mid - 30), mid)]
    asks = [{"price": f"0.{p:02d}", "size": f"{rng.randrange(1, 5000)}"} for p in range(min(99, mid + 30), mid, -1)]
    return {"event_type": "book", "asset_id": token, "market": "0xm", "bids": bids, "asks": asks,
            "timestamp": str(ts), "hash": f"{rng.getrandbits(160):040x}"}


def trade(rng: random.Random, token: str, ts: int) -> dict[str, object]:
    return {"asset_id": token, "event_type": "last_trade_price", "fee_rate_bps": "0", "market": "0xm",
            "price": f"0.{rng.randrange(1, 100):02d}", "side": rng.choice(("BUY", "SELL")),
            "size": f"{rng.randrange(1, 500)}.{rng.randrange(100):02d}", "timestamp": str(ts)}


def frames(n: int, seed: int = 7) -> tuple[list[str], list[str]]:
    rng = random.Random(seed)
    markets = token_ids(rng, 100)
    out, ts = [], 1_760_000_000_000
    for _ in range(n):
        ts += rng.randrange(0, 3)
        market = rng.choice(markets)
        roll = rng.random()
        if roll < 0.88:
            msg = price_change(rng, market, ts)
        elif roll < 0.93:
            msg = book(rng, rng.choice(market[1:]), ts)
        else:
            msg = trade(rng, rng.choice(market[1:]), ts)
        out.append(json.dumps(msg))
    return out, [t for market in markets for t in market[1:]]


def ready_feed(tokens: list[str], listener: bool) -> MarketFeed:
    cache = BookCache()
    for token in tokens:
        cache.apply_snapshot(token, [(400_000, 1_000_000)], [(600_000, 1_000_000)], at_ms=0, ts_ms=0)
    if listener:
        cache.add_listener(lambda event: None)
    feed = MarketFeed("ws://127.0.0.1:9/ws/", "http://127.0.0.1:9", cache)
    feed.subscribe(tokens)  # not started: no connection, just the subscription set
    return feed


def measure(data: list[str], tokens: list[str], listener: bool) -> tuple[list[float], list[float]]:
    feed = ready_feed(tokens, listener)
    handle, loads = feed.handle_frame, json.loads
    ingest_ms, json_ms = [], []
    for start in range(0, len(data), CHUNK):
        chunk = data[start:start + CHUNK]
        began = time.perf_counter()
        for text in chunk:
            handle(text, 1)
        ingest_ms.append((time.perf_counter() - began) * 1000 * CHUNK / len(chunk))
        began = time.perf_counter()
        for text in chunk:
            loads(text)
        json_ms.append((time.perf_counter() - began) * 1000 * CHUNK / len(chunk))
    return ingest_ms, json_ms


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("-n", type=int, default=200_000, help="frames")
    args = parser.parse_args()
    data, tokens = frames(args.n)
    measure(data[:20_000], tokens, listener=False)  # warm caches and the allocator
    for listener in (False, True):
        ingest, baseline = measure(data, tokens, listener)
        name = "feed ingest per 1000 frames" + (" (with a listener)" if listener else "")
        figures = report(name, ingest, baseline, target="ratio <= 3x", baseline_name="json.loads")
        print(f"  -> {1000 / figures['p50_ms'] * 1000:,.0f} frames/s at p50 (target >= 50,000); "
              f"median per-chunk ratio {statistics.median(i / b for i, b in zip(ingest, baseline, strict=False)):.2f}x")


if __name__ == "__main__":
    main()
