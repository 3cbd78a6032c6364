"""Protocol V2 merges and redemptions at the simulator, as strict as the venue: a V2 market's
condition and position ids are structured (a binary module's 31-byte condition, the outcome byte
after it); its positions live in the PositionManager, whose `balanceOf` and `isApprovedForAll` are
the ones that answer for them; the Router's `redeem(bytes31,uint256,uint256)` and
`merge(bytes31,uint256)` move them only once the wallet approved the Router there, redeem one
outcome at a time and only once the market is final, never more than is held; the conditional
tokens' own calls refuse a V2 condition, and the Router a CTF one. Calls are encoded here from the
venue's documented signatures, not with the desk's code."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest
from eth_abi import decode as abi_decode
from eth_abi import encode as abi_encode
from eth_utils import keccak

from simulator.chain import COLLATERAL, COLLATERAL_ADAPTER, CONDITIONAL_TOKENS
from simulator.protocol_v2 import POSITION_MANAGER, ROUTER
from simulator.settlement import Revert
from simulator.signing import EXCHANGE_V3
from simulator.testing import SimHandle, running_simulator

from .conftest import FAST

WALLET = "0x" + "ab" * 20


@pytest.fixture(scope="module")
def sim() -> Iterator[SimHandle]:
    with running_simulator(seed=43, resolution_delay_s=0.05, **FAST) as handle:
        yield handle


def _sel(signature: str) -> bytes:
    return keccak(text=signature)[:4]


def _execute(sim: SimHandle, to: str, data: bytes) -> str:
    return sim.call(sim.sim.chain.execute, WALLET, to, data, "0x" + keccak(data).hex())


def _read(sim: SimHandle, to: str, signature: str, types: list[str], args: list[Any], out: str) -> Any:
    (value,) = abi_decode([out], sim.call(sim.sim.chain.call, to, _sel(signature) + abi_encode(types, args)))
    return value


def _redeem(condition31: bytes, outcome: int, amount: int) -> bytes:
    return _sel("redeem(bytes31,uint256,uint256)") + abi_encode(["bytes31", "uint256", "uint256"],
                                                                [condition31, outcome, amount])


def _merge(condition31: bytes, amount: int) -> bytes:
    return _sel("merge(bytes31,uint256)") + abi_encode(["bytes31", "uint256"], [condition31, amount])


def _approve_router(approved: bool = True) -> bytes:
    return _sel("setApprovalForAll(address,bool)") + abi_encode(["address", "bool"], [ROUTER, approved])


def _reverts(sim: SimHandle, to: str, data: bytes, reason: str) -> None:
    with pytest.raises(Revert, match=reason):
        _execute(sim, to, data)


def _pusd(sim: SimHandle) -> Decimal:
    return Decimal(sim.balances(WALLET)["pusd"])


def test_v2_redemption_and_merging_go_through_the_router_strictly(sim: SimHandle) -> None:
    market = next(m for m in sim.markets() if m["protocol_v2"])
    cid, yes, no = market["condition_id"], market["yes_token_id"], market["no_token_id"]
    raw = bytes.fromhex(cid[2:])
    assert raw[0] == 1 and raw[-1] == 0  # a binary module's condition, padded with a zero outcome byte
    assert (int(yes), int(no)) == (int(cid, 16), int(cid, 16) | 1)  # the condition followed by the outcome
    condition31 = raw[:31]
    sim.fund(WALLET, token_id=yes, tokens="10")
    sim.fund(WALLET, token_id=no, tokens="4")

    def position(token: str, where: str = POSITION_MANAGER) -> int:
        return _read(sim, where, "balanceOf(address,uint256)", ["address", "uint256"], [WALLET, int(token)],
                     "uint256")

    assert position(yes) == 10_000_000 and position(yes, CONDITIONAL_TOKENS) == 0  # the PositionManager's only

    _reverts(sim, ROUTER, _merge(condition31, 2_000_000), "caller is not token owner or approved")
    _execute(sim, POSITION_MANAGER, _approve_router())
    assert _read(sim, POSITION_MANAGER, "isApprovedForAll(address,address)", ["address", "address"],
                 [WALLET, ROUTER], "bool")
    assert not _read(sim, CONDITIONAL_TOKENS, "isApprovedForAll(address,address)", ["address", "address"],
                     [WALLET, ROUTER], "bool")  # an approval on the PositionManager only

    before = _pusd(sim)
    _reverts(sim, ROUTER, _merge(condition31, 5_000_000), "not enough complete sets")
    _execute(sim, ROUTER, _merge(condition31, 3_000_000))
    assert _pusd(sim) == before + 3 and (position(yes), position(no)) == (7_000_000, 1_000_000)

    _reverts(sim, ROUTER, _redeem(condition31, 0, 1_000_000), "result for condition not received yet")
    sim.resolve(cid, "YES")
    sim.call(sim.sim.settlement.finalize, sim.sim.exchange.markets[cid])
    _reverts(sim, ROUTER, _redeem(condition31, 2, 1_000_000), "outcome index out of range")
    _reverts(sim, ROUTER, _redeem(condition31, 0, 8_000_000), "insufficient balance")
    redeem_v1 = _sel("redeemPositions(address,bytes32,bytes32,uint256[])") + abi_encode(
        ["address", "bytes32", "bytes32", "uint256[]"], [COLLATERAL, b"\x00" * 32, raw, [1, 2]])
    _reverts(sim, COLLATERAL_ADAPTER, redeem_v1, "condition not prepared")  # not a CTF condition

    before = _pusd(sim)
    _execute(sim, ROUTER, _redeem(condition31, 0, 7_000_000))  # the winning outcome, all of it
    _execute(sim, ROUTER, _redeem(condition31, 1, 1_000_000))  # the losing one pays nothing
    assert _pusd(sim) == before + 7 and position(yes) == position(no) == 0
    redeemed = [a for a in sim.activity(WALLET) if a["type"] == "REDEEM"]
    assert [(a["asset"], a["outcomeIndex"], a["usdcSize"]) for a in redeemed] == [(no, 1, "0"), (yes, 0, "7")]


def test_the_router_refuses_a_ctf_markets_condition(sim: SimHandle) -> None:
    v1 = sim.market(neg_risk=False, index=1)
    assert not v1["protocol_v2"]
    _execute(sim, POSITION_MANAGER, _approve_router())
    _reverts(sim, ROUTER, _merge(bytes.fromhex(v1["condition_id"][2:])[:31], 1_000_000), "condition")


def test_ctf_approvals_do_not_carry_over_to_v2_positions(sim: SimHandle) -> None:
    """The venue's integration guide: existing CTF approvals do not carry over. A wallet that let the
    Router and Exchange V3 move its conditional tokens still may not have them move its V2 positions."""
    wallet = "0x" + "cd" * 20
    market = next(m for m in sim.markets() if m["protocol_v2"])
    sim.fund(wallet, token_id=market["yes_token_id"], tokens="2")
    sim.fund(wallet, token_id=market["no_token_id"], tokens="2")
    for operator in (ROUTER, EXCHANGE_V3):
        approve = _sel("setApprovalForAll(address,bool)") + abi_encode(["address", "bool"], [operator, True])
        sim.call(sim.sim.chain.execute, wallet, CONDITIONAL_TOKENS, approve, "0x" + keccak(approve).hex())
    merge = _merge(bytes.fromhex(market["condition_id"][2:])[:31], 1_000_000)
    with pytest.raises(Revert, match="caller is not token owner or approved"):
        sim.call(sim.sim.chain.execute, wallet, ROUTER, merge, "0x" + keccak(merge).hex())
    for operator in (ROUTER, EXCHANGE_V3):
        assert not sim.call(sim.sim.settlement.is_approved, wallet, operator, v2=True)
