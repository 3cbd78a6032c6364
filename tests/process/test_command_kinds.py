"""The one registry of command kinds (contracts/command_kinds.py) stays complete: every kind is
claimed by its priority (an operator's exit before a reload), reaches the handler it names, and
no front end posts a kind the registry does not know."""

from __future__ import annotations

import ast
import asyncio
import json
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from contracts.command_kinds import BY_NAME, KINDS, Handler
from contracts.command_refusal import CommandRejected
from contracts.venues import POLYMARKET
from engine.execution.placement import OrderGate
from engine.process import commands as processor_module
from engine.process import dispatch
from engine.process.commands import CommandProcessor
from engine.telegram_bot.actions import COMMANDS as TELEGRAM
from engine.trading.operator import operator_actions
from engine.trading.passes import operator_commands
from engine.trading.passes.operator_commands import OperatorCommands
from engine.trading.passes.routing import Ledgers
from storage.command_queue import commands as queue
from storage.command_queue.commands import post_command
from storage.sqlite.db import Database, now_ms
from storage.sqlite.migrations import migrate
from tests.helpers import ROOT

POSTERS = ("post_command", "post_and_wait", "post")  # how the dashboard, the CLI and the engine queue a kind
SAMPLE: dict[str, dict[str, Any]] = {
    "exit": {"strategy": "mm"}, "set_mode": {"mode": "paper"}, "set_venue_mode": {"venue": "kalshi", "mode": "paper"},
    "merge": {"condition_id": "0xabc"}, "cancel_order": {"order_id": 1},
    "place_order": {"condition_id": "0xabc", "outcome": "YES", "side": "BUY"},
    "move_funds": {"venue": "kalshi", "allocation": "0:100"}, "cancel_iceberg": {"iceberg_id": 1},
    "cancel_trailing_stop": {"trail_id": 1}}


def _claimed_in_order(db: Database) -> list[str]:
    kinds: list[str] = []
    while True:
        with db.write() as conn:
            row = queue.claim_next(conn, now_ms())
        if row is None:
            return kinds
        kinds.append(row.kind)


def test_an_exit_is_claimed_before_a_reload_and_after_a_kill(tmp_path: Path) -> None:
    migrate(tmp_path / "desk.db")
    db = Database(tmp_path / "desk.db")
    try:
        for kind in ("reload_config", "exit", "place_order", "kill"):  # posted in this order
            post_command(db, kind, SAMPLE.get(kind, {}), actor="test")
        assert _claimed_in_order(db) == ["kill", "exit", "place_order", "reload_config"]
    finally:
        db.dispose()


def test_every_kind_is_posted_with_its_registered_priority_and_expiry(tmp_path: Path) -> None:
    migrate(tmp_path / "desk.db")
    db = Database(tmp_path / "desk.db")
    try:
        for kind in KINDS:
            row = post_command(db, kind.name, SAMPLE.get(kind.name, {}), actor="test")
            assert row.priority == kind.priority, kind.name
            assert (row.expires_at is None) == kind.never_expires, kind.name
    finally:
        db.dispose()


class Recorder:
    """Stands in for the controller or the trading core: notes which of its methods was called."""

    def __init__(self, part: Handler, calls: list[tuple[Handler, str]]) -> None:
        self.part, self.calls = part, calls

    def __getattr__(self, name: str) -> Any:
        async def call(*args: Any, **kwargs: Any) -> dict[str, Any]:
            self.calls.append((self.part, name))
            return {}
        return call


def test_one_dispatch_applies_every_kind_of_the_registry_and_nothing_else() -> None:
    assert set(dispatch.HANDLERS) == set(BY_NAME)


