"""Offline signing: exact amounts, the orderID digest, the posted body, and refusals of
illegal requests. No network: a client built for an unreachable host never calls it."""

from __future__ import annotations

import json
from typing import Any

import pytest
from eth_account import Account
from py_clob_client_v2 import ClobClient
from py_clob_client_v2.config import get_contract_config
from py_clob_client_v2.order_utils import ExchangeOrderBuilderV2, SignatureTypeV2
from py_clob_client_v2.order_utils import Side as WireSide
from py_clob_client_v2.order_utils.model.order_data_v2 import SignedOrderV2

from contracts.domain import Side, Tif
from engine.venues.base import OrderRejected, OrderRequest
from engine.venues.polymarket.orders import OrderSigner, check_request, order_amounts, order_digest

HARDHAT_KEY = "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80"
SAFE = "0x1111111111111111111111111111111111111111"
UNREACHABLE = "http://127.0.0.1:9"


def signer(signature_type: int = 0, funder: str | None = None) -> OrderSigner:
    client = ClobClient(UNREACHABLE, 137, key=HARDHAT_KEY, signature_type=signature_type, funder=funder)
    return OrderSigner(client.builder, 137)


def request(side: Side = Side.BUY, price: int = 520_000, size: int = 10_000_000, tif: Tif = Tif.GTC,
            **kw: object) -> OrderRequest:
    return OrderRequest(client_id="c", condition_id="0xc", token_id="1234", side=side, price=price, size=size,
                        tif=tif, **kw)  # type: ignore[arg-type]  # the fields each test changes


@pytest.mark.parametrize(("side", "price", "size", "tif", "amounts"), [
    (Side.BUY, 520_000, 10_000_000, Tif.GTC, (5_200_000, 10_000_000)),
    (Side.SELL, 523_000, 7_120_000, Tif.GTC, (7_120_000, 3_723_760)),
    (Side.BUY, 10_000, 4_350_000, Tif.GTC, (43_500, 4_350_000)),
    (Side.BUY, 330_000, 1_150_000, Tif.GTD, (379_500, 1_150_000)),
    (Side.BUY, 290_000, 290_000, Tif.GTC, (84_100, 290_000)),  # the client's floats make this 0.28 shares
    # Marketable orders: cash to the cent, shares to 4 decimals.
    (Side.BUY, 550_000, 45_450_000, Tif.FOK, (24_990_000, 45_436_300)),
    (Side.BUY, 523_000, 10_500_000, Tif.FAK, (5_490_000, 10_497_100)),
    (Side.SELL, 523_000, 10_550_000, Tif.FOK, (10_550_000, 5_517_600)),
])
def test_exact_amounts(side: Side, price: int, size: int, tif: Tif, amounts: tuple[int, int]) -> None:
    assert order_amounts(side, price, size, tif) == amounts


def test_amounts_agree_with_the_client_builder_where_its_floats_are_exact() -> None:
    client = ClobClient(UNREACHABLE, 137, key=HARDHAT_KEY)
    from py_clob_client_v2.clob_types import CreateOrderOptions, OrderArgsV2

    for side, price, size, tick in ((Side.BUY, 0.52, 10, "0.01"), (Side.SELL, 0.523, 7.12, "0.001"),
                                    (Side.BUY, 0.05, 100, "0.01"), (Side.SELL, 0.9999, 5, "0.0001")):
        theirs = client.builder.build_order(OrderArgsV2(token_id="1234", price=price, size=size, side=side.value),
                                            CreateOrderOptions(tick, False), version=2)
        ours = order_amounts(side, round(price * 1e6), round(size * 1e6), Tif.GTC)
        assert ours == (int(theirs.makerAmount), int(theirs.takerAmount))


def test_digest_matches_the_published_vector() -> None:
    order = SignedOrderV2(salt="479249096354", maker=Account.from_key(HARDHAT_KEY).address,
                          signer=Account.from_key(HARDHAT_KEY).address, tokenId="1234", makerAmount="100000000",
                          takerAmount="50000000", side=WireSide.BUY, signatureType=SignatureTypeV2.EOA,
                          timestamp="1700000000000", metadata="0x" + "00" * 32, builder="0x" + "00" * 32)
    exchange = ExchangeOrderBuilderV2(get_contract_config(137).exchange_v2, 137, None, domain_version="2")
    assert order_digest(exchange, order) == "0x2c4f653403e777a5c37576868ba70200858e75bbc7f0d187a2ff11e5d5380e91"


