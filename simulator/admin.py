"""Control surface for tests and benchmarks, in-process and over ``/_sim/...``.

``Admin`` methods run on the server loop (the harness marshals calls there); the
HTTP routes are thin JSON wrappers around them. Amounts are human decimal strings
(``"12.5"``) or numbers; results are JSON-ready dicts.
"""

from __future__ import annotations

import random
import re
import time
from typing import TYPE_CHECKING, Any

from aiohttp import web
from eth_utils import keccak

from .agents import agent_address
from .approvals import MAX_UINT, TRADING_SPENDERS, V2_OPERATORS
from .chain import AUTO_REDEEM_OPERATOR, POL_WEI
from .httputil import SIM_KEY, HttpError, ok, parse_json
from .markets import Market, Token
from .orders import BUY, SELL, Order
from .settlement import Revert, checked_payouts, payouts_of
from .units import AmountError, fmt, to_micro

if TYPE_CHECKING:
    from .server import Simulator

LIQUIDITY_OWNER = "sim-liquidity"
MAX_BURST = 5_000
RUNTIME_SETTINGS = ("fail_rate", "retrying_rate", "not_broadcasted_rate", "mined_delay_s", "confirmed_delay_s",
                    "heartbeat_timeout_s", "ws_idle_timeout_s", "rate_limits", "resolution_delay_s",
                    "dispute_delay_s", "auto_redeem_delay_s", "relayer_delay_s", "block_time_s",
                    "location", "geoblock_website_only")  # (a region answer moved, as the venue's groups do)


class AdminError(ValueError):
    pass


def _micro(value: Any, name: str) -> int:
    try:
        return to_micro(value)
    except AmountError as exc:
        raise AdminError(f"{name}: {exc}") from None


