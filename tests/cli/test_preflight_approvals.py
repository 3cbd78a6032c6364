"""`python -m engine preflight` names every missing trading approval, and `--approve` (confirmed,
audited) sets them through the real relayer path (or a plain wallet's own transactions) of the
strict simulator, after which the test orders, a neg-risk one included, and a SELL pass."""

from __future__ import annotations

import asyncio
import json
import secrets
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from eth_account import Account

from engine.venues.polymarket.discovery import refresh_markets
from engine.venues.polymarket.preflight_orders import pick_markets
from simulator.deposit_wallets import deposit_wallet_address
from simulator.protocol_v2 import ROUTER
from simulator.relayer import DEPOSIT_WALLET_FACTORY
from simulator.signing import EXCHANGE_V2, NEG_RISK_ADAPTER
from simulator.testing import SimHandle, running_simulator
from storage.sqlite.db import Database
from storage.sqlite.migrations import migrate
from tests.helpers import isolated_env, run_cli

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def sim() -> Iterator[SimHandle]:
    with running_simulator(seed=29, agents=False, relayer_delay_s=0.1, block_time_s=0.1) as handle:
        yield handle


def _desk(tmp: Path, sim: SimHandle, **env: str) -> dict[str, str]:
    full = isolated_env(tmp, SIMULATOR_PORT=str(sim.port), **env)
    db_path = Path(full["TRADER_DB"])
    migrate(db_path)
    db = Database(db_path)
    asyncio.run(refresh_markets(db, f"http://127.0.0.1:{sim.port}/gamma"))
    db.dispose()
    return full


def _checks(stdout: str) -> dict[str, dict[str, Any]]:
    return {c["check"]: c for c in json.loads(stdout)["checks"]}


def _allowance(sim: SimHandle, wallet: str, spender: str) -> int:
    return sim.call(sim.sim.approvals.pusd_allowance, wallet, spender)


def test_each_missing_approval_is_named_then_set_through_the_relayer(tmp_path: Path, sim: SimHandle) -> None:
    key = "0x" + secrets.token_hex(32)
    funder = Account.create().address
    sim.link_funder(Account.from_key(key).address, funder, 3)
    env = _desk(tmp_path, sim, POLY_PRIVATE_KEY=key, POLY_SIGNATURE_TYPE="3", POLY_FUNDER=funder,
                RELAYER_API_KEY="sim-relayer-key")

    first = run_cli(["preflight", "--json"], env)
    assert first.returncode == 1, first.stdout + first.stderr
    checks = _checks(first.stdout)
    approvals = checks["approvals"]
    assert not approvals["ok"] and "14 of 14 missing" in approvals["detail"]
    for name in ("pUSD -> CTF Exchange", "pUSD -> Neg Risk CTF Exchange", "pUSD -> Neg Risk Adapter",
                 "conditional tokens -> CTF Exchange", "conditional tokens -> Neg Risk Adapter",
                 "V2 positions -> Router", "V2 positions -> Exchange V3"):
        assert name in approvals["detail"]
    assert "--approve" in approvals["fix"]
    assert "not enough balance / allowance" in checks["test order (neg-risk)"]["detail"]
    assert "a SELL would be refused" in checks["sell check (standard)"]["detail"]

    unconfirmed = run_cli(["preflight", "--approve"], env)  # no terminal to confirm at, no --yes
    assert unconfirmed.returncode == 1 and "not sent: no terminal" in unconfirmed.stderr
    assert "not confirmed: nothing sent" in unconfirmed.stdout
    table_line = "MISSING conditional tokens -> Neg Risk CTF Exchange (0xe2222d279d744050d28e00520010520000310F59)"
    assert table_line in unconfirmed.stdout  # the table, one line an approval
    assert _allowance(sim, funder, EXCHANGE_V2) == 0

    db = Database(Path(env["TRADER_DB"]))
    standard = pick_markets(db)[False]  # the market preflight tests in
    db.dispose()
    sim.fund(funder, token_id=standard.yes_token, tokens="100")  # shares to prove a SELL with
    approved = run_cli(["preflight", "--approve", "--yes", "--json"], env, timeout=120)
    assert approved.returncode == 0, approved.stdout + approved.stderr
    checks = _checks(approved.stdout)
    assert checks["approvals"]["ok"] and all(row["set"] for row in checks["approvals"]["approvals"])
    assert "placed and cancelled post-only SELL" in checks["sell check (standard)"]["detail"]
    assert checks["test order (neg-risk)"]["ok"] and checks["sell check (neg-risk)"]["ok"]
    assert _allowance(sim, funder, NEG_RISK_ADAPTER) == 2**256 - 1
    with sqlite3.connect(env["TRADER_DB"]) as conn:
        audited = conn.execute("SELECT entity, after FROM audit_log "
                               "WHERE action = 'approve_trading'").fetchall()
    assert len(audited) == 14 and {row[0] for row in audited} == {funder}
    assert sim.call(sim.sim.settlement.is_approved, funder, ROUTER, v2=True)  # on the PositionManager
    assert all(json.loads(row[1])["via"] == "relayer" for row in audited)

    again = run_cli(["preflight"], env)  # only reads now: everything is set
    assert again.returncode == 0 and "ready to go live" in again.stdout, again.stdout


