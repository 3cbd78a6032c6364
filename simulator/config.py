"""Every knob of the simulator in one frozen dataclass.

The CLI (``__main__``), the test harness (``testing.py``) and the environment all
build a :class:`SimConfig`; nothing else reads flags or env vars.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from decimal import Decimal, InvalidOperation
from typing import Any

from . import market_config
from .market_config import MarketConfig
from .markets import MARKET_CHOICES, parse_market_choice
from .replay import parse_speed

DEFAULT_PORT = 7788
DEFAULT_SEED = 42
# "Far future": a market revived from the seed data ends 30 days after startup.
DEFAULT_END_AFTER_S = 30 * 24 * 3600.0
ERROR_CODES = (425, 429, 500, 503)
MAINTENANCE_KINDS = "'weekly', 'off' or 'every:SECONDS'"
SPORTS_CHOICES = MARKET_CHOICES


@dataclass(frozen=True)
class FaultConfig:
    """Fault injection, all off by default (rates are probabilities in [0, 1])."""

    latency_ms: float = 0.0
    error_rate: float = 0.0
    error_codes: tuple[int, ...] = ERROR_CODES
    error_scope: str = "orders"  # "orders" (order endpoints) or "all" (every CLOB/Gamma route)
    timeout_rate: float = 0.0  # POST /order(s): process, then hold the response
    timeout_hold_s: float = 6.0  # > the 5 s default timeout of the client's httpx.Client
    ws_drop_every: int = 0  # close a WS connection after this many messages (0 = never)
    ws_drop_every_s: float = 0.0  # close every WS connection this often (0 = never)
    ws_dup_rate: float = 0.0
    ws_reorder_rate: float = 0.0
    retry_after_s: float = 1.0  # Retry-After (whole seconds, rounded up) on an injected 429
    heartbeat_drop_rate: float = 0.0  # a heartbeat is processed, then its answer is lost
    refuse_in_body_rate: float = 0.0  # POST /order(s): refused inside a 200 (success true, errorMsg, no orderID)
    # The market channel freezes for this many seconds from when it is set: connections stay open and
    # PINGs are answered, but no data is sent (snapshots on subscribe included) while the books move.
    market_feed_freeze_s: float = 0.0
    # The user channel is down for this many seconds from when it is set: its connections are closed
    # and new ones refused (503 before the upgrade), as in a venue-side outage of that channel.
    user_channel_down_s: float = 0.0
    # The relayer takes the next N submissions (they are mined as usual) but answers 502: the caller
    # cannot tell a transaction that will be mined late from one that never will.
    relayer_answer_lost: int = 0
    # The RPC node takes the next N raw transactions (eth_sendRawTransaction: mined as usual) but
    # answers 502, as a node behind a failing proxy would.
    rpc_answer_lost: int = 0
    # For this many seconds from when it is set, every answer that carries Polymarket's per-signer headers says
    # `Poly-RateLimit-Remaining: hostile_remaining` instead of the true count (a venue answering what no bucket
    # of its tiers can hold); the requests themselves are evaluated and answered as usual.
    hostile_ratelimit_s: float = 0.0
    hostile_remaining: str = "-1000000000"
    # The next N answers to Kalshi V2 order creates (each create taken, or refused, as usual) are a
    # body nested 100,000 deep, with the answer's status: valid JSON no client should read whole.
    kalshi_answer_garbled: int = 0

    def with_updates(self, updates: Mapping[str, Any]) -> FaultConfig:
        """Return a copy with ``updates`` applied; unknown keys raise ``ValueError``."""
        known = {f.name: f.type for f in fields(self)}
        clean: dict[str, Any] = {}
        for key, value in updates.items():
            if key not in known:
                raise ValueError(f"unknown fault {key!r}")
            clean[key] = _coerce_fault(key, value)
        return dataclasses.replace(self, **clean)

    def as_dict(self) -> dict[str, Any]:
        out = dataclasses.asdict(self)
        out["error_codes"] = list(self.error_codes)
        return out


def _coerce_fault(key: str, value: Any) -> Any:
    if key == "error_codes":
        if isinstance(value, str):
            value = [v for v in value.split(",") if v.strip()]
        return tuple(int(v) for v in value)
    if key == "hostile_remaining":
        return str(value)
    if key == "error_scope":
        if value not in ("orders", "all"):
            raise ValueError("error_scope must be 'orders' or 'all'")
        return value
    if key in ("ws_drop_every", "relayer_answer_lost", "rpc_answer_lost", "kalshi_answer_garbled"):
        if int(value) < 0:
            raise ValueError(f"{key} must be 0 or more")
        return int(value)
    number = float(value)
    if key == "retry_after_s" and not 0 <= number < 86_400:
        raise ValueError("retry_after_s must be from 0 to 86400 seconds")
    return number


@dataclass(frozen=True)
class SimConfig:
    """All simulator settings; times are seconds, money is human units (pUSD)."""

    host: str = "127.0.0.1"
    port: int = DEFAULT_PORT
    seed: int = DEFAULT_SEED
    markets: int = 14  # live markets: both neg-risk groups, the second an augmented event (gamma.py)
    starting_balance: str = "10000"  # pUSD credited to any new account
    resolve_after_s: float | None = None  # None: markets end DEFAULT_END_AFTER_S after start
    mined_delay_s: float = 1.0
    confirmed_delay_s: float = 2.0  # after MINED
    fail_rate: float = 0.0  # fraction of trades that end FAILED (ghost fills)
    retrying_rate: float = 0.0  # fraction of trades RETRYING between MATCHED and MINED
    not_broadcasted_rate: float = 0.0  # fraction reading MATCHED_NOT_BROADCASTED on REST while matched
    agents: bool = True
    prefill_books: bool = True  # initial resting liquidity, even without agents
    agent_interval_s: float = 0.5
    heartbeat_timeout_s: float = 10.0
    ws_idle_timeout_s: float = 30.0
    auth_max_skew_s: float = 300.0  # L1/L2 POLY_TIMESTAMP tolerance
    gtd_buffer_s: float = 60.0  # GTD must expire later than now + this; expires this early
    # The venue's clients refuse an expiration closer than now + 180 s (Polymarket's SDK): so does
    # the simulator, so a shorter GTD never passes a rehearsal it would fail live.
    gtd_min_lead_s: float = 180.0
    page_size: int = 100  # /data/orders, /data/trades, /markets
    max_batch: int = 15  # POST /orders
    # DELETE /orders: the changelog (2026-06-15) cut it to 1000 ids; the API reference still says
    # 3000. The stricter holds; 3000 only by choice (a leniency).
    cancel_batch_limit: int = 1000
    history_interval_s: float = 10.0  # mid sampling for /prices-history
    history_backfill_s: float = 24 * 3600.0  # synthetic past history at startup
    # Venue strictness (issue 11); each default is as strict as Polymarket, or stricter.
    fee_rate: str | None = None  # taker fee rate r for every market (None: the documented mix)
    fee_exponent: int | None = None  # taker fee exponent e for every market (None: the mix's, 1)
    maintenance_schedule: str = "weekly"  # weekly (Tue 07:00 New York) | off | every:SECONDS
    maintenance_seconds: float = 90.0  # HTTP 425 phase of a scheduled window
    maintenance_post_only_seconds: float = 120.0  # post-only phase after it
    allow_eoa_makers: bool = False  # accept signature type 0 (the venue refuses new EOA makers)
    pre_approved_wallets: bool = False  # every wallet reads as approved for trading (venue: none until it approves)
    location: str = "IE/L"  # where the venue sees the desk's address, COUNTRY[/REGION] (geoblock.py: US close-only)
    # Places the venue restricts on its website only, the API open (comma-separated COUNTRY or COUNTRY-REGION).
    geoblock_website_only: str = ""
    sports_delay_s: float = 3.0  # matching delay of marketable orders in sports markets (0 = none)
    sports_markets: str = "default"  # which markets are sports (see SPORTS_CHOICES)
    v2_markets: str = "default"  # which markets are Protocol V2 ones (protocol_v2.py: one standalone)
    rate_limits: bool = True  # enforce the venue's published per-endpoint and per-signer rate limits
    signer_tier: str = "standard"  # per-signer token buckets of this tier (signer_limits.py)
    retry_after_http_date: bool = False  # a per-signer 429's Retry-After as an HTTP date, not seconds
    # The venue's warning mode for its per-signer limits (two weeks from 2026-07-24): a request over the
    # bucket is processed, answered `Poly-RateLimit-Warning: true`, not refused. A leniency.
    signer_limits_warn_only: bool = False
    # Resolution and redemption (issue 20): UMA's liveness, then payouts only through a redeem.
    resolution_delay_s: float = 7200.0  # proposal -> final (UMA's ~2 h liveness)
    dispute_delay_s: float = 172_800.0  # a dispute moves finality this far out ("days")
    auto_redeem_delay_s: float = 60.0  # final -> the auto-redeem operator redeems approved wallets
    relayer_delay_s: float = 2.0  # a relayed transaction is mined this long after submission
    block_time_s: float = 2.0  # a plain (EOA) transaction is mined this long after it is sent
    rebate_period_s: float = 86_400.0  # maker rebates paid at 00:00 UTC (other: every N seconds)
    rebate_minimum: str = "1"  # pUSD a maker must have accrued to be paid (less waits)
    # Liquidity rewards (issue 23, rewards.py): which markets run a program, and its terms.
    reward_markets: str = "default"  # default: markets at even indexes; none; all; indexes / ids
    reward_pool: str = "20"  # pUSD per market per UTC day
    reward_max_spread: str = "3"  # cents from the size-cutoff-adjusted midpoint
    reward_min_size: str = "20"  # shares an order needs to score
    reward_sample_s: float = 60.0  # the venue samples the books once a minute
    reward_period_s: float = 86_400.0  # rewards paid at 00:00 UTC (other: every N seconds)
    reward_minimum: str = "1"  # pUSD a maker's day must reach to be paid (less is not paid)
    # Replay (issue 24): a recorded session of the desk's database served as the market.
    replay: str | None = None  # the session's name (None: the revived markets and their agents)
    replay_db: str | None = None  # the desk's SQLite file holding it (default: TRADER_DB)
    speed: float = 1.0  # 1 = the recorded pace, 10 = ten times faster, 0 = full speed
    # The short crypto up/down series (updown.py): a new market every window, resolved from the
    # simulator's own spot price, which it serves as OKX's and Binance's public ticker streams.
    updown_series: str = ""  # e.g. "btc-updown-5m,eth-updown-15m"; empty: none
    spot_vol: float = 0.6  # the spot walk's annualised volatility
    chainlink_basis_bps: float = 3.0  # the Chainlink price's random distance from the exchange spot (bps)
    price_to_beat_delay_s: float = 2.0  # Gamma publishes a window's price to beat this long after it opens
    # A crypto market's taker order that would match at once waits this long (the venue's changelog,
    # 2026-08-17: 50 ms, was 250 ms); 0 matches takers at once, a leniency.
    crypto_taker_delay_ms: float = 50.0
    # Kalshi's Trade API v2 (kalshi/): the markets of one simulated event, under /trade-api/v2.
    kalshi_markets: int = 4  # 0: none listed (keys, balances and the routes still answer)
    kalshi_parlays: int = 20  # multivariate (parlay) legs listed before them, as Kalshi's /markets pages are
    kalshi_weekly_pause: bool = True  # Kalshi's Thursday 03:00-05:00 ET trading pause (off: leniency by flag)
    # Kalshi's crypto windows (kalshi/cfbenchmarks.py): e.g. "KXBTC15M,KXETH15M", one market a quarter hour
    # each, settled on the CF Benchmarks index its cfbenchmarks_value channel serves; empty: none listed.
    kalshi_crypto: str = ""
    kalshi_pair: bool = True  # Kalshi markets asking served Polymarket questions, a lookalike (kalshi/twin.py)
    faults: FaultConfig = field(default_factory=FaultConfig)
    market: MarketConfig = field(default_factory=MarketConfig)  # the agents' market (issue 23)

    def __post_init__(self) -> None:
        _validate(self)

    @property
    def end_after_s(self) -> float:
        return self.resolve_after_s if self.resolve_after_s is not None else DEFAULT_END_AFTER_S

    def with_updates(self, updates: Mapping[str, Any]) -> SimConfig:
        """Apply overrides; fault and market keys may be given flat (``error_rate=0.5``,
        ``agent_market="calm"``)."""
        top = {f.name for f in fields(self)}
        fault_names = {f.name for f in fields(FaultConfig)}
        plain: dict[str, Any] = {}
        fault_updates: dict[str, Any] = {}
        market_updates: dict[str, Any] = {}
        for key, value in updates.items():
            if key in market_config.FIELD_NAMES:
                market_updates[key] = value
            elif key == "faults" and isinstance(value, Mapping):
                fault_updates.update(value)
            elif key == "faults" and isinstance(value, FaultConfig):
                plain[key] = value
            elif key in fault_names:
                fault_updates[key] = value
            elif key in top:
                plain[key] = value
            else:
                raise ValueError(f"unknown simulator setting {key!r}")
        cfg = dataclasses.replace(self, **plain)
        if fault_updates:
            cfg = dataclasses.replace(cfg, faults=cfg.faults.with_updates(fault_updates))
        if market_updates:
            cfg = dataclasses.replace(cfg, market=cfg.market.with_updates(market_updates))
        return cfg


# env var -> (setting name, parser); faults use the same names as their CLI flags.
ENV_VARS: dict[str, tuple[str, Any]] = {
    "SIMULATOR_PORT": ("port", int),
    "SIMULATOR_SEED": ("seed", int),
    "SIMULATOR_MARKETS": ("markets", int),
    "SIMULATOR_STARTING_BALANCE": ("starting_balance", str),
    "SIMULATOR_RESOLVE_AFTER": ("resolve_after_s", float),
    "SIMULATOR_MINED_DELAY": ("mined_delay_s", float),
    "SIMULATOR_CONFIRMED_DELAY": ("confirmed_delay_s", float),
    "SIMULATOR_FAIL_RATE": ("fail_rate", float),
    "SIMULATOR_RETRYING_RATE": ("retrying_rate", float),
    "SIMULATOR_NOT_BROADCASTED_RATE": ("not_broadcasted_rate", float),
    "SIMULATOR_HEARTBEAT_TIMEOUT": ("heartbeat_timeout_s", float),
    "SIMULATOR_WS_IDLE_TIMEOUT": ("ws_idle_timeout_s", float),
    "SIMULATOR_LATENCY_MS": ("latency_ms", float),
    "SIMULATOR_ERROR_RATE": ("error_rate", float),
    "SIMULATOR_ERROR_CODES": ("error_codes", str),
    "SIMULATOR_ERROR_SCOPE": ("error_scope", str),
    "SIMULATOR_TIMEOUT_RATE": ("timeout_rate", float),
    "SIMULATOR_TIMEOUT_HOLD": ("timeout_hold_s", float),
    "SIMULATOR_WS_DROP_EVERY": ("ws_drop_every", int),
    "SIMULATOR_WS_DROP_EVERY_S": ("ws_drop_every_s", float),
    "SIMULATOR_WS_DUP_RATE": ("ws_dup_rate", float),
    "SIMULATOR_WS_REORDER_RATE": ("ws_reorder_rate", float),
    "SIMULATOR_RETRY_AFTER": ("retry_after_s", float),
    "SIMULATOR_HEARTBEAT_DROP_RATE": ("heartbeat_drop_rate", float),
    "SIMULATOR_REFUSE_IN_BODY_RATE": ("refuse_in_body_rate", float),
    "SIMULATOR_FEE_RATE": ("fee_rate", str),
    "SIMULATOR_FEE_EXPONENT": ("fee_exponent", int),
    "SIMULATOR_MAINTENANCE_SCHEDULE": ("maintenance_schedule", str),
    "SIMULATOR_MAINTENANCE_SECONDS": ("maintenance_seconds", float),
    "SIMULATOR_MAINTENANCE_POST_ONLY_SECONDS": ("maintenance_post_only_seconds", float),
    "SIMULATOR_SPORTS_DELAY": ("sports_delay_s", float),
    "SIMULATOR_SPORTS_MARKETS": ("sports_markets", str),
    "SIMULATOR_V2_MARKETS": ("v2_markets", str),
    "SIMULATOR_SIGNER_TIER": ("signer_tier", str),
    "SIMULATOR_CANCEL_BATCH_LIMIT": ("cancel_batch_limit", int),
    **market_config.ENV_VARS,  # SIMULATOR_AGENT_MARKET, SIMULATOR_SPORTS_NEWS_EVERY, ...
    "SIMULATOR_RESOLUTION_DELAY": ("resolution_delay_s", float),
    "SIMULATOR_DISPUTE_DELAY": ("dispute_delay_s", float),
    "SIMULATOR_AUTO_REDEEM_DELAY": ("auto_redeem_delay_s", float),
    "SIMULATOR_RELAYER_DELAY": ("relayer_delay_s", float),
    "SIMULATOR_BLOCK_TIME": ("block_time_s", float),
    "SIMULATOR_REBATE_PERIOD": ("rebate_period_s", float),
    "SIMULATOR_REBATE_MINIMUM": ("rebate_minimum", str),
    "SIMULATOR_REWARD_MARKETS": ("reward_markets", str),
    "SIMULATOR_REWARD_POOL": ("reward_pool", str),
    "SIMULATOR_REWARD_MAX_SPREAD": ("reward_max_spread", str),
    "SIMULATOR_REWARD_MIN_SIZE": ("reward_min_size", str),
    "SIMULATOR_REWARD_SAMPLE": ("reward_sample_s", float),
    "SIMULATOR_REWARD_PERIOD": ("reward_period_s", float),
    "SIMULATOR_REWARD_MINIMUM": ("reward_minimum", str),
    "SIMULATOR_UPDOWN_SERIES": ("updown_series", str),
    "SIMULATOR_SPOT_VOL": ("spot_vol", float),
    "SIMULATOR_CHAINLINK_BASIS_BPS": ("chainlink_basis_bps", float),
    "SIMULATOR_PRICE_TO_BEAT_DELAY": ("price_to_beat_delay_s", float),
    "SIMULATOR_CRYPTO_TAKER_DELAY_MS": ("crypto_taker_delay_ms", float),
    "SIMULATOR_KALSHI_MARKETS": ("kalshi_markets", int),
    "SIMULATOR_KALSHI_PARLAYS": ("kalshi_parlays", int),
    "SIMULATOR_KALSHI_CRYPTO": ("kalshi_crypto", str),
    "SIMULATOR_COUNTRY": ("location", str),
    "SIMULATOR_GEOBLOCK_WEBSITE_ONLY": ("geoblock_website_only", str),
    "SIMULATOR_REPLAY": ("replay", str),
    "SIMULATOR_REPLAY_DB": ("replay_db", str),
    "SIMULATOR_SPEED": ("speed", parse_speed),
}
# Boolean switches set by "1"/"true" (anything but "", "0", "false"): env var -> (setting, value).
ENV_SWITCHES: dict[str, tuple[str, bool]] = {
    "SIMULATOR_NO_AGENTS": ("agents", False),
    "SIMULATOR_ALLOW_EOA_MAKERS": ("allow_eoa_makers", True),
    "SIMULATOR_PRE_APPROVED_WALLETS": ("pre_approved_wallets", True),
    "SIMULATOR_NO_RATE_LIMITS": ("rate_limits", False),
    "SIMULATOR_KALSHI_NO_WEEKLY_PAUSE": ("kalshi_weekly_pause", False),
    "SIMULATOR_KALSHI_NO_PAIR": ("kalshi_pair", False),
    "SIMULATOR_RETRY_AFTER_HTTP_DATE": ("retry_after_http_date", True),
    "SIMULATOR_SIGNER_LIMITS_WARN_ONLY": ("signer_limits_warn_only", True),
}


def env_overrides(environ: Mapping[str, str] | None = None) -> dict[str, Any]:
    """Settings found in the environment, already parsed."""
    env = os.environ if environ is None else environ
    out: dict[str, Any] = {}
    for var, (name, parse) in ENV_VARS.items():
        raw = env.get(var)
        if raw not in (None, ""):
            try:
                out[name] = parse(raw)
            except ValueError:
                raise ValueError(f"{var}={raw!r} is not a valid {parse.__name__}") from None
    for var, (name, value) in ENV_SWITCHES.items():
        if env.get(var, "").strip().lower() not in ("", "0", "false"):
            out[name] = value
    return out


def _validate_markets(count: Any) -> None:
    from .markets import MOST_MARKETS

    if isinstance(count, bool) or not isinstance(count, int) or count < 1:
        raise ValueError(f"markets must be a whole number of at least 1, not {count!r}")
    if count > MOST_MARKETS:
        raise ValueError(f"markets: {count} asked, but the simulator serves at most {MOST_MARKETS:,} (the real "
                         "markets of its seed file revived, then generated quiet ones)")


def parse_maintenance_schedule(raw: str) -> tuple[str, float]:
    """("weekly" | "off" | "every", period in seconds (0 unless "every"))."""
    text = raw.strip().lower()
    if text in ("weekly", "off"):
        return text, 0.0
    if text.startswith("every:"):
        try:
            period = float(text.split(":", 1)[1])
        except ValueError:
            period = 0.0
        if period > 0:
            return "every", period
    raise ValueError(f"maintenance_schedule must be {MAINTENANCE_KINDS}, not {raw!r}")


def parse_sports_markets(raw: str) -> tuple[str, tuple[str, ...]]:
    """("default" | "none" | "all" | "list", the listed market indexes / condition ids)."""
    return parse_market_choice(raw, "sports_markets")


def _validate(cfg: SimConfig) -> None:
    """Refuse settings that cannot work, with the setting's name (usage error in the CLI)."""
    _validate_markets(cfg.markets)
    from .geoblock import parse_where
    parse_where(cfg.location)
    from .updown import parse_series  # the series' names, checked as the desk checks them
    parse_series(cfg.updown_series)
    if not 0 < cfg.spot_vol <= 10:
        raise ValueError(f"spot_vol must be an annualised volatility above 0 and at most 10, not {cfg.spot_vol!r}")
    if not 0 <= cfg.chainlink_basis_bps <= 100:
        raise ValueError(f"chainlink_basis_bps must be from 0 to 100, not {cfg.chainlink_basis_bps!r}")
    if not 0 <= cfg.price_to_beat_delay_s <= 3600:
        raise ValueError(f"price_to_beat_delay_s must be from 0 to 3600 seconds, not {cfg.price_to_beat_delay_s!r}")
    if not 0 <= cfg.crypto_taker_delay_ms <= 10_000:
        raise ValueError(f"crypto_taker_delay_ms must be from 0 to 10000 ms, not {cfg.crypto_taker_delay_ms!r}")
    if not 0 <= cfg.kalshi_markets <= 50:
        raise ValueError(f"kalshi_markets must be from 0 to 50, not {cfg.kalshi_markets!r}")
    from .kalshi.cfbenchmarks import SERIES as KALSHI_CRYPTO

    unknown = [s for s in kalshi_crypto_series(cfg.kalshi_crypto) if s not in KALSHI_CRYPTO]
    if unknown:
        raise ValueError(f"kalshi_crypto: unknown series {', '.join(unknown)} (known: {', '.join(KALSHI_CRYPTO)})")
    if not 0 <= cfg.kalshi_parlays <= 2000:
        raise ValueError(f"kalshi_parlays must be from 0 to 2000, not {cfg.kalshi_parlays!r}")
    if isinstance(cfg.speed, bool) or not isinstance(cfg.speed, (int, float)) or \
            not (cfg.speed == 0 or 0.01 <= cfg.speed <= 1000):
        raise ValueError(f"speed must be from 0.01 to 1000, or 0 (full speed), not {cfg.speed!r}")
    if cfg.replay is not None and not cfg.replay.strip():
        raise ValueError("replay names a recording session (python -m engine session list)")
    if cfg.fee_rate is not None:
        object.__setattr__(cfg, "fee_rate", str(cfg.fee_rate))  # 0.05 and "0.05" alike
        try:
            rate = Decimal(str(cfg.fee_rate))
        except InvalidOperation:
            rate = Decimal(-1)
        if not (rate.is_finite() and 0 <= rate <= 1 and (rate * 10**6) == (rate * 10**6).to_integral_value()):
            raise ValueError(f"fee_rate must be a number from 0 to 1 with at most 6 decimals, "
                             f"not {cfg.fee_rate!r}")
    if cfg.fee_exponent is not None and (isinstance(cfg.fee_exponent, bool) or
                                         not isinstance(cfg.fee_exponent, int) or cfg.fee_exponent < 1):
        # e = 0 is refused on purpose: py-clob-client-v2 and the engine read a 0/absent e differently.
        raise ValueError(f"fee_exponent must be a whole number of at least 1, not {cfg.fee_exponent!r}")
    kind, period = parse_maintenance_schedule(cfg.maintenance_schedule)
    if cfg.maintenance_seconds < 0 or cfg.maintenance_post_only_seconds < 0:
        raise ValueError("maintenance_seconds and maintenance_post_only_seconds must be >= 0")
    if kind == "every" and cfg.maintenance_seconds + cfg.maintenance_post_only_seconds >= period:
        raise ValueError("maintenance_schedule every:N needs N > maintenance_seconds + "
                         "maintenance_post_only_seconds")
    for name in ("fail_rate", "retrying_rate", "not_broadcasted_rate"):
        if not 0 <= getattr(cfg, name) <= 1:
            raise ValueError(f"{name} must be a probability from 0 to 1, not {getattr(cfg, name)!r}")
    from .signer_limits import TIERS  # here: the config module stays free of the server's imports

    if cfg.signer_tier not in TIERS:
        raise ValueError(f"signer_tier must be one of {', '.join(TIERS)}, not {cfg.signer_tier!r}")
    if cfg.sports_delay_s < 0:
        raise ValueError("sports_delay_s must be >= 0")
    if not 1 <= cfg.cancel_batch_limit <= 3000:
        raise ValueError(f"cancel_batch_limit must be from 1 to 3000 ids, not {cfg.cancel_batch_limit!r}")
    if not 0 <= cfg.gtd_min_lead_s <= 86_400:
        raise ValueError("gtd_min_lead_s must be from 0 to 86400 seconds")
    for name in ("resolution_delay_s", "dispute_delay_s", "auto_redeem_delay_s", "relayer_delay_s", "block_time_s"):
        if not 0 <= getattr(cfg, name) < 10 * 365 * 86_400:
            raise ValueError(f"{name} must be from 0 seconds to 10 years")
    if not 0 < cfg.rebate_period_s <= 86_400:
        raise ValueError("rebate_period_s must be more than 0 and at most 86400 (daily)")
    for name in ("rebate_minimum", "reward_pool", "reward_min_size", "reward_minimum"):
        _check_amount(cfg, name, 6)
    _check_amount(cfg, "reward_max_spread", 4)
    if not 0 < Decimal(cfg.reward_max_spread) < 50:
        raise ValueError(f"reward_max_spread must be more than 0 and under 50 cents, not {cfg.reward_max_spread!r}")
    if not 0 < cfg.reward_sample_s <= 3_600:
        raise ValueError("reward_sample_s must be more than 0 and at most 3600 seconds")
    if not 0 < cfg.reward_period_s <= 86_400:
        raise ValueError("reward_period_s must be more than 0 and at most 86400 (daily)")
    parse_market_choice(cfg.reward_markets, "reward_markets")
    parse_sports_markets(cfg.sports_markets)
    parse_market_choice(cfg.v2_markets, "v2_markets")


def _check_amount(cfg: SimConfig, name: str, decimals: int) -> None:
    """A decimal amount >= 0 with at most `decimals` places, kept as its string."""
    object.__setattr__(cfg, name, str(getattr(cfg, name)))
    try:
        value = Decimal(getattr(cfg, name))
    except InvalidOperation:
        value = Decimal(-1)
    scale = 10**decimals
    if not (value.is_finite() and value >= 0 and value * scale == (value * scale).to_integral_value()):
        raise ValueError(f"{name} must be an amount >= 0 with at most {decimals} decimals, "
                         f"not {getattr(cfg, name)!r}")


def kalshi_crypto_series(text: str) -> tuple[str, ...]:
    """`KXBTC15M, KXETH15M` -> the series tickers, upper-cased, in order, each once."""
    return tuple(dict.fromkeys(part.strip().upper() for part in text.split(",") if part.strip()))
