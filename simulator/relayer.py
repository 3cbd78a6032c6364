"""The relayer stand-in (``/relayer``): gasless transactions for proxy, Safe and deposit wallets.

As Polymarket's relayer (``relayer-v2.polymarket.com``) is called by its SDK:

- ``GET /v1/account/transactions/params?address=<signer>&type=WALLET|SAFE`` → ``{address, nonce}``;
  ``GET /relay-payload?address=<signer>&type=PROXY`` → ``{address: <relay>, nonce}``;
- ``POST /submit`` with the signed envelope → ``{transactionID, transactionHash, state}``;
- ``GET /v1/account/transactions/{id}`` → ``{transaction_id, transaction_hash, state, error_msg}``,
  ``STATE_NEW`` → ``STATE_EXECUTED`` → ``STATE_MINED`` → ``STATE_CONFIRMED``, or ``STATE_FAILED``
  when the call reverts, or ``STATE_INVALID``;
- ``GET /deployed?address=&type=`` → ``{deployed}``;
- ``POST /submit`` with ``{"type": "WALLET-CREATE", "from": <owner>, "to": <deposit wallet factory>}``
  deploys the owner's deposit wallet (deposit_wallets.py): no signature and no nonce, as the venue's
  deposit-wallet guide describes it; the record's ``proxyAddress`` names the wallet. A second one for
  the same owner fails (``STATE_FAILED``, the wallet named): one owner has one deposit wallet.

Every request carries ``RELAYER_API_KEY`` and ``RELAYER_API_KEY_ADDRESS`` (the signer); each
envelope's signature is checked for its wallet type (deposit wallet: EIP-712 ``Batch``; Safe:
``SafeTx`` with the packed v; proxy: the ``rlx:`` hash), the signer must own the wallet
(learned from its orders or ``/_sim/link-funder``) and the nonce must be the current one.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from aiohttp import web
from eth_abi import decode as abi_decode
from eth_abi import encode as abi_encode
from eth_account import Account
from eth_account.messages import SignableMessage, encode_defunct
from eth_utils import keccak

from .chain import CHAIN_ID
from .deposit_wallets import already_deployed, deploy, deposit_wallet_address
from .httputil import SIM_KEY, HttpError, ok, parse_json
from .settlement import Revert

if TYPE_CHECKING:
    from .server import Simulator

DEPOSIT_WALLET_FACTORY = "0x00000000000Fb5C9ADea0298D729A0CB3823Cc07"
PROXY_FACTORY = "0xaB45c5A4B0c941a2F231C04C3f49182e1A254052"
RELAY_HUB = "0xD216153c06E857cD7f72665E0aF1d7D82172F494"
RELAY_ADDRESS = "0x" + keccak(text="simulator-relay").hex()[-40:]
ZERO_ADDRESS = "0x" + "00" * 20
# The Safe contract's own type hashes (GnosisSafe.sol, v1.3): its getTransactionHash, rebuilt here
# from the contract rather than from a typed-data library, so a misreading is not shared with the
# desk's signer (which builds EIP-712 typed data).
SAFE_DOMAIN_TYPEHASH = keccak(text="EIP712Domain(uint256 chainId,address verifyingContract)")
SAFE_TX_TYPEHASH = keccak(text="SafeTx(address to,uint256 value,bytes data,uint8 operation,uint256 safeTxGas,"
                               "uint256 baseGas,uint256 gasPrice,address gasToken,address refundReceiver,"
                               "uint256 nonce)")


# The deposit wallet's batch, hashed by EIP-712's rules written out (domain "DepositWallet" v1).
WALLET_DOMAIN_TYPEHASH = keccak(text="EIP712Domain(string name,string version,uint256 chainId,"
                                     "address verifyingContract)")
CALL_TYPEHASH = keccak(text="Call(address target,uint256 value,bytes data)")
BATCH_TYPEHASH = keccak(text="Batch(address wallet,uint256 nonce,uint256 deadline,Call[] calls)"
                             "Call(address target,uint256 value,bytes data)")


def deposit_batch_message(wallet: str, nonce: int, deadline: int, calls: list[tuple[str, bytes]]) -> SignableMessage:
    """What a deposit wallet's owner signs for a batch of plain calls."""
    domain = keccak(abi_encode(["bytes32", "bytes32", "bytes32", "uint256", "address"],
                               [WALLET_DOMAIN_TYPEHASH, keccak(text="DepositWallet"), keccak(text="1"), CHAIN_ID,
                                wallet]))
    call_hashes = b"".join(keccak(abi_encode(["bytes32", "address", "uint256", "bytes32"],
                                             [CALL_TYPEHASH, target, 0, keccak(data)])) for target, data in calls)
    batch = keccak(abi_encode(["bytes32", "address", "uint256", "uint256", "bytes32"],
                              [BATCH_TYPEHASH, wallet, nonce, deadline, keccak(call_hashes)]))
    return SignableMessage(b"\x01", domain, batch)


