"""The simulator measures its own order path (signature recovery, matching and the response)
and reports it at /_sim/state. How fast that is, and the sign + submit + ack round trip, are
benchmark figures (`.venv/bin/python bench/order_path.py`), not assertions here."""

from __future__ import annotations

from py_clob_client_v2 import OrderArgs, PartialCreateOrderOptions

from simulator.testing import approved_simulator

from .conftest import new_client

ROUNDS = 30


def test_the_simulator_reports_its_order_latency_for_every_order():
    # Live agents: a realistic background load. Type-0 wallet: EOA makers allowed on purpose.
    with approved_simulator(seed=12, agents=True, allow_eoa_makers=True, signer_tier="elite") as sim:
        client = new_client(sim)
        m = sim.market(neg_risk=False, index=0)
        yes, tick = m["yes_token_id"], m["tick_size"]
        opts = PartialCreateOrderOptions(tick_size=tick, neg_risk=False)
        before = sim.state()["order_latency_ms"]["count"]
        for i in range(ROUNDS):
            order = client.create_order(OrderArgs(token_id=yes, price=0.02 + (i % 3) / 100, size=10,
                                                  side="BUY"), opts)
            client.post_order(order)
        client.cancel_all()
        server = sim.state()["order_latency_ms"]
    assert server["count"] - before == ROUNDS, server
    assert 0 < server["p50"] <= server["p90"] <= server["p99"] <= server["max"], server
