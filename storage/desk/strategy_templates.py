"""Strategy templates: a named kind and params, saved from a configured strategy (or given), to create
strategies from in the dashboard and the CLI (`python -m engine templates`).

A template never trades: it is a row of `strategy_templates`, which the engine never reads (it hosts,
promotes and arms rows of `strategies` only); a strategy made from one is an ordinary strategy, made
through `config.create_strategy` (its checks, its role check on the markets it names, paper only, its
audit row).

Each write here is configuration, as storage/desk/config.py's are: checked before anything is written
(the params as a strategy's are checked at its save: `config.checked_strategy`; the name), one
transaction holding the change and its audit row (`template.save`, `template.rename`,
`template.delete`), versioned (a rename or a delete names the version the trader saw; a template
changed meanwhile is refused as stale). Who may: templates are the desk's shared configuration, whatever
venue a strategy made from one trades, so an operator of every venue or the administrator
(`Scope.DESK`); a viewer, or an operator held to one venue, is refused (contracts/roles.py).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, text

from contracts.jsonsafe import read_stored
from contracts.roles import Scope
from contracts.strategy_kinds import registry
from storage.desk.audit import write_audit
from storage.desk.config import NAME_CHARS, ConfigError, Saved, StaleVersion, checked_strategy, create_strategy
from storage.sqlite.db import Database, now_ms


@dataclass(frozen=True)
class Template:
    name: str
    kind: str
    params: dict[str, Any]
    version: int
    updated_at: int
    updated_by: str
    problem: str = ""  # its stored params cannot be read ("" when they can)


def _checked_name(name: str) -> str:
    name = name.strip()
    if not name or len(name) > NAME_CHARS or not name.isprintable():
        raise ConfigError(f"a template needs a name of 1 to {NAME_CHARS} printable characters",
                          {"name": f"required, at most {NAME_CHARS} printable characters"})
    return name


def _checked(kind: str, params: Any) -> dict[str, Any]:
    """The params as a strategy of `kind` would be saved with them, or ConfigError naming each bad field
    (a template names no market: its strategies do)."""
    if kind not in registry():
        raise ConfigError(f"unknown strategy kind {kind!r} (known: {', '.join(sorted(registry()))})",
                          {"kind": "unknown"})
    checked, _ = checked_strategy(kind, params, [])
    return dict(checked)


def save_template(db: Database, *, name: str, kind: str, params: Any, actor: str) -> Template:
    """A new template (refused when the name is taken: rename or delete that one first)."""
    name = _checked_name(name)
    params = _checked(kind, params)
    db.require(f"saving strategy template {name!r}", Scope.DESK)
    at = now_ms()
    with db.write() as conn:
        inserted = conn.execute(text("""INSERT INTO strategy_templates (name, kind, params, version, created_at,
                                            created_by, updated_at, updated_by)
                                        VALUES (:n, :k, :p, 1, :at, :by, :at, :by) ON CONFLICT (name) DO NOTHING"""),
                                {"n": name, "k": kind, "p": json.dumps(params, sort_keys=True), "at": at,
                                 "by": actor}).rowcount
        if not inserted:
            raise ConfigError(f"a template named {name!r} already exists: choose another name, or rename or "
                              "delete that one", {"name": "taken"})
        write_audit(conn, actor=actor, action="template.save", entity=f"strategy_template:{name}", before=None,
                    after={"kind": kind, "params": params})
    return Template(name, kind, params, 1, at, actor)


def save_strategy_as_template(db: Database, *, strategy: str, name: str, actor: str) -> Template:
    """A template of a configured strategy's kind and params (its markets stay with it)."""
    with db.read() as conn:
        row = conn.execute(text("SELECT kind, params FROM strategies WHERE name = :n AND deleted_at IS NULL"),
                           {"n": strategy}).first()
    if row is None:
        raise ConfigError(f"no strategy named {strategy!r}", {"strategy": "unknown"})
    params, problem = read_stored(row[1], what="its stored params")
    if problem:
        raise ConfigError(f"strategy {strategy!r}'s params cannot be read ({problem}): fix and save it first")
    return save_template(db, name=name, kind=str(row[0]), params=params, actor=actor)


