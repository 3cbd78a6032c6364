"""Configuration writes from the dashboard: strategies, risk limits, engine settings, operator
fair values and alert acknowledgements.

Each write is one BEGIN IMMEDIATE transaction holding the change and its audit row (before and
after), so both commit or neither does. Versioned rows use optimistic concurrency: the caller
passes the version it showed the operator and the UPDATE only matches that version
(`... SET version = version + 1 WHERE name = :n AND version = :v`); no match raises
`StaleVersion` ("changed elsewhere — reload") and nothing changes. After a configuration
change commits, a `reload_config` command is posted so the engine applies it on its next
tick.

This is the one writer of configuration, so it validates everything it writes, whoever
calls it (a page, a script, a test): unknown names, values out of bounds, NaN, infinities,
malformed or oversized JSON are refused with `ConfigError`, whose `fields` map each bad
field to its message. Nothing invalid reaches the tables. And it checks who asks, before
anything is written (contracts/roles.py, through the handle's `require`): the engine settings
and the desk's risk limits are the administrator's, as is promoting a strategy to live; a
strategy, its limits and fair values an operator's of the venues they touch; a viewer nothing.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import Connection, text

from contracts.jsonsafe import CONFIG_BYTES, JsonRefused, loads_bounded, preview, read_stored
from contracts.limits import BY_NAME as LIMITS_BY_NAME
from contracts.limits import CROSS_RULES, LimitError, cross_problems
from contracts.limits import parse_value as parse_limit
from contracts.market_filter import validate_market_spec
from contracts.roles import OPERATOR_SETTINGS, Scope, strategy_venues
from contracts.runtime_settings import BY_KEY as SETTINGS_BY_KEY
from contracts.runtime_settings import SettingError, parse_setting
from contracts.settings import load_settings
from contracts.strategy_kinds import registry, validate_params
from contracts.strategy_limits import BY_NAME as STRATEGY_LIMITS_BY_NAME
from contracts.venues import VENUES, venue_of
from storage.command_queue.commands import post_command
from storage.desk.audit import ack_alert as _ack_alert
from storage.desk.audit import write_audit
from storage.desk.limit_guard import desk_equity, loosenings, strategy_equity
from storage.sqlite.db import Database, now_ms

OPERATOR_SOURCE = "operator"
CONFLICT = "changed elsewhere — reload"


class ConfigError(ValueError):
    """A write that was refused; the message is meant for the operator, and `fields` maps each
    refused field to why."""

    def __init__(self, message: str, fields: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.fields = fields or {}


def _shown(name: str, why: str, labels: Mapping[str, str]) -> str:
    """One refused field as the operator reads it: by its label, never its internal key (a reason
    that already starts with its label is shown as it is)."""
    label = labels.get(name) or labels.get(name.removeprefix("params.")) or ""
    if label and not why.startswith(label):
        return f"{label}: {why}"
    if label or why[:1].isupper():
        return why
    return f"{name.removeprefix('params.').replace('_', ' ')}: {why}"


def _refuse(what: str, fields: dict[str, str], labels: Mapping[str, str] | None = None) -> None:
    """Every refused field at once, in words; `fields` (key -> why) stays for the page to show
    each error beside its own field."""
    if fields:
        detail = "; ".join(_shown(name, why, labels or {}) for name, why in fields.items())
        raise ConfigError(f"{what} refused, nothing saved ({detail})", fields)


class Unprotected(ConfigError):
    """Limit changes that switch protection off (contracts/protection.py), refused until the operator
    confirms them: `fields` maps each such limit to why, in words."""


def _refuse_unconfirmed(what: str, found: Mapping[str, str], confirmed: Collection[str],
                        labels: Mapping[str, str]) -> None:
    unconfirmed = {name: why for name, why in found.items() if name not in confirmed}
    if unconfirmed:
        detail = "; ".join(f"{labels.get(name, name)}: {why}" for name, why in unconfirmed.items())
        raise Unprotected(f"{what} not saved: {detail}. This switches protection off: confirm it to save "
                          "(the confirmation is audited)", unconfirmed)


class StaleVersion(ConfigError):
    def __init__(self, what: str) -> None:
        super().__init__(f"{what} was {CONFLICT}")


@dataclass(frozen=True)
class Saved:
    version: int
    reload_command_id: int


def _json(value: Any) -> str:
    return json.dumps(value, sort_keys=True)


def request_reload(db: Database, actor: str, reason: str) -> int:
    """Ask the engine to re-read its configuration (after the change has committed).

    The command expires after COMMAND_TTL_SECONDS like every other operator command; the
    setting is read here (cheap) rather than threaded through every write function."""
    ttl_s = load_settings().command_ttl_s
    return post_command(db, "reload_config", {"reason": reason}, actor=actor, ttl_s=ttl_s).id


# -- strategies ---------------------------------------------------------------------------------


def _strategy_row(conn: Connection, name: str) -> dict[str, Any] | None:
    row = (
        conn.execute(
            text("""SELECT name, kind, params, markets, enabled, status, last_error, version, paused, deleted_at,
                                      live
                               FROM strategies WHERE name = :n"""),
            {"n": name},
        )
        .mappings()
        .first()
    )
    if row is None:
        return None
    out = dict(row)
    for column, empty in (("params", {}), ("markets", [])):  # as the audit's "before" records them
        value, problem = read_stored(out[column], what=f"stored {column}")
        out[column] = empty if out[column] is None else preview(out[column]) if problem else value
    out["enabled"], out["paused"] = bool(out["enabled"]), bool(out["paused"])
    return out


NAME_CHARS = 64


def checked_strategy(kind: str, params: Any, markets: Any) -> tuple[dict[str, Any], Any]:
    """The params and markets of a strategy of `kind`, as given, once they validate; or
    ConfigError naming every bad field."""
    fields: dict[str, str] = {}
    for label, value in (("params", params), ("markets", markets)):
        try:
            loads_bounded(json.dumps(value, allow_nan=False), max_bytes=CONFIG_BYTES, max_depth=8, what=label)
        except (JsonRefused, ValueError, TypeError, RecursionError) as exc:
            fields[label] = f"not storable JSON: {exc}" if not isinstance(exc, JsonRefused) else str(exc)
    _refuse("strategy", fields)
    _, errors = validate_params(kind, params)
    fields.update({f"params.{k}" if k not in ("kind", "params") else k: v for k, v in errors.items()})
    fields.update({f"markets.{k}" if not k.startswith("markets") else k: v
                   for k, v in validate_market_spec(markets, kind).items()})
    found = registry().get(kind)
    _refuse("strategy", fields, {p.name: p.title for p in found.params_schema} if found else {})
    return params, markets


def create_strategy(
    db: Database, *, name: str, kind: str, params: dict[str, Any], markets: Any, enabled: bool, actor: str
) -> Saved:
    name = name.strip()
    if not name or len(name) > NAME_CHARS or not name.isprintable():
        raise ConfigError(f"a strategy needs a name of 1 to {NAME_CHARS} printable characters",
                          {"name": "required, at most 64 printable characters"})
    params, markets = checked_strategy(kind, params, markets)
    db.require(f"creating strategy {name!r}", Scope.VENUE, strategy_venues(kind, markets))
    now = now_ms()
    with db.write() as conn:
        inserted = conn.execute(
            # Paper only (live = 0) whatever the desk's mode: trading it live is a promotion of its own.
            text("""INSERT INTO strategies (name, kind, params, markets, enabled, version, created_at,
                        updated_at, updated_by, live) VALUES (:n, :k, :p, :m, :e, 1, :now, :now, :by, 0)
                    ON CONFLICT (name) DO NOTHING"""),
            {
                "n": name,
                "k": kind,
                "p": _json(params),
                "m": _json(markets),
                "e": int(enabled),
                "now": now,
                "by": actor,
            },
        ).rowcount
        if not inserted:
            deleted = conn.execute(text("SELECT deleted_at IS NOT NULL FROM strategies WHERE name = :n"),
                                   {"n": name}).scalar()
            raise ConfigError(f"a deleted strategy was named {name!r} (its orders and fills keep the name): choose "
                              "another" if deleted else f"a strategy named {name!r} already exists")
        write_audit(
            conn,
            actor=actor,
            action="strategy.create",
            entity=f"strategy:{name}",
            before=None,
            after={"kind": kind, "params": params, "markets": markets, "enabled": enabled},
        )
    return Saved(1, request_reload(db, actor, f"strategy {name} created"))


def update_strategy(
    db: Database, name: str, version: int, changes: dict[str, Any], actor: str, action: str
) -> Saved:
    """CAS-update one strategy row; `changes` are decoded values of the columns to set."""
    _require_for_strategy(db, name, changes, action)
    stored = {
        k: _json(v) if k in ("params", "markets") else int(v) if isinstance(v, bool) else v
        for k, v in changes.items()
    }
    sets = ", ".join(f"{column} = :{column}" for column in stored)
    with db.write() as conn:
        before = _strategy_row(conn, name)
        if before is None or before["deleted_at"] is not None:
            raise ConfigError(f"strategy {name!r} no longer exists: reload")
        updated = conn.execute(
            text(f"""UPDATE strategies SET {sets}, version = version + 1, updated_at = :now, updated_by = :by
                     WHERE name = :name AND version = :version"""),
            {**stored, "now": now_ms(), "by": actor, "name": name, "version": version},
        ).rowcount
        if updated == 0:
            raise StaleVersion(f"strategy {name!r}")
        after = {**before, **changes, "version": version + 1}
        write_audit(
            conn,
            actor=actor,
            action=action,
            entity=f"strategy:{name}",
            before={k: before[k] for k in after},
            after=after,
        )
    return Saved(version + 1, request_reload(db, actor, f"strategy {name} {action.split('.')[-1]}"))


# What a strategy's change is called in a refusal ("Enabling strategy 'mm' was refused: ...").
_STRATEGY_VERBS = {"strategy.update": "saving", "strategy.enable": "enabling", "strategy.disable": "disabling",
                   "strategy.pause": "pausing", "strategy.resume": "resuming", "strategy.promote": "promoting to live",
                   "strategy.demote": "sending back to paper", "strategy.delete": "deleting"}


def _strategy_venues(db: Database, name: str, markets: Any = None) -> frozenset[str]:
    """The venues a stored strategy trades, and those of its new `markets` when given (none known: its
    row is gone, which the write then says)."""
    with db.read() as conn:
        row = conn.execute(text("SELECT kind, markets FROM strategies WHERE name = :n"), {"n": name}).first()
    if row is None:
        return frozenset()
    stored, problem = read_stored(row[1], what="stored markets")
    venues = frozenset(VENUES) if problem else strategy_venues(row[0], stored)  # unreadable: fail closed
    return venues if markets is None else venues | strategy_venues(row[0], markets)


def _require_for_strategy(db: Database, name: str, changes: dict[str, Any], action: str) -> None:
    """Promoting to live is arming, the administrator's; any other change an operator's of every venue the
    strategy trades, before and after the change. The write's version check makes the venues read here
    the ones it changes: a strategy changed meanwhile is refused as stale."""
    what = f"{_STRATEGY_VERBS.get(action, action)} strategy {name!r}"
    if changes.get("live") is True:
        db.require(what, Scope.ADMIN)
    else:
        db.require(what, Scope.VENUE, _strategy_venues(db, name, changes.get("markets")))


def save_strategy(
    db: Database, *, name: str, version: int, params: dict[str, Any], markets: Any, actor: str
) -> Saved:
    """New params and markets. An edit clears an error status: the engine disabled the strategy
    and keeps it off "until edited", and it stays disabled until the operator enables it."""
    with db.read() as conn:
        kind = conn.execute(text("SELECT kind FROM strategies WHERE name = :n"), {"n": name}).scalar()
    if kind is None:
        raise ConfigError(f"strategy {name!r} no longer exists: reload")
    params, markets = checked_strategy(kind, params, markets)
    changes = {"params": params, "markets": markets, "status": "ok", "last_error": None}
    return update_strategy(db, name, version, changes, actor, "strategy.update")


def set_strategy_enabled(db: Database, *, name: str, version: int, enabled: bool, actor: str) -> Saved:
    changes: dict[str, Any] = {"enabled": enabled}
    if enabled:
        changes.update(status="ok", last_error=None)  # the engine only runs rows with status 'ok'
    return update_strategy(
        db, name, version, changes, actor, "strategy.enable" if enabled else "strategy.disable"
    )


# -- risk limits and engine settings ------------------------------------------------------------


@dataclass(frozen=True)
class Change:
    """One key's new stored value and the version the operator saw (None: no row yet)."""

    value: str
    version: int | None


