"""The migrations are the schema, its one definition: read back with `PRAGMA table_info`, every
table keeps the storage conventions (a primary key; INTEGER or TEXT only, so money is integer
micro-units and every `*_at` is INTEGER milliseconds), and every SQL statement in the code is
prepared against the migrated schema, so a table or column the code names and the migrations
lack fails here rather than at run time."""

from __future__ import annotations

import re
import sqlite3
from pathlib import Path

import pytest

from storage.sqlite.migrations import (
    SchemaTooNew,
    applied_names,
    is_migrated,
    known_names,
    migrate,
)
from tests.test_layering import _sources
from tests.test_storage_boundary import sql_literals

MONEY = re.compile(r"^(price|size|filled|fee|fees|amount|cost|cash|equity|realized|unrealized)$"
                   r"|_(price|size|fee|equity|cost|cash)$")
NOT_PREPARED = re.compile(r"^\s*(CREATE|DROP|ALTER|PRAGMA|BEGIN|VACUUM)\b", re.I)  # schema, session


def _tables(conn: sqlite3.Connection) -> dict[str, list[tuple]]:
    names = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
             if not r[0].startswith(("sqlite_", "_"))]
    return {name: conn.execute(f"PRAGMA table_info({name})").fetchall() for name in names}


def test_every_table_keeps_the_storage_conventions(tmp_path: Path) -> None:
    assert migrate(tmp_path / "t.db") == known_names()
    with sqlite3.connect(tmp_path / "t.db") as conn:
        tables = _tables(conn)
    assert {"orders", "fills", "commands", "engine_state", "alerts"} <= set(tables)
    assert [t for t, cols in tables.items() if not any(c[5] for c in cols)] == []  # each has a primary key
    assert sorted({c[2] for cols in tables.values() for c in cols}) == ["INTEGER", "TEXT"]
    times = [(t, c[1], c[2]) for t, cols in tables.items() for c in cols if c[1].endswith("_at")]
    assert times and [x for x in times if x[2] != "INTEGER"] == []
    money = [(t, c[1], c[2]) for t, cols in tables.items() for c in cols if MONEY.search(c[1])]
    assert len(money) > 20 and [x for x in money if x[2] != "INTEGER"] == []


def _bindings(sql: str) -> dict[str, None] | tuple[None, ...]:
    names = re.findall(r"(?<!:):(\w+)", sql)
    return dict.fromkeys(names) if names else (None,) * sql.count("?")


def test_every_sql_statement_names_the_migrated_schema(tmp_path: Path) -> None:
    """Each plain SQL literal of storage/ and the engine (f-strings and `IN :list` expansions
    aside) is prepared with EXPLAIN against a database migrated to head."""
    migrate(tmp_path / "t.db")
    prepared, wrong = 0, []
    with sqlite3.connect(tmp_path / "t.db") as conn:
        for path in _sources("storage", "engine"):
            for line, sql, formatted in sql_literals(path):
                if formatted or NOT_PREPARED.match(sql) or re.search(r"\bIN :\w", sql):
                    continue
                try:
                    conn.execute("EXPLAIN " + sql, _bindings(sql))
                    prepared += 1
                except sqlite3.Error as exc:
                    wrong.append(f"{path.name}:{line}: {exc}")
    assert prepared > 200 and wrong == []


def test_the_statement_check_sees_a_missing_column(tmp_path: Path) -> None:
    migrate(tmp_path / "t.db")
    with sqlite3.connect(tmp_path / "t.db") as conn, \
            pytest.raises(sqlite3.OperationalError, match="no such column"):
        conn.execute("EXPLAIN SELECT no_such_column FROM orders WHERE id = :id", _bindings("... :id"))


def test_migrate_is_idempotent_and_uses_wal(tmp_path: Path) -> None:
    db = tmp_path / "t.db"
    migrate(db)
    assert migrate(db) == []
    assert is_migrated(db)
    conn = sqlite3.connect(db)
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert conn.execute("SELECT state, mode FROM engine_state").fetchall() == [("IDLE", "paper")]


