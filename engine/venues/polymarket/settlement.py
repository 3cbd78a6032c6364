"""Live settlement: redeem and merge through the path Polymarket's SDK uses, and read what the
venue paid from its Data API.

- A proxy (signature type 1), Safe (2) or deposit wallet (3) sends each call through the
  relayer (RELAYER_HOST): a nonce (`/v1/account/transactions/params`, or `/relay-payload`
  for a proxy), a signed envelope (engine/venues/polymarket/onchain.py) to `/submit`, then
  `/v1/account/transactions/{id}` until STATE_CONFIRMED (or STATE_FAILED / STATE_INVALID).
  The relayer wants RELAYER_API_KEY (with RELAYER_API_KEY_ADDRESS, by default the signer).
- A plain wallet (type 0) signs its own transaction and sends it to POLYGON_RPC_URL (it needs
  POL for gas), then reads its receipt.
- A Protocol V2 market's position is redeemed and merged through its Router
  (engine/venues/polymarket/onchain_v2.py): a redemption reads the wallet's balance of the position in the
  PositionManager (`eth_call`) and redeems all of it, as the venue's SDK does.
- What a V2 position pays is the PositionManager's ``getPayout`` (`eth_call`): an amount (0 for a
  losing position), or, while the market has no result on chain, a revert (``ConditionNotResolved``),
  answered as a payout still to come.
- Whether the auto-redeem operator is approved is an `eth_call` of the conditional tokens'
  (a V2 position: the PositionManager's) `isApprovedForAll(wallet, operator)`.
- What the venue paid is the Data API's activity (DATA_API_HOST `/activity`): REDEEM, MERGE and
  MAKER_REBATE and REWARD (liquidity rewards) items with their `usdcSize` and `transactionHash`.
"""

from __future__ import annotations

import time
from typing import Any

import httpx
from eth_account import Account
from eth_utils import keccak

from contracts.domain import BadNumber, to_micros
from contracts.settings import Settings
from engine.venues.base import VenueError, VenueUnavailable
from engine.venues.polymarket import onchain, onchain_v2
from engine.venues.settlement import CreditKind, NothingHeld, PositionPayout, SettlementTx, TxState, VenueCredit

ACTIVITY_KINDS: dict[str, CreditKind] = {"REDEEM": "redeem", "MERGE": "merge", "MAKER_REBATE": "rebate",
                                         "REWARD": "reward"}
ACTIVITY_PAGE = 500
ACTIVITY_PAGES = 20  # at most 10 000 items a read: a wallet's credits since the last read are far fewer
RELAYER_STATES: dict[str, TxState] = {"STATE_CONFIRMED": "confirmed", "STATE_FAILED": "failed",
                                      "STATE_INVALID": "failed"}
SUBMIT_ATTEMPTS = 3


class ContractReverted(VenueError):
    """An `eth_call` the contract reverted: `data` is what the node returned with it (a custom
    error's selector; "" when it gave none)."""

    def __init__(self, message: str, data: str = "") -> None:
        super().__init__(message)
        self.data = data


