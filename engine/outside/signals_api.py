"""The signals API: `python -m engine signals-api` takes fair values from an outside model over HTTP
on 127.0.0.1 (`SIGNALS_API_PORT`, default 9465), each post authenticated by the bearer token in
`SIGNALS_API_TOKEN` (in .env or the sealed secrets file; never logged, never stored in SQLite).

    POST /v1/signals   Authorization: Bearer <token>   {"market", "source", "fair_value",
                       "confidence", "posted_at", "nonce", "ttl_s" | "expires_at", "detail"}
    GET  /v1/health    {"ok": true} (no token; says nothing of the desk)

An accepted post answers 201 with its id; every refusal answers a 4xx with `{"refused": CODE,
"reason": "..."}` and changes nothing: a wrong or missing token (401, alerted at most once a
minute), more posts than a bucket allows (429), a body past MAX_BODY bytes (413), a sender that
stalls mid-body (408 after BODY_TIMEOUT_S), a post contracts/outside_signals.py refuses (400), an
unknown market (422) or a replay (409). The post is stored by storage/desk/signal_intake.py, the
one writer of outside signals; the engine reads them as fair values within seconds.

The token is checked first, in constant time, before the body is read. Posts with the right token
spend the model's bucket (BURST at once, RATE a second); posts with a wrong or missing one spend a
bucket of their own (FAILED_BURST, FAILED_RATE): a flood of them, from anyone on the machine, is
counted, alerted and throttled, costs the desk nothing, and never spends the model's budget. (Both
buckets are the desk's one rate limiter's, engine/ratelimit.py.)

Its own process (supervisord's `signals` program, off until SIGNALS_API_TOKEN is set), so a flood
or a hung client never reaches the engine's loop: the engine never listens on a port.
"""

from __future__ import annotations

import asyncio
import hmac
import logging
from pathlib import Path
from typing import Any

from aiohttp import web

from contracts.jsonsafe import JsonRefused, loads_bounded
from contracts.outside_signals import PostRefused, Refusal, parse_post
from contracts.settings import Secret, local_port
from engine.ratelimit import TokenBucket
from storage.desk.audit import raise_alert
from storage.desk.signal_intake import record_post
from storage.sqlite.db import Database, now_ms

log = logging.getLogger("engine.signals_api")

PORT_ENV, DEFAULT_PORT = "SIGNALS_API_PORT", 9465
MAX_BODY = 16 * 1024
BODY_TIMEOUT_S = 5.0
RATE, BURST = 20.0, 40  # posts a second, and at once, with the right token
FAILED_RATE, FAILED_BURST = 5.0, 10  # ... and with a wrong or missing one (their own bucket)
ALERT_EVERY_MS = 60_000
STATUS = {Refusal.UNAUTHORIZED: 401, Refusal.TOO_LARGE: 413, Refusal.RATE_LIMITED: 429, Refusal.REPLAYED: 409,
          Refusal.UNKNOWN_MARKET: 422, Refusal.MARKET_CLOSED: 422, Refusal.STALLED: 408}


def port_from(raw: str | None) -> int:
    """The port setting as a port number (1-65535), or ValueError saying what is wrong."""
    return local_port(raw, PORT_ENV, DEFAULT_PORT)


