"""Arming a venue live: its gate and checklist, one definition for the Settings page and the engine.

A gate is venue-generic: a list of checks, each (name, ok, detail, fix), some that nothing can
override (no key read, the engine running, orders open) and the others that the operator may
override only by naming each failing one, typed and audited (an override naming a check nothing
overrides is refused, whether that check passes or not). Each venue's checklist is built here from
what its policy says arming it checks (contracts/venues/policy.py `Arming`) and what the desk knows:

- the key the running engine read at its start (engine_state, migration 0061; for a venue armed on its own:
  its row of venue_modes, 0099), never `.env` as the dashboard reads it: the engine reads `.env`
  only when it starts;
- the last preflight of that very account on that very host within the hour (preflight_runs,
  0062: `engine preflight`, `engine kalshi-preflight`, or the Settings page's button), and its
  checks: the region, the wallet and funder, the approvals, a test order; a run dated ahead of the
  clock never counts (the checklist says so, and why);
- at least one promoted strategy trading the venue (nothing is live unless promoted);
- the engine stopped, no order of the venue open.

The Settings page shows every check up front with its fix; the engine evaluates the same gate
before it applies `set_mode` / `set_venue_mode` (engine/process/control.py), with its own reads.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import text

from contracts.order_status import TERMINAL_RANK
from contracts.venue_policies import policy_of, venues_armed_alone
from contracts.venues.policy import Arming
from storage.desk.desk_status import names_venue, one
from storage.sqlite.db import Database

FRESH_MS = 3_600_000  # a preflight older than an hour proves nothing about now
# ... nor does one dated ahead of this machine's clock (a clock put right since it ran, a database
# restored from another machine): every writer of preflight_runs is a process on this machine, so a
# run ahead by more than this did not happen when it says.
AHEAD_MS = 5_000
STOPPED_STATES = frozenset({"IDLE", "STOPPED"})
RESTART_ENGINE = ("restart the engine so it reads .env (it reads it only at its start): "
                  ".venv/bin/supervisorctl -c supervisord.conf restart engine")


@dataclass(frozen=True)
class Check:
    name: str
    ok: bool
    detail: str
    fix: str = ""
    overridable: bool = True  # False: nothing arms past it


@dataclass(frozen=True)
class Gate:
    venue: str
    checks: tuple[Check, ...]

    @property
    def ok(self) -> bool:
        return all(c.ok for c in self.checks)

    @property
    def failing(self) -> tuple[Check, ...]:
        return tuple(c for c in self.checks if not c.ok)

    @property
    def blocking(self) -> tuple[Check, ...]:
        """Failing checks no override passes."""
        return tuple(c for c in self.failing if not c.overridable)

    def refusal(self, override: str = "") -> str | None:
        """Why arming is refused now (None: it may go). `override` names failing checks the operator
        chose to arm past (comma-separated); it must name every failing one, and may name no check
        that nothing overrides, whether that check passes or fails, nor a check the gate does not
        have: an override that asks for what no override gives is refused, never partly taken."""
        if self.blocking:
            return "; ".join(f"{c.name}: {c.detail} (fix: {c.fix})" for c in self.blocking)
        named = override_names(override)
        wrong = self.not_overridable(named)
        if wrong:
            return (f"the override names {', '.join(wrong)}: only a failing check marked as overridable can be "
                    "named (fix: leave the rest out of the override)")
        unnamed = [c for c in self.failing if c.name not in named]
        if unnamed:
            return ("; ".join(f"{c.name}: {c.detail} (fix: {c.fix})" for c in unnamed)
                    + " — fix each, or override each by name (typed, audited)")
        return None


    def not_overridable(self, named: set[str]) -> list[str]:
        """The names an override may not hold: checks nothing overrides (passing or not) and names
        that are no check of this gate."""
        overridable = {c.name for c in self.checks if c.overridable}
        return sorted(named - overridable)


def override_names(override: str) -> set[str]:
    return {name.strip() for name in override.split(",") if name.strip()}


@dataclass(frozen=True)
class EngineReads:
    """What the running engine holds for a venue: whether it runs, its lifecycle state, the account it
    read (said without its secret: its adapter's `account`) and the host it trades on."""

    up: bool
    state: str
    account: str | None
    host: str | None


def engine_reads(conn: sqlite3.Connection, venue: str, *, up: bool) -> EngineReads:
    """The engine's reads as it recorded them at its start (the dashboard's view of the engine)."""
    row = one(conn, "SELECT * FROM engine_state WHERE id = 1")
    assert row is not None
    if policy_of(venue) not in venues_armed_alone():  # the desk's own: read with the engine's row
        keys = row.keys()
        return EngineReads(up, row["state"], row["venue_wallet"] if "venue_wallet" in keys else None,
                           row["venue_host"] if "venue_host" in keys else None)
    read = one(conn, "SELECT account, host FROM venue_modes WHERE venue = ?", (venue,))
    return EngineReads(up, row["state"], read["account"] if read else None, read["host"] if read else None)


# -- preflight runs ----------------------------------------------------------------------------------


def record_preflight(db: Database, *, venue: str, host: str, account: str | None, ok: bool,
                     checks: Sequence[dict[str, Any]], actor: str, now: int) -> None:
    with db.write() as conn:
        conn.execute(text("""INSERT INTO preflight_runs (venue, host, account, ok, checks, at, actor)
                             VALUES (:venue, :host, :account, :ok, :checks, :at, :actor)"""),
                     {"venue": venue, "host": host, "account": account, "ok": int(ok),
                      "checks": json.dumps(list(checks), default=str), "at": now, "actor": actor})


@dataclass(frozen=True)
class PreflightRun:
    at: int
    ok: bool
    checks: dict[str, dict[str, Any]]  # by name

    def passed(self, *names: str) -> bool | None:
        """Whether every named check it ran passed (None: it ran none of them)."""
        found = [self.checks[n] for n in names if n in self.checks]
        return None if not found else all(bool(c.get("ok")) for c in found)


def last_preflight(conn: sqlite3.Connection, venue: str, account: str | None, host: str | None,
                   now: int) -> PreflightRun | None:
    """The newest preflight of this account on this host within the hour (None: none); one dated
    ahead of `now` (by more than AHEAD_MS) is not within it (`preflight_ahead` finds it)."""
    if account is None or host is None:
        return None
    row = one(conn, """SELECT at, ok, checks FROM preflight_runs WHERE venue = ? AND account = ? AND host = ?
                       AND at >= ? AND at <= ? ORDER BY at DESC, id DESC LIMIT 1""",
              (venue, account, host, now - FRESH_MS, now + AHEAD_MS))
    if row is None:
        return None
    try:
        listed = json.loads(row["checks"])
    except ValueError:
        listed = []
    checks = {str(c.get("check")): c for c in listed if isinstance(c, dict)} if isinstance(listed, list) else {}
    return PreflightRun(row["at"], bool(row["ok"]), checks)


def preflight_ahead(conn: sqlite3.Connection, venue: str, account: str | None, host: str | None,
                    now: int) -> int | None:
    """When the newest preflight of this account on this host dated ahead of `now` says it ran
    (None: none is)."""
    if account is None or host is None:
        return None
    row = one(conn, """SELECT MAX(at) AS at FROM preflight_runs WHERE venue = ? AND account = ? AND host = ?
                       AND at > ?""", (venue, account, host, now + AHEAD_MS))
    return None if row is None or row["at"] is None else int(row["at"])


# -- the checklists --------------------------------------------------------------------------------------


def _when(at: int, now: int) -> str:
    return f"{datetime.fromtimestamp(at / 1000, tz=UTC):%H:%M} UTC, {max(0, now - at) // 60_000} min ago"


def _span(ms: int) -> str:
    minutes = ms / 60_000
    if minutes < 120:
        return f"{max(1, round(minutes))} min"
    return f"{round(minutes / 60)} h" if minutes < 48 * 60 else f"{round(minutes / 1440)} days"


def _key_read(reads: EngineReads, what: str, where: str) -> Check:
    read = reads.up and reads.account is not None
    return Check(f"{what} read by the engine", read,
                 f"the running engine holds {reads.account}" if read else
                 (f"the engine is not running: nothing holds a {what}" if not reads.up else
                  f"the running engine holds no {what}"),
                 f"put {where} in .env (or sealed), then {RESTART_ENGINE}", overridable=False)


def _preflight_checks(run: PreflightRun | None, now: int, command: str, parts: Sequence[tuple[str, tuple[str, ...],
                                                                                          str]],
                      ahead: int | None = None) -> list[Check]:
    """The preflight's own line, then one line per part of it the checklist names (the region, the
    approvals, a test order), each read from that run. `ahead`: when a run dated in the future says
    it ran (it does not count: the line says why)."""
    if run is None and ahead is not None:
        head = Check("preflight", False,
                     f"the last preflight is dated {datetime.fromtimestamp(ahead / 1000, tz=UTC):%Y-%m-%d %H:%M} UTC, "
                     f"{_span(ahead - now)} ahead of this machine's clock: a run from the future proves nothing "
                     "about now (the clock was wrong when it ran, or the database came from another machine)",
                     f"set the clock right (timedatectl: System clock synchronized: yes), then run the preflight "
                     f"again: the button below, or {command}")
    elif run is None:
        head = Check("preflight", False, "no preflight of this account on this host in the last hour",
                     f"run it: the button below, or {command}")
    else:
        failed = [n for n, c in run.checks.items() if not c.get("ok")]
        head = Check("preflight", run.ok, f"passed at {_when(run.at, now)}" if run.ok else
                     f"failed at {_when(run.at, now)}: {', '.join(failed) or 'see its report'}",
                     f"fix what it names and run it again: {command}")
    lines = [head]
    for name, names, fix in parts:
        passed = None if run is None else run.passed(*names)
        if passed is None:
            lines.append(Check(name, False, "not checked yet (no preflight of the last hour checked it)",
                               f"run the preflight ({command}); should it fail: {fix}"))
            continue
        ran = [run.checks[n] for n in names if n in run.checks]  # type: ignore[union-attr]  # run is set when passed is not None
        details = "; ".join(str(c.get("detail", "")) for c in ran)
        # The preflight's own fix where it gave one (a close-only region's is not a blocked one's).
        own = next((str(c["fix"]) for c in ran if not c.get("ok") and c.get("fix")), None)
        lines.append(Check(name, passed, details[:300], own or fix))
    return lines


def _stopped_checks(reads: EngineReads, open_orders: int, which: str) -> list[Check]:
    return [
        Check("engine stopped", reads.state in STOPPED_STATES, f"it is {reads.state}",
              "press Stop (Overview), then arm", overridable=False),
        Check(f"no open {which}orders", open_orders == 0, f"{open_orders} open",
              "cancel them (Orders page) or wait for their cancels", overridable=False),
    ]


def _funder(account: str | None) -> Check:
    """The account's funder, as the engine read it: a proxy, Safe or deposit wallet (types 1-3) needs one."""
    if account is None:
        return Check("funder", False, "no wallet read by the engine", "see the line above", overridable=False)
    if account.startswith("type 0,"):
        return Check("funder", True, "a plain wallet (type 0): it holds its own funds")
    funder = account.partition("funder ")[2]
    return Check("funder", bool(funder), f"POLY_FUNDER {funder}" if funder else "POLY_FUNDER is empty",
                 "set POLY_FUNDER to the proxy, Safe or deposit-wallet address polymarket.com shows, then "
                 + RESTART_ENGINE, overridable=False)


def _promoted(count: int, venue: str) -> Check:
    return Check("a promoted strategy", count > 0,
                 f"{count} promoted strateg{'y' if count == 1 else 'ies'} trading {venue}" if count else
                 f"no strategy trading {venue} is promoted: nothing would trade live",
                 "promote one on the Strategies page (its paper record first)")


def venue_gate(conn: sqlite3.Connection, venue: str, reads: EngineReads, now: int) -> Gate:
    """A venue's checklist, from what its policy says arming it checks (contracts/venues/policy.py `Arming`)."""
    policy = policy_of(venue)
    facts = policy.arming or Arming(key=f"{policy.label} key", key_settings=f"{policy.label}'s keys")
    run = last_preflight(conn, venue, reads.account, reads.host, now)
    ahead = None if run is not None else preflight_ahead(conn, venue, reads.account, reads.host, now)
    named, params = names_venue(venue)
    promoted = one(conn, f"""SELECT COUNT(*) AS n FROM strategies WHERE live = 1 AND enabled = 1
                             AND deleted_at IS NULL AND {named}""", params)
    open_orders = one(conn, "SELECT COUNT(*) AS n FROM orders WHERE venue = ? AND status_rank < ?",
                      (venue, TERMINAL_RANK))
    checks = [_key_read(reads, facts.key, facts.key_settings),
              *([_funder(reads.account)] if facts.funder else []),
              *_preflight_checks(run, now, f"python -m engine {facts.preflight}" if facts.preflight
                                else "no preflight exists for it yet", facts.parts, ahead),
              _promoted(promoted["n"] if promoted else 0, policy.label),
              *_stopped_checks(reads, open_orders["n"] if open_orders else 0,
                               f"{policy.label} " if policy in venues_armed_alone() else "")]
    return Gate(venue, tuple(checks))


def gate_lines(gate: Gate) -> list[dict[str, Any]]:
    """The checks as the audit row keeps them (names, whether each passed, its detail)."""
    return [{"check": c.name, "ok": c.ok, "detail": c.detail} for c in gate.checks]

