"""What the migrations share: running a DDL script inside the runner's transaction, and the time
they stamp rows with."""

from __future__ import annotations

from storage.sqlite.utils_lib import Database as UtilsDatabase

__all__ = ["UtilsDatabase", "ddl", "now_ms"]


def ddl(db: UtilsDatabase, script: str) -> None:
    # executescript() would COMMIT the surrounding transaction; run statements one by one.
    for statement in script.split(";"):
        if statement.strip():
            db.execute(statement)


def now_ms() -> int:
    """Now, read through the package at each call: generating the fresh-schema snapshot sets a
    fixed time there (`storage.sqlite.migrations.now_ms`), which every migration must stamp."""
    from storage.sqlite import migrations

    return migrations.now_ms()
