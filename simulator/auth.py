"""L1 (EIP-712 wallet signature) and L2 (HMAC) authentication, and API keys.

Credentials are a deterministic function of (seed, address, nonce), so a client
that persisted its creds keeps working across simulator restarts with one seed.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from .signing import clob_auth_signer

L1_ERROR = "Invalid L1 Request headers"
L2_ERROR = "Unauthorized/Invalid api key"


class AuthError(Exception):
    def __init__(self, message: str, status: int = 401) -> None:
        super().__init__(message)
        self.message = message
        self.status = status


@dataclass(frozen=True)
class ApiCreds:
    api_key: str
    secret: str
    passphrase: str
    address: str  # lower-case EOA that owns the key
    nonce: int

    def as_json(self) -> dict[str, str]:
        return {"apiKey": self.api_key, "secret": self.secret, "passphrase": self.passphrase}


def hmac_signature(secret: str, timestamp: str, method: str, path: str, body: str) -> str:
    """The L2 POLY_SIGNATURE; the client swaps ' for " in the body before hashing."""
    message = f"{timestamp}{method}{path}{body.replace(chr(39), chr(34))}"
    digest = hmac.new(base64.urlsafe_b64decode(secret), message.encode("utf-8"), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).decode("ascii")


class Auth:
    def __init__(self, seed: int, max_skew_s: float, clock: Callable[[], float] = time.time) -> None:
        self._root = hashlib.sha256(f"polymarket-simulator:{seed}".encode()).digest()
        self.max_skew_s = max_skew_s
        self.clock = clock
        self.keys: dict[str, ApiCreds] = {}  # api key -> creds
        self.by_owner: dict[tuple[str, int], ApiCreds] = {}

    def _material(self, address: str, nonce: int, label: str) -> bytes:
        return hmac.new(self._root, f"{label}:{address.lower()}:{nonce}".encode(), hashlib.sha256).digest()

    def compute(self, address: str, nonce: int) -> ApiCreds:
        key = uuid.UUID(bytes=self._material(address, nonce, "key")[:16], version=4)
        secret = base64.urlsafe_b64encode(self._material(address, nonce, "secret")).decode()
        passphrase = self._material(address, nonce, "passphrase").hex()
        return ApiCreds(str(key), secret, passphrase, address.lower(), nonce)

    def _register(self, creds: ApiCreds) -> ApiCreds:
        self.keys[creds.api_key] = creds
        self.by_owner[(creds.address, creds.nonce)] = creds
        return creds

    def create(self, address: str, nonce: int) -> ApiCreds | None:
        """New key for (address, nonce); None if one already exists (the venue's 400)."""
        if (address.lower(), nonce) in self.by_owner:
            return None
        return self._register(self.compute(address, nonce))

    def derive(self, address: str, nonce: int) -> ApiCreds:
        existing = self.by_owner.get((address.lower(), nonce))
        return existing or self._register(self.compute(address, nonce))

    def delete(self, creds: ApiCreds) -> None:
        self.keys.pop(creds.api_key, None)
        self.by_owner.pop((creds.address, creds.nonce), None)

    def keys_for(self, address: str) -> list[str]:
        return [c.api_key for c in self.keys.values() if c.address == address.lower()]

    def _fresh(self, raw_ts: str | None) -> bool:
        try:
            ts = int(raw_ts or "")
        except ValueError:
            return False
        return abs(self.clock() - ts) <= self.max_skew_s

    def check_l1(self, headers: Mapping[str, str]) -> tuple[str, int]:
        """Verify L1 headers; returns (lower-case address, nonce)."""
        address = headers.get("POLY_ADDRESS", "")
        ts = headers.get("POLY_TIMESTAMP", "")
        try:
            nonce = int(headers.get("POLY_NONCE") or "0")
        except ValueError:
            raise AuthError(L1_ERROR) from None
        if not self._fresh(ts):
            raise AuthError(L1_ERROR)
        signer = clob_auth_signer(address, ts, nonce, headers.get("POLY_SIGNATURE", ""))
        if signer is None or signer != address.lower():
            raise AuthError(L1_ERROR)
        return signer, nonce

    def check_l2(self, method: str, path: str, body: bytes, headers: Mapping[str, str]) -> ApiCreds:
        """Verify L2 headers against the path (no query) and the raw body."""
        creds = self._lookup(headers.get("POLY_API_KEY", ""), headers.get("POLY_ADDRESS", ""))
        if creds is None or not hmac.compare_digest(creds.passphrase, headers.get("POLY_PASSPHRASE", "")):
            raise AuthError(L2_ERROR)
        if creds.address != headers.get("POLY_ADDRESS", "").lower():
            raise AuthError(L2_ERROR)
        ts = headers.get("POLY_TIMESTAMP", "")
        if not self._fresh(ts):
            raise AuthError(L2_ERROR)
        try:
            text = body.decode("utf-8")
            expected = hmac_signature(creds.secret, ts, method, path, text)
        except (UnicodeDecodeError, ValueError):
            raise AuthError(L2_ERROR) from None
        if not hmac.compare_digest(expected, headers.get("POLY_SIGNATURE", "")):
            raise AuthError(L2_ERROR)
        return creds

    def _lookup(self, api_key: str, address: str) -> ApiCreds | None:
        creds = self.keys.get(api_key)
        if creds is None and address:
            # Survive restarts: a key derived earlier for nonce 0 is still valid.
            candidate = self.compute(address, 0)
            if candidate.api_key == api_key:
                creds = self._register(candidate)
        return creds

    def check_ws(self, auth: object) -> ApiCreds | None:
        """User-channel auth object {apiKey, secret, passphrase}; None if invalid."""
        if not isinstance(auth, dict):
            return None
        creds = self.keys.get(str(auth.get("apiKey", "")))
        if creds is None:
            return None
        if not (hmac.compare_digest(creds.secret, str(auth.get("secret", "")))
                and hmac.compare_digest(creds.passphrase, str(auth.get("passphrase", "")))):
            return None
        return creds
