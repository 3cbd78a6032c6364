"""What every subcommand of `python -m engine` shares: exit codes, the error it prints, who acts.

Exit codes: 0 success, 1 the command failed (message on stderr), 2 usage (bad arguments or a
payload refused before anything ran).
"""

from __future__ import annotations

import getpass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from contracts.settings import Settings
    from storage.sqlite.db import Database

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2


class CliError(Exception):
    """Printed to stderr as-is; exit 1."""


def actor() -> str:
    """Who posts or acknowledges, for the audit log: `cli:<login>`."""
    try:
        return f"cli:{getpass.getuser()}"
    except Exception:
        return "cli"


def open_db(settings: Settings) -> Database:
    """The desk's database, or a CliError saying how to create it."""
    from storage.sqlite.db import Database
    from storage.sqlite.migrations import is_migrated

    if not is_migrated(settings.db_path):
        raise CliError(
            f"no initialised database at {settings.db_path}: start the engine first "
            "(make run, or python -m engine run)"
        )
    return Database(settings.db_path)
