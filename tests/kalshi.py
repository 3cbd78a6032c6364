"""What the Kalshi tests share: a fresh RSA key pair, as Kalshi's key page makes one, and the
simulator's admin call that registers its public half (Kalshi's website, in the simulator)."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from simulator.testing import SimHandle


def keypair() -> tuple[str, str]:
    """(private PEM, public PEM) of a fresh 2048-bit RSA key."""
    private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return (private.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                  serialization.NoEncryption()).decode(),
            private.public_key().public_bytes(serialization.Encoding.PEM,
                                              serialization.PublicFormat.SubjectPublicKeyInfo).decode())


def admin(sim: SimHandle, path: str, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    """(HTTP status, JSON answer) of one of the simulator's POST calls."""
    request = urllib.request.Request(f"{sim.clob_host}{path}", data=json.dumps(body).encode(), method="POST",
                                     headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=10) as answer:
            return answer.status, json.loads(answer.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())


def register(sim: SimHandle, public_pem: str) -> str:
    """A new funded account's key id for `public_pem`."""
    status, body = admin(sim, "/_sim/kalshi/api-keys", {"public_key": public_pem})
    assert status == 200, body
    key_id: str = body["api_key_id"]
    return key_id
