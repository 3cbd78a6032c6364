"""The new-backtest form: a strategy kind and its params (the same generated schema fields and
validator as the Strategies page), the data source, a UTC range, the markets that have data in
it, a seed; validated in full before anything is written, then launched in the background.

Kind, source, range and markets sit outside the form on purpose: the params fields follow the
kind, and the market list (with each market's event count) follows the source and range as soon
as they change.
"""

from __future__ import annotations

import time as clock
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pandas as pd
import streamlit as st

from charts import text
from contracts.latency_spec import DEFAULT as DEFAULT_LATENCY
from contracts.latency_spec import FORMS as LATENCY_FORMS
from contracts.latency_spec import LatencyError, parse_latency
from contracts.strategy_fit import below_minimum
from contracts.strategy_kinds import registry, validate_params
from pages.widgets.backtest_launch import LAUNCHED_HERE, launch, make_spec, size_defaults
from pages.widgets.common import actor, read_only, utc
from pages.widgets.fields import ErrorSlots, render_specs
from pages.widgets.market_picker import market_picker
from pages.widgets.session_panel import session_caption, session_picker
from pages.widgets.strategy_form import params_prefix
from storage.dashboard_queries import status_queries, trading_queries
from storage.research import backtest_queries
from storage.research.backtest_recording import configured_strategy
from storage.sqlite.db import Database

BT_KIND, BT_SOURCE, BT_FROM, BT_TO = "bt_kind", "bt_source", "bt_from", "bt_to"
BT_MARKETS, BT_SEED, BT_NAME, BT_LAUNCH, BT_FORM = "bt_markets", "bt_seed", "bt_name", "bt_launch", "bt_form"
BT_LATENCY = "bt_latency"
BT_CAPITAL = "bt_capital"
BT_BELOW_MIN_OK, BT_SESSION = "bt_below_min_ok", "bt_session"
LAST_LAUNCH = "bt_last_launch"
DEFAULTS = "the kind's defaults"
RECORDED, HISTORY = "Recorded ticks", "Imported history"
SOURCES: dict[str, backtest_queries.DataSource] = {RECORDED: "recorded", HISTORY: "history"}
UNITS = {"recorded": "ticks", "history": "history points"}
SOURCE_NOTES = {
    "recorded": "Replays the recorded books, changes and trades in order, deciding where the live engine "
    "decided: the paper fill model (queue position, partial fills) as in live paper trading.",
    "history": "Coarser: each imported price becomes a one-level synthetic book two ticks wide with prints "
    "both ways at the price and one decision per point — no real depth or queue.",
}
DEFAULT_SPAN = timedelta(hours=24)
DUPLICATE_S = 3.0  # a second press of the same launch within this window is a double click


def preset_key(kind: str) -> str:
    return f"bt_preset_{kind}"


def form_prefix(kind: str, preset: str) -> str:
    """Widget prefix of the params fields; it changes with the preset so its values load."""
    return f"bt_{kind}_{'defaults' if preset == DEFAULTS else preset}"


def _naive_utc(ms: int) -> datetime:
    # st.datetime_input is timezone-naive; every value on this page is read as UTC.
    return datetime.fromtimestamp(ms / 1000, tz=UTC).replace(tzinfo=None, second=0, microsecond=0)


def default_range(bounds: tuple[int, int] | None, now_ms: int) -> tuple[datetime, datetime]:
    """Up to the last 24 h of data, whole minutes covering it; the last 24 h without data."""
    last = bounds[1] if bounds else now_ms
    end = _naive_utc(last) + timedelta(minutes=1)
    start = end - DEFAULT_SPAN
    if bounds:
        start = max(start, _naive_utc(bounds[0]))
    return start, end


def to_ms(value: datetime | None) -> int | None:
    return None if value is None else int(value.replace(tzinfo=UTC).timestamp() * 1000)


