"""EIP-712 digests and signer recovery for V2 orders and L1 (ClobAuth) headers.

Hand-rolled word encoding instead of eth_abi/encode_typed_data because every field
is a single 32-byte word and the order path must stay well under a millisecond;
coincurve does the ECDSA recovery (~60 us).
"""

from __future__ import annotations

import re
from typing import Any

from coincurve import PublicKey
from eth_utils import keccak

CHAIN_ID = 137
EXCHANGE_V2 = "0xE111180000d2663C0091e4f400237545B87B996B"
NEG_RISK_EXCHANGE_V2 = "0xe2222d279d744050d28e00520010520000310F59"
EXCHANGE_V3 = "0xe3333700cA9d93003F00f0F71f8515005F6c00Aa"  # Protocol V2 markets, EIP-712 domain version "3"
NEG_RISK_ADAPTER = "0xd91E80cF2E7be2e162c6513ceD06f1dD0dA35296"
COLLATERAL = "0xC011a7E12a19f7B1f670d46F03B03f3342E82DFB"

ORDER_TYPE_STRING = (
    "Order(uint256 salt,address maker,address signer,uint256 tokenId,"
    "uint256 makerAmount,uint256 takerAmount,uint8 side,uint8 signatureType,"
    "uint256 timestamp,bytes32 metadata,bytes32 builder)"
)
ORDER_TYPEHASH = keccak(text=ORDER_TYPE_STRING)
DOMAIN_TYPEHASH = keccak(
    text="EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)")
TYPED_DATA_SIGN_TYPEHASH = keccak(
    text="TypedDataSign(Order contents,string name,string version,uint256 chainId,"
    "address verifyingContract,bytes32 salt)" + ORDER_TYPE_STRING
)
CLOB_AUTH_TYPEHASH = keccak(text="ClobAuth(address address,string timestamp,uint256 nonce,string message)")
CLOB_AUTH_MESSAGE = "This message attests that I control the given wallet"
SECP256K1_HALF_N = 0x7FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF5D576E7357A4501DDFE92F46681B20A0

_ADDRESS = re.compile(r"^0x[0-9a-fA-F]{40}$")
_BYTES32 = re.compile(r"^0x[0-9a-fA-F]{64}$")
_UINT = re.compile(r"^[0-9]{1,78}$")
SIDES = {"BUY": 0, "SELL": 1}


class OrderFormatError(ValueError):
    """The order JSON is not a well-formed V2 order."""


def _u256(value: int) -> bytes:
    return value.to_bytes(32, "big")


def _addr(value: str) -> bytes:
    return b"\x00" * 12 + bytes.fromhex(value[2:])


def exchange_domain(contract: str, version: str = "2", chain_id: int = CHAIN_ID) -> bytes:
    return keccak(
        DOMAIN_TYPEHASH + keccak(text="Polymarket CTF Exchange") + keccak(text=version)
        + _u256(chain_id) + _addr(contract)
    )


DOMAIN_V2 = exchange_domain(EXCHANGE_V2)
DOMAIN_NEG_RISK_V2 = exchange_domain(NEG_RISK_EXCHANGE_V2)
DOMAIN_V3 = exchange_domain(EXCHANGE_V3, version="3")
CLOB_AUTH_DOMAIN = keccak(
    keccak(text="EIP712Domain(string name,string version,uint256 chainId)")
    + keccak(text="ClobAuthDomain") + keccak(text="1") + _u256(CHAIN_ID)
)


def _uint_field(order: dict[str, Any], key: str) -> int:
    raw = order.get(key)
    if isinstance(raw, bool) or raw is None:
        raise OrderFormatError(key)
    text = str(raw)
    if not _UINT.match(text):
        raise OrderFormatError(key)
    value = int(text)
    if value >= 2**256:
        raise OrderFormatError(key)
    return value


def _pattern_field(order: dict[str, Any], key: str, pattern: re.Pattern[str]) -> str:
    raw = order.get(key)
    if not isinstance(raw, str) or not pattern.match(raw):
        raise OrderFormatError(key)
    return raw


