"""API keys and request signatures, as Kalshi checks them.

A key is an RSA public key registered for an account; a request carries KALSHI-ACCESS-KEY (the
key's id), KALSHI-ACCESS-TIMESTAMP (milliseconds) and KALSHI-ACCESS-SIGNATURE: base64 of an
RSA-PSS signature (SHA-256, MGF1 SHA-256, salt the digest's length) over timestamp + METHOD +
path, the path without its query string.

A key may be restricted to one subaccount (Kalshi's subaccount-restricted keys, 1-63): it reads and
trades that subaccount only, which the simulator keeps as an account of its own
(`<account>#sub<N>`), and a request naming any other subaccount is refused. The account's location
attestation expires (`GET /api_keys`'s `api_key_region_expiration_ts`, Unix seconds): a new account
has attested for ATTESTED_S; once it has lapsed (or when it never attested), the account's keys may not
trade Sports, Elections and Entertainment markets (Kalshi's changelog of 2026-08-16: "API keys are not
valid for trading Sports, Elections, and Entertainment markets"; side.py `location_refusal`), every
order operation on them refused 403, cancels included (the stricter reading); other markets trade on.
"""

from __future__ import annotations

import base64
import binascii
import random
import uuid
from dataclasses import dataclass

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

MIN_KEY_BITS = 2048
ATTESTED_S = 90 * 86_400  # a new account's location attestation holds this long
MAX_SUBACCOUNT = 63


class AuthError(Exception):
    """A request Kalshi would answer 401 (the message says which check failed)."""


class BadPublicKey(ValueError):
    """A public key the key page would not take."""


SCOPES = frozenset({"read", "write", "write::trade"})


@dataclass(frozen=True)
class ApiKey:
    key_id: str
    account: str
    public_key: rsa.RSAPublicKey
    scopes: frozenset[str] = frozenset({"read", "write"})
    parent: str = ""  # the account that owns it (its own `account` unless restricted to a subaccount)
    subaccount: int | None = None  # restricted to this subaccount (None: unrestricted)
    name: str = "key"

    @property
    def trades(self) -> bool:
        """Whether the key may place and cancel orders (the `write` scope, or its `write::trade` child)."""
        return bool(self.scopes & {"write", "write::trade"})


class KeyRing:
    def __init__(self, seed: int, max_skew_s: float) -> None:
        self._rng = random.Random(f"kalshi-keys:{seed}")
        self.max_skew_s = max_skew_s
        self.keys: dict[str, ApiKey] = {}
        self.attested_until: dict[str, int | None] = {}  # parent account -> its attestation's expiry (Unix s)

    def register(self, pem: str, account: str | None = None, scopes: frozenset[str] | None = None,
                 subaccount: int | None = None, now_s: int = 0) -> ApiKey:
        """A new key (and, unless named, a new account) for an RSA public key in PEM, with its scopes
        (read and write unless named, as Kalshi's key page makes one), restricted to `subaccount` when
        one is named."""
        if scopes is not None and (not scopes or not scopes <= SCOPES):
            raise BadPublicKey(f"scopes must be some of {sorted(SCOPES)}")
        if subaccount is not None and (isinstance(subaccount, bool) or not isinstance(subaccount, int)
                                       or not 0 <= subaccount <= MAX_SUBACCOUNT):
            raise BadPublicKey(f"subaccount must be 0 to {MAX_SUBACCOUNT}")
        try:
            loaded = serialization.load_pem_public_key(pem.encode())
        except (ValueError, TypeError) as exc:
            raise BadPublicKey(f"public_key is not a PEM public key: {exc}") from None
        if not isinstance(loaded, rsa.RSAPublicKey):
            raise BadPublicKey("public_key must be an RSA key")
        if loaded.key_size < MIN_KEY_BITS:
            raise BadPublicKey(f"public_key must be at least {MIN_KEY_BITS} bits (got {loaded.key_size})")
        key_id = str(uuid.UUID(int=self._rng.getrandbits(128), version=4))
        parent = account or f"user-{key_id[:8]}"
        trades_as = f"{parent}#sub{subaccount}" if subaccount else parent
        key = ApiKey(key_id, trades_as, loaded, scopes or frozenset({"read", "write"}), parent, subaccount,
                     f"key {len(self.keys) + 1}")
        self.keys[key_id] = key
        self.attested_until.setdefault(parent, now_s + ATTESTED_S)
        return key

    def of_parent(self, parent: str) -> list[ApiKey]:
        return [k for k in self.keys.values() if k.parent == parent]

    def lapsed(self, key: ApiKey, now_s: int) -> bool:
        """Whether the key's account's location attestation has lapsed (or was never made)."""
        until = self.attested_until.get(key.parent)
        return until is None or until <= now_s

    def verify(self, key_id: str | None, timestamp: str | None, signature: str | None, method: str, path: str,
               now_ms: int) -> ApiKey:
        """The key that signed this request; AuthError when any check fails."""
        if not key_id or not timestamp or not signature:
            raise AuthError("missing KALSHI-ACCESS-KEY, KALSHI-ACCESS-TIMESTAMP or KALSHI-ACCESS-SIGNATURE")
        key = self.keys.get(key_id)
        if key is None:
            raise AuthError("unknown API key")
        if not timestamp.isdigit():
            raise AuthError("KALSHI-ACCESS-TIMESTAMP must be milliseconds since the epoch")
        if abs(now_ms - int(timestamp)) > self.max_skew_s * 1000:
            raise AuthError("KALSHI-ACCESS-TIMESTAMP is too far from the exchange's clock")
        try:
            raw = base64.b64decode(signature, validate=True)
        except (binascii.Error, ValueError):
            raise AuthError("KALSHI-ACCESS-SIGNATURE is not base64") from None
        message = f"{timestamp}{method.upper()}{path}".encode()
        try:
            key.public_key.verify(raw, message, padding.PSS(mgf=padding.MGF1(hashes.SHA256()),
                                                            salt_length=padding.PSS.DIGEST_LENGTH), hashes.SHA256())
        except InvalidSignature:
            raise AuthError("signature does not match timestamp + method + path") from None
        return key


def restricted_to(account: str) -> int | None:
    """The subaccount an account name stands for (`<account>#sub<N>`), or None for a primary account."""
    _, sep, number = account.rpartition("#sub")
    return int(number) if sep and number.isdigit() else None
