"""The desk's health at a glance, read with sqlite3 alone: engine state, today's PnL, orders and
positions per strategy, alerts not yet acknowledged, venue health, notification delivery.

One definition for every reader: `python -m engine status` calls these on a plain sqlite3
connection (no SQLAlchemy or pandas to import, so it answers in a fraction of a second), and
`storage.dashboard_queries.status_queries` (the dashboard) calls the same functions on the DBAPI connection under its
SQLAlchemy transaction. Money here is pUSD as floats, for display only.
"""

from __future__ import annotations

import json
import sqlite3
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from contracts.market_filter import SPANS_VENUES
from contracts.order_status import TERMINAL_RANK
from contracts.venue_policies import policy_of, venues_armed_alone
from contracts.venues import desk_venue
from storage.dashboard_queries.market_names import name_markets, sqlite_lookup
from storage.desk.desk_state import desk_state, money_label, stake
from storage.engine_stores import ledger_risk_store
from storage.sqlite.lite import file_heartbeat_ms, now_ms, utc_day_start

HEARTBEAT_STALE_S = 5.0
# A running engine whose last completed trading pass is older than this (or three decision
# intervals, when those are longer) cannot decide: it runs, but its quotes are nobody's.
PASS_STALE_S = 10.0
DECISIONS_FAILING = "DECISIONS_FAILING"  # the halt of a desk whose passes keep failing (trading/lookouts/pass_guard.py)
DECIDING_STATES = ("RUNNING", "PAUSED")  # the lifecycle states in which the trading loop runs
MICRO = 1_000_000
OPEN_RANK = TERMINAL_RANK  # orders with status_rank below this are working
Params = dict[str, Any] | tuple[Any, ...]


def rows(conn: sqlite3.Connection, sql: str, params: Params = ()) -> list[sqlite3.Row]:
    cursor = conn.cursor()
    cursor.row_factory = sqlite3.Row
    return cursor.execute(sql, params).fetchall()


def one(conn: sqlite3.Connection, sql: str, params: Params = ()) -> sqlite3.Row | None:
    found = rows(conn, sql, params)
    return found[0] if found else None


# -- engine ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class EngineStatus:
    state: str
    desired_state: str
    mode: str
    kill_latched: bool
    kill_reason: str | None
    pid: int | None
    heartbeat_age_s: float | None
    started_at: int | None
    crash_count: int
    last_error: str | None
    trading_state: str = "ACTIVE"
    trading_state_reason: str | None = None
    trading_state_at: int | None = None
    peak_equity: int | None = None
    day_start_equity: int | None = None
    day_started_at: int | None = None
    venue_status: str = "ok"  # ok, maintenance, post_only, rate_limited (engine/execution/venue_health.py)
    venue_status_at: int | None = None
    venue_status_detail: str | None = None
    # Every other venue condition active now, each {code, since, detail} (engine/trading/ledgers/venue_conditions.py).
    venue_conditions: tuple[dict[str, Any], ...] = ()
    data_age_ms: int | None = None  # the oldest book the engine follows, as of its last heartbeat
    pass_age_s: float | None = None  # since the last completed trading pass (or the loop's start)
    pass_stale_s: float = PASS_STALE_S
    # What the running engine read at its start (migration 0061; None before): the hosts it trades
    # on, so "real money" is said only against a real venue (storage/desk/desk_state.py).
    venue_host: str | None = None
    # The live venue's per-signer rate-limit tier as the engine last read it (migration 0091; {}: none).
    venue_tier: dict[str, Any] = field(default_factory=dict)
    # Each venue armed on its own: its mode, and the host the running engine read for it
    # (venue_modes, migration 0099: a venue without a row is on paper and read nothing).
    venue_modes: dict[str, str] = field(default_factory=dict)
    venue_hosts: dict[str, str | None] = field(default_factory=dict)

    def mode_of(self, venue: str) -> str:
        """The mode a venue trades in: the desk's for the desk's own venue, else its own arming."""
        return {**self.venue_modes, desk_venue(): self.mode}.get(venue, "paper")

    def host_of(self, venue: str) -> str | None:
        """The host the running engine read for a venue (None: not read yet)."""
        return {**self.venue_hosts, desk_venue(): self.venue_host}.get(venue)

    def armed_live(self) -> list[str]:
        """The venues armed on their own that are armed live now."""
        return [policy.venue for policy in venues_armed_alone() if self.mode_of(policy.venue) == "live"]

    @property
    def trading_label(self) -> str:
        """What the desk may do now, in one phrase: the desk's one state's (storage/desk/desk_state.py)."""
        return desk_state(self).label

    @property
    def cannot_decide(self) -> str | None:
        """Why a running desk cannot decide now, in a sentence (None: it decides, or is not running):
        halted because its passes keep failing, or no pass completed for longer than it should."""
        if self.trading_state == "HALTED" and self.trading_state_reason == DECISIONS_FAILING:
            return "its trading passes keep failing: halted, its orders cancelled (the alert names the error)"
        if self.state not in DECIDING_STATES or not self.engine_up or self.pass_age_s is None:
            return None
        if self.pass_age_s > self.pass_stale_s:
            return f"no trading pass has completed for {self.pass_age_s:.0f} s (the engine runs but decides nothing)"
        return None

    @property
    def heartbeat_stale(self) -> bool:
        return self.heartbeat_age_s is None or self.heartbeat_age_s > HEARTBEAT_STALE_S

    @property
    def engine_up(self) -> bool:
        return self.pid is not None and not self.heartbeat_stale

    def as_dict(self) -> dict[str, Any]:
        return {**asdict(self), "heartbeat_stale": self.heartbeat_stale, "engine_up": self.engine_up,
                "cannot_decide": self.cannot_decide}