class Admin:
    def __init__(self, sim: Simulator) -> None:
        self.sim = sim
        self.ex = sim.exchange
        self.liquidity_address = agent_address("liquidity", sim.cfg.seed)
        self.ex.ledger.account(self.liquidity_address, internal=True)
        self._n = 0

    # -- lookups -------------------------------------------------------------------

    def _market(self, condition_id: str) -> Market:
        market = self.ex.markets.get(condition_id)
        if market is None:
            raise AdminError(f"unknown condition id {condition_id}")
        return market

    def _token(self, token_id: str) -> tuple[Market, Token]:
        market = self.ex.market_for_token(str(token_id))
        if market is None:
            raise AdminError(f"unknown token id {token_id}")
        return market, market.token(str(token_id))

    def markets(self) -> list[dict[str, Any]]:
        return [{
            "condition_id": m.condition_id, "question": m.question, "gamma_id": m.gamma_id,
            "tokens": [{"token_id": t.token_id, "outcome": t.outcome} for t in m.tokens],
            "yes_token_id": m.yes.token_id, "no_token_id": m.no.token_id,
            "tick_size": fmt(m.tick), "min_size": fmt(m.min_size), "neg_risk": m.neg_risk,
            "neg_risk_market_id": m.neg_risk_market_id, "closed": m.closed, "winner": m.winner,
            "payouts": [fmt(p) for p in m.payouts] if m.payouts else None,
            "latent": m.latent, "fee_rate": fmt(m.fee_rate), "fee_exponent": m.fee_exponent,
            "sports": m.seconds_delay > 0, "seconds_delay": m.seconds_delay,
            "taker_delay_ms": round(m.taker_delay_s * 1000, 3),
            "resolution": m.uma_status or "open",
            "rewarded": m.reward is not None, "protocol_v2": m.protocol_v2,
        } for m in self.ex.markets.values()]

    def trade(self, trade_id: str) -> dict[str, Any]:
        """What the wire does not say about a trade: the fee its taker paid."""
        trade = self.sim.trades.by_id.get(trade_id)
        if trade is None:
            raise AdminError(f"unknown trade id {trade_id}")
        return {"id": trade.id, "status": trade.status, "market": trade.market.condition_id,
                "taker_order_id": trade.taker.id, "size": fmt(trade.size), "fee": fmt(trade.fee)}

    # -- liquidity and prices --------------------------------------------------------

    def _internal_order(self, market: Market, token: Token, side: str, price: int, size: int,
                        owner: str, address: str, order_type: str = "GTC") -> Order:
        self._n += 1
        oid = "0x" + keccak(text=f"admin-order:{self.sim.cfg.seed}:{self._n}").hex()
        return Order(id=oid, market=market, token=token, side=side, price=price, size=size,
                     order_type=order_type, owner=owner, maker_address=address, created_at=0, internal=True)

    def place_liquidity(self, token_id: str, side: str, price: Any, size: Any) -> dict[str, Any]:
        """A GTC order from the internal liquidity account (it trades if it crosses)."""
        market, token = self._token(token_id)
        side = side.upper()
        if side not in (BUY, SELL):
            raise AdminError("side must be BUY or SELL")
        order = self._internal_order(market, token, side, _micro(price, "price"), _micro(size, "size"),
                                     LIQUIDITY_OWNER, self.liquidity_address)
        result = self.ex.place(order)
        return {"order_id": order.id, "status": order.status, "matched": fmt(order.matched),
                "trade_id": result.trade.id if result.trade else None}

    def set_latent(self, condition_id: str, p: float) -> dict[str, Any]:
        market = self._market(condition_id)
        if not 0 < float(p) < 1:
            raise AdminError("p must be in (0, 1)")
        self.sim.agents.set_latent(market, float(p))
        return {"condition_id": condition_id, "latent": market.latent}

    def print_trade(self, token_id: str, price: Any, size: Any, side: str = BUY) -> dict[str, Any]:
        """Make a trade print at ``price`` off the book, between two internal accounts."""
        market, token = self._token(token_id)
        side = side.upper()
        px, qty = _micro(price, "price"), _micro(size, "size")
        taker = self._internal_order(market, token, side, px, qty, LIQUIDITY_OWNER, self.liquidity_address)
        maker = self._internal_order(market, token, SELL if side == BUY else BUY, px, qty,
                                     LIQUIDITY_OWNER + "-2", agent_address("liquidity-2", self.sim.cfg.seed))
        self.ex.ledger.account(maker.maker_address, internal=True)
        trade = self.ex.print_trade(token, px, qty, side, taker, maker)
        return {"trade_id": trade.id, "price": fmt(px), "size": fmt(qty)}

    def burst(self, wallet: str, token_id: str, count: Any = 1000, price: Any = "0.5", size: Any = "1",
              side: str = BUY) -> dict[str, Any]:
        """``count`` trades at once in which ``wallet`` takes ``side`` of ``token_id`` (a followed
        wallet's burst), each its own transaction, the n-th of ``size`` + n/100 shares: every one on
        the real-time trade stream the moment it prints and on the Data API once confirmed."""
        if not isinstance(wallet, str) or not re.fullmatch(r"0x[0-9a-fA-F]{40}", wallet):
            raise AdminError("wallet must be a wallet address (0x and 40 hex digits)")
        if isinstance(count, bool) or not isinstance(count, int) or not 1 <= count <= MAX_BURST:
            raise AdminError(f"count must be a whole number from 1 to {MAX_BURST}")
        known = self.ex.ledger.accounts.get(wallet.lower())
        if known is not None and not known.internal:
            raise AdminError("that wallet is a participant's (it trades with an API key): burst from another")
        market, token = self._token(token_id)
        side = side.upper()
        if side not in (BUY, SELL):
            raise AdminError("side must be BUY or SELL")
        px, qty = _micro(price, "price"), _micro(size, "size")
        self.ex.ledger.account(wallet, internal=True)
        counterparty = agent_address("liquidity-2", self.sim.cfg.seed)
        self.ex.ledger.account(counterparty, internal=True)
        hashes, address = [], wallet.lower()
        for n in range(count):
            amount = qty + n * 10_000
            taker = self._internal_order(market, token, side, px, amount, f"sim-wallet-{address}", address)
            maker = self._internal_order(market, token, SELL if side == BUY else BUY, px, amount,
                                         LIQUIDITY_OWNER + "-2", counterparty)
            hashes.append(self.ex.print_trade(token, px, amount, side, taker, maker).tx_hash)
        return {"trades": count, "wallet": address, "first_tx": hashes[0], "last_tx": hashes[-1]}

    def set_tick_size(self, ref: str, tick_size: Any, old_tick_size: str | None = None) -> dict[str, Any]:
        """Change a market's tick; ``old_tick_size`` is what the event says of the old tick
        (default: the real one; "" as the venue sometimes sends it)."""
        market = self.ex.markets.get(ref) or self._token(ref)[0]
        tick = _micro(tick_size, "tick_size")
        if fmt(tick) not in ("0.1", "0.01", "0.005", "0.0025", "0.001", "0.0001"):
            raise AdminError("unsupported tick size")
        if old_tick_size is not None and not isinstance(old_tick_size, str):
            raise AdminError("old_tick_size must be a string (\"\" is allowed)")
        self.ex.set_tick(market, tick, old_tick_size)
        return {"condition_id": market.condition_id, "tick_size": fmt(tick)}

    def clear_book(self, condition_id: str) -> dict[str, Any]:
        market = self._market(condition_id)
        canceled = self.ex.cancel(list(self.ex.books[market.condition_id].orders()))
        return {"canceled": len(canceled)}

    def set_game_start(self, condition_id: str, in_s: float, clear_book: bool = True) -> dict[str, Any]:
        """A game's start ``in_s`` seconds from now (Gamma gameStartTime); with ``clear_book`` the
        book is cleared at that moment (clearBookOnStart)."""
        market = self._market(condition_id)
        try:
            delay = float(in_s)
        except (TypeError, ValueError):
            raise AdminError("in_s must be a number of seconds") from None
        market.game_start_ts = time.time() + delay
        market.clear_book_on_start = bool(clear_book)
        market.book_cleared = False
        return {"condition_id": market.condition_id, "game_start_ts": market.game_start_ts,
                "clear_book_on_start": market.clear_book_on_start}

    # -- resolution ----------------------------------------------------------------------

    def resolve(self, condition_id: str, outcome: str = "YES", payouts: Any = None,
                keep_trading: Any = False) -> dict[str, Any]:
        """Propose a resolution: ``outcome`` (YES/NO, an outcome name or a token id) wins all, or
        ``payouts`` ([YES, NO] shares of 1, e.g. [0.5, 0.5] for a canceled game) is the vector.
        Trading stops now (``keep_trading: true``: it goes on until the outcome is final); payouts
        are reported ``resolution_delay_s`` later, paid only on redeem."""
        market = self._market(condition_id)
        if not isinstance(keep_trading, bool):
            raise AdminError("keep_trading must be true or false")
        vector = payouts_of(_winner(market, str(outcome))) if payouts is None else _payouts(payouts)
        try:
            self.sim.settlement.propose(market, vector, keep_trading=keep_trading)
        except Revert as exc:
            raise AdminError(str(exc)) from None
        return self.sim.settlement.status(market)

    def dispute(self, condition_id: str) -> dict[str, Any]:
        """Dispute a proposed resolution: finality moves ``dispute_delay_s`` out."""
        market = self._market(condition_id)
        try:
            self.sim.settlement.dispute(market)
        except Revert as exc:
            raise AdminError(str(exc)) from None
        return self.sim.settlement.status(market)

    def reject_proposal(self, condition_id: str) -> dict[str, Any]:
        """Vote a disputed proposal down: the market trades again, the dispute left in its trail."""
        market = self._market(condition_id)
        try:
            self.sim.settlement.reject(market)
        except Revert as exc:
            raise AdminError(str(exc)) from None
        return self.sim.settlement.status(market)

    def resolution(self, condition_id: str) -> dict[str, Any]:
        return self.sim.settlement.status(self._market(condition_id))

    def approve(self, address: str, operator: str | None = None, approved: bool = True) -> dict[str, Any]:
        """Set an ERC-1155 approval on the wallet's behalf (default: the auto-redeem operator)."""
        who = operator or AUTO_REDEEM_OPERATOR
        self.sim.settlement.approve(address, who, bool(approved))
        return {"address": address.lower(), "operator": who, "approved": self.sim.settlement.is_approved(address, who)}

    def approve_trading(self, address: str) -> dict[str, Any]:
        """Make every trading approval for a wallet, as if it had sent them (tests whose subject is not
        approvals; ``preflight --approve`` sends them for real)."""
        for spender in TRADING_SPENDERS:
            self.sim.approvals.approve_pusd(address, spender, MAX_UINT)
            self.sim.settlement.approve(address, spender, True, v2=spender in V2_OPERATORS)
        return {"address": address.lower(), "approved": list(TRADING_SPENDERS)}

    def pay_rewards(self) -> dict[str, Any]:
        """Close every reward day now (today's included) and pay the makers whose day reaches the minimum."""
        return {"paid": {maker: fmt(amount) for maker, amount in self.sim.rewards.pay(closing_today=True)}}

    def sample_rewards(self) -> dict[str, Any]:
        """Take one scoring sample of every program market now (the venue's once-a-minute sample)."""
        self.sim.rewards.sample(time.time())
        return {"sampled": len(self.sim.rewards.programs)}

    def pay_rebates(self) -> dict[str, Any]:
        """Close every rebate pool now (today's included) and pay the makers owed the minimum."""
        return {"paid": {maker: fmt(amount) for maker, amount in self.sim.rebates.pay(closing_today=True)},
                "owed": {maker: fmt(amount) for maker, amount in self.sim.rebates.owed.items() if amount}}

    def activity(self, address: str) -> list[dict[str, Any]]:
        return [item.as_json() for item in self.sim.activity.of(address)]

    def resolve_group(self, neg_risk_market_id: str, winner_condition_id: str) -> dict[str, Any]:
        """Resolve a neg-risk group: one market YES, every other member NO."""
        members = [m for m in self.ex.markets.values() if m.neg_risk_market_id == neg_risk_market_id]
        if not members or winner_condition_id not in {m.condition_id for m in members}:
            raise AdminError("unknown neg-risk group or winner")
        for m in members:
            self.resolve(m.condition_id, "YES" if m.condition_id == winner_condition_id else "NO")
        return {"neg_risk_market_id": neg_risk_market_id, "winner": winner_condition_id}

    def resolve_all(self, rng: random.Random) -> None:
        """Scheduled end of the markets: each to the outcome the agents' market implies (the path
        of the informed market; a draw from the belief in the calm one)."""
        for kind, ref, winner in self.sim.agents.winners(rng):
            if kind == "group":
                self.resolve_group(ref, winner)
            else:
                self.resolve(ref, winner)

    # -- accounts, faults, settings ----------------------------------------------------------

    def fund(self, address: str, pusd: Any = "0", token_id: str | None = None,
             tokens: Any = "0", pol: Any = "0") -> dict[str, Any]:
        """Add pUSD, outcome tokens, or POL (gas for a plain wallet's own transactions)."""
        if token_id is not None:
            self._token(token_id)
        self.ex.ledger.fund(address, _micro(pusd, "pusd"), token_id, _micro(tokens, "tokens"))
        added_pol = _micro(pol, "pol") * (POL_WEI // 1_000_000)
        self.sim.chain.pol[address.lower()] = self.sim.chain.pol.get(address.lower(), 0) + added_pol
        return self.balances(address)

    def link_funder(self, signer: str, funder: str, signature_type: int) -> dict[str, Any]:
        """Tell the simulator which proxy/safe a signer trades for (balance queries)."""
        self.sim.funders[(signer.lower(), int(signature_type))] = funder.lower()
        return {"signer": signer.lower(), "funder": funder.lower(), "signature_type": int(signature_type)}

    def balances(self, address: str) -> dict[str, Any]:
        acct = self.ex.ledger.account(address)
        return {
            "address": acct.address, "pusd": fmt(acct.pusd), "reserved_pusd": fmt(acct.reserved_pusd),
            "available_pusd": fmt(acct.available_pusd()),
            "tokens": {t: fmt(v) for t, v in acct.tokens.items() if v},
            "reserved_tokens": {t: fmt(v) for t, v in acct.reserved_tokens.items() if v},
            "open_orders": self.open_order_count(address),
            "pol": fmt(self.sim.chain.pol.get(acct.address, 0) // (POL_WEI // 1_000_000)),
        }

    def open_order_count(self, address: str) -> int:
        return len(self.ex.open_orders_of_address(address))

    def set_faults(self, **changes: Any) -> dict[str, Any]:
        try:
            self.sim.faults.update(changes)
        except ValueError as exc:
            raise AdminError(str(exc)) from None
        return self.sim.faults.as_dict()

    def clear_faults(self) -> dict[str, Any]:
        self.sim.faults.clear()
        return self.sim.faults.as_dict()

    def faults(self) -> dict[str, Any]:
        return self.sim.faults.as_dict()

    def configure(self, **changes: Any) -> dict[str, Any]:
        """Change a few settings at runtime (affects new trades / heartbeats / sockets)."""
        unknown = set(changes) - set(RUNTIME_SETTINGS)
        if unknown:
            raise AdminError(f"not changeable at runtime: {sorted(unknown)}")
        self.sim.reconfigure(changes)
        return {k: getattr(self.sim.cfg, k) for k in RUNTIME_SETTINGS}

    def maintenance(self) -> dict[str, Any]:
        return self.sim.maintenance.status()

    def start_maintenance(self, seconds: Any = None, post_only_seconds: Any = None) -> dict[str, Any]:
        """A maintenance window from now: ``seconds`` of 425, then ``post_only_seconds`` post-only
        (each defaults to the configured scheduled window's)."""
        cfg = self.sim.cfg
        try:
            closed = float(cfg.maintenance_seconds if seconds is None else seconds)
            post_only = float(cfg.maintenance_post_only_seconds if post_only_seconds is None
                              else post_only_seconds)
            self.sim.maintenance.begin(closed, post_only)
        except ValueError as exc:
            raise AdminError(str(exc)) from None
        return self.maintenance()

    def end_maintenance(self) -> dict[str, Any]:
        self.sim.maintenance.end()
        return self.maintenance()

    def state(self) -> dict[str, Any]:
        cfg = self.sim.cfg
        return {"port": self.sim.port, "seed": cfg.seed, "markets": len(self.ex.markets),
                "agents": cfg.agents, "open_orders": sum(len(v) for v in self.ex.open_by_owner.values()),
                "pending_trades": len(self.sim.trades.pending), "order_latency_ms": self.order_latency(),
                "maintenance_phase": self.sim.maintenance.phase(), "allow_eoa_makers": cfg.allow_eoa_makers,
                "rate_limited": self.sim.rate_limiter.refused, "signer_rate_limited": self.sim.signer_limits.refused,
                "signer_rate_warned": self.sim.signer_limits.warned,
                "signer_tier": cfg.signer_tier,
                "replay": self.sim.replay.status() if self.sim.replay is not None else None,
                **{k: getattr(cfg, k) for k in RUNTIME_SETTINGS}}

    def heartbeats(self) -> dict[str, dict[str, int | bool]]:
        """Per API key: heartbeats accepted, refused as stale, answers lost (a fault), chains
        that lapsed, and the orders the dead-man switch cancelled."""
        return self.sim.heartbeats.report()

    def order_latency(self) -> dict[str, float | int]:
        """Server-side POST /order handling time (auth, signature, matching, response)."""
        samples = sorted(self.sim.order_latency)
        if not samples:
            return {"count": 0}
        return {"count": len(samples), **{name: _percentile_ms(samples, q) for name, q in
                                          (("p50", 0.5), ("p90", 0.9), ("p99", 0.99), ("max", 1.0))}}


def _percentile_ms(sorted_s: list[float], q: float) -> float:
    return round(sorted_s[min(len(sorted_s) - 1, int(q * len(sorted_s)))] * 1000, 3)


def _payouts(values: Any) -> tuple[int, int]:
    if not isinstance(values, list) or len(values) != 2:
        raise AdminError("payouts must be a list of two numbers, YES first (e.g. [0.5, 0.5])")
    try:
        yes, no = (to_micro(v) for v in values)
    except (AmountError, ArithmeticError, ValueError) as exc:
        raise AdminError(f"payouts: {exc}") from None
    try:
        return checked_payouts((yes, no))
    except Revert as exc:
        raise AdminError(str(exc)) from None


def _winner(market: Market, outcome: str) -> Token:
    key = outcome.strip()
    if key.upper() in ("YES", "1", "TRUE"):
        return market.yes
    if key.upper() in ("NO", "0", "FALSE"):
        return market.no
    for token in market.tokens:
        if key in (token.token_id, token.outcome):
            return token
    raise AdminError(f"unknown outcome {outcome!r}")


# -- HTTP ------------------------------------------------------------------------------------

routes = web.RouteTableDef()
_POSTS = {
    "/_sim/liquidity": ("place_liquidity", ("token_id", "side", "price", "size")),
    "/_sim/latent": ("set_latent", ("condition_id", "p")),
    "/_sim/trade": ("print_trade", ("token_id", "price", "size", "side")),
    "/_sim/burst": ("burst", ("wallet", "token_id", "count", "price", "size", "side")),
    "/_sim/resolve": ("resolve", ("condition_id", "outcome", "payouts", "keep_trading")),
    "/_sim/resolve-group": ("resolve_group", ("neg_risk_market_id", "winner_condition_id")),
    "/_sim/dispute": ("dispute", ("condition_id",)),
    "/_sim/reject-proposal": ("reject_proposal", ("condition_id",)),
    "/_sim/approve": ("approve", ("address", "operator", "approved")),
    "/_sim/pay-rebates": ("pay_rebates", ()),
    "/_sim/pay-rewards": ("pay_rewards", ()),
    "/_sim/sample-rewards": ("sample_rewards", ()),
    "/_sim/fund": ("fund", ("address", "pusd", "token_id", "tokens", "pol")),
    "/_sim/link-funder": ("link_funder", ("signer", "funder", "signature_type")),
    "/_sim/tick-size": ("set_tick_size", ("ref", "tick_size", "old_tick_size")),
    "/_sim/clear-book": ("clear_book", ("condition_id",)),
    "/_sim/game-start": ("set_game_start", ("condition_id", "in_s", "clear_book")),
    "/_sim/maintenance": ("start_maintenance", ("seconds", "post_only_seconds")),
}


async def _call(request: web.Request, name: str, kwargs: dict[str, Any]) -> web.Response:
    admin: Admin = request.app[SIM_KEY].admin
    try:
        return ok(getattr(admin, name)(**kwargs))
    except (AdminError, TypeError) as exc:
        raise HttpError(400, str(exc)) from None


def _post_handler(name: str, params: tuple[str, ...]) -> Any:
    async def handler(request: web.Request) -> web.Response:
        body = parse_json(await request.read()) or {}
        if not isinstance(body, dict):
            raise HttpError(400, "expected a JSON object")
        return await _call(request, name, {k: body[k] for k in params if k in body})
    return handler


for _path, (_name, _params) in _POSTS.items():
    routes.post(_path)(_post_handler(_name, _params))


@routes.get("/_sim/markets")
async def admin_markets(request: web.Request) -> web.Response:
    return await _call(request, "markets", {})


@routes.get("/_sim/state")
async def admin_state(request: web.Request) -> web.Response:
    return await _call(request, "state", {})


@routes.get("/_sim/heartbeats")
async def admin_heartbeats(request: web.Request) -> web.Response:
    return await _call(request, "heartbeats", {})


@routes.get("/_sim/maintenance")
async def admin_maintenance(request: web.Request) -> web.Response:
    return await _call(request, "maintenance", {})


@routes.delete("/_sim/maintenance")
async def admin_end_maintenance(request: web.Request) -> web.Response:
    return await _call(request, "end_maintenance", {})


@routes.get("/_sim/trades/{trade_id}")
async def admin_trade(request: web.Request) -> web.Response:
    return await _call(request, "trade", {"trade_id": request.match_info["trade_id"]})


@routes.get("/_sim/resolution/{condition_id}")
async def admin_resolution(request: web.Request) -> web.Response:
    return await _call(request, "resolution", {"condition_id": request.match_info["condition_id"]})


@routes.get("/_sim/activity/{address}")
async def admin_activity(request: web.Request) -> web.Response:
    return await _call(request, "activity", {"address": request.match_info["address"]})


@routes.get("/_sim/accounts/{address}")
async def admin_account(request: web.Request) -> web.Response:
    return await _call(request, "balances", {"address": request.match_info["address"]})


@routes.get("/_sim/faults")
async def admin_get_faults(request: web.Request) -> web.Response:
    return await _call(request, "faults", {})


@routes.post("/_sim/faults")
async def admin_set_faults(request: web.Request) -> web.Response:
    body = parse_json(await request.read()) or {}
    return await _call(request, "set_faults", body if isinstance(body, dict) else {})


@routes.delete("/_sim/faults")
async def admin_clear_faults(request: web.Request) -> web.Response:
    return await _call(request, "clear_faults", {})


@routes.post("/_sim/config")
async def admin_configure(request: web.Request) -> web.Response:
    body = parse_json(await request.read()) or {}
    return await _call(request, "configure", body if isinstance(body, dict) else {})
