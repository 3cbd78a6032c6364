"""Live settlement against the strict simulator: redeem, merge and the auto-redeem approval
through the path each wallet type takes (the relayer for proxy, Safe and deposit wallets,
a plain transaction for an EOA), a CTF market's and a Protocol V2 market's (its Router), and
what the venue paid read back as credits."""

from __future__ import annotations

import asyncio
import secrets
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from eth_account import Account

from contracts.settings import load_settings
from engine.venues.base import VenueError
from engine.venues.polymarket import onchain
from engine.venues.polymarket.settlement import PolymarketSettlement
from engine.venues.settlement import NothingHeld, SettlementTx, VenueCredit
from simulator.testing import SimHandle, approved_simulator

PUSD = 1_000_000


@pytest.fixture(scope="module")
def sim() -> Iterator[SimHandle]:
    with approved_simulator(seed=31, agents=False, prefill_books=False, resolution_delay_s=0, relayer_delay_s=0.1,
                           block_time_s=0.1) as handle:
        yield handle


def _wallet(tmp: Path, sim: SimHandle, signature_type: int, *, relayer_key: bool = True) -> PolymarketSettlement:
    key = "0x" + secrets.token_hex(32)
    signer = Account.from_key(key).address
    env = {"TRADER_ENV_FILE": str(tmp / "none"), "SIMULATOR_PORT": str(sim.port), "POLY_PRIVATE_KEY": key,
           "POLY_SIGNATURE_TYPE": str(signature_type)}
    if signature_type:
        funder = Account.create().address
        sim.link_funder(signer, funder, signature_type)
        env["POLY_FUNDER"] = funder
    if relayer_key:
        env["RELAYER_API_KEY"] = "sim-relayer-key"
    return PolymarketSettlement(load_settings(env))


async def _until_done(venue: PolymarketSettlement, sent: SettlementTx) -> SettlementTx:
    deadline = time.monotonic() + 10
    state = sent
    while state.state == "pending":
        assert time.monotonic() < deadline, f"transaction {sent.ref} still pending"
        await asyncio.sleep(0.05)
        state = await venue.transaction(sent.ref)
    return state


@pytest.mark.parametrize("signature_type", [1, 2, 3, 0], ids=["proxy", "safe", "deposit-wallet", "eoa"])
def test_each_wallet_type_merges_approves_and_redeems(tmp_path: Path, sim: SimHandle, signature_type: int) -> None:
    venue = _wallet(tmp_path, sim, signature_type)
    market = [m for m in sim.markets() if m["neg_risk"] == (signature_type % 2 == 0) and not m["protocol_v2"]][
        signature_type]  # a CTF market (a Protocol V2 market's go through its Router: below)
    cid, yes, no = market["condition_id"], market["yes_token_id"], market["no_token_id"]
    sim.fund(venue.wallet, token_id=yes, tokens="12")
    sim.fund(venue.wallet, token_id=no, tokens="5")
    if signature_type == 0:
        sim.fund(venue.wallet, pol="1")  # a plain wallet pays its own gas

    async def scenario() -> None:
        started = int(time.time() * 1000) - 1000
        try:
            merged = await _until_done(venue, await venue.merge(cid, market["neg_risk"], 5 * PUSD))
            assert merged.state == "confirmed", merged
            assert not await venue.auto_redeem_approved()
            approved = await _until_done(venue, await venue.approve_auto_redeem())
            assert approved.state == "confirmed" and await venue.auto_redeem_approved()
            too_early = await _until_done(venue, await venue.redeem(cid, market["neg_risk"]))
            sim.resolve(cid, "YES")
            redeemed = await _until_done(venue, await venue.redeem(cid, market["neg_risk"]))
            credits = await venue.credits(started)
        finally:
            await venue.close()
        # Before the result was in, the redemption reverted with the contract's reason.
        assert too_early.state == "failed" and "result for condition not received yet" in (too_early.error or "")
        assert redeemed.state == "confirmed"
        assert [(c.kind, c.amount, c.condition_id) for c in credits] == [("merge", 5 * PUSD, cid),
                                                                        ("redeem", 7 * PUSD, cid)]
        assert credits[1].tx_hash == redeemed.tx_hash  # the payment names the transaction that asked for it

    asyncio.run(scenario())
    assert sim.balances(venue.wallet)["pusd"] == "10012" and sim.balances(venue.wallet)["tokens"] == {}


def test_a_relayer_without_a_key_and_a_wallet_without_gas_are_refused_with_the_fix(tmp_path: Path,
                                                                                   sim: SimHandle) -> None:
    keyless, broke = _wallet(tmp_path, sim, 3, relayer_key=False), _wallet(tmp_path, sim, 0)
    market = sim.market(neg_risk=False, index=5)

    async def scenario() -> tuple[str, str]:
        try:
            with pytest.raises(VenueError) as no_key:
                await keyless.merge(market["condition_id"], False, PUSD)
            with pytest.raises(VenueError) as no_gas:
                await broke.approve_auto_redeem()
            return str(no_key.value), str(no_gas.value)
        finally:
            await keyless.close()
            await broke.close()

    no_key, no_gas = asyncio.run(scenario())
    assert "RELAYER_API_KEY" in no_key
    assert "insufficient funds for gas" in no_gas


