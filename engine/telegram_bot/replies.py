"""What the bot says, read from SQLite with sqlite3 alone (blocking calls: the bot runs them on a
worker thread). Plain text; app.py escapes it and wraps tables in <pre>.

`/status` is exactly `python -m engine status` (engine/cli/desk.py: status_lines over
storage/desk/desk_status.py); the lists come from storage/desk/desk_lists.py and desk_lookups.py; a
command's outcome is the engine's own answer (storage/command_queue/answers.py), worded as done, refused with
the reason, or queued.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from contracts.exit_floors import ExitLine
from contracts.settings import Settings
from contracts.venue_policies import venues_armed_alone
from contracts.venues import VenuePolicy, desk_venue
from engine.cli.desk import alert_line, status_lines
from storage.command_queue import answers
from storage.command_queue.answers import Outcome
from storage.desk import desk_lists, desk_lookups, desk_status, exit_preview
from storage.desk.desk_state import stake
from storage.sqlite.lite import now_ms, read_connection, snapshot, utc_day_start

DAY_MS = 86_400_000
ALERTS_SHOWN = 8


class NotReady(Exception):
    """The database is not there or not migrated yet; the message says so."""


@contextmanager
def reading(settings: Settings) -> Iterator[sqlite3.Connection]:
    if not settings.db_path.exists():
        raise NotReady("the desk's database does not exist yet: is the engine running? (make run)")
    conn = read_connection(settings.db_path)
    try:
        with snapshot(conn):
            yield conn
    except sqlite3.OperationalError as exc:
        if "no such" not in str(exc):
            raise
        raise NotReady("the desk's database is older than this bot: start the engine so it migrates it") from None
    finally:
        conn.close()


def status(settings: Settings) -> str:
    with reading(settings) as conn:
        report = desk_status.status_report(conn, settings.db_path, alerts_shown=3)
    report["notifications"]["destinations"] = settings.notify_destinations()
    return "\n".join(status_lines(report, now_ms()))


def _money(value: float | None, sign: bool = False) -> str:
    return "—" if value is None else (f"{value:+,.2f}" if sign else f"{value:,.2f}")


def pnl(settings: Settings, window: str) -> str:
    now = now_ms()
    with reading(settings) as conn:
        status = desk_status.engine_status(conn, settings.db_path)
        mode = status.mode
        ledger = _ledger_line(desk_status.paper_ledger(conn, now) if mode == "live" else None) + "".join(
            _venue_line(conn, now, status, policy) for policy in venues_armed_alone())
        if window == "today":
            today = desk_status.pnl_today(conn, mode, now=now)
            if today is None:
                return f"PnL today ({mode}): no portfolio snapshot yet." + ledger
            since = utc_day_start(now)
            parts = today.parts()  # in cents, adding up as shown
            lines = [f"PnL today ({mode}, since 00:00 UTC), after fees",
                     f"total      {_money(parts['total'], True)} pUSD (equity {_money(today.equity)})",
                     f"realized   {_money(parts['realized_after_fees'], True)} after fees of {_money(parts['fees'])}",
                     f"unrealized {_money(parts['unrealized_change'], True)} (change today)"]
            if parts["other"]:
                lines.append(f"other      {_money(parts['other'], True)} (deposits, rewards, rebates)")
        else:
            since = now - 7 * DAY_MS
            week = desk_lists.pnl_window(conn, mode, since)
            if week is None:
                return f"PnL this week ({mode}): no portfolio snapshot yet." + ledger
            lines = [f"PnL over 7 days ({mode}), after fees", f"total      {_money(week['change'], True)} pUSD "
                     f"(equity {_money(week['equity'])})",
                     f"realized   {_money(week['realized'] - week['fees'], True)} after fees of {_money(week['fees'])}"]
        fills = desk_lists.pnl_window(conn, mode, since)
        strategies = desk_status.per_strategy(conn, mode)
    if fills is not None:
        lines.append(f"fills      {fills['fills']} ({_money(fills['volume'])} pUSD traded)")
    lines.append("realized to date after fees, per strategy:")
    lines += [f"  {s['strategy']}: {_money(s['pnl_usdc'], True)} (fees {_money(s['fees_usdc'])})"
              for s in strategies[:15]] or ["  none"]
    return "\n".join(lines) + ledger


def _venue_line(conn: sqlite3.Connection, now: int, status: desk_status.EngineStatus, policy: VenuePolicy) -> str:
    """The ledger of a venue armed on its own, in its armed mode (none: nothing trades it)."""
    armed = status.mode_of(policy.venue)
    paper = armed == "paper"
    return _ledger_line(desk_status.venue_ledger(conn, now, policy.venue, armed),
                        f"{policy.label} paper" if paper else f"{policy.label} LIVE",
                        "on paper" if paper else stake(status.host_of(policy.venue)))


def _ledger_line(ledger: dict[str, Any] | None, name: str = "paper ledger", where: str = "on paper") -> str:
    """A ledger other than the desk's (paper-only strategies beside a live desk, Kalshi's paper or live
    ledger): its own figures, said apart."""
    if ledger is None:
        return ""
    return (f"\n{name} ({', '.join(ledger['strategies'])}, {where}, not in the figures above): equity "
            f"{_money(ledger['equity_usdc'])}, today {_money(ledger['pnl_today_usdc'], True)}, "
            f"{ledger['trading_state']}")


def _listing(what: str, where: str, count: int, lines: list[str], first: str) -> str:
    """`where`: whose ledger, as said after the count ("(paper)", "on Kalshi, LIVE: real money")."""
    if not count:
        return f"No open {what}s {where}."
    head = f"{count} open {what}{'s' if count != 1 else ''} {where}"
    return "\n".join([head + (f", {first} {len(lines)}" if len(lines) < count else ""), *lines])


def _ledgers(conn: sqlite3.Connection, settings: Settings) -> list[tuple[str, str, str | None]]:
    """The lists to show, each (whose, as said after the count; mode; venue or None for every venue):
    the desk's mode's ledgers first (what /flatten sells), then apart the paper ledger beside a live
    desk and each venue armed on its own whose ledger trades the other mode."""
    status = desk_status.engine_status(conn, settings.db_path)
    mode = status.mode
    found: list[tuple[str, str, str | None]] = [(f"({mode})", mode, None)]
    if mode == "live":
        found.append(("on the paper ledger (paper-only strategies: paper money)", "paper", desk_venue()))
    for policy in venues_armed_alone():
        armed = status.mode_of(policy.venue)
        if armed != mode:
            found.append((_on_venue(policy, armed, status.host_of(policy.venue)), armed, policy.venue))
    return found


def _on_venue(policy: VenuePolicy, mode: str | None, host: str | None = None) -> str:
    return f"on {policy.label}, LIVE: {stake(host)}" if mode == "live" else f"on {policy.label}'s paper ledger"


def _position_line(p: dict[str, Any], own: bool) -> str:
    average = "" if p["average"] is None else f" avg {p['average']:.3f}"
    pending = f" ({p['pending']:g} settling)" if p["pending"] else ""
    line = (f"• {p['strategy']}: {p['outcome']} {p['shares']:g} sh{pending}{average}, cost "
            f"{_money(p['cost'])}, realized {_money(p['realized'], True)}\n  {p['market']}")
    if not own or p["venue"] != desk_venue():  # flatten sells the desk's own ledger, nothing else
        return line
    return line + f"\n  /flatten {p['slug'] or p['condition_id'][:12]}"


def _listed(settings: Settings, what: str, read: Callable[..., tuple[int, list[dict[str, Any]]]],
            line: Callable[[dict[str, Any], bool], str], first: str) -> str:
    """The desk's mode's list, then each other ledger's apart (`_ledgers`), those with nothing left out."""
    with reading(settings) as conn:
        lists = [(whose, *read(conn, mode, venue=venue)) for whose, mode, venue in _ledgers(conn, settings)]
    (whose, count, shown), others = lists[0], lists[1:]
    said = [_listing(what, whose, count, [line(row, True) for row in shown], first)]
    said += [_listing(what, whose, count, [line(row, False) for row in shown], first)
             for whose, count, shown in others if count]
    return "\n\n".join(said)


