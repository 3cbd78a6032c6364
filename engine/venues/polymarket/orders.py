"""Offline order signing for CLOB V2: exact amounts, the client's EIP-712 signer, the
orderID digest, and the exact JSON body that `submit` will post.

Amounts are computed here in integers. The client's `OrderBuilder.get_order_amounts`
rounds in binary floats and loses a cent of shares on ordinary sizes (0.29 shares ->
0.28, 1.15 -> 1.14, measured), so this module hands exact amounts to the client's
`ExchangeOrderBuilderV2`, the same builder `OrderBuilder.build_order` delegates to.

Limit orders (GTC/GTD): shares carry 2 decimals, cash is shares x price (exact).
Marketable FOK/FAK orders follow the venue's rule for market orders (maker amount at most
2 decimals, taker at most 4): a BUY spends cash = shares x price rounded down to the cent
for as many shares as that buys at the limit price; a SELL sells the shares for cash
rounded down to 4 decimals.
"""

from __future__ import annotations

import json
import time
from typing import Any

from eth_abi import encode as abi_encode
from eth_utils import keccak
from py_clob_client_v2.config import get_contract_config
from py_clob_client_v2.constants import BYTES32_ZERO
from py_clob_client_v2.order_builder.builder import OrderBuilder
from py_clob_client_v2.order_utils import ExchangeOrderBuilderV2, OrderDataV2, SignatureTypeV2
from py_clob_client_v2.order_utils import Side as WireSide
from py_clob_client_v2.order_utils.exchange_order_builder_v2 import ORDER_TYPE_HASH
from py_clob_client_v2.order_utils.model.order_data_v2 import SignedOrderV2, order_to_json_v2

from contracts.domain import MICRO, ONE, Side, Tif, fmt
from contracts.venue_rules import TICKS
from engine.venues.base import OrderRejected, OrderRequest, PreparedOrder

SHARE_STEP = 10_000  # shares carry 2 decimals
CENT = 10_000  # market-order cash: 2 decimals
MARKET_TAKER_STEP = 100  # market-order taker amount: 4 decimals
_STRUCT_TYPES = ["bytes32", "uint256", "address", "address", "uint256", "uint256", "uint256", "uint8",
                 "uint8", "uint256", "bytes32", "bytes32"]


def check_request(req: OrderRequest) -> None:
    """The planner promises legal orders; refuse anything else before it is signed."""
    if req.tick not in TICKS:
        raise OrderRejected(f"unsupported tick size {fmt(req.tick)}")
    if req.price % req.tick or not req.tick <= req.price <= ONE - req.tick:
        raise OrderRejected(f"price {fmt(req.price)} is not on the {fmt(req.tick)} tick grid inside (0, 1)")
    if req.size <= 0 or req.size % SHARE_STEP:
        raise OrderRejected(f"size {fmt(req.size)} must be a positive multiple of 0.01 shares")
    if req.tif is Tif.GTD and req.expires_at_s <= 0:
        raise OrderRejected("a GTD order needs expires_at_s")
    if req.post_only and req.tif in (Tif.FOK, Tif.FAK):
        raise OrderRejected("post-only is only allowed for GTC and GTD orders")


def order_amounts(side: Side, price: int, size: int, tif: Tif) -> tuple[int, int]:
    """(makerAmount, takerAmount) in base units (1e-6)."""
    cash = size * price // MICRO
    if tif in (Tif.FOK, Tif.FAK):
        if side is Side.BUY:
            budget = cash // CENT * CENT
            shares = budget * MICRO // price // MARKET_TAKER_STEP * MARKET_TAKER_STEP
            return budget, shares
        return size, cash // MARKET_TAKER_STEP * MARKET_TAKER_STEP
    return (cash, size) if side is Side.BUY else (size, cash)


