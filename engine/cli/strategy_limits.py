"""`python -m engine strategy-limits NAME [LIMIT=VALUE ...]`: a strategy's own limits (contracts/strategy_limits.py:
its capital, its loss limits and its exits, the trailing stop among them) as the Strategies page shows and saves
them. Without assignments it lists them (each stored value, or the default); with some it saves them through the
one writer (storage/desk/config.py: checked, audited, role-checked), and a change that switches protection off
(a stop set to 0) is refused unless `--confirm-off` says the operator means it. The engine reloads them at once."""

from __future__ import annotations

import argparse

from contracts.settings import Settings
from engine.cli.errors import CliError, actor, open_db


def _assignments(raw: list[str]) -> dict[str, str]:
    out: dict[str, str] = {}
    for item in raw:
        name, sep, value = item.partition("=")
        if not sep or not name.strip() or not value.strip():
            raise CliError(f"{item[:60]!r}: give each limit as NAME=VALUE, e.g. trailing_stop=0.05")
        out[name.strip()] = value.strip()
    return out


def cmd_strategy_limits(settings: Settings, args: argparse.Namespace) -> int:
    from contracts.roles import AccessRefused
    from contracts.strategy_limits import BY_NAME, STRATEGY_LIMITS
    from storage.dashboard_queries.strategy_queries import limit_rows
    from storage.dashboard_queries.trading_queries import strategy_row
    from storage.desk.config import Change, ConfigError, save_strategy_limits, stored_version

    db = open_db(settings)
    if strategy_row(db, args.strategy) is None:
        raise CliError(f"there is no strategy named {args.strategy!r} (the Strategies page lists them)")
    changes = _assignments(args.set)
    unknown = sorted(set(changes) - set(BY_NAME))
    if unknown:
        raise CliError(f"not a strategy limit: {', '.join(unknown)} (they are: {', '.join(BY_NAME)})")
    if changes:
        try:
            save_strategy_limits(db, args.strategy, {n: Change(v, stored_version(db, args.strategy, n))
                                                     for n, v in changes.items()},
                                 actor=actor(), confirmed=set(changes) if args.confirm_off else ())
        except (ConfigError, AccessRefused) as exc:
            raise CliError(str(exc)) from None
        print(f"saved {', '.join(f'{n}={v}' for n, v in changes.items())} for strategy {args.strategy!r} (audited; "
              "the engine reloads its limits now)")
    stored = {name: str(row["value"]) for name, row in limit_rows(db, args.strategy).items()}
    for spec in STRATEGY_LIMITS:
        value = stored.get(spec.name)
        print(f"{spec.name:<18} {value if value is not None else str(spec.default) + ' (default)':<16} {spec.unit}")
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    limits = sub.add_parser("strategy-limits", help="a strategy's own limits (allocation, loss limits, exits: stop "
                                                    "loss, take profit, trailing stop): list, or set NAME=VALUE")
    limits.add_argument("strategy", help="the strategy's name")
    limits.add_argument("set", nargs="*", metavar="NAME=VALUE", help="limits to save, e.g. trailing_stop=0.05")
    limits.add_argument("--confirm-off", action="store_true",
                        help="you mean a change that switches protection off (e.g. a stop loss set to 0): audited")
    limits.set_defaults(func=cmd_strategy_limits)
