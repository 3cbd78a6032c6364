"""The market picker of the New backtest and Sweep forms: markets with data in the range (by
name), the picked ones kept even when their data leaves it, and each picked market's event count
beside.

An option's label is its question only, never a live figure: the browser sends back the labels
it showed, so a label carrying a tick count that a recording desk raises between two reruns no
longer matches any option, and the pick falls out of the selection (the launch was then refused
for a "market" named by that stale label).
"""

from __future__ import annotations

from collections import Counter

import pandas as pd
import streamlit as st

from charts import text

SHORT_ID = 12  # characters of a condition id that tell two same-named markets apart


def stable_labels(choices: pd.DataFrame) -> dict[str, str]:
    """condition id -> its question; the id's start is added where a question is missing or is
    shared by another market (two options must never read the same)."""
    questions = {str(c): (q if isinstance(q, str) else "") for c, q in zip(choices["condition_id"],
                                                                            choices["question"], strict=True)}
    seen = Counter(questions.values())
    return {cid: q if q and seen[q] == 1 else f"{q or 'unnamed market'} · {cid[:SHORT_ID]}…"
            for cid, q in questions.items()}


def market_picker(label: str, choices: pd.DataFrame, *, key: str, unit: str, chosen: list[str],
                  placeholder: str = "Pick one or more markets", help: str | None = None) -> list[str]:
    """A multiselect over `choices` (condition_id, question, events) plus the already `chosen`
    ids; under it, the event count of each picked market in the range."""
    labels = stable_labels(choices)
    counts = {str(c): int(n) for c, n in zip(choices["condition_id"], choices["events"], strict=True)}
    # In a steady order (by name): the query ranks by event count, which moves as data arrives.
    options = list(dict.fromkeys([*sorted(labels, key=lambda c: labels[c].casefold()), *chosen]))
    picked: list[str] = st.multiselect(label, options, key=key, format_func=lambda c: labels.get(c, c),
                                       placeholder=placeholder, help=help)
    if picked:
        st.caption("In the range: " + "; ".join(f"{text.markdown(labels.get(c, c))} · {counts.get(c, 0):,} {unit}"
                                                 for c in picked))
    return picked