def engine_status(conn: sqlite3.Connection, db_path: Path, *, now: int | None = None) -> EngineStatus:
    now = now_ms() if now is None else now
    row = one(conn, "SELECT * FROM engine_state WHERE id = 1")
    if row is None:
        raise sqlite3.OperationalError("no engine_state row")
    # The newest of the database's heartbeat and the file's: the file shows a live engine even
    # while another process holds the database's write lock.
    beats = [b for b in (row["heartbeat_at"], file_heartbeat_ms(db_path)) if b is not None]
    beat = max(beats) if beats else None
    passed = row["last_pass_at"]
    modes, hosts = _venue_arming(conn, row)
    return EngineStatus(
        state=row["state"],
        desired_state=row["desired_state"],
        mode=row["mode"],
        kill_latched=bool(row["kill_latched"]),
        kill_reason=row["kill_reason"],
        pid=row["pid"],
        heartbeat_age_s=None if beat is None else max(0.0, (now - beat) / 1000),
        started_at=row["started_at"],
        crash_count=row["crash_count"],
        last_error=row["last_error"],
        trading_state=row["trading_state"],
        trading_state_reason=row["trading_state_reason"],
        trading_state_at=row["trading_state_at"],
        peak_equity=row["peak_equity"],
        day_start_equity=row["day_start_equity"],
        day_started_at=row["day_started_at"],
        venue_status=row["venue_status"],
        venue_status_at=row["venue_status_at"],
        venue_status_detail=row["venue_status_detail"],
        venue_conditions=tuple(_conditions(row["venue_conditions"])),
        data_age_ms=row["data_age_ms"],
        pass_age_s=None if passed is None else max(0.0, (now - passed) / 1000),
        pass_stale_s=_pass_stale_s(conn),
        venue_host=_column(row, "venue_host"),
        venue_tier=venue_tier(_column(row, "venue_tier")),
        venue_modes=modes,
        venue_hosts=hosts,
    )


def _venue_arming(conn: sqlite3.Connection, row: sqlite3.Row) -> tuple[dict[str, str], dict[str, str | None]]:
    """The mode and host of each venue armed on its own, by venue. A database the engine of this release has not
    migrated yet keeps Kalshi's on the engine row (the columns migration 0099 moves)."""
    try:
        found = rows(conn, "SELECT venue, mode, host FROM venue_modes")
    except sqlite3.OperationalError:
        return ({"kalshi": _column(row, "kalshi_mode") or "paper"}, {"kalshi": _column(row, "kalshi_host")})
    return {r["venue"]: r["mode"] for r in found}, {r["venue"]: r["host"] for r in found}