def safe_tx_hash(safe: str, to: str, data: bytes, nonce: int) -> bytes:
    """What a Safe asks its owners to sign for a plain call (operation 0, no gas refund)."""
    domain = keccak(abi_encode(["bytes32", "uint256", "address"], [SAFE_DOMAIN_TYPEHASH, CHAIN_ID, safe]))
    fields = abi_encode(
        ["bytes32", "address", "uint256", "bytes32", "uint8", "uint256", "uint256", "uint256", "address", "address",
         "uint256"],
        [SAFE_TX_TYPEHASH, to, 0, keccak(data), 0, 0, 0, 0, ZERO_ADDRESS, ZERO_ADDRESS, nonce])
    return keccak(b"\x19\x01" + domain + keccak(fields))
PROXY_CALL = keccak(text="proxy((uint8,address,uint256,bytes)[])")[:4]
WALLET_TYPES = {"WALLET": 3, "SAFE": 2, "PROXY": 1}  # relayer type -> the CLOB signature type
WALLET_CREATE = "WALLET-CREATE"  # the relayer deploys a deposit wallet (deposit_wallets.py)
NEW, EXECUTED, MINED, CONFIRMED = "STATE_NEW", "STATE_EXECUTED", "STATE_MINED", "STATE_CONFIRMED"
FAILED, INVALID = "STATE_FAILED", "STATE_INVALID"
routes = web.RouteTableDef()


@dataclass
class RelayedTx:
    id: str
    tx_hash: str
    wallet: str
    calls: list[tuple[str, bytes]]
    state: str = NEW
    error: str | None = None
    creates_for: str | None = None  # a WALLET-CREATE: the owner whose deposit wallet (`wallet`) it deploys

    def as_json(self) -> dict[str, Any]:
        return {"transaction_id": self.id, "transaction_hash": self.tx_hash, "state": self.state,
                "error_msg": self.error, "proxyAddress": self.wallet}


