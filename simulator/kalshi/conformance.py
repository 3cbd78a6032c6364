"""Kalshi's published schemas (tests/fixtures/kalshi/openapi_trimmed.json says where they come from and
which OpenAPI version) as JSON Schema validators, and the checks of the simulator's Kalshi side against
them: `Conformance` (an observer a test attaches) and `SchemaWatch`, the test session's switch.

With SIM_KALSHI_CONFORMANCE set to a file (tests/conftest.py sets it for every test session; nothing
sets it in production: the checks cost CPU), every answer the Kalshi routes serve (`middleware`, so
injected faults and unknown routes too) and every WebSocket message its hub sends are checked, and
each problem is appended to that file as one line naming the route and the field; the test that was
running fails with them. The simulator still answers as it would: the check only reports.

OpenAPI 3.0 is JSON Schema with `nullable` and `$ref`s into `components`: both are rewritten here.
Kalshi's schema types its fixed-point fields as plain strings and says their form in words ("responses
always emit 2 decimals", "responses emit up to 6"); those words are checked too, as patterns. A field
Kalshi removed from a schema (the document's `removed`: `Market.liquidity_dollars`, ...) is a problem
wherever that schema is answered: the simulator does not send what Kalshi no longer sends."""

from __future__ import annotations

import json
import os
from collections.abc import Awaitable, Callable
from datetime import datetime
from functools import cache
from pathlib import Path
from typing import Any

from aiohttp import web
from aiohttp.typedefs import Middleware
from jsonschema import Draft7Validator, FormatChecker

from ..faults import FAULT_HEADER

# The document the tests keep (the checks run only in a test session, where the repository is there).
FIXTURE = Path(__file__).resolve().parents[2] / "tests" / "fixtures" / "kalshi" / "openapi_trimmed.json"
ENV = "SIM_KALSHI_CONFORMANCE"
REST_BASE, WS_PATH = "/trade-api/v2", "/trade-api/ws/v2"
PATTERNS = {"FixedPointCount": r"^-?\d+\.\d{2}$", "FixedPointDollars": r"^-?\d+\.\d{4}(\d{2})?$"}
FORMATS = FormatChecker()


@FORMATS.checks("date-time", raises=ValueError)
def _rfc3339(value: object) -> bool:
    if not isinstance(value, str) or "T" not in value:
        return False
    datetime.fromisoformat(value.replace("Z", "+00:00"))
    return True


@cache
def document() -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(FIXTURE.read_text())
    return loaded


def _inline(node: Any, schemas: dict[str, Any]) -> Any:
    if isinstance(node, list):
        return [_inline(n, schemas) for n in node]
    if not isinstance(node, dict):
        return node
    if "$ref" in node:
        name = node["$ref"].rsplit("/", 1)[1]
        target = dict(_inline(schemas[name], schemas))
        if name in PATTERNS:
            target["pattern"] = PATTERNS[name]
        if name in document().get("removed", {}):  # present at all: refused (a schema nothing matches)
            target["properties"] = {**target.get("properties", {}),
                                    **{f: {"not": {}, "removed": f} for f in document()["removed"][name]}}
        extra = {k: v for k, v in node.items() if k != "$ref"}
        node = {**target, **extra}
    out = {k: _inline(v, schemas) for k, v in node.items() if k != "nullable"}
    if node.get("nullable"):
        return {"anyOf": [out, {"type": "null"}]}
    return out


@cache
def validator(name: str) -> Draft7Validator:
    schemas = document()["components"]["schemas"]
    return Draft7Validator(_inline({"$ref": f"#/components/schemas/{name}"}, schemas), format_checker=FORMATS)


@cache
def ws_validator(kind: str) -> Draft7Validator:
    schema = document()["websocket"][kind]
    return Draft7Validator(_inline(schema, document()["components"]["schemas"]), format_checker=FORMATS)


def problems(name: str, body: Any) -> list[str]:
    return [f"{name}: {'/'.join(map(str, e.absolute_path))}: {_said(e)}" for e in validator(name).iter_errors(body)]


def _said(error: Any) -> str:
    """The problem in words; a field Kalshi removed is said so."""
    if isinstance(error.schema, dict) and "removed" in error.schema:
        return "a field Kalshi removed: not sent any more"
    return str(error.message)


