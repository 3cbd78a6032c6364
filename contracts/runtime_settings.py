"""Engine settings that the operator edits from the dashboard (the `settings` table).

Unlike `.env` (hosts and secrets, read at process start), these apply on `reload_config`.
Values are JSON; each key has a type, bounds, a default and help text, and missing keys
get their defaults when the engine starts.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from contracts import notify_choices
from contracts.followed_wallets import FollowError, check_wallets
from contracts.indicator_spec import IndicatorError, parse_variants
from contracts.jsonsafe import CONFIG_BYTES, JsonRefused, loads_bounded
from contracts.latency_spec import DEFAULT as DEFAULT_LATENCY
from contracts.latency_spec import FORMS as LATENCY_FORMS
from contracts.latency_spec import LatencyError, parse_latency
from contracts.news import NewsConfigError, check_feeds
from contracts.updown import SPOT_PROTOCOLS, SeriesError, parse_series


@dataclass(frozen=True)
class SettingSpec:
    key: str
    title: str
    kind: type
    default: Any
    minimum: float | None
    maximum: float | None
    unit: str
    help: str
    group: str = "engine"  # the Settings page shows each group in its own panel
    check: Callable[[Any], Any] | None = None  # normalises a value, or raises SettingError
    # Bracket nesting allowed in the stored JSON; brackets inside a string count (jsonsafe.py).
    max_depth: int = 2


class SettingError(ValueError):
    pass


ALERT_LEVELS = ("info", "warning", "critical")
_CODE = re.compile(r"^[A-Z][A-Z0-9_]{0,63}$")
MAX_MUTED_CODES = 50


def _listed(raw: str) -> list[str]:
    return [part.strip() for part in raw.split(",") if part.strip()]


def alert_levels(raw: str) -> str:
    """`warning, critical` -> `warning,critical` (known levels, in order of severity)."""
    levels = {part.lower() for part in _listed(raw)}
    unknown = sorted(levels - set(ALERT_LEVELS))
    if unknown:
        raise SettingError(f"Alert levels that notify: {', '.join(unknown)} is not a level "
                           f"(use {', '.join(ALERT_LEVELS)}, comma-separated)")
    return ",".join(level for level in ALERT_LEVELS if level in levels)


def alert_codes(raw: str) -> str:
    """`daily_reset, cash_sync` -> `CASH_SYNC,DAILY_RESET`."""
    codes = sorted({part.upper() for part in _listed(raw)})
    bad = [code for code in codes if not _CODE.match(code)]
    if bad:
        raise SettingError(f"Muted alert codes: {bad[0][:70]!r} is not an alert code (letters, digits and _, "
                           "like DAILY_RESET)")
    if len(codes) > MAX_MUTED_CODES:
        raise SettingError(f"Muted alert codes: at most {MAX_MUTED_CODES} codes")
    return ",".join(codes)


def spot_protocol(raw: str) -> str:
    """`""` (off), `okx` or `binance` (contracts/updown.py)."""
    value = raw.strip().lower()
    if value and value not in SPOT_PROTOCOLS:
        raise SettingError(f"Spot price feed: {raw!r} is not one of {', '.join(SPOT_PROTOCOLS)} (empty: off)")
    return value


def series_names(raw: str) -> str:
    """`btc-updown-5m, eth-updown-15m` -> `btc-updown-5m,eth-updown-15m` (contracts/updown.py)."""
    try:
        return ",".join(series.name for series in parse_series(raw))
    except SeriesError as exc:
        raise SettingError(f"Up/down series: {exc}") from None


def indicator_variants(raw: str) -> str:
    """`velocity:30, twap:60` -> `twap:60 velocity:30` (contracts/indicator_spec.py)."""
    try:
        return " ".join(v.name for v in parse_variants(_listed_variants(raw)))
    except IndicatorError as exc:
        raise SettingError(f"Indicators: {exc}") from None


def _listed_variants(raw: str) -> list[str]:
    """Variants separated by spaces or semicolons (a comma belongs to `kind:t1,t2`)."""
    return [part for part in re.split(r"[\s;]+", raw.replace(", ", " ").strip()) if part]


def time_of_day(raw: str) -> str:
    """`7:00` -> `07:00`; `HH:MM:SS` kept; empty turns the daily summary off."""
    text = raw.strip()
    if not text:
        return ""
    match = re.fullmatch(r"(\d{1,2}):(\d{2})(?::(\d{2}))?", text)
    if match is None or int(match[1]) > 23 or int(match[2]) > 59 or int(match[3] or 0) > 59:
        raise SettingError(f"Daily summary time: {text[:20]!r} is not a UTC time like 07:00 (or empty for none)")
    return f"{int(match[1]):02d}:{match[2]}" + (f":{match[3]}" if match[3] else "")


def latency(raw: str) -> str:
    """`constant` -> `constant:150,150,50`: the written form of a latency (contracts/latency_spec.py)."""
    try:
        return parse_latency(raw).text
    except LatencyError as exc:
        raise SettingError(f"Paper order latency: {exc}") from None


def choices(raw: str) -> str:
    try:
        return notify_choices.normalise(raw)
    except notify_choices.ChoicesError as exc:
        raise SettingError(str(exc)) from None


def news_feeds(raw: list[Any]) -> list[dict[str, Any]]:
    try:
        return check_feeds(raw)
    except NewsConfigError as exc:
        raise SettingError(f"News feeds: {exc}") from None


def followed_wallets(raw: list[Any]) -> list[dict[str, Any]]:
    try:
        return check_wallets(raw)
    except FollowError as exc:
        raise SettingError(f"Followed wallets: {exc}") from None


SETTINGS: tuple[SettingSpec, ...] = (
    SettingSpec("paper_starting_cash", "Paper starting cash", float, 10_000.0, 0, 1e9, "pUSD",
                "Cash the paper ledger starts with (applies to a fresh paper ledger)."),
    SettingSpec("tick_interval_ms", "Decision interval", int, 500, 50, 60_000, "ms",
                "How often every strategy is asked for intents whatever happened (a market whose book, trades "
                "or orders change is decided at once, between these passes)."),
    SettingSpec("decide_on_events", "Decide on events", int, 1, 0, 1, "on/off",
                "1: a market whose book moves near its quotes, whose orders or fills change, or that trades, is "
                "decided at once rather than at the next pass; 0: decided on the timed passes only "
                "(docs/ARCHITECTURE.md)."),
    SettingSpec("decision_min_gap_ms", "Least time between a market's replacements", int, 10, 0, 10_000, "ms",
                "After a decision on a market's event sent orders or cancels, its next one starts at least this "
                "long after that one started (a book that floods must not become a flood of cancels); 0: none."),
    SettingSpec("indicators", "Indicators", str, "", None, None, "variants",
                "Streaming indicators computed for every market the desk follows, recorded each minute and drawn "
                "on the Markets page (space-separated: twap:60 velocity:30 volume_surge:60,600); strategies may "
                "ask for more.", check=indicator_variants),
    SettingSpec("strategy_memory_max_age_s", "Strategy memory: keep for", int, 600, 0, 86_400, "s",
                "A strategy's warm state (momentum's windows, market making's pulls, the copies made) is saved "
                "every few seconds and taken back after a restart if no older than this, for the same params "
                "only; 0 always starts cold."),
    SettingSpec("snapshot_interval_s", "Portfolio snapshot interval", int, 60, 5, 3600, "s",
                "How often equity, PnL and exposure are recorded for the charts."),
    SettingSpec("market_refresh_minutes", "Market refresh interval", int, 5, 1, 1440, "min",
                "How often discovered markets are refreshed from Gamma."),
    SettingSpec("game_start_withdraw_s", "Withdraw before a game starts", int, 30, 0, 3600, "s",
                "Sports markets whose book the venue clears at the game's start (clearBookOnStart): the desk "
                "withdraws its quotes this many seconds before the start and quotes again once it has started."),
    SettingSpec("paper_mined_after_ms", "Paper settlement delay", int, 2_000, 0, 600_000, "ms",
                "A paper fill moves from MATCHED (pending) to MINED (settled) after this long."),
    SettingSpec("paper_fail_rate", "Paper ghost-fill rate", float, 0.0, 0.0, 1.0, "fraction",
                "Share of paper fills whose settlement fails (FAILED reverses them), to rehearse ghost fills."),
    SettingSpec("paper_latency", "Paper order latency", str, DEFAULT_LATENCY, None, None, "ms",
                "How long the paper venue (and every backtest and sweep) takes to act on an order or a cancel, "
                f"market data's delay included: {LATENCY_FORMS}. The default is a US-East VPS's; zero only if you "
                "choose it (docs/research.md: Latency).", check=latency),
    SettingSpec("venue_heartbeat_s", "Venue heartbeat (dead-man switch)", int, 5, 0, 8, "s",
                "Live: how often the engine tells the venue it is alive; if ~10 s pass without one (a crash, a "
                "freeze, a lost network) the venue cancels every resting order. 0 turns it off (not advised)."),
    SettingSpec("fills_dark_s", "Fills dark: stop after", int, 15, 0, 600, "s",
                "Live: when the user channel, which reports the desk's fills, has been down this long, no new "
                "order is placed until it has reconnected and the missed fills are read back (FILLS_DARK, and "
                "FILLS_DARK_CLEARED when it is back). 0 turns the check off (not advised)."),
    SettingSpec("fills_dark_cancel", "Fills dark: cancel resting orders", int, 1, 0, 1, "0/1",
                "1: while fills are dark the strategies' resting orders are cancelled too (a quote filled unseen "
                "would be filled again and again). 0: they are left resting, and nothing is placed or cancelled "
                "until fills are back."),
    SettingSpec("venue_sync_s", "Venue order sync interval", int, 5, 1, 300, "s",
                "Live: how often open orders are checked against the venue's (closing orders it no longer "
                "has, importing ones it has that the engine does not know)."),
    SettingSpec("balance_check_s", "Live balance check interval", int, 60, 10, 3600, "s",
                "Live: how often the wallet's collateral and shares are compared with the ledger while trading. "
                "A difference seen on two checks in a row (no fill in between) raises BALANCE_DRIFT; fewer shares "
                "than the ledger holds, or a cash difference past the tolerance below, halts trading."),
    SettingSpec("balance_drift_tolerance_usdc", "Live balance drift tolerance", float, 10.0, 0.0, 1e9, "pUSD",
                "Live: a confirmed difference between the wallet's collateral and the ledger's cash up to this is "
                "alerted only (BALANCE_DRIFT); beyond it trading halts (BALANCE_MISMATCH) until a Start books it."),
    SettingSpec("auto_redeem", "Redeem resolved positions automatically", int, 1, 0, 1, "0/1",
                "1: once a market's resolution is final, the engine collects its winning positions itself "
                "(through the venue's auto-redeem operator when the wallet approved it, else by redeeming). "
                "0: they stay redeemable until the Redeem button or `engine command redeem`."),
    SettingSpec("redeem_check_s", "Redemption check interval", int, 15, 5, 3600, "s",
                "How often the engine reads what the venue paid (redemptions, merges, maker rebates), follows "
                "its redeem and merge transactions and redeems what became final."),
    SettingSpec("reward_sample_s", "Liquidity rewards sample interval", int, 60, 1, 3600, "s",
                "How often the engine scores its resting orders in reward markets, as the venue samples the "
                "books (once a minute), and reads the venue's own scoring and earnings (live). A restart applies it."),
    SettingSpec("auto_merge_min_sets", "Merge held YES+NO sets from", float, 0.0, 0.0, 1e9, "shares",
                "When a strategy holds at least this many complete YES+NO sets of a market (settled, not promised "
                "to an open sell), the engine merges them back into pUSD at its next collections run, so capital "
                "is not locked until resolution (AUTO_MERGE alert, audited). 0 turns it off."),
    SettingSpec("auto_redeem_grace_s", "Wait for the auto-redeem operator", int, 600, 0, 86_400, "s",
                "With the auto-redeem operator approved, how long after a resolution becomes final the engine "
                "waits for the venue to redeem before it redeems itself."),
    SettingSpec("alert_feed_down_s", "Alert: feed or venue down for", int, 30, 5, 3600, "s",
                "Raise FEED_DOWN when the market feed has delivered nothing, or VENUE_UNREACHABLE when the venue "
                "has not answered, for this long (and again when it is back)."),
    SettingSpec("alert_refusal_burst", "Alert: refusals in a minute", int, 5, 0, 1000, "orders",
                "Raise REFUSAL_BURST when the venue refuses this many orders within a minute. 0 turns it off."),
    SettingSpec("alert_low_collateral_usdc", "Alert: collateral below", float, 0.0, 0.0, 1e9, "pUSD",
                "Raise LOW_COLLATERAL when the wallet's collateral (paper: the ledger's cash) falls below this. "
                "0 turns it off."),
    SettingSpec("alert_large_fill_usdc", "Alert: a fill larger than", float, 0.0, 0.0, 1e9, "pUSD",
                "Raise LARGE_FILL for any single fill worth at least this. 0 turns it off."),
    SettingSpec("reference_feed_url", "Reference price feed", str, "", None, None, "ws:// URL",
                "Optional WebSocket sending {condition_id, price} for market making's reference fair value."),
    SettingSpec("spot_feed", "Spot price feed", str, "", None, None, "okx or binance",
                "The exchange whose public spot ticker stream prices the up/down series below (their reference "
                "fair value: the chance the window ends up); empty: off.", check=spot_protocol),
    SettingSpec("updown_series", "Up/down series", str, "", None, None, "series",
                "Short crypto up/down series to discover as their markets open, checked every few seconds "
                "(comma-separated, e.g. btc-updown-5m, eth-updown-15m); empty: none.", check=series_names),
    SettingSpec("decisions_retention_days", "Decisions log retention", int, 7, 1, 365, "days",
                "Risk-gate decisions older than this are pruned."),
    SettingSpec("record_depth", "Recorded book depth", int, 10, 1, 100, "levels",
                "Levels per side kept in recorded book snapshots."),
    SettingSpec("record_retention_days", "Recorded data retention", int, 30, 1, 3650, "days",
                "Recorded ticks older than this are pruned."),
    # Notifications (engine/notify/): where they go is NOTIFY_URLS in .env (a secret); what goes is here.
    SettingSpec("notify_levels", "Alert levels that notify", str, "warning,critical", None, None, "levels",
                "Alerts of these levels are sent (comma-separated: info, warning, critical); empty sends none.",
                group="notify", check=alert_levels),
    SettingSpec("notify_muted_codes", "Muted alert codes", str, "", None, None, "codes",
                "Alerts with these codes are never sent, whatever their level (comma-separated, e.g. DAILY_RESET).",
                group="notify", check=alert_codes),
    SettingSpec("notify_dedup_minutes", "Repeat window", int, 10, 0, 1440, "min",
                "An alert with the same code and message as one sent within this window is held back (counted "
                "in the next message). 0 sends every repeat.", group="notify"),
    SettingSpec("notify_max_per_hour", "Rate cap", int, 20, 1, 1000, "per hour",
                "At most this many alert and trade-event messages in any hour, per channel; the rest go out "
                "together in one digest, so a flapping condition or a burst of fills cannot spam.", group="notify"),
    SettingSpec("notify_summary_utc", "Daily summary time", str, "07:00", None, None, "UTC",
                "When the daily summary (equity, PnL, fills, fees and alerts of the last 24 h) is sent, HH:MM "
                "in UTC; empty turns it off.", group="notify", check=time_of_day),
    SettingSpec("notify_digest_minutes", "Digest after", int, 15, 1, 60, "min",
                "What the rate cap holds back is not dropped: it goes out as one digest per channel (\"12 more "
                "fills in the last 15 min: …\") this long after the first message held back.", group="notify"),
    # Edited as a grid on the Settings page (pages/widgets/notify_choices.py), not as a text field.
    SettingSpec("notify_choices", "Notification choices", str, notify_choices.DEFAULT_JSON, None, None, "JSON",
                "Which events (alerts, fills, entries, exits, refused orders, orders the venue cancelled, the "
                "daily summary) go to which channel (NOTIFY_URLS, the Telegram bot), for all strategies or one.",
                group="notify_choices", check=choices, max_depth=4),
    # News in (engine/news/): RSS/Atom feeds polled off the trading loop, rules turning entries into signals.
    SettingSpec("news_feeds", "News feeds", list, [], None, None, "feeds",
                "RSS or Atom feeds and their rules (edited as tables on the Settings page; see "
                "docs/strategies-and-risk.md: News in). "
                "An entry matching a rule writes "
                "the rule's value as a fair-value signal for the markets it selects, for its time-to-live.",
                group="news", check=news_feeds, max_depth=8),
    # Wallets followed (engine/venues/polymarket/follow/): their trades heard on the venue's stream, reconciled from
    # the Data API.
    SettingSpec("followed_wallets", "Followed wallets", list, [], None, None, "wallets",
                "Polymarket wallets whose public trades the desk hears as they happen (the Data API reconciles "
                "every 15 s) for copy_trading strategies (edited as a table on the Strategies page).",
                group="follow", check=followed_wallets, max_depth=3),
    # Fair values from outside (docs/strategies-and-risk.md): the model-confidence breaker
    # (engine/risk/source_breaker.py) and the bookmakers' odds feed (engine/feeds/odds_reference.py).
    SettingSpec("source_breaker_markets", "Source breaker: markets judged", int, 20, 1, 1000, "markets",
                "An outside source of fair values is judged on its last this many resolved markets (once it has "
                "that many): the Brier score of what it posted against how they resolved."),
    SettingSpec("source_breaker_max_brier", "Source breaker: worst Brier score", float, 0.25, 0, 1, "Brier",
                "A source whose Brier score over those markets is above this stops feeding strategies (alerted) "
                "until its score is back under it; 0.25 is what always saying 50 % scores."),
    SettingSpec("odds_poll_s", "Odds feed: poll interval", int, 60, 5, 3600, "s",
                "How often the bookmakers' odds feed (ODDS_FEED in .env: a URL or a file) is read."),
    SettingSpec("odds_max_age_s", "Odds feed: oldest price used", int, 600, 10, 86_400, "s",
                "A bookmaker's price older than this (its last_update) is left out of a market's reference."),
)
BY_KEY: Mapping[str, SettingSpec] = {s.key: s for s in SETTINGS}


def parse_setting(spec: SettingSpec, raw: Any) -> Any:
    """Validate one value; the message names the setting, the unit and the bounds."""
    if spec.kind is list:  # a JSON document: given as text (a form) or already decoded
        if isinstance(raw, str):
            try:
                raw = loads_bounded(raw, max_bytes=CONFIG_BYTES, max_depth=spec.max_depth, what=spec.title)
            except JsonRefused as exc:
                raise SettingError(str(exc)) from None
        if not isinstance(raw, list):
            raise SettingError(f"{spec.title}: must be a JSON list")
        return raw if spec.check is None else spec.check(raw)
    try:
        value = spec.kind(raw)
    except (TypeError, ValueError, OverflowError):  # OverflowError: int(float("inf"))
        raise SettingError(f"{spec.title}: {raw!r} is not a valid {spec.kind.__name__}") from None
    if spec.kind is str:
        if value and spec.key.endswith("_url") and not value.startswith(("ws://", "wss://")):
            raise SettingError(f"{spec.title}: must start with ws:// or wss://")
        return value if spec.check is None else spec.check(value)
    # float("nan") parses and fails every comparison, so the bounds below would let it through.
    if isinstance(value, float) and not math.isfinite(value):
        raise SettingError(f"{spec.title}: must be a finite number, not {raw!r}")
    if spec.minimum is not None and value < spec.minimum or spec.maximum is not None and value > spec.maximum:
        raise SettingError(f"{spec.title}: must be between {spec.minimum:g} and {spec.maximum:g} {spec.unit}")
    return value


@dataclass(frozen=True)
class RuntimeConfig:
    """The settings in force, one typed field per entry of SETTINGS (in its order; the types are the
    specs' kinds: tests/contracts/test_runtime_config.py checks both ways), so a reader names a field
    that exists and mypy knows what it holds."""

    paper_starting_cash: float
    tick_interval_ms: int
    decide_on_events: int
    decision_min_gap_ms: int
    indicators: str
    strategy_memory_max_age_s: int
    snapshot_interval_s: int
    market_refresh_minutes: int
    game_start_withdraw_s: int
    paper_mined_after_ms: int
    paper_fail_rate: float
    paper_latency: str
    venue_heartbeat_s: int
    fills_dark_s: int
    fills_dark_cancel: int
    venue_sync_s: int
    balance_check_s: int
    balance_drift_tolerance_usdc: float
    auto_redeem: int
    redeem_check_s: int
    reward_sample_s: int
    auto_merge_min_sets: float
    auto_redeem_grace_s: int
    alert_feed_down_s: int
    alert_refusal_burst: int
    alert_low_collateral_usdc: float
    alert_large_fill_usdc: float
    reference_feed_url: str
    spot_feed: str
    updown_series: str
    decisions_retention_days: int
    record_depth: int
    record_retention_days: int
    notify_levels: str
    notify_muted_codes: str
    notify_dedup_minutes: int
    notify_max_per_hour: int
    notify_summary_utc: str
    notify_digest_minutes: int
    notify_choices: str
    news_feeds: list[dict[str, Any]]
    followed_wallets: list[dict[str, Any]]
    source_breaker_markets: int
    source_breaker_max_brier: float
    odds_poll_s: int
    odds_max_age_s: int

    @classmethod
    def of(cls, values: Mapping[str, Any]) -> RuntimeConfig:
        return cls(**{spec.key: values[spec.key] for spec in SETTINGS})

    @property
    def values(self) -> dict[str, Any]:
        """key -> value, for code that walks the settings by key (notification rules, the Settings page)."""
        return {spec.key: getattr(self, spec.key) for spec in SETTINGS}


def checked(rows: Mapping[str, str],
            fallback: RuntimeConfig | None = None) -> tuple[RuntimeConfig, list[str]]:
    """The settings the stored `rows` (key -> JSON, as in `settings`) give, and what is wrong
    with them: an invalid stored value keeps the value in force before (`fallback`) or else the
    default, and is reported, never silently replaced (storage/engine_stores/config_reads.py reads the rows)."""
    values: dict[str, Any] = {}
    problems: list[str] = []
    for spec in SETTINGS:
        raw = rows.get(spec.key)
        try:
            values[spec.key] = spec.default if raw is None else parse_setting(
                spec, loads_bounded(raw, max_bytes=CONFIG_BYTES, max_depth=spec.max_depth, what=spec.title))
        except (SettingError, JsonRefused) as exc:
            kept = fallback.values[spec.key] if fallback is not None else spec.default
            source = "the value in force before" if fallback is not None else "the default"
            problems.append(f"setting {spec.key}: stored {str(raw)[:40]!r} is invalid ({exc}); using {source}, "
                            f"{kept!r}, until it is fixed on the Settings page")
            values[spec.key] = kept
    return RuntimeConfig.of(values), problems
