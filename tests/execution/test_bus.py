"""The executor's event bus isolates its handlers: one that raises is logged and reported, and the
handlers after it still hear the event."""

from __future__ import annotations

import logging
from typing import Any

import pytest

from engine.execution.bus import EventBus, VenueFault


def test_a_raising_handler_is_reported_and_the_others_still_run(caplog: pytest.LogCaptureFixture) -> None:
    heard: list[str] = []
    reports: list[tuple[Any, str, str]] = []

    def broken(event: VenueFault) -> None:
        raise KeyError("a subscriber's bug")

    bus = EventBus(on_error=lambda event, handler, exc: reports.append((event, handler.__name__, repr(exc))))
    bus.subscribe(VenueFault, lambda event: heard.append("first"))
    bus.subscribe(VenueFault, broken)
    bus.subscribe(VenueFault, lambda event: heard.append("last"))
    fault = VenueFault("no answer")
    with caplog.at_level(logging.ERROR, logger="engine.execution.bus"):
        bus.publish(fault)
    assert heard == ["first", "last"]
    assert reports == [(fault, "broken", "KeyError(\"a subscriber's bug\")")]
    assert "an event handler raised" in caplog.text and "KeyError" in caplog.text


def test_a_failing_report_does_not_stop_the_publication_either() -> None:
    heard: list[str] = []

    def report(event: object, handler: Any, exc: Exception) -> None:
        raise RuntimeError("database is locked")

    def broken(event: VenueFault) -> None:
        raise ZeroDivisionError

    bus = EventBus(on_error=report)
    bus.subscribe(VenueFault, broken)
    bus.subscribe(VenueFault, lambda event: heard.append("after"))
    bus.publish(VenueFault("x"))
    assert heard == ["after"]
