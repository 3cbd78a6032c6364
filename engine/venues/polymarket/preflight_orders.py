"""The preflight's orders: one harmless order placed and cancelled in a standard market and one in a
neg-risk market (each goes to its own exchange, with its own approvals), and a SELL check.

A test order is a minimum-size post-only BUY at the lowest legal price: far from the touch, it
cannot trade. The SELL check asks the venue (``/balance-allowance`` for the market's outcome token)
whether the conditional tokens are approved for the market's exchange; when the wallet holds enough
shares it also places and cancels a post-only SELL at the highest legal price.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from typing import Any, Protocol

from py_clob_client_v2 import AssetType, BalanceAllowanceParams

from contracts.domain import ONE, MarketInfo, Side, Tif, fmt, notional
from contracts.venues import POLYMARKET, venue_of
from engine.feeds.catalog import MarketCatalog
from engine.venues.base import OrderRequest, VenueError
from engine.venues.polymarket import approvals
from engine.venues.polymarket.venue import PolymarketVenue
from engine.venues.polymarket.wire import balance_micros
from storage.sqlite.db import Database


class PreflightReport(Protocol):
    def add(self, name: str, ok: bool, detail: str, fix: str | None = None, **extra: Any) -> None: ...


FixFor = Callable[[str], str]


def pick_markets(db: Database | None) -> dict[bool, MarketInfo]:
    """A tradable market of each kind the desk lists, by neg-risk (the engine fills the list at start)."""
    if db is None:
        return {}
    catalog = MarketCatalog()
    catalog.load(db)
    # Protocol V1 markets: the approvals preflight sets are V1's (a V2 market's ExchangeV3 is not among them);
    # Polymarket's only (the catalog also knows the Kalshi markets of the operator's pairs).
    usable = sorted((m for m in catalog.all() if m.tradable and m.accepting_orders and not m.closed
                     and not m.protocol_v2 and venue_of(m.condition_id) == POLYMARKET),
                    key=lambda m: (m.min_size * m.tick, m.condition_id))
    picked: dict[bool, MarketInfo] = {}
    for market in usable:
        picked.setdefault(market.neg_risk, market)
    return picked


def check_name(market: MarketInfo, what: str) -> str:
    return f"{what} ({'neg-risk' if market.neg_risk else 'standard'})"


async def test_orders(report: PreflightReport, venue: PolymarketVenue, db: Database | None, collateral: int,
                      fix_for: FixFor) -> None:
    markets = pick_markets(db)
    if not markets:
        report.add("test order", False, "no market to test with: the desk's market list is empty",
                   "start the engine once (make run) so it lists the markets, then run preflight again")
        return
    for neg_risk in (False, True):
        market = markets.get(neg_risk)
        if market is None:
            report.add(f"test order ({'neg-risk' if neg_risk else 'standard'})", False,
                       "the desk lists no such market to test with",
                       "start the engine once (make run) so it lists the markets, then run preflight again")
            continue
        await _place_and_cancel(report, venue, market, Side.BUY, market.tick, collateral, fix_for)
        await sell_check(report, venue, market, fix_for)


async def sell_check(report: PreflightReport, venue: PolymarketVenue, market: MarketInfo,
                     fix_for: FixFor) -> None:
    """Can this wallet sell the market's shares? The venue's view of the conditional-token approval."""
    name = check_name(market, "sell check")
    exchange = approvals.NEG_RISK_EXCHANGE_V2 if market.neg_risk else approvals.EXCHANGE_V2
    try:
        raw = await read_balance_allowance(venue, BalanceAllowanceParams(asset_type=AssetType.CONDITIONAL,
                                                                         token_id=market.yes_token))
    except Exception as exc:  # CallFailure or a malformed answer: say it in words
        report.add(name, False, f"could not read the share allowance: {exc}", fix_for(str(exc)))
        return
    allowed = raw.get("allowances") if isinstance(raw, dict) else None
    if not isinstance(allowed, dict) or exchange.lower() not in {str(k).lower() for k in allowed}:
        report.add(name, False, f"a SELL would be refused: the conditional tokens are not approved for "
                                f"{exchange} (not enough balance / allowance)",
                   "python -m engine preflight --approve")
        return
    held = balance_micros((raw or {}).get("balance"))
    if held >= market.min_size:
        await _place_and_cancel(report, venue, market, Side.SELL, ONE - market.tick, 0, fix_for)
        return
    report.add(name, True, f"the conditional tokens are approved for {exchange}; no shares held to test a "
                           "sale")


async def read_balance_allowance(venue: PolymarketVenue, params: BalanceAllowanceParams) -> Any:
    """``/balance-allowance`` after ``/balance-allowance/update``: the venue caches balances and
    allowances, which read 0 after a deposit or an approval until it is asked to look again."""
    client = await venue._client()
    try:
        await venue.calls.call("balance", client.update_balance_allowance, params, retry=False)
    except Exception:  # the read below says what matters; a failed refresh only makes it older
        pass
    return await venue.calls.call("balance", client.get_balance_allowance, params)


async def _place_and_cancel(report: PreflightReport, venue: PolymarketVenue, market: MarketInfo, side: Side,
                            price: int, collateral: int, fix_for: FixFor) -> None:
    name = check_name(market, "test order" if side == Side.BUY else "sell check")
    size = market.min_size
    if side == Side.BUY and notional(price, size) > collateral:
        report.add(name, False, f"the test order needs {fmt(notional(price, size))} pUSD", "fund the wallet")
        return
    request = OrderRequest(client_id=f"preflight-{secrets.token_hex(4)}", condition_id=market.condition_id,
                           token_id=market.yes_token, side=side, price=price, size=size, tif=Tif.GTC,
                           post_only=True, neg_risk=market.neg_risk, tick=market.tick)
    what = f"post-only {side.value} {fmt(size)} at {fmt(price)} in {market.question[:60]!r}"
    try:
        result = await venue.submit(await venue.prepare(request))
    except VenueError as exc:
        report.add(name, False, f"the venue refused {what}: {exc}", fix_for(str(exc)))
        return
    if result.error is not None:
        report.add(name, False, f"the venue refused {what}: {result.error}", fix_for(result.error))
        return
    try:
        cancelled = await venue.cancel([result.venue_order_id])
    except VenueError as exc:
        report.add(name, False, f"placed {what} but could not cancel it: {exc}",
                   "cancel it now: python -m engine cancel-all")
        return
    ok = result.venue_order_id in cancelled.canceled
    report.add(name, ok, f"placed and cancelled {what}" if ok else
               f"placed {what}; the cancel was not confirmed: {dict(cancelled.not_canceled)}",
               None if ok else "cancel it now: python -m engine cancel-all")