def _kind_and_preset(configured: pd.DataFrame) -> tuple[str, dict[str, Any], str, str | None]:
    kinds = registry()
    left, right = st.columns(2)
    kind = left.selectbox(
        "Strategy kind", list(kinds), key=BT_KIND, format_func=lambda k: f"{kinds[k].title} ({k})"
    )
    names = list(configured.loc[configured["kind"] == kind, "name"]) if not configured.empty else []
    preset = right.selectbox(
        "Parameters from",
        [DEFAULTS, *names],
        key=preset_key(kind),
        help="Start from a configured strategy's params (edit them below; it is not changed)",
    )
    st.caption(kinds[kind].description)
    row = trading_queries.strategy_rows(configured).get(preset) if preset != DEFAULTS else None
    params = row.params if row is not None and isinstance(row.params, dict) else {}
    return kind, params, form_prefix(kind, preset), None if preset == DEFAULTS else preset


def _source_and_range(db: Database, slots: ErrorSlots) -> tuple[backtest_queries.DataSource, int | None, int | None]:
    session = session_picker(db, key=BT_SESSION, markets_key=BT_MARKETS)
    if session is not None:  # its span, of recorded ticks
        slots.add("range", "Range")
        st.caption(session_caption(session))
        span_from, span_to = session.span(int(clock.time() * 1000))
        return "recorded", span_from, span_to
    label = st.segmented_control("Data", list(SOURCES), default=RECORDED, key=BT_SOURCE, required=True)
    source = SOURCES[label or RECORDED]
    st.caption(SOURCE_NOTES[source])
    bounds = backtest_queries.backtest_data_bounds(db, source)
    start, end = default_range(bounds, int(clock.time() * 1000))
    left, right = st.columns(2)
    start_in = left.datetime_input("From (UTC)", value=start, key=BT_FROM, step=60, format="YYYY-MM-DD")
    end_in = right.datetime_input("To (UTC)", value=end, key=BT_TO, step=60, format="YYYY-MM-DD")
    slots.add("range", "Range")
    if bounds is None:
        st.caption(
            f"No {UNITS[source]} yet."
            + (
                " Import some with `python -m engine import-history`."
                if source == "history"
                else " The engine records while it runs."
            )
        )
    else:
        st.caption(f"{UNITS[source].capitalize()} from {utc(bounds[0])} to {utc(bounds[1])}.")
    return source, to_ms(start_in), to_ms(end_in)


def _markets_input(
    db: Database, source: backtest_queries.DataSource, window: tuple[int | None, int | None], slots: ErrorSlots
) -> tuple[list[str], list[str]]:
    """(the picked markets, every market with data in the range)."""
    start, end = window
    chosen = [c for c in st.session_state.get(BT_MARKETS, []) if isinstance(c, str)]
    if start is None or end is None:
        start = end = 0
    choices = backtest_queries.backtest_market_choices(db, source, start, end, include=tuple(chosen))
    with_data = int((choices["events"] > 0).sum())
    unit = UNITS[source]
    picked = market_picker(f"Markets ({with_data} with {unit} in the range)", choices, key=BT_MARKETS,
                           unit=unit, chosen=chosen)
    slots.add("markets", "Markets")
    return picked, [str(c) for c in choices.loc[choices["events"] > 0, "condition_id"]]


def _strategy_markets(db: Database, preset: str | None, source: backtest_queries.DataSource, start: int | None,
                      end: int | None) -> list[str] | None:
    """The markets with data in the range that the configured strategy `preset` trades (its list, or what its
    filter selects among them); None without a preset or a range."""
    if preset is None or start is None or end is None:
        return None
    found = configured_strategy(db.path, preset, source, start, end, int(clock.time() * 1000))
    return None if found is None else list(found.markets)