def _pass_stale_s(conn: sqlite3.Connection) -> float:
    """PASS_STALE_S, or three decision intervals when the operator set them longer."""
    found = one(conn, "SELECT value FROM settings WHERE key = 'tick_interval_ms'")
    try:
        interval_s = int(found["value"]) / 1000 if found is not None else 0.0
    except (TypeError, ValueError):
        interval_s = 0.0
    return max(PASS_STALE_S, 3 * interval_s)


def _column(row: sqlite3.Row, name: str) -> Any:
    """A column a database not yet migrated by this release's engine lacks reads as None."""
    return row[name] if name in row.keys() else None


def _conditions(raw: str | None) -> list[dict[str, Any]]:
    """The stored list of venue conditions; anything unreadable in it reads as none."""
    try:
        conditions = json.loads(raw or "[]")
    except ValueError:
        return []
    return [c for c in conditions if isinstance(c, dict) and "code" in c] if isinstance(conditions, list) else []


def venue_tier(raw: str | None) -> dict[str, Any]:
    """The stored rate-limit tier ({} when none is stored, or it cannot be read)."""
    try:
        tier = json.loads(raw or "{}")
    except ValueError:
        return {}
    return tier if isinstance(tier, dict) and isinstance(tier.get("tier"), str) else {}


def venue_health(conn: sqlite3.Connection) -> dict[str, Any]:
    """The venue's phase (ok, maintenance, post_only, rate_limited) and every other condition the
    engine sees now (unreachable, heartbeats failing, a rate-limit warning, balance drift), each
    {code, since, detail}: "ok" means the phase is ok and no condition holds."""
    row = one(conn, "SELECT * FROM engine_state WHERE id = 1")
    assert row is not None
    conditions = _conditions(row["venue_conditions"])
    return {"status": row["venue_status"], "since": row["venue_status_at"], "detail": row["venue_status_detail"],
            "conditions": conditions, "ok": row["venue_status"] == "ok" and not conditions,
            "tier": venue_tier(_column(row, "venue_tier"))}


def command_status(conn: sqlite3.Connection, command_id: int) -> dict[str, Any] | None:
    row = one(conn, "SELECT id, kind, status, result, error, created_at, finished_at FROM commands WHERE id = ?",
              (command_id,))
    return None if row is None else dict(row)


# -- money ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PnlToday:
    """Since 00:00 UTC, in pUSD. `total` is the change in equity (what the daily-loss limit
    measures); realized (before fees) and fees are today's part of the cumulative figures;
    unrealized is what open positions are worth above their cost now, `unrealized_change` its
    change since the day began. The parts a page shows add up: total = realized_after_fees +
    unrealized_change + other (cash that is no trade's: deposits, rewards, rebates)."""

    equity: float
    day_start_equity: float
    total: float
    realized: float
    fees: float
    unrealized: float
    as_of: int
    unrealized_change: float = 0.0

    @property
    def realized_after_fees(self) -> float:
        """Today's realized PnL less today's fees: the desk's one definition of PnL (after fees)."""
        return self.realized - self.fees

    @property
    def other(self) -> float:
        """What moved equity today that is no trade's PnL (deposits, rewards, rebates, ...)."""
        return round(self.total - self.realized_after_fees - self.unrealized_change, 6)

    def parts(self) -> dict[str, float]:
        """Today's figures in cents, as every surface shows them, adding up as shown: total =
        realized_after_fees + unrealized_change + other (the unrealized change takes the cent of rounding)."""
        total, fees = round(self.total, 2), round(self.fees, 2)
        after, other = round(round(self.realized, 2) - fees, 2), round(self.other, 2)
        return {"total": total, "realized_after_fees": after, "fees": fees, "other": other,
                "unrealized_change": round(total - after - other, 2)}


# One ledger's snapshots (the desk's own venue's; another venue's ledger values itself apart).
_SNAPSHOT = ("SELECT at, equity, realized, unrealized, fees FROM portfolio_snapshots "
             "WHERE mode = ? AND venue = ?")


