"""The admin calls that stand in for Kalshi's website and for what happens on Kalshi without the
desk (``/_sim/kalshi``): keys registered as Kalshi's key page does it, another trader taking
liquidity (fractions of a contract included), markets closed, paused, determined, disputed,
finalized or voided, exchange pauses announced, and the WebSocket's faults. Plain JSON answers
(they are not Kalshi's API)."""

from __future__ import annotations

import json
from typing import Any

from aiohttp import web

from .exchange import Refused
from .http import now_ms, side_of
from .keys import BadPublicKey
from .lifecycle import Window
from .shards import SHARDS
from .side import TIERS
from .units import BadNumber, count_in, dollars, dollars_in

routes = web.RouteTableDef()


async def _json(request: web.Request) -> dict[str, Any]:
    try:
        body = json.loads(await request.read() or b"{}")
    except ValueError:
        body = None
    if not isinstance(body, dict):
        raise Refused(400, "invalid_parameters", "send a JSON object")
    return body


def _answer(fn: Any) -> Any:
    async def handler(request: web.Request) -> web.StreamResponse:
        try:
            return web.json_response(await fn(request, await _json(request)))
        except (Refused, BadNumber, BadPublicKey) as exc:
            status = exc.status if isinstance(exc, Refused) else 400
            return web.json_response({"error": str(exc)}, status=status)
    return handler


