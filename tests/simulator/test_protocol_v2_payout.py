"""The PositionManager's payout read at the simulator's JSON-RPC, as Polymarket's Protocol V2 contracts
declare it: ``getPayout(uint256 positionId, uint256 amount) returns (uint256)`` is what `amount` of a
position pays if redeemed (pUSD base units), from the market's result and whatever the caller holds;
a losing position answers 0; before the result it reverts with the custom error
``ConditionNotResolved()``, for a module it does not know ``ModuleNotRegistered()``, for an outcome byte
over 1 ``InvalidOutcomeIndex()`` (a node returns a custom error as code 3 and the selector as the
error's data). Calls are encoded here from those declarations, not with the desk's code."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from eth_abi import decode as abi_decode
from eth_abi import encode as abi_encode
from eth_utils import keccak

from simulator.protocol_v2 import POSITION_MANAGER
from simulator.testing import SimHandle, running_simulator

from .conftest import FAST


@pytest.fixture(scope="module")
def sim() -> Iterator[SimHandle]:
    with running_simulator(seed=47, resolution_delay_s=0, **FAST) as handle:
        yield handle


def _get_payout(sim: SimHandle, position: int, amount: int) -> dict[str, Any]:
    data = keccak(text="getPayout(uint256,uint256)")[:4] + abi_encode(["uint256", "uint256"], [position, amount])
    request = {"jsonrpc": "2.0", "id": 7, "method": "eth_call",
               "params": [{"to": POSITION_MANAGER, "data": "0x" + data.hex()}, "latest"]}
    return httpx.post(f"http://127.0.0.1:{sim.port}/rpc", json=request, timeout=10).json()


def _paid(answer: dict[str, Any]) -> int:
    assert "error" not in answer, answer
    (value,) = abi_decode(["uint256"], bytes.fromhex(answer["result"][2:]))
    return int(value)


def _reverted(answer: dict[str, Any], error: str) -> None:
    assert answer["error"]["code"] == 3 and answer["error"]["message"].startswith("execution reverted")
    assert answer["error"]["data"] == "0x" + keccak(text=error)[:4].hex()


def test_get_payout_reverts_until_the_result_then_pays_per_outcome(sim: SimHandle) -> None:
    market = next(m for m in sim.markets() if m["protocol_v2"])
    yes, no = int(market["yes_token_id"]), int(market["no_token_id"])
    _reverted(_get_payout(sim, yes, 10_000_000), "ConditionNotResolved()")  # trading: no result
    sim.resolve(market["condition_id"], "NO")  # final at once here (no liveness)
    assert _paid(_get_payout(sim, no, 10_000_000)) == 10_000_000
    assert _paid(_get_payout(sim, no, 2_500_001)) == 2_500_001  # base units, whatever the caller holds
    assert _paid(_get_payout(sim, yes, 10_000_000)) == 0  # a losing position: a valid answer
    assert _paid(_get_payout(sim, no, 0)) == 0
    _reverted(_get_payout(sim, yes | 2, 1_000_000), "InvalidOutcomeIndex()")
    _reverted(_get_payout(sim, yes ^ (3 << 248), 1_000_000), "ModuleNotRegistered()")  # module 2
    unknown = (1 << 248) | (12345 << 120)  # a binary module's condition no market has: no result
    _reverted(_get_payout(sim, unknown, 1_000_000), "ConditionNotResolved()")
    v1 = next(m for m in sim.markets() if not m["protocol_v2"])  # a CTF market's token is no position here
    assert _get_payout(sim, int(v1["yes_token_id"]), 1_000_000)["error"]["code"] == 3
