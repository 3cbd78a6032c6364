"""The `news_feeds` setting as the two tables the Settings page edits (feeds; rules, each naming
its feed) and back, with every problem placed on its table's row (contracts/news.py validates).

A rule's markets are either condition ids or a market filter: the tables show the ids, or the
filter's search text and its market count; any other key of a stored filter rides along in a
column the table does not show, so saving an unchanged rule keeps it."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from contracts.news import DEFAULT_POLL_S, FeedProblem, feed_problems

FEED_FIELDS = ("name", "url", "poll_s", "enabled")
RULE_FIELDS = ("feed", "signal", "keywords", "pattern", "market_ids", "matching", "max_markets", "value", "ttl_s",
               "min_sentiment", "max_sentiment", "sentiment_weight", "filter_extra")
# Where a problem of a stored field shows: the table's column it came from.
_RULE_COLUMN = {"markets": "market_ids", "fields": "signal", "rule": "signal"}
_LIST = re.compile(r"[,\s]+")


@dataclass
class Placed:
    """What is wrong, per table row (0-based, as the editor returned the rows)."""

    feeds: dict[int, list[str]] = field(default_factory=dict)
    rules: dict[int, list[str]] = field(default_factory=dict)
    overall: list[str] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.feeds or self.rules or self.overall)

    def count(self) -> int:
        return sum(map(len, self.feeds.values())) + sum(map(len, self.rules.values())) + len(self.overall)


def feed_frame(feeds: list[dict[str, Any]]) -> pd.DataFrame:
    rows = [{"name": f.get("name"), "url": f.get("url"), "poll_s": f.get("poll_s", DEFAULT_POLL_S),
             "enabled": f.get("enabled", True)} for f in feeds]
    return pd.DataFrame(rows, columns=list(FEED_FIELDS)).astype({"poll_s": float})


def rule_frame(feeds: list[dict[str, Any]]) -> pd.DataFrame:
    rows = [{"feed": f.get("name"), **_rule_row(r)} for f in feeds for r in f.get("rules") or []]
    # Numbers as floats even when every cell is empty (an editor refuses a number column of objects).
    return pd.DataFrame(rows, columns=list(RULE_FIELDS)).astype({"max_markets": float, "value": float,
                                                                  "ttl_s": float, "min_sentiment": float,
                                                                  "max_sentiment": float, "sentiment_weight": float})


def _rule_row(rule: dict[str, Any]) -> dict[str, Any]:
    markets = rule.get("markets")
    found = markets.get("filter", {}) if isinstance(markets, dict) else {}
    extra = {k: v for k, v in found.items() if k not in ("text", "max_markets")}
    return {"signal": rule.get("signal"), "keywords": ", ".join(rule.get("keywords") or []),
            "pattern": rule.get("pattern") or "",
            "market_ids": ", ".join(markets) if isinstance(markets, list) else "",
            "matching": found.get("text") or "", "max_markets": found.get("max_markets"),
            "value": rule.get("value"), "ttl_s": rule.get("ttl_s"), "min_sentiment": rule.get("min_sentiment"),
            "max_sentiment": rule.get("max_sentiment"), "sentiment_weight": rule.get("sentiment_weight"),
            "filter_extra": json.dumps(extra, sort_keys=True) if extra else ""}


def feeds_from(feeds: pd.DataFrame, rules: pd.DataFrame) -> tuple[list[dict[str, Any]], Placed]:
    """The setting the edited tables describe, and every problem placed on its row: a rule whose
    feed is not in the feeds table, and everything contracts.news finds."""
    placed = Placed()
    built = [_feed(row) for row in feeds.to_dict("records")]
    slot: dict[tuple[int, int], int] = {}  # (feed index, rule index in it) -> rules table row
    index = {f["name"]: i for i, f in enumerate(built) if f["name"]}
    for n, row in enumerate(rules.to_dict("records")):
        owner = index.get(_text(row.get("feed")))
        if owner is None:
            placed.rules.setdefault(n, []).append("feed: pick the feed this rule reads (from the feeds table)")
            continue
        slot[(owner, len(built[owner]["rules"]))] = n
        built[owner]["rules"].append(_rule(row))
    for problem in feed_problems(built):
        _place(problem, placed, slot)
    return built, placed


def _place(problem: FeedProblem, placed: Placed, slot: dict[tuple[int, int], int]) -> None:
    if problem.feed is None:
        placed.overall.append(problem.message)
    elif problem.rule is None:
        placed.feeds.setdefault(problem.feed, []).append(_without_place(problem.message))
    else:
        placed.rules.setdefault(slot[(problem.feed, problem.rule)], []).append(_without_place(problem.message))


def _without_place(message: str) -> str:
    """`feed 2 rule 1: value must be …` -> `value must be …` (the table's row says where)."""
    return re.sub(r"^feed \d+(?: rule \d+)?:? ", "", message)


def _feed(row: dict[str, Any]) -> dict[str, Any]:
    return {"name": _text(row.get("name")), "url": _text(row.get("url")),
            "poll_s": _number(row.get("poll_s"), DEFAULT_POLL_S),
            "enabled": True if _missing(row.get("enabled")) else bool(row.get("enabled")), "rules": []}


def _rule(row: dict[str, Any]) -> dict[str, Any]:
    return {"signal": _text(row.get("signal")), "keywords": [k.strip() for k in _text(row.get("keywords")).split(",")
                                                            if k.strip()],
            "pattern": _text(row.get("pattern")), "markets": _markets(row),
            "value": _number(row.get("value"), None), "ttl_s": _number(row.get("ttl_s"), None),
            "min_sentiment": _number(row.get("min_sentiment"), None),
            "max_sentiment": _number(row.get("max_sentiment"), None),
            "sentiment_weight": _number(row.get("sentiment_weight"), 0)}


def _markets(row: dict[str, Any]) -> Any:
    ids = [i for i in _LIST.split(_text(row.get("market_ids"))) if i]
    if ids:
        return ids
    extra = _text(row.get("filter_extra"))
    found: dict[str, Any] = json.loads(extra) if extra else {}
    if _text(row.get("matching")):
        found["text"] = _text(row.get("matching"))
    if not _missing(row.get("max_markets")):
        found["max_markets"] = _number(row.get("max_markets"), None)
    return {"filter": found} if found else None


def _text(value: Any) -> str:
    return "" if _missing(value) else str(value).strip()


def _number(value: Any, default: Any) -> Any:
    """A table's number as the setting stores it: whole numbers as int (the editor gives floats)."""
    if _missing(value):
        return default
    return int(value) if float(value).is_integer() else float(value)


def _missing(value: Any) -> bool:
    return value is None or (isinstance(value, float) and value != value) or value is pd.NA