def snapshots_since(conn: sqlite3.Connection, mode: str, since: int, *, at_since_is_before: bool = False,
                    venue: str | None = None) -> tuple[sqlite3.Row, sqlite3.Row] | None:
    """The newest portfolio snapshot and the one to measure from: the last one before `since`
    (or at it, when `at_since_is_before`), else the first after it; None before any snapshot. Of the desk's
    own venue's ledger unless `venue` says another."""
    venue = venue or desk_venue()
    latest = one(conn, f"{_SNAPSHOT} ORDER BY at DESC LIMIT 1", (mode, venue))
    if latest is None:
        return None
    before, after = ("<=", ">") if at_since_is_before else ("<", ">=")
    base = (one(conn, f"{_SNAPSHOT} AND at {before} ? ORDER BY at DESC LIMIT 1", (mode, venue, since))
            or one(conn, f"{_SNAPSHOT} AND at {after} ? ORDER BY at LIMIT 1", (mode, venue, since)))
    assert base is not None
    return latest, base


def pnl_today(conn: sqlite3.Connection, mode: str, *, now: int | None = None,
              venue: str | None = None) -> PnlToday | None:
    """Since 00:00 UTC, of the `mode` ledger of `venue` (None: the desk's own venue)."""
    now = now_ms() if now is None else now
    venue = venue or desk_venue()
    day = utc_day_start(now)
    found = snapshots_since(conn, mode, day, venue=venue)
    if found is None:
        return None
    latest, base = found
    state = one(conn, "SELECT mode, day_start_equity, day_started_at FROM engine_state WHERE id = 1")
    assert state is not None
    # The engine's own reference equity (what the daily-loss breaker uses) wins when it is today's.
    start = (
        state["day_start_equity"]
        if state["mode"] == mode and venue == desk_venue() and state["day_started_at"] == day
        and state["day_start_equity"] is not None
        else base["equity"]
    )
    return PnlToday(
        equity=latest["equity"] / MICRO,
        day_start_equity=start / MICRO,
        total=(latest["equity"] - start) / MICRO,
        realized=(latest["realized"] - base["realized"]) / MICRO,
        fees=(latest["fees"] - base["fees"]) / MICRO,
        unrealized=latest["unrealized"] / MICRO,
        as_of=latest["at"],
        unrealized_change=(latest["unrealized"] - base["unrealized"]) / MICRO,
    )


def per_strategy(conn: sqlite3.Connection, mode: str) -> list[dict[str, Any]]:
    """Every configured strategy, and any other origin with orders or positions (manual orders,
    imported ones): open orders, open positions, exposure (cost held + open BUY notional, as the
    risk gate counts it), realized PnL before fees, fees, and realized PnL after fees (`pnl_usdc`:
    what every surface shows), in pUSD."""
    lines: dict[str, dict[str, Any]] = {}

    def line(name: str) -> dict[str, Any]:
        return lines.setdefault(name, {"strategy": name, "enabled": None, "paused": None, "status": None,
                                       "open_orders": 0,
                                       "positions": 0, "cost_usdc": 0.0, "exposure_usdc": 0.0,
                                       "realized_usdc": 0.0, "fees_usdc": 0.0})

    for row in rows(conn, "SELECT name, enabled, paused, status FROM strategies WHERE deleted_at IS NULL "
                          "ORDER BY name"):
        line(row["name"]).update(enabled=bool(row["enabled"]), paused=bool(row["paused"]), status=row["status"])
    for row in rows(conn, """SELECT strategy, COUNT(*) AS n,
                                    SUM(CASE WHEN side = 'BUY' THEN price * (size - filled) / 1000000 ELSE 0 END) AS buy
                             FROM orders WHERE mode = ? AND status_rank < ? GROUP BY strategy""", (mode, OPEN_RANK)):
        entry = line(row["strategy"])
        entry["open_orders"] = row["n"]
        entry["exposure_usdc"] += (row["buy"] or 0) / MICRO
    for row in rows(conn, """SELECT strategy, SUM(settled + pending != 0) AS n,
                                    SUM(CASE WHEN settled + pending > 0 THEN cost ELSE 0 END) AS held,
                                    SUM(CASE WHEN settled + pending != 0 THEN cost ELSE 0 END) AS cost,
                                    SUM(realized) AS realized, SUM(fees) AS fees
                             FROM positions WHERE mode = ? GROUP BY strategy""", (mode,)):
        entry = line(row["strategy"])
        entry.update(positions=row["n"] or 0, cost_usdc=(row["cost"] or 0) / MICRO,
                     realized_usdc=(row["realized"] or 0) / MICRO,
                     fees_usdc=(row["fees"] or 0) / MICRO)
        entry["exposure_usdc"] += (row["held"] or 0) / MICRO
    for entry in lines.values():
        entry["pnl_usdc"] = entry["realized_usdc"] - entry["fees_usdc"]  # realized after fees: the desk's one PnL
        for key in ("cost_usdc", "exposure_usdc", "realized_usdc", "fees_usdc", "pnl_usdc"):
            entry[key] = round(entry[key], 2)
    return sorted(lines.values(), key=lambda e: e["strategy"])


