"""Kalshi's official SDK client, as the desk makes one: every request bounded by a timeout."""

from __future__ import annotations

from typing import Any

TIMEOUT_S = 10.0


def kalshi_client(host: str, key_id: str | None = None, private_pem: str | None = None,
                  timeout_s: float = TIMEOUT_S) -> Any:
    """A `KalshiClient` for the Trade API at `host`, signing with the key when one is given (market
    data is public without), each request bounded by `timeout_s`."""
    from kalshi_python_sync import Configuration, KalshiClient

    config = Configuration(host=host)
    if key_id is not None and private_pem is not None:
        config.api_key_id = key_id
        config.private_key_pem = private_pem
    client = KalshiClient(config)
    bound_requests(client, timeout_s)
    return client


def bound_requests(client: Any, timeout_s: float) -> None:
    """Every request of an SDK client bounded by `timeout_s` (it sends none by default, and its API
    methods do not all take one)."""
    rest = client.rest_client
    send = rest.request

    def request(*args: Any, _request_timeout: Any = None, **kwargs: Any) -> Any:
        return send(*args, _request_timeout=_request_timeout or timeout_s, **kwargs)

    rest.request = request
