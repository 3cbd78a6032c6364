"""The wallet doctor in `python -m engine preflight`: the account type read from the (simulated)
chain, whether signing key, funder and API key belong together, and the one fix for each
set-up failure the venue's trackers report."""

from __future__ import annotations

import json
import secrets
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from eth_account import Account

from simulator.testing import SimHandle, running_simulator
from storage.sqlite.migrations import migrate
from tests.helpers import isolated_env, run_cli

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def sim() -> Iterator[SimHandle]:
    with running_simulator(seed=31, agents=False) as handle:
        yield handle


def _wallet_checks(tmp: Path, sim: SimHandle, key: str, signature_type: int, funder: str | None = None,
                   **extra: str) -> dict[str, dict[str, Any]]:
    env = isolated_env(tmp, SIMULATOR_PORT=str(sim.port), POLY_PRIVATE_KEY=key,
                       POLY_SIGNATURE_TYPE=str(signature_type),
                       **({"POLY_FUNDER": funder} if funder else {}), **extra)
    migrate(Path(env["TRADER_DB"]))
    result = run_cli(["preflight", "--json"], env)
    assert key[2:] not in result.stdout + result.stderr
    return {c["check"]: c for c in json.loads(result.stdout)["checks"]}


def _key() -> tuple[str, str]:
    key = "0x" + secrets.token_hex(32)
    return key, Account.from_key(key).address


def test_a_plain_wallet_is_told_from_the_chain(tmp_path: Path, sim: SimHandle) -> None:
    key, _ = _key()
    wallet = _wallet_checks(tmp_path, sim, key, 0)["wallet"]
    assert wallet["ok"] and wallet["kind"] == "plain wallet"


@pytest.mark.parametrize("kind, name", [(1, "proxy wallet"), (2, "Safe"), (3, "deposit wallet")])
def test_each_contract_wallet_is_told_from_its_code(tmp_path: Path, sim: SimHandle, kind: int,
                                                    name: str) -> None:
    key, signer = _key()
    funder = Account.create().address
    sim.link_funder(signer, funder, kind)
    wallet = _wallet_checks(tmp_path, sim, key, kind, funder)["wallet"]
    assert wallet["ok"] and wallet["kind"] == name and f"a {name} at {funder}" in wallet["detail"], wallet


def test_a_funder_of_another_kind_than_the_signature_type_gets_the_right_type(tmp_path: Path,
                                                                              sim: SimHandle) -> None:
    key, signer = _key()
    funder = Account.create().address
    sim.link_funder(signer, funder, 1)  # a proxy wallet, configured as a Safe
    wallet = _wallet_checks(tmp_path, sim, key, 2, funder)["wallet"]
    assert not wallet["ok"] and "is a proxy wallet, but POLY_SIGNATURE_TYPE=2" in wallet["detail"]
    assert wallet["fix"] == "set POLY_SIGNATURE_TYPE=1 in .env"


def test_a_safe_of_another_key_is_named(tmp_path: Path, sim: SimHandle) -> None:
    key, _ = _key()
    safe = Account.create().address
    sim.link_funder(Account.create().address, safe, 2)
    wallet = _wallet_checks(tmp_path, sim, key, 2, safe)["wallet"]
    assert not wallet["ok"] and "is not an owner of the Safe" in wallet["detail"]


def test_a_deposit_wallet_not_deployed_is_told_to_deposit_once(tmp_path: Path, sim: SimHandle) -> None:
    key, _ = _key()
    wallet = _wallet_checks(tmp_path, sim, key, 3, Account.create().address)["wallet"]
    assert not wallet["ok"] and "nothing is deployed at POLY_FUNDER" in wallet["detail"]
    assert "deposit once through polymarket.com" in wallet["fix"]


def test_a_funder_that_is_the_key_itself_is_named(tmp_path: Path, sim: SimHandle) -> None:
    key, signer = _key()
    wallet = _wallet_checks(tmp_path, sim, key, 1, signer)["wallet"]
    assert not wallet["ok"] and "POLY_FUNDER is the signing key's own address" in wallet["detail"]


def test_api_credentials_of_another_key_are_the_signer_mismatch(tmp_path: Path, sim: SimHandle) -> None:
    key, signer = _key()
    funder = Account.create().address
    sim.link_funder(signer, funder, 3)
    other = sim.call(sim.sim.auth.compute, Account.create().address.lower(), 0)
    sim.call(sim.sim.auth._register, other)  # created at the venue, by another key
    checks = _wallet_checks(tmp_path, sim, key, 3, funder, POLY_API_KEY=other.api_key,
                            POLY_API_SECRET=other.secret, POLY_API_PASSPHRASE=other.passphrase)
    assert checks["wallet"]["ok"]
    api = checks["api key"]
    assert not api["ok"] and "the order signer address has to be the address of the API KEY" in api["detail"]
    assert api["fix"].startswith("clear POLY_API_KEY, POLY_API_SECRET and POLY_API_PASSPHRASE")
    assert other.secret not in json.dumps(checks)
