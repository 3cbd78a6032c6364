"""The Kalshi account's money across its exchange shards and its archive of settled positions, for the
desk's Kalshi client (`client.account`): Intra Account Transfer and its history (amounts in centicents
out, dollars back; processed asynchronously), the target balance allocation, and settled positions
wherever Kalshi keeps them (`settlement_status=settled` while live, `GET /historical/positions` once
archived past the historical cutoff, a whole event at a time).
"""

from __future__ import annotations

from engine.venues.kalshi import models
from engine.venues.kalshi.fixed import KalshiShapeError, integer, items
from engine.venues.kalshi.http import KalshiHttp, pages

PAGE = 200


class KalshiAccount:
    def __init__(self, http: KalshiHttp) -> None:
        self.http = http

    async def transfer(self, *, source: int, destination: int, amount: int) -> str:
        """Move `amount` micro-dollars from one shard to another (Intra Account Transfer: in centicents, so
        a whole number of $0.0001); returns the transfer's id. Accepted is not arrived: the transfer is
        processed asynchronously (`transfers`). Not idempotent: never sent again on an unknown answer."""
        if amount <= 0 or amount % 100:
            raise ValueError(f"a transfer of {amount} micro-dollars: a positive whole number of $0.0001")
        answer = await self.http.request("POST", "/portfolio/intra_exchange_instance_transfer", auth=True, body={
            "source": "event_contract", "destination": "event_contract", "amount": amount // 100,
            "source_exchange_shard": source, "destination_exchange_shard": destination})
        if not isinstance(answer, dict) or not isinstance(answer.get("transfer_id"), str):
            raise KalshiShapeError("the transfer's answer has no transfer_id")
        return str(answer["transfer_id"])

    async def transfers(self, *, max_pages: int = 5) -> list[models.Transfer]:
        """The account's transfers between shards, newest first (a few pages: the pending ones are recent)."""
        return [models.transfer(t) async for page in pages(
            self.http, "/portfolio/intra_exchange_instance_transfers", "transfers", {"limit": 100}, auth=True,
            max_pages=max_pages) for t in page]

    async def target_allocation(self) -> dict[int, int]:
        """The account's target split of its free balance across shards (percent; empty: none)."""
        answer = await self.http.request("GET", "/portfolio/target_balance_allocation", auth=True)
        out: dict[int, int] = {}
        for n, row in enumerate(items(answer, "allocations", "target balance allocation")):
            at = f"target balance allocation[{n}]"
            out[integer(row, "exchange_index", at)] = integer(row, "percent", at)
        return out

    async def set_target_allocation(self, split: dict[int, int]) -> None:
        """Ask Kalshi to keep this split (percent per shard, totalling 100; empty: none): it rebalances every
        10 s by transfers of its own."""
        await self.http.request("POST", "/portfolio/target_balance_allocation", auth=True, body={
            "allocations": [{"exchange_index": s, "percent": p} for s, p in sorted(split.items())]})

    async def settled_tickers(self) -> set[str]:
        """The markets Kalshi lists the account's settled positions in, wherever it keeps them: the live
        list and, past its historical cutoff, the archive."""
        live = [models.position(p) async for page in pages(
            self.http, "/portfolio/positions", "market_positions", {"settlement_status": "settled", "limit": PAGE},
            auth=True) for p in page]
        return {p.ticker for p in live} | {p.ticker for p in await self.historical_positions()}

    async def historical_positions(self) -> list[models.Position]:
        """Settled positions Kalshi archived past its historical cutoff (`GET /historical/positions`)."""
        return [models.position(p) async for page in pages(
            self.http, "/historical/positions", "market_positions", {"limit": PAGE}, auth=True) for p in page]
