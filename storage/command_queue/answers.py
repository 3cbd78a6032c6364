"""Waiting for the engine's answer to a posted command, with sqlite3 alone: done (with its result),
failed or expired (with the engine's reason), or still queued when the wait ran out or no engine
is there to answer (no fresh heartbeat for `down_grace_s`). `python -m engine command` and the
Telegram bot wait this way; each words the outcome for its reader.
"""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from contracts.domain import to_micros
from contracts.exit_floors import price_words
from storage.desk import desk_status

FINISHED = ("done", "failed", "expired")
POLL_S = 0.02
ENGINE_DOWN_GRACE_S = 5.0


@dataclass(frozen=True)
class Outcome:
    command_id: int
    kind: str
    state: str  # done | failed | expired | queued
    result: str | None  # the engine's JSON result (done)
    error: str | None  # the engine's reason (failed, expired)
    engine_up: bool

    @property
    def answered(self) -> bool:
        return self.state in FINISHED


def wait(conn: sqlite3.Connection, db_path: Path, command_id: int, wait_s: float, *,
         down_grace_s: float = ENGINE_DOWN_GRACE_S, poll_s: float = POLL_S,
         clock: Callable[[], float] = time.monotonic) -> Outcome:
    """Poll the command's row until it is finished or `wait_s` passes; give up after
    `down_grace_s` when no engine is running to answer it."""
    start = clock()
    while True:
        found = desk_status.command_status(conn, command_id) or {}
        up = desk_status.engine_status(conn, db_path).engine_up
        status = found.get("status", "queued")
        if status in FINISHED:
            return Outcome(command_id, str(found["kind"]), status, found.get("result"), found.get("error"), up)
        waited = clock() - start
        if waited >= wait_s or (not up and waited >= down_grace_s):
            return Outcome(command_id, str(found.get("kind", "")), "queued", None, None, up)
        time.sleep(poll_s)


def sales(result: str | None) -> list[str]:
    """What a done exit or flatten sold, one line a position, as a trader reads a fill: shares, average
    price (and the floor it was sold at no less than), proceeds after the fee and the PnL it realized after
    fees (or that those follow the venue's report); prices to three decimals and money to cents, as the
    dashboard shows them. Empty when it sold nothing; a last line when no floor came with the command."""
    lines = []
    for line in _sale_lines(result):
        if _number(line.get("sold")) <= 0:
            continue
        head = f"{_named(line)}: sold {_shares(line.get('sold'))} of {_shares(line.get('held'))}"
        floor = f" (no less than {_price(line['floor'])})" if "floor" in line else ""
        if "price" in line:
            lines.append(f"{head} at {_number(line['price']):.3f} on average{floor} for {_money(line.get('proceeds'))} "
                         f"pUSD after a {_money(line.get('fee'))} pUSD fee; realized PnL "
                         f"{_money(line.get('realized_pnl'), signed=True)} pUSD after fees")
        else:
            lines.append(f"{head}{floor}; {line.get('booked') or 'its price and PnL follow the venue report'}")
    floorless = _floor_note(result)
    return [*lines, floorless] if lines and floorless else lines


def _floor_note(result: str | None) -> str | None:
    """The answer's word on a command that came with no floor (an older front end's, or one queued before)."""
    try:
        value = json.loads(result) if result else None
    except ValueError:
        return None
    note = value.get("floor") if isinstance(value, dict) else None
    return note if isinstance(note, str) and note.startswith("no floor") else None


def _price(raw: object) -> str:
    """A price on the grid as the dashboard shows one: three decimals, more only where the grid is finer."""
    try:
        return price_words(to_micros(str(raw)))
    except ValueError:
        return str(raw)


def _money(raw: object, *, signed: bool = False) -> str:
    value = _number(raw)
    return f"{value:+,.2f}" if signed else f"{value:,.2f}"


def _shares(raw: object) -> str:
    return "?" if raw is None else f"{_number(raw):,.2f}".rstrip("0").rstrip(".")


def _sale_lines(result: str | None) -> list[dict[str, object]]:
    """An exit's per-position answers (`positions`) or a flatten's (`sold`)."""
    try:
        value = json.loads(result) if result else None
    except ValueError:
        return []
    if not isinstance(value, dict):
        return []
    found = [*value.get("positions", []), *(value["sold"] if isinstance(value.get("sold"), list) else [])]
    return [line for line in found if isinstance(line, dict)]


def _named(line: dict[str, object]) -> str:
    what = line.get("question") or line.get("token") or line.get("condition_id") or ""
    return " ".join(str(p) for p in (line.get("strategy"), str(what)[:60], line.get("outcome")) if p)


def _number(raw: object) -> float:
    try:
        return float(str(raw))
    except ValueError:
        return 0.0


def unsold(result: str | None) -> list[str]:
    """What a done exit or flatten left unsold, and why, one line each (empty: it sold everything it was
    asked to): its per-position answers (`positions`, `sold`) and what it skipped. A done command that
    sold only part is "partly done" wherever it is answered (the dashboard, Telegram)."""
    try:
        value = json.loads(result) if result else None
    except ValueError:
        return []
    if not isinstance(value, dict):
        return []
    lines = []
    for line in [*value.get("positions", []), *value.get("sold", [])]:
        why = isinstance(line, dict) and (line.get("not_sold") or line.get("why_not"))
        if why:
            what = line.get("question") or line.get("token") or line.get("condition_id") or ""
            named = " ".join(str(p) for p in (line.get("strategy"), str(what)[:60], line.get("outcome")) if p)
            lines.append(f"{named}: sold {line.get('sold', '0')} of {line.get('held', '?')}; {why}")
    for line in value.get("skipped", []):
        if isinstance(line, dict) and line.get("why") and not line.get("token"):
            lines.append(str(line["why"]))  # the per-token ones are in `sold` already
    return lines
