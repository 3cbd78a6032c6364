"""Kalshi's exchange as the engine last read it, for the dashboard: paused now (until about when), the
next scheduled pause, and a pause that just ended by itself. Read-only: the engine writes
engine_state.kalshi_exchange (engine/venues/kalshi/pairs.py, migration 0056) and alerts a pause's
start and end (KALSHI_PAUSED / KALSHI_RESUMED); this reads both.

Times are epoch ms UTC; the page says them in US Eastern (Kalshi's) and the trader's own zone.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import text

from contracts.jsonsafe import read_stored
from storage.sqlite.db import Database, now_ms

RESUMED_SHOWN_MS = 3_600_000  # a pause that ended is said for an hour after (then the next pause is)
_PAUSE_ALERTS = """SELECT code, created_at FROM alerts
                   WHERE created_at >= :since AND code IN ('KALSHI_PAUSED', 'KALSHI_RESUMED')
                   ORDER BY created_at DESC, id DESC LIMIT 2"""


@dataclass(frozen=True)
class KalshiExchange:
    read_at: int | None  # when the engine last read Kalshi's status (None: never)
    trading_active: bool
    exchange_active: bool
    resume_at: int | None  # Kalshi's estimate of the end of the pause on now
    next_pause: tuple[int, int] | None  # the next scheduled window (start, end)
    error: str | None  # the engine's last failed read, or why the stored state could not be read
    resumed_at: int | None = None  # a pause that ended within RESUMED_SHOWN_MS: when it ended
    paused_at: int | None = None  # when the pause on now (or the one that just ended) began

    @property
    def paused(self) -> bool:
        return not self.trading_active


def kalshi_exchange(db: Database, *, now: int | None = None) -> KalshiExchange | None:
    """What the engine last read of Kalshi's exchange (None: it never read it, e.g. no strategy trades
    Kalshi). A stored state that cannot be read is said as the error, never guessed."""
    now = now_ms() if now is None else now
    with db.read() as conn:
        raw = conn.execute(text("SELECT kalshi_exchange FROM engine_state WHERE id = 1")).scalar()
        alerts = conn.execute(text(_PAUSE_ALERTS), {"since": now - 7 * 86_400_000}).all()
    stored, problem = read_stored(raw, what="Kalshi's stored exchange state")
    if problem is not None or (stored is not None and not isinstance(stored, dict)):
        problem = problem or "Kalshi's stored exchange state is not an object"
        return KalshiExchange(None, True, True, None, None, problem)
    if not stored or stored.get("read_at") is None and not stored.get("error"):
        return None
    paused_at = next((at for code, at in alerts if code == "KALSHI_PAUSED"), None)
    resumed_at = alerts[0][1] if alerts and alerts[0][0] == "KALSHI_RESUMED" else None
    if resumed_at is not None and now - resumed_at > RESUMED_SHOWN_MS:
        resumed_at = None
    return KalshiExchange(_int(stored.get("read_at")), stored.get("trading_active") is not False,
                          stored.get("exchange_active") is not False, _int(stored.get("resume_at")),
                          _window(stored.get("next_pause")), _text(stored.get("error")), resumed_at, paused_at)


def _int(value: object) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _text(value: object) -> str | None:
    return str(value)[:300] if value else None


def _window(value: object) -> tuple[int, int] | None:
    if isinstance(value, list) and len(value) == 2 and all(_int(v) is not None for v in value):
        return value[0], value[1]
    return None