def test_database_newer_than_code_is_refused(tmp_path: Path) -> None:
    db = tmp_path / "t.db"
    migrate(db)
    conn = sqlite3.connect(db)
    conn.execute(
        "INSERT INTO _sqlite_migrations (migration_set, name, applied_at) VALUES ('trader', '9999_future', 'x')"
    )
    conn.commit()
    conn.close()
    with pytest.raises(SchemaTooNew, match="9999_future"):
        migrate(db)
    conn = sqlite3.connect(db)
    assert "9999_future" in applied_names(conn)


def test_failed_migration_leaves_nothing_applied(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from storage.sqlite import migrations

    db = tmp_path / "t.db"

    def boom(_db) -> None:
        _db.execute("CREATE TABLE half_done (x INTEGER)")
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(migrations.m, "_migrations",
                        [*migrations.m._migrations, migrations.m._Migration("9000_boom", boom)])
    with pytest.raises(RuntimeError, match="disk on fire"):
        migrate(db)
    conn = sqlite3.connect(db)
    tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    assert "half_done" not in tables and "engine_state" not in tables


def test_old_database_keeps_its_rows_when_migrated(tmp_path: Path) -> None:
    from sqlite_utils import Database as UtilsDatabase

    from storage.sqlite import migrations

    db = tmp_path / "old.db"
    conn = sqlite3.connect(db, isolation_level=None)
    migrations.m.apply(UtilsDatabase(conn), stop_before="0002_markets")
    conn.execute("UPDATE engine_state SET state='KILLED', kill_latched=1, kill_reason='old'")
    conn.execute("INSERT INTO strategies (name, kind, params, enabled, created_at, updated_at, updated_by) "
                 "VALUES ('mm1', 'market_making', '{}', 1, 1, 1, 'me')")
    conn.close()
    assert "0002_markets" in migrate(db)
    conn = sqlite3.connect(db)
    assert conn.execute("SELECT state, kill_latched, kill_reason, trading_state FROM engine_state").fetchone() == (
        "KILLED", 1, "old", "ACTIVE")
    assert conn.execute("SELECT name, enabled, status FROM strategies").fetchall() == [("mm1", 1, "ok")]


def test_fills_learn_matched_not_broadcasted_and_keep_their_rows(tmp_path: Path) -> None:
    """0017 rebuilds fills for the venue's MATCHED_NOT_BROADCASTED: every row (its id too) survives,
    RETRYING takes its new rank, the new status is accepted where it was refused before, and the
    notifier's trigger on new fills (0014) still fires."""
    from sqlite_utils import Database as UtilsDatabase

    from storage.sqlite import migrations

    db = tmp_path / "old.db"
    conn = sqlite3.connect(db, isolation_level=None)
    migrations.m.apply(UtilsDatabase(conn), stop_before="0017_fill_status_not_broadcasted")
    conn.execute("INSERT INTO orders (id, client_id, mode, strategy, condition_id, token_id, outcome, side, price, "
                 "size, tif, status, status_rank, created_at, updated_at) VALUES (7, 'c', 'live', 's', 'm', 't', "
                 "'YES', 'BUY', 500000, 10000000, 'GTC', 'FILLED', 100, 1, 1)")
    fill = ("INSERT INTO fills (id, trade_id, order_id, mode, strategy, condition_id, token_id, outcome, side, price, "
            "size, liquidity, status, status_rank, matched_at, updated_at) VALUES (?, ?, 7, 'live', 's', 'm', 't', "
            "'YES', 'BUY', 500000, 10000000, 'MAKER', ?, ?, 1, 1)")
    conn.execute(fill, (3, "a", "RETRYING", 15))
    conn.execute(fill, (4, "b", "CONFIRMED", 30))
    with pytest.raises(sqlite3.IntegrityError):
        conn.execute(fill, (5, "c", "MATCHED_NOT_BROADCASTED", 5))
    conn.close()
    assert "0017_fill_status_not_broadcasted" in migrate(db)
    conn = sqlite3.connect(db)
    assert conn.execute("SELECT id, trade_id, status, status_rank FROM fills ORDER BY id").fetchall() == [
        (3, "a", "RETRYING", 25), (4, "b", "CONFIRMED", 30)]
    conn.execute(fill, (5, "c", "MATCHED_NOT_BROADCASTED", 5))
    indexes = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'fills'")}
    assert {"ix_fills_order", "ix_fills_market", "ix_fills_matched", "ix_fills_position"} <= indexes
    assert conn.execute("SELECT kind, ref FROM notify_events").fetchall() == [("fill", 3), ("fill", 4), ("fill", 5)]


def test_the_ledger_kept_before_the_upgrade_gets_its_order_trail_and_its_resolutions(tmp_path: Path) -> None:
    """0091 dates the end of each order that ended unfilled before it (the desk's cancel, the venue's
    refusal) by its close, as the order trail reads it; 0093 dates each market a ledger closed at its
    payouts by its first redeem claim there, else by its positions' last update."""
    from sqlite_utils import Database as UtilsDatabase

    from storage.sqlite import migrations

    db = tmp_path / "old.db"
    conn = sqlite3.connect(db, isolation_level=None)
    migrations.m.apply(UtilsDatabase(conn), stop_before="0091_order_trail")
    order = ("INSERT INTO orders (id, client_id, mode, strategy, condition_id, token_id, outcome, side, price, size, "
             "tif, status, status_rank, reason, end_reason, error, created_at, updated_at, closed_at) VALUES (?, ?, "
             "'live', 'mm', 'm1', 't1', 'YES', 'BUY', 500000, 10000000, 'GTC', ?, 100, 'quoting', ?, ?, ?, ?, ?)")
    conn.execute(order, (1, "a", "CANCELED", "replaced", None, 10, 30, 30))
    conn.execute(order, (2, "b", "REJECTED", None, "not enough balance", 20, 21, 21))
    conn.execute("INSERT INTO fills (trade_id, order_id, mode, strategy, condition_id, token_id, outcome, side, price, "
                 "size, liquidity, status, status_rank, matched_at, updated_at) VALUES ('t', 1, 'live', 'mm', 'm1', "
                 "'t1', 'YES', 'BUY', 500000, 4000000, 'MAKER', 'CONFIRMED', 30, 25, 25)")
    conn.execute("INSERT INTO markets (condition_id, question, yes_token, no_token, tick, min_size, first_seen_at, "
                 "updated_at, payout_yes, payout_no) VALUES ('m1', 'q', 't1', 't2', 10000, 5000000, 0, 0, 0, 1000000), "
                 "('m2', 'q2', 't3', 't4', 10000, 5000000, 0, 0, 1000000, 0)")
    position = ("INSERT INTO positions (mode, strategy, token_id, condition_id, outcome, updated_at) "
                "VALUES ('live', 'mm', ?, ?, 'YES', ?)")
    conn.execute(position, ("t1", "m1", 70))
    conn.execute(position, ("t3", "m2", 90))
    conn.execute("INSERT INTO claims (mode, kind, condition_id, strategy, token_id, amount, ref, created_at) "
                 "VALUES ('live', 'redeem', 'm2', 'mm', 't3', 4000000, 'm2:mm:t3', 80)")
    conn.close()
    assert {"0091_order_trail", "0093_ledger_resolutions"} <= set(migrate(db))
    conn = sqlite3.connect(db)
    assert conn.execute("SELECT id, ending_at, gate FROM orders ORDER BY id").fetchall() == [(1, 30, None),
                                                                                            (2, 21, None)]
    assert conn.execute("SELECT condition_id, payout_yes, at FROM resolutions ORDER BY 1").fetchall() == [
        ("m1", 0, 70), ("m2", 1000000, 80)]