# -- alerts and notifications ---------------------------------------------------------------------


# What a page or `status` shows of an alert's message: with the count of those the burst limit
# folded into it (storage/desk/audit.py, raise_alert), when any.
SHOWN_MESSAGE = ("message || CASE WHEN repeats > 0 THEN ' (and ' || repeats || ' more like it, the last at ' "
                 "|| strftime('%H:%M:%S', last_at / 1000, 'unixepoch') || ' UTC)' ELSE '' END")


def unacked_alerts(conn: sqlite3.Connection, *, limit: int = 50) -> tuple[int, list[dict[str, Any]]]:
    """How many alerts are not acknowledged, and the newest `limit` of them."""
    count = one(conn, "SELECT COUNT(*) AS n FROM alerts WHERE acked_at IS NULL")
    newest = [dict(r) for r in rows(conn, f"""SELECT id, created_at, level, source, code, {SHOWN_MESSAGE} AS message
                                              FROM alerts WHERE acked_at IS NULL ORDER BY id DESC LIMIT ?""",
                                    (limit,))]
    for alert, message in zip(newest, name_markets([a["message"] for a in newest], sqlite_lookup(conn)), strict=True):
        alert["message"] = message
    return (0 if count is None else int(count["n"])), newest


STRATEGY_REPAIR = "fix its configuration on the Strategies page (it says what is wrong), then enable it again"


def set_aside(conn: sqlite3.Connection) -> list[dict[str, Any]]:
    """What the engine runs without because it could not read it, each with how to repair it:
    the quarantine's entries (storage/engine_stores/quarantine_store.py) and the strategies it disabled for a
    configuration it could not read."""
    found = [dict(r) for r in rows(conn, "SELECT kind, subject, problem, repair, at FROM quarantine ORDER BY at, id")]
    subjects = {f["subject"] for f in found}
    for r in rows(conn, """SELECT name, last_error, updated_at FROM strategies WHERE status = 'error' AND enabled = 0
                           AND last_error LIKE 'invalid configuration%' AND deleted_at IS NULL ORDER BY name"""):
        if f"strategy {r['name']}" not in subjects:
            found.append({"kind": "configuration", "subject": f"strategy {r['name']}", "problem": r["last_error"],
                          "repair": STRATEGY_REPAIR, "at": r["updated_at"]})
    return found


def last_delivery(conn: sqlite3.Connection) -> dict[str, Any] | None:
    """The newest notification that was attempted: when, what, and whether it arrived."""
    row = one(conn, """SELECT id, kind, title, status, attempts, last_attempt_at, error FROM notifications
                       WHERE last_attempt_at IS NOT NULL ORDER BY last_attempt_at DESC, id DESC LIMIT 1""")
    return None if row is None else dict(row)


def queued_notifications(conn: sqlite3.Connection) -> int:
    found = one(conn, "SELECT COUNT(*) AS n FROM notifications WHERE status = 'queued'")
    return 0 if found is None else int(found["n"])


# -- the report -------------------------------------------------------------------------------


