"""The strategy form: params generated from the kind's schema, and the markets it trades
(an explicit list of discovered markets, or a filter), validated with the engine's own pure
validators. Field errors appear under their fields; nothing is saved unless all pass.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import streamlit as st

from contracts.market_filter import FILTER_FIELDS, validate_market_spec
from contracts.params import check_value
from contracts.strategy_kinds import registry, validate_params
from pages.widgets.fields import ErrorSlots, render_specs
from storage.dashboard_queries import market_queries
from storage.sqlite.db import Database

EXPLICIT, FILTER = "Explicit list", "Filter"
_SCALARS = {spec.name: spec for spec in FILTER_FIELDS}


def params_prefix(prefix: str) -> str:
    return f"{prefix}_p_"


def filter_prefix(prefix: str) -> str:
    return f"{prefix}_f_"


def markets_key(prefix: str) -> str:
    return f"{prefix}_markets"


def mode_key(prefix: str) -> str:
    return f"{prefix}_mkmode"


def save_key(prefix: str) -> str:
    return f"{prefix}_save"


@dataclass(frozen=True)
class Submitted:
    params: dict[str, Any]
    markets: Any
    extra: dict[str, Any]


def _explicit_input(db: Database, spec: Any, prefix: str) -> list[str]:
    chosen = [cid for cid in spec if isinstance(cid, str)] if isinstance(spec, list) else []
    choices = market_queries.market_choices(db, include=tuple(chosen))
    labels = dict(zip(choices["condition_id"], choices["label"], strict=True))
    options = list(dict.fromkeys([*chosen, *choices["condition_id"]]))
    # Only the top open markets are listed; any other condition id can be typed in.
    return st.multiselect(
        "Markets (pick by question, or type a condition id)",
        options,
        default=chosen,
        format_func=lambda cid: labels.get(cid, cid),
        key=markets_key(prefix),
        accept_new_options=True,
    )


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
    mode = _market_mode(markets, prefix)
    with st.form(f"{prefix}_form"):
        head, fields, filters = ErrorSlots(), ErrorSlots(), ErrorSlots()
        extra_values = extra(head) if extra else {}
        st.markdown(f"**Parameters** · {cls.title}")
        raw_params = render_specs(cls.params_schema, params, params_prefix(prefix), fields)
        st.markdown("**Markets**")
        if mode == EXPLICIT:
            raw_markets: Any = _explicit_input(db, markets, prefix)
        else:
            raw_markets = {"filter": _filter_input(db, markets, prefix, filters)}
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
    if isinstance(raw_markets, dict):
        raw_markets = {"filter": normalized_filter(raw_markets["filter"])}
    return Submitted(clean, raw_markets, extra_values)
