"""What the desk's Kalshi calls cost, and the batched V2 orders those costs bound
(`/portfolio/events/orders/batched`: create and cancel) beside Cancel All Orders (`DELETE
/portfolio/events/orders`, billed as the tier's largest batch cancel), for the desk's Kalshi client
(client.py).

A batch is billed per item (Kalshi's Batch Create and Batch Cancel Orders (V2) pages: an order 10
tokens, a cancel 2; `/account/endpoint_costs` says what the account's endpoints cost), and Kalshi's
maximum batch size "scales with your tier's write budget": a batch the write bucket cannot hold at
once is never taken. `limit` is how many items one batch may carry so that its whole cost fits the
desk's own copy of the write bucket (engine/venues/kalshi/http.py), which is smaller than Kalshi's.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from engine.venues.kalshi import models
from engine.venues.kalshi.http import BASIC, DEFAULT_COST, KalshiHttp, Pacer

CANCEL_COST = 2  # a V2 cancel's tokens (Kalshi's Cancel Order (V2) page), until the account's costs are read
LOOKUP_COST = 2  # an order lookup's
ORDERS = "/portfolio/events/orders"
BATCHED = f"{ORDERS}/batched"
# (method, route as /account/endpoint_costs writes it under the API's root) of what the desk pays per call
# or per batch item; the documented costs stand until the account's are read.
COST_ROUTES = {"cancel": ("DELETE", f"{ORDERS}/{{order_id}}"), "lookup": ("GET", "/portfolio/orders/{order_id}"),
               "batch_create": ("POST", BATCHED), "batch_cancel": ("DELETE", BATCHED), "cancel_all": ("DELETE", ORDERS)}
# Cancel All Orders costs "the same number of write tokens as a batch cancel containing the maximum number of
# orders allowed for the caller's API tier" (Cancel Up to 10,000 Orders): a Basic write bucket's worth (100)
# until the account's costs are read.
DOCUMENTED_COSTS = {"cancel": CANCEL_COST, "lookup": LOOKUP_COST, "batch_create": DEFAULT_COST, "batch_cancel": 2,
                    "cancel_all": BASIC[1][1]}


def batch_limit(pacer: Pacer, cost: int) -> int:
    """Items of `cost` tokens one batch may carry: what the desk's copy of the write bucket pays for at
    once (it holds less than Kalshi's, engine/venues/kalshi/http.py), at least one."""
    return max(1, int(pacer.write.capacity) // max(1, cost))


# A Basic account's batches at the documented costs (5 creates, 25 cancels): what the paper venue
# standing in for Kalshi sends as one request (engine/venues/paper.py).
BASIC_BATCHES = {what: batch_limit(Pacer.of(*BASIC), DOCUMENTED_COSTS[what]) for what in ("batch_create",
                                                                                          "batch_cancel")}


class KalshiBatches:
    """The account's endpoint costs (the documented ones until read) and the batches they bound."""

    def __init__(self, http: KalshiHttp) -> None:
        self.http = http
        self.costs = dict(DOCUMENTED_COSTS)  # tokens a call (or a batch item) costs, as the account's answer says

    async def read_costs(self) -> dict[str, int]:
        """What the desk's calls cost now (`/account/endpoint_costs`: the endpoints whose cost is not the
        default), kept for its pacing and its batches."""
        listed = models.endpoint_costs(await self.http.request("GET", "/account/endpoint_costs"), self.http.root)
        # (every call is billed: a cost of 0 would leave it unpaced, so it is read as 1)
        self.costs = {what: max(1, listed.costs.get(route, listed.default)) for what, route in COST_ROUTES.items()}
        return self.costs

    def limit(self, what: str) -> int:
        """How many items one batch of `what` ("batch_create" or "batch_cancel") may carry now."""
        return batch_limit(self.http.pacer, self.costs[what])

    async def create(self, bodies: Sequence[dict[str, Any]]) -> list[models.BatchPlaced]:
        """V2 creates (bodies as kalshi_client.order_body makes them) in one request, answered item by
        item in the same order: each taken (its counts) or refused (its error), never undoing the
        others. At most `limit("batch_create")` of them."""
        self._bounded(bodies, "batch_create")
        answer = await self.http.request("POST", BATCHED, body={"orders": list(bodies)}, auth=True, write=True,
                                         cost=self.costs["batch_create"] * len(bodies))
        return models.batch_placed(answer, [str(b.get("client_order_id") or "") for b in bodies])

    async def cancel(self, orders: Sequence[tuple[str, str | None, int | None]]) -> list[models.BatchCancelled]:
        """Cancel (order id, its market's ticker, its market's shard) in one request, answered item by item in
        the same order, each routed to its shard. At most `limit("batch_cancel")` of them."""
        self._bounded(orders, "batch_cancel")
        items = [{"order_id": order_id, **({"market_ticker": ticker} if ticker else {}),
                  **({"exchange_index": shard} if shard is not None else {})} for order_id, ticker, shard in orders]
        answer = await self.http.request("DELETE", BATCHED, body={"orders": items}, auth=True, write=True,
                                         cost=self.costs["batch_cancel"] * len(orders))
        return models.batch_cancelled(answer, [order_id for order_id, _, _ in orders])

    async def cancel_all(self) -> None:
        """Cancel All Orders (`DELETE /portfolio/events/orders`): every resting order of the account, on every
        shard, at most 10,000 a call (beyond that an arbitrary subset); orders placed in the minute after may
        be cancelled too. Answered 204, with no count: the caller reads what still rests. It costs a batch
        cancel as big as the tier allows (`costs["cancel_all"]`)."""
        await self.http.request("DELETE", ORDERS, auth=True, write=True, cost=self.costs["cancel_all"])

    def _bounded(self, items: Sequence[Any], what: str) -> None:
        if not 1 <= len(items) <= self.limit(what):
            raise ValueError(f"a batch of {len(items)}: between 1 and {self.limit(what)} items "
                             f"(the write budget's share for one {what})")
