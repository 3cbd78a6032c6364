"""Configured strategy instances: loaded from the `strategies` table, their markets chosen,
and `decide` run in isolation.

A strategy that raises is disabled (enabled=0, status='error', last error kept), audited as
the engine's action, alerted, and its orders withdrawn; the others go on. Configuration
changes (enable, disable, edit params or markets) apply on the next tick after a
`reload_config`, without a restart; an instance whose row version is unchanged keeps its
in-memory indicator state, and one rebuilt (or built at start) gets its memory back
(engine/trading/hosting/strategy_memory.py) when its params are the same.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Protocol

from contracts.domain import Intent, Snapshot, StrategyState
from contracts.jsonsafe import CONFIG_BYTES, loads_bounded
from contracts.market_filter import MarketCandidate, select_markets, validate_market_spec
from contracts.params import ParamsError
from contracts.venue_policies import policy_of
from engine.strategies.base import StrategyBase
from engine.strategies.registry import build_strategy
from engine.trading.hosting.strategy_plugins import plugin_problems, strategy_classes
from storage.desk.audit import raise_alert, write_audit
from storage.engine_stores import trading_reads, trading_writes
from storage.sqlite.db import Database, now_ms

log = logging.getLogger("engine.strategies")


@dataclass
class Hosted:
    name: str
    kind: str
    version: int
    spec: object
    instance: StrategyBase
    markets: list[str] = field(default_factory=list)
    paused: bool = False  # hosted (markets watched, exits guarding), deciding nothing
    live: bool = True  # False: paper only; on a live desk it trades in the paper ledger (not promoted)


@dataclass(frozen=True)
class Failure:
    name: str
    error: str


class Memory(Protocol):
    """Where strategies' memory is kept (engine/trading/hosting/strategy_memory.py; None in a backtest)."""

    def save(self, hosted: Iterable[Hosted]) -> int: ...

    def warm(self, previous: Hosted | None, fresh: Hosted) -> str: ...


class StrategyHost:
    def __init__(self, db: Database, clock: Callable[[], int] = now_ms, memory: Memory | None = None):
        self.db = db
        self.clock = clock
        self.memory = memory
        self.hosted: dict[str, Hosted] = {}
        self.plugin_problems: dict[str, str] = {}  # the plugins left out, as last alerted

    def reload(self, candidates: Sequence[MarketCandidate]) -> dict[str, int]:
        """Re-read the table (and the strategy plugins); rebuild changed instances, drop disabled
        ones; return versions."""
        self._check_plugins()
        with self.db.read() as conn:
            rows = trading_reads.enabled_strategies(conn)
        wanted: dict[str, Hosted] = {}
        for row in rows:
            current = self.hosted.get(row["name"])
            if current is not None and current.version == row["version"]:
                wanted[row["name"]] = current
                continue
            hosted = self._build(dict(row))
            if hosted is not None:
                wanted[row["name"]] = hosted
                if self.memory is not None:
                    self.memory.warm(current, hosted)
        self.hosted = wanted
        self.reselect(candidates)
        return {name: h.version for name, h in self.hosted.items()}

    def _check_plugins(self) -> None:
        """A plugin newly left out (or left out for a new reason) is alerted once, with its reason."""
        problems = plugin_problems()
        fresh = {name: why for name, why in problems.items() if self.plugin_problems.get(name) != why}
        self.plugin_problems = dict(problems)
        if not fresh:
            return
        with self.db.write() as conn:
            for name, why in fresh.items():
                raise_alert(conn, level="warning", source="engine", code="STRATEGY_PLUGIN",
                            message=f"strategy plugin '{name}' is left out: {why[:400]}; the desk runs without it "
                                    "(a strategy of that kind is disabled until it is fixed)")
        for name, why in fresh.items():
            log.warning("strategy plugin left out", extra={"plugin": name, "why": why})

    def _build(self, row: dict) -> Hosted | None:
        """An instance from a table row; a row that does not validate (written around the
        dashboard) disables the strategy with its reason, never a crash."""
        try:
            params = loads_bounded(row["params"] or "{}", max_bytes=CONFIG_BYTES, max_depth=8, what="params")
            spec = loads_bounded(row["markets"] or "[]", max_bytes=CONFIG_BYTES, max_depth=8, what="markets")
            problems = validate_market_spec(spec, row["kind"])
            if problems:
                raise ValueError("market filter: " + "; ".join(f"{k}: {v}" for k, v in problems.items()))
            instance = build_strategy(row["name"], row["kind"], params, strategy_classes())
        except (ParamsError, ValueError) as exc:
            self.disable(row["name"], f"invalid configuration: {exc}")
            return None
        return Hosted(row["name"], row["kind"], row["version"], spec, instance, paused=bool(row.get("paused")),
                      live=bool(row.get("live", 1)))

    def reselect(self, candidates: Sequence[MarketCandidate]) -> dict[str, int]:
        """Choose each strategy's markets; returns how many each selected."""
        known = {c.condition_id for c in candidates}
        for hosted in list(self.hosted.values()):
            chosen = select_markets(hosted.spec, candidates, now_ms=self.clock())
            hosted.markets = [cid for cid in chosen if cid in known]
            self._departures(hosted)
        return {name: len(h.markets) for name, h in self.hosted.items()}

    def _departures(self, hosted: Hosted) -> None:
        """Tell a strategy which markets it keeps something for have left it (engine/strategies/base.py
        `left`): the one way a market leaves, as its markets are chosen (a decision covering fewer of them
        is not a departure). One whose `left` raises is disabled, as one whose `decide` does."""
        try:
            gone = hosted.instance.kept_markets() - set(hosted.markets)
            if gone:
                hosted.instance.left(gone)
        except Exception as exc:  # a strategy bug must not take the engine down
            log.exception("strategy raised on its departed markets; disabling it", extra={"strategy": hosted.name})
            self.disable(hosted.name, f"{type(exc).__name__}: {exc}")

    def save_memory(self) -> int:
        """Store every hosted strategy's memory now (the engine's stop; on the loop, as the strategies run)."""
        return 0 if self.memory is None else self.memory.save(list(self.hosted.values()))

    async def keep_memory(self) -> int:
        """The periodic save, as a coroutine: the scheduler runs it on the loop, never beside a decision."""
        return self.save_memory()

    def markets(self) -> set[str]:
        return {cid for h in self.hosted.values() for cid in h.markets}

    def decide(self, name: str, snapshot: Snapshot, state: StrategyState, now: int) -> list[Intent] | Failure:
        hosted = self.hosted[name]
        try:
            intents = hosted.instance.decide(snapshot, state, now)
        except Exception as exc:  # a strategy bug must not take the engine down
            log.exception("strategy raised; disabling it", extra={"strategy": name})
            return Failure(name, f"{type(exc).__name__}: {exc}")
        # Its markets, and whatever else the core put in its snapshot (a cross-venue strategy's paired legs).
        allowed = set(hosted.markets) | set(snapshot.markets)
        return [i for i in intents if i.condition_id in allowed and i.strategy == name]

    def disable(self, name: str, error: str) -> None:
        """Turn a failing strategy off, with an audit row and an alert; it stays off until edited."""
        now = self.clock()
        with self.db.write() as conn:
            if trading_writes.disable_strategy(conn, name, error[:2000], now):
                write_audit(conn, actor="engine", action="strategy.disable", entity=f"strategy:{name}",
                            before={"enabled": True}, after={"enabled": False, "error": error[:500]})
                raise_alert(conn, level="critical", source="engine", code="STRATEGY_ERROR",
                            message=f"strategy '{name}' raised and was disabled: {error[:300]}")
        self.hosted.pop(name, None)


