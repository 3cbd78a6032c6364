"""`python -m engine kalshi-preflight`, run as a user runs it (a real process, its settings in .env
or sealed) against the simulator's Kalshi side: every check passes on a funded account and its
test order rests and is cancelled; a key that is not the account's, or no key, a key without the
write scope, an exchange that is paused, or a desk whose order rate the account's tier cannot carry,
fails with the fix. The checks are data (name, ok, detail, fix) a page can call for."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from contracts.settings import load_settings
from engine.venues.kalshi.preflight import Check, checks
from simulator.testing import SimHandle, running_simulator
from storage.desk.venue_pairs import add_pair
from storage.sqlite.db import Database
from storage.sqlite.migrations import migrate
from tests.helpers import ROOT, isolated_env
from tests.kalshi import admin, keypair, register

PASSPHRASE = "a long enough passphrase"


@pytest.fixture(scope="module")
def sim() -> Iterator[SimHandle]:
    with running_simulator(seed=11, agents=False, prefill_books=False, kalshi_markets=2) as handle:
        yield handle


def _desk(tmp_path: Path, sim: SimHandle, key_id: str | None, private_pem: str | None) -> dict[str, str]:
    env = isolated_env(tmp_path, SIMULATOR_PORT=str(sim.port))
    lines = []
    if key_id and private_pem:
        lines += [f"KALSHI_API_KEY_ID={key_id}", "KALSHI_PRIVATE_KEY=" + private_pem.strip().replace("\n", "\\n")]
    Path(env["TRADER_ENV_FILE"]).write_text("\n".join(lines) + "\n")
    os.chmod(env["TRADER_ENV_FILE"], 0o600)
    return env


def _preflight(env: dict[str, str]) -> tuple[int, dict[str, Any]]:
    done = subprocess.run([sys.executable, "-m", "engine", "kalshi-preflight", "--json"], env=env, cwd=ROOT,
                          capture_output=True, text=True, timeout=120, stdin=subprocess.DEVNULL)
    assert "Traceback" not in done.stderr, done.stderr
    return done.returncode, json.loads(done.stdout)


def _checks(report: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {c["name"]: c for c in report["checks"]}


def test_a_funded_account_passes_and_its_test_order_is_cancelled(sim: SimHandle, tmp_path: Path) -> None:
    private_pem, public_pem = keypair()
    key_id = register(sim, public_pem)
    code, report = _preflight(_desk(tmp_path, sim, key_id, private_pem))
    assert code == 0 and report["ok"] and report["environment"] == "simulator"
    checks = _checks(report)
    assert "plain text" in checks["key"]["detail"]  # it works, and says to seal it
    assert checks["balance"]["detail"].startswith("$10,000.0000 (shard 0 $10,000.0000;")  # to $0.0001, per shard
    assert checks["exchange"]["ok"] and checks["rate limits"]["ok"] and checks["region"]["ok"]
    assert "rested and was cancelled" in checks["test order"]["detail"]
    assert checks["key scope"]["detail"] == "the key may trade, on the primary account"
    assert checks["location attestation"]["ok"] and "expires at" in checks["location attestation"]["detail"]
    account = sim.call(lambda: sim.sim.kalshi.keys.keys[key_id].account)
    orders = sim.call(lambda: [(o.status, o.book_side, o.price, o.post_only)
                               for o in sim.sim.kalshi.exchange.orders.values() if o.account == account])
    assert orders == [("canceled", "bid", 10_000, True)]  # a post-only $0.01 bid, nothing left resting


def test_a_sealed_key_is_unlocked_for_the_check(sim: SimHandle, tmp_path: Path) -> None:
    private_pem, public_pem = keypair()
    env = _desk(tmp_path, sim, register(sim, public_pem), private_pem)
    password = tmp_path / "passphrase"
    password.write_text(PASSPHRASE + "\n")
    password.chmod(0o600)
    with Path(env["TRADER_ENV_FILE"]).open("a") as env_file:
        env_file.write(f"POLY_KEYSTORE_PASSWORD_FILE={password}\n")
    out = tmp_path / "var" / "secrets.sealed.json"
    sealed = subprocess.run([sys.executable, "-m", "engine", "keystore", "seal", "--out", str(out)], env=env,
                            cwd=ROOT, capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL)
    assert sealed.returncode == 0, sealed.stderr
    assert "BEGIN" not in Path(env["TRADER_ENV_FILE"]).read_text()  # the key left .env
    code, report = _preflight(env)
    assert code == 0, report
    assert _checks(report)["key"]["detail"].startswith("sealed")


def test_a_key_that_is_not_the_accounts_fails_with_the_fix(sim: SimHandle, tmp_path: Path) -> None:
    _, public_pem = keypair()
    other, _ = keypair()
    code, report = _preflight(_desk(tmp_path, sim, register(sim, public_pem), other))
    assert code == 1 and not report["ok"]
    signature = _checks(report)["signature"]
    assert not signature["ok"] and "KALSHI_PRIVATE_KEY must be the id and the private key" in signature["fix"]
    assert "test order" not in _checks(report)  # nothing was placed
    (tmp_path / "none").mkdir()
    code, report = _preflight(_desk(tmp_path / "none", sim, None, None))
    assert code == 1 and "KALSHI_API_KEY_ID and KALSHI_PRIVATE_KEY" in _checks(report)["key"]["fix"]


def test_a_lapsing_attestation_warns_a_lapsed_one_bars_only_its_categories_and_a_restricted_key_is_said(
        sim: SimHandle, tmp_path: Path) -> None:
    """Kalshi's API keys: the account's location attestation (api_key_region_expiration_ts) within two
    weeks of lapsing passes with the warning and raises the desk's alert; lapsed, Kalshi refuses the key's
    orders in Sports, Elections and Entertainment markets only (changelog 2026-08-16): the check passes while
    no paired market is of those categories (the test order, in another, rests), and fails naming a paired one
    that is; a subaccount-restricted key is named with the subaccount it trades."""
    import time

    private_pem, public_pem = keypair()
    status, body = admin(sim, "/_sim/kalshi/api-keys", {"public_key": public_pem})
    assert status == 200
    account = body["account"]
    env = _desk(tmp_path, sim, body["api_key_id"], private_pem)
    migrate(Path(env["TRADER_DB"]))
    admin(sim, "/_sim/kalshi/attestation", {"account": account, "expires_at_s": int(time.time()) + 5 * 86_400})
    code, report = _preflight(env)
    attestation = _checks(report)["location attestation"]
    assert code == 0 and attestation["ok"] and "in 5.0 days; renew it now" in attestation["detail"]
    db = Database(Path(env["TRADER_DB"]))
    with db.read() as conn:
        alerts = conn.exec_driver_sql("SELECT level, code, message FROM alerts").fetchall()
    assert [(a[0], a[1]) for a in alerts] == [("warning", "KALSHI_KEY_ATTESTATION")]
    assert "attest the account" in alerts[0][2]
    admin(sim, "/_sim/kalshi/attestation", {"account": account, "expires_at_s": int(time.time()) - 60})
    code, report = _preflight(env)
    checks = _checks(report)
    lapsed = checks["location attestation"]
    assert code == 0 and lapsed["ok"] and "lapsed" in lapsed["detail"] and "Sports, Elections, Entertainment" in \
        lapsed["detail"] and "none of the desk's paired markets" in lapsed["detail"]
    assert checks["test order"]["ok"]  # a market of no barred category still trades
    with db.read() as conn:
        assert conn.exec_driver_sql("SELECT level FROM alerts ORDER BY id").fetchall()[-1][0] == "warning"
    ticker = sorted(sim.call(lambda: [t for t, m in sim.sim.kalshi.exchange.markets.items()
                                      if m.mve_collection is None]))[0]
    series = sim.call(lambda: sim.sim.kalshi.exchange.markets[ticker].series_ticker)
    assert admin(sim, f"/_sim/kalshi/series/{series}/categories", {"categories": ["Sports"]})[0] == 200
    try:
        add_pair(db, condition_id=sim.market(neg_risk=False)["condition_id"], kalshi_ticker=ticker, inverted=False,
                 polymarket_question="q", kalshi_title="Kalshi's question", warnings=[], actor="test")
        code, report = _preflight(env)
        barred = _checks(report)["location attestation"]
        assert code == 1 and not barred["ok"] and f"{ticker} (Sports) would be refused" in barred["detail"]
        assert "attest the account's location again" in barred["fix"]
    finally:
        admin(sim, f"/_sim/kalshi/series/{series}/categories", {"categories": ["Simulated"]})
    db.dispose()
    sub_private, sub_public = keypair()
    status, body = admin(sim, "/_sim/kalshi/api-keys", {"public_key": sub_public, "subaccount": 2})
    (tmp_path / "sub").mkdir()
    code, report = _preflight(_desk(tmp_path / "sub", sim, body["api_key_id"], sub_private))
    assert "subaccount 2 only" in _checks(report)["key scope"]["detail"] and code == 0


def test_a_key_without_the_write_scope_fails_the_test_order_with_the_fix(sim: SimHandle, tmp_path: Path) -> None:
    private_pem, public_pem = keypair()
    status, body = admin(sim, "/_sim/kalshi/api-keys", {"public_key": public_pem, "scopes": ["read"]})
    assert status == 200, body
    code, report = _preflight(_desk(tmp_path, sim, body["api_key_id"], private_pem))
    checks = _checks(report)
    assert code == 1 and checks["signature"]["ok"] and checks["balance"]["ok"]  # it reads
    assert not checks["test order"]["ok"] and "write scope" in checks["test order"]["fix"]
    assert not checks["key scope"]["ok"] and "write scope" in checks["key scope"]["fix"]  # said before the order


def test_a_paused_exchange_fails_and_places_nothing(sim: SimHandle, tmp_path: Path) -> None:
    private_pem, public_pem = keypair()
    key_id = register(sim, public_pem)
    assert admin(sim, "/_sim/kalshi/exchange/pause", {"in_s": 0, "seconds": 120})[0] == 200
    try:
        code, report = _preflight(_desk(tmp_path, sim, key_id, private_pem))
    finally:
        admin(sim, "/_sim/kalshi/exchange/pause", {"clear": True})
    exchange = _checks(report)["exchange"]
    assert code == 1 and not exchange["ok"] and "trading is paused" in exchange["detail"]
    assert "Thursdays" in exchange["fix"] and "test order" not in _checks(report)
    account = sim.call(lambda: sim.sim.kalshi.keys.keys[key_id].account)
    assert sim.call(lambda: [o for o in sim.sim.kalshi.exchange.orders.values() if o.account == account]) == []


def test_the_checks_are_data_a_page_calls_and_the_tier_is_weighed_against_the_order_rate(
        sim: SimHandle, tmp_path: Path) -> None:
    """`checks(settings)`: a list of Check(name, ok, detail, fix), no printing. An account on Kalshi's
    Basic tier (100 write tokens a second: an order and its V2 cancel cost 12) cannot carry a desk
    allowed 1,000 orders a minute (200 tokens a second): that check fails with its fix."""
    private_pem, public_pem = keypair()
    env = _desk(tmp_path, sim, register(sim, public_pem), private_pem)
    db_path = tmp_path / "t.db"
    migrate(db_path)
    db = Database(db_path)
    with db.write() as conn:
        conn.exec_driver_sql("INSERT INTO risk_limits (name, value, version, updated_at, updated_by) "
                             "VALUES ('max_order_rate', '1000', 1, 0, 'test')")
    db.dispose()
    found = checks(load_settings({**env, "TRADER_DB": str(db_path)}))
    assert all(isinstance(c, Check) and c.name and c.detail for c in found)
    assert all(c.fix is None for c in found if c.ok) and all(c.fix for c in found if not c.ok)
    tier = next(c for c in found if c.name == "rate limits")
    assert not tier.ok and "basic tier" in tier.detail.lower() and "1000 a minute" in tier.detail
    assert tier.fix is not None and "max_order_rate" in tier.fix
    assert [c.name for c in found if not c.ok] == ["rate limits"]
