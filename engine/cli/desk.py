"""The quick subcommands for a browser-less day: `status`, `command`, `alerts`, `tail`.

They answer in a fraction of a second on a small VPS because they read and write SQLite with
sqlite3 alone (storage/sqlite/lite.py, storage/desk/desk_status.py, storage/command_queue/posting.py): no SQLAlchemy, no
pandas, nothing of the trading core. Keep it so: heavy imports go inside the function that
needs them (tests/cli/test_cli_fast.py checks `status` and `command` in a subprocess).
"""

from __future__ import annotations

import argparse
import json
import signal
import sqlite3
import sys
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

from contracts.exit_floors import FLOORS_FIELD, floors_of
from contracts.settings import Settings
from contracts.venue_policies import policy_of, venues_armed_alone
from engine.cli import args as cli_args
from engine.cli.errors import EXIT_FAILED, EXIT_OK, CliError, actor
from storage.command_queue import answers, posting
from storage.desk import desk_lookups, desk_status, exit_preview
from storage.sqlite.lite import now_ms, read_connection, snapshot

ENGINE_DOWN_GRACE_S = 5.0
POLL_S = 0.02


@contextmanager
def reader(settings: Settings) -> Iterator[sqlite3.Connection]:
    """A query_only connection to the desk's database, or a CliError saying how to create it."""
    if not settings.db_path.exists():
        raise CliError(f"no initialised database at {settings.db_path}: start the engine first "
                       "(make run, or python -m engine run)")
    conn = read_connection(settings.db_path)
    try:
        yield conn
    except sqlite3.OperationalError as exc:
        if "no such" not in str(exc):
            raise
        raise CliError(f"the database at {settings.db_path} is not initialised or is older than this code "
                       f"({exc}): start the engine first (make run, or python -m engine run) so it migrates it"
                       ) from None
    finally:
        conn.close()