def _errors(
    kind: str,
    raw: dict[str, Any],
    source: backtest_queries.DataSource,
    start: int | None,
    end: int | None,
    markets: list[str],
    db: Database,
) -> tuple[dict[str, Any], dict[str, str], dict[str, str]]:
    """(clean params, param errors, other field errors: range, markets)."""
    clean, param_errors = validate_params(kind, raw)
    other: dict[str, str] = {}
    if start is None or end is None:
        other["range"] = "pick both a start and an end (UTC)"
    elif start >= end:
        other["range"] = f"the start ({utc(start)}) must be before the end ({utc(end)})"
    if not markets:
        other["markets"] = f"no market has {UNITS[source]} in the range: pick another range or source"
    elif start is not None and end is not None and start < end:
        empty = _without_data(db, source, start, end, markets)
        if empty:
            other["markets"] = f"no {UNITS[source]} between {utc(start)} and {utc(end)} for: {empty}"
    return clean, param_errors, other


def _without_data(db: Database, source: backtest_queries.DataSource, start: int, end: int, markets: list[str]) -> str:
    """The picked markets with no events in the range, by question ("" when all have data)."""
    counts = backtest_queries.backtest_event_counts(db, source, start, end, markets)
    empty = [cid for cid in markets if not counts.get(cid)]
    names = backtest_queries.market_questions(db, empty)
    return "; ".join(names.get(cid, cid) for cid in empty)


def default_name(kind: str, start: int, end: int) -> str:
    return f"{kind} {utc(start)[:16]} → {utc(end)[:16]} UTC"


def _double_click(spec: object) -> bool:
    now = clock.monotonic()
    last = st.session_state.get(LAST_LAUNCH)
    st.session_state[LAST_LAUNCH] = (spec, now)
    return last is not None and last[0] == spec and now - last[1] < DUPLICATE_S


def desk_cash(db: Database) -> float:
    """The desk's Paper starting cash setting (pUSD; its default when unset or unreadable)."""
    stored = status_queries.engine_settings(db).get("paper_starting_cash", {}).get("value")
    return float(stored) if isinstance(stored, (int, float)) and not isinstance(stored, bool) and stored >= 1 \
        else 10_000.0


def desk_latency(db: Database) -> str:
    """The desk's Paper order latency setting, as written (the default when unset or unreadable)."""
    stored = status_queries.engine_settings(db).get("paper_latency", {}).get("value")
    return stored if isinstance(stored, str) and stored else DEFAULT_LATENCY


def _latency(raw: str) -> tuple[str | None, str]:
    """(the written form, "") or (None, why it is refused)."""
    try:
        return parse_latency(raw).text, ""
    except LatencyError as exc:
        return None, str(exc)