# A venue armed on its own (contracts/venue_policies.py `venues_armed_alone`: its own mode) says
# how its strategies trade; `venue`: which.

def alert_venue_paper(db: Database, name: str, venue: str) -> None:
    """A strategy naming the venue's markets while it is on paper: it trades the venue's paper ledger."""
    policy = policy_of(venue)
    label = policy.label
    with db.write() as conn:
        raise_alert(conn, level="info", source="engine", code=policy.code("PAPER"), subject=name,
                    message=f"strategy {name} trades {label} on paper ({label}'s own paper ledger, fees and limits, "
                            f"beside the desk): arm {label} live on the Settings page to send its orders to {label}")


def alert_venue_held(db: Database, name: str, why: str, venue: str) -> None:
    """A strategy naming the venue's markets that does not trade while the venue is armed live, and why."""
    policy = policy_of(venue)
    with db.write() as conn:
        raise_alert(conn, level="warning", source="engine", code=policy.code("HELD"), subject=name,
                    message=f"strategy {name} does not trade while {policy.label} is armed live: {why}")


def alert_venue_unavailable(db: Database, error: str, venue: str) -> None:
    """The venue's live ledger could not open (the venue down, its key refused): only its strategies wait."""
    policy = policy_of(venue)
    label = policy.label
    check = f"; `python -m engine {policy.preflight}` checks the key" if policy.preflight else ""
    with db.write() as conn:
        raise_alert(conn, level="critical", source="engine", code=policy.code("UNAVAILABLE"),
                    message=f"{label}'s live ledger could not open, so the strategies trading {label} wait (the desk "
                            f"trades on): {error[:300]}. It is tried again at the next Start or reload{check}")


def alert_paper_only(db: Database, name: str) -> None:
    """A paper-only strategy on a live desk: it trades in the paper ledger until promoted."""
    with db.write() as conn:
        raise_alert(conn, level="info", source="engine", code="PAPER_ONLY", subject=name,
                    message=f"strategy {name} is paper only: it trades on paper beside the live strategies (its own "
                            "ledger, limits and PnL), never at the venue. Promote it on the Strategies page (its "
                            "paper record first) to trade it live")
