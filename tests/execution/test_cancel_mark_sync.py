"""The CANCEL_PENDING mark of a decision's cancel is committed before the request goes out but
without waiting for the disk (engine/execution/cancels.py): the fsync was most of the desk's
reaction to a book move (bench/reaction.py). Every other write stays synced: the placement of an
order (a power loss must never lose an order the venue holds) and an operator command's cancel,
whose noted effect says whether it may be posted again."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import Connection, event

from contracts.domain import Intent, Side
from storage.command_queue import command_effects
from tests.desk import Desk, make_desk
from tests.execution.test_executor import orders, quote, step

NORMAL, FULL = 1, 2  # what PRAGMA synchronous reads


def watch_commits(desk: Desk) -> list[tuple[int, tuple[str, ...]]]:
    """Each commit of the writer: its synchronous level, and the orders' statuses it commits."""
    commits: list[tuple[int, tuple[str, ...]]] = []

    @event.listens_for(desk.db.writer, "commit")
    def committing(conn: Connection) -> None:
        raw = conn.connection.driver_connection
        assert raw is not None
        level = raw.execute("PRAGMA synchronous").fetchone()[0]
        commits.append((level, tuple(r[0] for r in raw.execute("SELECT status FROM orders ORDER BY id"))))

    return commits


def levels_where(commits: list[tuple[int, tuple[str, ...]]], status: str) -> list[int]:
    """The levels of the commits that moved an order to `status` or added one."""
    found: list[int] = []
    before: tuple[str, ...] = ()
    for level, statuses in commits:
        added = status == "new" and len(statuses) > len(before)
        if added or any(s == status and (i >= len(before) or before[i] != status) for i, s in enumerate(statuses)):
            found.append(level)
        before = statuses
    return found


def test_a_decisions_cancel_mark_is_unsynced_and_its_placements_are_synced(tmp_path: Path) -> None:
    desk = make_desk(tmp_path / "d.db", writer_sync="FULL")
    desk.books.set("Y1", bids=[(0.40, 100)], asks=[(0.60, 100)])
    commits = watch_commits(desk)
    step(desk, Intent("mm", "c1", (quote(Side.BUY, 0.49, 10),)))
    step(desk, Intent("mm", "c1", (quote(Side.BUY, 0.47, 10),)))  # the touch moved: cancel, place again
    assert [o[-1] for o in orders(desk)] == ["CANCELED", "LIVE"]
    assert levels_where(commits, "CANCEL_PENDING") == [NORMAL]
    assert set(levels_where(commits, "new")) == {FULL}
    assert commits[-1][0] == FULL  # (and the writer is FULL again for whatever comes next)


def test_an_operator_commands_cancel_mark_is_synced(tmp_path: Path) -> None:
    desk = make_desk(tmp_path / "d.db", writer_sync="FULL")
    desk.books.set("Y1", bids=[(0.40, 100)], asks=[(0.60, 100)])
    step(desk, Intent("mm", "c1", (quote(Side.BUY, 0.49, 10),)))
    commits = watch_commits(desk)
    with command_effects.applying(1):
        desk.run(desk.executor.cancel_orders(list(desk.executor.state.orders.values())))
    assert levels_where(commits, "CANCEL_PENDING") == [FULL]