class SignalsApi:
    def __init__(self, db: Database, token: Secret) -> None:
        self.db = db
        self.token = token.reveal().encode()
        self.bucket = TokenBucket(RATE, BURST)  # the model's: only posts with the right token spend it
        self.failed = TokenBucket(FAILED_RATE, FAILED_BURST)  # wrong or missing tokens'
        self.unauthorized = 0  # wrong tokens since the last alert
        self.alerted_at = 0

    def app(self) -> web.Application:
        app = web.Application(client_max_size=MAX_BODY)
        app.router.add_get("/v1/health", self.health)
        app.router.add_post("/v1/signals", self.post)
        return app

    async def health(self, request: web.Request) -> web.Response:
        return web.json_response({"ok": True})

    async def post(self, request: web.Request) -> web.Response:
        try:
            await self._authorize(request)
            if not self.bucket.take():
                raise PostRefused(Refusal.RATE_LIMITED, f"more than {RATE:g} posts a second: slow down")
            raw = await self._body(request)
            post = parse_post(raw, now_ms())
            accepted = await asyncio.to_thread(record_post, self.db, post, via="http", actor=f"api:{post.source}",
                                               now=now_ms())
        except PostRefused as refused:
            log.info("signal post refused", extra={"code": refused.code.value, "reason": refused.message[:200]})
            return web.json_response(refused.as_json(), status=STATUS.get(refused.code, 400))
        log.info("signal post accepted", extra={"post_id": accepted.post_id, "source": post.source,
                                                "market": post.market, "fair_value": post.fair_value})
        return web.json_response({"accepted": accepted.post_id, "market": post.market, "source": post.source,
                                  "fair_value": post.fair_value / 1e6, "expires_at": post.expires_at,
                                  "replaced": None if accepted.replaced is None else accepted.replaced / 1e6},
                                 status=201)

    async def _authorize(self, request: web.Request) -> None:
        """The token, compared in constant time; a wrong or missing one is counted (alerted at most
        once a minute) and refused: 401, or 429 once such posts come faster than their own bucket."""
        scheme, _, given = request.headers.get("Authorization", "").partition(" ")
        if hmac.compare_digest(given.strip().encode(), self.token) and scheme.lower() == "bearer":
            return
        self.unauthorized += 1
        if now_ms() - self.alerted_at >= ALERT_EVERY_MS:
            count, self.unauthorized, self.alerted_at = self.unauthorized, 0, now_ms()
            await asyncio.to_thread(self._alert, count)
        if not self.failed.take():
            raise PostRefused(Refusal.RATE_LIMITED, f"more than {FAILED_RATE:g} posts a second with a missing or "
                                                    "wrong token: slow down")
        raise PostRefused(Refusal.UNAUTHORIZED, "a missing or wrong token: send Authorization: Bearer <token>")

    def _alert(self, count: int) -> None:
        with self.db.write() as conn:
            raise_alert(conn, level="warning", source="signals_api", code="SIGNALS_API_UNAUTHORIZED",
                        message=f"{count} post(s) to the signals API with a missing or wrong token (refused)")

    async def _body(self, request: web.Request) -> Any:
        if request.content_length is not None and request.content_length > MAX_BODY:
            raise PostRefused(Refusal.TOO_LARGE, f"a post is at most {MAX_BODY} bytes")
        try:  # the whole body (aiohttp stops reading past client_max_size), or a sender that stalls
            body = await asyncio.wait_for(request.read(), BODY_TIMEOUT_S)
        except TimeoutError:
            raise PostRefused(Refusal.STALLED, f"the body did not arrive within {BODY_TIMEOUT_S:g} s") from None
        except web.HTTPRequestEntityTooLarge:
            raise PostRefused(Refusal.TOO_LARGE, f"a post is at most {MAX_BODY} bytes") from None
        try:
            return loads_bounded(body, max_bytes=MAX_BODY, max_depth=4, what="the body")
        except JsonRefused as exc:
            raise PostRefused(Refusal.BAD_REQUEST, f"{exc} (a post is one JSON object)") from None


def run(db_path: Path, token: Secret, port: int) -> int:
    """Serve until SIGTERM; the database must exist (the engine or `engine init` makes it)."""
    db = Database(db_path)
    api = SignalsApi(db, token)
    log.info("signals API listening", extra={"address": f"127.0.0.1:{port}"})
    try:
        web.run_app(api.app(), host="127.0.0.1", port=port, access_log=None, print=None, handle_signals=True)
    finally:
        db.dispose()
    return 0
