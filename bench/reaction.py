"""Reaction to the market: a book move -> the first order request it causes, where it reaches the venue.

Live against the simulator (in this process, on its own thread): a real engine process trades
live with a market maker quoting 1, 10 and 50 markets (`--markets`); the bench moves one
market's touch two cents at a known instant (the liquidity account's levels replaced in one call
on the simulator's loop, bench/_reaction_venue.py) and times until the desk's first cancel or
placement in that market reaches the simulator's matching engine (read on the same clock, in
the same process). After each reaction it waits for both quotes to be replaced, then a random
pause up to one decision interval, so a move lands anywhere in the desk's cycle. Beside it, the
same moves against a bare client on the same venue (bench/_bare_client.py: py-clob-client-v2 +
websockets in its own process, cancelling the moment the touch moves). Prints p50, p90 and p99
of each and the ratio of the desk's to the bare client's.

    python bench/reaction.py [--markets 1,10,50] [--moves 210] [--tick-ms N] [--flood 1000]

`--tick-ms` sets the desk's decision interval (`tick_interval_ms`; default: the setting's own
default). `--flood RATE` adds a phase: the desk quotes one more market whose book changes RATE
times a second (far from its touch) while the quiet markets are moved (the reaction of a quiet
market beside a busy one); the bare client then quotes the flooding market too, under the same
flood, so the part of the tail that is the venue's own (the flood is pumped on the simulator's
loop) shows in both. Everything talks to 127.0.0.1 only.

Where the desk's time goes, each stage stamped in a scratch build (50 markets, p50): ~1 ms from the
move to the engine reading its frame; ~1 ms from the frame to the cancel handed to aiohttp (the
decision, the gate, the planner: the cancel leaves before its CANCEL_PENDING mark commits,
engine/execution/cancels.py); ~1.4 ms writing the request and the venue's own HTTP handling, which
the bare client pays too. The 50-market timed pass (~5 ms every 500 ms) rarely falls between a move
and its decision, so it is not what the tail waits on. The least gap between one market's
replacements (`decision_min_gap_ms`) runs from the start of the decision that acted, so the venue's
round trip is not added to it. Under `--flood` the flooding market's frames keep the engine's event
loop about half busy (two fifths of that the market-data listeners: the recorder's diff, netting the
desk's own orders out, the touch check), and the recorder's transactions (100 rows each, a short
pause between, engine/marketdata/recorder.py) contend for the database's write lock: that is the
flood phase's tail.
"""

from __future__ import annotations

import argparse
import json
import random
import secrets
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from _common import ROOT, percentile
from _reaction_venue import BookMover, Flood, Receipts
from eth_account import Account

from contracts.runtime_settings import SETTINGS
from simulator.testing import SimHandle, approved_simulator
from tests.helpers import EngineProcess, isolated_env, seed_desk, wait_until

MM = {"size": 20, "half_spread": 0.03, "refresh_threshold": 0.005, "skew_per_share": 0, "max_spread": 0.1,
      "max_inventory": 10_000}
# Room for every quote: what is measured is the reaction, not the limits.
LIMITS = {"max_total_exposure": "1000000", "max_market_exposure": "1000000", "max_strategy_exposure": "1000000",
          "max_event_exposure": "1000000", "max_correlated_exposure": "1000000", "max_open_orders": "5000",
          "max_order_rate": "100000", "max_daily_loss": "1000000", "max_drawdown": "100"}
FUNDS = "1000000"
SETTLE_S = 20.0  # a reaction and its replacement quotes, at most (a loaded machine)


@dataclass(frozen=True)
class Reactor:
    """Whoever answers the moves: its API key at the venue and how many orders it rests a market."""

    owner: str
    per_market: int


def eligible_markets(sim: SimHandle, count: int) -> list[dict[str, Any]]:
    """Plain binary markets (no neg-risk group, no sports delay, no Protocol V2)."""
    found = [m for m in sim.markets() if not (m["neg_risk"] or m["sports"] or m["protocol_v2"] or m["closed"])]
    if len(found) < count:
        raise SystemExit(f"the simulator lists {len(found)} plain markets, {count} needed")
    return found[:count]


