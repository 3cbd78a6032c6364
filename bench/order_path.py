"""Order path through the live adapter: sign + submit + ack against the simulator on
loopback, and signing alone.

The simulator runs as its own process (`python -m simulator --port 0 --no-agents`), so it
does not share a GIL with the adapter. Each sample prepares (signs) a resting limit order
and submits it through `PolymarketVenue`: thread hop, rate limiter, HTTP POST with L2
headers, the simulator's auth + signature recovery + matching, and the parsed ack.
Baseline, in this process: one authenticated REST round trip (GET /data/orders, first
page) through the same client: the floor any venue call pays. Signing alone is compared
with a bare ECDSA signature of a 32-byte digest by the same key, through the same thread
hop: the ratio is what building and EIP-712-hashing the order adds to the signature itself.
Target: sign + submit + ack p50 <= 10 ms. As in live trading, the adapter runs its user
channel and sends venue heartbeats (the dead-man switch) every `--heartbeat-s` seconds
meanwhile (live's default, 5 s; 0 measures without them), and paces by the signer's token
buckets, which the simulator enforces (a standard-tier account: 60 orders at once, 40 a second
after that). Orders go out back to back in rounds of `--round` (50, inside the 60-order burst),
with a pause after each round for the bucket to refill, so each sample is the order path with the
buckets on (a token taken, the answer's Poly-RateLimit-* headers read), not time spent queueing
for a token; a separate line times a burst of `--burst` orders, which the buckets do hold back.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import secrets
import subprocess
import sys
import time
from pathlib import Path

import httpx
from _common import ROOT, report
from eth_account import Account

from contracts.domain import Side
from contracts.settings import load_settings
from engine.venues.base import OrderRequest
from engine.venues.polymarket.venue import PolymarketVenue, VenueConfig


def start_simulator() -> tuple[subprocess.Popen[str], int]:
    env = {**os.environ, "TRADER_ENV_FILE": "/nonexistent/bench.env", "DATA_SOURCE": "simulator",
           "SIMULATOR_LOG_LEVEL": "WARNING"}
    # --allow-eoa-makers: the bench wallet is a plain type-0 key, which the venue refuses as a maker.
    proc = subprocess.Popen([sys.executable, "-m", "simulator", "--port", "0", "--no-agents", "--no-prefill",
                             "--allow-eoa-makers", "--pre-approved-wallets"],
                            cwd=ROOT, env=env, stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if line.startswith("SIMULATOR_PORT="):
            return proc, int(line.split("=", 1)[1])
        if not line and proc.poll() is not None:
            break
    proc.kill()
    raise RuntimeError("the simulator did not start")


async def market(venue: PolymarketVenue) -> tuple[str, str, int]:
    assert venue.client is not None, "the venue is connected"
    rows = await asyncio.to_thread(venue.client.get_markets)
    for row in rows["data"]:
        if not row["neg_risk"] and row["accepting_orders"]:
            return row["condition_id"], row["tokens"][0]["token_id"], round(row["minimum_tick_size"] * 1e6)
    raise RuntimeError("no standard market")


async def run(port: int, n: int, heartbeat_s: float, per_round: int, burst: int) -> None:
    key = "0x" + secrets.token_hex(32)
    settings = load_settings(env={"DATA_SOURCE": "simulator", "SIMULATOR_PORT": str(port),
                                  "POLY_PRIVATE_KEY": key, "POLY_SIGNATURE_TYPE": "0",
                                  "TRADER_ENV_FILE": "/nonexistent/bench.env"}, root=Path("/nonexistent"))
    venue = PolymarketVenue(settings, VenueConfig(heartbeat_s=heartbeat_s))
    try:
        await venue.start()  # user channel and heartbeats, as the engine runs them
        condition_id, token, tick = await market(venue)

        def request(i: int) -> OrderRequest:
            # Resting bids far below any ask, spread over ticks, 5 shares each.
            price = tick * (1 + i % 20)
            return OrderRequest(client_id=f"b{i}", condition_id=condition_id, token_id=token, side=Side.BUY,
                                price=price, size=5_000_000, tick=tick)

        for i in range(20):  # warm up: connections, caches
            await venue.submit(await venue.prepare(request(i)))
        await venue.cancel_all()
        await asyncio.sleep(60 / 40)  # the order bucket full again after the warm-up
        signing, round_trip, baseline = [], [], []
        for i in range(n):
            began = time.perf_counter()
            prepared = await venue.prepare(request(i))
            signed = time.perf_counter()
            await venue.submit(prepared)
            round_trip.append((time.perf_counter() - began) * 1000)
            signing.append((signed - began) * 1000)
            if i % 100 == 99:
                await venue.cancel_all()  # keep the account's reserved balance small
            if i % per_round == per_round - 1:
                await asyncio.sleep(per_round / 40 + 0.2)  # the order bucket refills (40 a second)
        client = venue.client
        assert client is not None, "the venue is connected"
        for _ in range(min(n, 300)):
            began = time.perf_counter()
            await venue.calls.call("data", client.get_open_orders, None, True)
            baseline.append((time.perf_counter() - began) * 1000)
        await venue.cancel_all()
        await asyncio.sleep(60 / 40)
        prepared_burst = [await venue.prepare(request(i)) for i in range(burst)]
        began = time.perf_counter()
        await asyncio.gather(*(venue.submit(p) for p in prepared_burst))
        burst_s = time.perf_counter() - began
        await venue.cancel_all()
        tier = venue.calls.signer.tier.name
        beats = venue.last_heartbeat_ms
    finally:
        await venue.close()
    state = httpx.get(f"http://127.0.0.1:{port}/_sim/state", timeout=10).json()
    refused, server = state["signer_rate_limited"], state["order_latency_ms"]
    print(f"the simulator's own order handling (signature recovery, matching, response) over {server['count']} "
          f"orders: p50 {server['p50']:.2f} ms, p99 {server['p99']:.2f} ms (target p50 < 5 ms)")
    print(f"signer tier {tier}: a burst of {burst} orders placed in {burst_s:.2f} s (paced by the buckets); "
          f"requests the venue refused for the signer's rate limit in the whole run: {refused}")
    print(f"venue heartbeats every {heartbeat_s:g} s: "
          + ("off" if heartbeat_s <= 0 else f"running (last answered {'never' if beats is None else 'yes'})"))
    bare = await bare_signatures(key, n)
    report("sign + submit + ack", round_trip, baseline, target="p50 <= 10 ms",
           baseline_name="authenticated GET round trip")
    report("signing alone (prepare)", signing, bare, baseline_name="bare ECDSA signature of a digest")


async def bare_signatures(private_key: str, n: int) -> list[float]:
    """The floor of signing: one secp256k1 signature of a 32-byte digest, via the same thread hop."""
    account = Account.from_key(private_key)
    samples = []
    for i in range(n):
        digest = i.to_bytes(32, "big")
        began = time.perf_counter()
        await asyncio.to_thread(account.unsafe_sign_hash, digest)
        samples.append((time.perf_counter() - began) * 1000)
    return samples


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("-n", type=int, default=500)
    parser.add_argument("--heartbeat-s", type=float, default=5.0, help="venue heartbeat interval (0 = off)")
    parser.add_argument("--round", type=int, default=50, help="orders sent back to back before a refill pause")
    parser.add_argument("--burst", type=int, default=120, help="orders sent at once for the pacing line")
    args = parser.parse_args()
    proc, port = start_simulator()
    try:
        asyncio.run(run(port, args.n, args.heartbeat_s, args.round, args.burst))
    finally:
        proc.terminate()
        proc.wait(10)


if __name__ == "__main__":
    main()
