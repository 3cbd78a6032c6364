"""Trading approvals in the strict simulator: a new wallet has none, an order they do not cover is
refused with the venue's `not enough balance / allowance`, `/balance-allowance` reports what was
approved (shaped like the captured payloads), and the approvals are set by the wallet's own calls."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from eth_abi import encode as abi_encode
from eth_utils import keccak
from py_clob_client_v2 import AssetType, BalanceAllowanceParams, ClobClient, OrderArgs
from py_clob_client_v2.exceptions import PolyApiException

from simulator.chain import COLLATERAL, CONDITIONAL_TOKENS
from simulator.signing import EXCHANGE_V2, NEG_RISK_ADAPTER, NEG_RISK_EXCHANGE_V2
from simulator.testing import SimHandle, approved_simulator, running_simulator

from .conftest import FAST, new_client

CAPTURED = Path("/work/shared/fixtures/polymarket/captured")


@pytest.fixture(scope="module")
def sim() -> Iterator[SimHandle]:
    with running_simulator(seed=41, **FAST) as handle:  # strict about approvals (EOA makers allowed)
        yield handle


def _refusal(call: Any) -> str:
    with pytest.raises(PolyApiException) as exc:
        call()
    return str(exc.value.error_msg["error"])


def _sell(client: ClobClient, token: str) -> dict[str, Any]:
    return client.post_order(client.create_order(OrderArgs(token_id=token, price=0.9, size=20, side="SELL")))


def _buy(client: ClobClient, token: str) -> dict[str, Any]:
    return client.post_order(client.create_order(OrderArgs(token_id=token, price=0.1, size=20, side="BUY")))


def _run(sim: SimHandle, wallet: str, to: str, signature: str, types: list[str], args: list[Any]) -> None:
    """A call the wallet makes on chain (what a relayer or a plain transaction executes)."""
    data = keccak(text=signature)[:4] + abi_encode(types, args)
    sim.call(sim.sim.chain.execute, wallet, to, data, "0x" + "ab" * 32)


def _approve_pusd(sim: SimHandle, wallet: str, spender: str) -> None:
    _run(sim, wallet, COLLATERAL, "approve(address,uint256)", ["address", "uint256"], [spender, 2**256 - 1])


def test_a_new_wallet_can_neither_buy_nor_sell_until_it_approves(sim: SimHandle) -> None:
    client = new_client(sim)
    wallet = client.get_address()
    market = sim.market(neg_risk=False)
    yes = market["yes_token_id"]
    sim.fund(wallet, token_id=yes, tokens="20")
    assert _refusal(lambda: _buy(client, yes)).startswith("not enough balance / allowance")
    assert _refusal(lambda: _sell(client, yes)).startswith("not enough balance / allowance")

    _approve_pusd(sim, wallet, EXCHANGE_V2)
    assert _buy(client, yes)["success"]
    sell_refusal = _refusal(lambda: _sell(client, yes))  # pUSD approved, the shares not yet
    assert sell_refusal.startswith("not enough balance / allowance") and "setApprovalForAll" in sell_refusal
    _run(sim, wallet, CONDITIONAL_TOKENS, "setApprovalForAll(address,bool)", ["address", "bool"],
         [EXCHANGE_V2, True])
    assert _sell(client, yes)["success"]


def test_a_neg_risk_market_needs_its_own_exchange_and_the_adapter(sim: SimHandle) -> None:
    client = new_client(sim)
    wallet = client.get_address()
    yes = sim.market(neg_risk=True)["yes_token_id"]
    _approve_pusd(sim, wallet, EXCHANGE_V2)
    assert NEG_RISK_EXCHANGE_V2 in _refusal(lambda: _buy(client, yes))  # the standard exchange is not enough
    _approve_pusd(sim, wallet, NEG_RISK_EXCHANGE_V2)
    assert NEG_RISK_ADAPTER in _refusal(lambda: _buy(client, yes))
    sim.approve_trading(wallet)
    assert _buy(client, yes)["success"]


def test_balance_allowance_reports_what_was_approved_like_the_venue(sim: SimHandle) -> None:
    client = new_client(sim)
    wallet = client.get_address()
    yes = sim.market(neg_risk=False)["yes_token_id"]
    collateral = BalanceAllowanceParams(asset_type=AssetType.COLLATERAL)
    before = client.get_balance_allowance(collateral)
    # Like http_balance_allowance_no_allowance.json: a balance and no allowance key at all.
    captured = json.loads((CAPTURED / "http_balance_allowance_no_allowance.json").read_text())
    assert set(before) == set(captured) == {"balance"}
    sim.approve_trading(wallet)
    after = client.get_balance_allowance(collateral)
    assert after["allowances"][EXCHANGE_V2] == str(2**256 - 1) and after["balance"] == before["balance"]
    shares = client.get_balance_allowance(BalanceAllowanceParams(asset_type=AssetType.CONDITIONAL,
                                                                 token_id=yes))
    assert NEG_RISK_EXCHANGE_V2 in shares["allowances"]


def test_leniency_is_asked_for_by_name() -> None:
    with approved_simulator(seed=42, **FAST) as lenient:
        client = new_client(lenient)
        yes = lenient.market(neg_risk=True)["yes_token_id"]
        assert _buy(client, yes)["success"]
        collateral = BalanceAllowanceParams(asset_type=AssetType.COLLATERAL)
        assert "allowances" in client.get_balance_allowance(collateral)