def new_wallet(sim: SimHandle) -> tuple[str, str]:
    """(a private key, its deposit wallet): linked, funded; the strict venue's kind of maker."""
    key = "0x" + secrets.token_hex(32)
    funder = Account.create().address
    sim.link_funder(Account.from_key(key).address, funder, 3)
    sim.fund(funder, pusd=FUNDS)
    return key, funder


def measure(receipts: Receipts, mover: BookMover, markets: list[dict[str, Any]], reactor: Reactor, moves: int,
            pause_s: float) -> list[float]:
    """`moves` moves, market by market in turn; each reaction in ms."""
    samples = []
    for n in range(moves):
        samples.append(one_move(receipts, mover, markets[n % len(markets)]["condition_id"], reactor, n + 1))
        time.sleep(random.uniform(0, pause_s))
    return samples


def one_move(receipts: Receipts, mover: BookMover, market: str, reactor: Reactor, n: int) -> float:
    """Move `market`, wait for the reactor's first request there, then for its quotes to be all
    new; the reaction in ms."""
    before = receipts.open_ids(reactor.owner, market)
    moved = mover.flip(market)
    first = wait_until(lambda: receipts.first_after(reactor.owner, market, moved), SETTLE_S, 0.001,
                       f"a reaction to move {n}")

    def replaced() -> bool:
        now = receipts.open_ids(reactor.owner, market)
        return len(now) == reactor.per_market and not now & before

    wait_until(replaced, SETTLE_S, 0.005, f"the quotes replaced after move {n}")
    return float((first.at - moved) * 1000)


def desk_phase(sim: SimHandle, receipts: Receipts, mover: BookMover, markets: list[dict[str, Any]], moves: int,
               tick_ms: int, flood: dict[str, Any] | None = None, flood_rate: int = 0,
               events: bool = True) -> tuple[list[float], float]:
    """The desk quoting `markets` (and the flooding one), live; its reactions and the flood's rate."""
    quoted = markets + ([flood] if flood is not None else [])
    with tempfile.TemporaryDirectory(prefix="reaction-") as tmp:
        key, funder = new_wallet(sim)
        env = isolated_env(Path(tmp), SIMULATOR_PORT=str(sim.port), POLY_PRIVATE_KEY=key, POLY_SIGNATURE_TYPE="3",
                           POLY_FUNDER=funder, LOG_LEVEL="WARNING")
        seed_desk(Path(env["TRADER_DB"]), mode="live", limits=LIMITS, settings={"tick_interval_ms": tick_ms,
                                                                          "decide_on_events": int(events)},
                  strategies=[("mm", "market_making", MM, [m["condition_id"] for m in quoted])])
        engine = EngineProcess(Path(tmp), env)
        pump = Flood(sim, flood, flood_rate) if flood is not None else None
        try:
            engine.start()
            wait_until(lambda: sim.open_order_count(funder) == 2 * len(quoted), 120, 0.2, "the desk's quotes resting")
            owner = receipts.owner_of(funder)
            assert owner is not None
            if pump is not None:
                pump.start()
            samples = measure(receipts, mover, markets, Reactor(owner, 2), moves, tick_ms / 1000)
            rate = pump.stop() if pump is not None else 0.0
            return samples, rate
        finally:
            if pump is not None:
                pump.stop()
            engine.terminate()
            engine.cleanup()
            mover.reset()


