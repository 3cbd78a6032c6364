"""Recording sessions as the operator meets them: `python -m engine session ...` in a real
process on a real database, export on one desk and import on another, a backtest picked by
session name, deletion and retention that keep what another session needs."""

from __future__ import annotations

import json
import sqlite3
import sys
import time
from pathlib import Path

import pytest

from storage.engine_stores.tick_store import prune_ticks
from storage.research import recording_sessions as rs
from storage.sqlite.db import Database
from storage.sqlite.migrations import migrate
from tests.helpers import isolated_env, run_cli

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))
from _recording import write_recording  # noqa: E402

START = 1_700_000_000_000


def _rows(path: Path, sql: str, params: tuple = ()) -> list[tuple]:
    with sqlite3.connect(path) as conn:
        return conn.execute(sql, params).fetchall()


def _tokens(path: Path, cid: str) -> tuple[str, str]:
    return _rows(path, "SELECT yes_token, no_token FROM markets WHERE condition_id = ?", (cid,))[0]


def _ok(args: list[str], env: dict[str, str]) -> dict:
    done = run_cli(args, env, timeout=120)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout[done.stdout.index("{") if args[:2] != ["session", "list"] else 0:])


def test_session_lifecycle_through_the_cli(tmp_path: Path) -> None:
    env = isolated_env(tmp_path)
    db_path = Path(env["TRADER_DB"])
    cids, _, _ = write_recording(db_path, markets=2, events=50, start_ms=START)
    started = _ok(["session", "start", "calm morning", "--markets", cids[0], "--notes", "before the debate"], env)
    assert started["status"] == "recording" and started["markets"] == [cids[0]]
    yes0, _ = _tokens(db_path, cids[0])
    yes1, _ = _tokens(db_path, cids[1])
    with sqlite3.connect(db_path) as conn:  # what the recorder writes meanwhile, on both markets
        now = int(time.time() * 1000)
        conn.executemany("INSERT INTO ticks (at, token_id, kind, side, price, size, mid) VALUES (?, ?, 'trade', "
                         "'BUY', 500000, 1000000, 500000)", [(now, yes0)] * 3 + [(now, yes1)] * 2)
    deadline = time.monotonic() + 10
    while int(time.time() * 1000) <= now and time.monotonic() < deadline:
        time.sleep(0.01)  # the stop must come after the ticks' millisecond
    stopped = _ok(["session", "stop", "calm morning"], env)
    assert stopped["status"] == "stopped" and stopped["ticks"] == 3  # its market only
    assert _ok(["session", "rename", "calm morning", "debate night"], env)["name"] == "debate night"
    assert _ok(["session", "note", "debate night", "spreads widened at 21:00"], env)["notes"] == \
        "spreads widened at 21:00"
    listed = json.loads(run_cli(["session", "list", "--json"], env).stdout)
    assert [(s["name"], s["ticks"], s["notes"]) for s in listed] == [("debate night", 3, "spreads widened at 21:00")]
    again = run_cli(["session", "start", "debate night"], env)
    assert again.returncode == 1 and "already exists" in again.stderr
    unconfirmed = run_cli(["session", "delete", "debate night"], env)
    assert unconfirmed.returncode == 1 and "--yes" in unconfirmed.stderr
    assert _ok(["session", "delete", "debate night", "--yes"], env)["ticks_removed"] == 3
    assert _rows(db_path, "SELECT COUNT(*) FROM ticks WHERE at >= ?", (now,)) == [(2,)]  # the other market's stay
    audit = _rows(db_path, "SELECT action, actor FROM audit_log WHERE entity LIKE 'session:%' ORDER BY id")
    assert [a for a, _ in audit] == ["session.start", "session.stop", "session.rename", "session.annotate",
                                     "session.delete"]
    assert all(actor.startswith("cli") for _, actor in audit)
    unknown = run_cli(["session", "stop", "nope"], env)
    assert unknown.returncode == 1 and "no recording session named 'nope'" in unknown.stderr


