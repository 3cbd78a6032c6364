"""`python -m engine templates save|add|list|show|create|rename|delete`: strategy templates, a named kind
and params to create strategies from (storage/desk/strategy_templates.py). A template never trades: the
engine reads none; `create` makes an ordinary strategy of its kind and params, trading the markets given
(paper only until promoted, off unless `--enabled`), through the same checks and audit as the Strategies
page's.

Only the standard library at the top: the parser is built on every `python -m engine`.
"""

from __future__ import annotations

import argparse
import json
import re
from collections.abc import Callable
from typing import Any

from contracts.settings import Settings
from engine.cli.errors import CliError, actor, open_db


def _refused(exc: Exception) -> CliError:
    """A writer's refusal (its own words, every bad field named) as the CLI says it."""
    return CliError(str(exc))


def cmd_save(settings: Settings, args: argparse.Namespace) -> int:
    from contracts.roles import AccessRefused
    from storage.desk.config import ConfigError
    from storage.desk.strategy_templates import save_strategy_as_template

    try:
        found = save_strategy_as_template(open_db(settings), strategy=args.strategy, name=args.name, actor=actor())
    except (ConfigError, AccessRefused) as exc:
        raise _refused(exc) from None
    print(f"saved template {found.name!r}: {found.kind} with {len(found.params)} param(s), from strategy "
          f"{args.strategy!r} (its markets stay with it)")
    return 0


def cmd_add(settings: Settings, args: argparse.Namespace) -> int:
    from contracts.roles import AccessRefused
    from storage.desk.config import ConfigError
    from storage.desk.strategy_templates import save_template

    params = _json(args.params, "--params")
    try:
        found = save_template(open_db(settings), name=args.name, kind=args.kind, params=params, actor=actor())
    except (ConfigError, AccessRefused) as exc:
        raise _refused(exc) from None
    print(f"saved template {found.name!r}: {found.kind} with {len(found.params)} param(s)")
    return 0


def cmd_list(settings: Settings, args: argparse.Namespace) -> int:
    from storage.desk.strategy_templates import list_templates

    found = list_templates(open_db(settings))
    if args.json:
        print(json.dumps([_as_dict(t) for t in found], indent=2))
        return 0
    for t in found:
        problem = f"  (cannot be read: {t.problem})" if t.problem else ""
        print(f"{t.name:32} {t.kind:22} {json.dumps(t.params, sort_keys=True)[:80]}{problem}")
    if not found:
        print("no templates: save one from a strategy (python -m engine templates save <strategy> <name>)")
    return 0


def cmd_show(settings: Settings, args: argparse.Namespace) -> int:
    from storage.desk.strategy_templates import get_template

    found = get_template(open_db(settings), args.name)
    if found is None:
        raise CliError(f"no template named {args.name!r} (python -m engine templates list shows them)")
    print(json.dumps(_as_dict(found), indent=2))
    return 0


def cmd_create(settings: Settings, args: argparse.Namespace) -> int:
    from contracts.roles import AccessRefused
    from storage.desk.config import ConfigError
    from storage.desk.strategy_templates import create_from_template

    markets: Any
    if args.filter is not None:
        markets = {"filter": _json(args.filter, "--filter")}
    else:
        markets = [m for m in re.split(r"[\s,]+", args.markets or "") if m]
    try:
        saved = create_from_template(open_db(settings), template=args.template, name=args.name, markets=markets,
                                     enabled=args.enabled, actor=actor())
    except (ConfigError, AccessRefused) as exc:
        raise _refused(exc) from None
    state = "enabled" if args.enabled else "off (enable it on the Strategies page)"
    print(f"created strategy {args.name!r} from template {args.template!r}: paper only until promoted, {state}; "
          f"the engine reloads (command {saved.reload_command_id})")
    return 0


