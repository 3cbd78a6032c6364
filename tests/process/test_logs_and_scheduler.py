"""Structured logs never carry secrets; scheduled job failures are logged, not swallowed."""

from __future__ import annotations

import asyncio
import base64
import io
import json
import logging
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from apscheduler.triggers.date import DateTrigger

from contracts.settings import load_settings, secret_values
from engine.logs import JsonFormatter, RedactingFilter, register_secrets
from engine.process.scheduler import build_scheduler
from engine.trading.passes.jobs import Job

KEY = "0x" + "ab" * 32
API_SECRET = base64.urlsafe_b64encode(bytes(range(200, 232))).decode()  # the shape of a real one


def _capture(secrets: list[str]) -> tuple[logging.Logger, io.StringIO]:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.addFilter(RedactingFilter(secrets))
    handler.setFormatter(JsonFormatter())
    logger = logging.getLogger(f"test.redact.{id(stream)}")
    logger.handlers[:] = [handler]
    logger.propagate = False
    logger.setLevel(logging.INFO)
    return logger, stream


def test_configured_secrets_are_redacted_everywhere(tmp_path: Path) -> None:
    settings = load_settings({"POLY_PRIVATE_KEY": KEY, "POLY_API_SECRET": API_SECRET, "POLY_API_KEY": "key-123456",
                              "TRADER_ENV_FILE": str(tmp_path / "none.env")}, root=tmp_path)
    logger, stream = _capture(secret_values(settings))
    logger.info("signing with %s", KEY)
    logger.warning("bare hex %s", KEY[2:], extra={"creds": f"key-123456:{API_SECRET}"})
    try:
        raise ValueError(f"bad key {KEY}")
    except ValueError:
        logger.exception("failed")
    out = stream.getvalue()
    assert KEY[2:] not in out and API_SECRET not in out and "key-123456" not in out
    lines = [json.loads(line) for line in out.splitlines()]
    assert lines[0]["msg"] == "signing with ***"
    assert lines[1]["creds"] == "***:***"
    assert "***" in lines[2]["exc"]
    # Settings never print a secret either.
    assert KEY not in repr(settings) and KEY not in str(settings.private_key)


def test_secret_shaped_values_are_redacted_even_if_unregistered() -> None:
    logger, stream = _capture([])
    logger.info("creds secret=%s", API_SECRET)
    assert API_SECRET not in stream.getvalue()


def test_order_ids_survive_redaction() -> None:
    logger, stream = _capture(["unrelated-secret"])
    order_id = "0x" + "cd" * 32
    logger.info("placed %s", order_id)
    assert order_id in stream.getvalue()


def test_register_secrets_adds_values_at_runtime() -> None:
    register_secrets("derived-passphrase-value")
    from engine.logs import _redactor

    assert _redactor.redact("x derived-passphrase-value y") == "x *** y"


def test_scheduler_listener_logs_job_errors(caplog) -> None:
    def broken() -> None:
        raise RuntimeError("reconcile exploded")

    def logged() -> list[logging.LogRecord]:
        return [r for r in caplog.records if r.name == "engine.process.scheduler"]

    async def scenario() -> None:
        when = datetime.now(UTC) + timedelta(milliseconds=50)
        scheduler = build_scheduler([Job("broken", broken, DateTrigger(when))])
        scheduler.start()
        deadline = asyncio.get_running_loop().time() + 10  # polled: a loaded machine runs the job late
        while not logged() and asyncio.get_running_loop().time() < deadline:
            await asyncio.sleep(0.02)
        scheduler.shutdown(wait=False)

    with caplog.at_level(logging.ERROR, logger="engine.process.scheduler"):
        asyncio.run(scenario())
    records = logged()
    assert records and records[0].getMessage() == "scheduled job failed"
    assert "reconcile exploded" in records[0].__dict__["error"]


def test_scheduler_jobs_have_safe_defaults() -> None:
    async def scenario() -> None:
        scheduler = build_scheduler([Job("a", lambda: None, DateTrigger(datetime.now(UTC) + timedelta(hours=1)))])
        job = scheduler.get_job("a")
        assert (job.coalesce, job.max_instances, job.misfire_grace_time) == (True, 1, 15)

    asyncio.run(scenario())


def test_a_locked_database_is_retried_quietly_and_told_only_when_it_persists(caplog) -> None:
    """"database is locked" is no error the operator can act on: retried within the run, then left
    to the next run, no traceback; a job locked out run after run is told once, and once when it
    writes again. Any other error still fails the run as before."""
    import sqlite3

    from engine.process import scheduler as sched

    told: list[tuple[str, bool]] = []
    watch = sched.LockWatch(lambda job, stuck: told.append((job, stuck)))
    attempts = {"n": 0}
    locked = {"on": True}

    def markouts() -> str:
        attempts["n"] += 1
        if locked["on"]:
            raise sqlite3.OperationalError("database is locked")
        return "written"

    run = sched.lock_tolerant(Job("markouts", markouts, DateTrigger(datetime.now(UTC))), watch)
    sched.LOCK_PAUSE_S, pause = 0.0, sched.LOCK_PAUSE_S
    try:
        with caplog.at_level(logging.INFO, logger="engine.process.scheduler"):
            for _ in range(sched.LOCKED_RUNS_ALERT):
                assert run() is None
            locked["on"] = False
            assert run() == "written"
            assert run() == "written"
    finally:
        sched.LOCK_PAUSE_S = pause
    assert attempts["n"] == sched.LOCKED_RUNS_ALERT * sched.LOCK_RETRIES + 2  # retried within each locked run
    assert told == [("markouts", True), ("markouts", False)]  # once each way
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR or r.exc_info]

    def broken() -> None:
        raise sqlite3.OperationalError("no such table: fills")

    with pytest.raises(sqlite3.OperationalError, match="no such table"):
        sched.lock_tolerant(Job("broken", broken, DateTrigger(datetime.now(UTC))), watch)()
