"""Every knob of the simulator in one frozen dataclass.

The CLI (``__main__``), the test harness (``testing.py``) and the environment all
build a :class:`SimConfig`; nothing else reads flags or env vars.
"""

from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass, field, fields
from typing import Any, Mapping

DEFAULT_PORT = 7788
DEFAULT_SEED = 42
# "Far future": a market revived from the seed data ends 30 days after startup.
DEFAULT_END_AFTER_S = 30 * 24 * 3600.0
ERROR_CODES = (425, 429, 500, 503)


@dataclass(frozen=True)
class FaultConfig:
    """Fault injection, all off by default (rates are probabilities in [0, 1])."""

    latency_ms: float = 0.0
    error_rate: float = 0.0
    error_codes: tuple[int, ...] = ERROR_CODES
    error_scope: str = "orders"  # "orders" (order endpoints) or "all" (every CLOB/Gamma route)
    timeout_rate: float = 0.0  # POST /order(s): process, then hold the response
    timeout_hold_s: float = 6.0  # > the 5 s default timeout of the client's httpx.Client
    ws_drop_every: int = 0  # close a WS connection after this many messages (0 = never)
    ws_drop_every_s: float = 0.0  # close every WS connection this often (0 = never)
    ws_dup_rate: float = 0.0
    ws_reorder_rate: float = 0.0

    def with_updates(self, updates: Mapping[str, Any]) -> "FaultConfig":
        """Return a copy with ``updates`` applied; unknown keys raise ``ValueError``."""
        known = {f.name: f.type for f in fields(self)}
        clean: dict[str, Any] = {}
        for key, value in updates.items():
            if key not in known:
                raise ValueError(f"unknown fault {key!r}")
            clean[key] = _coerce_fault(key, value)
        return dataclasses.replace(self, **clean)

    def as_dict(self) -> dict[str, Any]:
        out = dataclasses.asdict(self)
        out["error_codes"] = list(self.error_codes)
        return out


def _coerce_fault(key: str, value: Any) -> Any:
    if key == "error_codes":
        if isinstance(value, str):
            value = [v for v in value.split(",") if v.strip()]
        return tuple(int(v) for v in value)
    if key == "error_scope":
        if value not in ("orders", "all"):
            raise ValueError("error_scope must be 'orders' or 'all'")
        return value
    if key == "ws_drop_every":
        return int(value)
    return float(value)


@dataclass(frozen=True)
class SimConfig:
    """All simulator settings; times are seconds, money is human units (pUSD)."""

    host: str = "127.0.0.1"
    port: int = DEFAULT_PORT
    seed: int = DEFAULT_SEED
    markets: int = 10  # live markets revived from data/markets.json
    starting_balance: str = "10000"  # pUSD credited to any new account
    resolve_after_s: float | None = None  # None: markets end DEFAULT_END_AFTER_S after start
    mined_delay_s: float = 1.0
    confirmed_delay_s: float = 2.0  # after MINED
    fail_rate: float = 0.0  # fraction of trades that end FAILED (ghost fills)
    agents: bool = True
    prefill_books: bool = True  # initial resting liquidity, even without agents
    agent_interval_s: float = 0.5
    heartbeat_timeout_s: float = 10.0
    ws_idle_timeout_s: float = 30.0
    auth_max_skew_s: float = 300.0  # L1/L2 POLY_TIMESTAMP tolerance
    gtd_buffer_s: float = 60.0  # GTD must expire later than now + this; expires this early
    page_size: int = 100  # /data/orders, /data/trades, /markets
    max_batch: int = 15  # POST /orders
    history_interval_s: float = 10.0  # mid sampling for /prices-history
    history_backfill_s: float = 24 * 3600.0  # synthetic past history at startup
    faults: FaultConfig = field(default_factory=FaultConfig)

    @property
    def end_after_s(self) -> float:
        return self.resolve_after_s if self.resolve_after_s is not None else DEFAULT_END_AFTER_S

    def with_updates(self, updates: Mapping[str, Any]) -> "SimConfig":
        """Apply overrides; fault keys may be given flat (``error_rate=0.5``)."""
        top = {f.name for f in fields(self)}
        fault_names = {f.name for f in fields(FaultConfig)}
        plain: dict[str, Any] = {}
        fault_updates: dict[str, Any] = {}
        for key, value in updates.items():
            if key == "faults" and isinstance(value, Mapping):
                fault_updates.update(value)
            elif key == "faults" and isinstance(value, FaultConfig):
                plain[key] = value
            elif key in fault_names:
                fault_updates[key] = value
            elif key in top:
                plain[key] = value
            else:
                raise ValueError(f"unknown simulator setting {key!r}")
        cfg = dataclasses.replace(self, **plain)
        if fault_updates:
            cfg = dataclasses.replace(cfg, faults=cfg.faults.with_updates(fault_updates))
        return cfg


# env var -> (setting name, parser); faults use the same names as their CLI flags.
ENV_VARS: dict[str, tuple[str, Any]] = {
    "SIMULATOR_PORT": ("port", int),
    "SIMULATOR_SEED": ("seed", int),
    "SIMULATOR_MARKETS": ("markets", int),
    "SIMULATOR_STARTING_BALANCE": ("starting_balance", str),
    "SIMULATOR_RESOLVE_AFTER": ("resolve_after_s", float),
    "SIMULATOR_MINED_DELAY": ("mined_delay_s", float),
    "SIMULATOR_CONFIRMED_DELAY": ("confirmed_delay_s", float),
    "SIMULATOR_FAIL_RATE": ("fail_rate", float),
    "SIMULATOR_HEARTBEAT_TIMEOUT": ("heartbeat_timeout_s", float),
    "SIMULATOR_WS_IDLE_TIMEOUT": ("ws_idle_timeout_s", float),
    "SIMULATOR_LATENCY_MS": ("latency_ms", float),
    "SIMULATOR_ERROR_RATE": ("error_rate", float),
    "SIMULATOR_ERROR_CODES": ("error_codes", str),
    "SIMULATOR_ERROR_SCOPE": ("error_scope", str),
    "SIMULATOR_TIMEOUT_RATE": ("timeout_rate", float),
    "SIMULATOR_TIMEOUT_HOLD": ("timeout_hold_s", float),
    "SIMULATOR_WS_DROP_EVERY": ("ws_drop_every", int),
    "SIMULATOR_WS_DROP_EVERY_S": ("ws_drop_every_s", float),
    "SIMULATOR_WS_DUP_RATE": ("ws_dup_rate", float),
    "SIMULATOR_WS_REORDER_RATE": ("ws_reorder_rate", float),
}


def env_overrides(environ: Mapping[str, str] | None = None) -> dict[str, Any]:
    """Settings found in the environment, already parsed."""
    env = os.environ if environ is None else environ
    out: dict[str, Any] = {}
    for var, (name, parse) in ENV_VARS.items():
        raw = env.get(var)
        if raw not in (None, ""):
            out[name] = parse(raw)
    if env.get("SIMULATOR_NO_AGENTS", "") not in ("", "0", "false"):
        out["agents"] = False
    return out
