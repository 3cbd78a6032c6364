"""The configuration tables read (and seeded) for the engine: `risk_limits`, `strategy_limits` and
`settings`. The rows come out as stored; what they mean, and what is wrong with them, is the
contracts' to say (contracts/limits.py, strategy_limits.py, runtime_settings.py), so the
dashboard and the engine judge a stored value the same way. The dashboard's writes of the same
tables are config.py's."""

from __future__ import annotations

import json
from collections.abc import Mapping
from decimal import Decimal

from sqlalchemy import Connection, text

from contracts import limits, runtime_settings, strategy_limits
from contracts.limits import Limits
from contracts.runtime_settings import RuntimeConfig
from storage.sqlite.db import now_ms


def ensure_limit_defaults(conn: Connection) -> int:
    """A row for every risk limit that has none (never overwrites an operator's value)."""
    now = now_ms()
    inserted = 0
    for spec in limits.LIMITS:
        inserted += conn.execute(
            text("""INSERT INTO risk_limits (name, value, version, updated_at, updated_by)
                    VALUES (:name, :value, 1, :now, 'defaults') ON CONFLICT (name) DO NOTHING"""),
            {"name": spec.name, "value": str(spec.default), "now": now},
        ).rowcount
    return inserted


def ensure_setting_defaults(conn: Connection) -> None:
    """A row for every runtime setting that has none."""
    now = now_ms()
    for spec in runtime_settings.SETTINGS:
        conn.execute(text("""INSERT INTO settings (key, value, version, updated_at, updated_by)
                             VALUES (:k, :v, 1, :now, 'defaults') ON CONFLICT (key) DO NOTHING"""),
                     {"k": spec.key, "v": json.dumps(spec.default), "now": now})


def load_limits(conn: Connection, in_force: Mapping[str, Decimal]) -> tuple[Limits, list[str], frozenset[str]]:
    """The risk limits, their problems and the limits with no valid value (limits.checked)."""
    return limits.checked(dict(conn.execute(text("SELECT name, value FROM risk_limits")).all()), in_force)


def load_strategy_limits(conn: Connection) -> tuple[dict[str, Limits], list[str], dict[str, str]]:
    """Every strategy's limits, their problems and the strategies disabled by them."""
    rows = conn.execute(text("SELECT strategy, name, value FROM strategy_limits")).all()
    return strategy_limits.checked((str(s), str(n), str(v)) for s, n, v in rows)


def load_settings(conn: Connection, fallback: RuntimeConfig | None = None) -> tuple[RuntimeConfig, list[str]]:
    """The runtime settings and what is wrong with the stored ones (runtime_settings.checked)."""
    return runtime_settings.checked(dict(conn.execute(text("SELECT key, value FROM settings")).all()), fallback)


def load_runtime_config(conn: Connection) -> RuntimeConfig:
    return load_settings(conn)[0]
