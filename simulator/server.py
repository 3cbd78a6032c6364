"""App assembly and lifecycle: one aiohttp server on 127.0.0.1 for CLOB REST,
Gamma (``/gamma``), the two WebSocket channels (``/ws/...``) and the admin API."""

from __future__ import annotations

import asyncio
import collections
import dataclasses
import logging
import random
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

from aiohttp import web
from aiohttp.typedefs import Middleware

from . import admin as admin_routes
from . import (
    data_api,
    gamma,
    geoblock,
    http_market,
    http_news,
    http_rewards,
    http_trading,
    leaderboard,
    polls,
    relayer,
    replay,
    rpc,
)
from .accounts import Ledger
from .activity import ActivityLog
from .admin import Admin
from .agents import Agents
from .approvals import Approvals
from .auth import Auth
from .chain import AUTO_REDEEM_OPERATOR, Chain
from .config import SimConfig, kalshi_crypto_series
from .exchange import Exchange
from .faults import Faults
from .fees import assign_fees, assign_sports_fees
from .heartbeats import Heartbeats
from .history import PriceHistory
from .httputil import SIM_KEY, error_middleware
from .kalshi import conformance as kalshi_conformance
from .kalshi import http as kalshi_http
from .kalshi import http_accounts as kalshi_accounts  # noqa: F401  (its routes join kalshi_http's table)
from .kalshi import http_admin as kalshi_admin
from .kalshi import http_portfolio as kalshi_portfolio  # noqa: F401  (its routes join kalshi_http's table)
from .kalshi.side import KalshiSide
from .kalshi.twin import twins_of
from .maintenance import CLOSED, Maintenance
from .market_payloads import book_message, now_ms
from .markets import Market, build_markets, choose_markets, price_to_tick
from .protocol_v2 import assign_v2
from .public_trades import PublicTape
from .ratelimit import RateLimiter
from .rebates import Rebates
from .relayer import Relayer
from .replay import load_recording
from .rewards import Program, Rewards, build_programs
from .rpc import Rpc
from .rtds import Rtds
from .settlement import Settlement
from .signer_limits import SignerLimits
from .sports import assign_sports, clear_started
from .trades import TradeLog
from .units import to_micro
from .updown import UpDown
from .updown import parse_series as parse_updown
from .views import quote
from .ws import Hub

log = logging.getLogger("simulator")
KALSHI_TICK_S = 0.2  # how often Kalshi's side moves with time (pauses, closes, payouts)
SWEEP_INTERVAL_S = 0.25
MAINTENANCE_TICK_S = 0.05  # how soon a scheduled phase change is noticed (heartbeats, agents)


