"""The contract calls a desk makes outside the CLOB, and how each wallet type sends them. Pure.

Facts from Polymarket's unified SDK (``polymarket-client``, the specification here, not a
dependency): a binary market's positions are redeemed with
``redeemPositions(pUSD, 0x0, conditionId, [1, 2])`` and complete YES+NO sets merged with
``mergePositions(pUSD, 0x0, conditionId, [1, 2], amount)``, both sent to the collateral
adapter (the neg-risk collateral adapter for a neg-risk market); the auto-redeem operator is
approved with ``setApprovalForAll(operator, true)`` on the conditional tokens. A plain wallet
(signature type 0) sends them as its own transaction; a proxy (1), Safe (2) or deposit
wallet (3) signs an envelope the relayer submits:

- deposit wallet: EIP-712 ``Batch(wallet, nonce, deadline, Call[] calls)`` in the domain
  ``DepositWallet`` / ``1`` / chain / the wallet;
- Safe: EIP-712 ``SafeTx`` in the domain (chain, the Safe), signed as an ``eth_sign`` message,
  ``v`` packed as 31/32;
- proxy: ``keccak("rlx:" ‖ from ‖ proxy factory ‖ data ‖ fee ‖ gas price ‖ gas limit ‖ nonce
  ‖ relay hub ‖ relay)`` signed as an ``eth_sign`` message, ``data`` = the factory's
  ``proxy((uint8,address,uint256,bytes)[])``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from eth_abi import decode as abi_decode
from eth_abi import encode as abi_encode
from eth_account import Account
from eth_account.messages import encode_defunct, encode_typed_data
from eth_utils import keccak, to_checksum_address

COLLATERAL = "0xC011a7E12a19f7B1f670d46F03B03f3342E82DFB"  # pUSD
CONDITIONAL_TOKENS = "0x4D97DCd97eC945f40cF65F87097ACe5EA0476045"
COLLATERAL_ADAPTER = "0xAdA100Db00Ca00073811820692005400218FcE1f"
NEG_RISK_COLLATERAL_ADAPTER = "0xadA2005600Dec949baf300f4C6120000bDB6eAab"
AUTO_REDEEM_OPERATOR = "0xa1200000d0002264C9a1698e001292D00E1b00af"
DEPOSIT_WALLET_FACTORY = "0x00000000000Fb5C9ADea0298D729A0CB3823Cc07"
PROXY_FACTORY = "0xaB45c5A4B0c941a2F231C04C3f49182e1A254052"
RELAY_HUB = "0xD216153c06E857cD7f72665E0aF1d7D82172F494"
ZERO_ADDRESS = "0x" + "00" * 20
DEPOSIT_WALLET_DEADLINE_S = 600
PROXY_GAS_LIMIT = 200_000
EOA_GAS_LIMIT = 300_000
RELAYER_TYPES = {1: "PROXY", 2: "SAFE", 3: "WALLET"}  # signature type -> the relayer's transaction type


@dataclass(frozen=True, slots=True)
class Call:
    to: str
    data: bytes


def _selector(signature: str) -> bytes:
    return keccak(text=signature)[:4]


def _condition(condition_id: str) -> bytes:
    raw = bytes.fromhex(condition_id.removeprefix("0x"))
    if len(raw) != 32:
        raise ValueError(f"a condition id is 32 bytes, not {len(raw)}: {condition_id!r}")
    return raw


def adapter(neg_risk: bool) -> str:
    return NEG_RISK_COLLATERAL_ADAPTER if neg_risk else COLLATERAL_ADAPTER


def redeem_call(condition_id: str, neg_risk: bool) -> Call:
    args = abi_encode(["address", "bytes32", "bytes32", "uint256[]"],
                      [COLLATERAL, b"\x00" * 32, _condition(condition_id), [1, 2]])
    return Call(adapter(neg_risk), _selector("redeemPositions(address,bytes32,bytes32,uint256[])") + args)


def merge_call(condition_id: str, neg_risk: bool, amount: int) -> Call:
    if amount <= 0:
        raise ValueError("a merge amount must be positive")
    args = abi_encode(["address", "bytes32", "bytes32", "uint256[]", "uint256"],
                      [COLLATERAL, b"\x00" * 32, _condition(condition_id), [1, 2], amount])
    return Call(adapter(neg_risk), _selector("mergePositions(address,bytes32,bytes32,uint256[],uint256)") + args)


def approval_call(operator: str = AUTO_REDEEM_OPERATOR, approved: bool = True) -> Call:
    args = abi_encode(["address", "bool"], [operator, approved])
    return Call(CONDITIONAL_TOKENS, _selector("setApprovalForAll(address,bool)") + args)


def is_approved_call(owner: str, operator: str = AUTO_REDEEM_OPERATOR) -> Call:
    args = abi_encode(["address", "address"], [owner, operator])
    return Call(CONDITIONAL_TOKENS, _selector("isApprovedForAll(address,address)") + args)


def decode_bool(result: str) -> bool:
    (value,) = abi_decode(["bool"], bytes.fromhex(result.removeprefix("0x")))
    return bool(value)


# -- relayer envelopes --------------------------------------------------------------------------


def deposit_wallet_envelope(key: str, wallet: str, call: Call, nonce: int, deadline_s: int,
                            chain_id: int) -> dict[str, Any]:
    signer = Account.from_key(key)
    wallet = to_checksum_address(wallet)
    typed = {
        "domain": {"chainId": chain_id, "name": "DepositWallet", "verifyingContract": wallet, "version": "1"},
        "types": {"EIP712Domain": [{"name": "name", "type": "string"}, {"name": "version", "type": "string"},
                                   {"name": "chainId", "type": "uint256"},
                                   {"name": "verifyingContract", "type": "address"}],
                  "Batch": [{"name": "wallet", "type": "address"}, {"name": "nonce", "type": "uint256"},
                            {"name": "deadline", "type": "uint256"}, {"name": "calls", "type": "Call[]"}],
                  "Call": [{"name": "target", "type": "address"}, {"name": "value", "type": "uint256"},
                           {"name": "data", "type": "bytes"}]},
        "primaryType": "Batch",
        "message": {"wallet": wallet, "nonce": nonce, "deadline": deadline_s,
                    "calls": [{"target": call.to, "value": 0, "data": call.data}]},
    }
    signature = signer.sign_message(encode_typed_data(full_message=typed)).signature
    return {"type": "WALLET", "from": signer.address, "to": DEPOSIT_WALLET_FACTORY, "nonce": str(nonce),
            "signature": "0x" + signature.hex(), "metadata": "",
            "depositWalletParams": {"depositWallet": wallet, "deadline": str(deadline_s),
                                    "calls": [{"target": call.to, "value": "0", "data": "0x" + call.data.hex()}]}}


def safe_envelope(key: str, safe: str, call: Call, nonce: int, chain_id: int) -> dict[str, Any]:
    signer = Account.from_key(key)
    safe = to_checksum_address(safe)
    typed = {
        "domain": {"chainId": chain_id, "verifyingContract": safe},
        "types": {"EIP712Domain": [{"name": "chainId", "type": "uint256"},
                                   {"name": "verifyingContract", "type": "address"}],
                  "SafeTx": [{"name": n, "type": t} for n, t in (
                      ("to", "address"), ("value", "uint256"), ("data", "bytes"), ("operation", "uint8"),
                      ("safeTxGas", "uint256"), ("baseGas", "uint256"), ("gasPrice", "uint256"),
                      ("gasToken", "address"), ("refundReceiver", "address"), ("nonce", "uint256"))]},
        "primaryType": "SafeTx",
        "message": {"to": call.to, "value": 0, "data": call.data, "operation": 0, "safeTxGas": 0, "baseGas": 0,
                    "gasPrice": 0, "gasToken": ZERO_ADDRESS, "refundReceiver": ZERO_ADDRESS, "nonce": nonce},
    }
    signable = encode_typed_data(full_message=typed)
    digest = keccak(b"\x19" + signable.version + signable.header + signable.body)
    raw = signer.sign_message(encode_defunct(primitive=digest)).signature
    packed = raw[:64] + bytes([raw[64] + 4 if raw[64] in (27, 28) else raw[64] + 31])
    zero = ZERO_ADDRESS
    return {"type": "SAFE", "from": signer.address, "to": call.to, "proxyWallet": safe,
            "data": "0x" + call.data.hex(), "nonce": str(nonce), "signature": "0x" + packed.hex(), "metadata": "",
            "signatureParams": {"baseGas": "0", "gasPrice": "0", "gasToken": zero, "operation": "0",
                                "refundReceiver": zero, "safeTxnGas": "0"}}


def proxy_envelope(key: str, proxy: str, call: Call, nonce: int, relay: str) -> dict[str, Any]:
    signer = Account.from_key(key)
    data = _selector("proxy((uint8,address,uint256,bytes)[])") + abi_encode(
        ["(uint8,address,uint256,bytes)[]"], [[(1, call.to, 0, call.data)]])
    digest = keccak(b"rlx:" + _address(signer.address) + _address(PROXY_FACTORY) + data
                    + (0).to_bytes(32, "big") + (0).to_bytes(32, "big") + PROXY_GAS_LIMIT.to_bytes(32, "big")
                    + nonce.to_bytes(32, "big") + _address(RELAY_HUB) + _address(relay))
    signature = signer.sign_message(encode_defunct(primitive=digest)).signature
    return {"type": "PROXY", "from": signer.address, "to": PROXY_FACTORY, "proxyWallet": to_checksum_address(proxy),
            "data": "0x" + data.hex(), "nonce": str(nonce), "signature": "0x" + signature.hex(), "metadata": "",
            "signatureParams": {"gasLimit": str(PROXY_GAS_LIMIT), "gasPrice": "0", "relay": relay,
                                "relayHub": RELAY_HUB, "relayerFee": "0"}}


def eoa_transaction(key: str, call: Call, nonce: int, gas_price_wei: int, chain_id: int) -> bytes:
    """A signed legacy (EIP-155) transaction: what a plain wallet sends itself."""
    signed = Account.sign_transaction({"to": to_checksum_address(call.to), "data": call.data, "value": 0,
                                       "nonce": nonce, "gas": EOA_GAS_LIMIT, "gasPrice": gas_price_wei,
                                       "chainId": chain_id}, key)
    return bytes(signed.raw_transaction)


def _address(address: str) -> bytes:
    return bytes.fromhex(address.removeprefix("0x"))