def struct_hash(order: dict[str, Any]) -> bytes:
    """EIP-712 struct hash of a V2 order as posted (raises OrderFormatError)."""
    side = SIDES.get(order.get("side"))  # type: ignore[arg-type]  # a missing or odd side maps to None, refused below
    sig_type = order.get("signatureType")
    if side is None or not isinstance(sig_type, int) or isinstance(sig_type, bool) or not 0 <= sig_type <= 3:
        raise OrderFormatError("side/signatureType")
    return keccak(
        ORDER_TYPEHASH
        + _u256(_uint_field(order, "salt"))
        + _addr(_pattern_field(order, "maker", _ADDRESS))
        + _addr(_pattern_field(order, "signer", _ADDRESS))
        + _u256(_uint_field(order, "tokenId"))
        + _u256(_uint_field(order, "makerAmount"))
        + _u256(_uint_field(order, "takerAmount"))
        + _u256(side)
        + _u256(sig_type)
        + _u256(_uint_field(order, "timestamp"))
        + bytes.fromhex(_pattern_field(order, "metadata", _BYTES32)[2:])
        + bytes.fromhex(_pattern_field(order, "builder", _BYTES32)[2:])
    )


def recover(digest: bytes, signature: bytes) -> str | None:
    """Lower-case address that produced a 65-byte (r, s, v) signature, or None."""
    if len(signature) != 65:
        return None
    v = signature[64]
    if v >= 27:
        v -= 27
    if v not in (0, 1) or int.from_bytes(signature[32:64], "big") > SECP256K1_HALF_N:
        return None
    try:
        pub = PublicKey.from_signature_and_message(signature[:64] + bytes([v]), digest, hasher=None)
    except Exception:  # coincurve raises plain Exception on invalid points
        return None
    return "0x" + keccak(pub.format(compressed=False)[1:])[-20:].hex()


def _hex_bytes(value: Any) -> bytes | None:
    if not isinstance(value, str) or not value.startswith("0x"):
        return None
    try:
        return bytes.fromhex(value[2:])
    except ValueError:
        return None


def order_signer(order: dict[str, Any], neg_risk: bool, protocol_v2: bool = False) -> tuple[str, str | None]:
    """(orderID, recovered EOA or None) for a posted V2 order; the orderID is the digest.

    The domain is the market's exchange: ExchangeV3 (domain "3") for a Protocol V2 market, else the
    standard or neg-risk V2 exchange (domain "2"); an order signed for another recovers to a stranger.
    Types 0-2 are plain EIP-712 signatures; type 3 (POLY_1271 deposit wallets) is
    the ERC-7739 nested form, whose inner ECDSA signer is the wallet's owner EOA.
    """
    sh = struct_hash(order)
    domain = DOMAIN_V3 if protocol_v2 else DOMAIN_NEG_RISK_V2 if neg_risk else DOMAIN_V2
    digest = keccak(b"\x19\x01" + domain + sh)
    order_id = "0x" + digest.hex()
    sig = _hex_bytes(order.get("signature"))
    if sig is None:
        return order_id, None
    if order["signatureType"] != 3:
        return order_id, recover(digest, sig)
    return order_id, _recover_1271(sig, sh, domain, order["signer"])


def _recover_1271(sig: bytes, contents: bytes, domain: bytes, wallet: str) -> str | None:
    type_len = len(ORDER_TYPE_STRING)
    if len(sig) != 65 + 64 + type_len + 2 or int.from_bytes(sig[-2:], "big") != type_len:
        return None
    if sig[65:97] != domain or sig[97:129] != contents or sig[129:-2] != ORDER_TYPE_STRING.encode():
        return None
    sign_hash = keccak(
        TYPED_DATA_SIGN_TYPEHASH + contents + keccak(text="DepositWallet") + keccak(text="1")
        + _u256(CHAIN_ID) + _addr(wallet) + b"\x00" * 32
    )
    return recover(keccak(b"\x19\x01" + domain + sign_hash), sig[:65])


def clob_auth_signer(address: str, timestamp: str, nonce: int, signature: str) -> str | None:
    """Recover the signer of L1 headers (EIP-712 ClobAuth, domain without contract)."""
    sig = _hex_bytes(signature)
    if sig is None or not _ADDRESS.match(address) or not 0 <= nonce < 2**256:
        return None
    sh = keccak(
        CLOB_AUTH_TYPEHASH + _addr(address) + keccak(text=timestamp) + _u256(nonce)
        + keccak(text=CLOB_AUTH_MESSAGE)
    )
    return recover(keccak(b"\x19\x01" + CLOB_AUTH_DOMAIN + sh), sig)