def bare_phase(sim: SimHandle, receipts: Receipts, mover: BookMover, markets: list[dict[str, Any]],
               moves: int, flood: dict[str, Any] | None = None, flood_rate: int = 0) -> tuple[list[float], float]:
    """The bare client quoting `markets` (and the flooding one); its reactions to moves of `markets`
    and the flood's rate. Under a flood it reads the flooding market's frames as the desk does, and
    its cancels wait behind the flood on the simulator's loop (where the flood is pumped) as the
    desk's do: the yardstick of the desk's flood phase."""
    key, funder = new_wallet(sim)
    quoted = markets + ([flood] if flood is not None else [])
    config = {"clob": sim.clob_host, "ws": sim.ws_host, "key": key, "funder": funder,
              "markets": [{k: m[k] for k in ("condition_id", "yes_token_id", "tick_size")} for m in quoted]}
    client = subprocess.Popen([sys.executable, str(ROOT / "bench" / "_bare_client.py")], cwd=ROOT,
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    owner = ""
    pump = Flood(sim, flood, flood_rate) if flood is not None else None
    try:
        assert client.stdin is not None and client.stdout is not None
        client.stdin.write(json.dumps(config) + "\n")
        client.stdin.flush()
        ready = client.stdout.readline().split()  # (bounded: it exits if the simulator is unreachable)
        if not ready or ready[0] != "ready":
            raise SystemExit(f"the bare client did not start (exit {client.poll()})")
        owner = ready[1]
        if pump is not None:
            pump.start()
        samples = measure(receipts, mover, markets, Reactor(owner, 1), moves, 0.05)
        return samples, pump.stop() if pump is not None else 0.0
    finally:
        if pump is not None:
            pump.stop()
        client.terminate()
        client.wait(20)
        if owner:
            receipts.cancel_all_of(owner)
        mover.reset()


def figures(samples: list[float]) -> tuple[float, float, float]:
    return statistics.median(samples), percentile(samples, 90), percentile(samples, 99)


def show(title: str, desk: list[float], bare: list[float] | None) -> None:
    d50, d90, d99 = figures(desk)
    line = f"{title:<44} desk  n={len(desk):<4} p50 {d50:7.2f}  p90 {d90:7.2f}  p99 {d99:7.2f} ms"
    if bare:
        b50, b90, b99 = figures(bare)
        line += (f" | bare client n={len(bare):<4} p50 {b50:5.2f}  p90 {b90:5.2f}  p99 {b99:5.2f} ms"
                 f" | desk/bare p50 {d50 / b50:.1f}x  p99 {d99 / b99:.1f}x")
    print(line, flush=True)


def main() -> None:
    default_tick = next(s.default for s in SETTINGS if s.key == "tick_interval_ms")
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--markets", default="1,10,50", help="quoted market counts, comma-separated")
    parser.add_argument("--moves", type=int, default=210, help="book moves a phase")
    parser.add_argument("--tick-ms", type=int, default=default_tick, help="the desk's decision interval")
    parser.add_argument("--flood", type=int, default=0, metavar="RATE",
                        help="add a phase with one more market changing RATE times a second")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--timer-only", action="store_true",
                        help="the desk decides on its timed passes only (decide_on_events = 0): the old figures")
    args = parser.parse_args()
    counts = [int(c) for c in args.markets.split(",") if c.strip()]
    if not counts or min(counts) < 1 or args.moves < 1:
        parser.error("--markets needs counts of at least 1 and --moves at least 1")
    random.seed(args.seed)
    most = max(counts) + (1 if args.flood else 0)
    with approved_simulator(seed=args.seed, agents=False, prefill_books=False, markets=most + 20,
                            sports_markets="none", v2_markets="none") as sim:
        plain = eligible_markets(sim, most)
        receipts, mover = Receipts(sim), BookMover(sim, plain)
        print(f"book move -> first order request at the venue; decision interval {args.tick_ms} ms, "
              f"{'timed passes only' if args.timer_only else 'decisions on events'}, "
              f"{args.moves} moves a phase", flush=True)
        for count in counts:
            desk, _ = desk_phase(sim, receipts, mover, plain[:count], args.moves, args.tick_ms,
                                 events=not args.timer_only)
            bare, _ = bare_phase(sim, receipts, mover, plain[:count], args.moves)
            show(f"{count} market(s) quoted", desk, bare)
        if args.flood:
            count = min(counts[-1], 10)
            desk, rate = desk_phase(sim, receipts, mover, plain[:count], args.moves, args.tick_ms,
                                    flood=plain[-1], flood_rate=args.flood, events=not args.timer_only)
            bare, _ = bare_phase(sim, receipts, mover, plain[:count], args.moves, flood=plain[-1],
                                 flood_rate=args.flood)
            show(f"{count} quiet market(s), one flooding {rate:,.0f}/s", desk, bare)


if __name__ == "__main__":
    main()
