"""Engine settings that the operator edits from the dashboard (the `settings` table).

Unlike `.env` (hosts and secrets, read at process start), these apply on `reload_config`.
Values are JSON; each key has a type, bounds, a default and help text, and missing keys
get their defaults when the engine starts.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, text

from storage.db import now_ms
from storage.jsonsafe import CONFIG_BYTES, JsonRefused, loads_bounded


@dataclass(frozen=True)
class SettingSpec:
    key: str
    title: str
    kind: type
    default: Any
    minimum: float | None
    maximum: float | None
    unit: str
    help: str


SETTINGS: tuple[SettingSpec, ...] = (
    SettingSpec("paper_starting_cash", "Paper starting cash", float, 10_000.0, 0, 1e9, "USDC",
                "Cash the paper ledger starts with (applies to a fresh paper ledger)."),
    SettingSpec("tick_interval_ms", "Decision interval", int, 500, 50, 60_000, "ms",
                "How often strategies are asked for intents."),
    SettingSpec("snapshot_interval_s", "Portfolio snapshot interval", int, 60, 5, 3600, "s",
                "How often equity, PnL and exposure are recorded for the charts."),
    SettingSpec("market_refresh_minutes", "Market refresh interval", int, 5, 1, 1440, "min",
                "How often discovered markets are refreshed from Gamma."),
    SettingSpec("paper_mined_after_ms", "Paper settlement delay", int, 2_000, 0, 600_000, "ms",
                "A paper fill moves from MATCHED (pending) to MINED (settled) after this long."),
    SettingSpec("paper_fail_rate", "Paper ghost-fill rate", float, 0.0, 0.0, 1.0, "fraction",
                "Share of paper fills whose settlement fails (FAILED reverses them), to rehearse ghost fills."),
    SettingSpec("venue_heartbeat_s", "Venue heartbeat (dead-man switch)", int, 5, 0, 8, "s",
                "Live: how often the engine tells the venue it is alive; if ~10 s pass without one (a crash, a "
                "freeze, a lost network) the venue cancels every resting order. 0 turns it off (not advised)."),
    SettingSpec("venue_sync_s", "Venue order sync interval", int, 5, 1, 300, "s",
                "Live: how often open orders are checked against the venue's (closing orders it no longer "
                "has, importing ones it has that the engine does not know)."),
    SettingSpec("alert_feed_down_s", "Alert: feed or venue down for", int, 30, 5, 3600, "s",
                "Raise FEED_DOWN when the market feed has delivered nothing, or VENUE_UNREACHABLE when the venue "
                "has not answered, for this long (and again when it is back)."),
    SettingSpec("alert_refusal_burst", "Alert: refusals in a minute", int, 5, 0, 1000, "orders",
                "Raise REFUSAL_BURST when the venue refuses this many orders within a minute. 0 turns it off."),
    SettingSpec("alert_low_collateral_usdc", "Alert: collateral below", float, 0.0, 0.0, 1e9, "USDC",
                "Raise LOW_COLLATERAL when the wallet's collateral (paper: the ledger's cash) falls below this. "
                "0 turns it off."),
    SettingSpec("alert_large_fill_usdc", "Alert: a fill larger than", float, 0.0, 0.0, 1e9, "USDC",
                "Raise LARGE_FILL for any single fill worth at least this. 0 turns it off."),
    SettingSpec("reference_feed_url", "Reference price feed", str, "", None, None, "ws:// URL",
                "Optional WebSocket sending {condition_id, price} for market making's reference fair value."),
    SettingSpec("decisions_retention_days", "Decisions log retention", int, 7, 1, 365, "days",
                "Risk-gate decisions older than this are pruned."),
    SettingSpec("record_depth", "Recorded book depth", int, 10, 1, 100, "levels",
                "Levels per side kept in recorded book snapshots."),
    SettingSpec("record_retention_days", "Recorded data retention", int, 30, 1, 3650, "days",
                "Recorded ticks older than this are pruned."),
)
BY_KEY: Mapping[str, SettingSpec] = {s.key: s for s in SETTINGS}


class SettingError(ValueError):
    pass


def parse_setting(spec: SettingSpec, raw: Any) -> Any:
    """Validate one value; the message names the setting, the unit and the bounds."""
    try:
        value = spec.kind(raw)
    except (TypeError, ValueError, OverflowError):  # OverflowError: int(float("inf"))
        raise SettingError(f"{spec.title}: {raw!r} is not a valid {spec.kind.__name__}") from None
    if spec.kind is str:
        if value and spec.key.endswith("_url") and not value.startswith(("ws://", "wss://")):
            raise SettingError(f"{spec.title}: must start with ws:// or wss://")
        return value
    # float("nan") parses and fails every comparison, so the bounds below would let it through.
    if isinstance(value, float) and not math.isfinite(value):
        raise SettingError(f"{spec.title}: must be a finite number, not {raw!r}")
    if spec.minimum is not None and value < spec.minimum or spec.maximum is not None and value > spec.maximum:
        raise SettingError(f"{spec.title}: must be between {spec.minimum:g} and {spec.maximum:g} {spec.unit}")
    return value


@dataclass(frozen=True)
class RuntimeConfig:
    values: Mapping[str, Any]

    def __getitem__(self, key: str) -> Any:
        return self.values[key]


def ensure_defaults(conn: Connection) -> None:
    now = now_ms()
    for spec in SETTINGS:
        conn.execute(text("""INSERT INTO settings (key, value, version, updated_at, updated_by)
                             VALUES (:k, :v, 1, :now, 'defaults') ON CONFLICT (key) DO NOTHING"""),
                     {"k": spec.key, "v": json.dumps(spec.default), "now": now})


def load(conn: Connection) -> RuntimeConfig:
    return load_with_problems(conn)[0]


def load_with_problems(conn: Connection, fallback: RuntimeConfig | None = None) -> tuple[RuntimeConfig, list[str]]:
    """Current settings, and what is wrong with the stored ones: an invalid stored value keeps
    the value in force before (`fallback`) or else the default, and is reported, never
    silently replaced."""
    rows = dict(conn.execute(text("SELECT key, value FROM settings")).all())
    values: dict[str, Any] = {}
    problems: list[str] = []
    for spec in SETTINGS:
        raw = rows.get(spec.key)
        try:
            values[spec.key] = spec.default if raw is None else parse_setting(
                spec, loads_bounded(raw, max_bytes=CONFIG_BYTES, max_depth=2, what=spec.title))
        except (SettingError, JsonRefused) as exc:
            kept = fallback.values[spec.key] if fallback is not None else spec.default
            source = "the value in force before" if fallback is not None else "the default"
            problems.append(f"setting {spec.key}: stored {str(raw)[:40]!r} is invalid ({exc}); using {source}, "
                            f"{kept!r}, until it is fixed on the Settings page")
            values[spec.key] = kept
    return RuntimeConfig(values), problems
