"""`python -m engine session start|stop|rename|note|list|export|import|delete`: named recording
sessions (storage/research/recording_sessions.py) and their files (storage/research/session_files.py). Importing
another desk's export is also `python -m engine import-history --file FILE` (engine/cli/research.py).

Only the standard library at the top: the parser is built on every `python -m engine`.
"""

from __future__ import annotations

import argparse
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from contracts.settings import Settings
from engine.cli.errors import CliError, actor, open_db

if TYPE_CHECKING:
    from storage.sqlite.db import Database


def _when(at_ms: int | None) -> str | None:
    return None if at_ms is None else datetime.fromtimestamp(at_ms / 1000, tz=UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _run(settings: Settings, action: Any) -> Any:
    from storage.research.recording_sessions import SessionError

    db = open_db(settings)
    try:
        return action(db)
    except SessionError as exc:
        raise CliError(str(exc)) from None


def _shown(session: Any, ticks: int | None = None) -> dict[str, Any]:
    return {"name": session.name, "status": "recording" if session.recording else "stopped",
            "origin": session.origin, "from": _when(session.started_at), "to": _when(session.stopped_at),
            "markets": list(session.markets) or "every market recorded", "notes": session.notes,
            **({} if ticks is None else {"ticks": ticks})}


def cmd_start(settings: Settings, args: argparse.Namespace) -> int:
    from storage.research import recording_sessions as rs

    markets = [m.strip() for m in (args.markets or "").split(",") if m.strip()]
    session = _run(settings, lambda db: rs.start_session(db, name=args.name, markets=markets, notes=args.notes or "",
                                                         actor=actor()))
    print(json.dumps(_shown(session), indent=2))
    return 0


def cmd_stop(settings: Settings, args: argparse.Namespace) -> int:
    from storage.research import recording_sessions as rs

    def stop(db: Database) -> dict[str, Any]:
        session = rs.stop_session(db, name=args.name, actor=actor())
        return _shown(session, rs.tick_count(db, session))

    print(json.dumps(_run(settings, stop), indent=2))
    return 0


def cmd_rename(settings: Settings, args: argparse.Namespace) -> int:
    from storage.research import recording_sessions as rs

    session = _run(settings, lambda db: rs.rename_session(db, name=args.name, new_name=args.new_name, actor=actor()))
    print(json.dumps(_shown(session), indent=2))
    return 0


def cmd_note(settings: Settings, args: argparse.Namespace) -> int:
    from storage.research import recording_sessions as rs

    session = _run(settings, lambda db: rs.annotate_session(db, name=args.name, notes=args.notes, actor=actor()))
    print(json.dumps(_shown(session), indent=2))
    return 0


def cmd_list(settings: Settings, args: argparse.Namespace) -> int:
    from storage.research import recording_sessions as rs

    found = _run(settings, lambda db: [_shown(s, rs.tick_count(db, s)) for s in rs.sessions(db)])
    if args.json:
        print(json.dumps(found, indent=2))
    elif not found:
        print("no recording sessions (start one: python -m engine session start NAME)")
    else:
        for s in found:
            markets = s["markets"] if isinstance(s["markets"], str) else f"{len(s['markets'])} markets"
            print(f"{s['name']:<30} {s['status']:<9} {s['from']} → {s['to'] or 'now':<20} {s['ticks']:>10,} ticks  "
                  f"{markets}  {s['origin']}" + (f"  — {s['notes']}" if s["notes"] else ""))
    return 0


def cmd_export(settings: Settings, args: argparse.Namespace) -> int:
    from engine.cli.progress import ProgressBar
    from storage.research import recording_sessions as rs
    from storage.research.session_files import export_session

    path = Path(args.file).expanduser()
    if path.is_dir() or not path.parent.is_dir():
        raise CliError(f"{args.file!r}: give a file name in an existing folder, e.g. {args.name}.jsonl.gz")
    if path.exists() and not args.force:
        raise CliError(f"{path} exists: pass --force to replace it")

    def export(db: Database) -> int:
        total = rs.tick_count(db, rs.get_session(db, args.name))
        bar = ProgressBar(f"export {args.name!r}")
        return export_session(db, args.name, path, progress=lambda done: bar(done, max(total, done)))

    written = _run(settings, export)
    print(json.dumps({"name": args.name, "file": str(path), "ticks": written}, indent=2))
    return 0


def import_file(settings: Settings, file: str, name: str | None) -> dict[str, Any]:
    """Import a session file (checked, all or nothing: storage/research/session_files.py); what was
    imported, or a CliError saying why nothing was."""
    from storage.research.session_files import import_session

    session, ticks = _run(settings, lambda db: import_session(
        db, Path(file).expanduser(), actor=actor(), name=name,
        progress=lambda n: print(f"imported {n:,} ticks…", flush=True)))
    return _shown(session, ticks)


def cmd_import(settings: Settings, args: argparse.Namespace) -> int:
    print(json.dumps(import_file(settings, args.file, args.name), indent=2))
    return 0


def cmd_delete(settings: Settings, args: argparse.Namespace) -> int:
    from storage.research import recording_sessions as rs

    if not args.yes:
        raise CliError(f"deleting session {args.name!r} removes its ticks (those no other session covers) for good: "
                       "pass --yes to confirm (export it first to keep a copy)")
    removed = _run(settings, lambda db: rs.delete_session(db, name=args.name, actor=actor()))
    print(json.dumps({"deleted": args.name, "ticks_removed": removed}, indent=2))
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    session = sub.add_parser("session", help="named recording sessions: start, stop, rename, note, list, export, "
                                             "import, delete")
    verbs = session.add_subparsers(dest="verb", required=True)
    start = verbs.add_parser("start", help="start a session now (the engine records the markets it watches)")
    start.add_argument("name")
    start.add_argument("--markets", help="comma-separated condition ids (default: every market recorded)")
    start.add_argument("--notes", help="what this session is for")
    start.set_defaults(func=cmd_start)
    stop = verbs.add_parser("stop", help="end a session now")
    stop.add_argument("name")
    stop.set_defaults(func=cmd_stop)
    rename = verbs.add_parser("rename", help="give a session another name")
    rename.add_argument("name")
    rename.add_argument("new_name")
    rename.set_defaults(func=cmd_rename)
    note = verbs.add_parser("note", help="replace a session's notes")
    note.add_argument("name")
    note.add_argument("notes")
    note.set_defaults(func=cmd_note)
    listing = verbs.add_parser("list", help="every session, the newest first, with its tick count")
    listing.add_argument("--json", action="store_true", help="machine-readable output")
    listing.set_defaults(func=cmd_list)
    export = verbs.add_parser("export", help="write a session to a file another desk imports "
                                             "(python -m engine session import FILE)")
    export.add_argument("name")
    export.add_argument("file", help="FILE.jsonl, or FILE.jsonl.gz compressed")
    export.add_argument("--force", action="store_true", help="replace the file if it exists")
    export.set_defaults(func=cmd_export)
    imported = verbs.add_parser("import", help="import a session another desk exported (checked line by line; "
                                               "all or nothing)")
    imported.add_argument("file", help="FILE.jsonl or FILE.jsonl.gz, as `session export` writes it")
    imported.add_argument("--name", help="import it under this name (default: the name in the file)")
    imported.set_defaults(func=cmd_import)
    delete = verbs.add_parser("delete", help="remove a stopped session and the ticks no other session covers")
    delete.add_argument("name")
    delete.add_argument("--yes", action="store_true", help="confirm: the ticks are removed for good")
    delete.set_defaults(func=cmd_delete)
