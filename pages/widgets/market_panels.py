"""Markets page pieces: the search filters and results, and one market's detail (price from
recorded ticks, book depth now, the strategies trading it, our orders and position)."""

from __future__ import annotations

from typing import Any

import pandas as pd
import streamlit as st

from charts import text
from charts.indicators import indicators_figure
from charts.tables import Col
from charts.trades_on_price import trades_on_price_figure
from contracts.payouts import PayoutError, Payouts
from pages.widgets import figures, portfolio
from pages.widgets.common import plural, utc, utc_day_ms
from pages.widgets.event_panel import event_panel
from pages.widgets.figures import CHART_CONFIG
from pages.widgets.ids import ids_popover
from pages.widgets.pair_panels import paired_market_panel
from pages.widgets.tables import rows_height, show_table
from pages.widgets.ticket import ticket_panel
from pages.widgets.trade_tables import ORDER_COLUMNS, order_rows
from storage.dashboard_queries import chart_queries, market_queries, trading_queries
from storage.sqlite.db import Database, now_ms

M_TEXT, M_MIN_VOL, M_MIN_LIQ, M_TAGS = "mk_text", "mk_min_volume", "mk_min_liquidity", "mk_tags"
M_END_FROM, M_END_TO, M_TRADABLE, M_PICK = "mk_end_from", "mk_end_to", "mk_tradable", "mk_pick"
M_OUTCOME, M_WINDOW = "mk_outcome", "mk_window"
RESULTS = 200
WINDOWS = {"1 h": 3_600_000, "6 h": 6 * 3_600_000, "24 h": 86_400_000, "7 days": 7 * 86_400_000, "all": None}
MARKET_COLUMNS = {
    "question": Col("question", "name"),
    "volume_24h": Col("24 h volume", "usdc"),
    "volume": Col("volume", "usdc"),
    "liquidity": Col("liquidity", "usdc"),
    "end_at": Col("ends", "time"),
    "tradable": Col("tradable", "flag"),
    "neg_risk": Col("neg risk", "flag"),
    "protocol": Col("protocol"),
    "tags": Col("tags", "list"),
    "condition_id": Col("condition id", "name"),
}


WHO_COLUMNS = {"name": Col("strategy"), "kind": Col("kind"), "enabled": Col("enabled", "flag"),
               "status": Col("status"), "via": Col("how", "long")}


def search_filters(db: Database) -> market_queries.MarketFilter:
    cols = st.columns([3, 1, 1])
    query = cols[0].text_input("Search (question, slug or condition id)", key=M_TEXT)
    min_volume = cols[1].number_input(
        "Min volume (pUSD)", min_value=0.0, value=0.0, step=1000.0, key=M_MIN_VOL
    )
    min_liquidity = cols[2].number_input(
        "Min liquidity (pUSD)", min_value=0.0, value=0.0, step=100.0, key=M_MIN_LIQ
    )
    cols = st.columns([3, 1, 1, 1], vertical_alignment="bottom")
    tags = cols[0].multiselect("Tags (any of)", market_queries.market_tags(db), key=M_TAGS)
    end_from = cols[1].date_input("Ends from (UTC)", value=None, key=M_END_FROM)
    end_to = cols[2].date_input("Ends by (UTC)", value=None, key=M_END_TO)
    tradable = cols[3].toggle("Tradable only", value=False, key=M_TRADABLE)
    if end_from and end_to and end_from > end_to:
        st.error("'Ends from' is after 'Ends by': no market can match.")
    return market_queries.MarketFilter(
        text=query.strip(),
        min_volume=float(min_volume or 0),
        min_liquidity=float(min_liquidity or 0),
        tags=tuple(tags),
        ends_after_ms=utc_day_ms(end_from, end=False),
        ends_before_ms=utc_day_ms(end_to, end=True),
        tradable_only=tradable,
    )


# Widths in px so that at a laptop's 1366 px the columns a trader scans (market to end date) fit the
# table without scrolling sideways (the browser test measures it); the rest scroll, the market pinned.
# The list shows the columns a trader scans by (LEADING, within the page's width at 1366 px: nothing
# cut off, no sideways scrolling); "Every column" adds the rest. The market is not pinned: Streamlit
# draws a pinned column's text faded, as if disabled.
SCAN_COLUMNS = {
    "question": st.column_config.TextColumn("market", width=210),
    "bid": st.column_config.NumberColumn("YES bid", format="%.3f", width=66),
    "ask": st.column_config.NumberColumn("YES ask", format="%.3f", width=66),
    "mid": st.column_config.NumberColumn("mid", format="%.4f", width=62),
    "last": st.column_config.NumberColumn("last trade", format="%.3f", width=76),
    "volume_24h": st.column_config.NumberColumn("24 h vol. (pUSD)", format="%,.0f", width=120),
    "priced": st.column_config.TextColumn("priced (UTC)", width=116,
                                          help="Where the prices come from and when: the desk's recorded book "
                                               "(a market it follows), or the venue's listing as last read"),
    "end_at": st.column_config.DatetimeColumn("ends (UTC)", format="YYYY-MM-DD HH:mm", width=138),
    "spread": st.column_config.NumberColumn("spread", format="%.3f", width=62),
    "liquidity": st.column_config.NumberColumn("liquidity (pUSD)", format="%,.0f", width=120),
    "yes_held": st.column_config.NumberColumn("YES held (sh)", format="%,.2f", width=104),
    "no_held": st.column_config.NumberColumn("NO held (sh)", format="%,.2f", width=100),
    "tradable": st.column_config.CheckboxColumn("tradable", width=76),
    "neg_risk": st.column_config.CheckboxColumn("neg risk", width=76),
    "protocol": st.column_config.TextColumn("protocol", width=76),
    "condition_id": st.column_config.TextColumn("condition id", width=200),
}
LEADING = list(SCAN_COLUMNS)[: list(SCAN_COLUMNS).index("end_at") + 1]
MK_EVERY = "mk_every"