def order_digest(builder: ExchangeOrderBuilderV2, order: SignedOrderV2) -> str:
    """The EIP-712 digest of a V2 order: the venue uses it as the orderID."""
    struct_hash = keccak(abi_encode(_STRUCT_TYPES, [
        ORDER_TYPE_HASH, int(order.salt), order.maker, order.signer, int(order.tokenId),
        int(order.makerAmount), int(order.takerAmount), int(order.side), int(order.signatureType),
        int(order.timestamp),
        bytes.fromhex(order.metadata.removeprefix("0x").zfill(64)),
        bytes.fromhex(order.builder.removeprefix("0x").zfill(64)),
    ]))
    return "0x" + keccak(b"\x19\x01" + builder.app_domain_separator + struct_hash).hex()


class OrderSigner:
    """Signs with the wallet and routing of the client's `OrderBuilder` (signer, funder,
    signature type), against the standard or neg-risk V2 exchange, or, for a Protocol V2 market,
    ExchangeV3 with EIP-712 domain version "3": what the client's own `build_order` does for an
    order given a `position_id` (py_clob_client_v2 1.2.1, order_builder/builder.py)."""

    def __init__(self, order_builder: OrderBuilder, chain_id: int):
        if order_builder.signer is None:
            raise ValueError("signing needs a private key")
        contracts = get_contract_config(chain_id)
        signer = order_builder.signer
        self.signature_type = SignatureTypeV2(int(order_builder.signature_type))
        self.funder: str = order_builder.funder
        # A deposit wallet (POLY_1271) is both maker and signer; otherwise the EOA signs.
        deposit_wallet = self.signature_type == SignatureTypeV2.POLY_1271
        self.signer_address: str = self.funder if deposit_wallet else signer.address()
        self._exchanges = {
            neg_risk: ExchangeOrderBuilderV2(address, chain_id, signer, domain_version="2")
            for neg_risk, address in ((False, contracts.exchange_v2), (True, contracts.neg_risk_exchange_v2))
        }
        self._exchange_v3 = ExchangeOrderBuilderV2(contracts.exchange_v3, chain_id, signer,
                                                   domain_version="3")

    def exchange_for(self, req: OrderRequest) -> ExchangeOrderBuilderV2:
        if req.protocol_v2:
            if req.neg_risk:  # the discovery refuses these; a request for one is a bug, not an order
                raise OrderRejected("a neg-risk Protocol V2 market is not supported yet")
            return self._exchange_v3
        return self._exchanges[req.neg_risk]

    def prepare(self, req: OrderRequest, owner: str) -> PreparedOrder:
        check_request(req)
        maker_amount, taker_amount = order_amounts(req.side, req.price, req.size, req.tif)
        if maker_amount <= 0 or taker_amount <= 0:
            raise OrderRejected(f"order too small to express: {fmt(req.size)} @ {fmt(req.price)}")
        exchange = self.exchange_for(req)
        signed = exchange.build_signed_order(OrderDataV2(
            maker=self.funder, tokenId=req.token_id, makerAmount=str(maker_amount),
            takerAmount=str(taker_amount), side=WireSide.BUY if req.side is Side.BUY else WireSide.SELL,
            signer=self.signer_address, signatureType=self.signature_type,
            timestamp=str(time.time_ns() // 1_000_000), metadata=BYTES32_ZERO, builder=BYTES32_ZERO,
            expiration=str(req.expires_at_s if req.tif is Tif.GTD else 0),
        ))
        body = order_to_json_v2(signed, owner, req.tif.value, req.post_only, False)
        payload = json.dumps(body, separators=(",", ":"), ensure_ascii=False)
        record = json.dumps({k: v for k, v in body.items() if k != "owner"}, separators=(",", ":"), ensure_ascii=False)
        return PreparedOrder(request=req, venue_order_id=order_digest(exchange, signed), payload=payload, record=record)


def payload_timestamp_ms(payload: str) -> int | None:
    """When a prepared order was signed (its `timestamp`), for lookups after a timeout."""
    try:
        order: dict[str, Any] = json.loads(payload)["order"]
        return int(order["timestamp"])
    except (ValueError, KeyError, TypeError):
        return None
