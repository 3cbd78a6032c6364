"""The account routes that span Kalshi's exchange shards (shards.py says how the simulator reads the
documents): transfers between shards and their history (Intra Account Transfer, Get Intra Account
Transfers, Get Intra Account Transfer), the target balance allocation (Get/Set Target Balance
Allocation), Cancel All Orders (`DELETE /portfolio/events/orders`, every resting order on every
shard, at most 10,000 a call, answered 204 with no body; orders placed in the minute after may be
cancelled too: the simulator cancels them all), and Get Historical Positions (the settled positions
archived past the historical cutoff: positions_list.py).

A transfer moves money, so it takes a key with the full `write` scope (a `write::trade` key trades but
does not move money: the stricter reading of the key scopes; Kalshi's page lists a 403), and is
billed to the read bucket at the default cost (the Rate Limits page puts in the write bucket only
orders, order groups, quotes and block trades). Only `event_contract` to `event_contract` transfers
of the primary account are served (`margined` and subaccounts are refused by name).
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from . import positions_list
from .exchange import Refused
from .http import endpoint, now_ms, page, side_of
from .http_portfolio import _body, _subaccount, positions_answer
from .keys import restricted_to
from .shards import AUTO, CENTICENT, Transfer, shard_named
from .units import dollars

CANCEL_ALL_LIMIT = 10_000
ALLOCATION = "/portfolio/target_balance_allocation"


def _transfer(t: Transfer) -> dict[str, Any]:
    return {"transfer_id": t.transfer_id, "source": "event_contract", "destination": "event_contract",
            "source_exchange_shard": t.source, "destination_exchange_shard": t.destination,
            "amount": dollars(t.amount), "status": t.status, "created_ts": t.created_ms // 1000}


def _moves_money(request: web.Request) -> None:
    keys = side_of(request).keys
    key = keys.keys.get(request.headers.get("KALSHI-ACCESS-KEY", ""))
    if key is None or "write" not in key.scopes:
        raise Refused(403, "forbidden", "this API key cannot move money",
                      "a transfer between exchange shards takes a key with the write scope")


@endpoint("POST", "/portfolio/intra_exchange_instance_transfer", auth=True)
async def intra_transfer(request: web.Request, who: str) -> Any:
    _moves_money(request)
    body = await _body(request)
    for name in ("source", "destination"):
        if body.get(name) != "event_contract":
            raise Refused(400, "invalid_parameters", "invalid parameters",
                          f"{name}: event_contract (margined transfers are not served by the simulator)")
    for name in ("source_subaccount", "destination_subaccount"):
        if body.get(name) not in (None, 0):
            raise Refused(400, "invalid_parameters", "invalid parameters", f"{name}: subaccounts are not supported by "
                          "the simulator")
    amount = body.get("amount")
    if isinstance(amount, bool) or not isinstance(amount, int):
        raise Refused(400, "invalid_parameters", "invalid parameters", "amount: an integer number of centicents")
    source = shard_named(body.get("source_exchange_shard", 0), "source_exchange_shard")
    destination = shard_named(body.get("destination_exchange_shard", 0), "destination_exchange_shard")
    if source is None or destination is None or AUTO in (source, destination):
        raise Refused(400, "invalid_parameters", "invalid parameters", "the source and destination shards are needed")
    side = side_of(request)
    side.lifecycle.check_write(now_ms(), cancel=True)  # an exchange pause takes no transfer
    made = side.transfers.start(side.exchange.accounts[who].funds, who, source, destination, amount * CENTICENT,
                                now_ms())
    return {"transfer_id": made.transfer_id}


@endpoint("GET", "/portfolio/intra_exchange_instance_transfers", auth=True)
async def list_transfers(request: web.Request, who: str) -> Any:
    items, cursor = page(request, side_of(request).transfers.of(who))
    return {"transfers": [_transfer(t) for t in items], **({"cursor": cursor} if cursor else {})}


@endpoint("GET", "/portfolio/intra_exchange_instance_transfers/{transfer_id}", auth=True)
async def get_transfer(request: web.Request, who: str) -> Any:
    wanted = request.match_info["transfer_id"]
    found = next((t for t in side_of(request).transfers.of(who) if t.transfer_id == wanted), None)
    if found is None:
        raise Refused(404, "not_found", f"transfer {wanted} not found")
    return {"transfer": _transfer(found)}


@endpoint("GET", ALLOCATION, auth=True)
async def get_allocation(request: web.Request, who: str) -> Any:
    split = side_of(request).transfers.targets.get(who, {})
    return {"allocations": [{"exchange_index": s, "percent": p} for s, p in sorted(split.items())]}


@endpoint("POST", ALLOCATION, auth=True)
async def set_allocation(request: web.Request, who: str) -> Any:
    _moves_money(request)
    body = await _body(request)
    side_of(request).transfers.set_target(who, body.get("allocations"))
    return {}


@endpoint("DELETE", "/portfolio/events/orders", auth=True, write=True)
async def cancel_all(request: web.Request, who: str) -> Any:
    """Every resting order of the account (and, with `subaccount` omitted, of its subaccounts) on every
    shard, at most CANCEL_ALL_LIMIT; 204 with no body."""
    raw = request.query.get("subaccount")
    named = int(raw) if raw is not None and raw.isdigit() else raw
    _subaccount(named, restricted_to(who))
    side = side_of(request)
    side.lifecycle.check_write(now_ms(), cancel=True)
    owners = [who] if named is not None or restricted_to(who) is not None else \
        [name for name in side.exchange.accounts if name == who or name.startswith(f"{who}#sub")]
    left = CANCEL_ALL_LIMIT
    for owner in owners:
        left -= side.cancel_all(owner, now_ms(), left)
    return web.Response(status=204)


@endpoint("GET", "/historical/positions", auth=True)
async def historical_positions(request: web.Request, who: str) -> Any:
    side = side_of(request)
    items, cursor = positions_list.historical(request, side.exchange, who, now_ms() - side.history_lag_ms)
    return positions_answer(side.exchange, items, cursor)

