"""The MCP server as an assistant meets it: the official SDK's client starts `python -m engine mcp`
over stdio on a real SQLite file. It lists the reading tools and post_fair_value, never the ones
that trade, change limits or arm unless MCP_TOOLS enables them; it reads the desk; a fair value it
posts is stored with `via` mcp; a call of a tool that is off, or a hostile post, is refused with a
reason and changes nothing; every call is audited."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

from mcp import Client
from mcp.client.stdio import StdioServerParameters
from sqlalchemy import text

from storage.sqlite.db import Database
from storage.sqlite.migrations import migrate
from tests.helpers import ROOT, isolated_env
from tests.outside.test_signals_api import MARKET, add_market

READS = {"desk_status", "markets", "positions", "pnl", "alerts", "decisions", "fair_values", "post_fair_value"}


def _desk(tmp_path: Path, **extra: str) -> tuple[dict[str, str], Database]:
    env = isolated_env(tmp_path, **extra)
    migrate(Path(env["TRADER_DB"]))
    db = Database(Path(env["TRADER_DB"]))
    add_market(db, question="Will the home side win the final?")
    with db.write() as conn:
        conn.execute(text("""INSERT INTO strategies (name, kind, params, markets, enabled, created_at, updated_at,
                                 updated_by) VALUES ('vb', 'value_betting', '{}', '[]', 1, 0, 0, 'test')"""))
    return env, db


async def _session(env: dict[str, str], calls: list[tuple[str, dict[str, Any]]]) -> tuple[set[str], list[Any]]:
    params = StdioServerParameters(command=sys.executable, args=["-m", "engine", "mcp"], env=env, cwd=str(ROOT))
    async with Client(params, read_timeout_seconds=60) as client:
        tools = {tool.name for tool in (await client.list_tools()).tools}
        results = [await client.call_tool(name, arguments) for name, arguments in calls]
    return tools, results


def _text(result: Any) -> str:
    return " ".join(getattr(part, "text", "") for part in result.content)


def _audit(db: Database) -> list[tuple[str, dict[str, Any]]]:
    with db.read() as conn:
        rows = conn.execute(text("SELECT action, after FROM audit_log WHERE actor = 'mcp' ORDER BY id")).all()
    return [(r.action, json.loads(r.after)) for r in rows]


def test_an_assistant_reads_the_desk_and_posts_a_fair_value_but_cannot_trade(tmp_path: Path) -> None:
    env, db = _desk(tmp_path)
    calls: list[tuple[str, dict[str, Any]]] = [("markets", {"words": "final"}),
             ("desk_status", {}),
             ("post_fair_value", {"market": MARKET, "source": "assistant", "fair_value": 0.7, "confidence": 0.6,
                                  "ttl_s": 600, "detail": "read the team news"}),
             ("post_fair_value", {"market": MARKET, "source": "assistant", "fair_value": 1.2}),
             ("place_order", {"condition_id": MARKET, "outcome": "YES", "side": "BUY", "size": 10, "price": 0.5}),
             ("set_strategy_limit", {"strategy": "vb", "name": "max_position", "value": "1000"}),
             ("arm_live", {}),
             ("fair_values", {})]
    tools, results = asyncio.run(_session(env, calls))
    assert tools == READS
    markets, status, posted, hostile, order, limit, arm, fair = results
    assert not markets.is_error and "Will the home side win the final?" in _text(markets)
    assert not status.is_error and '"mode"' in _text(status)
    assert not posted.is_error, _text(posted)
    assert hostile.is_error and "OUT_OF_RANGE" in _text(hostile)
    for refused, group in ((order, "trade"), (limit, "limits"), (arm, "arm")):
        assert refused.is_error and "TOOL_OFF" in _text(refused) and f"MCP_TOOLS={group}" in _text(refused)
    assert not fair.is_error and '"mcp:assistant"' in _text(fair) and '"via": "mcp"' in _text(fair)
    with db.read() as conn:
        signals = conn.execute(text("SELECT source, fair_value, confidence, via, updated_by FROM signals")).all()
        commands = conn.execute(text("SELECT COUNT(*) FROM commands")).scalar_one()
        limits = conn.execute(text("SELECT COUNT(*) FROM strategy_limits")).scalar_one()
    assert [tuple(s) for s in signals] == [("assistant", 700_000, 600_000, "mcp", "mcp:assistant")]
    assert commands == 0 and limits == 0  # nothing traded, armed or changed
    audit = _audit(db)
    assert [action for action, _ in audit] == [f"mcp.{name}" for name, _ in calls]
    outcomes = [after["outcome"] for _, after in audit]
    assert outcomes == ["done", "done", "done", "refused", "refused", "refused", "refused", "done"]
    db.dispose()


def test_tools_the_operator_enables_are_offered_and_go_through_the_desks_commands(tmp_path: Path) -> None:
    env, db = _desk(tmp_path, MCP_TOOLS="trade,limits")
    order = {"condition_id": MARKET, "outcome": "YES", "side": "BUY", "size": 10, "price": 0.5}
    stop_loss = {"strategy": "vb", "name": "stop_loss_move"}
    calls: list[tuple[str, dict[str, Any]]] = [("place_order", order),
             ("set_strategy_limit", {"strategy": "vb", "name": "max_position", "value": "-5"}),
             ("arm_live", {}),
             ("set_strategy_limit", {**stop_loss, "value": "0.1"}),
             ("set_strategy_limit", {**stop_loss, "value": "0"}),  # switches its stop loss off: asks first
             ("set_strategy_limit", {**stop_loss, "value": "0", "confirm_loosening": True})]
    tools, (placed, bad_limit, arm, stop_set, loosen, confirmed) = asyncio.run(_session(env, calls))
    assert tools == READS | {"place_order", "set_strategy_limit"}
    assert not placed.is_error, _text(placed)
    assert bad_limit.is_error and "refused" in _text(bad_limit)
    assert arm.is_error and "TOOL_OFF" in _text(arm)
    assert not stop_set.is_error and not confirmed.is_error, (_text(stop_set), _text(confirmed))
    assert loosen.is_error and "0 turns its stop loss (price) off" in _text(loosen), _text(loosen)
    assert "confirm_loosening=true" in _text(loosen) and "Nothing changed" in _text(loosen)
    with db.read() as conn:
        commands = conn.execute(text("SELECT kind, actor FROM commands WHERE kind != 'reload_config'")).all()
        stored = conn.execute(text("SELECT value, version FROM strategy_limits WHERE strategy = 'vb'")).all()
        changes = conn.execute(text("""SELECT action, before, after FROM audit_log WHERE actor = 'mcp'
                                       AND entity = 'strategy_limits:vb:stop_loss_move' ORDER BY id""")).all()
    assert [tuple(c) for c in commands] == [("place_order", "mcp")]
    assert [tuple(s) for s in stored] == [("0", 2)]  # set, then switched off only once confirmed
    assert [c.action for c in changes] == ["strategy_limit.update", "strategy_limit.loosened"]
    assert json.loads(changes[1].before) == {"value": "0.1"} and "stop loss (price) off" in json.loads(
        changes[1].after)["confirmed_loosening"]
    db.dispose()


def test_an_unknown_tool_group_stops_the_server_with_a_reason(tmp_path: Path) -> None:
    env, db = _desk(tmp_path, MCP_TOOLS="trade,everything")
    done = subprocess.run([sys.executable, "-m", "engine", "mcp"], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=60, input="")
    assert done.returncode == 1 and "unknown tool group(s) everything" in done.stderr
    db.dispose()
