"""An aiohttp session opened at its first use (on the loop that uses it: a session belongs to
one event loop) and closed once; opened again if used after it was closed."""

from __future__ import annotations

from collections.abc import Callable

import aiohttp


class LazySession:
    def __init__(self, make: Callable[[], aiohttp.ClientSession]) -> None:
        self._make = make
        self._session: aiohttp.ClientSession | None = None

    def get(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            self._session = self._make()
        return self._session

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None