def _save_versioned(
    db: Database,
    *,
    table: str,
    key_column: str,
    changes: dict[str, Change],
    actor: str,
    action: str,
    shown: Callable[[str], Any] = preview,
    scope: tuple[str, str] | None = None,
    loosened: Mapping[str, str] | None = None,
) -> Saved:
    """Insert (version None: the row must not exist yet) or CAS-update key/value rows, all in
    one transaction: one stale row refuses the whole batch. `shown` is what the audit records.
    `scope` (column, value) narrows the rows to one owner, e.g. one strategy's limits. `loosened`:
    the keys whose change the operator confirmed as switching protection off, with why; each is
    audited as such (`<area>.loosened`, the why in its after)."""
    if not changes:
        raise ConfigError("nothing to save")
    now = now_ms()
    owner_column, owner = scope or ("", "")
    where_owner = f" AND {owner_column} = :owner" if scope else ""
    insert_columns, insert_values = (f"{owner_column}, ", ":owner, ") if scope else ("", "")
    with db.write() as conn:
        for key, change in changes.items():
            params = {"key": key, "value": change.value, "now": now, "by": actor, "version": change.version,
                      "owner": owner}
            before = conn.execute(
                text(f"SELECT value FROM {table} WHERE {key_column} = :key{where_owner}"), params
            ).scalar()
            if change.version is None:
                changed = conn.execute(
                    text(f"""INSERT INTO {table} ({insert_columns}{key_column}, value, version, updated_at,
                                                    updated_by) VALUES ({insert_values}:key, :value, 1, :now, :by)
                                                ON CONFLICT DO NOTHING"""),
                    params,
                ).rowcount
            else:
                changed = conn.execute(
                    text(f"""UPDATE {table} SET value = :value, version = version + 1,
                                                    updated_at = :now, updated_by = :by
                                                WHERE {key_column} = :key{where_owner} AND version = :version"""),
                    params,
                ).rowcount
            if changed == 0:
                raise StaleVersion(f"{key!r}")  # rolls back every change of the batch
            why = (loosened or {}).get(key)
            write_audit(
                conn,
                actor=actor,
                action=action if why is None else f"{action.split('.')[0]}.loosened",
                entity=f"{table}:{owner + ':' if scope else ''}{key}",
                before=None if before is None else {"value": shown(before)},
                after={"value": shown(change.value)} if why is None else {
                    "value": shown(change.value), "confirmed_loosening": why},
            )
    versions = [1 if c.version is None else c.version + 1 for c in changes.values()]
    return Saved(max(versions), request_reload(db, actor, f"{action} {', '.join(changes)}"))


