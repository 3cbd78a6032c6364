"""`python -m engine ...`: the operator's command line, and the engine's composition root: it
sits above every engine package (the trading process, the Telegram bot, the CLI's commands) and
each subcommand builds what it runs.

Exit codes: 0 success, 1 the command failed (message on stderr), 2 usage (bad arguments, or a
command payload refused before anything was queued).

Every subcommand imports what it needs when it runs, never at the top of a module the parser
loads: `status` and `command` must answer in a fraction of a second over SSH, and importing the
trading core (or SQLAlchemy, pandas, the signing stack) would take seconds on a small VPS.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from contracts.settings import Settings, SettingsError, load_settings
from engine.cli import keystore, seal
from engine.cli.errors import EXIT_FAILED, EXIT_OK, EXIT_USAGE, CliError, open_db
from storage.command_queue.command_payloads import PayloadError
from storage.sqlite.lite import DatabaseBusy

if TYPE_CHECKING:
    from engine.venues.base import CancelResult
    from storage.sqlite.db import Database

__all__ = ["EXIT_FAILED", "EXIT_OK", "EXIT_USAGE", "CliError", "build_parser", "main", "open_db"]


# -- run -------------------------------------------------------------------------------


def cmd_run(settings: Settings, args: argparse.Namespace) -> int:
    import logging

    from contracts.jsonsafe import keep_recursion_limit_sane
    from contracts.settings import secret_values
    from engine.logs import configure_logging
    from engine.process.runtime import run
    from engine.process.wiring import build_trading

    settings = keystore.unlock(settings)  # before anything logs: the key joins the redacted secrets
    keep_recursion_limit_sane()  # after the signing stack's imports raised it (see contracts/jsonsafe.py)
    configure_logging(settings.log_level, secret_values(settings))
    if keystore.plain_key_in_use(settings):
        logging.getLogger("engine").warning(keystore.PLAIN_KEY_WARNING)
    return run(settings, build_trading)


# -- telegram --------------------------------------------------------------------------


def cmd_telegram(settings: Settings, args: argparse.Namespace) -> int:
    from contracts.settings import secret_values
    from engine.logs import configure_logging
    from engine.telegram_bot.app import run as run_bot

    settings = keystore.unlock_secrets(settings)  # a sealed token: read with the passphrase, never the wallet key
    configure_logging(settings.log_level, secret_values(settings))
    return run_bot(settings)


def cmd_watchdog(settings: Settings, args: argparse.Namespace) -> int:
    from contracts.settings import read_env
    from engine import watchdog

    try:
        stale = watchdog.stale_after(read_env(settings.root).get(watchdog.STALE_ENV))
    except ValueError as exc:
        raise CliError(str(exc)) from None
    return watchdog.run(keystore.unlock_secrets(settings), stale)  # sealed NOTIFY_URLS: read with the passphrase


def cmd_service_failed(settings: Settings | None, args: argparse.Namespace) -> int:
    """Run by main() itself, with the settings or without: settings that do not load (the likeliest
    reason the service failed) must not silence the notice."""
    import os
    from pathlib import Path

    from contracts.settings import DEFAULT_DB, ROOT, read_env, secret_values
    from engine import service_alarm
    from storage.sqlite.db import now_ms

    try:
        unlocked = keystore.unlock_secrets(settings if settings is not None else load_settings())
        urls, secrets, db, problem = ([u.reveal() for u in unlocked.notify_urls], secret_values(unlocked),
                                      unlocked.db_path, None)
    except (SettingsError, CliError) as exc:  # sealed NOTIFY_URLS need the settings: plain ones are read
        env = read_env(ROOT)
        db = Path(env.get("TRADER_DB") or DEFAULT_DB).expanduser()
        urls, secrets, db, problem = service_alarm.plain_urls(env), [], db if db.is_absolute() else ROOT / db, str(exc)
    return service_alarm.run(urls, secrets, service_alarm.state_beside(db), problem, args.unit, args.retry_after_min,
                             os.environ, now_ms())


def cmd_metrics(settings: Settings, args: argparse.Namespace) -> int:
    from contracts.settings import read_env, secret_values
    from engine import metrics
    from engine.logs import configure_logging

    raw = str(args.port) if args.port is not None else read_env(settings.root).get(metrics.PORT_ENV)
    try:
        port = metrics.port_from(raw)
    except ValueError as exc:
        raise CliError(str(exc)) from None
    configure_logging(settings.log_level, secret_values(settings))
    try:
        return metrics.run(settings.db_path, port)
    except OSError as exc:
        raise CliError(f"cannot serve metrics on 127.0.0.1:{port}: {exc.strerror or exc} (another program has the "
                       f"port? set {metrics.PORT_ENV} in .env)") from None


# -- set-password ----------------------------------------------------------------------


def cmd_set_password(settings: Settings, args: argparse.Namespace) -> int:
    import getpass

    from contracts.passwords import (
        ENV_KEY,
        VIEWER_ENV_KEY,
        PasswordError,
        hash_password,
        verify_password,
        write_env_value,
    )

    viewer = bool(getattr(args, "viewer", False))
    which = "read-only (viewer) dashboard password" if viewer else "dashboard password"
    if sys.stdin.isatty():
        first = getpass.getpass(f"New {which}: ")
        if getpass.getpass("Repeat it: ") != first:
            raise CliError("the two passwords differ; nothing changed")
    else:
        first = sys.stdin.readline().rstrip("\r\n")
    other = settings.dashboard_password_hash if viewer else settings.dashboard_viewer_password_hash
    if viewer and other is None:
        raise CliError("set the operator's password first (`python -m engine set-password`): a viewer login "
                       "alone would leave nobody able to steer the desk; nothing changed")
    if other is not None and first and verify_password(first, other.reveal()):
        raise CliError("that is the other login's password: the operator and the viewer need different passwords "
                       "(a shared one would always log in as the operator); nothing changed")
    try:
        hashed = hash_password(first)
    except PasswordError as exc:
        raise CliError(f"{exc}; nothing changed") from None
    write_env_value(settings.env_file, VIEWER_ENV_KEY if viewer else ENV_KEY, hashed)
    # The dashboard reads its settings on every page load: no restart is needed.
    print(f"Saved the {which} hash to {settings.env_file} (mode 600). The dashboard uses it from its next "
          "page load: log in with the new password (open sessions stay logged in until they log out).")
    return EXIT_OK


# -- cancel-all ------------------------------------------------------------------------


def _cancel_armed_alone(settings: Settings, done: dict[str, CancelResult], problems: list[str]) -> None:
    """Every resting order of the account of each venue armed on its own whose key is set (its adapter's live venue)."""
    import asyncio

    from contracts.venue_policies import venues_armed_alone
    from engine.feeds.catalog import MarketCatalog
    from engine.venues.base import VenueError
    from engine.venues.registry import LiveParts, adapter_of

    for policy in venues_armed_alone():
        adapter = adapter_of(policy.venue)
        if not adapter.armable(settings):
            continue
        try:
            live = adapter.live(LiveParts(settings, MarketCatalog(), heartbeat_s=0.0))
            done[policy.venue] = asyncio.run(live.venue.cancel_all())
        except VenueError as exc:
            problems.append(f"{policy.label} refused the cancel-all: {exc}")


def cmd_cancel_all(settings: Settings, args: argparse.Namespace) -> int:
    """Cancel every order at every venue that may hold one, straight from this process.

    Live, whenever a wallet key is configured (POLY_KEYSTORE, unlocked here, or POLY_PRIVATE_KEY) and
    whatever the mode: every open order of
    the wallet at Polymarket (or the simulator). Orders can rest there in paper mode too: ones
    the engine imported and never withdraws, or ones left when it went back to paper. A running
    engine learns of these cancels through its own venue reports.
    Each venue armed on its own (Kalshi), whenever its key is configured: every resting order of its account.
    Paper: every resting order of the paper venue in the database, only while no engine holds
    the single-instance lock (a running or starting engine keeps them in memory).
    """
    import asyncio

    from engine.venues.base import VenueError
    from storage.dashboard_queries import status_queries as queries

    mode = queries.engine_status(open_db(settings)).mode
    problems: list[str] = []
    done: dict[str, CancelResult] = {}
    if keystore.plain_key_in_use(settings):
        print(f"warning: {keystore.PLAIN_KEY_WARNING}", file=sys.stderr)
    if settings.live_credentials_present:
        settings = keystore.unlock(settings)
        from engine.venues.polymarket.venue import cancel_everything

        try:
            done["live"] = asyncio.run(cancel_everything(settings))
        except VenueError as exc:
            problems.append(f"the venue refused the cancel-all: {exc}")
    elif mode == "live":
        problems.append("live mode, but no wallet key is configured (POLY_KEYSTORE or POLY_PRIVATE_KEY): nothing to "
                        "cancel at the venue with")
    settings = keystore.unlock_secrets(settings)  # a sealed key of a venue armed on its own
    _cancel_armed_alone(settings, done, problems)
    paper = _cancel_paper_orders(settings)
    if paper is not None:
        done["paper"] = paper
    elif mode == "paper":
        problems.append("the engine is running (or starting) in paper mode and holds its paper orders: cancel "
                        "them through it with `python -m engine command kill` (cancels everything and latches) "
                        "or `... command stop`")
    not_canceled = {oid: why for result in done.values() for oid, why in result.not_canceled.items()}
    print(json.dumps({"mode": mode, "canceled": sum(len(r.canceled) for r in done.values()),
                      "not_canceled": not_canceled, "by_venue": {v: len(r.canceled) for v, r in done.items()}}))
    for problem in problems:
        print(f"error: {problem}", file=sys.stderr)
    return EXIT_OK if not problems and not not_canceled else EXIT_FAILED


def _cancel_paper_orders(settings: Settings) -> CancelResult | None:
    """Cancel the paper venue's resting orders under the engine's own lock; None when an engine
    holds it. (The heartbeat cannot tell: a starting engine has none yet, a stale one lingers.)"""
    import asyncio

    from engine.process.runtime import AlreadyRunning, single_instance
    from engine.venues.paper import cancel_all_resting
    from storage.sqlite.db import Database

    try:
        with single_instance(settings.lock_path):
            db = Database(settings.db_path)
            try:
                return asyncio.run(cancel_all_resting(db))
            finally:
                db.dispose()
    except AlreadyRunning:
        return None


# -- preflight -------------------------------------------------------------------------


def cmd_preflight(settings: Settings, args: argparse.Namespace) -> int:
    """Before going live: prove this wallet can trade (credentials, balance, allowances, and a
    harmless post-only order placed and cancelled); each failure names the setting to change."""
    if not settings.live_credentials_present:
        raise CliError("no wallet key is configured (POLY_KEYSTORE or POLY_PRIVATE_KEY in .env): nothing to check "
                       "(see docs/going-live.md)")
    plain = keystore.plain_key_in_use(settings)
    settings = keystore.unlock(settings)
    import asyncio

    from engine.venues.polymarket.preflight import describe, run_preflight
    from storage.sqlite.db import Database
    from storage.sqlite.migrations import is_migrated

    db = Database(settings.db_path) if is_migrated(settings.db_path) else None
    report = asyncio.run(run_preflight(settings, db, plain_key=plain,
                                       approve_auto_redeem=args.approve_auto_redeem, approve=args.approve,
                                       confirm=_approvals_confirmed(args.yes)))
    from engine.venues.polymarket.accounts import polymarket_account

    _record(db, "polymarket", settings.clob_host, polymarket_account(settings), report.ok, report.checks, args.actor)
    print(json.dumps(report.as_dict(), indent=2) if args.json else describe(report))
    return EXIT_OK if report.ok else EXIT_FAILED


def cmd_deposit_wallet(settings: Settings, args: argparse.Namespace) -> int:
    """Deploy the signing key's deposit wallet through the relayer (WALLET-CREATE) and say its address."""
    if not settings.live_credentials_present:
        raise CliError("no wallet key is configured (POLY_KEYSTORE or POLY_PRIVATE_KEY in .env): the deposit wallet "
                       "is deployed for that key's address (see docs/going-live.md)")
    settings = keystore.unlock(settings)
    import asyncio

    from engine.cli.deposit_wallet import deploy_deposit_wallet, describe
    from storage.sqlite.db import Database
    from storage.sqlite.migrations import is_migrated

    db = Database(settings.db_path) if is_migrated(settings.db_path) else None
    found = asyncio.run(deploy_deposit_wallet(settings, db, args.actor))
    if args.json:
        print(json.dumps({"owner": found.owner, "wallet": found.wallet, "relayer_tx": found.ref,
                          "already_deployed": found.already}))
    else:
        print(describe(found, settings.funder))
    return EXIT_OK


def _record(db: Database | None, venue: str, host: str, account: str | None, ok: bool, checks: list[dict[str, Any]],
            actor: str) -> None:
    """Keep the run where arming reads it (storage/desk/arming.py): a passing preflight of the account
    the engine holds, of the last hour, is what arming a venue live asks for."""
    if db is None:
        return
    from storage.desk.arming import record_preflight
    from storage.sqlite.db import now_ms

    record_preflight(db, venue=venue, host=host, account=account, ok=ok, checks=checks, actor=actor, now=now_ms())


def cmd_kalshi_preflight(settings: Settings, args: argparse.Namespace) -> int:
    """Before trading Kalshi: prove its account can trade (key, signature, balance, and a harmless
    post-only order placed and cancelled); each failure names the setting to change."""
    settings = keystore.unlock_secrets(settings)  # the Kalshi key may be sealed; the wallet key stays locked
    import asyncio

    from engine.venues.kalshi.preflight import describe, run_kalshi_preflight

    report = asyncio.run(run_kalshi_preflight(settings))
    from engine.venues.kalshi.accounts import kalshi_account
    from storage.sqlite.db import Database
    from storage.sqlite.migrations import is_migrated

    if is_migrated(settings.db_path) and settings.kalshi is not None:
        checks = [{"check": c.name, "ok": c.ok, "detail": c.detail, "fix": c.fix} for c in report.checks]
        db = Database(settings.db_path)
        _record(db, "kalshi", settings.kalshi.host, kalshi_account(settings.kalshi), report.ok, checks, args.actor)
        if report.key is not None and report.key.alert:  # the attestation lapses soon, or has: alerted now
            from engine.venues.kalshi.pairs import key_told
            from storage.sqlite.db import now_ms

            key_told(db, report.key, False, now_ms())
    print(json.dumps(report.as_dict(), indent=2) if args.json else describe(report))
    return EXIT_OK if report.ok else EXIT_FAILED


def _approvals_confirmed(yes: bool) -> Callable[[list[str]], bool]:
    """`preflight --approve` sends transactions from the wallet: asked at a terminal, else only with --yes."""
    def confirm(approvals: list[str]) -> bool:
        if yes:
            return True
        # On stderr: stdout carries the report (JSON with --json).
        print("preflight --approve would send these approvals from the wallet:\n  " + "\n  ".join(approvals),
              file=sys.stderr)
        if not sys.stdin.isatty():
            print("not sent: no terminal to confirm at (pass --yes to send them)", file=sys.stderr)
            return False
        print("send them? [y/N] ", end="", file=sys.stderr, flush=True)
        return sys.stdin.readline().strip().lower() in ("y", "yes")
    return confirm


# -- init ------------------------------------------------------------------------------


def cmd_init(settings: Settings, args: argparse.Namespace) -> int:
    """Idempotent first-run setup used by `make run`: folders, .env, schema, password."""
    from engine.cli.seed import seed_demo
    from storage.sqlite.db import Database

    for folder in ("var/log", "var/run"):
        (settings.root / folder).mkdir(parents=True, exist_ok=True)
    example = settings.root / ".env.example"
    if not settings.env_file.exists() and example.exists():
        settings.env_file.write_text(example.read_text())
        settings.env_file.chmod(0o600)
        print(f"Created {settings.env_file} from .env.example (edit it to configure the desk).")
    _migrate_unless_running(settings)
    if seed_demo(Database(settings.db_path), settings):
        print("Fresh database on the simulator: added a demo market-making strategy; the engine will start "
              "paper trading it (Strategies page to change or disable it).")
    if load_settings().dashboard_password_hash is None:
        _ask_for_a_password(args)
    return EXIT_OK


def _ask_for_a_password(args: argparse.Namespace) -> None:
    """In a terminal, ask now; without one (started in the background), say where to set it
    instead of skipping the step silently."""
    if not sys.stdin.isatty():
        print("No dashboard password is set yet, and there is no terminal to ask for one: open the dashboard "
              "(it offers to set it on its first page) or run `.venv/bin/python -m engine set-password`.")
        return
    print("No dashboard password is set yet; choose one now (at least 8 characters).")
    try:
        cmd_set_password(load_settings(), args)
    except CliError as exc:
        print(f"{exc}. The dashboard offers to set it on its first page.", file=sys.stderr)


def _migrate_unless_running(settings: Settings) -> None:
    from engine.process.runtime import AlreadyRunning, single_instance
    from storage.sqlite.migrations import migrate

    try:
        with single_instance(settings.lock_path):
            migrate(settings.db_path)
    except AlreadyRunning:
        pass  # a running engine has already migrated its database


# -- parser ----------------------------------------------------------------------------


def build_parser() -> argparse.ArgumentParser:
    """Each module's register() adds its subcommands. Those modules import only the standard
    library and storage.sqlite.lite-level code at their top (tests/cli/test_cli_fast.py)."""
    from engine.cli import desk as cli_desk
    from engine.cli import research as cli_research

    parser = argparse.ArgumentParser(prog="python -m engine", description="Polymarket desk engine")
    sub = parser.add_subparsers(dest="cmd", required=True)
    sub.add_parser("run", help="run the engine (supervisord does this)").set_defaults(func=cmd_run)
    sub.add_parser("init", help="first-run setup: var/, .env, database, password").set_defaults(func=cmd_init)
    sub.add_parser("telegram", help="run the Telegram control bot (supervisord does this; needs TELEGRAM_BOT_TOKEN)"
                   ).set_defaults(func=cmd_telegram)
    sub.add_parser("watchdog", help="supervisord's event listener that reports the engine's death (supervisord "
                                    "runs it)").set_defaults(func=cmd_watchdog)
    failed = sub.add_parser("service-failed", help="tell the operator through NOTIFY_URLS that the desk's service "
                                                   "failed for good (systemd runs it: OnFailure=)")
    failed.add_argument("--unit", default="polymarket-desk.service", help="the service that failed")
    failed.add_argument("--retry-after-min", type=int, default=15, help="when systemd tries it again (its timer)")
    failed.set_defaults(func=cmd_service_failed)
    metrics = sub.add_parser("metrics", help="serve the desk's metrics in Prometheus' text format on 127.0.0.1 "
                                             "(METRICS_PORT, default 9464)")
    metrics.add_argument("--port", type=int, help="the port (default: METRICS_PORT from .env, else 9464)")
    metrics.set_defaults(func=cmd_metrics)
    cli_desk.register(sub)
    set_password = sub.add_parser("set-password", help="write the dashboard password hash to .env")
    set_password.add_argument("--viewer", action="store_true",
                              help="the read-only login's password (sees every page, changes nothing)")
    set_password.set_defaults(func=cmd_set_password)
    sub.add_parser("cancel-all", help="cancel every order at the venue, even with the engine down").set_defaults(
        func=cmd_cancel_all
    )
    preflight = sub.add_parser("preflight", help="before going live: prove the wallet can trade (places and "
                                                 "cancels one harmless post-only order)")
    preflight.add_argument("--json", action="store_true", help="machine-readable output")
    preflight.add_argument("--approve-auto-redeem", action="store_true",
                           help="approve Polymarket's auto-redeem operator for this wallet (audited), so resolved "
                                "positions are paid into pUSD without a redeem from the desk")
    preflight.add_argument("--approve", action="store_true",
                           help="send the missing trading approvals (pUSD and the conditional tokens, for both "
                                "exchanges and the adapters) from the wallet, after a confirmation (audited)")
    preflight.add_argument("--yes", action="store_true", help="with --approve: send without asking")
    preflight.add_argument("--actor", default="cli", help=argparse.SUPPRESS)  # who ran it, as its record says
    preflight.set_defaults(func=cmd_preflight)
    wallet = sub.add_parser("deposit-wallet", help="deploy the signing key's deposit wallet through the relayer "
                                                   "(needs RELAYER_API_KEY) and print its address, for POLY_FUNDER")
    wallet.add_argument("--json", action="store_true", help="machine-readable output")
    wallet.add_argument("--actor", default="cli", help=argparse.SUPPRESS)
    wallet.set_defaults(func=cmd_deposit_wallet)
    kalshi = sub.add_parser("kalshi-preflight", help="before trading Kalshi: prove its account can trade (places "
                                                     "and cancels one post-only 1-cent bid)")
    kalshi.add_argument("--json", action="store_true", help="machine-readable output")
    kalshi.add_argument("--actor", default="cli", help=argparse.SUPPRESS)
    kalshi.set_defaults(func=cmd_kalshi_preflight)
    seal.register(keystore.register(sub))
    cli_research.register(sub)
    from engine.cli import sweep as cli_sweep  # noqa: E402  (sweeps: engine/backtest/sweep.py)

    cli_sweep.register(sub)
    from engine.cli import sessions as cli_sessions  # noqa: E402  (recording sessions)

    cli_sessions.register(sub)
    from engine.cli import pair_suggest as cli_pair_suggest  # noqa: E402  (the same question suggested)
    from engine.cli import pairs as cli_pairs  # noqa: E402  (markets linked across venues)

    cli_pair_suggest.register(cli_pairs.register(sub))
    from engine.cli import signals as cli_signals  # noqa: E402  (fair values from outside, the MCP server)

    cli_signals.register(sub)
    from engine.cli import odds as cli_odds  # noqa: E402  (sports markets priced from bookmakers' odds)

    cli_odds.register(sub)
    from engine.cli import polls as cli_polls  # noqa: E402  (markets priced from a poll average)

    cli_polls.register(sub)
    from engine.cli import wallets as cli_wallets  # noqa: E402  (the wallet finder)

    cli_wallets.register(sub)
    from engine.cli import tax as cli_tax  # noqa: E402  (the tax-lot export)

    cli_tax.register(sub)
    from engine.cli import templates as cli_templates  # noqa: E402  (strategy templates)

    cli_templates.register(sub)
    from engine.cli import strategy_limits as cli_strategy_limits  # noqa: E402  (a strategy's own limits, exits)

    cli_strategy_limits.register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.func is cmd_service_failed:
        return cmd_service_failed(None, args)
    try:
        settings = load_settings()
        code = int(args.func(settings, args))
        sys.stdout.flush()  # here, where a closed pipe can still be handled (not at exit)
        return code
    except PayloadError as exc:  # refused before anything was queued
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except (CliError, SettingsError, DatabaseBusy) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_FAILED
    except KeyboardInterrupt:
        return EXIT_FAILED
    except BrokenPipeError:
        return _reader_went_away()


def _reader_went_away() -> int:
    """`engine status | head`: the reader closed the pipe. Not an error of ours, so no traceback;
    what is left unwritten goes nowhere (Python would complain again flushing it at exit)."""
    import os

    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
    os.close(devnull)
    return EXIT_FAILED
