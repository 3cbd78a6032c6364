"""`python -m engine signals post|list|sources|token`, `signals-api` and `mcp`: fair values from
outside the desk (docs/strategies-and-risk.md, "Fair values from outside").

- `signals post` stores a fair value for a market as the signals API would (the same checks,
  contracts/outside_signals.py; the same writer, storage/desk/signal_intake.py), `via` "cli";
- `signals list` shows the fair values in force with their provenance, `signals sources` the
  model-confidence breaker's verdict on each source;
- `signals token` writes a new SIGNALS_API_TOKEN to .env (mode 600) and prints it once, for the
  model that posts;
- `signals-api` serves the HTTP interface (supervisord's `signals` program), `mcp` the MCP server
  an assistant starts over stdio.

Only the standard library at the top: the parser is built on every `python -m engine`.
"""

from __future__ import annotations

import argparse
import json
import sys
import uuid
from datetime import UTC, datetime
from typing import Any

from contracts.settings import Settings
from engine.cli.errors import EXIT_OK, CliError, actor, open_db

DEFAULT_TTL_S = 3600


def _when(at_ms: int | None) -> str:
    return "—" if not at_ms else datetime.fromtimestamp(at_ms / 1000, tz=UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def cmd_post(settings: Settings, args: argparse.Namespace) -> int:
    from contracts.outside_signals import PostRefused, parse_post
    from storage.desk.signal_intake import record_post
    from storage.sqlite.db import now_ms

    db = open_db(settings)
    now = now_ms()
    raw: dict[str, Any] = {"market": args.market, "source": args.source, "fair_value": args.fair,
                           "posted_at": now, "nonce": uuid.uuid4().hex, "ttl_s": args.ttl}
    if args.confidence is not None:
        raw["confidence"] = args.confidence
    if args.detail:
        raw["detail"] = args.detail
    try:
        accepted = record_post(db, parse_post(raw, now), via="cli", actor=actor(), now=now)
    except PostRefused as refused:
        raise CliError(f"refused ({refused.code.value}): {refused.message}; nothing changed") from None
    print(json.dumps({"accepted": accepted.post_id, "market": args.market, "source": args.source,
                      "fair_value": args.fair, "expires_at": now + args.ttl * 1000}))
    return EXIT_OK


def cmd_list(settings: Settings, args: argparse.Namespace) -> int:
    from storage.desk.signal_intake import stored_signals

    found = stored_signals(open_db(settings))
    if args.json:
        print(json.dumps(found))
        return EXIT_OK
    if not found:
        print("No fair values: post one with `python -m engine signals post` or the signals API.")
    for row in found:
        sure = "—" if row["confidence"] is None else f"{row['confidence']:g}"
        print(f"{row['market'][:18]}…  {row['source']:<16} {row['fair_value']:<8g} confidence {sure:<6} "
              f"via {row['via'] or 'table':<8} by {row['by']:<16} expires {_when(row['expires_at'])}"
              + ("  [source benched]" if row["source_state"] == "benched" else ""))
    return EXIT_OK


def cmd_sources(settings: Settings, args: argparse.Namespace) -> int:
    from storage.desk.signal_intake import source_verdicts

    verdicts = source_verdicts(open_db(settings))
    if args.json:
        print(json.dumps([{"source": v.source, "state": v.state, "brier": None if v.brier is None else v.brier / 1e6,
                           "markets": v.markets, "judged_at": v.judged_at, "reason": v.reason} for v in verdicts]))
        return EXIT_OK
    if not verdicts:
        print("No source judged yet: the breaker judges a source once markets it posted on have resolved.")
    for v in verdicts:
        brier = "—" if v.brier is None else f"{v.brier / 1e6:.4f}"
        print(f"{v.source:<20} {v.state:<8} Brier {brier} over {v.markets} resolved market(s), judged "
              f"{_when(v.judged_at)}" + (f": {v.reason}" if v.reason else ""))
    return EXIT_OK


def cmd_token(settings: Settings, args: argparse.Namespace) -> int:
    import secrets

    from contracts.passwords import write_env_value

    token = secrets.token_urlsafe(32)
    write_env_value(settings.env_file, "SIGNALS_API_TOKEN", token)
    print(f"Wrote a new SIGNALS_API_TOKEN to {settings.env_file} (mode 600); the old one no longer works once the "
          "signals API restarts (`supervisorctl -c supervisord.conf restart signals`; the first time, `python -m "
          "tools.optional_programs && supervisorctl -c supervisord.conf update` adds it). Give it to the model that "
          "posts, as `Authorization: Bearer <token>`; it is shown this once:", file=sys.stderr)
    print(token)
    return EXIT_OK


def cmd_signals_api(settings: Settings, args: argparse.Namespace) -> int:
    from contracts.settings import read_env, secret_values
    from engine.cli import keystore
    from engine.logs import configure_logging
    from engine.outside import signals_api

    settings = keystore.unlock_secrets(settings)  # a sealed token: read with the passphrase
    if settings.signals_api_token is None:
        print("SIGNALS_API_TOKEN is not set: the signals API is off (`python -m engine signals token` makes one)")
        return EXIT_OK
    raw = str(args.port) if args.port is not None else read_env(settings.root).get(signals_api.PORT_ENV)
    try:
        port = signals_api.port_from(raw)
    except ValueError as exc:
        raise CliError(str(exc)) from None
    open_db(settings).dispose()  # the schema must be there: the engine or `engine init` makes it
    configure_logging(settings.log_level, secret_values(settings))
    try:
        return signals_api.run(settings.db_path, settings.signals_api_token, port)
    except OSError as exc:
        raise CliError(f"cannot serve the signals API on 127.0.0.1:{port}: {exc.strerror or exc} (another program "
                       f"has the port? set {signals_api.PORT_ENV} in .env)") from None


def cmd_mcp(settings: Settings, args: argparse.Namespace) -> int:
    from contracts.settings import secret_values
    from engine.logs import configure_logging
    from engine.outside import mcp_server

    try:
        enabled = mcp_server.enabled_tools(settings)
    except ValueError as exc:
        raise CliError(str(exc)) from None
    open_db(settings).dispose()
    configure_logging(settings.log_level, secret_values(settings), stream=sys.stderr)  # stdout is the protocol's
    return mcp_server.run(settings.db_path, enabled)


def register(sub: argparse._SubParsersAction) -> None:
    signals = sub.add_parser("signals", help="fair values from outside: post, list, sources (the breaker's verdicts), "
                                             "token (the signals API's)")
    verbs = signals.add_subparsers(dest="verb", required=True)
    post = verbs.add_parser("post", help="post a fair value for a market, with its source, confidence and expiry")
    post.add_argument("--market", required=True, help="the market's condition id (0x…)")
    post.add_argument("--source", required=True, help="who says so: a lowercase name, e.g. mymodel")
    post.add_argument("--fair", required=True, help="the probability of YES, strictly between 0 and 1, e.g. 0.62")
    post.add_argument("--confidence", help="how sure the source is, 0 to 1 (settles conflicts between strategies)")
    post.add_argument("--ttl", type=int, default=DEFAULT_TTL_S,
                      help=f"seconds the value holds (default {DEFAULT_TTL_S}; at most 7 days)")
    post.add_argument("--detail", help="why, in a line (shown with the value)")
    post.set_defaults(func=cmd_post)
    listing = verbs.add_parser("list", help="every fair value stored, with where it came from")
    listing.add_argument("--json", action="store_true", help="machine-readable output")
    listing.set_defaults(func=cmd_list)
    sources = verbs.add_parser("sources", help="the model-confidence breaker's verdict on each source")
    sources.add_argument("--json", action="store_true", help="machine-readable output")
    sources.set_defaults(func=cmd_sources)
    verbs.add_parser("token", help="write a new SIGNALS_API_TOKEN to .env and print it once").set_defaults(
        func=cmd_token)
    api = sub.add_parser("signals-api", help="serve the signals API on 127.0.0.1 (SIGNALS_API_PORT, default 9465; "
                                             "supervisord's `signals` program; off without SIGNALS_API_TOKEN)")
    api.add_argument("--port", type=int, help="the port (default: SIGNALS_API_PORT from .env, else 9465)")
    api.set_defaults(func=cmd_signals_api)
    sub.add_parser("mcp", help="serve the desk to an assistant over MCP on stdio (tools beyond reading and posting "
                               "fair values only as MCP_TOOLS enables them)").set_defaults(func=cmd_mcp)
