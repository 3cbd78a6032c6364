"""Dashboard password hashing (scrypt) and the `.env` line that stores the hash.

Format: `scrypt$N$r$p$<salt b64>$<key b64>`. No `${` can appear in it, so `.env` needs
no quoting. The hash lives only in `.env`/environment, never in SQLite or logs.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import re
from pathlib import Path

N, R, P = 2**15, 8, 1
MAXMEM = 64 * 1024 * 1024
MIN_LENGTH = 8
ENV_KEY = "DASHBOARD_PASSWORD_HASH"
VIEWER_ENV_KEY = "DASHBOARD_VIEWER_PASSWORD_HASH"  # a read-only login: sees everything, changes nothing


class PasswordError(ValueError):
    pass


def hash_password(password: str) -> str:
    if len(password) < MIN_LENGTH:
        raise PasswordError(f"the password must be at least {MIN_LENGTH} characters")
    salt = os.urandom(16)
    key = hashlib.scrypt(password.encode(), salt=salt, n=N, r=R, p=P, maxmem=MAXMEM, dklen=32)
    b64 = lambda b: base64.b64encode(b).decode()  # noqa: E731
    return f"scrypt${N}${R}${P}${b64(salt)}${b64(key)}"


def verify_password(password: str, stored: str) -> bool:
    """Constant-time check; a malformed stored hash never verifies."""
    try:
        scheme, n, r, p, salt_b64, key_b64 = stored.split("$")
        if scheme != "scrypt":
            return False
        salt, expected = base64.b64decode(salt_b64), base64.b64decode(key_b64)
        key = hashlib.scrypt(password.encode(), salt=salt, n=int(n), r=int(r), p=int(p),
                             maxmem=MAXMEM, dklen=len(expected))
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(key, expected)


def write_env_value(env_file: Path, key: str, value: str) -> None:
    """Set `key=value` in an env file in place of its line (a duplicate line goes), keeping every
    other line; the file stays mode 600."""
    lines = env_file.read_text().splitlines() if env_file.exists() else []
    pattern = re.compile(rf"^\s*(export\s+)?{re.escape(key)}\s*=")
    at = next((i for i, line in enumerate(lines) if pattern.match(line)), len(lines))
    kept = [line for line in lines if not pattern.match(line)]
    kept.insert(at, f"{key}={value}")  # where it was (its comment above it still applies), else at the end
    tmp = env_file.with_name(env_file.name + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write("\n".join(kept) + "\n")
    os.replace(tmp, env_file)
    os.chmod(env_file, 0o600)
