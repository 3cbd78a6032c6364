"""The bare client of bench/reaction.py: what a market maker written straight on the venue's own
client costs, the floor the desk's reaction is compared with.

Its own process (as the desk's engine is): py-clob-client-v2 for orders, the `websockets` client
for the market channel, nothing else. It rests one post-only bid two cents under each market's
best bid; the moment a market's touch moves on the channel it cancels that bid (`DELETE
/order`: what bench/reaction.py times, where it reaches the venue), then bids again under the new
touch once the book is two-sided. Started by the bench with its settings as one JSON line on
stdin; prints `ready <api key>` once its bids rest, and runs until terminated.

    {"clob": "http://127.0.0.1:P", "ws": "ws://127.0.0.1:P/ws/", "key": "0x...", "funder": "0x...",
     "markets": [{"condition_id": "0x...", "yes_token_id": "...", "tick_size": "0.01"}]}
"""

from __future__ import annotations

import json
import sys
from typing import Any

from py_clob_client_v2 import ClobClient, OrderArgs, OrderType, PartialCreateOrderOptions
from py_clob_client_v2.clob_types import OrderPayload
from websockets.sync.client import connect

BEHIND = 0.02  # the bid rests this far under the best bid
SIZE = 20.0


class BareMaker:
    def __init__(self, config: dict[str, Any]) -> None:
        self.client = ClobClient(config["clob"], 137, key=config["key"], signature_type=3, funder=config["funder"])
        self.client.set_api_creds(self.client.create_or_derive_api_key())
        self.markets = {m["yes_token_id"]: m for m in config["markets"]}
        self.touch: dict[str, tuple[float, float]] = {}  # token -> (best bid, best ask): 0 and 1 for none
        self.resting: dict[str, str] = {}  # token -> our order id

    def on_touch(self, token: str, bid: float, ask: float) -> None:
        if self.touch.get(token) == (bid, ask):
            return
        self.touch[token] = (bid, ask)
        resting = self.resting.pop(token, None)
        if resting is not None:  # first: what the bench times
            self.client.cancel_order(OrderPayload(orderID=resting))
        self.bid(token)

    def bid(self, token: str) -> None:
        bid, ask = self.touch.get(token, (0.0, 1.0))
        market = self.markets[token]
        tick = float(market["tick_size"])
        price = round(bid - BEHIND, 4)
        if bid <= 0 or ask >= 1 or price < tick:
            return  # one side missing (mid-move): bid again when the book is two-sided
        order = self.client.create_order(OrderArgs(token_id=token, price=price, size=SIZE, side="BUY"),
                                         PartialCreateOrderOptions(tick_size=market["tick_size"], neg_risk=False))
        answer = self.client.post_order(order, OrderType.GTC, post_only=True)
        if answer.get("success"):
            self.resting[token] = answer["orderID"]

    def on_message(self, message: Any) -> None:
        for event in message if isinstance(message, list) else [message]:
            kind = event.get("event_type")
            if kind == "book" and event.get("asset_id") in self.markets:
                bids = [float(level["price"]) for level in event.get("bids", [])]
                asks = [float(level["price"]) for level in event.get("asks", [])]
                self.on_touch(event["asset_id"], max(bids, default=0.0), min(asks, default=1.0))
            elif kind == "price_change":
                for change in event.get("price_changes", []):
                    if change.get("asset_id") in self.markets:
                        self.on_touch(change["asset_id"], float(change["best_bid"]), float(change["best_ask"]))

    def run(self, ws_host: str) -> None:
        with connect(ws_host + "market", open_timeout=10, max_size=None) as ws:
            ws.send(json.dumps({"type": "market", "assets_ids": list(self.markets)}))
            announced = False
            while True:
                self.on_message(json.loads(ws.recv()))
                if not announced and len(self.resting) == len(self.markets):
                    print(f"ready {self.client.creds.api_key}", flush=True)
                    announced = True


def main() -> None:
    config = json.loads(sys.stdin.readline())
    BareMaker(config).run(config["ws"])


if __name__ == "__main__":
    main()