def test_every_kind_reaches_the_part_the_registry_names_and_its_method_of_that_name(tmp_path: Path) -> None:
    """The controller's lifecycle kinds reach the controller; the trading kinds reach the trading core's method
    named after the kind (the `Trading` seam's); the notifier's, the notifier."""
    calls: list[tuple[Handler, str]] = []

    async def notifier(payload: dict[str, Any], actor: str) -> dict[str, Any]:
        calls.append((Handler.NOTIFIER, "notify_test"))
        return {}

    processor = CommandProcessor(None, Recorder(Handler.CONTROLLER, calls),  # type: ignore[arg-type]  # stand-ins: only dispatch runs
                                 SimpleNamespace(operator=Recorder(Handler.TRADING, calls)), OrderGate(),
                                 services={Handler.NOTIFIER: notifier})
    for kind in KINDS:
        row = SimpleNamespace(kind=kind.name, actor="test")
        payload = processor_module.parse_payload(kind.name, json.dumps(SAMPLE.get(kind.name, {})))
        before = len(calls)
        asyncio.run(processor._dispatch(row, payload))  # type: ignore[arg-type]  # a row with what dispatch reads
        assert len(calls) == before + 1, kind.name
        part, method = calls[-1]
        assert part is kind.handler, kind.name
        if part is Handler.TRADING:
            assert method == kind.name
    with pytest.raises(CommandRejected, match="unknown command kind"):
        asyncio.run(processor._dispatch(SimpleNamespace(kind="shout", actor="t"), {}))  # type: ignore[arg-type]  # a row with what dispatch reads
    lone = CommandProcessor(None, Recorder(Handler.CONTROLLER, calls), SimpleNamespace(),  # type: ignore[arg-type]  # stand-ins
                            OrderGate())
    with pytest.raises(CommandRejected, match="notifier, which this engine does not run"):
        asyncio.run(lone._dispatch(SimpleNamespace(kind="notify_test", actor="t"), {}))  # type: ignore[arg-type]  # a row with what dispatch reads


def test_the_trading_core_applies_every_trading_kind(monkeypatch: pytest.MonkeyPatch) -> None:
    """The trading core's operator method for each of the registry's trading kinds reaches something real; the
    leaves it reaches are recorded instead of run."""
    reached: list[str] = []

    def leaf(name: str) -> Any:
        async def run(*args: Any, **kwargs: Any) -> dict[str, Any]:
            reached.append(name)
            return {}
        return run

    for name in ("cancel_order", "flatten", "place_order"):
        monkeypatch.setattr(operator_actions, name, leaf(name))
    monkeypatch.setattr(operator_commands, "exit_positions", leaf("exit"))
    monkeypatch.setattr(operator_commands, "move_funds", leaf("move_funds"))
    for name in ("cancel_iceberg", "cancel_trailing_stop"):
        monkeypatch.setattr(operator_commands.standing, name, leaf(name))
    desk = SimpleNamespace(live=True, venue_name=POLYMARKET, mode="paper", risk=None, exits=None, operator_exits=None,
                           trails=None, icebergs=None,
                           collections=SimpleNamespace(command=lambda kind, payload: leaf(kind)()))
    commands = OperatorCommands(None, Ledgers(desk, {}), None, mark=lambda condition_id: None,  # type: ignore[arg-type]  # stand-ins with what the commands read
                                deciding=lambda: False)
    for kind in (k for k in KINDS if k.handler is Handler.TRADING):
        asyncio.run(getattr(commands, kind.name)(dict(SAMPLE.get(kind.name, {}))))
        assert reached[-1] == kind.name


def _posted_kinds(path: Path) -> set[str]:
    """Kinds `path` queues with a literal: post_command(db, "kind", ...) and the like."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if not isinstance(node, ast.Call) or len(node.args) < 2:
            continue
        name = node.func.id if isinstance(node.func, ast.Name) else getattr(node.func, "attr", "")
        kind = node.args[1]
        if name in POSTERS and isinstance(kind, ast.Constant) and isinstance(kind.value, str):
            found.add(kind.value)
    return found


def test_no_front_end_posts_a_kind_the_registry_does_not_know() -> None:
    posted: dict[str, set[str]] = {}
    for folder in ("pages", "engine", "storage", "app.py"):
        target = ROOT / folder
        for path in [target] if target.is_file() else sorted(target.rglob("*.py")):
            for kind in _posted_kinds(path):
                posted.setdefault(kind, set()).add(str(path.relative_to(ROOT)))
    posted.update({spec.kind: {"engine/telegram_bot/actions.py"} for spec in TELEGRAM.values() if spec.kind})
    assert {"kill", "exit", "reload_config", "notify_test", "set_venue_mode"} <= set(posted)  # the scan reads them
    assert {kind: where for kind, where in posted.items() if kind not in BY_NAME} == {}
