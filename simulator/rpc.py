"""A Polygon JSON-RPC stand-in (``POST /rpc``): reads, and plain (EOA) transactions.

What a desk needs of the chain besides the CLOB: ``eth_getCode``, ``eth_call`` (the conditional tokens'
``isApprovedForAll``/``balanceOf``, pUSD's ``balanceOf``, the PositionManager's ``getPayout``; a revert is
error code 3, a custom error's selector in the error's ``data``), and, for a plain wallet (signature
type 0), sending its own ``redeemPositions``/``mergePositions``/``setApprovalForAll``
transaction: ``eth_chainId``, ``eth_getTransactionCount``, ``eth_gasPrice``,
``eth_estimateGas``, ``eth_sendRawTransaction`` (a signed legacy EIP-155 transaction) and
``eth_getTransactionReceipt`` (``null`` until mined, then ``status`` 0x1, or 0x0 when it
reverted). Gas is paid in POL: a sender without enough (``/_sim/fund`` ``pol``) is refused
``insufficient funds for gas * price + value``, as a node refuses it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import rlp
from aiohttp import web
from eth_account import Account
from eth_account._utils.legacy_transactions import Transaction
from eth_utils import keccak

from .chain import CHAIN_ID, GAS_PRICE_WEI
from .httputil import SIM_KEY
from .settlement import Revert

if TYPE_CHECKING:
    from .server import Simulator

GAS_ESTIMATE = 300_000
routes = web.RouteTableDef()


class RpcError(Exception):
    def __init__(self, code: int, message: str, data: bytes = b"") -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.data = data

    def as_json(self) -> dict[str, Any]:
        error: dict[str, Any] = {"code": self.code, "message": self.message}
        if self.data:
            error["data"] = "0x" + self.data.hex()
        return error


@dataclass
class Receipt:
    tx_hash: str
    sender: str
    to: str
    block: int
    status: int
    gas_used: int
    reason: str | None = None

    def as_json(self) -> dict[str, Any]:
        return {"transactionHash": self.tx_hash, "from": self.sender, "to": self.to,
                "blockNumber": hex(self.block), "status": hex(self.status), "gasUsed": hex(self.gas_used),
                "effectiveGasPrice": hex(GAS_PRICE_WEI), "logs": [], "revertReason": self.reason}


class Rpc:
    def __init__(self, sim: Simulator, block_time_s: float) -> None:
        self.sim = sim
        self.block_time_s = block_time_s
        self.receipts: dict[str, Receipt] = {}
        self.block = 1

    def handle(self, method: str, params: list[Any]) -> Any:
        chain = self.sim.chain
        if method == "eth_chainId":
            return hex(CHAIN_ID)
        if method == "eth_blockNumber":
            return hex(self.block)
        if method == "eth_gasPrice":
            return hex(GAS_PRICE_WEI)
        if method == "eth_estimateGas":
            return hex(GAS_ESTIMATE)
        if method == "eth_getTransactionCount":
            return hex(chain.nonces.get(_param(params, 0).lower(), 0))
        if method == "eth_getCode":
            return chain.code_at(_param(params, 0))
        if method == "eth_getBalance":
            return hex(chain.pol.get(_param(params, 0).lower(), 0))
        if method == "eth_call":
            call = params[0] if params and isinstance(params[0], dict) else {}
            try:
                return "0x" + chain.call(str(call.get("to", "")), _bytes(call.get("data") or call.get("input"))).hex()
            except Revert as exc:  # a custom error is data only, as a node answers it
                raise RpcError(3, "execution reverted" if exc.data else f"execution reverted: {exc}",
                               exc.data) from None
        if method == "eth_sendRawTransaction":
            return self.send(_bytes(_param(params, 0)))
        if method == "eth_getTransactionReceipt":
            found = self.receipts.get(_param(params, 0).lower())
            return None if found is None else found.as_json()
        raise RpcError(-32601, f"the method {method} does not exist/is not available")

    def send(self, raw: bytes) -> str:
        chain = self.sim.chain
        try:
            tx = rlp.decode(raw, Transaction)
            sender = Account.recover_transaction(raw).lower()
        except Exception:
            raise RpcError(-32000, "rlp: invalid transaction (only signed legacy transactions are accepted)") from None
        if tx.v not in (CHAIN_ID * 2 + 35, CHAIN_ID * 2 + 36):
            raise RpcError(-32000, "invalid chain id for signer")
        expected = chain.nonces.get(sender, 0)
        if tx.nonce != expected:
            raise RpcError(-32000, f"nonce too {'low' if tx.nonce < expected else 'high'}: "
                                   f"next nonce {expected}, tx nonce {tx.nonce}")
        cost = tx.gas * tx.gasPrice + tx.value
        if chain.pol.get(sender, 0) < cost:
            raise RpcError(-32000, f"insufficient funds for gas * price + value: balance "
                                   f"{chain.pol.get(sender, 0)}, tx cost {cost}")
        if tx.gasPrice < GAS_PRICE_WEI:
            raise RpcError(-32000, "transaction underpriced")
        chain.nonces[sender] = expected + 1
        chain.pol[sender] = chain.pol.get(sender, 0) - tx.gas * tx.gasPrice
        tx_hash = "0x" + keccak(raw).hex()
        to = "0x" + bytes(tx.to).hex()
        self.sim._schedule(self.block_time_s, lambda: self._mine(tx_hash, sender, to, bytes(tx.data), tx.gas))
        return tx_hash

    def _mine(self, tx_hash: str, sender: str, to: str, data: bytes, gas: int) -> None:
        self.block += 1
        try:
            self.sim.chain.execute(sender, to, data, tx_hash)
            status, reason = 1, None
        except Revert as exc:
            status, reason = 0, str(exc)
        self.receipts[tx_hash] = Receipt(tx_hash, sender, to, self.block, status, min(gas, GAS_ESTIMATE // 2), reason)


def _param(params: list[Any], index: int) -> str:
    if len(params) <= index or not isinstance(params[index], str):
        raise RpcError(-32602, "invalid argument")
    return params[index]


def _bytes(raw: Any) -> bytes:
    text = str(raw or "")
    try:
        return bytes.fromhex(text[2:] if text.startswith("0x") else text)
    except ValueError:
        raise RpcError(-32602, "invalid hex argument") from None


def _answer(rpc: Rpc, request: Any) -> dict[str, Any]:
    if not isinstance(request, dict) or not isinstance(request.get("method"), str):
        return {"jsonrpc": "2.0", "id": None, "error": {"code": -32600, "message": "invalid request"}}
    params = request.get("params") or []
    try:
        result = rpc.handle(request["method"], params if isinstance(params, list) else [])
    except RpcError as exc:
        return {"jsonrpc": "2.0", "id": request.get("id"), "error": exc.as_json()}
    return {"jsonrpc": "2.0", "id": request.get("id"), "result": result}


@routes.post("/rpc")
async def json_rpc(request: web.Request) -> web.Response:
    sim: Simulator = request.app[SIM_KEY]
    try:
        body = await request.json()
    except ValueError:
        return web.json_response({"jsonrpc": "2.0", "id": None, "error": {"code": -32700, "message": "parse error"}})
    if isinstance(body, list):
        return web.json_response([_answer(sim.rpc, item) for item in body])
    return web.json_response(_answer(sim.rpc, body))