def _clock(at_ms: int | None) -> str:
    if at_ms is None:
        return "never"
    return datetime.fromtimestamp(at_ms / 1000, tz=UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def _ago(at_ms: int | None, now: int) -> str:
    if at_ms is None:
        return "never"
    seconds = max(0, (now - at_ms) // 1000)
    for size, unit in ((86_400, "d"), (3_600, "h"), (60, "min")):
        if seconds >= size:
            return f"{seconds // size} {unit} ago"
    return f"{seconds} s ago"


def _money(value: float | None, *, sign: bool = False) -> str:
    return "—" if value is None else (f"{value:+,.2f}" if sign else f"{value:,.2f}")


# -- status ----------------------------------------------------------------------------------------


def cmd_status(settings: Settings, args: argparse.Namespace) -> int:
    with reader(settings) as conn, snapshot(conn):
        report = desk_status.status_report(conn, settings.db_path, alerts_shown=args.alerts)
    report["notifications"]["destinations"] = settings.notify_destinations()
    if args.json:
        print(json.dumps(report, indent=2, default=str))
    else:
        print("\n".join(status_lines(report, now_ms())))
    return EXIT_OK


def status_lines(report: dict[str, Any], now: int) -> list[str]:
    """The report as the operator reads it over SSH."""
    age = report["heartbeat_age_s"]
    beat = "no heartbeat yet" if age is None else f"heartbeat {age:.1f} s ago"
    if report.get("data_age_s") is not None:
        beat += f", oldest book {report['data_age_s']:.1f} s old"
    up = f"up, pid {report['pid']}" if report["engine_up"] else "DOWN"
    if report.get("pass_age_s") is not None:
        beat += f", last trading pass {report['pass_age_s']:.1f} s ago"
    desk = report["desk"]  # the desk's one state (storage/desk/desk_state.py): the header's and the metrics'
    lines = [
        f"engine     {report['state']} (wants {report['desired_state']}), {report['armed']}"
        + "".join(f", {report[f'{venue}_armed']}" for venue in _apart() if report.get(f"{venue}_mode") == "live")
        + f", {up}, {beat}",
        f"desk       {desk['label']}" + (f" ({desk['reason']})" if desk["reason"] else ""),
        *([f"deciding   NO: {report['cannot_decide']}"] if report.get("cannot_decide") else []),
        *(f"idle       {why}" for why in report.get("idle", [])),
        "kill latch " + (f"SET: {report['kill_reason']}" if report["kill_latched"] else "off"),
    ]
    if report["last_error"]:
        lines.append(f"last error {report['last_error']}")
    lines += _set_aside_lines(report["set_aside"])
    lines += _venue_lines(report["venue"])
    pnl = report["pnl_today"]
    if pnl is None:
        lines.append("equity     — (no portfolio snapshot yet)")
    else:
        lines.append(f"equity     {_money(pnl['equity'])} pUSD; today {_money(pnl['total'], sign=True)} = "
                     f"realized after fees {_money(pnl['realized_after_fees'], sign=True)} (fees "
                     f"{_money(pnl['fees'])}) + unrealized change {_money(pnl['unrealized_change'], sign=True)}"
                     + (f" + other {_money(pnl['other'], sign=True)}" if pnl["other"] else ""))
    lines.append(f"orders     {report['open_orders']} open; {report['positions']} positions "
                 f"(cost {_money(report['positions_cost_usdc'])} pUSD)")
    lines += _money_lines(report["money"], report["redeemable"])
    lines += _strategy_table(report["strategies"])
    lines += _paper_ledger_lines(report.get("paper_ledger"))
    for venue in _apart():
        lines += _venue_ledger_lines(venue, report.get(f"{venue}_paper") or report.get(f"{venue}_live"),
                              report.get(f"{venue}_stake", "venue not read yet"))
    lines += _alert_lines(report["unacked_alerts"], report["alerts"])
    lines.append("notify     " + _notify_line(report["notifications"], now))
    return lines


def _paper_ledger_lines(ledger: dict[str, Any] | None) -> list[str]:
    """Paper-only strategies trading on paper beside a live desk: their own ledger, said apart."""
    return _ledger_lines(ledger, "paper ledger", "on paper beside live", "pUSD")


def _apart() -> list[str]:
    """The venues armed on their own, each with its lines in the report."""
    return [policy.venue for policy in venues_armed_alone()]


def _venue_ledger_lines(venue: str, ledger: dict[str, Any] | None, at_stake: str = "venue not read yet") -> list[str]:
    """Strategies trading a venue armed on its own, in its armed mode: said apart, as the paper ledger is (live,
    with the strategies held because they may not trade there; `at_stake`: real money only on that venue's
    own production host)."""
    if ledger is None:
        return []
    policy, head = policy_of(venue), f"{venue:<10}"
    mode = ledger.get("mode", "paper")
    where = f"on {policy.label}'s paper ledger" if mode == "paper" else f"LIVE on {policy.label} ({at_stake})"
    lines = _ledger_lines(ledger, head, where, policy.cash_unit, mode)
    if ledger.get("held"):
        lines.append(f"{head} held while {policy.label} is live: {', '.join(ledger['held'])} (see the "
                     f"{policy.code('HELD')} alerts)")
    return lines + _exchange_line(head, ledger.get("exchange")) + _funds_lines(head, ledger.get("funds"))


def _funds_lines(head: str, funds: dict[str, Any] | None) -> list[str]:
    """A live venue's account sections (Kalshi's shards): each one's money, what moves between them, and each
    shortfall that holds quotes, with the move that would fund it (confirmed by the operator, never made
    unasked)."""
    if not funds or not isinstance(funds.get("shards"), dict):
        return []
    shards = ", ".join(f"{index} {row.get('name', '')} ${row.get('free', 0) / 1e6:,.2f}".replace("  ", " ")
                       for index, row in funds["shards"].items() if isinstance(row, dict))
    lines = [f"{head} shards: {shards}"]
    for moving in funds.get("in_flight") or []:
        lines.append(f"{head} moving ${moving.get('amount', 0) / 1e6:,.2f} from shard {moving.get('source')} to shard "
                     f"{moving.get('destination')}: accepted, not arrived")
    lines += [f"{head} SHORT: {short.get('words')}" for short in funds.get("shortfalls") or []
              if isinstance(short, dict)]
    return lines


def _exchange_line(head: str, exchange: dict[str, Any] | None) -> list[str]:
    """A venue's exchange as the engine last read it (where it announces pauses): paused now, or its next
    scheduled pause."""
    if not exchange:
        return []

    def at(ms: Any) -> str:
        return "?" if ms is None else datetime.fromtimestamp(ms / 1000, UTC).strftime("%a %Y-%m-%d %H:%M UTC")

    if not exchange.get("trading_active", True):
        kind = "EXCHANGE PAUSED" if not exchange.get("exchange_active", True) else "TRADING PAUSED"
        said = f"{head} {kind} until about {at(exchange.get('resume_at'))}: nothing placed there, resumes by itself"
    else:
        window = exchange.get("next_pause")
        said = f"{head} exchange open" + (f"; next scheduled pause {at(window[0])} to {at(window[1])}"
                                          if window else "")
    if exchange.get("error"):
        said += f" (last read failed: {exchange['error']})"
    return [said]


def _ledger_lines(ledger: dict[str, Any] | None, head: str, where: str, unit: str, mode: str = "paper") -> list[str]:
    if ledger is None:
        return []
    state = ledger["trading_state"] + (f" ({ledger['trading_reason']})" if ledger["trading_reason"] else "")
    equity = "no snapshot yet" if ledger["equity_usdc"] is None else (
        f"equity {_money(ledger['equity_usdc'])} {unit}, today {_money(ledger['pnl_today_usdc'], sign=True)}")
    names = ", ".join(ledger["strategies"]) or "no strategy"
    return [f"{head} {names} {where}: {state}; {equity}; "
            f"{ledger['open_orders']} open orders, {ledger['positions']} positions ({mode})"]


def _venue_lines(venue: dict[str, Any]) -> list[str]:
    """The venue's phase and every other condition that holds now; "ok" only when none does. Then
    the live venue's rate-limit tier, what the desk paces its orders and cancels by."""
    return _venue_state_lines(venue) + _tier_lines(venue.get("tier") or {})


def _tier_lines(tier: dict[str, Any]) -> list[str]:
    if not tier:
        return []
    read = (f"read from the venue {_clock(tier['read_at'])}" if tier.get("read_at")
            else "assumed until the venue names it")
    return [f"rate tier  {tier['tier']}: orders {tier.get('order_rate')}/s (burst {tier.get('order_burst')}), "
            f"cancels {tier.get('cancel_rate')}/s (burst {tier.get('cancel_burst')}), {read}"]


def _venue_state_lines(venue: dict[str, Any]) -> list[str]:
    if venue.get("ok", venue["status"] == "ok"):
        return ["venue      ok"]
    lines = []
    if venue["status"] != "ok":
        lines.append(f"{venue['status']} since {_clock(venue['since'])}: {venue['detail']}")
    for condition in venue.get("conditions", []):
        since = f" since {_clock(condition.get('since'))}" if condition.get("since") else ""
        lines.append(f"{str(condition['code']).replace('_', ' ')}{since}: {condition.get('detail', '')}")
    return [("venue      " if i == 0 else "           ") + line for i, line in enumerate(lines)]


def _money_lines(money: dict[str, float], owed: list[dict[str, Any]]) -> list[str]:
    """Cash (paid by the venue) apart from what it still owes: a resolved position is not cash."""
    lines = [f"cash       {_money(money['cash_usdc'])} pUSD; redeemable {_money(money['redeemable_usdc'])} pUSD "
             f"(owed by the venue, not cash yet); paid so far: redemptions {_money(money['redeemed_usdc'])}, "
             f"merges {_money(money['merged_usdc'])}, maker rebates {_money(money['rebates_usdc'])}, "
             f"liquidity rewards {_money(money['rewards_usdc'])}"]
    for claim in owed:
        state = claim["last_tx"] or "not sent yet"
        if claim["last_error"] and state == "failed":
            state += f": {claim['last_error'][:80]}"
        lines.append(f"  owed     {_money(claim['owed_usdc'])} pUSD ({claim['kind']}) in {claim['question'][:50]!r} "
                     f"[{claim['condition_id'][:12]}…], {state}")
    return lines


def _strategy_table(strategies: list[dict[str, Any]]) -> list[str]:
    if not strategies:
        return ["strategies none configured"]
    width = max(12, *(len(s["strategy"]) for s in strategies))
    head = f"  {'strategy':<{width}}  {'state':>6}  {'orders':>6}  {'positions':>9}  {'exposure':>10}  " \
           f"{'realized':>10}  {'fees':>8}"
    rows = [head]
    for s in strategies:
        state = _strategy_state(s)
        rows.append(f"  {s['strategy']:<{width}}  {state:>6}  {s['open_orders']:>6}  {s['positions']:>9}  "
                    f"{_money(s['exposure_usdc']):>10}  {_money(s['pnl_usdc'], sign=True):>10}  "
                    f"{_money(s['fees_usdc']):>8}")
    return ["strategies (exposure; realized PnL after fees, and the fees paid, in pUSD)", *rows]


def _strategy_state(line: dict[str, Any]) -> str:
    """In the Strategies page's words: on, paused (enabled, holding its quotes) or off; its error when
    it is not ok; — for an origin that is no strategy (manual orders, imported ones)."""
    if line["status"] not in (None, "ok"):
        return str(line["status"])
    if line["enabled"] is None:
        return "—"
    return ("paused" if line.get("paused") else "on") if line["enabled"] else "off"


def _set_aside_lines(found: list[dict[str, Any]]) -> list[str]:
    """What the engine quarantined (it runs without it), and how to repair each."""
    if not found:
        return []
    lines = [f"set aside  {len(found)} row{'s' if len(found) != 1 else ''} the engine could not read and runs without:"]
    for entry in found:
        lines += [f"  {entry['subject']}: {' '.join(str(entry['problem']).split())}", f"    repair: {entry['repair']}"]
    return lines


def _alert_lines(count: int, newest: list[dict[str, Any]]) -> list[str]:
    if not count:
        return ["alerts     none waiting"]
    shown = f", newest {len(newest)}" if len(newest) < count else ""
    lines = [f"alerts     {count} not acknowledged{shown} (python -m engine alerts; --ack ID)"]
    lines += [alert_line(a) for a in newest]
    return lines


def alert_line(alert: dict[str, Any]) -> str:
    message = " ".join(str(alert["message"]).split())
    return f"  #{alert['id']:<5} {_clock(alert['created_at'])}  {alert['level']:<8} {alert['code']}: {message}"


def _notify_line(notify: dict[str, Any], now: int) -> str:
    schemes = notify.get("destinations") or []
    if not schemes:
        return "not configured (NOTIFY_URLS in .env)"
    text = f"{len(schemes)} destination{'s' if len(schemes) != 1 else ''} ({', '.join(schemes)})"
    last = notify["last"]
    if last is not None:
        text += f"; last {last['kind']} {last['status']} {_ago(last['last_attempt_at'], now)}"
        if last["status"] == "failed" and last["error"]:
            text += f": {last['error']}"
    if notify["queued"]:
        text += f"; {notify['queued']} queued"
    return text


# -- command ---------------------------------------------------------------------------------------


def cmd_command(settings: Settings, args: argparse.Namespace) -> int:
    # Validated first: an unknown kind or a bad payload is refused (exit 2) before anything is read or written.
    values = posting.prepare(args.kind, args.payload, actor=actor(), key=uuid.uuid4().hex,
                             ttl_s=settings.command_ttl_s)
    with reader(settings) as conn:
        if args.kind in FLOORED:
            values = _with_floors(conn, settings, values)
        status = desk_status.engine_status(conn, settings.db_path)
        if not status.engine_up:
            age = "never" if status.heartbeat_age_s is None else f"{status.heartbeat_age_s:.0f}s ago"
            print(f"warning: the engine is not running (last heartbeat {age}); the command waits in "
                  f"the queue until it starts or expires", file=sys.stderr)
        row = posting.post(settings.db_path, values, lock_wait_s=args.timeout)
        if args.no_wait:
            print(json.dumps({"id": row["id"], "status": row["status"]}))
            return EXIT_OK
        return _wait_for(conn, settings, row["id"], args.timeout)


FLOORED = ("exit", "flatten")  # the commands that sell: each carries the floor it states (contracts/exit_floors.py)


def _with_floors(conn: sqlite3.Connection, settings: Settings, values: dict[str, Any]) -> dict[str, Any]:
    """An exit or flatten carries the lowest price per position it is sold at, stated here before it is posted
    (as the dashboard's dialog and Telegram's confirmation state it): the latest recorded mid less the
    max-slippage limit. A payload that names its own `floors` keeps them; one the desk has no price for
    goes without (the engine's floor when it sends bounds it, and its answer says so)."""
    payload = json.loads(values["payload"])
    if FLOORS_FIELD in payload:
        for key, floor in payload[FLOORS_FIELD].items():
            print(f"{values['kind']}: {key} at no less than {floor} (the floor you gave)", file=sys.stderr)
        return values
    found = exit_preview.lines(conn, exit_preview.ledgers_of(conn, settings.db_path, values["kind"], payload), payload)
    for line in found:
        print(f"{values['kind']}: {line.words()}", file=sys.stderr)
    floors = floors_of(found)
    if not floors:
        print(f"{values['kind']}: no recorded price for what it sells, so it goes without a floor: the engine's, the "
              "mid less the max slippage when it sends, bounds it", file=sys.stderr)
        return values
    return {**values, "payload": json.dumps({**payload, FLOORS_FIELD: floors}, sort_keys=True)}


def _wait_for(conn: sqlite3.Connection, settings: Settings, command_id: int, timeout_s: float) -> int:
    """Wait for the answer; give up early if no engine is there to run it."""
    outcome = answers.wait(conn, settings.db_path, command_id, timeout_s, down_grace_s=ENGINE_DOWN_GRACE_S,
                           poll_s=POLL_S)
    if outcome.answered:
        return _report(desk_status.command_status(conn, command_id) or {})
    if not outcome.engine_up:
        raise CliError(f"the engine is not running, so command {command_id} stays queued until it "
                       "expires; start the engine (supervisorctl -c supervisord.conf start engine)")
    raise CliError(f"command {command_id} got no answer within {timeout_s:g}s; is the engine running? "
                   "(python -m engine status)")


def _report(found: dict[str, Any]) -> int:
    if found["status"] == "done":
        print(found["result"] or "{}")
        for line in answers.sales(found["result"]):  # stdout stays the JSON a script reads
            print(f"sold: {line}", file=sys.stderr)
        for line in answers.unsold(found["result"]):
            print(f"partly done: {line}", file=sys.stderr)
        return EXIT_OK
    print(f"command {found['id']} ({found['kind']}) {found['status']}: {found['error']}", file=sys.stderr)
    return EXIT_FAILED


# -- alerts ----------------------------------------------------------------------------------------


def cmd_alerts(settings: Settings, args: argparse.Namespace) -> int:
    if args.ack:
        return _ack(settings, args.ack)
    with reader(settings) as conn:
        count, newest = desk_status.unacked_alerts(conn, limit=args.limit)
    if args.json:
        print(json.dumps({"unacked": count, "alerts": newest}, indent=2))
    elif not count:
        print("no alerts waiting for acknowledgement")
    else:
        shown = f" (newest {len(newest)})" if len(newest) < count else ""
        noun = "alert" if count == 1 else "alerts"
        print(f"{count} {noun} not acknowledged{shown}; acknowledge with: python -m engine alerts --ack ID")
        print("\n".join(alert_line(a) for a in newest))
    return EXIT_OK


def _ack(settings: Settings, wanted: list[str]) -> int:
    """Acknowledge (each one audited, through storage.desk.config like the dashboard's button)."""
    from storage.desk.config import ack_alert
    from storage.sqlite.db import Database

    with reader(settings) as conn:
        if wanted == ["all"]:
            ids = desk_lookups.unacked_alert_ids(conn)
        else:
            ids = [_alert_id(raw) for raw in wanted]
    db = Database(settings.db_path)
    try:
        refused = [i for i in ids if not ack_alert(db, i, actor=actor())]
    finally:
        db.dispose()
    done = len(ids) - len(refused)
    print(f"acknowledged {done} alert{'s' if done != 1 else ''}")
    if refused:
        raise CliError(f"not acknowledged (unknown, or acknowledged already): {', '.join(f'#{i}' for i in refused)}")
    return EXIT_OK


def _alert_id(raw: str) -> int:
    text = raw.strip().lstrip("#")
    if not text.isdigit() or not 1 <= int(text) <= cli_args.MAX_ID:
        raise CliError(f"--ack takes alert ids (numbers, as `python -m engine alerts` lists them) or 'all', "
                       f"not {raw[:40]!r}")
    return int(text)


# -- tail ------------------------------------------------------------------------------------------


def cmd_tail(settings: Settings, args: argparse.Namespace) -> int:
    """The engine's JSON log as readable lines, secrets masked; follows until Ctrl-C."""
    from contracts import log_format as log_files
    from contracts.redaction import RedactingFilter
    from contracts.settings import secret_values

    path = log_files.engine_log_path(settings.root)
    redactor = RedactingFilter(secret_values(settings))
    size = path.stat().st_size if path.exists() else None
    if size is None and not args.follow:
        raise CliError(f"no engine log at {path} (set ENGINE_LOG_FILE if the engine logs elsewhere)")
    if size is None:
        print(f"waiting for {path} to appear (Ctrl-C to stop)…", file=sys.stderr)

    def show(line: str) -> None:
        if line.strip() and log_files.level_at_least(line, args.level):
            print(redactor.redact(line if args.raw else log_files.readable(line)), flush=args.follow)

    for line in log_files.tail(path, args.lines, end=size) or []:
        show(line)
    if not args.follow:
        return EXIT_OK
    # Ctrl-C ends it even when started with SIGINT ignored (a shell's background job, a process
    # that ignored it before starting this one): Python keeps an inherited "ignore".
    signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        for line in log_files.follow(path, offset=size):
            show(line)
    except KeyboardInterrupt:
        pass
    return EXIT_OK


# -- parser ----------------------------------------------------------------------------------------


def register(sub: argparse._SubParsersAction) -> None:
    status = sub.add_parser("status", help="state, equity and today's PnL, orders and positions per strategy, "
                                           "alerts, venue health, notifications")
    status.add_argument("--json", action="store_true", help="machine-readable output")
    status.add_argument("--alerts", type=cli_args.bounded_int(0, 500, "alerts"), default=5,
                        help="how many unacknowledged alerts to list (default 5)")
    status.set_defaults(func=cmd_status)
    command = sub.add_parser("command", help="post an operator command exactly as the dashboard does")
    command.add_argument("kind", help="start stop pause resume kill rearm reload_config set_mode set_venue_mode "
                                      "cancel_order flatten place_order cancel_iceberg cancel_trailing_stop redeem "
                                      "merge notify_test")
    command.add_argument("payload", nargs="?", help='JSON object, e.g. \'{"reason": "news"}\'')
    command.add_argument("--no-wait", action="store_true", help="return once queued")
    command.add_argument("--timeout", type=cli_args.seconds, default=30.0,
                         help="seconds to wait for the database and the answer (default 30, at most 3600)")
    command.set_defaults(func=cmd_command)
    alerts = sub.add_parser("alerts", help="alerts not acknowledged yet; --ack ID to acknowledge (audited)")
    alerts.add_argument("--ack", nargs="+", metavar="ID", help="acknowledge these alert ids (or 'all')")
    alerts.add_argument("--limit", type=cli_args.bounded_int(1, 1000, "limit"), default=50,
                        help="how many to list (default 50)")
    alerts.add_argument("--json", action="store_true", help="machine-readable output")
    alerts.set_defaults(func=cmd_alerts)
    tail = sub.add_parser("tail", help="follow the engine's log as readable lines (Ctrl-C ends it)")
    tail.add_argument("-n", "--lines", type=cli_args.bounded_int(0, 10_000, "lines"), default=20,
                      help="how many past lines to show first (default 20)")
    tail.add_argument("--no-follow", dest="follow", action="store_false", help="print and exit")
    tail.add_argument("--level", type=str.upper, choices=("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"),
                      default="DEBUG", help="only lines of this level or worse")
    tail.add_argument("--raw", action="store_true", help="the JSON lines as written")
    tail.set_defaults(func=cmd_tail)
