"""The service `make service` installs (tools/service.py), read as systemd reads it: it never gives up
silently (once systemd stops restarting it, `OnFailure=` tells the operator and a timer starts it again
later, past the start limit's interval), it waits long enough for the desk to stop in order (more than
every program's stopwaitsecs, supervisord stopping them one after the other, with a margin, computed
from the configurations so it cannot drift), and the installer says plainly, when lingering is refused,
that the desk stops with the user's last session. An outage is told once, then at most hourly."""

from __future__ import annotations

import configparser
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from engine import service_alarm
from tests.helpers import ROOT
from tools import service


def _sections(text: str) -> configparser.RawConfigParser:
    parser = configparser.RawConfigParser(strict=False)
    parser.optionxform = str  # type: ignore[assignment, method-assign]  # systemd's keys are case-sensitive
    parser.read_string(text)
    return parser


def _stopwaits(root: Path) -> list[int]:
    """Every supervised program's stop wait, read apart from tools/service.py (10 s unless set)."""
    waits = []
    for name in ("supervisord.conf", "supervisord.optional.conf"):
        for section in re.split(r"^\[", (root / name).read_text(), flags=re.M)[1:]:
            if section.startswith(("program:", "eventlistener:")):
                found = re.search(r"^stopwaitsecs\s*=\s*(\d+)", section, flags=re.M)
                waits.append(int(found.group(1)) if found else 10)
    return waits


def test_the_stop_timeout_outlasts_every_programs_stop_wait_with_a_margin() -> None:
    unit = _sections(service.unit_text())
    timeout = int(unit.get("Service", "TimeoutStopSec"))
    assert len(_stopwaits(ROOT)) >= 7 and timeout >= sum(_stopwaits(ROOT)) + 15


def test_the_stop_timeout_follows_the_configurations(tmp_path: Path) -> None:
    for name in ("supervisord.conf", "supervisord.optional.conf"):
        shutil.copy(ROOT / name, tmp_path / name)
    before = service.stop_timeout_s(tmp_path)
    with (tmp_path / "supervisord.optional.conf").open("a") as conf:
        conf.write("\n[program:another]\ncommand=true\nstopwaitsecs=45 ; a slow one\n\n[program:plain]\ncommand=true\n")
    assert service.stop_timeout_s(tmp_path) == before + 45 + 10
    assert f"TimeoutStopSec={before + 55}\n" in service.unit_text(tmp_path)


def test_once_systemd_stops_restarting_it_the_operator_is_told_and_it_starts_again_later() -> None:
    files = service.unit_files()
    unit = _sections(files[service.UNIT])
    assert unit.get("Service", "Restart") == "on-failure"
    assert unit.get("Unit", "OnFailure").split() == [service.FAILED_UNIT, service.RETRY_TIMER]
    told = _sections(files[service.FAILED_UNIT])
    assert " -m engine service-failed --unit polymarket-desk.service" in told.get("Service", "ExecStart")
    timer = _sections(files[service.RETRY_TIMER])
    assert timer.get("Timer", "Unit") == service.UNIT and timer.get("Timer", "RemainAfterElapse") == "no"
    again_s = int(timer.get("Timer", "OnActiveSec").removesuffix("min")) * 60
    assert again_s > int(unit.get("Unit", "StartLimitIntervalSec"))  # systemd takes the start then


def test_refused_lingering_says_the_desk_stops_with_the_last_session(monkeypatch: pytest.MonkeyPatch,
                                                                     capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setattr(shutil, "which", lambda name: f"/usr/bin/{name}")
    monkeypatch.setattr(subprocess, "run", lambda *a, **k: subprocess.CompletedProcess(a, 1, "", "denied"))
    service._linger()
    said = capsys.readouterr().err
    assert "starts at your first login" in said and "STOPS when the last session of" in said
    assert "sudo loginctl enable-linger" in said


def _told(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, now: int) -> list[tuple[Any, ...]]:
    sent: list[tuple[Any, ...]] = []
    monkeypatch.setattr("engine.notify.direct.deliver_to", lambda urls, redact: lambda *m: sent.append(m))
    service_alarm.run([], [], tmp_path / "state.json", None, service.UNIT, 15, {"MONITOR_SERVICE_RESULT": "exit-code"},
                      now)
    return sent


def test_an_outage_is_told_once_then_hourly_and_a_later_one_again(tmp_path: Path,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    minute = 60_000
    first = _told(tmp_path, monkeypatch, 0)
    assert [m[0] for m in first] == ["Desk service down: systemd stopped restarting it"]
    assert "service_result exit-code" in first[0][1] and "00:15 UTC" in first[0][1]
    for retry in (16, 32, 48):  # each retry failed too: the same outage, told within the hour already
        assert _told(tmp_path, monkeypatch, retry * minute) == []
    again = _told(tmp_path, monkeypatch, 64 * minute)
    assert [m[0] for m in again] == ["Desk service still down"] and "5 time(s) since" in again[0][1]
    assert [m[0] for m in _told(tmp_path, monkeypatch, 200 * minute)] == [  # it ran in between: a new one
        "Desk service down: systemd stopped restarting it"]