class Simulator:
    """All venue state plus the server; every mutation happens on ``self.loop``."""

    def __init__(self, cfg: SimConfig) -> None:
        self.cfg = cfg
        self.start_ts = time.time()
        self.port = 0
        self.loop: asyncio.AbstractEventLoop | None = None
        seed = cfg.seed
        recording = load_recording(Path(cfg.replay_db or "var/trader.db"), cfg.replay) if cfg.replay else None
        if recording is not None:  # the session's markets, with their recorded ticks, sizes and fees
            self.markets = replay.build_markets(recording, self.start_ts)
        else:
            self.markets = build_markets(cfg.markets, random.Random(f"markets:{seed}"), self.start_ts,
                                         cfg.end_after_s)
            assign_fees(self.markets, cfg.fee_rate, cfg.fee_exponent)
        self.sports = assign_sports(self.markets, cfg.sports_markets, cfg.sports_delay_s)
        if recording is None:  # (a replay keeps the session's recorded fees)
            assign_sports_fees([m for m in self.markets if m.game_start_ts is not None], cfg.fee_rate)
        self.v2_markets = assign_v2(self.markets, cfg.v2_markets, derive_ids=recording is None)
        self.maintenance = Maintenance(cfg.maintenance_schedule, cfg.maintenance_seconds,
                                       cfg.maintenance_post_only_seconds, self.start_ts)
        self.maintenance.listeners.append(self._maintenance_changed)
        self.rate_limiter = RateLimiter(enabled=cfg.rate_limits)
        self.signer_limits = SignerLimits(cfg.signer_tier, cfg.rate_limits, cfg.retry_after_http_date,
                                          warn_only=cfg.signer_limits_warn_only)
        self.ledger = Ledger(to_micro(cfg.starting_balance))
        self.faults = Faults(cfg.faults, seed)
        self.auth = Auth(seed, cfg.auth_max_skew_s)
        self.funders: dict[tuple[str, int], str] = {}  # (signer EOA, signature type) -> funder
        self.order_latency: collections.deque[float] = collections.deque(maxlen=10_000)  # seconds
        self.hub = Hub(self.auth, self.faults, self._snapshot, cfg.ws_idle_timeout_s)
        self.trades = TradeLog(self.ledger, self.hub, random.Random(f"trades:{seed}"), self._schedule,
                               cfg.mined_delay_s, cfg.confirmed_delay_s, cfg.fail_rate, cfg.retrying_rate,
                               cfg.not_broadcasted_rate)
        self.tape = PublicTape()  # the Data API's public trades: each trade once it is confirmed on chain
        self.trades.confirmed_listeners.append(self.tape.add)
        self.rtds = Rtds(self)  # the real-time data socket: every trade as it is matched, Chainlink prices
        self.trades.matched_listeners.append(self.rtds.matched)
        self.exchange = Exchange(self.markets, self.ledger, self.trades, self.hub, self._schedule)
        self.activity = ActivityLog()
        self.settlement = Settlement(self.exchange, self.activity, self._schedule,
                                     resolution_delay_s=cfg.resolution_delay_s, dispute_delay_s=cfg.dispute_delay_s,
                                     auto_redeem_delay_s=cfg.auto_redeem_delay_s,
                                     auto_redeem_operator=AUTO_REDEEM_OPERATOR)
        self.approvals = Approvals(self.settlement, cfg.pre_approved_wallets)
        self.chain = Chain(self.exchange, self.settlement, self.approvals, self.funders)
        self.relayer = Relayer(self, cfg.relayer_delay_s)
        self.rpc = Rpc(self, cfg.block_time_s)
        self.rebates = Rebates(self.ledger, self.activity, to_micro(cfg.rebate_minimum), cfg.rebate_period_s)
        self.trades.confirmed_listeners.append(self.rebates.on_confirmed)
        self.rewards = Rewards(self._reward_programs(cfg), self.exchange.books, self.exchange.markets, self.ledger,
                               self.activity, to_micro(cfg.reward_minimum), cfg.reward_period_s, cfg.reward_sample_s)
        self.history = PriceHistory()
        self._ids = random.Random(f"ids:{seed}")
        self.heartbeats = Heartbeats(cfg.heartbeat_timeout_s, self._heartbeat_expired, self._uuid,
                                     paused=lambda: self.maintenance.phase() == CLOSED)
        self.agents = Agents(self.exchange, random.Random(f"agents:{seed}"), seed, cfg.agent_interval_s,
                             self.maintenance.phase, cfg.market, self.start_ts)
        self.polls = polls.PollBook(seed, cfg.market.polls_every_s)  # the poll feed (polls.py)
        self.admin = Admin(self)
        self.kalshi = KalshiSide(seed, cfg.kalshi_markets, to_micro(cfg.starting_balance), cfg.auth_max_skew_s,
                                 cfg.rate_limits, cfg.end_after_s, parlays=cfg.kalshi_parlays,
                                 weekly_pause=cfg.kalshi_weekly_pause, crypto=kalshi_crypto_series(cfg.kalshi_crypto),
                                 spot_vol=cfg.spot_vol,
                                 twins=twins_of(self.markets) if cfg.kalshi_pair and recording is None else ())
        series = parse_updown(cfg.updown_series)
        self.updown = UpDown(self, series, seed) if series and recording is None else None
        if self.updown is not None:
            self.updown.spot.listeners.append(self.rtds.chainlink)
        self._runner: web.AppRunner | None = None
        self._tasks: list[asyncio.Task[Any]] = []
        self.replay = None if recording is None else replay.Replayer(
            self.exchange, Path(cfg.replay_db or ""), recording, cfg.speed, self.hub.watching)
        history_rng = random.Random(f"history:{seed}")
        for market in self.markets if recording is None else ():  # a replay has only its recording's past
            if market.quiet:
                continue  # generated, never traded: no past either
            market.last_trade_price = price_to_tick(market.latent, market.tick)
            self.history.backfill(market, history_rng, int(self.start_ts), cfg.history_backfill_s)

    # -- wiring ------------------------------------------------------------------------

    def _schedule(self, delay: float, fn: Callable[[], object]) -> None:
        assert self.loop is not None
        self.loop.call_later(delay, fn)

    def _reward_programs(self, cfg: SimConfig) -> list[Program]:
        even = {m.condition_id for m in self.markets[::2] if not m.quiet}
        chosen = choose_markets(self.markets, cfg.reward_markets, "reward_markets", lambda m: m.condition_id in even)
        programs = build_programs(chosen, cfg.reward_pool, cfg.reward_max_spread, cfg.reward_min_size)
        for market, program in zip(chosen, programs, strict=False):
            market.reward = program
        return programs

    def _uuid(self) -> str:
        return str(uuid.UUID(int=self._ids.getrandbits(128), version=4))

    def _heartbeat_expired(self, owner: str) -> int:
        canceled = self.exchange.cancel(self.exchange.open_orders(owner))
        log.info("heartbeat missed by %s: canceled %d orders", owner, len(canceled))
        return len(canceled)

    def _maintenance_changed(self, old: str, new: str) -> None:
        """Dead-man timers stand still while nobody can reach the heartbeat endpoint."""
        log.info("maintenance: %s -> %s", old, new)
        if new == CLOSED:
            self.heartbeats.suspend()
        else:
            self.heartbeats.resume()

    def _snapshot(self, token_id: str) -> dict[str, Any] | None:
        market = self.exchange.market_for_token(token_id)
        if market is None:
            return None
        book = self.exchange.books[market.condition_id]
        return book_message(market, market.token(token_id), book, now_ms())

    def reconfigure(self, changes: dict[str, Any]) -> None:
        self.cfg = dataclasses.replace(self.cfg, **changes)
        self.trades.fail_rate = self.cfg.fail_rate
        self.trades.retrying_rate = self.cfg.retrying_rate
        self.trades.not_broadcasted_rate = self.cfg.not_broadcasted_rate
        self.trades.mined_delay_s = self.cfg.mined_delay_s
        self.trades.confirmed_delay_s = self.cfg.confirmed_delay_s
        self.heartbeats.timeout_s = self.cfg.heartbeat_timeout_s
        self.hub.idle_timeout_s = self.cfg.ws_idle_timeout_s
        self.rate_limiter.enabled = self.cfg.rate_limits
        self.kalshi.rate_limits = self.cfg.rate_limits
        self.signer_limits.enabled = self.cfg.rate_limits
        self.settlement.resolution_delay_s = self.cfg.resolution_delay_s
        self.settlement.dispute_delay_s = self.cfg.dispute_delay_s
        self.settlement.auto_redeem_delay_s = self.cfg.auto_redeem_delay_s
        self.relayer.delay_s = self.cfg.relayer_delay_s
        self.rpc.block_time_s = self.cfg.block_time_s

    def build_app(self) -> web.Application:
        # Outermost first: faults (the network), rate limits (Cloudflare), then the matching
        # engine's maintenance (425), then the routes.
        middlewares: list[Middleware] = [error_middleware, self.faults.middleware(), self.rate_limiter.middleware(),
                       geoblock.middleware(), self.maintenance.middleware()]
        if self.kalshi.schema_watch is not None:  # a test session: every Kalshi answer checked as it leaves
            middlewares.insert(0, kalshi_conformance.middleware(self.kalshi.schema_watch))
        app = web.Application(middlewares=middlewares, client_max_size=8 * 2**20)
        app[SIM_KEY] = self
        for module in (http_market, http_trading, http_rewards, gamma, admin_routes, http_news, relayer, rpc,
                       data_api, leaderboard, kalshi_http, kalshi_admin, geoblock, polls):
            app.add_routes(module.routes)
        for path in ("/ws/market", "/ws/market/"):
            app.router.add_get(path, self.hub.handle_market)
        for path in ("/ws/user", "/ws/user/"):
            app.router.add_get(path, self.hub.handle_user)
        if self.updown is not None:  # the exchanges' spot ticker streams pricing the series
            self.updown.spot.routes(app)
        self.rtds.routes(app)
        return app

    def add_market(self, market: Market) -> None:
        """A market listed while the venue runs: Gamma, the CLOB and the channels know it at once."""
        self.markets.append(market)
        self.exchange.add_market(market)

    # -- lifecycle ---------------------------------------------------------------------

    async def start(self) -> int:
        """Bind, start background tasks; returns the port (useful with port 0)."""
        self.loop = asyncio.get_running_loop()
        if self.cfg.prefill_books and self.replay is None:
            self.agents.prefill()
        self._runner = web.AppRunner(self.build_app(), access_log=None, handle_signals=False)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.cfg.host, self.cfg.port, reuse_address=True)
        await site.start()
        server = site._server  # aiohttp exposes the bound sockets only here
        sockets = getattr(server, "sockets", None)  # an asyncio Server's (AbstractServer does not declare it)
        self.port = sockets[0].getsockname()[1] if sockets else self.cfg.port
        self.maintenance.tick()
        self._spawn(self._sweep())
        self._spawn(self._watch_maintenance())
        self._spawn(self._kalshi_clock())
        self._spawn(self._sample_history())
        self._spawn(self._pay_rebates())
        self._spawn(self._sample_rewards())
        self._spawn(self._pay_rewards())
        if self.cfg.agents and self.replay is None:
            self._spawn(self.agents.run())
        if self.replay is not None:
            self._spawn(self.replay.run())
        if self.updown is not None:
            self._spawn(self.updown.run())
        if self.cfg.resolve_after_s is not None:
            self._spawn(self._resolve_later(self.cfg.resolve_after_s))
        return self.port

    def _clear_book(self, market: Market) -> int:
        """A game started: every resting order of its market is cancelled (clearBookOnStart)."""
        return len(self.exchange.cancel(list(self.exchange.books[market.condition_id].orders())))

    def _spawn(self, coro: Any) -> None:
        self._tasks.append(asyncio.create_task(coro))

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks.clear()
        self.heartbeats.stop()
        await self.hub.close_all()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def _sweep(self) -> None:
        while True:
            await asyncio.sleep(SWEEP_INTERVAL_S)
            self.exchange.expire_due(time.time(), self.cfg.gtd_buffer_s)
            clear_started(self.markets, time.time(), self._clear_book)

    async def _kalshi_clock(self) -> None:
        """Kalshi's side moves with time: pauses begin, markets close, determined ones are paid."""
        while True:
            await asyncio.sleep(KALSHI_TICK_S)
            self.kalshi.tick()

    async def _watch_maintenance(self) -> None:
        while True:
            await asyncio.sleep(MAINTENANCE_TICK_S)
            self.maintenance.tick()

    async def _sample_history(self) -> None:
        while True:
            now = int(time.time())
            for market in self.markets:
                if not market.closed:
                    mid = quote(self.exchange.books[market.condition_id], market.yes)[2]
                    self.history.record(market, now, mid)
            await asyncio.sleep(self.cfg.history_interval_s)

    async def _pay_rebates(self) -> None:
        await self._pay_daily(self.rebates, self.cfg.rebate_period_s, "maker rebates")

    async def _sample_rewards(self) -> None:
        while True:
            await asyncio.sleep(self.rewards.sample_s)
            self.rewards.sample(time.time())

    async def _pay_rewards(self) -> None:
        await self._pay_daily(self.rewards, self.cfg.reward_period_s, "liquidity rewards")

    async def _pay_daily(self, program: Rebates | Rewards, period_s: float, what: str) -> None:
        """Pay `program` on its schedule (a daily period closes only the days that ended)."""
        while True:
            await asyncio.sleep(program.next_payout_in(time.time()))
            paid = program.pay(closing_today=period_s != 86_400)
            if paid:
                log.info("%s paid to %d wallet(s)", what, len(paid))

    async def _resolve_later(self, delay: float) -> None:
        await asyncio.sleep(delay)
        self.admin.resolve_all(random.Random(f"resolve:{self.cfg.seed}"))
        log.info("resolutions proposed after %.0f s (final %.0f s later)", delay, self.cfg.resolution_delay_s)

    def urls(self) -> dict[str, str]:
        base = f"{self.cfg.host}:{self.port}"
        return {"clob_host": f"http://{base}", "ws_host": f"ws://{base}/ws/",
                "gamma_host": f"http://{base}/gamma", "relayer_host": f"http://{base}/relayer",
                "data_api_host": f"http://{base}/data-api", "rpc_url": f"http://{base}/rpc",
                "kalshi_host": f"http://{base}/trade-api/v2"}
