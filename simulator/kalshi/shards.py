"""Kalshi's exchange shards, as its documents describe them, read strictly.

Sources: the "Exchange Sharding" page (docs.kalshi.com/getting_started/exchange_sharding), the
"Intra Account Transfer", "Get Intra Account Transfers", "Get Balance" and "Set/Get Target Balance
Allocation" references, the "Rate Limits and Tiers" page (per-shard write budgets) and the API
changelog (2026-08-06 to 2026-08-27).

- **Each event and market lives on exactly one shard** (its `exchange_index`): 0 the default, 1
  combos, 2 crypto, 3 tennis and baseball (the page's assignment table). The simulator lists its
  parlay legs on 1 and its crypto windows on 2; an admin call lists a simulated event on another.
- **Collateral is checked on the market's shard** ("collateralization checks run within the
  matching engine"; "preallocate collateral on a given exchange shard before order placement"): an
  account's money is kept per shard, an order on a shard whose free balance is short is refused
  `insufficient_balance` however much the other shards hold (the code other clients log for it).
  Money paid in lands on shard 0.
- **Routing.** The documents disagree on an order request without `exchange_index`: the Sharding
  page's Rollout section ("all endpoints point to the default shard by default") and the V2 create
  reference as the issue read it send it to shard 0, while the later create reference and the
  changelog of 2026-08-27 ("auto-routing enabled by default") auto-route it by its ticker. The
  simulator follows the stricter reading: omitted is shard 0; `-1` auto-routes by the ticker (with
  the added latency the FAQ names, and billed, as the changelog reading has it, to every shard's
  write bucket as well as the unscoped one); `>= 0` goes to that shard. A market or an order that is
  not on the shard a request reaches is `market_not_found` (404), as live clients report a wrong index.
- **Transfers take time** (Intra Account Transfer: "Transfer request accepted. The transfer is
  processed asynchronously"): the amount (centicents, an integer) leaves the source shard when the
  request is accepted and arrives on the destination TRANSFER_S later; until then the transfer is
  `pending` in `GET /portfolio/intra_exchange_instance_transfers` (amount there in dollars) and the
  money is on neither shard. A source short of the amount is refused `insufficient_balance`.
- **Target balance allocation** (Exchange Sharding, Auto-Rebalancing): percentages per shard that
  total 100; every REBALANCE_S the free balance (balance less what resting orders hold, which the
  simulator's balance already leaves out) is moved toward the split, by transfers that take time too.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field

from .exchange import Refused

SHARDS = {0: "Default", 1: "Combos", 2: "Crypto", 3: "Tennis and Baseball"}
COMBOS, CRYPTO = 1, 2
CENTICENT = 100  # micro-dollars in a centicent ($0.0001), the unit of a transfer's `amount`
TRANSFER_S = 3.0  # how long an accepted transfer takes to arrive (the simulator's: Kalshi says only "asynchronously")
REBALANCE_S = 10.0  # Kalshi computes free margin and rebalances every 10 seconds
AUTO_ROUTE_S = 0.05  # the latency an auto-routed request pays ("automatic routing will incur an additional latency")
AUTO, DEFAULT = -1, 0


def shard_named(raw: object, what: str = "exchange_index") -> int | None:
    """A request's `exchange_index` (None: omitted); anything but -1 or a known shard is refused."""
    if raw is None:
        return None
    if isinstance(raw, str) and raw.lstrip("-").isdigit():
        raw = int(raw)
    if isinstance(raw, bool) or not isinstance(raw, int) or (raw != AUTO and raw not in SHARDS):
        raise Refused(400, "invalid_parameters", "invalid parameters",
                      f"{what}: -1 (auto-route) or one of {', '.join(map(str, SHARDS))}")
    return raw


def routed(asked: int | None, shard: int) -> int:
    """The shard a request reaches, for a market on `shard` (the module docstring's strict reading)."""
    if asked is None:
        return DEFAULT
    return shard if asked == AUTO else asked


def check_routed(asked: int | None, shard: int, ticker: str) -> None:
    """Refuse a request that reaches another shard than its market's."""
    reached = routed(asked, shard)
    if reached != shard:
        said = "omitted (shard 0)" if asked is None else str(asked)
        raise Refused(404, "market_not_found", "market not found",
                      f"market {ticker} is not on exchange index {reached} (exchange_index {said}): it lives on "
                      f"exchange index {shard}")


def write_scopes(asked: int | None) -> tuple[str, ...]:
    """The write buckets a single order write is billed to (Rate Limits and Tiers, "Sharded exchanges
    have per-shard Write budgets"): a shard >= 1 named bills that shard's; 0 or omitted the unscoped
    one; an auto-routed one the unscoped one and, the stricter reading, every shard's too."""
    if asked is not None and asked >= 1:
        return (f"shard{asked}",)
    if asked == AUTO:
        return ("", *(f"shard{s}" for s in SHARDS if s >= 1))
    return ("",)


