"""Strategies that remember: each hosted strategy's warm state kept across restarts and reloads.

A strategy may hand out its warm state (engine/strategies/base.py `memory`: momentum's indicator
windows and signals, market making's pulls, the copies copy trading made). The engine saves it
every SAVE_S and when it stops, in the desk's database beside the ledger (`strategy_memory`), keyed
by the strategy's name with a hash of its kind and params. It is given back (`recall`):

- on a reload that rebuilds the instance (its row changed) with the same kind and params: at
  once, from the instance it replaces;
- when the engine starts: from the stored row, if it was saved for the same kind and params and
  is no older than the `strategy_memory_max_age_s` setting (0: never).

Params that changed discard it (the stored row is deleted): windows measured for another
lookback are not this strategy's. A stored document that does not read (too large, not JSON, or
refused by the strategy) starts the strategy cold, with the reason kept in the row's `outcome`
and logged. A backtest keeps none (its replay starts every strategy cold).
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Callable, Iterable
from typing import Any, Protocol

from contracts.jsonsafe import loads_bounded
from engine.strategies.base import MemoryUnreadable, StrategyBase
from storage.engine_stores import strategy_memory_store as store
from storage.sqlite.db import Database

log = logging.getLogger("engine.strategies.memory")
SAVE_S = 5
MAX_BYTES = 4 * 2**20  # a strategy's stored memory, at most
MAX_DEPTH = 8


class Hosted(Protocol):
    """What this needs of a hosted strategy (engine/trading/hosting/strategy_host.py's)."""

    name: str
    kind: str
    instance: StrategyBase


def params_hash(kind: str, params: Any) -> str:
    """What a memory is valid for: the strategy's kind and its validated params."""
    text = json.dumps({"kind": kind, "params": params}, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode()).hexdigest()


def _hash(hosted: Hosted) -> str:
    return params_hash(hosted.kind, dict(hosted.instance.params))


class StrategyMemory:
    def __init__(self, db: Database, clock: Callable[[], int], max_age_ms: Callable[[], int]) -> None:
        self.db = db
        self.clock = clock
        self.max_age_ms = max_age_ms

    def save(self, hosted: Iterable[Hosted]) -> int:
        """Store every hosted strategy's memory now; returns how many were stored."""
        now, rows = self.clock(), []
        for item in hosted:
            try:
                memory = item.instance.memory()
                if memory is None:
                    continue
                text = json.dumps(memory, separators=(",", ":"), allow_nan=False)
            except (TypeError, ValueError) as exc:  # a plugin's memory that is not JSON: not kept, said once a save
                log.warning("a strategy's memory is not JSON; not kept", extra={"strategy": item.name,
                                                                                 "error": str(exc)[:200]})
                continue
            if len(text) > MAX_BYTES:
                log.warning("a strategy's memory is too large; not kept", extra={"strategy": item.name,
                                                                                  "bytes": len(text)})
                continue
            rows.append(store.Saved(item.name, item.kind, _hash(item), text, now))
        store.save(self.db, rows)
        return len(rows)

    def warm(self, previous: Hosted | None, fresh: Hosted) -> str:
        """Give a newly built instance its memory: the instance it replaces on a reload, or what was
        stored, when valid for it; returns what was done (for the log)."""
        if previous is not None:
            return self._carry(previous, fresh)
        saved = store.load(self.db, fresh.name)
        if saved is None:
            return "none stored"
        outcome = self._restore(saved, fresh)
        with self.db.write() as conn:
            if outcome.startswith("params changed"):
                store.forget(conn, fresh.name)
            else:
                store.note_outcome(conn, fresh.name, outcome, self.clock())
        log.info("strategy memory", extra={"strategy": fresh.name, "outcome": outcome})
        return outcome

    def _carry(self, previous: Hosted, fresh: Hosted) -> str:
        if previous.kind != fresh.kind or _hash(previous) != _hash(fresh):
            with self.db.write() as conn:
                store.forget(conn, fresh.name)
            return "params changed: started cold"
        try:
            memory = previous.instance.memory()
            if memory is None:
                return "nothing to carry"
            fresh.instance.recall(memory)
        except Exception as exc:  # a plugin's memory bug must not stop the reload: it starts cold
            log.warning("a strategy's memory could not be carried over a reload",
                        extra={"strategy": fresh.name, "error": str(exc)[:200]})
            return f"not carried ({str(exc)[:200]}): started cold"
        return "carried over the reload"

    def _restore(self, saved: store.Saved, fresh: Hosted) -> str:
        age_ms = self.clock() - saved.saved_at
        if saved.kind != fresh.kind or saved.params_hash != _hash(fresh):
            return "params changed since it was saved: started cold"
        if age_ms > self.max_age_ms() or age_ms < 0:
            return f"saved {age_ms // 1000} s ago, older than strategy_memory_max_age_s: started cold"
        try:
            memory = loads_bounded(saved.memory, max_bytes=MAX_BYTES, max_depth=MAX_DEPTH, what="a strategy's memory")
            if not isinstance(memory, dict):
                raise MemoryUnreadable("not an object")
            fresh.instance.recall(memory)
        except Exception as exc:  # unreadable JSON, a document refused, or a plugin's recall bug: started cold
            log.warning("a strategy's stored memory is unreadable; started cold",
                        extra={"strategy": fresh.name, "error": str(exc)[:200]})
            return f"unreadable ({str(exc)[:200]}): started cold"
        return f"restored (saved {age_ms / 1000:.1f} s before)"