def error_problems(status: int, body: Any) -> list[str]:
    """Kalshi's error bodies: `{"error": {"code", "message", "details"?}}`, or on a 429 `{"error": "too
    many requests"}` (Order Errors; Rate Limits)."""
    if status == 429:
        return [] if body == {"error": "too many requests"} else [f"429 body {body!r}"]
    inner = body.get("error") if isinstance(body, dict) else None
    if not isinstance(inner, dict) or not isinstance(inner.get("code"), str) or not isinstance(inner.get("message"),
                                                                                             str):
        return [f"{status} error body {body!r:.200}"]
    return problems("ErrorResponse", inner) + [f"{status}: unknown error field {k}" for k in inner
                                               if k not in ("code", "message", "details")]


class Conformance:
    """Checks every answer of the simulator's Kalshi side it is shown (`observe`) and every
    WebSocket message its hub recorded; `problems` lists what did not match, `seen` what was checked."""

    def __init__(self) -> None:
        self.problems: list[str] = []
        self.seen: set[str] = set()

    def observe(self, method: str, route: str, status: int, body: object) -> None:
        key = f"{method} {route}"
        self.seen.add(f"{key} {status}")
        if status == 204:  # answered with no body (Cancel All Orders)
            self.problems += [] if body in ("", None) else [f"{key} 204: a body {body!r:.100}"]
            return
        parsed = json.loads(body) if isinstance(body, str) else body
        if status >= 300:
            found = error_problems(status, parsed)
        elif (schema := document()["responses"].get(key)) is None:
            found = ["no published schema to check it against"]
        else:
            found = problems(schema, parsed)
        self.problems += [f"{key} {status}: {problem}" for problem in found]  # the route, then the field

    def check_ws(self, messages: list[dict[str, Any]]) -> None:
        for message in messages:
            kind = str(message.get("type"))
            self.seen.add(f"ws {kind}")
            if kind not in document()["websocket"]:
                if kind not in ("ok", "unsubscribed"):
                    self.problems.append(f"ws {kind}: no published schema")
                continue
            self.problems += [f"ws {kind}: {'/'.join(map(str, e.absolute_path))}: {e.message}"
                              for e in ws_validator(kind).iter_errors(message)]


class SchemaWatch(Conformance):
    """The test session's check of every Kalshi answer and message, each problem appended to `report`."""

    def __init__(self, report: Path) -> None:
        super().__init__()
        self.report = report

    @classmethod
    def from_env(cls) -> SchemaWatch | None:
        where = os.environ.get(ENV)
        return cls(Path(where)) if where else None

    def observe(self, method: str, route: str, status: int, body: object) -> None:
        before = len(self.problems)
        try:
            super().observe(method, route, status, body)
        except ValueError as exc:  # not JSON at all
            self.problems.append(f"{method} {route} {status}: not JSON ({exc})")
        self._tell(before)

    def check_ws(self, messages: list[dict[str, Any]]) -> None:
        before = len(self.problems)
        super().check_ws(messages)
        self._tell(before)

    def _tell(self, before: int) -> None:
        if len(self.problems) > before:
            with self.report.open("a", encoding="utf-8") as out:
                out.writelines(f"{line}\n" for line in self.problems[before:])
            self.problems.clear()  # told once; the list does not grow for a whole run


Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def middleware(watch: SchemaWatch) -> Middleware:
    """Every answer under Kalshi's REST base shown to `watch` as it leaves, whoever made it (a route, an
    injected fault, an unknown path's 404), named by the route's template (`GET /markets/{ticker}`)."""
    @web.middleware
    async def kalshi_schema_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
        response = await handler(request)
        if response.headers.get(FAULT_HEADER):  # a fault meant to be unreadable: nothing to check it against
            return response
        if request.path.startswith(REST_BASE + "/") and isinstance(response, web.Response):
            resource = request.match_info.route.resource
            route = resource.canonical.removeprefix(REST_BASE) if resource is not None else "(unrouted)"
            watch.observe(request.method, route, response.status, response.text or "")
        return response
    return kalshi_schema_middleware
