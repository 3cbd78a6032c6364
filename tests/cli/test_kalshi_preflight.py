"""`python -m engine kalshi-preflight`, run as a user runs it (a real process, its settings in .env
or sealed) against the simulator's Kalshi side: every check passes on a funded account and its
test order rests and is cancelled; a key that is not the account's, or no key, fails with the fix."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from simulator.testing import SimHandle, running_simulator
from tests.helpers import ROOT, isolated_env
from tests.kalshi import keypair, register

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
    return {c["check"]: c for c in report["checks"]}


def test_a_funded_account_passes_and_its_test_order_is_cancelled(sim: SimHandle, tmp_path: Path) -> None:
    private_pem, public_pem = keypair()
    key_id = register(sim, public_pem)
    code, report = _preflight(_desk(tmp_path, sim, key_id, private_pem))
    assert code == 0 and report["ok"] and report["environment"] == "simulator"
    checks = _checks(report)
    assert "plain text" in checks["key"]["detail"]  # it works, and says to seal it
    assert checks["balance"]["detail"] == "$10,000.00"
    assert "rested and was cancelled" in checks["test order"]["detail"]
    account = sim.call(lambda: sim.sim.kalshi.keys.keys[key_id].account)
    orders = sim.call(lambda: [(o.status, o.yes_price) for o in sim.sim.kalshi.exchange.orders.values()
                               if o.account == account])
    assert orders == [("canceled", 1)]  # nothing left resting


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
