"""The taker fee schedules the live adapter prices our fills with.

The venue's trade records do not carry the fee it charged (their `fee_rate_bps` reads 0 even on
markets that charge), so a taker fill's fee comes from the market's schedule. The trading core
passes its catalog's schedules; a fill on a market the catalog does not know yet (a restart
importing an old trade, a market whose schedule failed to load) must never be booked with a fee
of 0 for want of one. `VenueFees` reads such a schedule from the venue itself
(`/clob-markets/{cid}`) before the fill is priced; only if the venue cannot tell us either is the
fill delivered with `fee_known=False`, which the executor books as 0 *and* alerts on.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Iterable
from typing import TypeVar

from engine.venues.polymarket.calls import ClobCaller
from engine.venues.polymarket.client import AdapterClobClient, CallFailure
from engine.venues.polymarket.parse_markets import clob_market_fees
from engine.venues.polymarket.wire import FeeSchedule

log = logging.getLogger("engine.venues.polymarket.venue")
T = TypeVar("T")


class VenueFees:
    def __init__(self, known: FeeSchedule):
        self.known = known  # the caller's schedules (the trading core's catalog)
        self.read_here: dict[str, tuple[int, int]] = {}  # schedules this adapter read itself

    def schedule(self, condition_id: str) -> tuple[int, int] | None:
        return self.known(condition_id) or self.read_here.get(condition_id)

    def noting(self, missing: set[str]) -> FeeSchedule:
        """`schedule`, recording into `missing` every market it had none for."""
        def schedule(condition_id: str) -> tuple[int, int] | None:
            found = self.schedule(condition_id)
            if found is None:
                missing.add(condition_id)
            return found

        return schedule

    async def read(self, calls: ClobCaller, client: AdapterClobClient, condition_ids: Iterable[str]) -> None:
        """Ask the venue for the schedules still unknown (a failure is logged; the fill that
        needed it then goes out with fee_known=False)."""
        for condition_id in sorted(set(condition_ids)):
            if self.schedule(condition_id) is not None:
                continue
            try:
                fees = clob_market_fees(await calls.call("data", client.get_clob_market_info, condition_id))
            except (CallFailure, KeyError, TypeError, ValueError) as exc:
                log.warning("a market's fee schedule could not be read from the venue",
                            extra={"condition_id": condition_id, "error": str(exc)})
                continue
            self.read_here[condition_id] = (fees.fee_rate_ppm, fees.fee_exponent)

    async def priced(self, calls: ClobCaller, client: AdapterClobClient,
                     fetch: Callable[[FeeSchedule], Awaitable[T]]) -> T:
        """`fetch(schedule)` (a REST read of trades); if one of our taker fills needed a schedule
        nobody knew, read it from the venue and fetch again, priced."""
        missing: set[str] = set()
        result = await fetch(self.noting(missing))
        if not missing:
            return result
        await self.read(calls, client, missing)
        if all(self.schedule(cid) is None for cid in missing):
            return result
        return await fetch(self.schedule)