def status_report(conn: sqlite3.Connection, db_path: Path, *, now: int | None = None,
                  alerts_shown: int = 5) -> dict[str, Any]:
    """What `python -m engine status` prints, in one read snapshot (the caller's)."""
    now = now_ms() if now is None else now
    status = engine_status(conn, db_path, now=now)
    pnl = pnl_today(conn, status.mode, now=now)
    strategies = per_strategy(conn, status.mode)
    unacked, newest = unacked_alerts(conn, limit=alerts_shown)
    from storage.dashboard_queries import collection_queries  # it imports this module: loaded here, not at import
    from storage.desk.desk_idle import idle_reasons  # (the same)

    owed = collection_queries.redeemable(conn, status.mode)
    age = status.heartbeat_age_s
    armed_alone = [policy.venue for policy in venues_armed_alone()]
    return {
        "state": status.state,
        "desired_state": status.desired_state,
        "mode": status.mode,
        # Each venue armed on its own: `<venue>_mode`, `<venue>_armed`, its ledger's figures and what it stakes.
        **{f"{venue}_mode": status.mode_of(venue) for venue in armed_alone},
        "trading_state": status.trading_state,
        "trading_reason": status.trading_state_reason,
        # The desk's one state and where money is at stake: what every surface says (desk_state.py).
        "desk": (desk := desk_state(status)).as_dict(),
        # Trading, yet no order works: why (desk_idle.py).
        "idle": idle_reasons(conn, status.mode, now) if desk.trading else [],
        "armed": money_label(status.mode, status.venue_host),
        **{f"{venue}_armed": money_label(status.mode_of(venue), status.host_of(venue), policy_of(venue).label)
           for venue in armed_alone},
        "kill_latched": status.kill_latched,
        "kill_reason": status.kill_reason,
        "engine_up": status.engine_up,
        "heartbeat_age_s": None if age is None else round(age, 2),
        "data_age_s": None if status.data_age_ms is None else round(status.data_age_ms / 1000, 3),
        "pass_age_s": None if status.pass_age_s is None else round(status.pass_age_s, 2),
        "cannot_decide": status.cannot_decide,
        "pid": status.pid,
        "crash_count": status.crash_count,
        "last_error": status.last_error,
        "set_aside": set_aside(conn),
        "venue": venue_health(conn),
        "equity_usdc": None if pnl is None else round(pnl.equity, 2),
        "pnl_today_usdc": None if pnl is None else round(pnl.total, 2),
        "pnl_today": None if pnl is None else {k: round(v, 2) if isinstance(v, float) else v
                                               for k, v in asdict(pnl).items()}
        | pnl.parts(),
        "open_orders": sum(s["open_orders"] for s in strategies),
        "positions": sum(s["positions"] for s in strategies),
        "positions_cost_usdc": round(sum(s["cost_usdc"] for s in strategies), 2),
        "money": collection_queries.money(conn, status.mode),
        "redeemable": owed,
        "strategies": strategies,
        "unacked_alerts": unacked,
        "alerts": newest,
        "notifications": {"last": last_delivery(conn), "queued": queued_notifications(conn)},
        "paper_ledger": paper_ledger(conn, now) if status.mode == "live" else None,
        **{key: value for venue in armed_alone for key, value in _venue_ledger_lines(conn, status, venue, now).items()},
    }


def _venue_ledger_lines(conn: sqlite3.Connection, status: EngineStatus, venue: str, now: int) -> dict[str, Any]:
    """A venue armed on its own in the report: its ledger in the mode it is armed in (`<venue>_paper` or
    `<venue>_live`; the other None) and what its live ledger stakes (real money on that venue only)."""
    mode = status.mode_of(venue)
    return {f"{venue}_paper": venue_ledger(conn, now, venue, "paper") if mode == "paper" else None,
            f"{venue}_live": venue_ledger(conn, now, venue, "live") if mode == "live" else None,
            f"{venue}_stake": stake(status.host_of(venue))}


def names_venue(venue: str) -> tuple[str, tuple[str, ...]]:
    """SQL over a strategy's `markets` (JSON; a list names one venue) that holds when the strategy names
    `venue`'s markets, with its parameters: for a venue armed on its own, by its id prefix, the desk's own when it
    names no other venue's."""
    if policy_of(venue) in venues_armed_alone():
        return "COALESCE(markets, '') LIKE ?", (f'%"{policy_of(venue).market_prefix}%',)
    others = [f'%"{policy.market_prefix}%' for policy in venues_armed_alone()]
    if not others:
        return "1", ()
    each = ["COALESCE(markets, '') LIKE ?"] * len(others)
    return f"NOT ({' OR '.join(each)})", tuple(others)


def trading_venue(conn: sqlite3.Connection, venue: str, *, promoted: bool = False) -> list[str]:
    """The enabled strategies trading a venue armed on its own: naming its markets or, where the operator's pairs
    lead to it, arbitraging across venues (`promoted`: only those promoted live, the ones that may trade it
    while it is armed live)."""
    named, params = names_venue(venue)
    kinds = ", ".join(f"'{kind}'" for kind in sorted(SPANS_VENUES))
    spans = f" OR kind IN ({kinds})" if policy_of(venue).paired else ""
    live = "AND live = 1" if promoted else ""
    return [r["name"] for r in rows(conn, f"""SELECT name FROM strategies WHERE enabled = 1 AND deleted_at IS NULL
                                               {live} AND ({named}{spans}) ORDER BY name""", params)]