def scan_frame(db: Database, frame: pd.DataFrame, mode: str) -> pd.DataFrame:
    """The results with each market's quotes now and the desk's holding in it."""
    quotes = market_queries.quotes_now(db, frame, mode)
    return frame.merge(quotes, on="condition_id", how="left")[list(SCAN_COLUMNS)]


def results(db: Database, spec: market_queries.MarketFilter, mode: str = "paper") -> str | None:
    """The matching markets as a list to scan (sort by any column; click a row to open it);
    returns the condition id the operator picked (or None)."""
    frame = market_queries.search_markets(db, spec, limit=RESULTS)
    total = market_queries.count_markets(db, spec)
    if frame.empty:
        st.info("No discovered market matches." if total == 0 else "No market on this page.")
        return None
    left, right = st.columns([4, 1], vertical_alignment="bottom")
    left.caption(f"{total:,} markets match · top {len(frame)} by volume · click a column to sort, a row to open "
                 "the market")
    every = right.toggle("Every column", key=MK_EVERY, help="Spread, liquidity, what the desk holds, the flags and "
                                                            "the condition id too (the list then scrolls sideways)")
    scan = scan_frame(db, frame, mode)
    picked = st.dataframe(scan, hide_index=True, column_config=SCAN_COLUMNS, key="mk_scan", on_select="rerun",
                          selection_mode="single-row", height=rows_height(len(scan)) or "auto", placeholder="—",
                          column_order=None if every else LEADING)
    rows = picked.selection.rows if picked is not None else []
    labels = dict(zip(frame["condition_id"], frame["question"], strict=True))
    if rows:  # the row clicked opens its market (before the picker below is drawn this run)
        st.session_state[M_PICK] = scan["condition_id"].iloc[rows[0]]
    return st.selectbox("Market", list(labels), format_func=lambda c: labels[c], key=M_PICK)


def _facts(market: dict[str, Any]) -> None:
    st.markdown(f"### {text.markdown(market['question'])}")
    end = market["end_at"]
    ends = "no end date" if end is None or str(end) == "NaT" else f"ends {end:%Y-%m-%d %H:%M} UTC"
    flags = (
        "tradable"
        if market["tradable"] and not market["closed"]
        else f"not tradable ({text.markdown(market['untradable_reason'] or 'closed')})"
    )
    neg = " · neg-risk event" if market["neg_risk"] else ""
    neg += f" · protocol {market['protocol']}"
    neg += _game(market) + _resolution(market) + _updown(market.get("updown"))
    st.caption(
        f"{ends} · tick {market['tick']:g} · "
        f"min size {market['min_size']:g} shares · {flags}{neg} · "
        f"tags: {text.markdown(', '.join(market['tags']) or '—')}"
    )
    ids_popover({"condition id": market["condition_id"], "YES token": market["yes_token"],
                 "NO token": market["no_token"]}, key="market_ids")


def _updown(pricing: dict[str, Any] | None) -> str:
    """An up/down window: what prices it (Chainlink, the settlement; else the exchange spot, named as the
    fallback) and its price to beat, with where that came from."""
    if not pricing:
        return ""
    by = pricing.get("priced_by")
    source = {"chainlink": "priced on Chainlink (what it settles on)", None: "not priced: no stream has a price"}.get(
        by, f"priced on the {text.markdown(str(by))} spot (fallback: Chainlink is silent)")
    beat, where = pricing.get("price_to_beat"), pricing.get("beat_from")
    if beat is None:
        return f" · {source} · price to beat unknown (Gamma has not published it; the minute before its start unheard)"
    origin = "Gamma" if where == "gamma" else f"{text.markdown(str(where))}'s average over the minute before the start"
    return f" · {source} · price to beat {beat:,.2f} ({origin})"