def test_the_relayer_checks_signer_ownership_nonce_and_signature(tmp_path: Path, sim: SimHandle) -> None:
    import httpx

    key = "0x" + secrets.token_hex(32)
    signer, wallet, stranger = Account.from_key(key).address, Account.create().address, Account.create().address
    sim.link_funder(signer, wallet, 3)
    headers = {"RELAYER_API_KEY": "k", "RELAYER_API_KEY_ADDRESS": signer}
    call = onchain.approval_call()
    deadline = int(time.time()) + 600
    with httpx.Client(base_url=sim.relayer_host, headers=headers) as relayer:
        assert relayer.post("/submit", json={}, headers={"RELAYER_API_KEY": ""}).status_code == 401
        not_owner = onchain.deposit_wallet_envelope(key, stranger, call, 0, deadline, 137)
        refused = relayer.post("/submit", json=not_owner)
        assert refused.status_code == 400 and "is not the owner" in refused.json()["error"]
        forged = onchain.deposit_wallet_envelope("0x" + secrets.token_hex(32), wallet, call, 0, deadline, 137)
        forged["from"] = signer
        assert "invalid signature" in relayer.post("/submit", json=forged).json()["error"]
        good = onchain.deposit_wallet_envelope(key, wallet, call, 0, deadline, 137)
        assert relayer.post("/submit", json=good).status_code == 200
        replay = relayer.post("/submit", json=good)
        assert replay.json()["error"] == "batch nonce 0 does not match on-chain nonce 1"
        stale = onchain.deposit_wallet_envelope(key, wallet, call, 1, int(time.time()) - 1, 137)
        assert relayer.post("/submit", json=stale).json()["error"] == "deadline expired"


def test_a_plain_wallets_transaction_whose_answer_is_lost_is_still_followed(tmp_path: Path,
                                                                             sim: SimHandle) -> None:
    """The RPC node takes a merge and mines it but its answer is lost (a 502): the transaction's
    own hash, known before sending, is followed to its receipt, and the venue's payment names it,
    so the desk books it once instead of calling it failed (issue 34 item 4, RPC faults)."""
    venue = _wallet(tmp_path, sim, 0)
    market = sim.market(neg_risk=False, index=4)
    cid, yes, no = market["condition_id"], market["yes_token_id"], market["no_token_id"]
    sim.fund(venue.wallet, token_id=yes, tokens="3")
    sim.fund(venue.wallet, token_id=no, tokens="3")
    sim.fund(venue.wallet, pol="1")
    sim.set_faults(rpc_answer_lost=1)

    async def scenario() -> tuple[SettlementTx, SettlementTx, list]:
        started = int(time.time() * 1000) - 1000
        try:
            sent = await venue.merge(cid, False, 3 * PUSD)
            return sent, await _until_done(venue, sent), await venue.credits(started)
        finally:
            await venue.close()

    try:
        sent, done, credits = asyncio.run(scenario())
    finally:
        lost = sim.set_faults(rpc_answer_lost=0)
    assert lost["stats"]["rpc_answers_lost"] == 1  # the answer really was lost
    assert sent.state == "pending" and sent.ref and sent.ref.startswith("0x") and len(sent.ref) == 66
    assert done.state == "confirmed"
    paid = [(c.kind, c.amount, c.tx_hash) for c in credits if c.condition_id == cid]
    assert paid == [("merge", 3 * PUSD, sent.ref)]


def test_each_wallet_type_merges_and_redeems_a_v2_market_through_its_router(tmp_path: Path, sim: SimHandle) -> None:
    """A Protocol V2 market's sets merge through the Router and its winning position redeems through
    it, all the wallet holds of it, whichever way the wallet sends (relayer or its own transaction);
    the payment names the position it redeemed; nothing held, nothing is sent."""
    market = next(m for m in sim.markets() if m["protocol_v2"])
    cid, yes, no = market["condition_id"], market["yes_token_id"], market["no_token_id"]
    venues = [_wallet(tmp_path, sim, kind) for kind in (1, 2, 3, 0)]
    for venue in venues:
        sim.fund(venue.wallet, token_id=yes, tokens="12")
        sim.fund(venue.wallet, token_id=no, tokens="5")
    sim.fund(venues[-1].wallet, pol="1")  # the plain wallet pays its own gas

    async def scenario() -> list[tuple[SettlementTx, list[VenueCredit], str]]:
        started = int(time.time() * 1000) - 1000
        out = []
        try:
            merged = [await _until_done(v, await v.merge(cid, False, 5 * PUSD, protocol_v2=True)) for v in venues]
            assert [m.state for m in merged] == ["confirmed"] * 4, merged
            assert not await venues[0].auto_redeem_approved(protocol_v2=True)
            approved = await _until_done(venues[0], await venues[0].approve_auto_redeem(protocol_v2=True))
            assert approved.state == "confirmed" and await venues[0].auto_redeem_approved(protocol_v2=True)
            assert not await venues[0].auto_redeem_approved()  # the conditional tokens' stays as it was
            sim.resolve(cid, "YES")
            for venue in venues:
                redeemed = await _until_done(venue, await venue.redeem_position(cid, yes))
                with pytest.raises(NothingHeld) as nothing:
                    await venue.redeem_position(cid, no)  # all merged away: nothing to send
                out.append((redeemed, await venue.credits(started), str(nothing.value)))
        finally:
            for venue in venues:
                await venue.close()
        return out

    for redeemed, credits, nothing in asyncio.run(scenario()):
        assert redeemed.state == "confirmed" and "redeemed already" in nothing
        assert [(c.kind, c.amount, c.token_id) for c in credits] == [("merge", 5 * PUSD, None),
                                                                    ("redeem", 7 * PUSD, yes)]
        assert credits[1].tx_hash == redeemed.tx_hash
    for venue in venues:
        assert sim.balances(venue.wallet)["tokens"] == {} and sim.balances(venue.wallet)["pusd"] == "10012"
