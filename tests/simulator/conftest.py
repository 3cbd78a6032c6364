"""Fixtures for the simulator suite: one quiet simulator per module, real clients.

Books start empty and no agents run, so each test controls the liquidity it
trades against; tests clear the book of the market they use first.
"""

from __future__ import annotations

import json
import secrets
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from eth_account import Account
from py_clob_client_v2 import ClobClient

from simulator.testing import SimHandle, approved_simulator

FAST: dict[str, Any] = dict(agents=False, prefill_books=False, mined_delay_s=0.2, confirmed_delay_s=0.2,
            heartbeat_timeout_s=1.0, ws_idle_timeout_s=5.0, history_interval_s=0.05,
            # Lenient on purpose: these tests drive the venue with plain type-0 (EOA) wallets, which
            # the real venue refuses as makers; test_venue_rules.py covers that refusal.
            allow_eoa_makers=True)


@pytest.fixture(scope="module")
def sim() -> Iterator[SimHandle]:
    with approved_simulator(seed=7, **FAST) as handle:
        yield handle


class PromptClient(ClobClient):
    """py-clob-client-v2 as the desk uses it: it returns the venue's answer to an order as given.
    (Left alone, a matched order's `tradeIDs` without hashes make the client poll /data/trades until
    the trade is mined: these tests watch the states before that; test_settlement_hashes.py the
    client's own wait.)"""

    def _resolve_transactions_hashes(self, response: Any) -> Any:
        return response


def new_client(sim: SimHandle, signature_type: int | None = None, funder: str | None = None) -> ClobClient:
    """A real py-clob-client-v2 client with a fresh random key and L2 creds."""
    client = PromptClient(sim.clob_host, 137, key="0x" + secrets.token_hex(32),
                          signature_type=signature_type, funder=funder)
    client.set_api_creds(client.create_or_derive_api_key())
    return client


def deposit_client(sim: SimHandle) -> tuple[ClobClient, str]:
    """A type-3 (deposit wallet) client, the kind the strict venue accepts as a maker, and the
    wallet address that holds its funds."""
    wallet = Account.create().address
    return new_client(sim, signature_type=3, funder=wallet), wallet


def subscribe_user(ws: Any, client: ClobClient, markets: list[str] | None = None) -> None:
    """Subscribe ``ws`` to ``client``'s user channel and wait until the server has it."""
    creds = client.creds
    ws.send(json.dumps({"type": "user", "markets": markets or [], "auth": {
        "apiKey": creds.api_key, "secret": creds.api_secret, "passphrase": creds.api_passphrase}}))
    ws.send("PING")
    assert ws.recv(timeout=3) == "PONG"


@pytest.fixture
def client(sim: SimHandle) -> ClobClient:
    return new_client(sim)


@pytest.fixture
def market(sim: SimHandle) -> dict[str, Any]:
    """A standard (non neg-risk) market with an empty book."""
    m = sim.market(neg_risk=False, index=0)
    sim.clear_book(m["condition_id"])
    return m


@pytest.fixture
def nr_market(sim: SimHandle) -> dict[str, Any]:
    m = sim.market(neg_risk=True, index=0)
    sim.clear_book(m["condition_id"])
    return m


def wait_for(predicate: Callable[[], Any], timeout: float = 5.0, interval: float = 0.02) -> Any:
    """Poll until ``predicate()`` is truthy; fail the test after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {timeout} s")
        time.sleep(interval)


def recv_json(ws: Any, timeout: float = 3.0) -> Any:
    return json.loads(ws.recv(timeout=timeout))


def recv_until(ws: Any, predicate: Callable[[Any], bool], timeout: float = 3.0) -> Any:
    """Read WS frames until one satisfies ``predicate``; skips PONG and others."""
    deadline = time.monotonic() + timeout
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            raise AssertionError("expected websocket message not received")
        raw = ws.recv(timeout=left)
        if raw == "PONG":
            continue
        msg = json.loads(raw)
        if predicate(msg):
            return msg
