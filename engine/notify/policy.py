"""What the notifier sends, decided without I/O: which alerts notify, which repeats and floods are
held back, how each message reads, when the daily summary is due, how long to wait to retry."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from storage.sqlite.lite import utc_day_start

HOUR_MS = 3_600_000
DAY_MS = 86_400_000
# An alert read more than an hour after it was raised (the engine was down, or NOTIFY_URLS was
# only just set) is history, not news: it is counted in the next message, not sent on its own.
STALE_MS = HOUR_MS
# A failing destination must not feed itself: its own alerts are never notified.
NEVER_NOTIFIED = frozenset({"NOTIFY_FAILED", "NOTIFY_CONFIG"})
ATTEMPTS = 4  # per message: the first try and three retries
BACKOFF_S = 2.0  # 2 s, 4 s, 8 s between them
BACKOFF_CAP_S = 300.0
STALE_KEY = "older than an hour when read"
# apprise's NotifyType values: the message's icon or colour where the service has one.
NOTIFY_TYPE = {"info": "info", "warning": "warning", "critical": "failure"}


class Verdict(StrEnum):
    SEND = "send"
    FILTERED = "filtered"  # the operator chose not to hear of it (level, muted code)
    DUPLICATE = "duplicate"  # the same code and message went out within the repeat window
    RATE_CAPPED = "rate_capped"  # the hour's allowance is spent
    STALE = "stale"


HELD_BACK = frozenset({Verdict.DUPLICATE, Verdict.RATE_CAPPED, Verdict.STALE})


@dataclass(frozen=True)
class Rules:
    levels: frozenset[str]
    muted: frozenset[str]
    dedup_ms: int
    max_per_hour: int
    summary_at: str  # "HH:MM[:SS]" UTC, or "" for none

    @classmethod
    def from_config(cls, values: Mapping[str, Any]) -> Rules:
        """From the settings the engine loaded (contracts/runtime_settings.py validated them)."""
        return cls(
            levels=frozenset(v for v in str(values["notify_levels"]).split(",") if v),
            muted=frozenset(v for v in str(values["notify_muted_codes"]).split(",") if v),
            dedup_ms=int(values["notify_dedup_minutes"]) * 60_000,
            max_per_hour=int(values["notify_max_per_hour"]),
            summary_at=str(values["notify_summary_utc"]),
        )


@dataclass(frozen=True)
class AlertRow:
    id: int
    created_at: int
    level: str
    source: str
    code: str
    message: str
    subject: str | None = None  # what it is about, when its message varies (storage/desk/audit.py)


def dedup_key(code: str, message: str, subject: str | None = None) -> str:
    """Repeats are the same code about the same subject (or, without one, the same message)."""
    return f"{code}|@{subject}"[:500] if subject else f"{code}|{message}"[:500]


def judge(alert: AlertRow, rules: Rules, *, now: int, repeated: bool, sent_last_hour: int) -> Verdict:
    """`repeated`: a message with the same dedup key went out within the repeat window;
    `sent_last_hour`: alert messages queued in the last hour (whatever became of them)."""
    if alert.code in NEVER_NOTIFIED or alert.level not in rules.levels or alert.code in rules.muted:
        return Verdict.FILTERED
    if now - alert.created_at > STALE_MS:
        return Verdict.STALE
    if repeated and rules.dedup_ms > 0:
        return Verdict.DUPLICATE
    if sent_last_hour >= rules.max_per_hour:
        return Verdict.RATE_CAPPED
    return Verdict.SEND


def held_back_key(alert: AlertRow, verdict: Verdict) -> str:
    return STALE_KEY if verdict is Verdict.STALE else alert.code


def held_back_note(held: Mapping[str, int]) -> str:
    """The line the next message carries about what was held back since the previous one."""
    total = sum(held.values())
    if not total:
        return ""
    parts = ", ".join(f"{n} {key}" for key, n in sorted(held.items(), key=lambda kv: (-kv[1], kv[0])))
    return (f"Held back since the last message: {total} alert{'s' if total != 1 else ''} ({parts}): repeats "
            "within the repeat window or over the hourly cap. `python -m engine alerts` lists them all.")


def _utc(at_ms: int) -> str:
    return datetime.fromtimestamp(at_ms / 1000, tz=UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def alert_message(alert: AlertRow, host: str, held: Mapping[str, int]) -> tuple[str, str]:
    title = f"{alert.level.upper()} {alert.code} · desk on {host}"
    lines = [alert.message, f"({alert.source}, {_utc(alert.created_at)}, alert #{alert.id})"]
    note = held_back_note(held)
    return title, "\n".join(lines + ([note] if note else []))


def probe_message(host: str, actor: str, text: str | None, now: int) -> tuple[str, str]:
    body = text or "If you can read this, the desk's notifications reach you."
    return f"Test message · desk on {host}", f"{body}\n(sent by {actor}, {_utc(now)})"


def backoff_s(attempt: int) -> float:
    """Seconds to wait after failed attempt number `attempt` (1, 2, ...): doubling, capped."""
    return min(BACKOFF_CAP_S, BACKOFF_S * 2 ** (attempt - 1))


def summary_slot(now: int, at: str) -> int | None:
    """Today's moment (epoch ms) for the summary at `at` ("HH:MM[:SS]" UTC), or None if none."""
    if not at:
        return None
    hours, minutes, *seconds = (int(part) for part in at.split(":"))
    return utc_day_start(now) + ((hours * 60 + minutes) * 60 + (seconds[0] if seconds else 0)) * 1000


