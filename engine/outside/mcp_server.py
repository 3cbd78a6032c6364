"""The desk for an assistant, over the Model Context Protocol (the official SDK, `mcp`): `python -m
engine mcp` speaks MCP on stdin/stdout, started by the assistant's host (Claude Desktop, an IDE)
as the operator's own user, so it listens on no port and needs no token.

Always on: reading the desk (`desk_status`, `markets`, `positions`, `pnl`, `alerts`, `decisions`,
`fair_values`) and posting a fair value (`post_fair_value`, through the same checks and writer
as the signals API: contracts/outside_signals.py, storage/desk/signal_intake.py, `via` "mcp").
Off unless the operator lists them in MCP_TOOLS (.env, read at start; comma-separated):
`trade` (`place_order`: the manual ticket's command), `limits` (`set_strategy_limit`), `arm`
(`arm_live`: the `set_mode live` command, still behind the engine's own checklist). A call of a
tool that is off is refused with its reason and changes nothing. Every call, done or refused, is
an audit row (`mcp.<tool>`, actor `mcp`).
"""

from __future__ import annotations

import json
import logging
import uuid
from collections.abc import Callable
from contextlib import closing
from pathlib import Path
from typing import Any

from mcp.server.mcpserver import MCPServer
from mcp.server.mcpserver.context import Context
from mcp.server.mcpserver.exceptions import ToolError
from mcp_types import CallToolResult, InputRequiredResult

from contracts.outside_signals import PostRefused, Refusal, parse_post
from contracts.settings import Settings, read_env
from storage.command_queue import posting
from storage.command_queue.command_payloads import PayloadError
from storage.desk import assistant_reads, desk_lists, desk_status
from storage.desk.audit import write_audit
from storage.desk.config import Change, ConfigError, Unprotected, save_strategy_limits, stored_version
from storage.desk.signal_intake import record_post, stored_signals
from storage.sqlite.db import Database, now_ms
from storage.sqlite.lite import read_connection

log = logging.getLogger("engine.mcp")

TOOLS_ENV = "MCP_TOOLS"
GATED = {"place_order": "trade", "set_strategy_limit": "limits", "arm_live": "arm"}  # tool -> MCP_TOOLS name
GROUPS = frozenset(GATED.values())
ACTOR = "mcp"
AUDIT_CHARS = 2_000


def enabled_tools(settings: Settings) -> frozenset[str]:
    """The gated tool groups MCP_TOOLS enables, or ValueError naming an unknown one."""
    raw = read_env(settings.root, settings.env_override).get(TOOLS_ENV, "")
    named = {part.strip().lower() for part in raw.split(",") if part.strip()}
    unknown = sorted(named - GROUPS)
    if unknown:
        raise ValueError(f"{TOOLS_ENV}: unknown tool group(s) {', '.join(unknown)} "
                         f"(known: {', '.join(sorted(GROUPS))})")
    return frozenset(named)


class DeskServer(MCPServer):
    """The SDK's server with the desk's gate in front of every call: an unlisted or disabled tool
    is refused before it runs, and every call leaves an audit row."""

    def __init__(self, db: Database, enabled: frozenset[str]) -> None:
        super().__init__("polymarket-desk", instructions=(
            "A one-person trading desk. Read its state freely; post fair values with post_fair_value (your "
            "source name, a probability strictly between 0 and 1, your confidence, a time to live). Trading, "
            "limits and arming are off unless the operator enabled them."))
        self.db = db
        self.enabled = enabled

    async def call_tool(self, name: str, arguments: dict[str, Any],
                        context: Context[Any, Any] | None = None) -> CallToolResult | InputRequiredResult:
        group = GATED.get(name)
        if group is not None and group not in self.enabled:
            reason = (f"refused ({Refusal.TOOL_OFF.value}): the tool {name!r} is off; only the operator can enable it "
                      f"({TOOLS_ENV}={group} in .env, then restart the MCP server). Nothing changed.")
            self.audit(name, arguments, "refused", reason)
            raise ToolError(reason)
        try:
            result = await super().call_tool(name, arguments, context)
        except ToolError as exc:
            self.audit(name, arguments, "refused", str(exc))
            raise
        self.audit(name, arguments, "error" if getattr(result, "is_error", False) else "done", "")
        return result

    def audit(self, tool: str, arguments: dict[str, Any], outcome: str, reason: str) -> None:
        shown = json.dumps(arguments, sort_keys=True, default=str)[:AUDIT_CHARS]
        with self.db.write() as conn:
            write_audit(conn, actor=ACTOR, action=f"mcp.{tool[:60]}", entity="mcp", before=None,
                        after={"arguments": shown, "outcome": outcome, "reason": reason[:500] or None})


