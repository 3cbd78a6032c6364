"""In-process harness: run the simulator on a free port in a background thread.

    from simulator.testing import running_simulator  # approved_simulator: wallets pre-approved

    with running_simulator(seed=1, agents=False, prefill_books=False) as sim:
        client = ClobClient(sim.clob_host, 137, key=...)
        sim.place_liquidity(token_id, "SELL", "0.55", "100")

Every control method is thread-safe: it runs on the simulator's own event loop
and waits (bounded) for the result.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

from .config import SimConfig
from .http_news import script_news
from .server import Simulator

T = TypeVar("T")
CALL_TIMEOUT_S = 10.0


class SimHandle:
    def __init__(self, sim: Simulator, loop: asyncio.AbstractEventLoop) -> None:
        self.sim = sim
        self.loop = loop
        self.port = sim.port
        self.clob_host = f"http://127.0.0.1:{sim.port}"
        self.ws_host = f"ws://127.0.0.1:{sim.port}/ws/"
        self.gamma_host = f"http://127.0.0.1:{sim.port}/gamma"

    def call(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """Run ``fn(*args, **kwargs)`` on the simulator loop and return its result."""
        async def run() -> T:
            return fn(*args, **kwargs)
        return asyncio.run_coroutine_threadsafe(run(), self.loop).result(CALL_TIMEOUT_S)

    # Admin controls (see simulator/admin.py for semantics).
    def markets(self) -> list[dict[str, Any]]:
        return self.call(self.sim.admin.markets)

    def market(self, neg_risk: bool | None = None, index: int = 0) -> dict[str, Any]:
        """The ``index``-th market, optionally only neg-risk (True) or standard (False)."""
        rows = [m for m in self.markets() if neg_risk is None or m["neg_risk"] == neg_risk]
        return rows[index]

    def place_liquidity(self, token_id: str, side: str, price: Any, size: Any) -> dict[str, Any]:
        return self.call(self.sim.admin.place_liquidity, token_id, side, price, size)

    seed_level = place_liquidity

    def set_latent(self, condition_id: str, p: float) -> dict[str, Any]:
        return self.call(self.sim.admin.set_latent, condition_id, p)

    def news(self, condition_id: str, p: float, lead_s: float | None = None) -> dict[str, Any]:
        """Scripted news (``POST /_sim/news``): informed takers know ``p`` now, public ``lead_s`` later."""
        return self.call(script_news, self.sim, {"condition_id": condition_id, "p": p, "lead_s": lead_s})

    def news_status(self) -> dict[str, Any]:
        return self.call(self.sim.agents.status)

    def step_agents(self, steps: int = 1) -> None:
        """Run the agents ``steps`` times on their own clock (for tests with ``agents=False``)."""
        for _ in range(steps):
            self.call(self.sim.agents.step)

    def print_trade(self, token_id: str, price: Any, size: Any, side: str = "BUY") -> dict[str, Any]:
        return self.call(self.sim.admin.print_trade, token_id, price, size, side)

    def burst(self, wallet: str, token_id: str, count: int = 1000, price: Any = "0.5", size: Any = "1",
              side: str = "BUY") -> dict[str, Any]:
        return self.call(self.sim.admin.burst, wallet, token_id, count, price, size, side)

    def resolve(self, condition_id: str, outcome: str = "YES", payouts: list[Any] | None = None,
                keep_trading: bool = False) -> dict[str, Any]:
        return self.call(self.sim.admin.resolve, condition_id, outcome, payouts, keep_trading)

    def resolve_group(self, neg_risk_market_id: str, winner_condition_id: str) -> dict[str, Any]:
        return self.call(self.sim.admin.resolve_group, neg_risk_market_id, winner_condition_id)

    def dispute(self, condition_id: str) -> dict[str, Any]:
        return self.call(self.sim.admin.dispute, condition_id)

    def reject_proposal(self, condition_id: str) -> dict[str, Any]:
        return self.call(self.sim.admin.reject_proposal, condition_id)

    def resolution(self, condition_id: str) -> dict[str, Any]:
        return self.call(self.sim.admin.resolution, condition_id)

    def approve(self, address: str, operator: str | None = None, approved: bool = True) -> dict[str, Any]:
        return self.call(self.sim.admin.approve, address, operator, approved)

    def approve_trading(self, address: str) -> dict[str, Any]:
        """Every trading approval (pUSD and the conditional tokens) for ``address`` at once."""
        return self.call(self.sim.admin.approve_trading, address)

    def pay_rewards(self) -> dict[str, Any]:
        return self.call(self.sim.admin.pay_rewards)

    def sample_rewards(self) -> dict[str, Any]:
        return self.call(self.sim.admin.sample_rewards)

    def pay_rebates(self) -> dict[str, Any]:
        return self.call(self.sim.admin.pay_rebates)

    def activity(self, address: str) -> list[dict[str, Any]]:
        return self.call(self.sim.admin.activity, address)

    @property
    def relayer_host(self) -> str:
        return f"{self.clob_host}/relayer"

    @property
    def data_api_host(self) -> str:
        return f"{self.clob_host}/data-api"

    @property
    def rpc_url(self) -> str:
        return f"{self.clob_host}/rpc"

    @property
    def rtds_host(self) -> str:
        return f"ws://127.0.0.1:{self.sim.port}/rtds"

    def set_faults(self, **changes: Any) -> dict[str, Any]:
        return self.call(self.sim.admin.set_faults, **changes)

    def clear_faults(self) -> dict[str, Any]:
        return self.call(self.sim.admin.clear_faults)

    def configure(self, **changes: Any) -> dict[str, Any]:
        return self.call(self.sim.admin.configure, **changes)

    def fund(self, address: str, pusd: Any = "0", token_id: str | None = None,
             tokens: Any = "0", pol: Any = "0") -> dict[str, Any]:
        return self.call(self.sim.admin.fund, address, pusd, token_id, tokens, pol)

    def link_funder(self, signer: str, funder: str, signature_type: int) -> dict[str, Any]:
        return self.call(self.sim.admin.link_funder, signer, funder, signature_type)

    def balances(self, address: str) -> dict[str, Any]:
        return self.call(self.sim.admin.balances, address)

    def open_order_count(self, address: str) -> int:
        return self.call(self.sim.admin.open_order_count, address)

    def set_tick_size(self, ref: str, tick_size: Any, old_tick_size: str | None = None) -> dict[str, Any]:
        return self.call(self.sim.admin.set_tick_size, ref, tick_size, old_tick_size)

    def clear_book(self, condition_id: str) -> dict[str, Any]:
        return self.call(self.sim.admin.clear_book, condition_id)

    def set_game_start(self, condition_id: str, in_s: float, clear_book: bool = True) -> dict[str, Any]:
        return self.call(self.sim.admin.set_game_start, condition_id, in_s, clear_book)

    def state(self) -> dict[str, Any]:
        return self.call(self.sim.admin.state)

    def start_maintenance(self, seconds: float | None = None,
                          post_only_seconds: float | None = None) -> dict[str, Any]:
        return self.call(self.sim.admin.start_maintenance, seconds, post_only_seconds)

    def end_maintenance(self) -> dict[str, Any]:
        return self.call(self.sim.admin.end_maintenance)

    def maintenance(self) -> dict[str, Any]:
        return self.call(self.sim.admin.maintenance)

    def heartbeats(self) -> dict[str, dict[str, Any]]:
        """Per API key: heartbeats accepted, refused as stale, dropped answers, lapsed chains and
        the orders the dead-man switch cancelled (``GET /_sim/heartbeats``)."""
        return self.call(self.sim.admin.heartbeats)

    def trade(self, trade_id: str) -> dict[str, Any]:
        """A trade as the simulator knows it, including the taker's ``fee`` (never on the wire)."""
        return self.call(self.sim.admin.trade, trade_id)