def test_the_rehearsal_deploys_the_deposit_wallet_then_approves_and_every_check_passes(
        tmp_path: Path, sim: SimHandle) -> None:
    """docs/going-live.md's Polymarket rehearsal on the strict simulator, as a newcomer runs it: a fresh
    key's deposit wallet is not deployed (the wallet check fails, naming `deposit-wallet`), the relayer
    deploys it (audited), `preflight --approve` sets the approvals, and every check passes."""
    key = "0x" + secrets.token_hex(32)
    owner = Account.from_key(key).address
    env = _desk(tmp_path, sim, POLY_PRIVATE_KEY=key, POLY_SIGNATURE_TYPE="3", RELAYER_API_KEY="rehearsal")
    wallet = deposit_wallet_address(DEPOSIT_WALLET_FACTORY, owner)
    before = run_cli(["preflight", "--json"], {**env, "POLY_FUNDER": wallet})
    assert before.returncode == 1
    doctor = _checks(before.stdout)["wallet"]
    assert "nothing is deployed" in doctor["detail"] and "python -m engine deposit-wallet" in doctor["fix"]

    deployed = run_cli(["deposit-wallet"], env, timeout=120)
    assert deployed.returncode == 0, deployed.stdout + deployed.stderr
    assert f"deposit wallet deployed for {owner} at {wallet}" in deployed.stdout
    assert f"set POLY_FUNDER={wallet} in .env" in deployed.stdout

    env["POLY_FUNDER"] = wallet
    armed = run_cli(["preflight", "--approve", "--yes", "--json"], env, timeout=120)
    assert armed.returncode == 0, armed.stdout + armed.stderr
    checks = _checks(armed.stdout)
    assert all(c["ok"] for c in checks.values()), checks
    assert checks["wallet"]["kind"] == "deposit wallet"
    with sqlite3.connect(env["TRADER_DB"]) as conn:
        audited = conn.execute("SELECT entity FROM audit_log WHERE action = 'deploy_deposit_wallet'").fetchall()
    assert audited == [(wallet,)]
    again = run_cli(["deposit-wallet", "--json"], env, timeout=120)  # one owner, one wallet: said, not an error
    assert again.returncode == 0 and json.loads(again.stdout)["already_deployed"] is True, again.stdout


def test_a_plain_wallet_approves_with_its_own_transactions(tmp_path: Path, sim: SimHandle) -> None:
    key = "0x" + secrets.token_hex(32)
    signer = Account.from_key(key).address
    env = _desk(tmp_path, sim, POLY_PRIVATE_KEY=key, POLY_SIGNATURE_TYPE="0")
    broke = run_cli(["preflight", "--approve", "--yes", "--json"], env)
    assert "insufficient funds for gas" in _checks(broke.stdout)["approvals"]["detail"]
    sim.fund(signer, pol="5")
    paid = run_cli(["preflight", "--approve", "--yes", "--json"], env, timeout=120)
    checks = _checks(paid.stdout)
    assert checks["approvals"]["ok"], checks["approvals"]
    assert sim.call(lambda: sim.sim.chain.nonces[signer.lower()]) == 14  # fourteen transactions of its own
    assert "maker address not allowed" in checks["test order (standard)"]["detail"]  # the venue's other rule


def test_the_preflight_never_picks_a_paired_kalshi_market(tmp_path: Path) -> None:
    from storage.desk.venue_pairs import add_pair

    migrate(tmp_path / "t.db")
    db = Database(tmp_path / "t.db")
    add_pair(db, condition_id="0xpaired", kalshi_ticker="KXTEST-1", inverted=False, polymarket_question="q",
             kalshi_title="t", warnings=[], actor="test")
    assert pick_markets(db) == {}  # the catalog knows it, but its orders go to Kalshi
    db.dispose()
