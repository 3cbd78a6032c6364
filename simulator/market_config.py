"""The knobs of the agents' market: news, informed and noise takers, the agent maker.

One frozen dataclass (nested in ``SimConfig`` as ``market``, settable by its flat field
names like the faults), its command-line flags and its ``SIMULATOR_*`` variables. The
defaults reproduce the stylized facts of Dubach 2026 (see ``realism.py`` and the
simulator's README); ``agent_market="calm"`` asks for the old benign market by name.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, fields
from typing import Any

from .markets import parse_market_choice

AGENT_MARKETS = ("informed", "calm")


@dataclass(frozen=True)
class MarketConfig:
    """Times are seconds of the agents' clock; probability moves are quoted at p = 0.5."""

    agent_market: str = "informed"  # "calm": the old mean-reverting walk, no news, no informed flow
    # News: arrival rate (mean gap) and jump size (standard deviation, probability points at p=0.5).
    sports_news_every_s: float = 60.0
    sports_news_jump: float = 0.07
    sports_drift: float = 0.02  # continuous drift between news, probability points per sqrt(hour)
    politics_news_every_s: float = 600.0
    politics_news_jump: float = 0.04
    politics_drift: float = 0.05
    # Markets tied to a reference price (a crypto-like log price with its own news).
    reference_markets: str = "default"  # questions naming a price threshold ("$ETH above $1,700")
    reference_vol: float = 0.01  # log-price standard deviation per sqrt(hour), between news
    reference_news_every_s: float = 120.0
    reference_news_jump: float = 0.004  # log-price standard deviation of one news jump
    reference_horizon_s: float = 86_400.0  # volatility-time between the reference and the strikes
    # Takers.
    informed_lead_s: float = 5.0  # informed takers learn news up to this long before it is public
    informed_size: float = 200.0  # shares the informed takers may take per news event and market
    noise_every_s: float = 6.0  # mean gap between noise trades per market
    # The agent maker.
    maker_levels: int = 10  # resting levels per side, one tick apart
    maker_react_s: float = 0.5  # how long after news is public the maker pulls its stale quotes
    maker_half_spread_bps: float = 200.0  # half-spread at p = 0.5, in bps of the price
    maker_longshot_premium: float = 0.6  # relative half-spread grows as (0.5 / q) ** this
    maker_top_weight: float = 1.8  # size at the top level relative to the deeper levels
    depth_decay_slope: float = 0.55  # depth ~ (time to close / horizon) ** this, inside the horizon
    # The poll feed (polls.py): a new poll of each politics market's race this often (wall-clock seconds).
    polls_every_s: float = 60.0

    def __post_init__(self) -> None:
        validate(self)

    def with_updates(self, updates: Mapping[str, Any]) -> MarketConfig:
        known = {f.name for f in fields(self)}
        unknown = set(updates) - known
        if unknown:
            raise ValueError(f"unknown market setting {sorted(unknown)[0]!r}")
        return dataclasses.replace(self, **{k: _coerce(k, v) for k, v in updates.items()})


FIELD_NAMES = frozenset(f.name for f in fields(MarketConfig))
_INTS = {"maker_levels"}
_STRINGS = {"agent_market", "reference_markets"}


def _coerce(name: str, value: Any) -> Any:
    if name in _STRINGS:
        return str(value)
    if name in _INTS:
        if isinstance(value, float) and not value.is_integer():
            raise ValueError(f"{name} must be a whole number, not {value!r}")
        return int(value)
    return float(value)


def validate(cfg: MarketConfig) -> None:
    """Refuse settings that cannot work, naming the setting."""
    if cfg.agent_market not in AGENT_MARKETS:
        raise ValueError(f"agent_market must be one of {', '.join(AGENT_MARKETS)}, not {cfg.agent_market!r}")
    positive = ("sports_news_every_s", "politics_news_every_s", "reference_news_every_s", "polls_every_s",
                "reference_horizon_s", "noise_every_s", "maker_half_spread_bps", "maker_top_weight")
    for name in positive:
        if not getattr(cfg, name) > 0:
            raise ValueError(f"{name} must be > 0, not {getattr(cfg, name)!r}")
    non_negative = ("sports_news_jump", "sports_drift", "politics_news_jump", "politics_drift",
                    "reference_vol", "reference_news_jump", "informed_lead_s", "informed_size",
                    "maker_react_s", "maker_longshot_premium", "depth_decay_slope")
    for name in non_negative:
        if not getattr(cfg, name) >= 0:  # also refuses nan
            raise ValueError(f"{name} must be >= 0, not {getattr(cfg, name)!r}")
    if not 1 <= cfg.maker_levels <= 50:
        raise ValueError(f"maker_levels must be from 1 to 50, not {cfg.maker_levels!r}")
    if cfg.sports_news_jump + cfg.sports_drift <= 0 or cfg.politics_news_jump + cfg.politics_drift <= 0:
        raise ValueError("each category needs news jumps or drift (both 0 would freeze its markets)")
    if cfg.reference_vol + cfg.reference_news_jump <= 0:
        raise ValueError("the reference price needs reference_vol or reference_news_jump above 0")
    parse_market_choice(cfg.reference_markets, "reference_markets")


