"""The followed wallets' public trades, read from the Data API and kept once each.

Every FOLLOW_POLL_S the engine asks the Data API's v1 `/trades` for each enabled wallet's newest
trades (`user`, `takerOnly=false`: its maker fills too), paced with the Data API's other reads.
Only trades the wallet's first read by this engine did not list are kept (what it did before is
history, not a signal), each once (`followed_trades`, keyed by its transaction, token, side,
price and size). A row that is not a trade the desk can read (a size of 1e300 or Infinity, a time
of 10^20 s) is counted and left out, the good rows beside it kept, and alerted once a wallet
(FOLLOW_RECORD_REFUSED); a wallet whose read fails is tried again next time and alerted once
(FOLLOW_FAILED, FOLLOW_OK).
"""

from __future__ import annotations

import logging
import math
from collections import Counter
from collections.abc import Iterable, Mapping
from typing import Any

from contracts.domain import to_micros
from contracts.followed_wallets import FollowedWallet
from engine.feeds.rest import RestClient
from storage.desk.audit import raise_alert
from storage.engine_stores.follow_store import Followed, add_trades
from storage.sqlite.db import Database

log = logging.getLogger("engine.follow")
FOLLOW_POLL_S = 15
PAGE = 100
MAX_SIZE = 1e10  # shares: more than any market's supply, and what fits in micro-units in SQLite
TRADE_TIMES_S = (1_577_836_800, 4_102_444_800)  # 2020-01-01 to 2100-01-01: a trade time outside is no trade's


class WalletFollower:
    def __init__(self, db: Database, data_api_host: str) -> None:
        self.db = db
        self.rest = RestClient(data_api_host)
        self.before: dict[str, set[str]] = {}  # wallet -> the trades its first read listed (history)
        self.failing: set[str] = set()
        self.bad: Counter[str] = Counter()
        self.refused_told: set[str] = set()  # wallets whose refused rows were alerted (once a run)

    async def poll(self, wallets: Iterable[FollowedWallet], now: int) -> int:
        """Read each enabled wallet once; returns how many new trades were kept."""
        kept = 0
        for wallet in wallets:
            if not wallet.enabled:
                continue
            try:
                rows = await self.rest.get_json("/trades", {"user": wallet.address, "takerOnly": "false",
                                                            "limit": PAGE}, family="data_api")
            except Exception as exc:  # the Data API's words: tried again next time
                self._failed(wallet, str(exc))
                continue
            if not isinstance(rows, list):
                self._failed(wallet, "the Data API answered something that is not a list of trades")
                continue
            self._ok(wallet)
            trades = [t for t in (self._trade(wallet, row) for row in rows[:PAGE]) if t is not None]
            if len(trades) < min(len(rows), PAGE):
                self._refused(wallet)
            history = self.before.get(wallet.address)
            if history is None:  # the first read: what it did before being followed is not a signal
                self.before[wallet.address] = {t.trade_key for t in trades}
                continue
            kept += add_trades(self.db, [t for t in trades if t.trade_key not in history], now)
        return kept

    async def close(self) -> None:
        await self.rest.close()

    def _trade(self, wallet: FollowedWallet, row: Any) -> Followed | None:
        problem = unreadable(row)
        if problem:
            self.bad[problem] += 1
            return None
        try:
            return self._followed(wallet, row)
        except (ValueError, ArithmeticError) as exc:  # the checks above should leave nothing here: counted all the same
            self.bad[f"unreadable ({type(exc).__name__})"] += 1
            return None

    def _followed(self, wallet: FollowedWallet, row: Any) -> Followed:
        key = f"{row['transactionHash']}:{row['asset']}:{row['side']}:{row['price']}:{row['size']}"
        return Followed(wallet.address, wallet.label, key[:300], row["conditionId"], str(row["asset"]), row["side"],
                        to_micros(str(row["price"])), to_micros(str(row["size"])), int(row["timestamp"]) * 1000)

    def _refused(self, wallet: FollowedWallet) -> None:
        log.info("followed wallet rows refused", extra={"wallet": wallet.label, "refused": dict(self.bad)})
        if wallet.address in self.refused_told:
            return
        self.refused_told.add(wallet.address)
        reasons = ", ".join(sorted(self.bad))[:300]
        with self.db.write() as conn:
            raise_alert(conn, level="warning", source="engine", code="FOLLOW_RECORD_REFUSED", subject=wallet.label,
                        message=f"the Data API listed trades of the followed wallet {wallet.label} that the desk "
                                f"cannot read ({reasons}): they are left out and counted, its other trades are kept; "
                                "said once a run")

    def _failed(self, wallet: FollowedWallet, error: str) -> None:
        log.warning("followed wallet could not be read", extra={"wallet": wallet.label, "error": error[:200]})
        if wallet.address in self.failing:
            return
        self.failing.add(wallet.address)
        with self.db.write() as conn:
            raise_alert(conn, level="warning", source="engine", code="FOLLOW_FAILED", subject=wallet.label,
                        message=f"the followed wallet {wallet.label}'s trades could not be read from the Data API "
                                f"({error[:200]}); tried again every {FOLLOW_POLL_S} s")

    def _ok(self, wallet: FollowedWallet) -> None:
        if wallet.address not in self.failing:
            return
        self.failing.discard(wallet.address)
        with self.db.write() as conn:
            raise_alert(conn, level="info", source="engine", code="FOLLOW_OK", subject=wallet.label,
                        message=f"the followed wallet {wallet.label}'s trades are read again")


def unreadable(row: Any) -> str:
    """Why a Data API trade row cannot be kept ("" when it can)."""
    if not isinstance(row, Mapping):
        return "not an object"
    cid, asset, side = row.get("conditionId"), row.get("asset"), row.get("side")
    if not isinstance(cid, str) or not cid.startswith("0x") or len(cid) != 66:
        return "no condition id"
    if not isinstance(asset, str) or not asset.isdigit():
        return "no token id"
    if side not in ("BUY", "SELL"):
        return "a side that is not BUY or SELL"
    price, size, at = row.get("price"), row.get("size"), row.get("timestamp")
    if isinstance(price, bool) or not isinstance(price, int | float) or not 0 < price < 1:
        return "a price outside (0, 1)"
    if isinstance(size, bool) or not isinstance(size, int | float) or not math.isfinite(size) or not size > 0:
        return "a size that is not above 0"
    if size > MAX_SIZE:
        return f"a size above {MAX_SIZE:g} shares"
    if isinstance(at, bool) or not isinstance(at, int) or at <= 0:
        return "no time"
    if not TRADE_TIMES_S[0] <= at <= TRADE_TIMES_S[1]:
        return "a time no trade has (before 2020 or after 2100)"
    if not isinstance(row.get("transactionHash"), str):
        return "no transaction"
    return ""
