"""A desk the arming gate (storage/desk/arming.py) lets go live, written as the desk writes it: the
engine's reads of its start (engine_state), a preflight run of that account on that host, a promoted
strategy. For tests whose subject is what happens around or after arming."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

from contracts.settings import Settings
from contracts.venues import KALSHI, POLYMARKET
from engine.venues.kalshi.accounts import kalshi_account
from engine.venues.polymarket.accounts import polymarket_account
from storage.sqlite.db import now_ms

ACCOUNT = "type 3, signer 0x00000000000000000000000000000000000000aa, funder 0x1212121212121212121212121212121212121212"
HOST = "http://127.0.0.1:8080"
KALSHI_ACCOUNT, KALSHI_HOST = "key 0123456789ab", "http://127.0.0.1:8080/trade-api/v2"
# Every check of Polymarket's gate an override may pass, named (for tests arming a desk with no preflight).
EVERY_OVERRIDABLE = "preflight, region, wallet and funder, approvals, test order, a promoted strategy"
PASSED: dict[str, tuple[str, ...]] = {
    POLYMARKET: ("region", "wallet", "credentials", "balance", "approvals", "test order (standard)",
                 "test order (neg-risk)"),
    KALSHI: ("key", "region", "signature", "balance", "test order"),
}


def preflight_run(db_path: Path, venue: str, account: str, host: str, *, ok: bool = True, at: int | None = None,
                  failing: tuple[str, ...] = ()) -> None:
    checks = [{"check": name, "ok": name not in failing, "detail": f"{name} {'failed' if name in failing else 'ok'}"}
              for name in PASSED[venue]]
    with sqlite3.connect(db_path) as conn:
        conn.execute("INSERT INTO preflight_runs (venue, host, account, ok, checks, at, actor) "
                     "VALUES (?, ?, ?, ?, ?, ?, 'test')",
                     (venue, host, account, int(ok and not failing), json.dumps(checks),
                      now_ms() if at is None else at))


def engine_read(db_path: Path, venue: str = POLYMARKET, account: str | None = None, host: str | None = None) -> None:
    """The engine's reads of its start, as engine/process/control.py records them."""
    account = account or (ACCOUNT if venue == POLYMARKET else KALSHI_ACCOUNT)
    host = host or (HOST if venue == POLYMARKET else KALSHI_HOST)
    with sqlite3.connect(db_path) as conn:
        if venue == POLYMARKET:
            conn.execute("UPDATE engine_state SET venue_wallet = ?, venue_host = ?", (account, host))
        else:  # a venue armed on its own: its row (migration 0099)
            conn.execute("UPDATE venue_modes SET account = ?, host = ? WHERE venue = ?", (account, host, venue))


def promoted(db_path: Path, name: str = "promoted-mm", markets: list[str] | None = None) -> None:
    with sqlite3.connect(db_path) as conn:
        conn.execute("""INSERT INTO strategies (name, kind, params, markets, enabled, created_at, updated_at,
                            updated_by, live) VALUES (?, 'market_making', '{}', ?, 1, 0, 0, 'test', 1)""",
                     (name, json.dumps(markets or [])))


def armable(db_path: Path, venue: str = POLYMARKET) -> None:
    """Everything the gate asks for but the engine's state: reads, a passing preflight, a promoted strategy."""
    engine_read(db_path, venue)
    if venue == POLYMARKET:
        preflight_run(db_path, venue, ACCOUNT, HOST)
        promoted(db_path)
    else:
        preflight_run(db_path, venue, KALSHI_ACCOUNT, KALSHI_HOST)
        promoted(db_path, "promoted-kx", ["kalshi:KXTEST-1"])


def passed_preflight_for(db_path: Path, settings: Settings, venue: str = POLYMARKET) -> None:
    """A passing preflight of the account and host `settings` name (an engine built on them holds those)."""
    if venue == POLYMARKET:
        preflight_run(db_path, venue, polymarket_account(settings) or "", settings.clob_host)
    else:
        assert settings.kalshi is not None
        preflight_run(db_path, venue, kalshi_account(settings.kalshi) or "", settings.kalshi.host)
