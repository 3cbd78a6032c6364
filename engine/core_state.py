"""What the trading core reads and prepares at start-up: defaults, the paper deposit, the
operator's deliberate reset of a halt, and the current limits, settings and risk memory."""

from __future__ import annotations

from sqlalchemy import text

from engine import runtime_config
from engine.domain import MICRO
from engine.execution import store
from engine.risk import breakers, limits
from engine.risk.gate import TradingState
from storage.audit import write_audit
from storage.db import Database, now_ms

# Halts an operator's Start clears (after looking into them). Other states end their own
# way (engine/risk/breakers.py): a daily loss at 00:00 UTC or by raising its limit, a
# drawdown when equity recovers, a kill-switch halt by the operator's re-arm.
CLEARED_BY_START = frozenset({breakers.ERROR_RATE, breakers.BALANCE_MISMATCH})


def current_mode(db: Database) -> str:
    with db.read() as conn:
        return str(conn.execute(text("SELECT mode FROM engine_state WHERE id = 1")).scalar_one())


def load_all(db: Database) -> tuple[limits.Limits, runtime_config.RuntimeConfig, breakers.RiskMemory]:
    with db.read() as conn:
        return limits.load(conn), runtime_config.load(conn), breakers.load_memory(conn)


def prepare(db: Database, mode: str, *, operator_start: bool) -> None:
    now = now_ms()
    with db.write() as conn:
        limits.ensure_defaults(conn)
        runtime_config.ensure_defaults(conn)
        config = runtime_config.load(conn)
        if mode == "paper":
            store.add_cash_entry(conn, mode="paper", kind="deposit", ref="initial",
                                 amount=int(config["paper_starting_cash"] * MICRO), note="paper starting cash", now=now)
        memory = breakers.load_memory(conn)
        if operator_start and memory.trading_state is TradingState.HALTED and memory.reason in CLEARED_BY_START:
            breakers.set_trading_state(conn, TradingState.ACTIVE, None, now)
            write_audit(conn, actor="operator", action="trading_state.reset", entity="engine_state",
                        before={"trading_state": "HALTED", "reason": memory.reason},
                        after={"trading_state": "ACTIVE"})
