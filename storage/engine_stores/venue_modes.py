"""Each venue armed on its own, one row per venue (venue_modes, migration 0099): its mode
(`set_venue_mode`, engine/process/control.py) and the account and host the running engine read for it
at its start (what arming checks a preflight against: storage/desk/arming.py). A venue without a row
is on paper and read nothing."""

from __future__ import annotations

from sqlalchemy import Connection, text

from storage.command_queue import command_effects
from storage.sqlite.db import now_ms


def modes(conn: Connection) -> dict[str, str]:
    """'paper' or 'live' by venue, for each venue with a row."""
    return {str(venue): str(mode) for venue, mode in conn.execute(text("SELECT venue, mode FROM venue_modes"))}


def set_mode(conn: Connection, venue: str, mode: str) -> None:
    """`venue` armed in `mode` (noted in the operator's command's effect, as `<venue>_mode`)."""
    conn.execute(text("""INSERT INTO venue_modes (venue, mode, updated_at) VALUES (:v, :m, :now)
                         ON CONFLICT (venue) DO UPDATE SET mode = excluded.mode, updated_at = excluded.updated_at"""),
                 {"v": venue, "m": mode, "now": now_ms()})
    command_effects.note(conn, {f"{venue}_mode": mode})


def record_reads(conn: Connection, venue: str, account: str | None, host: str | None) -> None:
    """What the engine read for `venue` at its start: the account (said without its secret) and the host."""
    conn.execute(text("""INSERT INTO venue_modes (venue, account, host, updated_at) VALUES (:v, :a, :h, :now)
                         ON CONFLICT (venue) DO UPDATE SET account = excluded.account, host = excluded.host,
                             updated_at = excluded.updated_at"""),
                 {"v": venue, "a": account, "h": host, "now": now_ms()})