def new_backtest_panel(db: Database, root: Path, configured: pd.DataFrame) -> int | None:
    """Render the form; on a valid submit launch the run and return its id (None otherwise).
    `configured`: the strategies list (trading_queries.strategies), read once per page run."""
    if read_only("launching a backtest"):
        return None
    kind, start_params, prefix, preset = _kind_and_preset(configured)
    head = ErrorSlots()
    source, start, end = _source_and_range(db, head)
    picked, with_data = _markets_input(db, source, (start, end), head)
    # None picked: the markets of the strategy whose params it starts from (as it trades them: a backtest of it
    # on every recorded market would hold each to its per-market target), else every market with data in the
    # range, as the Sweep tab and the CLI do (and a session over every market recorded picks none).
    own = _strategy_markets(db, preset, source, start, end) if not picked else None
    markets = picked or (own if own is not None else with_data)
    if own is not None:
        st.caption(f"No market picked: the {len(own)} market(s) strategy {text.markdown(str(preset))} trades with "
                   f"{UNITS[source]} in the range are backtested (pick markets to backtest others).")
    elif not picked and with_data:
        st.caption(f"No market picked: all {len(with_data)} with {UNITS[source]} in the range are backtested.")
    min_sizes = backtest_queries.market_min_sizes(db, markets)
    in_play = min_sizes or backtest_queries.market_min_sizes(db, with_data)
    if not start_params:  # the kind's defaults; a configured strategy's own size is kept (and checked below)
        start_params = size_defaults(registry()[kind].params_schema, max(in_play.values(), default=None))
    if min_sizes:
        low, high = min(min_sizes.values()), max(min_sizes.values())
        st.caption(f"Minimum order size of the picked markets: {low:g}" + (f"–{high:g}" if high != low else "")
                   + " shares (smaller quotes are refused).")
    cls = registry()[kind]
    with st.form(BT_FORM):
        fields = ErrorSlots()
        st.markdown(f"**Parameters** · {cls.title}")
        raw = render_specs(cls.params_schema, start_params, params_prefix(prefix), fields)
        left, middle, right = st.columns([1, 1, 2])
        seed = left.number_input(
            "Seed",
            min_value=0,
            max_value=2**31 - 1,
            value=0,
            step=1,
            key=BT_SEED,
            help="Drives the paper venue's random settlement failures: same data, "
            "config and seed give the same orders and fills",
        )
        latency = middle.text_input("Latency", value=desk_latency(db), key=BT_LATENCY,
                                    help=f"How long orders and cancels take to act: {LATENCY_FORMS}. Starts at the "
                                    "desk's Paper order latency setting; zero only if you choose it")
        fields.add("latency", "Latency")
        capital = left.number_input("Starting cash (pUSD)", min_value=1.0, max_value=1e9, value=desk_cash(db),
                                    step=100.0, key=BT_CAPITAL,
                                    help="The run's own starting cash (starts at the desk's Paper starting cash "
                                    "setting): returns are on this")
        name = right.text_input("Name (optional)", key=BT_NAME, placeholder="kind and range")
        below_ok = st.checkbox("Launch even if the order size is below a market's minimum", key=BT_BELOW_MIN_OK)
        summary = st.empty()
        submitted = st.form_submit_button(
            "Launch backtest", type="primary", key=BT_LAUNCH, icon=":material/rocket_launch:"
        )
    if not submitted:
        return None
    clean, param_errors, other = _errors(kind, raw, source, start, end, markets, db)
    latency_text, latency_error = _latency(latency)
    if latency_error:
        param_errors = {**param_errors, "latency": latency_error}
    orphans = head.show(other) + fields.show(param_errors)
    if param_errors or other:
        summary.error(
            "Nothing launched: fix the fields marked above." + "".join(f"\n\n- {text.markdown(o)}" for o in orphans)
        )
        return None
    size, below = below_minimum(clean, min_sizes)
    if below and not below_ok:
        questions = backtest_queries.market_questions(db, below)
        listed = "; ".join(f"{text.markdown(questions.get(cid, cid))} ({min_sizes[cid]:g} shares)" for cid in below)
        summary.warning(
            f"Nothing launched: the order size ({size:g} shares) is below the minimum of {listed}. Every such "
            "quote is refused (BELOW_MIN_SIZE), so the backtest would barely trade. Raise the size, drop "
            "those markets, or tick the box to launch anyway."
        )
        return None
    assert start is not None and end is not None
    spec = make_spec(
        kind=kind,
        params=clean,
        from_ms=start,
        to_ms=end,
        markets=tuple(markets),
        seed=int(seed),
        source=source,
        latency=latency_text,
        capital=round(float(capital) * 1_000_000),
    )
    if _double_click(spec):
        return None
    try:
        launched = launch(db, spec, name.strip() or default_name(kind, start, end), root=root, actor=actor())
    except OSError as exc:
        summary.error(f"Could not start the backtest process: {text.markdown(exc)}. The run is marked failed.")
        return None
    st.session_state[f"{LAUNCHED_HERE}flash"] = (  # under the Launch button, with the run's progress
        f"Backtest #{launched.run_id} launched (pid {launched.pid}); its log: `{launched.log_path}`."
    )
    return launched.run_id
