"""The strategy form: params generated from the kind's schema, and the markets it trades
(an explicit list of markets found by name, pages/widgets/strategy_markets.py, or a filter),
validated with the engine's own pure validators. Field errors appear under their fields; nothing
is saved unless all pass. A strategy that could not trade as set (no market, or a filter that picks none
now; an order size below the minimum of a market it would trade, picked or picked by its filter; orders worth
less than the min order value, as one Kalshi contract is; an ensemble needing more fair-value sources than
price its markets: contracts/strategy_fit.py) is saved only with its box ticked, as the Backtest form does.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import streamlit as st

from charts import text as shown_text
from contracts.market_filter import FILTER_FIELDS, validate_market_spec
from contracts.params import check_value
from contracts.strategy_fit import Market, cannot_trade
from contracts.strategy_kinds import registry, validate_params
from pages.widgets.fields import ErrorSlots, render_specs
from pages.widgets.strategy_markets import chosen_key, explicit_markets, market_names, min_sizes
from pages.widgets.usage import limit_values
from storage.dashboard_queries import market_queries
from storage.dashboard_queries import status_queries as queries
from storage.dashboard_queries import strategy_fit_queries as fit_queries
from storage.sqlite.db import Database

EXPLICIT, FILTER = "Explicit list", "Filter"
_SCALARS = {spec.name: spec for spec in FILTER_FIELDS}


def params_prefix(prefix: str) -> str:
    return f"{prefix}_p_"


def filter_prefix(prefix: str) -> str:
    return f"{prefix}_f_"


def markets_key(prefix: str) -> str:
    return chosen_key(prefix)


def anyway_key(prefix: str) -> str:
    return f"{prefix}_anyway"


def mode_key(prefix: str) -> str:
    return f"{prefix}_mkmode"


def save_key(prefix: str) -> str:
    return f"{prefix}_save"


@dataclass(frozen=True)
class Submitted:
    params: dict[str, Any]
    markets: Any
    extra: dict[str, Any]


def _filter_input(db: Database, spec: Any, prefix: str, slots: ErrorSlots) -> dict[str, Any]:
    current = (
        spec.get("filter", {}) if isinstance(spec, dict) and isinstance(spec.get("filter"), dict) else {}
    )
    base = filter_prefix(prefix)
    text = st.text_input(
        "Question contains (every word)", value=str(current.get("text", "")), key=f"{base}text"
    )
    slots.add("text", "Question contains")
    known_tags = market_queries.market_tags(db)
    tags = [t for t in current.get("tags", []) if isinstance(t, str)]
    chosen_tags = st.multiselect(
        "Any of these tags", list(dict.fromkeys([*tags, *known_tags])), default=tags, key=f"{base}tags"
    )
    slots.add("tags", "Tags")
    raw = render_specs(FILTER_FIELDS, current, base, slots)
    out: dict[str, Any] = {k: v for k, v in raw.items() if not (isinstance(v, str) and v.strip() == "")}
    if text.strip():
        out["text"] = text.strip()
    if chosen_tags:
        out["tags"] = chosen_tags
    return out


def normalized_filter(raw: dict[str, Any]) -> dict[str, Any]:
    """Numbers typed as text become JSON numbers (after validation passed)."""
    return {k: check_value(_SCALARS[k], v)[0] if k in _SCALARS else v for k, v in raw.items()}


def _market_mode(spec: Any, prefix: str) -> str:
    default = FILTER if isinstance(spec, dict) else EXPLICIT
    chosen = st.segmented_control(
        "How this strategy picks its markets",
        [EXPLICIT, FILTER],
        default=default,
        key=mode_key(prefix),
        required=True,
    )
    return chosen or default


def strategy_form(
    db: Database,
    *,
    kind: str,
    params: dict[str, Any],
    markets: Any,
    prefix: str,
    submit_label: str,
    extra: Callable[[ErrorSlots], dict[str, Any]] | None = None,
    extra_errors: Callable[[dict[str, Any]], dict[str, str]] | None = None,
) -> Submitted | None:
    """Render the form; on a submit that validates, return the normalised values."""
    cls = registry()[kind]
    st.markdown("**Markets**")
    mode = _market_mode(markets, prefix)
    raw_markets: Any = None
    if mode == EXPLICIT:  # outside the form: finding and adding markets must answer at once
        stored = [cid for cid in markets if isinstance(cid, str)] if isinstance(markets, list) else []
        raw_markets = explicit_markets(db, stored, prefix)
    with st.form(f"{prefix}_form"):
        head, fields, filters = ErrorSlots(), ErrorSlots(), ErrorSlots()
        if mode != EXPLICIT:
            raw_markets = {"filter": _filter_input(db, markets, prefix, filters)}
        extra_values = extra(head) if extra else {}
        st.markdown(f"**Parameters** · {cls.title}")
        raw_params = render_specs(cls.params_schema, params, params_prefix(prefix), fields)
        anyway = st.checkbox("Save even if it cannot trade as set (no market, an order below a market's minimum "
                             "size or the min order value, too few fair-value sources)", key=anyway_key(prefix))
        summary = st.empty()
        submitted = st.form_submit_button(submit_label, type="primary", key=save_key(prefix))
    if not submitted:
        return None
    clean, param_errors = validate_params(kind, raw_params)
    market_errors = validate_market_spec(raw_markets, kind)
    head_errors = extra_errors(extra_values) if extra_errors else {}
    orphans = (
        head.show(head_errors) + fields.show(param_errors) + filters.show(market_errors, prefix="filter.")
    )
    if param_errors or market_errors or head_errors:
        summary.error("Nothing saved: fix the fields marked above." + "".join(f"\n\n- {o}" for o in orphans))
        return None
    if not anyway and (why := _why_idle(db, clean, raw_markets)):
        summary.warning("Nothing saved: " + "; ".join(shown_text.markdown(w) for w in why) + ". Fix it, or tick "
                        "“Save even if it cannot trade as set” to save it anyway.", icon=":material/block:")
        return None
    if isinstance(raw_markets, dict):
        raw_markets = {"filter": normalized_filter(raw_markets["filter"])}
    return Submitted(clean, raw_markets, extra_values)


def _why_idle(db: Database, params: dict[str, Any], markets: Any) -> list[str]:
    """Why this strategy could not trade as set (contracts/strategy_fit.py), from the markets it would trade:
    those picked, or those its filter picks among the markets the desk knows now."""
    if isinstance(markets, dict):
        listed = fit_queries.filter_picks(db, {"filter": normalized_filter(markets["filter"])})
        if not listed:
            return ["its filter picks no market the desk knows now: it places nothing until one matches"]
    else:
        listed = [cid for cid in markets if isinstance(cid, str)] if isinstance(markets, list) else []
    known = Market(prices=fit_queries.market_prices(db, listed), sources=fit_queries.sources_pricing(db, listed),
                   min_order_value=float(limit_values(queries.risk_limit_rows(db))["min_order_value"]))
    return cannot_trade(params, markets, min_sizes(db, listed), market_names(db, listed), known)
