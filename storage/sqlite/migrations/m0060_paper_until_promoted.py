from __future__ import annotations

from storage.sqlite.migrations.common import UtilsDatabase, now_ms


def up(db: UtilsDatabase) -> None:
    """Nothing is live unless promoted. Migration 0049 gave every strategy `live = 1` by default, so a
    strategy seeded or written without the column (the demo market maker) traded real money as soon as
    the desk was armed, though nobody promoted it. The column's default becomes 0 (SQLite changes a
    default only by rebuilding the table: the documented twelve-step way, the table's own text kept
    but for that default), and every strategy whose last promotion act in the audit log is not a
    promotion (`strategy.promote`) is set paper only, each audited, with one warning alert naming them
    that the operator sees until acknowledged."""
    (create,) = db.execute("SELECT sql FROM sqlite_master WHERE type = 'table' AND name = 'strategies'").fetchone()
    old_default = "live INTEGER NOT NULL DEFAULT 1"
    if old_default not in create:
        raise RuntimeError("strategies.live is not as migration 0049 made it: refusing to rebuild the table")
    scratch = "strategies_0060"  # the rebuilt table, under its own name until the old one is dropped
    db.execute(create.replace(old_default, "live INTEGER NOT NULL DEFAULT 0").replace(
        "CREATE TABLE strategies", f"CREATE TABLE {scratch}", 1))
    db.execute(f"INSERT INTO {scratch} SELECT * FROM strategies")
    db.execute("DROP TABLE strategies")
    db.execute(f"ALTER TABLE {scratch} RENAME TO strategies")
    promoted = {entity.removeprefix("strategy:") for entity, action in db.execute(
        """SELECT entity, action FROM audit_log a WHERE action IN ('strategy.promote', 'strategy.demote')
           AND id = (SELECT MAX(id) FROM audit_log b WHERE b.entity = a.entity
                     AND b.action IN ('strategy.promote', 'strategy.demote'))""").fetchall()
        if action == "strategy.promote"}
    demoted = [name for (name,) in db.execute(
        "SELECT name FROM strategies WHERE live = 1 ORDER BY name").fetchall() if name not in promoted]
    if not demoted:
        return
    now = now_ms()
    for name in demoted:
        db.execute("UPDATE strategies SET live = 0, version = version + 1, updated_at = ?, "
                   "updated_by = 'migration 0060' WHERE name = ?", [now, name])
        db.execute("""INSERT INTO audit_log (at, actor, action, entity, before, after)
                      VALUES (?, 'migration 0060', 'strategy.demote', ?, '{"live": true}', ?)""",
                   [now, f"strategy:{name}", '{"live": false, "why": "never promoted"}'])
    db.execute("""INSERT INTO alerts (created_at, level, source, code, message, subject)
                  VALUES (?, 'warning', 'upgrade', 'STRATEGIES_DEMOTED', ?, 'upgrade')""",
               [now, f"{len(demoted)} strateg{'y' if len(demoted) == 1 else 'ies'} never promoted to live "
                     f"({', '.join(demoted)}) would have traded real money whenever the desk was armed live (an "
                     "older release's default): each is paper only now (audited). Promote on the Strategies page "
                     "the ones you mean to trade live; acknowledge this alert once read."])