def _checked_limits(changes: dict[str, Change], catalogue: Mapping[str, Any], *, what: str,
                    kind: str) -> dict[str, Change]:
    """Each change parsed against its limit's spec into canonical form; any unknown name or bad
    value refuses the whole save with every field's error."""
    fields: dict[str, str] = {}
    checked: dict[str, Change] = {}
    for name, change in changes.items():
        spec = catalogue.get(name)
        if spec is None:
            fields[name] = f"unknown {kind} (known: {', '.join(catalogue)})"
            continue
        try:
            checked[name] = Change(format(parse_limit(spec, change.value), "f"), change.version)
        except LimitError as exc:
            fields[name] = str(exc)
    _refuse(what, fields)
    return checked


def _cross_checked(stored: Mapping[str, str], checked: dict[str, Change]) -> dict[str, str]:
    """Limits that only make sense together (contracts/limits.py, `cross_problems`), with
    the stored values for those not changed; only rules this save touches are reported, so a
    save of an unrelated limit is not refused for an older problem (the Risk page shows those).
    Keyed by the changed limits each problem involves."""
    values: dict[str, Decimal] = {}
    for name, spec in LIMITS_BY_NAME.items():
        raw = checked[name].value if name in checked else stored.get(name, spec.default)
        try:
            values[name] = parse_limit(spec, raw)
        except LimitError:
            continue  # a stored value that does not validate is reported on its own
    # Each problem is shown on the limits this save changed (what the operator just typed), and
    # only for rules this save touches.
    problems: dict[str, str] = {}
    for name, why in cross_problems(values).items():
        for changed in sorted(CROSS_RULES[name] & checked.keys()):
            problems.setdefault(changed, why)
    return problems


