"""Protocol V2 markets in the simulator: served on Gamma as `version: "v2"` with `positionIds`,
orders on them verified against ExchangeV3 (EIP-712 domain "3") and v1-signed ones refused, their
balances served only as `CONDITIONAL-V2` — driven by the real py-clob-client-v2."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from py_clob_client_v2 import AssetType, BalanceAllowanceParams, OrderArgs, PartialCreateOrderOptions
from py_clob_client_v2.exceptions import PolyApiException

from simulator.testing import SimHandle, approved_simulator, running_simulator

from .conftest import FAST, deposit_client

STRICT: dict[str, Any] = {**FAST, "allow_eoa_makers": False}


@pytest.fixture(scope="module")
def strict() -> Iterator[SimHandle]:
    with approved_simulator(seed=41, **STRICT) as handle:
        yield handle


def _gamma(sim: SimHandle) -> dict[str, dict[str, Any]]:
    items = httpx.get(f"{sim.gamma_host}/markets/keyset", params={"limit": 100}).json()["markets"]
    return {item["conditionId"]: item for item in items}


def _v2(sim: SimHandle) -> dict[str, Any]:
    market = next(m for m in sim.markets() if m["protocol_v2"])
    sim.clear_book(market["condition_id"])
    return market


def test_the_default_serves_one_standalone_v2_market_on_gamma_without_moving_any_index(strict):
    markets = strict.markets()
    assert [i for i, m in enumerate(markets) if m["protocol_v2"]] == [7]
    assert not markets[7]["neg_risk"]
    gamma = _gamma(strict)
    v2 = gamma[markets[7]["condition_id"]]
    assert v2["version"] == "v2" and v2["positionIds"] == [markets[7]["yes_token_id"], markets[7]["no_token_id"]]
    assert "clobTokenIds" not in v2  # the outcome ids of a v2 market are its position ids
    v1 = gamma[markets[4]["condition_id"]]
    assert v1["version"] == "v1" and "positionIds" not in v1 and isinstance(v1["clobTokenIds"], str)


def test_an_exchange_v3_order_is_accepted_and_a_v1_signed_one_refused(strict):
    market = _v2(strict)
    client, _ = deposit_client(strict)
    position = market["yes_token_id"]
    accepted = client.post_order(client.create_order(OrderArgs(position_id=position, price=0.2, size=20, side="BUY")))
    assert accepted["success"] and accepted["status"] == "live"
    # The same position signed as a v1 token (the V2 exchange, domain "2") does not recover to its signer.
    v1_signed = client.create_order(OrderArgs(token_id=position, price=0.2, size=20, side="BUY"),
                                    PartialCreateOrderOptions(neg_risk=False))
    with pytest.raises(PolyApiException) as refused:
        client.post_order(v1_signed)
    assert refused.value.status_code == 400 and refused.value.error_msg == {"error": "invalid signature"}


def test_an_exchange_v3_order_on_a_v1_market_is_refused(strict):
    v1 = strict.market(neg_risk=False, index=0)
    assert not v1["protocol_v2"]
    client, _ = deposit_client(strict)
    with pytest.raises(PolyApiException) as refused:
        client.post_order(client.create_order(OrderArgs(position_id=v1["yes_token_id"], price=0.2, size=20,
                                                        side="BUY")))
    assert refused.value.error_msg == {"error": "invalid signature"}


def test_v2_positions_balances_are_conditional_v2_only(strict):
    market = _v2(strict)
    client, _ = deposit_client(strict)
    position = market["yes_token_id"]
    held = client.get_balance_allowance(BalanceAllowanceParams(asset_type="CONDITIONAL-V2", token_id=position))
    assert held["balance"] == "0"
    with pytest.raises(PolyApiException) as wrong_kind:
        client.get_balance_allowance(BalanceAllowanceParams(asset_type=AssetType.CONDITIONAL, token_id=position))
    assert wrong_kind.value.status_code == 400
    v1_token = strict.market(neg_risk=False, index=0)["yes_token_id"]
    with pytest.raises(PolyApiException):
        client.get_balance_allowance(BalanceAllowanceParams(asset_type="CONDITIONAL-V2", token_id=v1_token))


def test_v2_markets_are_chosen_by_the_setting():
    with running_simulator(seed=41, v2_markets="none", **STRICT) as none:
        assert not any(m["protocol_v2"] for m in none.markets())
        assert {item["version"] for item in _gamma(none).values()} == {"v1"}
    with running_simulator(seed=41, v2_markets="4,5", **STRICT) as listed:
        assert [i for i, m in enumerate(listed.markets()) if m["protocol_v2"]] == [4, 5]


def test_a_bad_v2_markets_setting_is_refused_with_its_name():
    from simulator.config import SimConfig

    with pytest.raises(ValueError, match="v2_markets"):
        SimConfig(v2_markets="some")