def build(db_path: Path, enabled: frozenset[str]) -> DeskServer:
    db = Database(db_path)
    server = DeskServer(db, enabled)

    def read(fn: Callable[[Any], Any]) -> Any:
        with closing(read_connection(db_path)) as conn:
            return fn(conn)

    @server.tool(name="desk_status", description="The desk now: engine state, mode, equity, today's PnL, open "
                 "orders, positions, strategies, venue conditions, unacknowledged alerts (as `engine status --json`).")
    def desk_status_report() -> dict[str, Any]:
        return read(lambda conn: desk_status.status_report(conn, db_path, alerts_shown=10))

    @server.tool(description="Open markets whose question holds all the given words (all without words), busiest "
                             "first: condition id, question, end time, 24 h volume, newest fair value.")
    def markets(words: str = "", limit: int = 20) -> list[dict[str, Any]]:
        return read(lambda conn: assistant_reads.markets(conn, words, limit))

    @server.tool(description="Positions held, largest first: strategy, market, outcome, shares, cost, realized.")
    def positions(limit: int = 50) -> dict[str, Any]:
        def found(conn: Any) -> dict[str, Any]:
            mode = desk_status.engine_status(conn, db_path).mode
            count, rows = desk_lists.open_positions(conn, mode, limit=max(1, min(limit, 200)))
            return {"mode": mode, "count": count, "positions": rows}
        return read(found)

    @server.tool(description="Profit and loss: today's since 00:00 UTC, equity, and each strategy's realized PnL.")
    def pnl() -> dict[str, Any]:
        report = read(lambda conn: desk_status.status_report(conn, db_path, alerts_shown=0))
        return {key: report.get(key) for key in ("mode", "equity_usdc", "pnl_today_usdc", "strategies")}

    @server.tool(description="The newest alerts, acknowledged or not.")
    def alerts(limit: int = 20) -> list[dict[str, Any]]:
        return read(lambda conn: assistant_reads.alerts(conn, limit))

    @server.tool(description="The decisions log, newest first: why the risk gate trimmed or refused a quote, "
                             "conflicts between strategies, regime notes; optionally for one market.")
    def decisions(limit: int = 50, market: str | None = None) -> list[dict[str, Any]]:
        return read(lambda conn: assistant_reads.decisions(conn, limit, market))

    @server.tool(description="Every stored fair value with its provenance (source, confidence, via, expiry) and "
                             "whether the model-confidence breaker benched its source.")
    def fair_values() -> list[dict[str, Any]]:
        return stored_signals(db)

    @server.tool(description="Post a fair value (probability of YES, strictly between 0 and 1) for a market, under "
                             "your source name, with your confidence (0..1) and how long it holds (ttl_s, at most 7 "
                             "days). Refused with a reason when anything is out of range.")
    def post_fair_value(market: str, source: str, fair_value: float, ttl_s: int = 3600,
                        confidence: float | None = None, detail: str | None = None) -> dict[str, Any]:
        now = now_ms()
        raw: dict[str, Any] = {"market": market, "source": source, "fair_value": str(fair_value), "ttl_s": ttl_s,
                               "posted_at": now, "nonce": uuid.uuid4().hex}
        if confidence is not None:
            raw["confidence"] = str(confidence)
        if detail:
            raw["detail"] = detail
        try:
            accepted = record_post(db, parse_post(raw, now), via="mcp", actor=f"{ACTOR}:{source}"[:60], now=now)
        except PostRefused as refused:
            raise ToolError(f"refused ({refused.code.value}): {refused.message}. Nothing changed.") from None
        return {"accepted": accepted.post_id, "market": market, "source": source, "fair_value": fair_value}

    _gated_tools(server, db, db_path, enabled)
    return server


def _gated_tools(server: DeskServer, db: Database, db_path: Path, enabled: frozenset[str]) -> None:
    """The tools that trade, change limits or arm: registered (so listed) only when enabled."""
    if "trade" in enabled:
        @server.tool(description="Place an order through the manual ticket (the risk gate checks it): "
                                 "condition_id, outcome YES/NO, side BUY/SELL, size (shares) and price.")
        def place_order(condition_id: str, outcome: str, side: str, size: float, price: float,
                        tif: str = "GTC") -> dict[str, Any]:
            return _command(db_path, "place_order", {"condition_id": condition_id, "outcome": outcome, "side": side,
                                                     "size": str(size), "price": str(price), "tif": tif,
                                                     "reason": "posted by an assistant (MCP)"})
    if "limits" in enabled:
        @server.tool(description="Change one of a strategy's limits (its human unit, as the Strategies page). A "
                                 "change that switches its protection off (a stop loss or breaker set to 0, or a "
                                 "limit the account can never reach) is refused with the reason; only if the "
                                 "operator means it, call again with confirm_loosening=true (audited as such).")
        def set_strategy_limit(strategy: str, name: str, value: str, confirm_loosening: bool = False) -> dict[str, Any]:
            change = Change(value, stored_version(db, strategy, name))
            try:
                saved = save_strategy_limits(db, strategy, {name: change}, actor=ACTOR,
                                             confirmed={name} if confirm_loosening else ())
            except Unprotected as exc:
                raise ToolError(f"not saved: {exc}. Ask the operator; only if they mean it, call again with "
                                "confirm_loosening=true. Nothing changed.") from None
            except ConfigError as exc:
                raise ToolError(f"refused: {exc} {exc.fields or ''}. Nothing changed.") from None
            return {"saved": True, "reload_command": saved.reload_command_id}
    if "arm" in enabled:
        @server.tool(description="Ask the engine to trade live (the set_mode command; the engine's own checklist "
                                 "still decides).")
        def arm_live() -> dict[str, Any]:
            return _command(db_path, "set_mode", {"mode": "live"})


def _command(db_path: Path, kind: str, payload: dict[str, Any]) -> dict[str, Any]:
    try:
        values = posting.prepare(kind, payload, actor=ACTOR, key=uuid.uuid4().hex, ttl_s=60)
    except PayloadError as exc:
        raise ToolError(f"refused: {exc}. Nothing changed.") from None
    row = posting.post(db_path, values, lock_wait_s=5.0)
    return {"command": row["id"], "kind": kind, "status": row["status"],
            "note": "queued for the engine, which answers it (see desk_status or the audit trail)"}


def run(db_path: Path, enabled: frozenset[str]) -> int:
    log.info("MCP server on stdio", extra={"gated_tools_enabled": sorted(enabled)})
    build(db_path, enabled).run("stdio")
    return 0