def cmd_rename(settings: Settings, args: argparse.Namespace) -> int:
    from storage.desk.strategy_templates import rename_template

    _by_version(settings, args.name, lambda db, version: rename_template(db, name=args.name, new_name=args.new_name,
                                                                         version=version, actor=actor()))
    print(f"renamed template {args.name!r} to {args.new_name.strip()!r}")
    return 0


def cmd_delete(settings: Settings, args: argparse.Namespace) -> int:
    from storage.desk.strategy_templates import delete_template

    _by_version(settings, args.name, lambda db, version: delete_template(db, name=args.name, version=version,
                                                                         actor=actor()))
    print(f"deleted template {args.name!r} (the strategies created with it keep their params)")
    return 0


def _by_version(settings: Settings, name: str, write: Callable[[Any, int], object]) -> None:
    """`write` the template `name` at the version read now (a change meanwhile is refused as stale)."""
    from contracts.roles import AccessRefused
    from storage.desk.config import ConfigError
    from storage.desk.strategy_templates import get_template

    db = open_db(settings)
    found = get_template(db, name)
    if found is None:
        raise CliError(f"no template named {name!r} (python -m engine templates list shows them)")
    try:
        write(db, found.version)
    except (ConfigError, AccessRefused) as exc:
        raise _refused(exc) from None


def _json(raw: str, flag: str) -> Any:
    try:
        return json.loads(raw)
    except ValueError as exc:
        raise CliError(f"{flag}: not JSON ({exc}), e.g. '{{\"size\": 20}}'") from None


def _as_dict(t: Any) -> dict[str, Any]:
    return {"name": t.name, "kind": t.kind, "params": t.params, "version": t.version, "updated_at": t.updated_at,
            "updated_by": t.updated_by, **({"problem": t.problem} if t.problem else {})}


def register(sub: argparse._SubParsersAction) -> None:
    templates = sub.add_parser("templates", help="strategy templates (a kind and its params, never traded): save, "
                                                 "add, list, show, create a strategy from one, rename, delete")
    verbs = templates.add_subparsers(dest="verb", required=True)
    save = verbs.add_parser("save", help="save a configured strategy's kind and params as a template (audited)")
    save.add_argument("strategy", help="the strategy's name")
    save.add_argument("name", help="the template's name")
    save.set_defaults(func=cmd_save)
    add = verbs.add_parser("add", help="save a template from a kind and params (checked as a strategy's are)")
    add.add_argument("name")
    add.add_argument("--kind", required=True, help="the strategy kind, e.g. market_making")
    add.add_argument("--params", default="{}", help="its params as JSON (the kind's defaults for the rest)")
    add.set_defaults(func=cmd_add)
    listing = verbs.add_parser("list", help="every template")
    listing.add_argument("--json", action="store_true", help="machine-readable output")
    listing.set_defaults(func=cmd_list)
    show = verbs.add_parser("show", help="one template, as JSON")
    show.add_argument("name")
    show.set_defaults(func=cmd_show)
    create = verbs.add_parser("create", help="a new strategy of a template's kind and params, trading the "
                                             "markets given (paper only until promoted; audited)")
    create.add_argument("template")
    create.add_argument("name", help="the new strategy's name")
    which = create.add_mutually_exclusive_group(required=True)
    which.add_argument("--markets", help="condition ids (or kalshi:<ticker>), comma or space separated")
    which.add_argument("--filter", help="a market filter as JSON, e.g. '{\"max_markets\": 4, \"sort\": \"volume\"}'")
    create.add_argument("--enabled", action="store_true", help="enable it now (else it is saved off)")
    create.set_defaults(func=cmd_create)
    rename = verbs.add_parser("rename", help="give a template another name (audited)")
    rename.add_argument("name")
    rename.add_argument("new_name")
    rename.set_defaults(func=cmd_rename)
    delete = verbs.add_parser("delete", help="delete a template (audited; the strategies created with it stay)")
    delete.add_argument("name")
    delete.set_defaults(func=cmd_delete)
