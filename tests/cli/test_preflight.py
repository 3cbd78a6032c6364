"""`python -m engine preflight` against the strict simulator: it proves an account can trade by
placing and cancelling one harmless post-only order in a standard and a neg-risk market, names
each missing trading approval and sets them with `--approve` (through the real relayer path), and
when the venue refuses it says, in plain words, which setting to change."""

from __future__ import annotations

import asyncio
import json
import secrets
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from eth_account import Account
from eth_typing import HexStr

from engine.venues.polymarket.discovery import refresh_markets
from simulator.testing import SimHandle, running_simulator
from storage.sqlite.db import Database
from storage.sqlite.migrations import migrate
from tests.helpers import isolated_env, run_cli

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def sim() -> Iterator[SimHandle]:
    # Strict: EOA makers are refused, and a new wallet has no approvals until it sends them.
    with running_simulator(seed=23, agents=False, relayer_delay_s=0.1, block_time_s=0.1) as handle:
        yield handle


def _desk(tmp: Path, sim: SimHandle, **env: str) -> dict[str, str]:
    """A desk whose market list the engine has filled (preflight tests in one of them)."""
    full = isolated_env(tmp, SIMULATOR_PORT=str(sim.port), **env)
    db_path = Path(full["TRADER_DB"])
    migrate(db_path)
    db = Database(db_path)
    asyncio.run(refresh_markets(db, f"http://127.0.0.1:{sim.port}/gamma"))
    db.dispose()
    return full


def _checks(stdout: str) -> dict[str, dict[str, Any]]:
    return {c["check"]: c for c in json.loads(stdout)["checks"]}


def test_a_deposit_wallet_passes_once_approved_and_leaves_no_order(tmp_path: Path, sim: SimHandle) -> None:
    key = "0x" + secrets.token_hex(32)
    signer = Account.from_key(key).address
    funder = Account.create().address
    sim.link_funder(signer, funder, 3)
    env = _desk(tmp_path, sim, POLY_PRIVATE_KEY=key, POLY_SIGNATURE_TYPE="3", POLY_FUNDER=funder,
                RELAYER_API_KEY="sim-relayer-key")
    result = run_cli(["preflight", "--approve", "--yes", "--json"], env)
    assert result.returncode == 0, result.stdout + result.stderr
    report = json.loads(result.stdout)
    checks = _checks(result.stdout)
    assert report["ok"], report
    assert checks["test order (standard)"]["ok"] and checks["test order (neg-risk)"]["ok"]
    assert "placed and cancelled" in checks["test order (neg-risk)"]["detail"]
    assert sim.open_order_count(funder) == 0  # the test orders did not stay behind
    # Not approved for the venue's auto-redeem, but the desk can redeem through the relayer itself.
    assert checks["auto-redeem"]["ok"] and "through the relayer" in checks["auto-redeem"]["detail"]
    assert key[2:] not in result.stdout + result.stderr and "sim-relayer-key" not in result.stdout


def test_an_eoa_maker_is_refused_and_told_to_use_a_deposit_wallet(tmp_path: Path, sim: SimHandle) -> None:
    key = "0x" + secrets.token_hex(32)
    env = _desk(tmp_path, sim, POLY_PRIVATE_KEY=key, POLY_SIGNATURE_TYPE="0")
    result = run_cli(["preflight"], env)
    assert result.returncode == 1, result.stdout
    assert "maker address not allowed" in result.stdout
    assert "POLY_SIGNATURE_TYPE=3" in result.stdout and "POLY_FUNDER" in result.stdout  # the fix, named
    assert "not ready to go live" in result.stdout
    assert sim.open_order_count(Account.from_key(key).address) == 0


def test_settings_that_cannot_work_are_named_before_any_network_call(tmp_path: Path, sim: SimHandle) -> None:
    key = "0x" + secrets.token_hex(32)
    env = _desk(tmp_path, sim, POLY_PRIVATE_KEY=key, POLY_SIGNATURE_TYPE="3")  # a deposit wallet, but whose?
    result = run_cli(["preflight"], env)
    assert result.returncode == 1
    assert "POLY_SIGNATURE_TYPE=3 needs POLY_FUNDER" in result.stdout
    no_key = run_cli(["preflight"], {k: v for k, v in env.items() if k != "POLY_PRIVATE_KEY"})
    assert no_key.returncode == 1 and "no wallet key is configured" in no_key.stderr


def test_a_keystore_is_unlocked_for_the_check_and_a_plain_key_is_warned_about(tmp_path: Path, sim: SimHandle) -> None:
    key = "0x" + secrets.token_hex(32)
    funder = Account.create().address
    sim.link_funder(Account.from_key(key).address, funder, 3)
    wallet, password = tmp_path / "wallet.json", tmp_path / "passphrase"
    wallet.write_text(json.dumps(Account.encrypt(HexStr(key), "a long passphrase", kdf="scrypt", iterations=2**12)))
    password.write_text("a long passphrase\n")
    password.chmod(0o600)
    sim.approve_trading(funder)  # approvals are not this test's subject
    env = _desk(tmp_path, sim, POLY_KEYSTORE=str(wallet), POLY_KEYSTORE_PASSWORD_FILE=str(password),
                POLY_SIGNATURE_TYPE="3", POLY_FUNDER=funder, RELAYER_API_KEY="sim-relayer-key")
    result = run_cli(["preflight", "--json"], env)
    assert result.returncode == 0, result.stdout + result.stderr
    checks = _checks(result.stdout)
    assert checks["key storage"]["ok"] and "encrypted keystore" in checks["key storage"]["detail"]
    assert checks["test order (standard)"]["ok"] and key[2:] not in result.stdout + result.stderr

    plain = {k: v for k, v in env.items() if not k.startswith("POLY_KEYSTORE")} | {"POLY_PRIVATE_KEY": key}
    result = run_cli(["preflight"], plain)
    assert result.returncode == 0, result.stdout  # it works, and says what to do about it
    assert "[WARN] key storage: POLY_PRIVATE_KEY is kept in plain text" in result.stdout
    assert "python -m engine keystore import" in result.stdout


def test_a_wallet_that_cannot_collect_resolved_positions_is_told_how(tmp_path: Path, sim: SimHandle) -> None:
    key = "0x" + secrets.token_hex(32)
    funder = Account.create().address
    sim.link_funder(Account.from_key(key).address, funder, 3)
    env = _desk(tmp_path, sim, POLY_PRIVATE_KEY=key, POLY_SIGNATURE_TYPE="3", POLY_FUNDER=funder)
    result = run_cli(["preflight"], env)
    assert result.returncode == 1, result.stdout
    assert "resolved positions cannot be collected" in result.stdout
    assert "RELAYER_API_KEY" in result.stdout and "--approve-auto-redeem" in result.stdout