class Relayer:
    def __init__(self, sim: Simulator, delay_s: float) -> None:
        self.sim = sim
        self.delay_s = delay_s
        self.nonces: dict[tuple[str, str], int] = {}  # (signer, type) -> next nonce
        self.txs: dict[str, RelayedTx] = {}

    def nonce(self, signer: str, kind: str) -> int:
        return self.nonces.get((signer.lower(), kind), 0)

    def submit(self, body: Any, key_address: str) -> RelayedTx:
        if not isinstance(body, dict):
            raise HttpError(400, "invalid transaction request")
        kind = str(body.get("type", ""))
        signer = str(body.get("from", "")).lower()
        if kind == WALLET_CREATE:
            return self._create(body, signer, key_address)
        if kind not in WALLET_TYPES:
            raise HttpError(400, f"unsupported transaction type {kind!r}")
        if signer != key_address:
            raise HttpError(401, "the relayer API key does not belong to the signer")
        nonce = _int(body.get("nonce"), "nonce")
        expected = self.nonce(signer, kind)
        if nonce != expected:
            raise HttpError(400, f"batch nonce {nonce} does not match on-chain nonce {expected}")
        wallet, calls = {"WALLET": self._wallet, "SAFE": self._safe, "PROXY": self._proxy}[kind](body, signer)
        if self.sim.funders.get((signer, WALLET_TYPES[kind])) != wallet:
            raise HttpError(400, f"{signer} is not the owner of {kind.lower()} wallet {wallet}")
        self.nonces[(signer, kind)] = expected + 1
        tx_id = f"relay-{len(self.txs) + 1}-{keccak(text=f'{signer}:{kind}:{nonce}').hex()[:12]}"
        tx = RelayedTx(tx_id, "0x" + keccak(text=f"relayed:{tx_id}").hex(), wallet, calls)
        if len(calls) != 1:  # stricter than the venue: a batch here is not atomic, so it is refused
            tx.state, tx.error = INVALID, "the simulator takes exactly one call per relayed transaction"
        self.txs[tx_id] = tx
        if tx.state == NEW:
            self._progress(tx)
        return tx

    def _create(self, body: dict[str, Any], owner: str, key_address: str) -> RelayedTx:
        """WALLET-CREATE: the relayer deploys `owner`'s deposit wallet (it signs nothing: the relayer pays)."""
        if owner != key_address:
            raise HttpError(401, "the relayer API key does not belong to the signer")
        if str(body.get("to", "")).lower() != DEPOSIT_WALLET_FACTORY.lower():
            raise HttpError(400, f"invalid WALLET-CREATE transaction: to must be the deposit wallet factory "
                                 f"{DEPOSIT_WALLET_FACTORY}")
        _addr(owner)  # a well-formed address, or 400
        existing = already_deployed(self.sim.funders, owner)
        wallet = existing or deposit_wallet_address(DEPOSIT_WALLET_FACTORY, owner)
        tx_id = f"relay-{len(self.txs) + 1}-{keccak(text=f'{owner}:{WALLET_CREATE}:{len(self.txs)}').hex()[:12]}"
        tx = RelayedTx(tx_id, "0x" + keccak(text=f"relayed:{tx_id}").hex(), wallet, [], creates_for=owner)
        self.txs[tx_id] = tx
        self._progress(tx)
        return tx

    # -- envelopes, by wallet type -----------------------------------------------------------

    def _wallet(self, body: dict[str, Any], signer: str) -> tuple[str, list[tuple[str, bytes]]]:
        params = body.get("depositWalletParams")
        if not isinstance(params, dict) or str(body.get("to", "")).lower() != DEPOSIT_WALLET_FACTORY.lower():
            raise HttpError(400, "invalid deposit wallet transaction")
        wallet = str(params.get("depositWallet", "")).lower()
        deadline = _int(params.get("deadline"), "deadline")
        if deadline <= time.time():
            raise HttpError(400, "deadline expired")
        raw_calls = params.get("calls")
        if not isinstance(raw_calls, list) or not raw_calls:
            raise HttpError(400, "invalid deposit wallet transaction: no calls")
        calls = []
        for call in raw_calls:
            if not isinstance(call, dict) or _int(call.get("value", "0"), "value") != 0:
                raise HttpError(400, "invalid call (native value is not supported)")
            calls.append((str(call.get("target", "")), _hex(call.get("data"))))
        batch = deposit_batch_message(wallet, _int(body.get("nonce"), "nonce"), deadline, calls)
        _check_signer(batch, body.get("signature"), signer)
        return wallet, calls

    def _safe(self, body: dict[str, Any], signer: str) -> tuple[str, list[tuple[str, bytes]]]:
        params = body.get("signatureParams")
        if not isinstance(params, dict) or str(params.get("operation", "")) != "0":
            raise HttpError(400, "invalid Safe transaction (only a plain call, operation 0, is supported)")
        wallet, to, data = str(body.get("proxyWallet", "")).lower(), str(body.get("to", "")), _hex(body.get("data"))
        digest = safe_tx_hash(wallet, to, data, _int(body.get("nonce"), "nonce"))
        signature = _hex(body.get("signature"))
        if len(signature) != 65 or signature[64] not in (31, 32):
            raise HttpError(400, "invalid Safe signature (expected the packed eth_sign form, v 31 or 32)")
        _check_signer(encode_defunct(primitive=digest), "0x" + (signature[:64] + bytes([signature[64] - 4])).hex(),
                      signer)
        return wallet, [(to, data)]

    def _proxy(self, body: dict[str, Any], signer: str) -> tuple[str, list[tuple[str, bytes]]]:
        params = body.get("signatureParams")
        if not isinstance(params, dict) or str(body.get("to", "")).lower() != PROXY_FACTORY.lower():
            raise HttpError(400, "invalid proxy transaction")
        relay, hub = str(params.get("relay", "")), str(params.get("relayHub", ""))
        if relay.lower() != RELAY_ADDRESS or hub.lower() != RELAY_HUB.lower():
            raise HttpError(400, "invalid proxy transaction: unknown relay or relay hub")
        data = _hex(body.get("data"))
        digest = keccak(b"rlx:" + _addr(signer) + _addr(PROXY_FACTORY) + data
                        + b"".join(_int(params.get(k), k).to_bytes(32, "big")
                                   for k in ("relayerFee", "gasPrice", "gasLimit"))
                        + _int(body.get("nonce"), "nonce").to_bytes(32, "big") + _addr(hub) + _addr(relay))
        _check_signer(encode_defunct(primitive=digest), body.get("signature"), signer)
        if data[:4] != PROXY_CALL:
            raise HttpError(400, "invalid proxy transaction data")
        try:
            (items,) = abi_decode(["(uint8,address,uint256,bytes)[]"], data[4:])
        except Exception:
            raise HttpError(400, "invalid proxy transaction data") from None
        if any(code != 1 or value != 0 for code, _, value, _ in items):
            raise HttpError(400, "invalid proxy call (only plain calls without value are supported)")
        return str(body.get("proxyWallet", "")).lower(), [(to, bytes(d)) for _, to, _, d in items]

    # -- execution ---------------------------------------------------------------------------

    def _progress(self, tx: RelayedTx) -> None:
        schedule = self.sim._schedule
        schedule(self.delay_s / 2, lambda: self._advance(tx, EXECUTED))
        schedule(self.delay_s, lambda: self._mine(tx))
        schedule(self.delay_s * 1.5, lambda: self._advance(tx, CONFIRMED))

    def _advance(self, tx: RelayedTx, state: str) -> None:
        if tx.state not in (FAILED, INVALID):
            tx.state = state

    def _mine(self, tx: RelayedTx) -> None:
        if tx.creates_for is not None:
            self._deploy(tx, tx.creates_for)
            return
        try:
            for to, data in tx.calls:
                self.sim.chain.execute(tx.wallet, to, data, tx.tx_hash)
        except Revert as exc:
            tx.state, tx.error = FAILED, f"execution reverted: {exc}"
            return
        tx.state = MINED


    def _deploy(self, tx: RelayedTx, owner: str) -> None:
        existing = already_deployed(self.sim.funders, owner)
        if existing is not None:
            tx.state, tx.error = FAILED, f"execution reverted: {owner} already has a deposit wallet, at {existing}"
            return
        deploy(self.sim.funders, owner, tx.wallet)
        tx.state = MINED