def positions(settings: Settings) -> str:
    return _listed(settings, "position", desk_lists.open_positions, _position_line, "largest")


def _order_line(o: dict[str, Any], own: bool) -> str:
    """(`own` is the position line's: an order carries no /flatten line on either ledger.)"""
    return (f"• #{o['id']} {o['strategy']}: {o['side']} {o['outcome']} {o['size']:g} @ {o['price']:.3f} "
            f"{o['tif']} {o['status']}" + (f" ({o['filled']:g} filled)" if o["filled"] else "")
            + f"\n  {o['market']}")


def orders(settings: Settings) -> str:
    return _listed(settings, "order", desk_lists.open_orders, _order_line, "newest")


def alerts(settings: Settings) -> tuple[str, list[dict[str, Any]]]:
    with reading(settings) as conn:
        count, newest = desk_status.unacked_alerts(conn, limit=ALERTS_SHOWN)
    if not count:
        return "No alerts waiting for acknowledgement.", []
    shown = f", newest {len(newest)}" if len(newest) < count else ""
    return "\n".join([f"{count} alert{'s' if count != 1 else ''} not acknowledged{shown}:",
                      *(alert_line(a).strip() for a in newest)]), newest


def strategy_version(settings: Settings, name: str) -> tuple[int, bool] | None:
    with reading(settings) as conn:
        return desk_lookups.strategy_version(conn, name)


