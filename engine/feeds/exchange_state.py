"""An exchange's trading status and its scheduled pauses, as the desk last read them: whether
trading is active now (or the whole exchange, cancels included), when it expects to resume, and the
pause windows ahead. A venue whose policy announces pauses (contracts/venue_policies.py) has a watch
that reads it (engine/venues/kalshi/exchange.py); the trading side holds that venue's new orders
around a pause (engine/trading/ledgers/exchange_pauses.py)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

LEAD_MS = 60_000  # the desk's quotes on the exchange are withdrawn this long before a scheduled pause


@dataclass(frozen=True)
class ExchangeState:
    read_ms: int | None = None  # when the status was last read (None: never)
    trading_active: bool = True
    exchange_active: bool = True
    resume_ms: int | None = None  # the exchange's estimate, while paused
    windows: tuple[tuple[int, int], ...] = ()  # scheduled pauses not over yet, (start, end) epoch ms
    error: str | None = None  # the last failed read, until one succeeds

    @property
    def paused(self) -> bool:
        return not self.trading_active

    def next_window(self, now: int) -> tuple[int, int] | None:
        return next((w for w in self.windows if w[1] > now), None)

    def near(self, now: int, lead_ms: int = LEAD_MS) -> tuple[int, int] | None:
        """The scheduled window the desk is within `lead_ms` of (or in), if any."""
        window = self.next_window(now)
        return window if window is not None and window[0] - lead_ms <= now else None

    def as_json(self, now: int) -> dict[str, object]:
        """What the engine state keeps of it (engine_state, migration 0056): for `engine status`, the dashboard."""
        window = self.next_window(now)
        return {"read_at": self.read_ms, "trading_active": self.trading_active,
                "exchange_active": self.exchange_active, "resume_at": self.resume_ms,
                "next_pause": list(window) if window else None, "error": self.error}


def said_when(ms: int | None) -> str:
    """A moment as the desk's messages about pauses say it."""
    return "?" if ms is None else datetime.fromtimestamp(ms / 1000, UTC).strftime("%a %Y-%m-%d %H:%M UTC")