def save_risk_limits(db: Database, changes: dict[str, Change], *, actor: str,
                     confirmed: Collection[str] = ()) -> Saved:
    """Values are decimal strings in each limit's human unit (contracts/limits.py), checked
    against the catalogue and stored in canonical form. A change that switches protection off
    (contracts/protection.py, against the account's equity now) is refused with `Unprotected`
    unless its name is in `confirmed`; confirmed, it is audited as such. The administrator's: they bound
    every operator's trading."""
    db.require("saving the desk's risk limits", Scope.ADMIN)
    checked = _checked_limits(changes, LIMITS_BY_NAME, what="risk limits", kind="risk limit")
    with db.read() as conn:
        stored: dict[str, str] = dict(conn.execute(text("SELECT name, value FROM risk_limits")).all())
        equity = desk_equity(conn)
    _refuse("risk limits", _cross_checked(stored, checked))
    loose = loosenings("desk", LIMITS_BY_NAME, {k: c.value for k, c in checked.items()}, stored, equity)
    _refuse_unconfirmed("risk limits", loose, confirmed, {k: s.title for k, s in LIMITS_BY_NAME.items()})
    return _save_versioned(db, table="risk_limits", key_column="name", changes=checked, actor=actor,
                           action="risk_limit.update", loosened=loose)


