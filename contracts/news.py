"""News feeds and their rules: what the `news_feeds` setting holds, and its validation.

The setting is a JSON list of feeds, edited on the Settings page and stored by the one writer of
configuration (storage/desk/config.py), which refuses anything this module does not accept:

    [{"name": "wires", "url": "https://example.com/rss", "poll_s": 300, "enabled": true,
      "rules": [{"signal": "fed-cut", "keywords": ["rate cut"], "pattern": "",
                 "markets": {"filter": {"text": "fed"}}, "value": 0.7, "ttl_s": 3600}]}]

An entry (title and summary) matches a rule when one of its keywords appears in it (any case) or
its regular expression (`pattern`, the `regex` module's syntax, case-insensitive) finds a match.
Each entry is scored for sentiment (engine/news/sentiment.py: VADER's lexicon, -1 to 1); a rule may
match only within `min_sentiment`..`max_sentiment`, and writes `value + sentiment_weight x
sentiment` (clamped to 0..1). A match writes that value as the fair probability of YES for every
market the rule's `markets` select (a list of condition ids or a filter, as a strategy's), under the signal name
`news:<signal>`, for `ttl_s` seconds from the entry's publication (or from when it was first
seen, if it has no date). Value betting trades toward it like any other external signal.

Every bound is here so a feed, a rule or a pattern cannot wedge the engine: sizes and counts are
capped, a pattern is compiled and tried against a hostile probe with a time limit before it is
accepted, and the poller matches with a time limit too (engine/news/).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import regex

from contracts.domain import BadNumber, read_decimal
from contracts.market_filter import validate_market_spec

MAX_FEEDS = 20
MAX_RULES = 20
MAX_KEYWORDS = 20
MAX_KEYWORD_CHARS = 100
MAX_PATTERN_CHARS = 200
MAX_URL_CHARS = 500
POLL_S = (10, 86_400)
TTL_S = (60, 7 * 86_400)
DEFAULT_POLL_S = 300
PATTERN_PROBE_TIMEOUT_S = 0.05  # a pattern slower than this on the probe is refused
MATCH_TIMEOUT_S = 0.05  # the poller's limit per pattern and entry
_PROBE = "a" * 2_000 + "!" + " ab" * 500 + "\n" * 50  # what makes a backtracking pattern explode
_NAME = re.compile(r"^[a-z0-9][a-z0-9_.-]{0,39}$")
_FEED_KEYS = {"name", "url", "poll_s", "enabled", "rules"}
_RULE_KEYS = {"signal", "keywords", "pattern", "markets", "value", "ttl_s", "min_sentiment", "max_sentiment",
              "sentiment_weight"}
SENTIMENT_WEIGHT = (0.0, 0.5)  # how far a headline's sentiment (-1..1) may move the value written
SIGNAL_PREFIX = "news:"


class NewsConfigError(ValueError):
    """The feeds do not validate; the message names the feed, the rule and the field."""


@dataclass(frozen=True)
class NewsRule:
    signal: str
    keywords: tuple[str, ...]
    pattern: str
    markets: Any
    value: int  # micro-units of probability
    ttl_s: int
    # A headline's sentiment (engine/news/sentiment.py: -1 most negative .. 1 most positive): the rule
    # matches only within [min, max] (None: no bound), and writes value + weight x sentiment.
    min_sentiment: float | None = None
    max_sentiment: float | None = None
    sentiment_weight: float = 0.0

    def admits(self, sentiment: float) -> bool:
        return (self.min_sentiment is None or sentiment >= self.min_sentiment) and \
            (self.max_sentiment is None or sentiment <= self.max_sentiment)

    def value_for(self, sentiment: float) -> int:
        """The fair probability written (micro): the rule's value moved by the headline's sentiment."""
        return min(1_000_000, max(0, self.value + round(self.sentiment_weight * sentiment * 1_000_000)))

    @property
    def source(self) -> str:
        """The `signals.source` this rule writes under."""
        return SIGNAL_PREFIX + self.signal

    def compiled(self) -> regex.Pattern[str] | None:
        return regex.compile(self.pattern, regex.IGNORECASE) if self.pattern else None


@dataclass(frozen=True)
class NewsFeed:
    name: str
    url: str
    poll_s: int
    enabled: bool
    rules: tuple[NewsRule, ...]


def check_feeds(raw: Any) -> list[dict[str, Any]]:
    """The feeds as they are stored (defaults filled in), or NewsConfigError naming what is wrong."""
    return [_feed_json(feed) for feed in parse_feeds(raw)]


def parse_feeds(raw: Any) -> tuple[NewsFeed, ...]:
    if not isinstance(raw, list):
        raise NewsConfigError("must be a list of feeds ([] for none)")
    if len(raw) > MAX_FEEDS:
        raise NewsConfigError(f"at most {MAX_FEEDS} feeds, not {len(raw)}")
    feeds = tuple(_feed(item, f"feed {n}") for n, item in enumerate(raw, 1))
    names = [f.name for f in feeds]
    if len(set(names)) != len(names):
        raise NewsConfigError("two feeds have the same name")
    return feeds


def _feed(item: Any, where: str) -> NewsFeed:
    if not isinstance(item, Mapping):
        raise NewsConfigError(f"{where}: must be an object with name, url and rules")
    _no_unknown(item, _FEED_KEYS, where)
    name = _name(item.get("name"), f"{where}: name")
    where = f"feed {name!r}"
    url = _url(item.get("url"), where)
    poll_s = _whole(item.get("poll_s", DEFAULT_POLL_S), POLL_S, f"{where}: poll_s")
    enabled = _enabled(item.get("enabled", True), where)
    rules = _rules(item.get("rules"), where)
    return NewsFeed(name, url, poll_s, enabled, tuple(_rule(r, f"{where} rule {n}") for n, r in enumerate(rules, 1)))


def _url(url: Any, where: str) -> str:
    if not isinstance(url, str) or not url.startswith(("http://", "https://")) or len(url) > MAX_URL_CHARS \
            or any(c.isspace() for c in url):
        raise NewsConfigError(f"{where}: url must be an http:// or https:// address of at most {MAX_URL_CHARS} "
                              "characters")
    return url


def _enabled(enabled: Any, where: str) -> bool:
    if not isinstance(enabled, bool):
        raise NewsConfigError(f"{where}: enabled must be true or false")
    return enabled


def _rules(rules: Any, where: str) -> list[Any]:
    if not isinstance(rules, list) or not 1 <= len(rules) <= MAX_RULES:
        raise NewsConfigError(f"{where}: rules must be a list of 1 to {MAX_RULES} rules")
    return rules


def _rule(item: Any, where: str) -> NewsRule:
    if not isinstance(item, Mapping):
        raise NewsConfigError(f"{where}: must be an object with signal, keywords or pattern, markets, value, ttl_s")
    _no_unknown(item, _RULE_KEYS, where)
    signal = _name(item.get("signal"), f"{where}: signal")
    keywords = _keywords(item.get("keywords", []), where)
    pattern = _pattern(item.get("pattern", ""), where)
    _matches_something(keywords, pattern, where)
    markets = _markets(item.get("markets"), where)
    value = _probability(item.get("value"), f"{where}: value")
    ttl_s = _whole(item.get("ttl_s"), TTL_S, f"{where}: ttl_s")
    low, high = _sentiment_bounds(item, where)
    weight = _decimal(item.get("sentiment_weight", 0), SENTIMENT_WEIGHT, f"{where}: sentiment_weight")
    return NewsRule(signal, keywords, pattern, markets, value, ttl_s, low, high, weight)


def _sentiment_bounds(item: Mapping[str, Any], where: str) -> tuple[float | None, float | None]:
    low, high = (None if item.get(k) is None else _decimal(item.get(k), (-1.0, 1.0), f"{where}: {k}")
                 for k in ("min_sentiment", "max_sentiment"))
    if low is not None and high is not None and low > high:
        raise NewsConfigError(f"{where}: min_sentiment {low} is above max_sentiment {high}: no headline would match")
    return low, high


def _decimal(value: Any, bounds: tuple[float, float], where: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or value != value \
            or not bounds[0] <= value <= bounds[1]:
        raise NewsConfigError(f"{where} must be a number from {bounds[0]:g} to {bounds[1]:g}")
    return float(value)


def _keywords(keywords: Any, where: str) -> tuple[str, ...]:
    if not isinstance(keywords, list) or len(keywords) > MAX_KEYWORDS or not all(
            isinstance(k, str) and 0 < len(k.strip()) <= MAX_KEYWORD_CHARS for k in keywords):
        raise NewsConfigError(f"{where}: keywords must be a list of at most {MAX_KEYWORDS} non-empty words or "
                              f"phrases of at most {MAX_KEYWORD_CHARS} characters")
    return tuple(k.strip() for k in keywords)


def _pattern(pattern: Any, where: str) -> str:
    if not isinstance(pattern, str) or len(pattern) > MAX_PATTERN_CHARS:
        raise NewsConfigError(f"{where}: pattern must be a regular expression of at most {MAX_PATTERN_CHARS} "
                              "characters")
    _check_pattern(pattern, where)
    return pattern


def _matches_something(keywords: tuple[str, ...], pattern: str, where: str) -> None:
    if not keywords and not pattern:
        raise NewsConfigError(f"{where}: give keywords or a pattern (or both): a rule must match something")


def _markets(markets: Any, where: str) -> Any:
    problems = validate_market_spec(markets)
    if markets in (None, [], {}) or problems:
        detail = "; ".join(f"{k}: {v}" for k, v in problems.items()) or "required"
        raise NewsConfigError(f"{where}: markets ({detail}): a list of condition ids or "
                              '{"filter": {...}} as for a strategy')
    return markets


@dataclass(frozen=True)
class FeedProblem:
    """One thing wrong with the feeds, placed: the feed's index (0-based; None for the list as a
    whole), the rule's index in that feed (None for a feed's own field) and the field."""

    feed: int | None
    rule: int | None
    field: str
    message: str


def feed_problems(raw: list[Any]) -> list[FeedProblem]:
    """Everything wrong with a list of feeds at once, each in its place (a form shows each beside
    its field; parse_feeds stops at the first)."""
    found: list[FeedProblem] = []
    if len(raw) > MAX_FEEDS:
        found.append(FeedProblem(None, None, "feeds", f"at most {MAX_FEEDS} feeds, not {len(raw)}"))
    names = [item.get("name") for item in raw if isinstance(item, Mapping)]
    for i, item in enumerate(raw):
        if not isinstance(item, Mapping):
            found.append(FeedProblem(i, None, "feed", f"feed {i + 1}: must be an object with name, url and rules"))
            continue
        where = f"feed {i + 1}"
        found += [FeedProblem(i, None, field, why) for field, why in _feed_field_problems(item, where)]
        if names.count(item.get("name")) > 1:
            found.append(FeedProblem(i, None, "name", f"{where}: two feeds are named {item.get('name')!r}"))
        rules = item.get("rules")
        for j, rule in enumerate(rules if isinstance(rules, list) else []):
            found += [FeedProblem(i, j, field, why) for field, why in _rule_problems(rule, f"{where} rule {j + 1}")]
    return found


def _feed_field_problems(item: Mapping[str, Any], where: str) -> list[tuple[str, str]]:
    return _failed([
        ("fields", lambda: _no_unknown(item, _FEED_KEYS, where)),
        ("name", lambda: _name(item.get("name"), f"{where}: name")),
        ("url", lambda: _url(item.get("url"), where)),
        ("poll_s", lambda: _whole(item.get("poll_s", DEFAULT_POLL_S), POLL_S, f"{where}: poll_s")),
        ("enabled", lambda: _enabled(item.get("enabled", True), where)),
        ("rules", lambda: _rules(item.get("rules"), where)),
    ])


def _rule_problems(item: Any, where: str) -> list[tuple[str, str]]:
    if not isinstance(item, Mapping):
        return [("rule", f"{where}: must be an object with signal, keywords or pattern, markets, value, ttl_s")]
    keywords, pattern = item.get("keywords", []), item.get("pattern", "")
    checks: list[tuple[str, Callable[[], object]]] = [
        ("fields", lambda: _no_unknown(item, _RULE_KEYS, where)),
        ("signal", lambda: _name(item.get("signal"), f"{where}: signal")),
        ("keywords", lambda: _keywords(keywords, where)),
        ("pattern", lambda: _pattern(pattern, where)),
        ("keywords", lambda: _matches_something(tuple(keywords or ()), pattern if isinstance(pattern, str) else "",
                                                where)),
        ("markets", lambda: _markets(item.get("markets"), where)),
        ("value", lambda: _probability(item.get("value"), f"{where}: value")),
        ("ttl_s", lambda: _whole(item.get("ttl_s"), TTL_S, f"{where}: ttl_s")),
        ("min_sentiment", lambda: _sentiment_bounds(item, where)),
        ("sentiment_weight", lambda: _decimal(item.get("sentiment_weight", 0), SENTIMENT_WEIGHT,
                                              f"{where}: sentiment_weight")),
    ]
    return _failed(checks)


def _failed(checks: list[tuple[str, Callable[[], object]]]) -> list[tuple[str, str]]:
    failed = []
    for field, check in checks:
        try:
            check()
        except NewsConfigError as exc:
            failed.append((field, str(exc)))
    return failed


def _check_pattern(pattern: str, where: str) -> None:
    if not pattern:
        return
    try:
        compiled = regex.compile(pattern, regex.IGNORECASE)
    except regex.error as exc:
        raise NewsConfigError(f"{where}: pattern is not a valid regular expression ({exc})") from None
    try:
        compiled.search(_PROBE, timeout=PATTERN_PROBE_TIMEOUT_S)
    except TimeoutError:
        raise NewsConfigError(f"{where}: pattern is too slow (it backtracks: simplify nested repeats such as "
                              "(a+)+)") from None


def _no_unknown(item: Mapping[str, Any], known: set[str], where: str) -> None:
    unknown = sorted(str(k)[:40] for k in item if k not in known)
    if unknown:
        raise NewsConfigError(f"{where}: unknown field {unknown[0]!r} (known: {', '.join(sorted(known))})")


def _name(value: Any, where: str) -> str:
    if not isinstance(value, str) or not _NAME.match(value):
        raise NewsConfigError(f"{where} must be 1 to 40 lower-case letters, digits, '_', '.' or '-'")
    return value


def _whole(value: Any, bounds: tuple[int, int], where: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int | float) or value != int(value) \
            or not bounds[0] <= value <= bounds[1]:
        raise NewsConfigError(f"{where} must be a whole number of seconds from {bounds[0]} to {bounds[1]}")
    return int(value)


def _probability(value: Any, where: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise NewsConfigError(f"{where} must be a probability between 0 and 1")
    try:
        number = read_decimal(value)
    except BadNumber:  # "1e999999" or a thousand digits too: refused, never a decimal.Overflow
        raise NewsConfigError(f"{where} must be a probability between 0 and 1 with at most 6 decimals") from None
    if not 0 <= number <= 1 or number != number.quantize(Decimal("0.000001")):
        raise NewsConfigError(f"{where} must be a probability between 0 and 1 with at most 6 decimals")
    return int(number * 1_000_000)


def _feed_json(feed: NewsFeed) -> dict[str, Any]:
    return {"name": feed.name, "url": feed.url, "poll_s": feed.poll_s, "enabled": feed.enabled,
            "rules": [{"signal": r.signal, "keywords": list(r.keywords), "pattern": r.pattern, "markets": r.markets,
                       "value": r.value / 1_000_000, "ttl_s": r.ttl_s, "min_sentiment": r.min_sentiment,
                       "max_sentiment": r.max_sentiment, "sentiment_weight": r.sentiment_weight}
                      for r in feed.rules]}
