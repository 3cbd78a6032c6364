"""Maker rules: a plain EOA (signature type 0) is refused as the venue refuses new EOA makers,
unless the simulator is told to allow it; proxy, Safe and deposit wallets trade as before. And
every new strictness setting reaches SimConfig from flags, environment and the harness alike."""

from __future__ import annotations

import secrets
from collections.abc import Iterator

import pytest
from py_clob_client_v2 import OrderArgs
from py_clob_client_v2.exceptions import PolyApiException

from simulator.__main__ import parse_args
from simulator.config import SimConfig, env_overrides
from simulator.testing import SimHandle, approved_simulator

from .conftest import FAST, deposit_client, new_client

EOA_REFUSAL = "maker address not allowed, please use the deposit wallet flow"


@pytest.fixture(scope="module")
def strict() -> Iterator[SimHandle]:
    with approved_simulator(seed=51, **{**FAST, "allow_eoa_makers": False}) as handle:
        yield handle


def _bid(client, token_id: str) -> dict:
    return client.post_order(client.create_order(OrderArgs(token_id=token_id, price=0.3, size=20, side="BUY")))


def test_an_eoa_maker_is_refused_by_default(strict):
    yes = strict.market(neg_risk=False)["yes_token_id"]
    eoa = new_client(strict)  # signature type 0
    with pytest.raises(PolyApiException) as exc:
        _bid(eoa, yes)
    assert (exc.value.status_code, exc.value.error_msg) == (400, {"error": EOA_REFUSAL})
    assert strict.open_order_count(eoa.get_address()) == 0
    assert strict.state()["allow_eoa_makers"] is False


def test_proxy_safe_and_deposit_wallets_are_accepted(strict):
    yes = strict.market(neg_risk=False)["yes_token_id"]
    for sig_type in (1, 2):
        funder = "0x" + secrets.token_hex(20)
        assert _bid(new_client(strict, signature_type=sig_type, funder=funder), yes)["status"] == "live"
        assert strict.open_order_count(funder) == 1
    client, wallet = deposit_client(strict)
    assert _bid(client, yes)["status"] == "live"
    assert strict.open_order_count(wallet) == 1
    # Internal participants (the control API's liquidity) are not wallets and are unaffected.
    assert strict.place_liquidity(yes, "SELL", "0.9", "10")["status"] == "LIVE"


def test_allow_eoa_makers_lets_type_0_trade(sim):  # the suite's simulator opts in
    yes = sim.market(neg_risk=False)["yes_token_id"]
    sim.clear_book(sim.market(neg_risk=False)["condition_id"])
    assert _bid(new_client(sim), yes)["status"] == "live"


def test_every_strictness_setting_from_flags_and_environment():
    flags = parse_args(["--fee-rate", "0.02", "--fee-exponent", "2", "--maintenance-schedule", "every:600",
                        "--maintenance-seconds", "5", "--maintenance-post-only-seconds", "7", "--allow-eoa-makers",
                        "--sports-delay", "0", "--sports-markets", "none", "--no-rate-limits", "--retry-after", "3"])
    env = env_overrides({"SIMULATOR_FEE_RATE": "0.02", "SIMULATOR_FEE_EXPONENT": "2",
                         "SIMULATOR_MAINTENANCE_SCHEDULE": "every:600", "SIMULATOR_MAINTENANCE_SECONDS": "5",
                         "SIMULATOR_MAINTENANCE_POST_ONLY_SECONDS": "7", "SIMULATOR_ALLOW_EOA_MAKERS": "1",
                         "SIMULATOR_SPORTS_DELAY": "0", "SIMULATOR_SPORTS_MARKETS": "none",
                         "SIMULATOR_NO_RATE_LIMITS": "1", "SIMULATOR_RETRY_AFTER": "3"})
    harness = {"fee_rate": "0.02", "fee_exponent": 2, "maintenance_schedule": "every:600", "maintenance_seconds": 5,
               "maintenance_post_only_seconds": 7, "allow_eoa_makers": True, "sports_delay_s": 0,
               "sports_markets": "none", "rate_limits": False, "retry_after_s": 3}
    built = [SimConfig().with_updates(source) for source in (flags, env, harness)]
    assert built[0] == built[1] == built[2]
    assert built[0].faults.retry_after_s == 3
    strictest = SimConfig()
    assert (strictest.fee_rate, strictest.allow_eoa_makers, strictest.rate_limits, strictest.sports_delay_s,
            strictest.maintenance_schedule) == (None, False, True, 3.0, "weekly")
    assert env_overrides({"SIMULATOR_ALLOW_EOA_MAKERS": "0"}) == {}
    with pytest.raises(ValueError, match="SIMULATOR_FEE_EXPONENT"):
        env_overrides({"SIMULATOR_FEE_EXPONENT": "one"})
