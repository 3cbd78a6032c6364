"""Shared plumbing for the live-venue tests: a quiet simulator per module, settings for a
fresh wallet, a fast venue configuration, and order requests for simulator markets."""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import Awaitable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import pytest

from contracts.domain import Side, Tif
from contracts.settings import Settings, load_settings
from engine.feeds.pacing import Backoff, RetryPolicy
from engine.feeds.wsloop import SocketOptions
from engine.venues.base import OrderRequest
from engine.venues.polymarket.venue import PolymarketVenue, VenueConfig
from simulator.testing import SimHandle, approved_simulator

T = TypeVar("T")
QUIET: dict[str, Any] = dict(agents=False, prefill_books=False, mined_delay_s=0.1, confirmed_delay_s=0.1,
                             ws_idle_timeout_s=5.0,
             # Lenient on purpose: these wallets are type 0 (EOA, set explicitly in settings_for), which
             # the venue refuses as makers for new accounts; tests/cli/test_preflight.py covers that.
             allow_eoa_makers=True)
FAST = VenueConfig(
    request_timeout_s=2.0,
    retry=RetryPolicy(attempts=4, base_s=0.01, cap_s=0.05),
    jitter=lambda: 0.5,
    socket=SocketOptions(ping_interval_s=0.5, silence_s=4.0, open_timeout_s=3.0, close_timeout_s=0.5),
    backoff=lambda: Backoff(initial_s=0.05, max_s=0.3, floor_s=0.05, healthy_after_s=1.0),
)


@pytest.fixture(scope="module")
def sim() -> Iterator[SimHandle]:
    with approved_simulator(seed=11, **QUIET) as handle:
        yield handle


def new_key() -> str:
    return "0x" + secrets.token_hex(32)


def settings_for(sim: SimHandle, key: str | None = None, **env: str) -> Settings:
    values = {"DATA_SOURCE": "simulator", "SIMULATOR_PORT": str(sim.port), "POLY_PRIVATE_KEY": key or new_key(),
              "POLY_SIGNATURE_TYPE": "0", "TRADER_ENV_FILE": "/nonexistent/test.env", **env}
    return load_settings(env=values, root=Path("/nonexistent"))


def venue_for(sim: SimHandle, config: VenueConfig = FAST, key: str | None = None, **env: str) -> PolymarketVenue:
    return PolymarketVenue(settings_for(sim, key, **env), config)


def run(coro: Awaitable[T], timeout: float = 30.0) -> T:
    async def bounded() -> T:
        return await asyncio.wait_for(coro, timeout)

    return asyncio.run(bounded())


def fresh_market(sim: SimHandle, neg_risk: bool = False, index: int = 0) -> dict[str, Any]:
    market = sim.market(neg_risk=neg_risk, index=index)
    sim.clear_book(market["condition_id"])
    return market


def tick_of(market: dict[str, Any]) -> int:
    return round(float(market["tick_size"]) * 1_000_000)


def order(market: dict[str, Any], side: Side, price: int, size: int, tif: Tif = Tif.GTC, *, outcome: str = "yes",
          **kw: Any) -> OrderRequest:
    token = market["yes_token_id"] if outcome == "yes" else market["no_token_id"]
    fields: dict[str, Any] = {"neg_risk": market["neg_risk"], "tick": tick_of(market), **kw}
    return OrderRequest(client_id=secrets.token_hex(6), condition_id=market["condition_id"], token_id=token,
                        side=side, price=price, size=size, tif=tif, **fields)


async def eventually(predicate: Any, timeout: float = 5.0, interval: float = 0.02) -> Any:
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"condition not met within {timeout} s")
        await asyncio.sleep(interval)


_COLLECTORS: set[asyncio.Task[None]] = set()  # held here: a task only weakly referenced may vanish


def collect(venue: Any, events: list[Any]) -> None:
    """Append what the venue puts on its queue of reports to `events` as it arrives (the test
    stands where the executor's inbox would drain it); ends with the test's event loop."""

    async def drain() -> None:
        while True:
            events.append(await venue.events.get())

    task = asyncio.get_running_loop().create_task(drain())
    _COLLECTORS.add(task)
    task.add_done_callback(_COLLECTORS.discard)