def paper_only_names(conn: sqlite3.Connection) -> list[str]:
    """The enabled strategies never promoted, those of venues armed on their own aside: on a live desk they trade
    in the desk venue's paper ledger."""
    named, params = names_venue(desk_venue())
    return [r["name"] for r in rows(conn, f"""SELECT name FROM strategies WHERE live = 0 AND enabled = 1
                                               AND deleted_at IS NULL AND {named} ORDER BY name""", params)]


def venue_ledger(conn: sqlite3.Connection, now: int, venue: str, mode: str) -> dict[str, Any] | None:
    """Strategies trading a venue armed on its own (engine/trading/passes/ledger.py) in `mode`, its armed mode:
    which (live: the promoted ones; `held`, the others), its exchange as last read where it announces
    pauses (paused, the next scheduled pause), the ledger's trading state, equity, open orders and
    positions (None: no strategy trades it)."""
    every = trading_venue(conn, venue)
    if not every:
        return None
    names = trading_venue(conn, venue, promoted=True) if mode == "live" else every
    risk = ledger_risk_store.read(conn, venue, mode)
    pnl = pnl_today(conn, mode, now=now, venue=venue)
    orders = one(conn, "SELECT COUNT(*) AS n FROM orders WHERE venue = :v AND mode = :m "
                       "AND status_rank < 100", {"v": venue, "m": mode})
    held = one(conn, "SELECT COUNT(*) AS n FROM positions WHERE venue = :v AND mode = :m "
                     "AND settled + pending != 0", {"v": venue, "m": mode})
    return {"mode": mode, "strategies": names, "held": sorted(set(every) - set(names)),
            "exchange": _exchange(conn, venue), "funds": _funds(conn, venue) if mode == "live" else None,
            "trading_state": risk.trading_state, "trading_reason": risk.reason,
            "equity_usdc": None if pnl is None else round(pnl.equity, 2),
            "pnl_today_usdc": None if pnl is None else round(pnl.total, 2),
            "open_orders": orders["n"] if orders else 0, "positions": held["n"] if held else 0}


def _exchange(conn: sqlite3.Connection, venue: str) -> dict[str, Any] | None:
    """A venue's exchange as its package last recorded it on the engine row (`<venue>_exchange`: where
    it announces pauses), None when it records none."""
    if not policy_of(venue).announces_pauses:
        return None
    row = one(conn, "SELECT * FROM engine_state WHERE id = 1")
    raw = _column(row, f"{venue}_exchange") if row is not None else None
    try:
        return json.loads(raw or "{}") or None
    except ValueError:
        return None


def _funds(conn: sqlite3.Connection, venue: str) -> dict[str, Any] | None:
    """What a live venue whose account is split into sections last said of them (engine_state.venue_funds,
    engine/trading/ledgers/venue_funds.py); None when it said nothing."""
    row = one(conn, "SELECT * FROM engine_state WHERE id = 1")
    raw = _column(row, "venue_funds") if row is not None else None
    try:
        found = json.loads(raw or "{}").get(venue)
    except (ValueError, AttributeError):
        return None
    return found if isinstance(found, dict) else None


def paper_ledger(conn: sqlite3.Connection, now: int) -> dict[str, Any] | None:
    """Paper-only strategies on a live desk (engine/trading/passes/ledger.py): which, their ledger's
    trading state, and the paper ledger's equity, orders and positions (None: no such strategy)."""
    names = paper_only_names(conn)
    if not names:
        return None
    risk = ledger_risk_store.read(conn, desk_venue(), "paper")
    pnl = pnl_today(conn, "paper", now=now)
    lines = [s for s in per_strategy(conn, "paper") if s["strategy"] in names]
    return {"strategies": names, "trading_state": risk.trading_state, "trading_reason": risk.reason,
            "equity_usdc": None if pnl is None else round(pnl.equity, 2),
            "pnl_today_usdc": None if pnl is None else round(pnl.total, 2),
            "open_orders": sum(s["open_orders"] for s in lines), "positions": sum(s["positions"] for s in lines)}
