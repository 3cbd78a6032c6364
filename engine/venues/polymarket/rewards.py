"""What the live venue says about liquidity rewards, through py-clob-client-v2.

- `are_orders_scoring` (`POST /orders-scoring` with the order ids): whether each order scores now;
  asked in chunks of 500 ids;
- `get_earnings_for_user_for_day` (`GET /rewards/user?date=&signature_type=`): the wallet's
  rewards of a UTC day by market (`condition_id`, `earnings` in pUSD), summed per market here.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from typing import Any

from py_clob_client_v2 import OrdersScoringParams

from contracts.domain import BadNumber, to_micros

SCORING_CHUNK = 500


async def orders_scoring(calls: Any, client: Any, venue_order_ids: Sequence[str]) -> dict[str, bool]:
    answers: dict[str, bool] = {}
    ids = list(dict.fromkeys(venue_order_ids))
    for start in range(0, len(ids), SCORING_CHUNK):
        chunk = ids[start:start + SCORING_CHUNK]
        raw = await calls.call("data", client.are_orders_scoring, OrdersScoringParams(orderIds=chunk))
        answers |= {i: bool(raw.get(i)) for i in chunk} if isinstance(raw, dict) else {}
    return answers


async def reward_earnings(calls: Any, client: Any, day: str) -> dict[str, int]:
    rows = await calls.call("data", client.get_earnings_for_user_for_day, day)
    paid: dict[str, int] = defaultdict(int)
    for row in rows if isinstance(rows, list) else []:
        if not isinstance(row, dict) or not row.get("condition_id"):
            continue
        try:
            paid[str(row["condition_id"])] += to_micros(row.get("earnings") or 0)
        except BadNumber:
            continue
    return dict(paid)
