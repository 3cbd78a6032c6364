"""API keys and request signatures, as Kalshi checks them.

A key is an RSA public key registered for an account; a request carries KALSHI-ACCESS-KEY (the
key's id), KALSHI-ACCESS-TIMESTAMP (milliseconds) and KALSHI-ACCESS-SIGNATURE: base64 of an
RSA-PSS signature (SHA-256, MGF1 SHA-256, salt the digest's length) over timestamp + METHOD +
path, the path without its query string.
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

    @property
    def trades(self) -> bool:
        """Whether the key may place and cancel orders (the `write` scope, or its `write::trade` child)."""
        return bool(self.scopes & {"write", "write::trade"})


class KeyRing:
    def __init__(self, seed: int, max_skew_s: float) -> None:
        self._rng = random.Random(f"kalshi-keys:{seed}")
        self.max_skew_s = max_skew_s
        self.keys: dict[str, ApiKey] = {}

    def register(self, pem: str, account: str | None = None, scopes: frozenset[str] | None = None) -> ApiKey:
        """A new key (and, unless named, a new account) for an RSA public key in PEM, with its scopes
        (read and write unless named, as Kalshi's key page makes one)."""
        if scopes is not None and (not scopes or not scopes <= SCOPES):
            raise BadPublicKey(f"scopes must be some of {sorted(SCOPES)}")
        try:
            loaded = serialization.load_pem_public_key(pem.encode())
        except (ValueError, TypeError) as exc:
            raise BadPublicKey(f"public_key is not a PEM public key: {exc}") from None
        if not isinstance(loaded, rsa.RSAPublicKey):
            raise BadPublicKey("public_key must be an RSA key")
        if loaded.key_size < MIN_KEY_BITS:
            raise BadPublicKey(f"public_key must be at least {MIN_KEY_BITS} bits (got {loaded.key_size})")
        key_id = str(uuid.UUID(int=self._rng.getrandbits(128), version=4))
        key = ApiKey(key_id, account or f"user-{key_id[:8]}", loaded, scopes or frozenset({"read", "write"}))
        self.keys[key_id] = key
        return key

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