@dataclass
class Transfer:
    transfer_id: str
    account: str
    source: int
    destination: int
    amount: int  # micro-dollars
    created_ms: int
    arrives_ms: int
    status: str = "pending"  # pending | complete


@dataclass
class Transfers:
    """Every account's transfers between its shards, and their target allocations."""

    delay_ms: int = int(TRANSFER_S * 1000)
    made: list[Transfer] = field(default_factory=list)
    targets: dict[str, dict[int, int]] = field(default_factory=dict)  # account -> shard -> percent
    rebalanced_ms: dict[str, int] = field(default_factory=dict)

    def start(self, funds: dict[int, int], account: str, source: int, destination: int, amount: int,
              now_ms: int) -> Transfer:
        """Accept a transfer: the amount leaves `source` now and arrives on `destination` later."""
        if amount <= 0:
            raise Refused(400, "invalid_parameters", "invalid parameters", "amount must be a positive number of "
                          "centicents")
        if source == destination:
            raise Refused(400, "invalid_parameters", "invalid parameters", "source and destination shard are the same")
        if funds.get(source, 0) < amount:
            raise Refused(400, "insufficient_balance", "insufficient balance",
                          f"exchange index {source} holds ${funds.get(source, 0) / 1e6:.4f}, the transfer moves "
                          f"${amount / 1e6:.4f}")
        funds[source] -= amount
        made = Transfer(str(uuid.uuid4()), account, source, destination, amount, now_ms, now_ms + self.delay_ms)
        self.made.append(made)
        return made

    def arrive(self, funds_of: dict[str, dict[int, int]], now_ms: int) -> list[Transfer]:
        """Credit the transfers due by now; returns them."""
        done = []
        for t in self.made:
            if t.status == "pending" and now_ms >= t.arrives_ms:
                funds = funds_of[t.account]
                funds[t.destination] = funds.get(t.destination, 0) + t.amount
                t.status = "complete"
                done.append(t)
        return done

    def of(self, account: str) -> list[Transfer]:
        return [t for t in reversed(self.made) if t.account == account]

    def pending(self, account: str) -> int:
        return sum(t.amount for t in self.made if t.account == account and t.status == "pending")

    def set_target(self, account: str, allocations: object) -> None:
        """A target allocation (a list of {exchange_index, percent} totalling 100; empty: none)."""
        if not isinstance(allocations, list):
            raise Refused(400, "missing_parameters", "missing parameters", "allocations (a list) is required")
        split: dict[int, int] = {}
        for n, item in enumerate(allocations):
            shard = shard_named(item.get("exchange_index") if isinstance(item, dict) else None,
                                f"allocations[{n}].exchange_index")
            percent = item.get("percent") if isinstance(item, dict) else None
            if shard is None or shard == AUTO or isinstance(percent, bool) or not isinstance(percent, int) or \
                    not 0 <= percent <= 100 or shard in split:
                raise Refused(400, "invalid_parameters", "invalid parameters",
                              f"allocations[{n}]: an exchange index (once) and a percent from 0 to 100")
            split[shard] = percent
        if split and sum(split.values()) != 100:
            raise Refused(400, "invalid_parameters", "invalid parameters", "percentages must total 100")
        if split:
            self.targets[account] = split
        else:
            self.targets.pop(account, None)

    def rebalance(self, funds_of: dict[str, dict[int, int]], now_ms: int) -> None:
        """Every REBALANCE_S, move each account with a target toward it (transfers that take time)."""
        for account, split in self.targets.items():
            if now_ms - self.rebalanced_ms.get(account, 0) < REBALANCE_S * 1000 or self.pending(account):
                continue  # (a round waits for the last one's transfers to arrive)
            self.rebalanced_ms[account] = now_ms
            funds = funds_of[account]
            free = sum(funds.values())
            want = {s: free * split.get(s, 0) // 100 // CENTICENT * CENTICENT for s in set(funds) | set(split)}
            over = {s: funds.get(s, 0) - w for s, w in want.items() if funds.get(s, 0) > w}
            under = {s: w - funds.get(s, 0) for s, w in want.items() if funds.get(s, 0) < w}
            for dst, short in sorted(under.items()):
                for src in sorted(over):
                    amount = min(short, over[src]) // CENTICENT * CENTICENT
                    if amount <= 0:
                        continue
                    self.start(funds, account, src, dst, amount, now_ms)
                    over[src] -= amount
                    short -= amount
