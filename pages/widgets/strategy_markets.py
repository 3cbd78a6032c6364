"""The markets a strategy trades, picked by name: find them by words, tick the matches wanted, add
them; the picked list is shown whole, by question, before the form is saved.

No market is ever added by a loose match: a multiselect's own filter matched letters in order
("Fed" offered "Will France win the 2022 World Cup?": F, e, d) and offered to select every match
at once unseen. Here a match is an open market whose question contains every word typed
(storage/dashboard_queries/market_queries.find_markets), each one shown before it is ticked, and
only the ticked ones are added. A condition id (or kalshi:<ticker>) typed whole is offered too,
even one the desk does not know yet (the engine reports an id it cannot resolve).
"""

from __future__ import annotations

import re
from typing import Any

import streamlit as st

from charts import text
from contracts.venue_policies import policy_for_market
from storage.dashboard_queries import market_queries
from storage.research import backtest_queries
from storage.sqlite.db import Database

FOUND_SHOWN = 20
AN_ID = re.compile(r"^(0x[0-9a-fA-F]{64}|kalshi:[A-Za-z0-9._-]+)$")


def chosen_key(prefix: str) -> str:
    """The picked markets (condition ids, in order) of the form under `prefix`."""
    return f"{prefix}_markets"


def find_key(prefix: str) -> str:
    return f"{prefix}_find"


def add_key(prefix: str) -> str:
    return f"{prefix}_add"


def tick_key(state: Any, prefix: str, condition_id: str) -> str:
    """A match's tick box (`state`: the session's state); its keys move on after each add, so the
    boxes start unticked."""
    added = state[f"{prefix}_added"] if f"{prefix}_added" in state else 0
    return f"{prefix}_tick{added}_{condition_id}"


def market_names(db: Database, ids: list[str]) -> dict[str, str]:
    """condition id -> its question, for the ids the desk knows (Kalshi pairs by their title)."""
    choices = market_queries.market_choices(db, limit=0, include=tuple(ids))
    return {str(c): str(q) for c, q in zip(choices["condition_id"], choices["question"], strict=True)}


def explicit_markets(db: Database, stored: list[str], prefix: str) -> list[str]:
    """Find, tick and add markets, and the picked list (drawn outside the strategy's form, whose
    widgets only speak on submit); returns the picked condition ids."""
    key = chosen_key(prefix)
    if key not in st.session_state:
        st.session_state[key] = list(dict.fromkeys(stored))
    typed = st.text_input("Find markets to add (every word must be in the question; or a condition id)",
                          key=find_key(prefix), placeholder="e.g. fed rates")
    if typed.strip():
        _matches(db, typed, prefix, key)
    chosen: list[str] = st.session_state[key]
    names = market_names(db, chosen)
    st.multiselect("Markets it trades (✕ removes one)", chosen, key=key, placeholder="No market picked yet",
                   format_func=lambda cid: _label(cid, names.get(cid)))
    return list(st.session_state[key])


def _label(condition_id: str, question: str | None, min_size: float | None = None) -> str:
    size = "" if min_size is None or min_size != min_size else f" · min {min_size:g} shares"  # (NaN: none listed)
    return f"{question}{size}  ·  {condition_id[:10]}" if question else f"{condition_id} (not known to the desk yet)"


def _matches(db: Database, typed: str, prefix: str, key: str) -> None:
    """Each match, shown by its question with a tick box; Add puts the ticked ones on the list."""
    found, total = market_queries.find_markets(db, typed, limit=FOUND_SHOWN)
    chosen: list[str] = st.session_state[key]
    offered = [(str(c), str(q), None if m is None else float(m))
               for c, q, m in zip(found["condition_id"], found["question"], found["min_size"], strict=True)]
    if not offered and AN_ID.match(typed.strip()):
        offered = [(typed.strip(), "", None)]
    if not offered:
        st.caption(f"No open market's question contains every word of “{text.markdown(typed.strip())}”.")
        return
    more = f" (the first {len(offered)} of {total}: type more words to narrow them)" if total > len(offered) else ""
    st.caption(f"{len(offered)} match{'es' if len(offered) != 1 else ''}{more}. Tick the ones to add:")
    ticked = []
    with st.container(key=f"{prefix}_found"):
        for cid, question, min_size in offered:
            already = cid in chosen
            label = _label(cid, question or None, min_size) + (" (picked)" if already else "")
            if st.checkbox(label, key=tick_key(st.session_state, prefix, cid), disabled=already) and not already:
                ticked.append(cid)
    if st.button(f"Add {len(ticked)} ticked market{'s' if len(ticked) != 1 else ''}", key=add_key(prefix),
                 disabled=not ticked, icon=":material/playlist_add:"):
        st.session_state[key] = [*chosen, *ticked]
        st.session_state[f"{prefix}_added"] = int(st.session_state.get(f"{prefix}_added", 0)) + 1
        st.rerun()


def min_sizes(db: Database, ids: list[str]) -> dict[str, float]:
    """The minimum order size (shares) of each picked market the desk knows (of the venues whose markets have
    rows in the markets table)."""
    return backtest_queries.market_min_sizes(db, [cid for cid in ids if policy_for_market(cid).catalog_rows])
