"""The one table of trading approvals and the calls that read and set them; balances as the venue
sends them (the captured `/balance-allowance` payloads)."""

from __future__ import annotations

import json
from pathlib import Path

from eth_abi import decode as abi_decode

from engine.venues.polymarket import approvals, onchain, onchain_v2
from engine.venues.polymarket.wire import balance_micros

CAPTURED = Path("/work/shared/fixtures/polymarket/captured")


def test_every_trading_approval_is_in_the_table() -> None:
    labels = {a.label for a in approvals.required("v1")}
    for spender in ("CTF Exchange", "Neg Risk CTF Exchange", "Neg Risk Adapter"):
        assert {f"pUSD -> {spender}", f"conditional tokens -> {spender}"} <= labels
    # A Protocol V2 market's: pUSD and its positions (the PositionManager's) for Exchange V3 and the Router.
    assert {a.label for a in approvals.required("v2")} == {
        "pUSD -> Exchange V3", "V2 positions -> Exchange V3", "pUSD -> Router", "V2 positions -> Router"}


def test_the_calls_read_and_set_what_they_name() -> None:
    owner = "0x" + "11" * 20
    pusd = approvals.Approval("pUSD", approvals.SPENDERS[0])
    shares = approvals.Approval("conditional tokens", approvals.SPENDERS[1])
    read = approvals.read_call(pusd, owner)
    assert read.to == onchain.COLLATERAL
    assert [a.lower() for a in abi_decode(["address", "address"], read.data[4:])] == \
        [owner, approvals.EXCHANGE_V2.lower()]
    spender, amount = abi_decode(["address", "uint256"], approvals.set_call(pusd).data[4:])
    assert spender.lower() == approvals.EXCHANGE_V2.lower() and amount == approvals.MAX_UINT
    assert approvals.set_call(shares).to == onchain.CONDITIONAL_TOKENS
    assert approvals.is_set(pusd, "0x" + approvals.MAX_UINT.to_bytes(32, "big").hex())
    assert not approvals.is_set(pusd, "0x" + (5 * 10**6).to_bytes(32, "big").hex())  # a small allowance
    router = approvals.Approval("V2 positions", approvals.SPENDERS[-1])
    assert approvals.set_call(router).to == onchain_v2.POSITION_MANAGER  # not the conditional tokens
    assert [a.lower() for a in abi_decode(["address", "address"], approvals.read_call(router, owner).data[4:])] == \
        [owner, onchain_v2.ROUTER.lower()]


def test_balances_parse_in_both_captured_shapes() -> None:
    with_allowance = json.loads((CAPTURED / "http_balance_allowance_collateral.json").read_text())
    without = json.loads((CAPTURED / "http_balance_allowance_no_allowance.json").read_text())
    assert balance_micros(with_allowance["balance"]) == 1_000_000_000  # micro-units
    assert balance_micros(without["balance"]) == 250_500_000  # a decimal string
