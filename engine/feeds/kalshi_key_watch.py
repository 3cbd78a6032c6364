"""The account's Kalshi key as Kalshi describes it (`GET /api_keys`, signed), read every KEY_S while the
desk has a Kalshi key: its scopes, a subaccount restriction, and when the account's location
attestation expires (contracts/kalshi_keys.py judges it). `on_change` is told each time the verdict
changes (ok, expiring within the warning window, lapsed, never made), so the desk alerts the operator
before Kalshi stops taking its orders (engine/venues/kalshi_pairs.py raises the alert).

A read that fails leaves the last verdict and is tried again at the next round.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

from contracts.kalshi_keys import KeyVerdict, judge
from contracts.kalshi_settings import KalshiSettings
from engine.feeds import kalshi_models as models
from engine.feeds.kalshi_client import KalshiClient
from engine.feeds.kalshi_fixed import KalshiShapeError
from engine.feeds.kalshi_http import KalshiError
from storage.sqlite.db import now_ms

log = logging.getLogger("engine.feeds.kalshi_key_watch")
KEY_S = 3600.0  # an attestation is months long and warned two weeks ahead: hourly is plenty


def verdict_of(key_id: str, keys: models.ApiKeys, now: int) -> KeyVerdict:
    return judge(key_id, [(k.key_id, k.scopes, k.subaccount) for k in keys.keys], keys.attestation_expires_ms, now)


class KalshiKeyWatch:
    def __init__(self, settings: KalshiSettings, *, on_change: Callable[[KeyVerdict], None],
                 clock_ms: Callable[[], int] = now_ms, every_s: float = KEY_S) -> None:
        assert settings.api_key_id is not None and settings.private_key is not None
        self.key_id = settings.api_key_id
        self.client = KalshiClient.at(settings.host, settings.api_key_id, settings.private_key.reveal())
        self.on_change = on_change
        self.clock_ms = clock_ms
        self.every_s = every_s
        self.verdict: KeyVerdict | None = None
        self.last_error: str | None = None
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._run(), name="kalshi-key")

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
            self._task = None
        await self.client.close()

    async def _run(self) -> None:
        while True:
            await self.read_once()
            await asyncio.sleep(self.every_s)

    async def read_once(self) -> KeyVerdict | None:
        try:
            verdict = verdict_of(self.key_id, await self.client.api_keys(), self.clock_ms())
        except (KalshiError, KalshiShapeError) as exc:
            self.last_error = f"{type(exc).__name__}: {exc}"[:300]
            log.warning("Kalshi's API keys could not be read", extra={"error": self.last_error})
            return self.verdict
        self.last_error = None
        if verdict != self.verdict:
            self.verdict = verdict
            self.on_change(verdict)
        return verdict