@contextmanager
def running_simulator(seed: int = 1, agents: bool = False, port: int = 0,
                      **config: Any) -> Iterator[SimHandle]:
    """Start a simulator (any SimConfig field or fault name as keyword) and stop it after. Kalshi's
    weekly Thursday pause is off unless asked for (`kalshi_weekly_pause=True`): a test run at that
    hour must not fail for it; the tests of pauses announce their own. Nor are the Kalshi markets
    asking Polymarket ones' questions listed unless asked for (`kalshi_pair=True`): tests count the
    Kalshi markets they ask for."""
    config.setdefault("kalshi_weekly_pause", False)
    config.setdefault("kalshi_pair", False)
    cfg = SimConfig().with_updates({"seed": seed, "agents": agents, "port": port, **config})
    loop = asyncio.new_event_loop()
    ready = threading.Event()
    box: dict[str, Any] = {}

    def serve() -> None:
        asyncio.set_event_loop(loop)
        try:
            sim = Simulator(cfg)
            loop.run_until_complete(sim.start())
            box["sim"] = sim
        except BaseException as exc:  # report startup failures to the caller
            box["error"] = exc
            ready.set()
            return
        ready.set()
        loop.run_forever()
        loop.run_until_complete(sim.stop())
        loop.close()

    thread = threading.Thread(target=serve, name=f"simulator-{seed}", daemon=True)
    thread.start()
    if not ready.wait(30):
        raise RuntimeError("simulator did not start within 30 s")
    if "error" in box:
        raise RuntimeError("simulator failed to start") from box["error"]
    try:
        yield SimHandle(box["sim"], loop)
    finally:
        loop.call_soon_threadsafe(loop.stop)
        thread.join(timeout=15)


@contextmanager
def approved_simulator(seed: int = 1, agents: bool = False, port: int = 0,
                       **config: Any) -> Iterator[SimHandle]:
    """A simulator whose wallets all read as approved for trading (``pre_approved_wallets``): for tests
    whose subject is not approvals. The venue, and the default simulator, refuse a wallet's orders until
    it approved pUSD and the conditional tokens (``python -m engine preflight --approve``)."""
    with running_simulator(seed, agents, port, pre_approved_wallets=True, **config) as handle:
        yield handle

