"""Kalshi's settings: where its Trade API is, and the account's key (an RSA private key, a secret
like the wallet key: in `.env` or, better, sealed with the other secrets by `engine keystore seal`).

    KALSHI_ENVIRONMENT  prod | demo (the rehearsal with mock funds); default prod
    KALSHI_HOST         the Trade API's base URL; default: the simulator's under DATA_SOURCE=simulator,
                        else the environment's dedicated host (external-api.kalshi.com)
    KALSHI_WS_HOST      the WebSocket's URL; Kalshi serves it on a host of its own name, never derived
                        from the REST host: default the simulator's, else the environment's
                        (wss://external-api-ws.kalshi.com/trade-api/ws/v2)
    KALSHI_API_KEY_ID   the key's id, as Kalshi's key page shows it
    KALSHI_PRIVATE_KEY  the key's RSA private key in PEM (newlines written as \\n in `.env`)
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from contracts.settings import Secret, SettingsError

# Kalshi's dedicated Trade API hosts (its changelog, 2026-05-07; the shared api.elections.kalshi.com and
# demo-api.kalshi.co are "also supported"): REST and WebSocket each on a name of its own.
KALSHI_HOSTS = {
    "prod": "https://external-api.kalshi.com/trade-api/v2",
    "demo": "https://external-api.demo.kalshi.co/trade-api/v2",
}
KALSHI_WS_HOSTS = {
    "prod": "wss://external-api-ws.kalshi.com/trade-api/ws/v2",
    "demo": "wss://external-api-ws.demo.kalshi.co/trade-api/ws/v2",
}
KALSHI_SECRETS = ("KALSHI_API_KEY_ID", "KALSHI_PRIVATE_KEY")


@dataclass(frozen=True)
class KalshiSettings:
    host: str
    environment: str  # prod | demo | simulator
    api_key_id: str | None = None
    private_key: Secret | None = None  # PEM
    ws_host: str = KALSHI_WS_HOSTS["prod"]

    @property
    def configured(self) -> bool:
        return self.api_key_id is not None and self.private_key is not None


def kalshi_settings(env: Mapping[str, str], *, simulator_base: str | None) -> KalshiSettings:
    """`simulator_base`: the simulator's http://127.0.0.1:PORT under DATA_SOURCE=simulator, else None."""
    environment = (env.get("KALSHI_ENVIRONMENT") or "prod").lower()
    if environment not in KALSHI_HOSTS:
        raise SettingsError(f"KALSHI_ENVIRONMENT must be prod or demo, not {environment!r}.")
    default = f"{simulator_base}/trade-api/v2" if simulator_base else KALSHI_HOSTS[environment]
    host = (env.get("KALSHI_HOST") or default).rstrip("/")
    if not host.startswith(("http://", "https://")):
        raise SettingsError(f"KALSHI_HOST must start with http:// or https://, got {host!r}.")
    ws_default = f"ws://{simulator_base.split('://', 1)[1]}/trade-api/ws/v2" if simulator_base \
        else KALSHI_WS_HOSTS[environment]
    ws_host = (env.get("KALSHI_WS_HOST") or ws_default).rstrip("/")
    if not ws_host.startswith(("ws://", "wss://")):
        raise SettingsError(f"KALSHI_WS_HOST must start with ws:// or wss://, got {ws_host!r}.")
    key_id = env.get("KALSHI_API_KEY_ID") or None
    pem = env.get("KALSHI_PRIVATE_KEY") or None
    if (key_id is None) != (pem is None):
        missing = "KALSHI_PRIVATE_KEY" if pem is None else "KALSHI_API_KEY_ID"
        raise SettingsError(f"{missing} is empty while the other Kalshi key setting is set: Kalshi signs every "
                            "request with the key, so both are needed (the id and its RSA private key).")
    private_key = None if pem is None else Secret(_checked_pem(pem))
    return KalshiSettings(host, "simulator" if simulator_base and not env.get("KALSHI_HOST") else environment,
                          key_id, private_key, ws_host)


def _checked_pem(raw: str) -> str:
    """The PEM with real newlines; never echoes the value (it may be a real key with a typo)."""
    pem = raw.replace("\\n", "\n").strip() + "\n"
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    try:
        key = serialization.load_pem_private_key(pem.encode(), password=None)
    except (ValueError, TypeError):
        raise SettingsError("KALSHI_PRIVATE_KEY is malformed: expected the RSA private key Kalshi's key page "
                            "downloads, in PEM (-----BEGIN ... PRIVATE KEY-----), unencrypted, with its newlines "
                            "written as \\n on one line of .env.") from None
    if not isinstance(key, rsa.RSAPrivateKey):
        raise SettingsError("KALSHI_PRIVATE_KEY is not an RSA key: Kalshi signs requests with RSA-PSS.")
    return pem