def rename_template(db: Database, *, name: str, new_name: str, version: int, actor: str) -> Template:
    new_name = _checked_name(new_name)
    db.require(f"renaming strategy template {name!r}", Scope.DESK)
    with db.write() as conn:
        if _row(conn, new_name) is not None:
            raise ConfigError(f"a template named {new_name!r} already exists", {"name": "taken"})
        at = now_ms()
        changed = conn.execute(text("""UPDATE strategy_templates SET name = :new, version = version + 1,
                                           updated_at = :at, updated_by = :by
                                       WHERE name = :n AND version = :v"""),
                               {"new": new_name, "at": at, "by": actor, "n": name, "v": version}).rowcount
        if not changed:
            _stale_or_gone(conn, name)
        write_audit(conn, actor=actor, action="template.rename", entity=f"strategy_template:{new_name}",
                    before={"name": name}, after={"name": new_name})
        found = _row(conn, new_name)
    assert found is not None
    return found


def delete_template(db: Database, *, name: str, version: int, actor: str) -> Template:
    """Gone for good (the strategies created with it keep their kind and params: they are copies)."""
    db.require(f"deleting strategy template {name!r}", Scope.DESK)
    with db.write() as conn:
        found = _row(conn, name)
        deleted = conn.execute(text("DELETE FROM strategy_templates WHERE name = :n AND version = :v"),
                               {"n": name, "v": version}).rowcount
        if not deleted or found is None:
            _stale_or_gone(conn, name)
        assert found is not None
        write_audit(conn, actor=actor, action="template.delete", entity=f"strategy_template:{name}",
                    before={"kind": found.kind, "params": found.params}, after=None)
    return found


def _stale_or_gone(conn: Connection, name: str) -> None:
    if _row(conn, name) is None:
        raise ConfigError(f"no template named {name!r} (it was renamed or deleted: reload)", {"name": "unknown"})
    raise StaleVersion(f"template {name!r}")


def list_templates(db: Database) -> list[Template]:
    with db.read() as conn:
        rows = conn.execute(text("""SELECT name, kind, params, version, updated_at, updated_by
                                    FROM strategy_templates ORDER BY name""")).all()
    return [_template(r) for r in rows]


def get_template(db: Database, name: str) -> Template | None:
    with db.read() as conn:
        return _row(conn, name)


def _row(conn: Connection, name: str) -> Template | None:
    row = conn.execute(text("""SELECT name, kind, params, version, updated_at, updated_by FROM strategy_templates
                               WHERE name = :n"""), {"n": name}).first()
    return None if row is None else _template(row)


def _template(row: Any) -> Template:
    params, problem = read_stored(row[2], what="its stored params")
    readable = isinstance(params, dict) and not problem
    return Template(str(row[0]), str(row[1]), params if readable else {}, int(row[3]), int(row[4]), str(row[5]),
                    "" if readable else problem or "not a JSON object")


def create_from_template(db: Database, *, template: str, name: str, markets: Any, enabled: bool,
                         actor: str) -> Saved:
    """A strategy of the template's kind and params trading `markets`: `config.create_strategy` (its checks,
    the role check on those markets, paper only until promoted, its `strategy.create` audit row)."""
    found = get_template(db, template)
    if found is None:
        raise ConfigError(f"no template named {template!r} (python -m engine templates list shows them)",
                          {"template": "unknown"})
    if found.problem:
        raise ConfigError(f"template {template!r}'s params cannot be read ({found.problem}): delete it and save "
                          "it again")
    return create_strategy(db, name=name, kind=found.kind, params=dict(found.params), markets=markets,
                           enabled=enabled, actor=actor)