def save_risk_limit(db: Database, *, name: str, value: str, version: int | None, actor: str,
                    confirmed: bool = False) -> Saved:
    return save_risk_limits(db, {name: Change(value, version)}, actor=actor, confirmed={name} if confirmed else ())


def save_strategy_limits(db: Database, strategy: str, changes: dict[str, Change], *, actor: str,
                         confirmed: Collection[str] = ()) -> Saved:
    """One strategy's capital, loss limits and exits (contracts/strategy_limits.py): checked
    against the catalogue like the global limits, stored in canonical form, audited; a change that
    switches its protection off needs confirming, as `save_risk_limits`."""
    with db.read() as conn:
        exists = conn.execute(text("SELECT 1 FROM strategies WHERE name = :n"), {"n": strategy}).scalar()
        stored: dict[str, str] = dict(conn.execute(
            text("SELECT name, value FROM strategy_limits WHERE strategy = :s"), {"s": strategy}).all())
        equity = strategy_equity(conn, strategy)
    if not exists:
        raise ConfigError(f"strategy {strategy!r} no longer exists: reload", {"strategy": "unknown"})
    db.require(f"saving the limits of strategy {strategy!r}", Scope.VENUE, _strategy_venues(db, strategy))
    what = f"limits of strategy {strategy!r}"
    checked = _checked_limits(changes, STRATEGY_LIMITS_BY_NAME, what=what, kind="strategy limit")
    loose = loosenings("strategy", STRATEGY_LIMITS_BY_NAME, {k: c.value for k, c in checked.items()}, stored, equity)
    _refuse_unconfirmed(what, loose, confirmed, {k: s.title for k, s in STRATEGY_LIMITS_BY_NAME.items()})
    return _save_versioned(db, table="strategy_limits", key_column="name", changes=checked, actor=actor,
                           action="strategy_limit.update", scope=("strategy", strategy), loosened=loose)


def stored_version(db: Database, strategy: str, name: str) -> int | None:
    """The version of one stored strategy limit (None: none stored), for a writer that sets it at once."""
    with db.read() as conn:
        return conn.execute(text("SELECT version FROM strategy_limits WHERE strategy = :s AND name = :n"),
                            {"s": strategy, "n": name}).scalar()