def test_export_then_import_on_another_desk_backtests_the_same(tmp_path: Path) -> None:
    desk_a, desk_b = tmp_path / "a", tmp_path / "b"
    desk_a.mkdir()
    desk_b.mkdir()
    env_a, env_b = isolated_env(desk_a), isolated_env(desk_b)
    path_a, path_b = Path(env_a["TRADER_DB"]), Path(env_b["TRADER_DB"])
    cids, start, end = write_recording(path_a, markets=3, events=1500, start_ms=START)
    db_a = Database(path_a)
    rs.start_session(db_a, name="two markets", markets=cids[:2], notes="exported", actor="test", now=start)
    rs.stop_session(db_a, name="two markets", actor="test", now=end)
    export = tmp_path / "two.jsonl.gz"
    exported = _ok(["session", "export", "two markets", str(export)], env_a)
    tokens = [t for c in cids[:2] for t in _tokens(path_a, c)]
    wanted = _rows(path_a, f"""SELECT at, token_id, kind, side, price, size, mid, data FROM ticks
                               WHERE token_id IN ('', {','.join('?' * 4)}) ORDER BY id""", tuple(tokens))
    assert exported["ticks"] == len(wanted) > 1500

    migrate(path_b)
    imported = _ok(["import-history", "--file", str(export)], env_b)
    assert imported["ticks"] == len(wanted) and imported["markets"] == sorted(cids[:2])
    got = _rows(path_b, "SELECT at, token_id, kind, side, price, size, mid, data FROM ticks ORDER BY id")
    assert got == wanted  # the same ticks, in the recorded order
    assert _rows(path_b, "SELECT condition_id FROM markets ORDER BY 1") == [(c,) for c in sorted(cids[:2])]
    twice = run_cli(["import-history", "--file", str(export), "--name", "again"], env_b)
    assert twice.returncode == 1 and "mix two recordings" in twice.stderr

    params = json.dumps({"size": 10})
    runs = [_ok(["backtest", "--strategy", "market_making", "--params", params, "--session", "two markets"], env)
            for env in (env_a, env_b)]
    assert runs[0]["events"] > 1500 and runs[0]["fills"] > 0
    # The same events, orders and fills. (Deciding on events, the count of decisions may differ by a
    # few: the order a desk hosts its markets follows their activity figures, which a session file
    # does not carry, and with it which marks coalesce.)
    same = ("events", "orders", "fills")
    assert [runs[0][k] for k in same] == [runs[1][k] for k in same]
    mixed = run_cli(["backtest", "--strategy", "market_making", "--session", "two markets", "--markets", cids[2]],
                    env_a)
    assert mixed.returncode == 1 and "drop --markets" in mixed.stderr


def test_import_refuses_a_file_that_is_not_a_session(tmp_path: Path) -> None:
    env = isolated_env(tmp_path)
    migrate(Path(env["TRADER_DB"]))
    bogus = tmp_path / "x.jsonl"
    bogus.write_text('{"hello": 1}\n')
    done = run_cli(["import-history", "--file", str(bogus)], env)
    assert done.returncode == 1 and "not an exported recording session" in done.stderr
    assert "Traceback" not in done.stderr