def _game(market: dict[str, Any]) -> str:
    """A sports market's start, and whether the venue clears its book then (the desk withdraws first)."""
    start = market.get("game_start_at")
    if start is None or pd.isna(start):
        return ""
    clears = " (the venue clears its book then: the desk withdraws first)" if market.get("clear_book_on_start") else ""
    return f" · game starts {utc(int(start))}{clears}"


def _resolution(market: dict[str, Any]) -> str:
    """What the market paid once resolved: a winner, or each outcome's share (a 50/50)."""
    yes, no = market.get("payout_yes"), market.get("payout_no")
    if yes is None or no is None or pd.isna(yes) or pd.isna(no):
        return ""
    try:
        payouts = Payouts(int(yes), int(no))
    except PayoutError as exc:
        return f" · resolution unreadable ({exc})"
    if payouts.winner is not None:
        return f" · resolved {payouts.winner.value}"
    return f" · resolved {payouts.label}: {payouts.per_share}"


def price_panel(db: Database, market: dict[str, Any], mode: str) -> None:
    cols = st.columns([1, 3])
    outcome = cols[0].segmented_control("Outcome", ["YES", "NO"], default="YES", key=M_OUTCOME, required=True)
    window = cols[1].segmented_control(
        "Window (to the last tick)", list(WINDOWS), default="24 h", key=M_WINDOW, required=True
    )
    token = market["no_token"] if outcome == "NO" else market["yes_token"]
    ticks = market_queries.tick_bounds(db, token)  # read once: the chart's span, its series, the book
    bounds = market_queries.price_bounds(db, token, ticks)  # ticks, and the candles kept past their retention
    left, right = st.columns([3, 2])
    if bounds is None:
        left.info(f"No prices recorded for the {outcome or 'YES'} token yet.")
        return
    span = WINDOWS.get(window or "24 h")
    since = bounds[0] if span is None else max(bounds[0], bounds[1] - span)
    series = market_queries.price_series(db, token, since, bounds[1], ticks=ticks)
    until = max(bounds[1], now_ms())  # our orders may still rest after the last recorded tick
    cid = market["condition_id"]
    fills = chart_queries.token_fills(db, cid, token, mode, since, until)
    orders = chart_queries.token_orders(db, cid, token, mode, since, until)
    with left:
        st.plotly_chart(
            trades_on_price_figure(series, fills, orders, f"{outcome} mid with our {mode} trades",
                                   until=pd.Timestamp(until, unit="ms", tz="UTC")),
            key="market_price",
            width="stretch", config=CHART_CONFIG)
        st.caption(f"{plural(len(fills), 'fill')} and {plural(len(orders), 'resting order')} of ours on the "
                   f"{outcome} token in this window: markers sized by shares, orders as lines over their lifetime. "
                   f"The mid from {series.attrs.get('source', 'recorded ticks')}.")
        indicators = chart_queries.indicator_series(db, cid, since)
        if not indicators.empty:
            st.plotly_chart(indicators_figure(indicators, "Streaming indicators (YES mid)"), key="market_indicators",
                            width="stretch", config=CHART_CONFIG)
    with right:
        book = None if ticks is None else market_queries.latest_book(db, token, last_tick_at=ticks[1])
        if book is None:
            st.info("No book snapshot recorded yet.")
            return
        st.plotly_chart(
            figures.depth_figure(book.bids, book.asks, f"{outcome} book depth"),
            key="market_depth",
            width="stretch", config=CHART_CONFIG)
        note = "" if book.complete else " (too many later changes to replay: snapshot only)"
        st.caption(f"Book snapshot at {utc(book.at)} + {book.changes_applied} later changes{note}.")


def activity_panel(db: Database, market: dict[str, Any], mode: str) -> None:
    cid = market["condition_id"]
    st.markdown("**Strategies trading it**")
    who = market_queries.market_strategies(db, cid)
    if who.empty:
        st.caption("No strategy names it, and none has orders or a position in it.")
    else:
        show_table(who, WHO_COLUMNS)
    st.markdown(f"**Our {mode} position**")
    portfolio.positions_table(db, mode, condition_id=cid, key="market")
    portfolio.paper_ledger_positions(db, mode, condition_id=cid, key="market")
    st.markdown("**Our orders in it** (latest 50, every mode)")
    frame = trading_queries.orders(db, trading_queries.TradeFilter(condition_id=cid), limit=50)
    if frame.empty:
        st.caption("No orders in this market.")
    else:
        show_table(order_rows(frame), ORDER_COLUMNS, height=rows_height(len(frame)), key="market_orders")


def detail(db: Database, condition_id: str, mode: str) -> None:
    market = market_queries.market(db, condition_id)
    if market is None:
        st.warning("That market is no longer in the database.")
        return
    _facts(market)
    paired_market_panel(db, condition_id)
    event_panel(db, market)
    price_panel(db, market, mode)
    activity_panel(db, market, mode)
    st.divider()
    ticket_panel(db, condition_id, mode, str(market["question"]))