def strategy_names(settings: Settings) -> list[str]:
    with reading(settings) as conn:
        return desk_lookups.strategy_names(conn)


def held_markets(settings: Settings, wanted: str) -> list[dict[str, Any]]:
    with reading(settings) as conn:
        mode = desk_status.engine_status(conn, settings.db_path).mode
        return desk_lists.held_markets(conn, mode, wanted)


def flatten_lines(settings: Settings, condition_id: str) -> list[ExitLine]:
    """What `/flatten` of this market sells, each with the floor it is sold at no less than (the command
    carries them: storage/desk/exit_preview.py)."""
    payload = {"condition_id": condition_id}
    with reading(settings) as conn:
        return exit_preview.lines(conn, exit_preview.ledgers_of(conn, settings.db_path, "flatten", payload), payload)


def wait_for(settings: Settings, command_id: int, wait_s: float) -> Outcome:
    conn = read_connection(settings.db_path)  # no snapshot: each poll must see the engine's answer
    try:
        return answers.wait(conn, settings.db_path, command_id, wait_s)
    finally:
        conn.close()


def outcome_text(label: str, outcome: Outcome) -> str:
    """The engine's real answer, in one or two lines."""
    number = f"command #{outcome.command_id}"
    sold = "".join(f" {line}." for line in answers.sales(outcome.result))[:600]
    if outcome.state == "done" and (remains := answers.unsold(outcome.result)):
        return f"{label}: partly done ({number}).{sold} Remains: " + "; ".join(remains)[:600]
    if outcome.state == "done" and sold:
        return f"{label}: done ({number}).{sold}"
    if outcome.state == "done":
        return f"{label}: done ({number}){_result(outcome.result)}"
    if outcome.state in ("failed", "expired"):
        return f"{label}: refused by the engine ({number}): {outcome.error or outcome.state}"
    if not outcome.engine_up:
        return (f"{label}: queued ({number}), but the engine is not running; it runs when the engine starts, "
                "unless it expires first (COMMAND_TTL_SECONDS). Kill never expires.")
    return f"{label}: queued: the engine has not answered yet ({number}). /status shows where things stand."


def _result(raw: str | None) -> str:
    try:
        value = json.loads(raw) if raw else None
    except ValueError:
        return ""
    if not isinstance(value, dict) or not value:
        return ""
    parts = [f"{k.replace('_', ' ')} {v}" for k, v in value.items() if isinstance(v, str | int | float | bool)]
    return ": " + ", ".join(parts)[:300] if parts else ""
