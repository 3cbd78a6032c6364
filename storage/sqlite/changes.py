"""Whether anyone has committed to the database since the last look, for a few microseconds.

The engine polls its command queue a hundred times a second so a kill is claimed within ~10 ms;
each poll was a read transaction through SQLAlchemy (~0.8 ms of CPU in the engine), so an idle
engine spent ~8 % of a core finding nothing. `PRAGMA data_version` on a connection of its own
changes whenever another connection (another process, or the engine's own writers) commits: while
it has not changed, nothing the poll reads can have changed either.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

from storage.sqlite.lite import read_connection


class ChangeWatch:
    """`changed()`: True on the first look and whenever another connection has committed since the
    previous one. Its connection is its own (it never writes), used from one thread."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._conn: sqlite3.Connection | None = None
        self._version: int | None = None

    def changed(self) -> bool:
        try:
            if self._conn is None:
                self._conn = read_connection(self.path)
            version = int(self._conn.execute("PRAGMA data_version").fetchone()[0])
        except sqlite3.Error:
            self.close()  # looked again from a new connection next time; until then, assume a change
            return True
        changed = version != self._version
        self._version = version
        return changed

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
        self._conn = None
        self._version = None
