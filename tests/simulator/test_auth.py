"""L1/L2 authentication and order-signature checks, with the venue's messages."""

from __future__ import annotations

import json
import secrets
import time
from dataclasses import replace

import httpx
import pytest
from py_clob_client_v2 import ClobClient, OrderArgs, OrderType, PartialCreateOrderOptions
from py_clob_client_v2.clob_types import RequestArgs
from py_clob_client_v2.exceptions import PolyApiException
from py_clob_client_v2.headers.headers import create_level_1_headers, create_level_2_headers
from py_clob_client_v2.order_utils.model.order_data_v2 import order_to_json_v2

from .conftest import new_client


def _raw(sim, client: ClobClient, method: str, path: str, body: object | None = None,
         timestamp: int | None = None, headers: dict | None = None) -> httpx.Response:
    """Send an L2-signed request exactly as the client would, with optional tweaks."""
    serialized = json.dumps(body, separators=(",", ":"), ensure_ascii=False) if body is not None else None
    signed = create_level_2_headers(client.signer, client.creds,
                                    RequestArgs(method, path, body, serialized), timestamp=timestamp)
    signed.update(headers or {})
    return httpx.request(method, sim.clob_host + path, headers=signed,
                         content=serialized.encode() if serialized else None, timeout=5)


def test_create_then_derive_returns_the_same_key(sim):
    client = ClobClient(sim.clob_host, 137, key="0x" + secrets.token_hex(32))
    created = client.create_api_key()
    with pytest.raises(PolyApiException) as exc:
        client.create_api_key()
    assert exc.value.status_code == 400
    assert exc.value.error_msg == {"error": "Could not create api key"}
    assert client.derive_api_key() == created
    assert client.create_or_derive_api_key() == created
    assert client.derive_api_key(nonce=1) != created
    assert len(created.api_passphrase) == 64 and len(created.api_key) == 36


def test_l1_rejects_a_forged_signature_and_a_stale_timestamp(sim):
    client = ClobClient(sim.clob_host, 137, key="0x" + secrets.token_hex(32))
    other = ClobClient(sim.clob_host, 137, key="0x" + secrets.token_hex(32))
    forged = create_level_1_headers(other.signer)
    forged["POLY_ADDRESS"] = client.get_address()
    stale = create_level_1_headers(client.signer, timestamp=int(time.time()) - 3600)
    for headers in (forged, stale):
        resp = httpx.get(sim.clob_host + "/auth/derive-api-key", headers=headers, timeout=5)
        assert resp.status_code == 401
        assert resp.json() == {"error": "Invalid L1 Request headers"}


@pytest.mark.parametrize("tweak", ["api_key", "secret", "passphrase"])
def test_l2_rejects_wrong_credentials(sim, client, tweak):
    creds = client.creds
    bad = {
        "api_key": replace(creds, api_key="00000000-0000-4000-8000-000000000000"),
        "secret": replace(creds, api_secret="A" * 43 + "="),
        "passphrase": replace(creds, api_passphrase="0" * 64),
    }[tweak]
    client.set_api_creds(bad)
    with pytest.raises(PolyApiException) as exc:
        client.get_open_orders()
    assert exc.value.status_code == 401
    assert exc.value.error_msg == {"error": "Unauthorized/Invalid api key"}


def test_l2_rejects_bad_hmac_stale_timestamp_and_foreign_address(sim, client):
    assert _raw(sim, client, "GET", "/data/orders").status_code == 200
    stale = _raw(sim, client, "GET", "/data/orders", timestamp=int(time.time()) - 3600)
    tampered = _raw(sim, client, "GET", "/data/orders", headers={"POLY_SIGNATURE": "x" * 44})
    foreign = _raw(sim, client, "GET", "/data/orders", headers={"POLY_ADDRESS": "0x" + "11" * 20})
    for resp in (stale, tampered, foreign):
        assert resp.status_code == 401
        assert resp.json() == {"error": "Unauthorized/Invalid api key"}


def test_hmac_covers_the_raw_body(sim, client):
    body = {"heartbeat_id": ""}
    serialized = json.dumps(body, separators=(",", ":"))
    headers = create_level_2_headers(client.signer, client.creds,
                                     RequestArgs("POST", "/v1/heartbeats", body, serialized))
    resp = httpx.post(sim.clob_host + "/v1/heartbeats", headers=headers,
                      content=b'{"heartbeat_id": "x"}', timeout=5)
    assert resp.status_code == 401


def _signed_body(client: ClobClient, token_id: str, owner: str | None = None, **opts) -> dict:
    order = client.create_order(OrderArgs(token_id=token_id, price=0.4, size=10, side="BUY"),
                                PartialCreateOrderOptions(**opts) if opts else None)
    return order_to_json_v2(order, owner or client.creds.api_key, OrderType.GTC)


def test_order_owner_must_be_the_api_key(sim, client, market):
    body = _signed_body(client, market["yes_token_id"], owner="00000000-0000-4000-8000-000000000000")
    resp = _raw(sim, client, "POST", "/order", body)
    assert resp.status_code == 400
    assert resp.json() == {"error": "the order owner has to be the owner of the API KEY"}


def test_order_signer_must_own_the_api_key(sim, client, market):
    other = new_client(sim)
    body = _signed_body(other, market["yes_token_id"], owner=client.creds.api_key)
    resp = _raw(sim, client, "POST", "/order", body)
    assert resp.status_code == 400
    assert resp.json() == {"error": "the order signer address has to be the address of the API KEY"}


@pytest.mark.parametrize("field", ["signature", "makerAmount"])
def test_tampered_order_is_an_invalid_signature(sim, client, market, field):
    body = _signed_body(client, market["yes_token_id"])
    if field == "signature":
        sig = body["order"]["signature"]
        body["order"]["signature"] = sig[:10] + ("0" if sig[10] != "0" else "1") + sig[11:]
    else:
        body["order"]["makerAmount"] = "3000000"  # price 0.3 instead of the signed 0.4
    resp = _raw(sim, client, "POST", "/order", body)
    assert resp.status_code == 400
    assert resp.json() == {"error": "invalid signature"}
    assert sim.open_order_count(client.get_address()) == 0


def test_order_signed_for_the_wrong_exchange_is_rejected(sim, client, nr_market):
    # A neg-risk market's order must be signed against the neg-risk exchange.
    order = client.create_order(OrderArgs(token_id=nr_market["yes_token_id"], price=0.2, size=20, side="BUY"),
                                PartialCreateOrderOptions(neg_risk=False))
    with pytest.raises(PolyApiException) as exc:
        client.post_order(order)
    assert exc.value.status_code == 400
    assert exc.value.error_msg == {"error": "invalid signature"}
    good = client.create_order(OrderArgs(token_id=nr_market["yes_token_id"], price=0.2, size=20, side="BUY"))
    assert client.post_order(good)["status"] == "live"