def test_delete_and_retention_keep_what_another_session_covers(tmp_path: Path) -> None:
    path = tmp_path / "t.db"
    cids, start, end = write_recording(path, markets=2, events=400, start_ms=START)
    db = Database(path)
    mid = (start + end) // 2
    rs.start_session(db, name="whole", actor="t", now=start)
    rs.stop_session(db, name="whole", actor="t", now=mid)
    rs.start_session(db, name="late first", markets=[cids[0]], actor="t", now=mid - 1000)
    rs.stop_session(db, name="late first", actor="t", now=end)
    total = _rows(path, "SELECT COUNT(*) FROM ticks")[0][0]
    # Retention far in the future: everything a session covers stays, the rest goes.
    removed = prune_ticks(path, before_ms=end + 1)
    yes1, no1 = _tokens(path, cids[1])
    uncovered = _rows(path, "SELECT COUNT(*) FROM ticks WHERE at > ? AND token_id IN (?, ?)", (mid, yes1, no1))
    assert removed > 0 and uncovered == [(0,)]
    assert _rows(path, "SELECT COUNT(*) FROM ticks")[0][0] == total - removed
    overlap = _rows(path, "SELECT COUNT(*) FROM ticks WHERE at BETWEEN ? AND ? AND token_id IN "
                          "(SELECT yes_token FROM markets WHERE condition_id = ?)", (mid - 1000, mid, cids[0]))[0][0]
    assert overlap > 0
    rs.delete_session(db, name="whole", actor="t")
    # The overlap is still needed by "late first"; the rest of "whole" is gone.
    assert _rows(path, "SELECT COUNT(*) FROM ticks WHERE at < ?", (mid - 1000,)) == [(0,)]
    assert _rows(path, "SELECT COUNT(*) FROM ticks WHERE at BETWEEN ? AND ? AND token_id IN "
                       "(SELECT yes_token FROM markets WHERE condition_id = ?)", (mid - 1000, mid, cids[0])) == \
        [(overlap,)]
    with pytest.raises(rs.SessionError, match="still recording"):
        rs.start_session(db, name="open", actor="t")
        rs.delete_session(db, name="open", actor="t")


def test_names_and_markets_are_validated(tmp_path: Path) -> None:
    path = tmp_path / "t.db"
    write_recording(path, markets=1, events=10, start_ms=START)
    db = Database(path)
    for bad, why in (("", "needs a name"), ("x" * 81, "at most 80"), ("-dash", "starts with a letter")):
        with pytest.raises(rs.SessionError, match=why):
            rs.start_session(db, name=bad, actor="t")
    with pytest.raises(rs.SessionError, match="unknown markets"):
        rs.start_session(db, name="ok", markets=["0xnope"], actor="t")
    with pytest.raises(rs.SessionError, match="at most 2000"):
        rs.start_session(db, name="ok", notes="n" * 2001, actor="t")
    assert rs.sessions(db) == []


def test_a_sweep_runs_on_a_session_by_name(tmp_path: Path) -> None:
    env = isolated_env(tmp_path)
    path = Path(env["TRADER_DB"])
    cids, start, end = write_recording(path, markets=3, events=600, start_ms=START)
    db = Database(path)
    rs.start_session(db, name="first two", markets=cids[:2], actor="t", now=start)
    rs.stop_session(db, name="first two", actor="t", now=end)
    db.dispose()
    space = json.dumps({"size": [10, 20, "int"]})
    sweep = ["sweep", "--strategy", "market_making", "--space", space, "--trials", "2", "--jobs", "1",
             "--session", "first two"]
    done = _ok(sweep, env)
    assert done["trials"] == 2
    # The same study as the session's span and markets given by hand (a study's name is the
    # digest of its settings, range and markets included): it finds the two trials done.
    by_hand = _ok([*sweep[:-2], "--from", str(start), "--to", str(end), "--markets", ",".join(cids[:2])], env)
    assert by_hand["name"] == done["name"] and by_hand["trials"] == 2
    other = _ok([*sweep[:-2], "--from", str(start), "--to", str(end), "--markets", cids[0], "--trials", "1"], env)
    assert other["name"] != done["name"]
    mixed = run_cli([*sweep, "--from", "2030-01-01"], env)
    assert mixed.returncode == 1 and "drop --from" in mixed.stderr
    unknown = run_cli([*sweep[:-1], "nope"], env)
    assert unknown.returncode == 1 and "no recording session named 'nope'" in unknown.stderr