def save_settings(db: Database, values: dict[str, tuple[Any, int | None]], *, actor: str) -> Saved:
    """key -> (value, version seen); checked against the catalogue (contracts/runtime_settings.py)
    and stored as JSON. The administrator's, but for the few an operator keeps as part of trading
    (contracts/roles.py, OPERATOR_SETTINGS)."""
    what = f"saving the setting{'s' if len(values) != 1 else ''} {', '.join(sorted(values))}"
    if values and set(values) <= set(OPERATOR_SETTINGS):
        db.require(what, Scope.VENUE, {OPERATOR_SETTINGS[key]() for key in values})
    else:
        db.require(what, Scope.ADMIN)
    fields: dict[str, str] = {}
    changes: dict[str, Change] = {}
    for key, (value, version) in values.items():
        spec = SETTINGS_BY_KEY.get(key)
        if spec is None:
            fields[key] = f"unknown setting (known: {', '.join(SETTINGS_BY_KEY)})"
            continue
        try:
            changes[key] = Change(json.dumps(parse_setting(spec, value), allow_nan=False), version)
        except (SettingError, ValueError, TypeError) as exc:
            fields[key] = str(exc)
    _refuse("settings", fields)
    return _save_versioned(
        db,
        table="settings",
        key_column="key",
        changes=changes,
        actor=actor,
        action="setting.update",
        shown=_decoded,
    )


def save_setting(db: Database, *, key: str, value: Any, version: int | None, actor: str) -> Saved:
    return save_settings(db, {key: (value, version)}, actor=actor)


def _decoded(raw: str | None) -> Any:
    """A stored setting as the audit records it: decoded, or (unreadable) its text, shortened."""
    value, problem = read_stored(raw)
    return preview(raw) if problem and raw is not None else value


# -- operator fair values -----------------------------------------------------------------------


def set_fair_value(db: Database, *, condition_id: str, fair_value: int, actor: str) -> Saved:
    """The operator's fair probability for a market, in micros (0..1_000_000)."""
    if not 0 <= fair_value <= 1_000_000:
        raise ConfigError("a fair value is a probability between 0 and 1")
    db.require("setting a fair value", Scope.VENUE, {venue_of(condition_id)})
    with db.write() as conn:
        if conn.execute(text("SELECT 1 FROM markets WHERE condition_id = :c"), {"c": condition_id}).first() is None:
            raise ConfigError(f"no market {str(condition_id)[:80]!r} is known: pick one from the Markets page",
                              {"condition_id": "unknown market"})
        before = conn.execute(
            text("SELECT fair_value FROM signals WHERE condition_id = :c AND source = :s"),
            {"c": condition_id, "s": OPERATOR_SOURCE},
        ).scalar()
        version = conn.execute(
            text("""INSERT INTO signals (condition_id, source, fair_value, version, updated_at, updated_by)
                    VALUES (:c, :s, :v, 1, :now, :by)
                    ON CONFLICT (condition_id, source) DO UPDATE SET fair_value = excluded.fair_value,
                        version = signals.version + 1, updated_at = excluded.updated_at,
                        updated_by = excluded.updated_by
                    RETURNING version"""),
            {"c": condition_id, "s": OPERATOR_SOURCE, "v": fair_value, "now": now_ms(), "by": actor},
        ).scalar_one()
        write_audit(
            conn,
            actor=actor,
            action="fair_value.set",
            entity=f"signal:{condition_id}:{OPERATOR_SOURCE}",
            before=None if before is None else {"fair_value": before},
            after={"fair_value": fair_value},
        )
    return Saved(version, request_reload(db, actor, f"fair value {condition_id}"))


def clear_fair_value(db: Database, *, condition_id: str, actor: str) -> int | None:
    """Remove the operator's value (external sources stay); returns the id of the reload command
    that tells the engine, or None if there was no value to clear."""
    db.require("clearing a fair value", Scope.VENUE, {venue_of(condition_id)})
    with db.write() as conn:
        before = conn.execute(
            text("""DELETE FROM signals WHERE condition_id = :c AND source = :s
                                      RETURNING fair_value"""),
            {"c": condition_id, "s": OPERATOR_SOURCE},
        ).scalar()
        if before is None:
            return None
        write_audit(
            conn,
            actor=actor,
            action="fair_value.clear",
            entity=f"signal:{condition_id}:{OPERATOR_SOURCE}",
            before={"fair_value": before},
            after=None,
        )
    return request_reload(db, actor, f"fair value {condition_id} cleared")


# -- alerts -------------------------------------------------------------------------------------


def ack_alert(db: Database, alert_id: int, *, actor: str) -> bool:
    """Acknowledge one alert (audited by storage.desk.audit); False if already acknowledged or unknown.
    Any operator's, whatever its venue (it only says the alert was read)."""
    db.require("acknowledging an alert", Scope.PROTECTIVE)
    with db.write() as conn:
        return _ack_alert(conn, alert_id, actor=actor)