def _int(raw: Any, name: str) -> int:
    try:
        value = int(str(raw))
    except ValueError:
        raise HttpError(400, f"invalid {name}") from None
    if value < 0:
        raise HttpError(400, f"invalid {name}")
    return value


def _hex(raw: Any) -> bytes:
    text = str(raw or "")
    try:
        return bytes.fromhex(text[2:] if text.startswith("0x") else text)
    except ValueError:
        raise HttpError(400, "invalid hex data") from None


def _addr(address: str) -> bytes:
    raw = _hex(address)
    if len(raw) != 20:
        raise HttpError(400, f"invalid address {address!r}")
    return raw


def _check_signer(message: Any, signature: Any, signer: str) -> None:
    try:
        recovered = Account.recover_message(message, signature=_hex(signature))
    except HttpError:
        raise
    except Exception:
        raise HttpError(400, "invalid signature") from None
    if recovered.lower() != signer:
        raise HttpError(400, "invalid signature: it was not signed by the sender")


def _key_address(request: web.Request) -> str:
    key, owner = request.headers.get("RELAYER_API_KEY", ""), request.headers.get("RELAYER_API_KEY_ADDRESS", "")
    if not key or not owner:
        raise HttpError(401, "invalid authorization: RELAYER_API_KEY and RELAYER_API_KEY_ADDRESS are required")
    return owner.lower()


def _relayer(request: web.Request) -> Relayer:
    return request.app[SIM_KEY].relayer


@routes.get("/relayer/v1/account/transactions/params")
async def execute_params(request: web.Request) -> web.Response:
    _key_address(request)
    address, kind = request.query.get("address", ""), request.query.get("type", "")
    if kind not in ("WALLET", "SAFE"):
        raise HttpError(400, "type must be WALLET or SAFE")
    return ok({"address": address, "nonce": str(_relayer(request).nonce(address, kind))})


@routes.get("/relayer/relay-payload")
async def relay_payload(request: web.Request) -> web.Response:
    _key_address(request)
    address = request.query.get("address", "")
    return ok({"address": RELAY_ADDRESS, "nonce": str(_relayer(request).nonce(address, "PROXY"))})


@routes.get("/relayer/deployed")
async def deployed(request: web.Request) -> web.Response:
    address = request.query.get("address", "").lower()
    return ok({"deployed": address in request.app[SIM_KEY].funders.values()})


@routes.post("/relayer/submit")
async def submit(request: web.Request) -> web.Response:
    owner = _key_address(request)
    tx = _relayer(request).submit(parse_json(await request.read(), "invalid transaction request"), owner)
    return ok({"transactionID": tx.id, "transactionHash": tx.tx_hash, "state": tx.state})


@routes.get("/relayer/v1/account/transactions/{tx_id}")
async def transaction(request: web.Request) -> web.Response:
    _key_address(request)
    tx = _relayer(request).txs.get(request.match_info["tx_id"])
    if tx is None:
        raise HttpError(404, "transaction not found")
    return ok(tx.as_json())