# flag -> (setting, type, help); the help gets "(default ...)" appended below, and every flag
# has a SIMULATOR_* variable of the same name (ENV_VARS).
_FLAG_HELP: dict[str, tuple[str, Any, str]] = {
    "--agent-market": ("agent_market", str, "informed (news, informed takers, convergence) or calm (the old "
                                            "mean-reverting walk, for tests that ask for it)"),
    "--sports-news-every": ("sports_news_every_s", float, "mean seconds between news in a sports market"),
    "--sports-news-jump": ("sports_news_jump", float, "typical sports news jump, probability at p=0.5"),
    "--sports-drift": ("sports_drift", float, "sports drift between news, probability per sqrt(hour)"),
    "--politics-news-every": ("politics_news_every_s", float,
                              "mean seconds between news in a politics (or other) market"),
    "--politics-news-jump": ("politics_news_jump", float, "typical politics news jump, probability at p=0.5"),
    "--politics-drift": ("politics_drift", float, "politics drift, probability per sqrt(hour)"),
    "--reference-markets": ("reference_markets", str, "markets tied to the reference price: default "
                                                      "(questions naming a price threshold), none, all, "
                                                      "or a comma list of indexes / condition ids"),
    "--reference-vol": ("reference_vol", float, "reference log-price volatility per sqrt(hour)"),
    "--reference-news-every": ("reference_news_every_s", float, "mean seconds between reference news"),
    "--reference-news-jump": ("reference_news_jump", float, "typical reference news jump, in log price"),
    "--reference-horizon": ("reference_horizon_s", float, "volatility-seconds between the reference and "
                                                          "a tied market's strike"),
    "--informed-lead": ("informed_lead_s", float, "informed takers learn news up to N s before it is public"),
    "--informed-size": ("informed_size", float, "shares informed takers may take per news and market"),
    "--noise-every": ("noise_every_s", float, "mean seconds between noise trades per market"),
    "--maker-levels": ("maker_levels", int, "agent maker's resting levels per side, a tick apart"),
    "--maker-react": ("maker_react_s", float, "seconds after news is public before the maker pulls its "
                                              "stale quotes"),
    "--maker-half-spread-bps": ("maker_half_spread_bps", float,
                                "maker half-spread at p=0.5, bps of the price"),
    "--maker-longshot-premium": ("maker_longshot_premium", float, "the maker's relative half-spread grows as "
                                                                  "(0.5/q)**N toward the tails"),
    "--maker-top-weight": ("maker_top_weight", float,
                           "size of the maker's top level relative to deeper ones"),
    "--depth-decay-slope": ("depth_decay_slope", float, "maker depth ~ (time to close / horizon)**N inside "
                                                        "the horizon"),
    "--polls-every": ("polls_every_s", float, "seconds between two polls of each politics market's race in the poll "
                                              "feed (/polls/polls.csv, /polls/polls.json)"),
}
FLAGS: dict[str, tuple[str, Any, str]] = {
    flag: (name, kind, f"{text} (default {getattr(MarketConfig(), name)})")
    for flag, (name, kind, text) in _FLAG_HELP.items()
}
ENV_VARS: dict[str, tuple[str, Any]] = {
    "SIMULATOR_" + flag[2:].upper().replace("-", "_"): (name, kind) for flag, (name, kind, _) in FLAGS.items()
}


def describe_changes(cfg: MarketConfig) -> list[str]:
    """``name=value`` for every setting that differs from the default (for reports and logs)."""
    default = MarketConfig()
    return [f"{f.name}={getattr(cfg, f.name)!r}" for f in fields(cfg)
            if getattr(cfg, f.name) != getattr(default, f.name)]
