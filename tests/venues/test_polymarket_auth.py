"""Refusals the adapter must surface with the venue's own message: a tampered signature,
a wrong API key, a bad HMAC, and orders signed for a stale or the wrong exchange."""

from __future__ import annotations

import base64
import json
import secrets
import uuid

import pytest
from py_clob_client_v2.config import get_contract_config
from py_clob_client_v2.order_utils import ExchangeOrderBuilderV2

from contracts.domain import Side
from engine.venues.base import OrderRejected, PreparedOrder, VenueError, VenueUnavailable
from simulator.testing import SimHandle
from tests.venues.conftest import fresh_market, new_key, order, run, venue_for


def random_secret() -> str:
    return base64.urlsafe_b64encode(secrets.token_bytes(32)).decode()


def test_tampered_signature_is_rejected_with_the_venues_message(sim: SimHandle) -> None:
    market = fresh_market(sim)

    async def scenario() -> None:
        venue = venue_for(sim)
        try:
            prepared = await venue.prepare(order(market, Side.BUY, 200_000, 5_000_000))
            body = json.loads(prepared.payload)
            sig = body["order"]["signature"]
            body["order"]["signature"] = sig[:-6] + ("00" if sig[-6:-4] != "00" else "11") + sig[-4:]
            raw = json.dumps(body, separators=(",", ":"))
            tampered = PreparedOrder(prepared.request, prepared.venue_order_id, raw, raw)
            with pytest.raises(OrderRejected, match="invalid signature"):
                await venue.submit(tampered)
            assert sim.open_order_count(venue.signer.funder) == 0
        finally:
            await venue.close()

    run(scenario())


def test_wrong_api_key_is_an_authentication_error(sim: SimHandle) -> None:
    market = fresh_market(sim)

    async def scenario() -> None:
        venue = venue_for(sim, POLY_API_KEY=str(uuid.uuid4()), POLY_API_SECRET=random_secret(),
                          POLY_API_PASSPHRASE=secrets.token_hex(32))
        try:
            prepared = await venue.prepare(order(market, Side.BUY, 200_000, 5_000_000))  # offline: still fine
            with pytest.raises(VenueError, match="Unauthorized/Invalid api key") as caught:
                await venue.submit(prepared)
            assert not isinstance(caught.value, (OrderRejected, VenueUnavailable))
            with pytest.raises(VenueError, match="Unauthorized/Invalid api key"):
                await venue.open_orders()
        finally:
            await venue.close()

    run(scenario())


def test_bad_hmac_secret_is_an_authentication_error(sim: SimHandle) -> None:
    key = new_key()

    async def real_creds() -> dict[str, str]:
        venue = venue_for(sim, key=key)
        await venue.connect()
        await venue.close()
        return venue._auth

    creds = run(real_creds())
    market = fresh_market(sim)

    async def scenario() -> None:
        venue = venue_for(sim, key=key, POLY_API_KEY=creds["apiKey"], POLY_API_SECRET=random_secret(),
                          POLY_API_PASSPHRASE=creds["passphrase"])
        try:
            with pytest.raises(VenueError, match="authentication failed"):
                await venue.submit(await venue.prepare(order(market, Side.BUY, 200_000, 5_000_000)))
            with pytest.raises(VenueError, match="authentication failed"):
                await venue.cancel_all()
        finally:
            await venue.close()

    run(scenario())


def test_orders_signed_for_a_stale_or_the_wrong_exchange_are_rejected(sim: SimHandle) -> None:
    market = fresh_market(sim)

    async def scenario() -> None:
        venue = venue_for(sim)
        try:
            await venue.connect()
            # Wrong exchange: the neg-risk exchange for a standard market.
            wrong = order(market, Side.BUY, 200_000, 5_000_000, neg_risk=True)
            with pytest.raises(OrderRejected, match="invalid signature"):
                await venue.submit(await venue.prepare(wrong))
            # Stale exchange: the pre-V2 CTF exchange contract.
            stale = ExchangeOrderBuilderV2(get_contract_config(137).exchange, 137, venue.client.signer,
                                           domain_version="2")
            venue.signer._exchanges[False] = stale
            with pytest.raises(OrderRejected, match="invalid signature"):
                await venue.submit(await venue.prepare(order(market, Side.BUY, 200_000, 5_000_000)))
            assert sim.open_order_count(venue.signer.funder) == 0
        finally:
            await venue.close()

    run(scenario())


def test_a_wallet_without_a_private_key_cannot_go_live(sim: SimHandle) -> None:
    venue = venue_for(sim, POLY_PRIVATE_KEY="")
    with pytest.raises(VenueError, match="POLY_PRIVATE_KEY"):
        run(venue.connect())
    run(venue.close())
