"""The account's location attestation where it bites: Kalshi's changelog of 2026-08-16 says that once it
has passed, "API keys are not valid for trading Sports, Elections, and Entertainment markets"
(contracts/venues/kalshi/keys.py RESTRICTED; an account that never attested is read the same way). So the
live venue reads the attestation (`GET /api_keys`) at its start and every KEY_S, and while it is lapsed
it holds its orders in markets of those categories (a market's series' `categories`, read once per
market, in the background, only while it matters) instead of sending what Kalshi would refuse. Every
other market trades on. The operator is told by the key's own alert (engine/venues/kalshi/pairs.py).
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field

from contracts.venues.kalshi.keys import RENEW, KeyVerdict, restricted
from engine.venues.kalshi.client import KalshiClient
from engine.venues.kalshi.key_watch import KEY_S, verdict_of

log = logging.getLogger("engine.venues.kalshi.attestation")


@dataclass
class LocationCheck:
    client: KalshiClient
    key_id: str
    verdict: KeyVerdict | None = None
    read_ms: int | None = None
    categories: dict[str, tuple[str, ...]] = field(default_factory=dict)  # ticker -> its series' categories
    _reading: dict[str, asyncio.Task[None]] = field(default_factory=dict)

    def due(self, now_ms: int) -> bool:
        return self.read_ms is None or now_ms - self.read_ms >= KEY_S * 1000

    async def refresh(self, now_ms: int) -> None:
        self.verdict = verdict_of(self.key_id, await self.client.api_keys(), now_ms)
        self.read_ms = now_ms

    def holds(self, tickers: list[str], now_ms: int) -> dict[str, str]:
        """The tickers whose orders Kalshi refuses now (their category) or may (not read yet), with why."""
        if self.verdict is None or not self.verdict.barred:
            return {}
        out = {}
        for ticker in tickers:
            found = self.categories.get(ticker)
            if found is None:
                self._learn(ticker)
                out[ticker] = (f"{self.verdict.words(now_ms)}, and Kalshi refuses such a key's orders in Sports, "
                               f"Elections and Entertainment markets: {ticker}'s category is being read")
            elif barred := restricted(found):
                out[ticker] = (f"{self.verdict.words(now_ms)}: Kalshi refuses the key's orders in {', '.join(barred)} "
                               f"markets such as {ticker} until it is renewed ({RENEW})")
        return out

    def _learn(self, ticker: str) -> None:
        if ticker in self._reading and not self._reading[ticker].done():
            return

        async def read() -> None:
            try:
                market = await self.client.market(ticker)
                event = await self.client.event(market.event_ticker)
                self.categories[ticker] = (await self.client.series(event.series_ticker)).categories
            except Exception as exc:  # noqa: BLE001  (asked again at the next pass)
                log.warning("a Kalshi market's category could not be read", extra={"ticker": ticker,
                                                                                    "error": str(exc)})

        try:
            self._reading[ticker] = asyncio.get_running_loop().create_task(read(), name="kalshi-category")
        except RuntimeError:
            pass
