"""The order path is fast: signature recovery, matching and the response take
well under 5 ms server-side, so sign + submit + ack stays within the project's
10 ms p50 budget on loopback."""

from __future__ import annotations

import statistics
import time

from py_clob_client_v2 import OrderArgs, PartialCreateOrderOptions

from simulator.testing import running_simulator

from .conftest import new_client

ROUNDS = 150


def test_order_latency_server_side_and_round_trip():
    # Live agents: a realistic background load. Type-0 wallet: EOA makers allowed on purpose. The
    # elite tier's 900-order burst holds all 150 back-to-back orders: this measures the order path,
    # not the per-signer pacing a standard account would need at this rate.
    with running_simulator(seed=12, agents=True, allow_eoa_makers=True, signer_tier="elite") as sim:
        client = new_client(sim)
        m = sim.market(neg_risk=False, index=0)
        yes, tick = m["yes_token_id"], m["tick_size"]
        opts = PartialCreateOrderOptions(tick_size=tick, neg_risk=False)
        client.create_order(OrderArgs(token_id=yes, price=0.05, size=5, side="BUY"), opts)  # warm caches
        round_trips = []
        for i in range(ROUNDS):
            t0 = time.perf_counter()
            order = client.create_order(OrderArgs(token_id=yes, price=0.02 + (i % 3) / 100, size=10,
                                                  side="BUY"), opts)
            client.post_order(order)
            round_trips.append(time.perf_counter() - t0)
            if i % 20 == 19:
                client.cancel_all()
        server = sim.state()["order_latency_ms"]
    assert server["count"] >= ROUNDS
    assert server["p50"] < 5.0, server
    p50 = statistics.median(round_trips) * 1000
    assert p50 < 10.0, f"sign+submit+ack p50 {p50:.2f} ms"
