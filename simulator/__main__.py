"""``python -m simulator``: serve the Polymarket stand-in until SIGTERM/SIGINT.
``python -m simulator realism --minutes N --seed S``: the realism report (``realism.py``).

Settings come from defaults, then SIMULATOR_* variables (the project's ``.env``, or
the file named by TRADER_ENV_FILE, overridden by the real environment, as the
other programs read them), then flags. If ``DATA_SOURCE`` is set to anything but
``simulator`` the process exits 0 at once (supervisord runs it with
``autorestart=unexpected``).
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import signal
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from dotenv import dotenv_values

from . import market_config
from .config import DEFAULT_PORT, DEFAULT_SEED, SimConfig, env_overrides
from .replay import ReplayError, parse_speed

if TYPE_CHECKING:
    from .server import Simulator

log = logging.getLogger("simulator")
ROOT = Path(__file__).resolve().parent.parent

# flag -> (setting, type, help)
FLAGS: dict[str, tuple[str, Any, str]] = {
    "--port": ("port", int, f"TCP port on 127.0.0.1 (default {DEFAULT_PORT}; 0 = any free port)"),
    "--seed": ("seed", int, f"seed for markets, agents and ids (default {DEFAULT_SEED})"),
    "--markets": ("markets", int, "number of live markets (default 14)"),
    "--starting-balance": ("starting_balance", str, "pUSD credited to a new account (default 10000)"),
    "--resolve-after": ("resolve_after_s", float,
                        "resolve every market after N seconds (default: never; end dates in 30 days)"),
    "--mined-delay": ("mined_delay_s", float, "seconds from MATCHED to MINED (default 1)"),
    "--confirmed-delay": ("confirmed_delay_s", float, "seconds from MINED to CONFIRMED (default 2)"),
    "--fail-rate": ("fail_rate", float, "fraction of trades that end FAILED (default 0)"),
    "--retrying-rate": ("retrying_rate", float, "fraction of trades RETRYING before MINED (default 0)"),
    "--not-broadcasted-rate": ("not_broadcasted_rate", float,
                               "fraction of trades reading MATCHED_NOT_BROADCASTED on REST while matched "
                               "(default 0)"),
    "--heartbeat-timeout": ("heartbeat_timeout_s", float, "heartbeat dead-man timeout (default 10)"),
    "--ws-idle-timeout": ("ws_idle_timeout_s", float, "drop WS clients silent this long (default 30)"),
    "--agent-interval": ("agent_interval_s", float, "seconds between agent steps (default 0.5)"),
    "--latency-ms": ("latency_ms", float, "added latency on every REST request"),
    "--error-rate": ("error_rate", float, "probability of an error status on order endpoints"),
    "--error-codes": ("error_codes", str, "comma list of statuses to inject (default 425,429,500,503)"),
    "--error-scope": ("error_scope", str, "'orders' (default) or 'all' endpoints"),
    "--timeout-rate": ("timeout_rate", float, "probability POST /order(s) is processed, then answered late"),
    "--timeout-hold": ("timeout_hold_s", float, "how late, in seconds (default 6)"),
    "--ws-drop-every": ("ws_drop_every", int, "close each WS connection after N messages"),
    "--ws-drop-every-s": ("ws_drop_every_s", float, "close each WS connection every N seconds"),
    "--ws-dup-rate": ("ws_dup_rate", float, "probability a WS message is sent twice"),
    "--ws-reorder-rate": ("ws_reorder_rate", float, "probability a WS message is swapped with the next"),
    "--retry-after": ("retry_after_s", float, "Retry-After seconds on an injected 429 (default 1)"),
    "--heartbeat-drop-rate": ("heartbeat_drop_rate", float,
                              "probability a heartbeat is processed but its answer is lost (default 0)"),
    "--refuse-in-body-rate": ("refuse_in_body_rate", float,
                              "probability an order is refused inside an HTTP 200 (success true, errorMsg, no "
                              "orderID) (default 0)"),
    "--fee-rate": ("fee_rate", str, "taker fee rate r for every market, e.g. 0.05 (0 = no fees; "
                                    "default: the documented mix)"),
    "--fee-exponent": ("fee_exponent", int, "taker fee exponent e for every market (whole, >= 1; default 1)"),
    "--maintenance-schedule": ("maintenance_schedule", str,
                               "weekly (Tuesdays 07:00 New York, default), off, or every:SECONDS"),
    "--maintenance-seconds": ("maintenance_seconds", float, "HTTP 425 phase of a window (default 90)"),
    "--maintenance-post-only-seconds": ("maintenance_post_only_seconds", float,
                                        "post-only phase after it (default 120)"),
    "--gtd-min-lead": ("gtd_min_lead_s", float, "a GTD order's expiration must be at least now + this "
                                                "(default 180, as the venue's clients require)"),
    "--sports-delay": ("sports_delay_s", float, "matching delay of marketable orders in sports markets "
                                                "(default 3; 0 = none)"),
    "--sports-markets": ("sports_markets", str, "default (head-to-head games), none, all, or a comma list "
                                                "of market indexes / condition ids"),
    "--v2-markets": ("v2_markets", str, "Protocol V2 markets (positionIds, ExchangeV3 signatures, "
                                        "CONDITIONAL-V2 balances): default (one standalone market), none, "
                                        "all, or a comma list of market indexes / condition ids"),
    "--signer-tier": ("signer_tier", str, "per-signer rate-limit tier: standard (default), copper, bronze, silver, "
                                          "gold, platinum, diamond, elite"),
    "--cancel-batch-limit": ("cancel_batch_limit", int, "most order ids one DELETE /orders takes: 1000 (default, "
                                                        "the venue's changelog), 3000 (its API reference: a leniency)"),
    "--replay": ("replay", str, "serve this recorded session of the desk's database as the market (no agents; "
                                "see README: Replaying a recorded session)"),
    "--replay-db": ("replay_db", str, "the desk's SQLite file holding the session (default: TRADER_DB, "
                                      "else var/trader.db)"),
    "--speed": ("speed", lambda raw: _argument(parse_speed, raw), "replay pace: 1 (recorded, default), 10 (ten times "
                                                                  "faster) or full"),
    **market_config.FLAGS,  # the agents' market: news, informed and noise takers, the agent maker
    "--resolution-delay": ("resolution_delay_s", float, "seconds from a proposed resolution to final payouts "
                                                        "(UMA liveness; default 7200)"),
    "--dispute-delay": ("dispute_delay_s", float, "seconds a dispute adds (default 172800)"),
    "--auto-redeem-delay": ("auto_redeem_delay_s", float, "seconds after finality the auto-redeem operator "
                                                          "redeems approved wallets (default 60)"),
    "--relayer-delay": ("relayer_delay_s", float, "seconds until a relayed transaction is mined (default 2)"),
    "--block-time": ("block_time_s", float, "seconds until a plain transaction is mined (default 2)"),
    "--rebate-period": ("rebate_period_s", float, "maker rebates: 86400 = daily at 00:00 UTC (default), "
                                                  "else every N seconds"),
    "--rebate-minimum": ("rebate_minimum", str, "pUSD a maker must have accrued to be paid (default 1)"),
    "--reward-markets": ("reward_markets", str, "markets running a liquidity-reward program: default (even "
                                                "indexes), none, all, or indexes / condition ids"),
    "--reward-pool": ("reward_pool", str, "pUSD each program market pays per UTC day (default 20)"),
    "--reward-max-spread": ("reward_max_spread", str, "cents from the adjusted midpoint an order may rest "
                                                      "and still score (default 3)"),
    "--reward-min-size": ("reward_min_size", str, "shares an order needs to score (default 20)"),
    "--reward-sample": ("reward_sample_s", float, "seconds between scoring samples (default 60)"),
    "--reward-period": ("reward_period_s", float, "rewards paid daily at 00:00 UTC (86400, default), else "
                                                  "every N seconds"),
    "--reward-minimum": ("reward_minimum", str, "pUSD a maker's day must reach to be paid (default 1)"),
    "--updown-series": ("updown_series", str, "short crypto up/down series to run, e.g. btc-updown-5m,eth-updown-15m: "
                                              "a new market every window, resolved from the simulated Chainlink "
                                              "price (served on /rtds; the spot as OKX's and Binance's tickers)"),
    "--spot-vol": ("spot_vol", float, "annualised volatility of the simulated spot prices (default 0.6)"),
    "--chainlink-basis-bps": ("chainlink_basis_bps", float, "the Chainlink price's random distance from the "
                                                            "exchange spot, in basis points (default 3)"),
    "--price-to-beat-delay": ("price_to_beat_delay_s", float, "seconds after a window opens before Gamma lists its "
                                                              "price to beat (default 2)"),
    "--crypto-taker-delay-ms": ("crypto_taker_delay_ms", float, "ms a crypto market holds a taker order that would "
                                                                "match at once (default 50, the venue's; 0 = none)"),
    "--kalshi-markets": ("kalshi_markets", int, "Kalshi markets listed in the simulated event under /trade-api/v2 "
                                                "(default 4; 0: none)"),
    "--kalshi-parlays": ("kalshi_parlays", int, "multivariate (parlay) legs listed first in Kalshi's /markets, as "
                                                "Kalshi's pages are (default 20; 0: none)"),
    "--kalshi-crypto": ("kalshi_crypto", str, "Kalshi's crypto window series to list, e.g. KXBTC15M,KXETH15M (a "
                                              "market a quarter hour each, settled on the CF Benchmarks index "
                                              "its cfbenchmarks_value channel serves; default: none)"),
    "--country": ("location", str, "where the venue sees the desk's address, COUNTRY[/REGION] (default IE/L): a "
                                   "blocked one (CU, IR, KP, SY) is refused every order with the venue's 403, "
                                   "a close-only one (US, GB, PL, ...) every BUY; GET /api/geoblock says so"),
    "--geoblock-website-only": ("geoblock_website_only", str, "places the venue restricts on its website only, "
                                                              "its API open (COUNTRY or COUNTRY-REGION, by commas)"),
}


def _argument(parse: Any, raw: str) -> Any:
    """A parser's ValueError as argparse's own usage error, with its message."""
    try:
        return parse(raw)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def parse_args(argv: Sequence[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(prog="python -m simulator", description=__doc__)
    for flag, (dest, kind, help_text) in FLAGS.items():
        parser.add_argument(flag, dest=dest, type=kind, default=None, help=help_text)
    parser.add_argument("--no-agents", dest="agents", action="store_false", default=None,
                        help="no synthetic participants (books stay as prefilled)")
    parser.add_argument("--no-prefill", dest="prefill_books", action="store_false", default=None,
                        help="start with empty books")
    parser.add_argument("--allow-eoa-makers", dest="allow_eoa_makers", action="store_true", default=None,
                        help="accept signature type 0 (EOA) makers, which the venue refuses for new accounts")
    parser.add_argument("--pre-approved-wallets", dest="pre_approved_wallets", action="store_true",
                        default=None,
                        help="treat every wallet as having made the trading approvals (the venue refuses "
                             "orders until pUSD and the conditional tokens are approved)")
    parser.add_argument("--kalshi-no-weekly-pause", dest="kalshi_weekly_pause", action="store_false", default=None,
                        help="leniency: no Thursday 03:00-05:00 ET trading pause on Kalshi's side (Kalshi has one)")
    parser.add_argument("--kalshi-no-pair", dest="kalshi_pair", action="store_false", default=None,
                        help="no Kalshi markets asking the questions of Polymarket ones (the Fed's 25 bps in "
                             "February, and others in other words), listed by default to rehearse pairing, pair "
                             "suggestions and cross-venue arbitrage")
    parser.add_argument("--no-rate-limits", dest="rate_limits", action="store_false", default=None,
                        help="do not enforce the venue's rate limits, per endpoint or per signer (benchmarks "
                             "that hammer)")
    parser.add_argument("--signer-limits-warn-only", dest="signer_limits_warn_only", action="store_true",
                        default=None, help="the venue's warning mode for its per-signer limits: a request over "
                                           "the bucket is processed with Poly-RateLimit-Warning: true, not refused")
    parser.add_argument("--retry-after-http-date", dest="retry_after_http_date", action="store_true", default=None,
                        help="send a per-signer 429's Retry-After as an HTTP date instead of seconds")
    parser.add_argument("--log-level", default=os.environ.get("SIMULATOR_LOG_LEVEL", "INFO"))
    args = vars(parser.parse_args(argv))
    level = args.pop("log_level")
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    return {k: v for k, v in args.items() if v is not None}


async def serve(sim: Simulator) -> None:
    cfg = sim.cfg
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    port = await sim.start()
    urls = sim.urls()
    log.info("simulator ready: CLOB_HOST=%s WS_HOST=%s GAMMA_HOST=%s (seed %d, %d markets, agents %s)",
             urls["clob_host"], urls["ws_host"], urls["gamma_host"], cfg.seed, len(sim.markets),
             "on" if cfg.agents and sim.replay is None else "off")
    if sim.replay is not None:
        log.info("replaying session %r from %s at %s", cfg.replay, cfg.replay_db,
                 "full speed" if cfg.speed == 0 else f"{cfg.speed:g}x")
    log.info("venue rules: fees %s; maintenance %s; EOA makers %s; approvals %s; sports delay %gs on %d "
             "market(s); rate limits %s", "r=" + cfg.fee_rate if cfg.fee_rate is not None else "default mix",
             cfg.maintenance_schedule, "allowed" if cfg.allow_eoa_makers else "refused",
             "assumed (--pre-approved-wallets)" if cfg.pre_approved_wallets else "required",
             cfg.sports_delay_s, len(sim.sports), f"on (signer tier {cfg.signer_tier})" if cfg.rate_limits else "off")
    print(f"SIMULATOR_PORT={port}", flush=True)
    await stop.wait()
    log.info("shutting down")
    await sim.stop()


def environment() -> Mapping[str, str]:
    """The env file's values under the real environment (which wins)."""
    path = Path(os.environ.get("TRADER_ENV_FILE") or ROOT / ".env")
    from_file = dotenv_values(path, interpolate=False) if path.is_file() else {}
    return {**{k: v for k, v in from_file.items() if v is not None}, **os.environ}


