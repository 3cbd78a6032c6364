"""A deposit wallet deployed as the venue's relayer deploys one (WALLET-CREATE), the step a rehearsal
of going live follows: until then nothing is at the wallet's address and the relayer refuses the
owner's approval batches for it; after it, the address has a deposit wallet's code, the relayer says
it is deployed and takes the owner's batches (its approvals set on chain). One owner gets one wallet:
a second create fails naming it. The relayer key must be the owner's; the call must go to the
deposit wallet factory."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from eth_account import Account

from engine.venues import approvals, onchain
from simulator.deposit_wallets import deposit_wallet_address
from simulator.relayer import DEPOSIT_WALLET_FACTORY
from simulator.signing import EXCHANGE_V2
from simulator.testing import SimHandle, running_simulator

from .conftest import FAST


@pytest.fixture(scope="module")
def sim() -> Iterator[SimHandle]:
    with running_simulator(seed=43, relayer_delay_s=0.1, **FAST) as handle:  # strict about approvals
        yield handle


def _relayer(sim: SimHandle, owner: str, method: str, path: str, **kwargs: Any) -> httpx.Response:
    headers = {"RELAYER_API_KEY": "any key of the owner's", "RELAYER_API_KEY_ADDRESS": owner}
    return httpx.request(method, f"{sim.relayer_host}{path}", headers=headers, timeout=10, **kwargs)


def _settled(sim: SimHandle, owner: str, tx_id: str) -> dict[str, Any]:
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        found: dict[str, Any] = _relayer(sim, owner, "GET", f"/v1/account/transactions/{tx_id}").json()
        if found["state"] in ("STATE_CONFIRMED", "STATE_FAILED", "STATE_INVALID"):
            return found
        time.sleep(0.05)
    raise AssertionError(f"relayed transaction {tx_id} did not settle")


def _code(sim: SimHandle, address: str) -> str:
    answer = httpx.post(sim.rpc_url, json={"jsonrpc": "2.0", "id": 1, "method": "eth_getCode",
                                           "params": [address, "latest"]}, timeout=10).json()
    return str(answer["result"])


def _approve(sim: SimHandle, key: str, wallet: str) -> httpx.Response:
    """The owner's batch approving pUSD for the exchange, as the desk's `preflight --approve` sends it."""
    owner = Account.from_key(key).address
    nonce = int(_relayer(sim, owner, "GET", "/v1/account/transactions/params",
                         params={"address": owner, "type": "WALLET"}).json()["nonce"])
    approval = next(a for a in approvals.required("v1") if a.spender.address.lower() == EXCHANGE_V2.lower()
                    and a.asset == "pUSD")
    envelope = onchain.deposit_wallet_envelope(key, wallet, approvals.set_call(approval), nonce,
                                               int(time.time()) + 600, 137)
    return _relayer(sim, owner, "POST", "/submit", json=envelope)


def _create(sim: SimHandle, owner: str, to: str = DEPOSIT_WALLET_FACTORY) -> httpx.Response:
    return _relayer(sim, owner, "POST", "/submit", json={"type": "WALLET-CREATE", "from": owner, "to": to})


def test_the_relayer_deploys_a_deposit_wallet_and_then_takes_its_owners_batches(sim: SimHandle) -> None:
    key = Account.create().key.hex()
    owner = Account.from_key(key).address
    wallet = deposit_wallet_address(DEPOSIT_WALLET_FACTORY, owner)
    assert _code(sim, wallet) == "0x"  # strict by default: nothing deployed until it is asked for
    assert _relayer(sim, owner, "GET", "/deployed", params={"address": wallet}).json() == {"deployed": False}
    refused = _approve(sim, key, wallet)
    assert refused.status_code == 400 and "is not the owner of wallet wallet" in refused.text

    created = _create(sim, owner)
    assert created.status_code == 200, created.text
    done = _settled(sim, owner, created.json()["transactionID"])
    assert done["state"] == "STATE_CONFIRMED" and done["proxyAddress"] == wallet, done
    assert _code(sim, wallet) != "0x"
    assert _relayer(sim, owner, "GET", "/deployed", params={"address": wallet}).json() == {"deployed": True}

    sent = _approve(sim, key, wallet)
    assert sent.status_code == 200, sent.text
    assert _settled(sim, owner, sent.json()["transactionID"])["state"] == "STATE_CONFIRMED"
    assert sim.call(sim.sim.approvals.pusd_allowance, wallet, EXCHANGE_V2) > 0

    again = _settled(sim, owner, _create(sim, owner).json()["transactionID"])  # one owner, one wallet
    assert again["state"] == "STATE_FAILED" and f"already has a deposit wallet, at {wallet}" in again["error_msg"]


def test_a_create_is_the_owners_and_goes_to_the_factory(sim: SimHandle) -> None:
    owner, other = Account.create().address, Account.create().address
    foreign = _relayer(sim, other, "POST", "/submit", json={"type": "WALLET-CREATE", "from": owner,
                                                            "to": DEPOSIT_WALLET_FACTORY})
    assert foreign.status_code == 401
    elsewhere = _create(sim, owner, to=onchain.PROXY_FACTORY)
    assert elsewhere.status_code == 400 and "deposit wallet factory" in elsewhere.text
    unsigned = httpx.post(f"{sim.relayer_host}/submit", json={"type": "WALLET-CREATE", "from": owner,
                                                              "to": DEPOSIT_WALLET_FACTORY}, timeout=10)
    assert unsigned.status_code == 401  # the relayer key is required here as for every call
    assert _code(sim, deposit_wallet_address(DEPOSIT_WALLET_FACTORY, owner)) == "0x"
