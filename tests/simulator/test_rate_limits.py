"""The venue's published rate limits: over them, HTTP 429 with Retry-After and a JSON error;
the injected 429 fault carries Retry-After too; a test or benchmark can turn limits off."""

from __future__ import annotations

import httpx
import pytest

from engine.feeds.pacing import PUBLISHED_LIMITS
from simulator.ratelimit import PUBLISHED, RateLimiter, families
from simulator.testing import approved_simulator

from .conftest import FAST


def test_the_engine_and_the_simulator_agree_on_the_published_limits():
    for family, windows in PUBLISHED_LIMITS.items():
        assert PUBLISHED[family] == tuple(windows), family


def test_which_families_a_request_counts_in():
    assert families("POST", "/order") == ("clob", "place")
    assert families("DELETE", "/orders") == ("clob", "cancel", "cancel-orders")
    assert families("GET", "/data/order/0xabc") == ("clob", "data")
    assert families("GET", "/auth/derive-api-key") == ("clob", "auth")
    assert families("GET", "/gamma/markets") == ("gamma",)
    assert families("GET", "/data-api/trades") == ("data_api",)
    assert families("GET", "/_sim/state") == () and families("GET", "/ws/market") == ()


def test_sliding_windows_with_a_fake_clock():
    now = [100.0]
    limiter = RateLimiter({"a": ((3, 10),), "b": ((5, 10), (6, 60))}, clock=lambda: now[0])
    assert [limiter.admit(["a"]) for _ in range(3)] == [None, None, None]
    now[0] = 102.0
    refused = limiter.admit(["a"])
    assert refused is not None
    wait, what = refused
    assert wait == pytest.approx(8.0) and what == "3 requests per 10 s (a)"
    now[0] = 110.0  # the first three age out of the window together
    assert limiter.admit(["a"]) is None
    for t in range(6):
        now[0] = 200.0 + t * 3
        assert limiter.admit(["b"]) is None
    now[0] = 218.0
    refused = limiter.admit(["b"])
    assert refused is not None
    wait, what = refused  # the 10 s window has room, the 60 s one does not
    assert what == "6 requests per 60 s (b)" and wait == pytest.approx(42.0)
    assert limiter.refused == 2
    limiter.enabled = False
    assert limiter.admit(["b"]) is None


def test_over_the_limit_the_simulator_answers_429_with_retry_after():
    with approved_simulator(seed=81, **FAST) as sim:
        token = sim.market(neg_risk=False)["yes_token_id"]
        with httpx.Client(base_url=sim.clob_host, timeout=5) as http:
            codes = [http.get("/tick-size", params={"token_id": token}).status_code for _ in range(200)]
            assert set(codes) == {200}  # the published 200 per 10 s
            refused = http.get("/tick-size", params={"token_id": token})
            assert refused.status_code == 429
            assert 1 <= int(refused.headers["Retry-After"]) <= 10
            assert "rate limit of 200 requests per 10 s (tick-size)" in refused.json()["error"]
            assert http.get("/book", params={"token_id": token}).status_code == 200  # another family
            assert http.get("/_sim/state").json()["rate_limited"] == 1
            http.post("/_sim/config", json={"rate_limits": False})
            assert http.get("/tick-size", params={"token_id": token}).status_code == 200


def test_limits_off_when_asked_for():
    with approved_simulator(seed=82, rate_limits=False, **FAST) as sim:
        token = sim.market(neg_risk=False)["yes_token_id"]
        with httpx.Client(base_url=sim.clob_host, timeout=5) as http:
            codes = {http.get("/tick-size", params={"token_id": token}).status_code for _ in range(250)}
        assert codes == {200}


def test_the_injected_429_carries_retry_after():
    with approved_simulator(seed=83, error_rate=1.0, error_codes=[429], error_scope="all", **FAST) as sim:
        answer = httpx.get(sim.clob_host + "/time", timeout=5)
        assert (answer.status_code, answer.headers["Retry-After"]) == (429, "1")
        assert answer.json() == {"error": "Too Many Requests"}
        sim.set_faults(retry_after_s=2.5)
        assert httpx.get(sim.clob_host + "/time", timeout=5).headers["Retry-After"] == "3"  # whole seconds