def summary_due(now: int, at: str, last_at: int | None) -> int | None:
    """The slot to send the summary for, when today's has come and none went out since it."""
    slot = summary_slot(now, at)
    if slot is None or now < slot or (last_at is not None and last_at >= slot):
        return None
    return slot


def _money(value: float | None, sign: bool = False) -> str:
    return "—" if value is None else (f"{value:+,.2f}" if sign else f"{value:,.2f}")


STRATEGY_LINES = 15


def _less(value: float | None, fees: float | None) -> float | None:
    """A figure after fees (None when either is unknown: no snapshot yet)."""
    return None if value is None or fees is None else value - fees


def summary_message(data: Mapping[str, Any], host: str, held: Mapping[str, int],
                    strategies: Sequence[Mapping[str, Any]] = ()) -> tuple[str, str]:
    """The daily summary: `data` as storage reads it (storage/engine_stores/notify_sources.py: summary_data),
    with a line for each of `strategies` (those the operator chose to hear of in it)."""
    title = f"Daily summary · desk on {host} ({data['mode']})"
    state = f"{data['state']}, trading {data['trading_state']}" + (", KILL LATCHED" if data["kill_latched"] else "")
    levels = data["alerts_by_level"]
    alerts = ", ".join(f"{levels[k]} {k}" for k in ("critical", "warning", "info") if levels.get(k)) or "none"
    codes = ", ".join(f"{code} ×{n}" for code, n in data["alert_codes"])
    lines = [
        f"Engine: {state}",
        f"Equity: {_money(data['equity'])} pUSD ({_money(data['pnl_24h'], True)} in the last 24 h; "
        f"realized after fees {_money(_less(data['realized_24h'], data['fees_24h']), True)}, "
        f"fees {_money(data['fees_24h'])})",
        f"Fills in 24 h: {data['fills']} ({_money(data['fill_volume'])} pUSD traded, "
        f"{_money(data['fill_fees'])} pUSD fees)",
        f"Open: {data['open_orders']} orders, {data['positions']} positions",
        f"Alerts in 24 h: {alerts}" + (f" ({codes})" if codes else ""),
        f"Not acknowledged: {data['unacked_alerts']}",
    ]
    if strategies:
        lines.append("Per strategy (realized after fees, and the fees, to date, pUSD):")
        lines += [f"  {s['strategy']}: realized {_money(s['pnl_usdc'], True)}, fees {_money(s['fees_usdc'])}, "
                  f"{s['positions']} positions, {s['open_orders']} orders" for s in strategies[:STRATEGY_LINES]]
        if len(strategies) > STRATEGY_LINES:
            lines.append(f"  … and {len(strategies) - STRATEGY_LINES} more (Strategies page)")
    note = held_back_note(held)
    return title, "\n".join(lines + ([note] if note else []))
