from __future__ import annotations

from storage.sqlite.migrations.common import UtilsDatabase, now_ms


def up(db: UtilsDatabase) -> None:
    """Value betting acts on a fair value only at or above a minimum confidence (`min_confidence`, 0.6 for a
    new strategy: contracts/strategy_schemas/value_betting.py). A value-betting strategy stored before that
    param existed acted on every fair value, whatever its source's confidence: it is given 0 (no floor), so
    the upgrade changes nothing it does, each audited, with one info alert saying where to raise it."""
    rows = db.execute("""SELECT name FROM strategies WHERE kind = 'value_betting' AND json_valid(params)
                         AND json_type(params) = 'object' AND json_type(params, '$.min_confidence') IS NULL
                         ORDER BY name""").fetchall()
    if not rows:
        return
    now, names = now_ms(), [name for (name,) in rows]
    for name in names:
        db.execute("""UPDATE strategies SET params = json_set(params, '$.min_confidence', 0), version = version + 1,
                      updated_at = ?, updated_by = 'migration 0096' WHERE name = ?""", [now, name])
        db.execute("""INSERT INTO audit_log (at, actor, action, entity, before, after)
                      VALUES (?, 'migration 0096', 'strategy.update', ?, '{"min_confidence": null}', ?)""",
                   [now, f"strategy:{name}", '{"min_confidence": 0, "why": "stored before the param: no floor, as '
                                              'before"}'])
    db.execute("""INSERT INTO alerts (created_at, level, source, code, message, subject)
                  VALUES (?, 'info', 'upgrade', 'VALUE_BETTING_FLOOR', ?, 'upgrade')""",
               [now, f"Value betting now acts on a fair value only at or above a minimum confidence (0.6 for a new "
                     f"strategy). {', '.join(names)} kept 0, acting on every fair value as before (audited): raise "
                     "it on the Strategies page to leave out unsure signals."])