@routes.post("/_sim/kalshi/api-keys")
@_answer
async def register_key(request: web.Request, body: dict[str, Any]) -> Any:
    """An RSA public key registered: answers its id; its account (new unless `account` names one) starts funded."""
    if not isinstance(body.get("public_key"), str):
        raise Refused(400, "invalid_parameters", "send {\"public_key\": PEM}")
    side = side_of(request)
    scopes = body.get("scopes")
    if scopes is not None and (not isinstance(scopes, list) or not all(isinstance(x, str) for x in scopes)):
        raise Refused(400, "invalid_parameters", "scopes: a list of scope names")
    key = side.keys.register(body["public_key"], body.get("account"), frozenset(scopes) if scopes else None,
                             body.get("subaccount"), now_ms() // 1000)
    account = side.exchange.open_account(key.account)
    return {"api_key_id": key.key_id, "account": key.account, "balance_dollars": dollars(account.balance)}


@routes.post("/_sim/kalshi/attestation")
@_answer
async def attestation(request: web.Request, body: dict[str, Any]) -> Any:
    """When an account's location attestation expires: {"account", "expires_at_s": Unix seconds, or null
    for an account that never attested}; `GET /api_keys` says it, and once it has passed the account's
    keys cannot trade."""
    keys = side_of(request).keys
    account, until = body.get("account"), body.get("expires_at_s")
    if account not in keys.attested_until:
        raise Refused(404, "not_found", f"no account {account!r}")
    if until is not None and (isinstance(until, bool) or not isinstance(until, int)):
        raise Refused(400, "invalid_parameters", "expires_at_s: Unix seconds, or null")
    keys.attested_until[account] = until
    return {"account": account, "expires_at_s": until}


@routes.post("/_sim/kalshi/accounts/{account}/shards")
@_answer
async def shard_funds(request: web.Request, body: dict[str, Any]) -> Any:
    """An account's money as it stands on each exchange shard: {"balances": {"0": "600.00", "2": "0.50"}}
    (dollars; the shards not named keep theirs), as moved in Kalshi's UI or paid in."""
    side, account = side_of(request), request.match_info["account"]
    if account not in side.exchange.accounts:
        raise Refused(404, "not_found", f"no account {account!r}")
    balances = body.get("balances")
    if not isinstance(balances, dict):
        raise Refused(400, "invalid_parameters", "send {\"balances\": {shard: dollars}}")
    funds = side.exchange.accounts[account].funds
    for shard, amount in balances.items():
        if not str(shard).isdigit() or int(shard) not in SHARDS:
            raise Refused(400, "invalid_parameters", f"{shard!r} is not a shard ({sorted(SHARDS)})")
        funds[int(shard)] = dollars_in(amount, 4)
    return {"balances": {str(k): dollars(v) for k, v in sorted(funds.items())}}


@routes.post("/_sim/kalshi/events/{event}/shard")
@_answer
async def list_on_shard(request: web.Request, body: dict[str, Any]) -> Any:
    """A simulated event listed on another exchange shard: {"exchange_index": 2} (refused once traded)."""
    side, event = side_of(request), request.match_info["event"]
    shard = body.get("exchange_index")
    side.list_on(event, shard if isinstance(shard, int) and not isinstance(shard, bool) else -99)
    return {"event": event, "exchange_index": shard}


@routes.post("/_sim/kalshi/series/{series}/categories")
@_answer
async def series_categories(request: web.Request, body: dict[str, Any]) -> Any:
    """A series' discovery categories (`Series.categories`): {"categories": ["Sports"]}."""
    side, series = side_of(request), request.match_info["series"]
    found = body.get("categories")
    if series not in side.series or not isinstance(found, list) or not all(isinstance(c, str) for c in found):
        raise Refused(400, "invalid_parameters", "a listed series and {\"categories\": [names]}")
    side.categories[series] = list(found)
    return {"series": series, "categories": found}


@routes.post("/_sim/kalshi/tier")
@_answer
async def tier(request: web.Request, body: dict[str, Any]) -> Any:
    """The accounts' API tier (its read and write buckets, as Kalshi's Rate Limits page sets them): {"tier": name}."""
    side = side_of(request)
    if body.get("tier") not in TIERS:
        raise Refused(400, "invalid_parameters", f"tier must be one of {', '.join(TIERS)}")
    side.tier = str(body["tier"])
    side.buckets.clear()
    return {"tier": side.tier, "read": side.buckets_of()[0], "write": side.buckets_of()[1]}


@routes.post("/_sim/kalshi/historical/cutoff")
@_answer
async def move_cutoff(request: web.Request, body: dict[str, Any]) -> Any:
    """Kalshi's historical cutoff for positions moved: {"lag_s": how far behind now} (0: every settled
    event's positions archived at once)."""
    lag = body.get("lag_s")
    if isinstance(lag, bool) or not isinstance(lag, (int, float)) or lag < 0:
        raise Refused(400, "invalid_parameters", "lag_s: seconds, 0 or more")
    side_of(request).history_lag_ms = int(lag * 1000)
    return {"lag_s": lag}


@routes.post("/_sim/kalshi/events/{event}/fee-change")
@_answer
async def schedule_event_fee_change(request: web.Request, body: dict[str, Any]) -> Any:
    """Kalshi schedules a change of an event's fee override: {"at_ms" (or "in_s" from now),
    "fee_type_override", "fee_multiplier_override"} (both null: the override cleared, the series'
    fees again); from then on the event's markets' fills pay it."""
    side, event = side_of(request), request.match_info["event"]
    if event not in side.events:
        raise Refused(404, "not_found", f"event {event} not found")
    return {"id": side.schedule_event_fee_change(event, body, now_ms())}


@routes.post("/_sim/kalshi/markets/{ticker}/trade")
@_answer
async def other_trader(request: web.Request, body: dict[str, Any]) -> Any:
    """Another trader takes up to `count` at `price` or better at once: {"side": "bid"|"ask", "price", "count"}."""
    if body.get("side") not in ("bid", "ask"):
        raise Refused(400, "invalid_parameters", "side must be bid or ask")
    fills = side_of(request).exchange.house_take(request.match_info["ticker"], body["side"],
                                                 dollars_in(body.get("price"), 4), count_in(body.get("count")),
                                                 now_ms())
    return {"filled": sum(f.count for f in fills) / 1_000_000}


@routes.post("/_sim/kalshi/markets/{ticker}/{action}")
@_answer
async def lifecycle(request: web.Request, body: dict[str, Any]) -> Any:
    """close | deactivate | activate | determine {"result": yes|no|scalar|void, "value", "timer_s"} |
    dispute | finalize."""
    side = side_of(request)
    ticker, action, now = request.match_info["ticker"], request.match_info["action"], now_ms()
    life = side.lifecycle
    if action == "determine":
        value = dollars_in(body["value"], 4) if body.get("value") is not None else None
        timer = body.get("timer_s")
        life.determine(ticker, str(body.get("result")), value, int(timer) if timer is not None else None, now)
    elif action == "finalize":
        return {"settled": len(life.finalize(ticker, now))}
    elif action in ("close", "deactivate", "activate", "dispute"):
        getattr(life, action)(ticker, now)
    else:
        raise Refused(404, "not_found", f"no action {action}")
    return {"status": side.exchange.markets[ticker].status}


@routes.post("/_sim/kalshi/exchange/pause")
@_answer
async def announce_pause(request: web.Request, body: dict[str, Any]) -> Any:
    """A pause announced on the schedule: {"in_s": seconds from now, "seconds": how long, "kind":
    "trading"|"exchange"}; {"clear": true} takes the announced ones back."""
    life = side_of(request).lifecycle
    if body.get("clear"):
        life.extra.clear()
        side_of(request).tick()
        return {"pauses": 0}
    kind = body.get("kind", "trading")
    if kind not in ("trading", "exchange"):
        raise Refused(400, "invalid_parameters", "kind must be trading or exchange")
    start = now_ms() + int(float(body.get("in_s", 0)) * 1000)
    life.extra.append(Window(start, start + int(float(body.get("seconds", 60)) * 1000), kind))
    side_of(request).tick()
    return {"pauses": len(life.extra)}


@routes.post("/_sim/kalshi/series/{series}/fee-change")
@_answer
async def schedule_fee_change(request: web.Request, body: dict[str, Any]) -> Any:
    """Kalshi schedules a change of the series' fees: {"at_ms" (or "in_s" from now), "fee_type",
    "fee_multiplier"}; from then on its markets' fills pay them. {"raw": record} serves a record in
    `/series/fee_changes` exactly as given (a malformed one, to test a client's refusal)."""
    side, series = side_of(request), request.match_info["series"]
    if series not in side.series:
        raise Refused(404, "not_found", f"series {series} not found")
    if "raw" in body:
        side.raw_fee_changes.append(body["raw"])
        return {"raw": len(side.raw_fee_changes)}
    return {"id": side.schedule_fee_change(series, body, now_ms())}


@routes.post("/_sim/kalshi/ws/skip-seq")
@_answer
async def skip_seq(request: web.Request, body: dict[str, Any]) -> Any:
    """A fault: the next `count` book messages each skip a sequence number (a message lost on the way)."""
    hub = side_of(request).hub
    hub.skip_seq = max(0, int(body.get("count", 1)))
    return {"skip_seq": hub.skip_seq}


@routes.post("/_sim/kalshi/ws/book-message")
@_answer
async def book_message(request: web.Request, body: dict[str, Any]) -> Any:
    """A fault: a book message Kalshi's client does not expect, sent to every book subscription.
    {"message": {...}} goes on each subscription's sequence (its `sid` and next `seq` filled in: a
    snapshot of a market it never asked for, say); {"text": "..."} is sent as it is, on no sequence
    (a `seq` of 1e309, say)."""
    hub = side_of(request).hub
    if isinstance(body.get("message"), dict):
        return {"sent": hub.book_fault(message=body["message"])}
    if isinstance(body.get("text"), str):
        return {"sent": hub.book_fault(text=body["text"])}
    raise Refused(400, "invalid_parameters", "send {\"message\": {...}} or {\"text\": \"...\"}")


@routes.get("/trade-api/ws/v2")
async def websocket(request: web.Request) -> web.StreamResponse:
    return await side_of(request).hub.handle(request)
