"""The desk's other secrets encrypted at rest: one sealed file beside the wallet keystore.

The wallet key lives in an Ethereum keystore (engine/cli/keystore.py). The API credentials, the
relayer key, the notification URLs, the Telegram token and Kalshi's key are sealed together in the file
POLY_SECRETS_FILE names, with the same passphrase: scrypt derives a 256-bit key from it and a
random salt, AES-256-GCM encrypts the JSON of the values and authenticates it with the list of
names, which stays readable (so every process, the dashboard included, knows which settings are
sealed without the passphrase; a name edited in the file fails the decryption).

    {"format": "desk-sealed-secrets", "version": 1, "names": [...],
     "kdf": "scrypt", "kdfparams": {"n": 32768, "r": 8, "p": 1, "salt": hex},
     "cipher": "aes-256-gcm", "nonce": hex, "ciphertext": hex, "tag": hex}
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

FORMAT = "desk-sealed-secrets"
# The settings that may be sealed: every secret but the wallet key (its own keystore) and the
# dashboard's password hashes (the dashboard runs without the passphrase; a hash is not a password).
SEALABLE = ("POLY_API_KEY", "POLY_API_SECRET", "POLY_API_PASSPHRASE", "RELAYER_API_KEY", "NOTIFY_URLS",
            "TELEGRAM_BOT_TOKEN", "KALSHI_API_KEY_ID", "KALSHI_PRIVATE_KEY", "SIGNALS_API_TOKEN", "ODDS_FEED",
            "POLLS_FEED")
N, R, P = 2**15, 8, 1
MAXMEM = 128 * 1024 * 1024
MAX_FILE = 256 * 1024
MAX_N, MAX_R, MAX_P = 2**16, 8, 4  # bounded: a hostile file must not take minutes or all memory


class SealedError(ValueError):
    """The sealed file cannot be read, opened or written; the message says what to change."""


def seal(values: Mapping[str, str], passphrase: str) -> dict[str, Any]:
    from Crypto.Cipher import AES

    names = sorted(values)
    unknown = [n for n in names if n not in SEALABLE]
    if unknown:
        raise SealedError(f"not a sealable setting: {', '.join(unknown)}")
    salt, nonce = os.urandom(16), os.urandom(12)
    cipher = AES.new(_key(passphrase, salt, N, R, P), AES.MODE_GCM, nonce=nonce)
    cipher.update(_aad(names))
    ciphertext, tag = cipher.encrypt_and_digest(json.dumps({n: values[n] for n in names}).encode())
    return {"format": FORMAT, "version": 1, "names": names, "kdf": "scrypt",
            "kdfparams": {"n": N, "r": R, "p": P, "salt": salt.hex()}, "cipher": "aes-256-gcm",
            "nonce": nonce.hex(), "ciphertext": ciphertext.hex(), "tag": tag.hex()}


def unseal(document: Mapping[str, Any], passphrase: str, path: Path) -> dict[str, str]:
    """The sealed values; a wrong passphrase or an edited file is refused in words."""
    from Crypto.Cipher import AES

    names = _names(document, path)
    try:
        params = document["kdfparams"]
        n, r, p = int(params["n"]), int(params["r"]), int(params["p"])
        salt, nonce = bytes.fromhex(params["salt"]), bytes.fromhex(document["nonce"])
        ciphertext, tag = bytes.fromhex(document["ciphertext"]), bytes.fromhex(document["tag"])
    except (KeyError, TypeError, ValueError):
        raise SealedError(f"the sealed secrets file {path} is malformed") from None
    if not (1 < n <= MAX_N and n & (n - 1) == 0 and 0 < r <= MAX_R and 0 < p <= MAX_P):
        raise SealedError(f"the sealed secrets file {path} asks for key derivation out of the accepted range")
    cipher = AES.new(_key(passphrase, salt, n, r, p), AES.MODE_GCM, nonce=nonce)
    cipher.update(_aad(names))
    try:
        plain = cipher.decrypt_and_verify(ciphertext, tag)
    except ValueError:
        raise SealedError(f"wrong passphrase for the sealed secrets file {path} (or the file was edited)") from None
    values = json.loads(plain)
    if not isinstance(values, dict) or sorted(values) != names:
        raise SealedError(f"the sealed secrets file {path} does not hold the names it lists")
    return {str(k): str(v) for k, v in values.items()}


def read_document(path: Path) -> dict[str, Any]:
    """The file's JSON, checked to be a sealed secrets file (its values still encrypted)."""
    what = f"POLY_SECRETS_FILE ({path})"
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise SealedError(f"{what} does not exist: check the path, or create it with "
                          "`python -m engine keystore seal`") from None
    except OSError as exc:
        raise SealedError(f"{what} cannot be read: {exc.strerror}") from None
    if len(raw) > MAX_FILE:
        raise SealedError(f"{what} is {len(raw):,} bytes: not a sealed secrets file")
    try:
        document = json.loads(raw)
    except ValueError:
        raise SealedError(f"{what} is not JSON: not a sealed secrets file") from None
    if not isinstance(document, dict) or document.get("format") != FORMAT or document.get("version") != 1:
        raise SealedError(f"{what} is not a sealed secrets file (format {FORMAT}, version 1)")
    _names(document, path)
    return document


def sealed_names(path: Path) -> tuple[str, ...]:
    """Which settings the file holds, read without the passphrase."""
    return tuple(_names(read_document(path), path))


def _names(document: Mapping[str, Any], path: Path) -> list[str]:
    names = document.get("names")
    if not isinstance(names, list) or not all(isinstance(n, str) and n in SEALABLE for n in names) \
            or names != sorted(set(names)):
        raise SealedError(f"the sealed secrets file {path} lists names that are not sealable settings")
    return names


def _key(passphrase: str, salt: bytes, n: int, r: int, p: int) -> bytes:
    return hashlib.scrypt(passphrase.encode(), salt=salt, n=n, r=r, p=p, maxmem=MAXMEM, dklen=32)


def _aad(names: list[str]) -> bytes:
    return json.dumps(names).encode()
