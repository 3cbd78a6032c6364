"""`python -m engine service-failed`: what systemd runs when the desk's service failed for good
(`OnFailure=` in the unit tools/service.py writes): its start failed again and again (`engine init`
failing in `ExecStartPre`, say) until systemd's start limit stopped it restarting. The watchdog that
would say so runs inside that service, so this says it instead, through the same NOTIFY_URLS
(engine/notify/direct.py, as the watchdog), and says when systemd tries again (the unit's retry timer).

One outage is told once, then at most once an hour while it lasts (a failure within
SAME_OUTAGE_MIN of the last one is the same outage: the retries come every few minutes); what was
told is kept beside the database (var/run/service-failed.json). Without NOTIFY_URLS it says it in
the journal only.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path

from contracts.settings import SettingsError, notify_urls_from

REPEAT_MS = 3_600_000  # a lasting outage is told again this often
MONITOR = ("MONITOR_SERVICE_RESULT", "MONITOR_EXIT_CODE", "MONITOR_EXIT_STATUS")  # what systemd passes (v251+)


@dataclass
class Outage:
    first_ms: int  # its first failure
    last_ms: int  # its latest
    told_ms: int  # when it was last told
    failures: int


def same_outage_ms(retry_after_min: int) -> int:
    """Failures closer than this are one outage: two retry periods and a margin."""
    return (2 * retry_after_min + 5) * 60_000


def record(previous: Outage | None, now: int, retry_after_min: int) -> tuple[Outage, bool]:
    """The outage with this failure counted, and whether to tell it now."""
    if previous is None or now - previous.last_ms > same_outage_ms(retry_after_min):
        return Outage(now, now, now, 1), True
    tell = now - previous.told_ms >= REPEAT_MS
    return Outage(previous.first_ms, now, now if tell else previous.told_ms, previous.failures + 1), tell


def message(unit: str, outage: Outage, monitor: Mapping[str, str], now: int, retry_after_min: int,
            ) -> tuple[str, str]:
    """(title, body) of the notice."""
    said = ", ".join(f"{k.removeprefix('MONITOR_').lower()} {monitor[k]}" for k in MONITOR if monitor.get(k))
    again = _utc(now + retry_after_min * 60_000)
    title = "Desk service down: systemd stopped restarting it" if outage.failures == 1 else \
        "Desk service still down"
    body = (f"The desk's service {unit} failed to start again and again and systemd stopped restarting it"
            + (f" ({said})" if said else "") + f"; {outage.failures} time(s) since {_utc(outage.first_ms)}. "
            "Nothing of the desk runs: no engine, no dashboard, no watchdog. Its orders rest at the venue "
            "meanwhile (the venue's heartbeat cancels them if it stays away). "
            f"systemd tries again at {again} (every {retry_after_min} min while it fails). "
            f"Why: journalctl --user -u {unit} -n 50. Fix the cause, then: systemctl --user reset-failed "
            f"{unit} && systemctl --user start {unit}")
    return title, body


def _utc(ms: int) -> str:
    return f"{datetime.fromtimestamp(ms / 1000, tz=UTC):%Y-%m-%d %H:%M} UTC"


def _load(path: Path) -> Outage | None:
    try:
        return Outage(**json.loads(path.read_text()))
    except (OSError, ValueError, TypeError):
        return None  # none yet, or unreadable: a new outage (told, never lost)


def state_beside(db_path: Path) -> Path:
    return db_path.parent / "run" / "service-failed.json"


def plain_urls(env: Mapping[str, str]) -> list[str]:
    """NOTIFY_URLS as written in .env or the environment, for when the settings do not load (the
    likeliest reason the service failed): sealed ones cannot be read then."""
    try:
        return [url.reveal() for url in notify_urls_from(env.get("NOTIFY_URLS"))]
    except SettingsError:
        return []


def run(urls: list[str], secrets: list[str], path: Path, problem: str | None, unit: str, retry_after_min: int,
        environ: Mapping[str, str], now: int) -> int:
    """Tell the failure (or log that it was told within the hour); `problem`: why the desk's settings
    did not load here, told with it."""
    from contracts.redaction import RedactingFilter
    from engine.notify.direct import deliver_to, log_line

    redact = RedactingFilter([*secrets, *urls]).redact
    outage, tell = record(_load(path), now, retry_after_min)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(asdict(outage)))
    except OSError as exc:
        log_line(f"could not keep {path}: {exc} (every failure is then told)")
    title, body = message(unit, outage, environ, now, retry_after_min)
    if problem:
        body += f" The desk's settings do not load: {redact(problem)[:300]}"
    if not tell:
        log_line(f"critical: {title}: {body} (told at {_utc(outage.told_ms)}; again within the hour)")
        return 0
    deliver_to(urls, redact)(title, body, "critical")
    return 0
