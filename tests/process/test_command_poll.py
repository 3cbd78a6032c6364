"""The command poll reads the queue only when something was committed since a look that found
nothing (engine/process/commands.py `_pending`): an idle engine's hundred polls a second cost a
few microseconds each, and no command waits for it."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest

from contracts.settings import load_settings
from engine.execution.placement import OrderGate
from engine.process import commands as processor_module
from engine.process.commands import CommandProcessor
from engine.process.control import Controller
from storage.command_queue.commands import get_command, post_command
from storage.sqlite.db import Database
from storage.sqlite.migrations import migrate


class NoTrading:
    """The Trading seam, for commands that never reach it."""

    async def kill(self) -> dict[str, Any]:
        return {"cancelled": 0}


def _processor(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[CommandProcessor, Database, list[tuple]]:
    path = tmp_path / "poll.db"
    migrate(path)
    db = Database(path)
    settings = load_settings({"TRADER_ENV_FILE": str(tmp_path / "none"), "TRADER_DB": str(path)})
    gate = OrderGate()
    trading = NoTrading()
    controller = Controller(settings, db, trading, gate)  # type: ignore[arg-type]  # a stand-in with only what it calls
    probes: list[tuple] = []
    probe = processor_module.queue.has_pending

    def counted(conn: Any, kinds: tuple[str, ...] | None = None) -> bool:
        probes.append(kinds or ())
        return probe(conn, kinds)

    monkeypatch.setattr(processor_module.queue, "has_pending", counted)
    return CommandProcessor(db, controller, trading, gate), db, probes  # type: ignore[arg-type]  # a stand-in


def _status(db: Database, command_id: int) -> str:
    with db.read() as conn:
        row = get_command(conn, command_id)
    assert row is not None
    return row.status


def test_an_idle_poll_reads_the_queue_once_then_again_only_after_a_commit(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    processor, db, probes = _processor(tmp_path, monkeypatch)
    for _ in range(5):
        asyncio.run(processor._step())
    assert probes == [()]  # one read found nothing; nothing was committed since
    row = post_command(db, "pause", None, actor="test")
    asyncio.run(processor._step())
    assert len(probes) == 2 and _status(db, row.id) != "pending"  # the commit was seen and the command claimed


def test_a_command_posted_while_another_runs_is_claimed_when_it_ends_with_nothing_committed_since(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    processor, db, probes = _processor(tmp_path, monkeypatch)
    row = post_command(db, "pause", None, actor="test")

    async def busy_then_free() -> None:
        running = asyncio.get_running_loop().create_future()
        processor._current = running  # type: ignore[assignment]  # a command being applied
        await processor._step()  # busy: only a kill may jump ahead, and there is none
        assert _status(db, row.id) == "pending"
        running.set_result(None)
        await processor._step()  # free: the pause is found, though nothing was committed since the look

    asyncio.run(busy_then_free())
    assert probes == [("kill",), ()]
    assert _status(db, row.id) != "pending"
