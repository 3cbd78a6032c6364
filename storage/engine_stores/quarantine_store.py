"""What the engine set aside because it could not be read, so that it always starts: the
`quarantine` table (written by the engine only; `python -m engine status` lists it through
storage/desk/desk_status.py).

- A market row that cannot be read (contracts/market_rows.py), or an imported one that
  claims a token of a market the venue lists, is moved out of `markets` into its entry (the
  row kept as it was, to repair by hand), with a critical alert and an audit row. The entry
  goes by itself once a readable row of that market is back (the venue's next market refresh
  writes one for a market it lists).
- A configuration row that does not validate (a setting, a risk limit, a strategy's limit)
  stays where it is, for the operator to fix on its page: the engine runs without it (the
  value in force before, or the default; a strategy disabled) and its entry says so. The
  entries are replaced by each configuration load, so a fixed row's entry goes.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from sqlalchemy import Connection, text

from storage.desk.audit import raise_alert, write_audit

MARKET_REPAIR = ("moved out of the catalog and kept here as it was: the desk neither trades nor replays the market. "
                 "If the venue lists it, its next market refresh writes a good row and this entry goes; if it "
                 "came with an imported session, delete that session (python -m engine session delete NAME --yes) "
                 "and import a good file")
CONFIGURATION_REPAIRS = {"setting": "fix it on the Settings page; the engine keeps the value in force before (or "
                                    "the default) until then",
                         "risk limit": "fix it on the Risk page; the engine keeps the value in force before, or "
                                       "halts trading when there is none",
                         "strategy": "fix its limits on the Strategies page; the strategy stays disabled until then"}
ALERT_NAMES = 5  # markets named in one alert (the rest counted)


def set_aside_markets(conn: Connection, found: Sequence[tuple[Mapping[str, Any], str]], now: int) -> None:
    """Move each (row, why) out of `markets` into the quarantine, audited, with one critical
    alert naming those not set aside for that reason already (one alert for a thousand bad
    rows, and none again when a refresh writes the same bad row back)."""
    fresh = []
    for row, problem in found:
        cid = row.get("condition_id")
        known = conn.execute(text("SELECT problem FROM quarantine WHERE kind = 'market' AND subject = :s"),
                             {"s": f"market {cid}"}).scalar()
        if known != problem:
            fresh.append((row, problem))
        conn.execute(text("DELETE FROM markets WHERE condition_id = :c"), {"c": cid})
        conn.execute(text("""INSERT INTO quarantine (kind, subject, problem, repair, row, at)
                             VALUES ('market', :s, :p, :r, :row, :at)
                             ON CONFLICT (kind, subject) DO UPDATE SET problem = excluded.problem,
                                 row = excluded.row, at = excluded.at"""),
                     {"s": f"market {cid}", "p": problem, "r": MARKET_REPAIR,
                      "row": json.dumps(dict(row), default=str), "at": now})
        write_audit(conn, actor="engine", action="market.set_aside", entity=f"market:{cid}",
                    before={"condition_id": cid, "problem": problem}, after=None)
    if fresh:
        named = "; ".join(f"{row.get('condition_id')} ({problem})" for row, problem in fresh[:ALERT_NAMES])
        more = f" and {len(fresh) - ALERT_NAMES} more" if len(fresh) > ALERT_NAMES else ""
        raise_alert(conn, level="critical", source="engine", code="MARKET_SET_ASIDE",
                    message=f"market rows the engine cannot use were set aside, it runs without them: "
                            f"{named}{more}. `python -m engine status` says how to repair them")


def markets_back(conn: Connection) -> int:
    """Forget the entries of markets whose row is in the catalog again; returns how many."""
    return int(conn.execute(text("""DELETE FROM quarantine WHERE kind = 'market'
                                    AND substr(subject, 8) IN (SELECT condition_id FROM markets)""")).rowcount)


def configuration_now(conn: Connection, problems: Iterable[str], now: int) -> None:
    """The configuration entries become exactly `problems` (each "<subject>: <what is wrong>",
    as contracts' checks word them); entries of rows fixed since go."""
    by_subject: dict[str, list[str]] = {}
    for problem in problems:
        by_subject.setdefault(problem.split(": ", 1)[0], []).append(problem)
    conn.execute(text("DELETE FROM quarantine WHERE kind = 'configuration' AND subject NOT IN "
                      "(SELECT value FROM json_each(:s))"), {"s": json.dumps(sorted(by_subject))})
    for subject, found in by_subject.items():
        repair = next((r for prefix, r in CONFIGURATION_REPAIRS.items() if subject.startswith(prefix)),
                      "fix it where it is configured")
        conn.execute(text("""INSERT INTO quarantine (kind, subject, problem, repair, at)
                             VALUES ('configuration', :s, :p, :r, :at)
                             ON CONFLICT (kind, subject) DO UPDATE SET problem = excluded.problem,
                                 repair = excluded.repair"""),
                     {"s": subject, "p": "; ".join(found), "r": repair, "at": now})