class PolymarketSettlement:
    def __init__(self, settings: Settings, *, timeout_s: float = 10.0):
        """Without POLY_PRIVATE_KEY every call says so (a live core is built before it is armed)."""
        self.settings = settings
        self._key = settings.private_key.reveal() if settings.private_key is not None else ""
        self.signer = Account.from_key(self._key).address if self._key else ""
        self.signature_type = settings.signature_type
        relayed = self.signature_type in onchain.RELAYER_TYPES
        self.wallet = settings.funder if relayed and settings.funder else self.signer
        self.timeout_s = timeout_s
        self._http: httpx.AsyncClient | None = None  # opened at first use, again after close()

    async def close(self) -> None:
        if self._http is not None:
            await self._http.aclose()
            self._http = None

    # -- sending ------------------------------------------------------------------------------

    async def redeem(self, condition_id: str, neg_risk: bool) -> SettlementTx:
        return await self._send(onchain.redeem_call(condition_id, neg_risk))

    async def redeem_position(self, condition_id: str, position_id: str) -> SettlementTx:
        held = await self.position_balance(position_id)
        if held <= 0:
            raise NothingHeld(f"the wallet holds none of position {position_id[:12]}…: redeemed already")
        return await self._send(onchain_v2.redeem_call(condition_id, onchain_v2.outcome_index(position_id), held))

    async def merge(self, condition_id: str, neg_risk: bool, amount: int, protocol_v2: bool = False) -> SettlementTx:
        if protocol_v2:
            return await self._send(onchain_v2.merge_call(condition_id, amount))
        return await self._send(onchain.merge_call(condition_id, neg_risk, amount))

    async def position_balance(self, position_id: str) -> int:
        """The wallet's balance of a Protocol V2 position (micro-shares), as the PositionManager says."""
        answer = await self.read(onchain_v2.balance_call(self.wallet, position_id))
        try:
            return int(answer, 16)
        except ValueError:
            raise VenueError(f"the PositionManager's balance is not a number: {answer[:80]}") from None

    async def position_payout(self, position_id: str, shares: int | None = None) -> PositionPayout:
        """What `shares` of a Protocol V2 position (None: all the wallet holds) pay if redeemed, as the
        PositionManager computes it; a revert is no payout yet (`waiting` when the market has no result)."""
        held = await self.position_balance(position_id) if shares is None else shares
        try:
            answer = await self.read(onchain_v2.payout_call(position_id, held))
        except ContractReverted as exc:
            name = onchain_v2.revert_name(exc.data)
            if name == "ConditionNotResolved":
                return PositionPayout(position_id, held, None, waiting=True,
                                      reason="the market has no result on chain yet (ConditionNotResolved)")
            return PositionPayout(position_id, held, None, reason=f"the PositionManager refused the payout read: "
                                                                   f"{name or exc}")
        try:
            return PositionPayout(position_id, held, int(answer, 16))
        except ValueError:
            raise VenueError(f"the PositionManager's payout is not a number: {answer[:80]}") from None

    async def approve_auto_redeem(self, protocol_v2: bool = False) -> SettlementTx:
        if protocol_v2:
            return await self._send(onchain_v2.approval_call(onchain.AUTO_REDEEM_OPERATOR))
        return await self._send(onchain.approval_call())

    async def send(self, call: onchain.Call) -> SettlementTx:
        """Any call the wallet makes (an approval), the way its type allows."""
        return await self._send(call)

    async def _send(self, call: onchain.Call) -> SettlementTx:
        if self.signature_type in onchain.RELAYER_TYPES:
            return await self._relay(call)
        return await self._transact(call)

    async def _relay(self, call: onchain.Call) -> SettlementTx:
        """Through the relayer; a nonce another submission used first is fetched again."""
        kind = onchain.RELAYER_TYPES[self.signature_type]
        last = ""
        for _ in range(SUBMIT_ATTEMPTS):
            envelope = await self._envelope(kind, call)
            try:
                answer = await self._relayer("POST", "/submit", json=envelope)
            except VenueError as exc:
                last = str(exc)
                if "does not match on-chain nonce" in last or "wallet busy" in last.lower():
                    continue
                raise
            return SettlementTx(str(answer.get("transactionID") or ""), "pending",
                                str(answer.get("transactionHash") or "") or None, via="relayer")
        raise VenueError(f"the relayer refused the transaction: {last}")

    async def _envelope(self, kind: str, call: onchain.Call) -> dict[str, Any]:
        chain = self.settings.chain_id
        if kind == "PROXY":
            payload = await self._relayer("GET", "/relay-payload", params={"address": self.signer, "type": kind})
            return onchain.proxy_envelope(self._key, self.wallet, call, _nonce(payload), str(payload.get("address")))
        payload = await self._relayer("GET", "/v1/account/transactions/params",
                                      params={"address": self.signer, "type": kind})
        if kind == "SAFE":
            return onchain.safe_envelope(self._key, self.wallet, call, _nonce(payload), chain)
        deadline = int(time.time()) + onchain.DEPOSIT_WALLET_DEADLINE_S
        return onchain.deposit_wallet_envelope(self._key, self.wallet, call, _nonce(payload), deadline, chain)

    async def _transact(self, call: onchain.Call) -> SettlementTx:
        """A plain wallet's own transaction (it pays the gas in POL)."""
        nonce = int(await self._rpc("eth_getTransactionCount", [self.signer, "pending"]), 16)
        gas_price = int(await self._rpc("eth_gasPrice", []), 16)
        raw = onchain.eoa_transaction(self._key, call, nonce, gas_price, self.settings.chain_id)
        # The hash is the signed transaction's own: known before sending, so an answer lost on the
        # way back (a timeout, a 5xx) still leaves a transaction to follow by its receipt.
        own_hash = "0x" + keccak(raw).hex()
        try:
            tx_hash = str(await self._rpc("eth_sendRawTransaction", ["0x" + raw.hex()]))
        except VenueUnavailable:
            return SettlementTx(own_hash, "pending", own_hash, via="transaction")
        return SettlementTx(tx_hash, "pending", tx_hash, via="transaction")

    # -- following ----------------------------------------------------------------------------

    async def transaction(self, ref: str) -> SettlementTx:
        if self.signature_type in onchain.RELAYER_TYPES:
            return (await self.relayed(ref))[0]
        receipt = await self._rpc("eth_getTransactionReceipt", [ref])
        if not isinstance(receipt, dict):
            return SettlementTx(ref, "pending", ref, via="transaction")
        ok = int(str(receipt.get("status") or "0x0"), 16) == 1
        reason = None if ok else str(receipt.get("revertReason") or "the transaction reverted")
        return SettlementTx(ref, "confirmed" if ok else "failed", ref, reason, via="transaction")

    async def relayed(self, ref: str) -> tuple[SettlementTx, str | None]:
        """A relayed transaction as it stands, and the wallet its record names (`proxyAddress`)."""
        answer = await self._relayer("GET", f"/v1/account/transactions/{ref}")
        state = RELAYER_STATES.get(str(answer.get("state")), "pending")
        error = answer.get("error_msg") or (None if state != "failed" else str(answer.get("state")))
        wallet = answer.get("proxyAddress")
        return (SettlementTx(ref, state, str(answer.get("transaction_hash") or "") or None,
                             None if error is None else str(error), via="relayer"),
                str(wallet) if isinstance(wallet, str) and wallet else None)

    async def create_deposit_wallet(self) -> str:
        """Ask the relayer to deploy the signing key's deposit wallet (`WALLET-CREATE`, as the venue's
        deposit-wallet guide describes it: the key signs nothing, the relayer pays); the relayer's
        transaction id, to follow with `relayed`."""
        answer = await self._relayer("POST", "/submit", json={"type": "WALLET-CREATE", "from": self.signer,
                                                               "to": onchain.DEPOSIT_WALLET_FACTORY})
        found = str(answer.get("transactionID") or "")
        if not found:
            raise VenueError(f"the relayer gave no transaction id: {str(answer)[:200]}")
        return found

    async def auto_redeem_approved(self, protocol_v2: bool = False) -> bool:
        operator = onchain.AUTO_REDEEM_OPERATOR
        call = (onchain_v2.is_approved_call(self.wallet, operator) if protocol_v2
                else onchain.is_approved_call(self.wallet, operator))
        return onchain.decode_bool(await self.read(call))

    async def read(self, call: onchain.Call) -> str:
        """An ``eth_call``'s raw answer (hex)."""
        return str(await self._rpc("eth_call", [{"to": call.to, "data": "0x" + call.data.hex()}, "latest"]))

    async def code(self, address: str) -> str:
        """``eth_getCode``: "0x" for a plain wallet or an address nothing is deployed at."""
        return str(await self._rpc("eth_getCode", [address, "latest"]) or "0x")

    async def credits(self, since_ms: int) -> list[VenueCredit]:
        found: list[VenueCredit] = []
        for page in range(ACTIVITY_PAGES):
            params = {"user": self.wallet, "type": ",".join(ACTIVITY_KINDS), "start": str(max(0, since_ms // 1000)),
                      "sortDirection": "ASC", "limit": str(ACTIVITY_PAGE), "offset": str(page * ACTIVITY_PAGE)}
            items = await self._get_json(f"{self.settings.data_api_host}/activity", params)
            if not isinstance(items, list):
                raise VenueError(f"the Data API's activity is not a list: {str(items)[:200]}")
            found += [c for c in (_credit(item) for item in items) if c is not None]
            if len(items) < ACTIVITY_PAGE:
                break
        return sorted(found, key=lambda c: c.at_ms)

    # -- transport ----------------------------------------------------------------------------

    async def _relayer(self, method: str, path: str, **kwargs: Any) -> dict[str, Any]:
        if self.settings.relayer_api_key is None:
            raise VenueError("sending through the relayer needs RELAYER_API_KEY in .env (docs/going-live.md, "
                             "redemption), or approve the auto-redeem operator (python -m engine preflight "
                             "--approve-auto-redeem needs the key once too)")
        headers = {"RELAYER_API_KEY": self.settings.relayer_api_key.reveal(),
                   "RELAYER_API_KEY_ADDRESS": self.settings.relayer_api_key_address or self.signer}
        answer = await self._request(method, f"{self.settings.relayer_host}{path}", headers=headers, **kwargs)
        if not isinstance(answer, dict):
            raise VenueError(f"unexpected relayer answer: {str(answer)[:200]}")
        return answer

    async def _rpc(self, method: str, params: list[Any]) -> Any:
        answer = await self._request("POST", self.settings.rpc_url,
                                     json={"jsonrpc": "2.0", "id": 1, "method": method, "params": params})
        if not isinstance(answer, dict):
            raise VenueError(f"unexpected RPC answer to {method}: {str(answer)[:200]}")
        if answer.get("error"):
            error = answer["error"]
            message = str(error.get("message") if isinstance(error, dict) else error)
            if isinstance(error, dict) and (error.get("code") == 3 or message.startswith("execution reverted")):
                raise ContractReverted(f"{method}: {message}", str(error.get("data") or ""))
            raise VenueError(f"{method}: {message}")
        return answer.get("result")

    async def _get_json(self, url: str, params: dict[str, str]) -> Any:
        return await self._request("GET", url, params=params)

    async def _request(self, method: str, url: str, **kwargs: Any) -> Any:
        if not self._key:
            raise VenueError("live settlement needs POLY_PRIVATE_KEY in .env")
        if self._http is None:
            self._http = httpx.AsyncClient(timeout=httpx.Timeout(self.timeout_s))
        try:
            resp = await self._http.request(method, url, **kwargs)
        except httpx.HTTPError as exc:
            raise VenueUnavailable(f"{url}: {type(exc).__name__}: {exc}") from None
        if resp.status_code >= 500 or resp.status_code == 429:
            raise VenueUnavailable(f"{url}: HTTP {resp.status_code}: {resp.text[:200]}")
        try:
            body = resp.json()
        except ValueError:
            body = resp.text
        if resp.status_code != 200:
            message = body.get("error") if isinstance(body, dict) and body.get("error") else str(body)[:300]
            raise VenueError(f"HTTP {resp.status_code}: {message}")
        return body


def _nonce(payload: dict[str, Any]) -> int:
    raw = str(payload.get("nonce", ""))
    if not raw.isdigit():
        raise VenueError(f"the relayer returned no usable nonce: {str(payload)[:200]}")
    return int(raw)


def _credit(item: Any) -> VenueCredit | None:
    """One Data API activity item as a credit (None: a type or shape the desk does not book)."""
    if not isinstance(item, dict) or item.get("type") not in ACTIVITY_KINDS:
        return None
    try:
        amount = to_micros(str(item.get("usdcSize", item.get("amount", ""))))
        shares = to_micros(str(item.get("size") or 0))
        at_ms = int(float(item.get("timestamp") or 0) * 1000)
    except (BadNumber, ValueError):
        return None
    tx_hash = str(item.get("transactionHash") or "")
    if not tx_hash or amount < 0:
        return None
    kind = ACTIVITY_KINDS[str(item["type"])]
    condition = str(item.get("conditionId") or "") or None
    asset = str(item.get("asset") or "")
    token = asset if kind == "redeem" and asset.isdigit() else None  # a V2 Router redemption names its position
    return VenueCredit(kind, amount, tx_hash, at_ms, condition if kind not in ("rebate", "reward") else None, shares,
                       token)