def replay_db_default(env: Mapping[str, str]) -> Path:
    """The desk's database, found as the other programs find it: TRADER_DB (relative to the
    project), else var/trader.db."""
    path = Path(env.get("TRADER_DB") or "var/trader.db").expanduser()
    return path if path.is_absolute() else ROOT / path


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if args[:1] == ["realism"]:  # the realism report: simulated time, no server
        from .realism import main as realism_main
        return realism_main(args[1:], dict(environment()))
    env = environment()
    source = env.get("DATA_SOURCE", "")
    if source and source.lower() != "simulator":
        print(f"DATA_SOURCE={source}: the simulator is not needed, exiting.", flush=True)
        return 0
    try:
        overrides = {**env_overrides(env), **parse_args(argv)}
        if overrides.get("replay") and not overrides.get("replay_db"):
            overrides["replay_db"] = str(replay_db_default(env))
        cfg = SimConfig().with_updates(overrides)
        # The server (its signing and web stack: ~1.5 s of imports) only once the settings are
        # valid, so a mistyped setting is answered at once.
        from .server import Simulator

        sim = Simulator(cfg)
    except (ValueError, ReplayError) as exc:
        print(f"simulator: {exc}", file=sys.stderr)
        return 2
    asyncio.run(serve(sim))
    return 0


if __name__ == "__main__":
    sys.exit(main())
