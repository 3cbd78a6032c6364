"""An arbitrage's legs go whole or not at all: when a filter before the gate (self-trades, held
takes) drops one leg, every leg of its group is dropped with it."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import replace

from contracts.domain import Intent, Quote


def drop_groups(asked: list[Intent], kept: list[Intent],
                broken: Collection[str]) -> tuple[list[Intent], list[tuple[Intent, Quote]]]:
    """`kept` without any quote of a `broken` group, and the (intent, quote) pairs so dropped
    that were still there (the leg that broke the group was already taken out)."""
    if not broken:
        return kept, []
    dropped: list[tuple[Intent, Quote]] = []
    out = list(kept)
    for k, intent in enumerate(kept):
        if not any(q.group in broken for q in asked[k].quotes):
            continue
        dropped += [(intent, q) for q in intent.quotes if q.group in broken]
        out[k] = replace(intent, quotes=tuple(q for q in intent.quotes if q.group not in broken))
    return out, dropped
