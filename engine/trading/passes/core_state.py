"""What the trading core reads and prepares at start-up: defaults, the paper deposit, the
operator's deliberate reset of a halt, and the current limits, settings and risk memory."""

from __future__ import annotations

from dataclasses import dataclass, field

from contracts import runtime_settings as runtime_config
from contracts.domain import MICRO
from contracts.limits import Limits
from engine.risk import breakers
from engine.risk.gate import TradingState
from storage.desk.audit import raise_alert, write_audit
from storage.engine_stores import config_reads, quarantine_store, trading_reads
from storage.sqlite.db import Database, now_ms

# Halts an operator's Start clears (after looking into them). Other states end their own
# way (engine/risk/breakers.py): a daily loss at 00:00 UTC or by raising its limit, a
# drawdown when equity recovers, a kill-switch halt by the operator's re-arm.
CLEARED_BY_START = frozenset({breakers.ERROR_RATE, breakers.BALANCE_MISMATCH, breakers.DECISIONS_FAILING,
                              breakers.VENUE_REFUSING, breakers.REGION_CLOSE_ONLY, breakers.REGION_BLOCKED})


def current_mode(db: Database) -> str:
    with db.read() as conn:
        return trading_reads.engine_mode(conn)


def current_armed_modes(db: Database) -> dict[str, str]:
    """The arming of each venue armed on its own (contracts/venue_policies.py `venues_armed_alone`),
    by venue: 'paper' until the operator arms it live (engine/process/control.py)."""
    with db.read() as conn:
        return trading_reads.armed_modes(conn)


@dataclass(frozen=True)
class Loaded:
    limits: Limits
    config: runtime_config.RuntimeConfig
    memory: breakers.RiskMemory
    problems: tuple[str, ...]  # stored values that did not validate (each kept its previous value)
    strategy_limits: dict[str, Limits] = field(default_factory=dict)
    # Risk limits stored invalid with no valid value in force to keep: trading halts until fixed.
    unkept_limits: frozenset[str] = frozenset()
    # Strategies with a stored limit that does not validate (name -> why): disabled, never run
    # on a default that may be wider than what the operator set.
    invalid_strategies: dict[str, str] = field(default_factory=dict)


def load_all(db: Database, current: Loaded | None = None) -> Loaded:
    """Limits, settings and risk memory; an invalid stored value keeps the valid value `current`
    has in force (a setting: or its default) and is listed in `problems`; a risk limit with no
    valid value to keep is listed in `unkept_limits` too."""
    in_force = {} if current is None else {name: value for name, value in current.limits.values.items()
                                           if name not in current.unkept_limits}
    with db.read() as conn:
        lims, limit_problems, unkept = config_reads.load_limits(conn, in_force)
        config, setting_problems = config_reads.load_settings(conn, current.config if current else None)
        per_strategy, strategy_problems, invalid = config_reads.load_strategy_limits(conn)
        return Loaded(lims, config, breakers.load_memory(conn),
                      tuple(limit_problems + setting_problems + strategy_problems), per_strategy, unkept, invalid)


def report_problems(db: Database, problems: tuple[str, ...], already: set[str]) -> set[str]:
    """A critical alert for each invalid stored value not reported yet, and the quarantine's
    configuration entries made exactly these (storage/engine_stores/quarantine_store.py: `status` lists
    them); returns the problems now outstanding (a fixed one can be reported again if it
    comes back)."""
    with db.write() as conn:
        quarantine_store.configuration_now(conn, problems, now_ms())
        for problem in (p for p in problems if p not in already):
            raise_alert(conn, level="critical", source="engine", code="CONFIG_INVALID", message=problem)
    return set(problems)


def prepare(db: Database, mode: str, *, operator_start: bool) -> int | None:
    """The settings' and limits' defaults written, a start's halt cleared; returns a paper desk's
    starting cash (micro-pUSD; None live), which its executor books once ever."""
    now = now_ms()
    with db.write() as conn:
        config_reads.ensure_limit_defaults(conn)
        config_reads.ensure_setting_defaults(conn)
        config = config_reads.load_runtime_config(conn)
        starting_cash = int(config.paper_starting_cash * MICRO) if mode == "paper" else None
        memory = breakers.load_memory(conn)
        if operator_start and memory.trading_state is not TradingState.ACTIVE and memory.reason in CLEARED_BY_START:
            breakers.set_trading_state(conn, TradingState.ACTIVE, None, now)
            write_audit(conn, actor="operator", action="trading_state.reset", entity="engine_state",
                        before={"trading_state": memory.trading_state.value, "reason": memory.reason},
                        after={"trading_state": "ACTIVE"})
    return starting_cash
