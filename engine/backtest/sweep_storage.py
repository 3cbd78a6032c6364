"""A sweep's study storage (Optuna's RDB storage over SQLAlchemy), opened safely by several
processes at the same moment.

Optuna creates its tables, version row and schema stamp on first use, and two processes doing
that together on a fresh database collide (PostgreSQL: a unique violation on the catalog's type
names; a shared SQLite file: `table ... already exists`). So the first use is serialized across
processes and machines: an advisory lock on a PostgreSQL server, an exclusive lock on a file
beside a SQLite study. The lock is held only while the storage and the study are first opened.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from contracts.sweep_spec import SweepError
from storage.research.sweep_files import use_wal

if TYPE_CHECKING:
    import optuna

HEARTBEAT_S = 10  # a running trial's worker writes a heartbeat this often
GRACE_S = 30  # a running trial without a heartbeat for this long is failed, and tried again once
# Overrides GRACE_S (whole seconds, at least 3; the heartbeat then comes at least 3 times a grace): lets
# a test watch a dead or abandoned trial's wait end in seconds instead of half a minute. Unset, GRACE_S.
GRACE_ENV = "SWEEP_GRACE_S"
PG_LOCK_KEY = 0x5EE9_0001  # the advisory lock every sweep process takes to open a study


def sqlite_path(url: str) -> Path | None:
    return Path(url.split("///", 1)[1]) if url.startswith("sqlite:///") else None


def is_postgres(url: str) -> bool:
    return url.startswith(("postgresql:", "postgresql+"))


@contextlib.contextmanager
def first_use_lock(url: str) -> Iterator[None]:
    """Held while a process opens the storage and its study (see the module doc)."""
    path = sqlite_path(url)
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(path.with_name(path.name + ".lock"), "a") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)  # released when the file closes, or the process dies
            yield
        return
    if not is_postgres(url):
        yield
        return
    import sqlalchemy
    from sqlalchemy.pool import NullPool

    engine = sqlalchemy.create_engine(url, poolclass=NullPool)
    try:
        with engine.connect() as conn:  # a session-level lock: the server drops it if the process dies
            conn.execute(sqlalchemy.text("SELECT pg_advisory_lock(:key)"), {"key": PG_LOCK_KEY})
            try:
                yield
            finally:
                conn.execute(sqlalchemy.text("SELECT pg_advisory_unlock(:key)"), {"key": PG_LOCK_KEY})
    finally:
        engine.dispose()


def grace_s() -> int:
    """GRACE_S, or the whole seconds GRACE_ENV names (3 or more; anything else is a SweepError)."""
    raw = os.environ.get(GRACE_ENV)
    if raw is None:
        return GRACE_S
    if not raw.strip().isdigit() or int(raw) < 3:
        raise SweepError(f"{GRACE_ENV}={raw!r} must be a whole number of seconds, at least 3")
    return int(raw)


def heartbeat_s(grace: int) -> int:
    """How often a running trial's worker writes its heartbeat: HEARTBEAT_S, and 3 times a grace at least."""
    return max(1, min(HEARTBEAT_S, grace // 3))


def rdb_storage(url: str) -> optuna.storages.RDBStorage:
    """The storage, with Optuna's heartbeat: a trial whose worker died is failed once its heartbeat
    is grace_s() old and queued again with the same params (once). Call under first_use_lock."""
    import optuna

    kwargs: dict[str, Any] = {}
    path = sqlite_path(url)
    if path is not None:
        use_wal(path)
        kwargs = {"connect_args": {"timeout": 60}}
    grace = grace_s()
    return optuna.storages.RDBStorage(
        url, engine_kwargs=kwargs, heartbeat_interval=heartbeat_s(grace), grace_period=grace,
        heartbeat_stale_trial_callback=optuna.storages.RetryHeartbeatStaleTrialCallback(max_retry=1))