@pytest.mark.parametrize(("signature_type", "funder", "neg_risk"), [
    (0, None, False), (0, None, True), (2, SAFE, False), (1, SAFE, True), (3, SAFE, False)])
def test_digest_equals_the_clients_hash_and_the_signature_recovers(signature_type: int, funder: str | None,
                                                                   neg_risk: bool) -> None:
    s = signer(signature_type, funder)
    prepared = s.prepare(request(neg_risk=neg_risk), owner="key")
    body = json.loads(prepared.payload)["order"]
    exchange = s._exchanges[neg_risk]
    signed = SignedOrderV2(**{k: body[k] for k in ("maker", "signer", "tokenId", "makerAmount", "takerAmount",
                                                   "timestamp", "metadata", "builder", "signature")},
                           salt=str(body["salt"]), side=WireSide.BUY, signatureType=SignatureTypeV2(signature_type))
    assert prepared.venue_order_id == exchange.build_order_hash(exchange.build_order_typed_data(signed))
    assert body["maker"] == (funder or Account.from_key(HARDHAT_KEY).address)
    if signature_type != 3:
        recovered = Account._recover_hash(bytes.fromhex(prepared.venue_order_id[2:]), signature=body["signature"])
        assert recovered == Account.from_key(HARDHAT_KEY).address


def test_neg_risk_changes_the_domain_and_so_the_id() -> None:
    s = signer()
    standard = json.loads(s.prepare(request(), "k").payload)["order"]
    exchange_std, exchange_nr = s._exchanges[False], s._exchanges[True]
    assert exchange_std.contract_address != exchange_nr.contract_address
    assert exchange_std.app_domain_separator != exchange_nr.app_domain_separator
    assert standard["signatureType"] == 0


def test_body_is_the_exact_bytes_the_client_would_post() -> None:
    prepared = signer().prepare(request(tif=Tif.GTD, expires_at_s=1_900_000_000, post_only=True), owner="api-key")
    assert prepared.payload == json.dumps(json.loads(prepared.payload), separators=(",", ":"))
    body = json.loads(prepared.payload)
    assert list(body) == ["order", "owner", "orderType", "deferExec", "postOnly"]
    assert list(body["order"]) == ["salt", "maker", "signer", "tokenId", "makerAmount", "takerAmount", "side",
                                   "expiration", "signatureType", "timestamp", "metadata", "builder", "signature"]
    assert isinstance(body["order"]["salt"], int) and isinstance(body["order"]["signatureType"], int)
    assert (body["owner"], body["orderType"], body["postOnly"], body["deferExec"]) == ("api-key", "GTD", True, False)
    assert body["order"]["expiration"] == "1900000000"
    two = signer().prepare(request(), owner="api-key")
    assert two.venue_order_id != prepared.venue_order_id  # salt and timestamp make every order unique


@pytest.mark.parametrize(("changes", "message"), [
    ({"tick": 3_000}, "unsupported tick"),
    ({"price": 525_000}, "tick grid"),
    ({"price": 0}, "tick grid"),
    ({"price": 1_000_000}, "tick grid"),
    ({"size": 1_005_000}, "multiple of 0.01"),
    ({"size": 0}, "multiple of 0.01"),
    ({"tif": Tif.GTD}, "GTD"),
    ({"tif": Tif.FOK, "post_only": True}, "post-only"),
])
def test_illegal_requests_are_refused_before_signing(changes: dict[str, Any], message: str) -> None:
    with pytest.raises(OrderRejected, match=message):
        check_request(request(**changes))


def test_a_marketable_order_too_small_to_express_is_refused() -> None:
    with pytest.raises(OrderRejected, match="too small"):
        signer().prepare(request(price=10_000, size=10_000, tif=Tif.FOK), owner="k")
