"""Small HTTP helpers shared by the route modules: JSON bodies, errors, cursors."""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Sequence
from typing import Any

from aiohttp import web

SIM_KEY: web.AppKey[Any] = web.AppKey("simulator")  # the Simulator instance serving the app
END_CURSOR = "LTE="  # base64("-1"): clients stop paging here


class HttpError(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def ok(data: Any) -> web.Response:
    """Success is always HTTP 200 (the client raises on 201/204)."""
    return web.Response(text=json.dumps(data), content_type="application/json")


def error(status: int, message: str) -> web.Response:
    return web.Response(status=status, text=json.dumps({"error": message}), content_type="application/json")


@web.middleware
async def error_middleware(request: web.Request, handler: Any) -> web.StreamResponse:
    """Turn HttpError into the venue's ``{"error": msg}`` bodies."""
    try:
        return await handler(request)
    except HttpError as exc:
        return error(exc.status, exc.message)
    except web.HTTPException as exc:  # unknown route / method: still a JSON error body
        if exc.status < 400:
            raise
        if request.path.startswith("/trade-api/"):  # Kalshi's envelope on Kalshi's paths (its Order Errors page)
            code = exc.reason.lower().replace(" ", "_")
            return web.json_response({"error": {"code": code, "message": exc.reason.lower()}}, status=exc.status)
        return error(exc.status, exc.reason.lower())


def parse_json(raw: bytes, message: str = "Invalid payload") -> Any:
    try:
        return json.loads(raw.decode("utf-8")) if raw else None
    except (UnicodeDecodeError, ValueError):
        raise HttpError(400, message) from None


def decode_cursor(cursor: str | None) -> int:
    """Offset encoded in a ``next_cursor``; ``MA==`` (base64 "0", or none) is the start."""
    if not cursor:
        return 0
    try:
        offset = int(base64.b64decode(cursor, validate=True).decode("ascii"))
    except (binascii.Error, ValueError, UnicodeDecodeError):
        raise HttpError(400, "invalid next_cursor") from None
    if offset < 0:
        raise HttpError(400, "invalid next_cursor")
    return offset


def encode_cursor(offset: int) -> str:
    return base64.b64encode(str(offset).encode("ascii")).decode("ascii")


def page(items: Sequence[Any], cursor: str | None, size: int) -> dict[str, Any]:
    """``{"limit","count","next_cursor","data"}``; the last page ends with ``LTE=``."""
    if cursor == END_CURSOR:
        return {"limit": size, "count": 0, "next_cursor": END_CURSOR, "data": []}
    start = decode_cursor(cursor)
    chunk = list(items[start:start + size])
    nxt = start + size
    return {
        "limit": size,
        "count": len(chunk),
        "next_cursor": encode_cursor(nxt) if nxt < len(items) else END_CURSOR,
        "data": chunk,
    }


def query_int(request: web.Request, name: str) -> int | None:
    raw = request.query.get(name)
    if raw in (None, ""):
        return None
    try:
        return int(raw)
    except ValueError:
        raise HttpError(400, f"invalid {name}") from None
