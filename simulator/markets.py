"""Live markets revived from real CLOB metadata (``data/markets.json``).

The seed file holds 100 real (mostly resolved) markets. We pick a deterministic
subset, reopen them with future end dates, and group mutually exclusive questions
("Will X win the 2022 World Cup?") into neg-risk groups sharing a negRiskMarketID,
since the seed file itself has no neg-risk markets.

The venue lists thousands of markets; a count above the seed file's is met with generated
**quiet** markets (``generated_market``): plain binary markets on the venue's commonest terms
(tick 0.01, minimum 5 shares), tagged ``simulated``, that nobody trades (no agents, no book,
no history, no programs). They exist so discovery meets a listing the venue's size.
"""

from __future__ import annotations

import functools
import json
import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from eth_utils import keccak

from .units import MICRO, to_micro

DATA_FILE = Path(__file__).parent / "data" / "markets.json"

# Mutually exclusive families in the seed data, turned into neg-risk groups.
NEG_RISK_GROUPS: dict[str, str] = {
    "world-cup-2022": "win the 2022 World Cup?",
    "fed-feb-2023": "Will the Fed increase interest rates by",
}
GROUP_TITLES = {"world-cup-2022": "2022 World Cup Winner", "fed-feb-2023": "Fed decision in February 2023"}
# Standalone markets picked first (question prefixes), mixing ticks 0.01/0.001,
# minimum sizes 5/15 and non-Yes/No outcome names.
PREFERRED_SINGLES = (
    "Which party wins 2024 US Presidential Election?",
    "[Single Market] Will Donald J. Trump win the U.S. 2024 Republican",
    "Will Donald J. Trump be indicted by March 31, 2023?",
    "Will Erling Haaland break the Premier League goals record",
    "Will Uniswap's \"Fee Switch\" Proposal pass?",
    "2022 Wimbledon Championships: Who will win Djokovic vs. Sinner?",
)


@dataclass(frozen=True)
class Token:
    token_id: str
    outcome: str
    is_yes: bool  # index 0 of the market's tokens: the canonical book is in its price space


@dataclass(eq=False)
class Market:
    """One binary market; mutable state (tick, closed, winner) lives here too."""

    gamma_id: str
    condition_id: str
    question_id: str
    question: str
    description: str
    slug: str
    tags: list[str]
    icon: str
    yes: Token
    no: Token
    tick: int  # micro-units
    min_size: int  # micro-shares
    neg_risk: bool
    neg_risk_market_id: str
    neg_risk_request_id: str
    start_ts: float
    end_ts: float
    latent: float  # the agents' belief in YES, a model variable (not a wire price)
    group: str = ""  # neg-risk group slug ("" for a standalone market)
    fee_rate: int = 0  # taker fee rate r in parts per million (fees.py)
    fee_exponent: int = 1  # taker fee exponent e
    seconds_delay: float = 0.0  # sports: marketable orders are matched this much later (sports.py)
    taker_delay_s: float = 0.0  # crypto: an order that would match at once is matched this much later (updown.py)
    quiet: bool = False  # a generated market nobody trades (see the module's docstring)
    seed_delay_s: float = 0.0  # the seed data's own seconds_delay (real game markets had 3)
    game_start_ts: float | None = None  # sports: the game's start (Gamma gameStartTime); None: none
    clear_book_on_start: bool = False  # sports: every resting order is removed at the game's start
    book_cleared: bool = False  # the start's clearing has happened
    closed: bool = False
    accepting_orders: bool = True
    winner: str | None = None  # the token paying 1 once resolved (final), None in a split (0.5/0.5)
    payouts: tuple[int, int] | None = None  # micro-pUSD a YES, a NO share pays, once final
    proposed: tuple[int, int] | None = None  # the payouts proposed for resolution (settlement.py), final or not
    uma_status: str = ""  # "", proposed, disputed, resolved (Gamma's umaResolutionStatus)
    uma_history: list[str] = field(default_factory=list)  # the statuses before it (umaResolutionStatuses)
    last_trade_price: int | None = None  # YES space
    last_trade_side: str = "BUY"  # taker side in YES space
    base_tick: int = 0  # the tick it was listed with (0: tick); a refined market returns to it
    volume: int = 0  # micro-pUSD, all time
    trade_times: list[tuple[float, int]] = field(default_factory=list)  # for volume24hr
    reward: Any = None  # its liquidity-reward program (rewards.Program), None when it runs none
    protocol_v2: bool = False  # a Protocol V2 market (protocol_v2.py): positionIds, ExchangeV3

    def set_uma_status(self, status: str) -> None:
        """UMA's resolution moved on: the status it leaves joins the trail Gamma lists."""
        if self.uma_status and self.uma_status != status:
            self.uma_history.append(self.uma_status)
        self.uma_status = status

    @property
    def tokens(self) -> tuple[Token, Token]:
        return (self.yes, self.no)

    def token(self, token_id: str) -> Token:
        return self.yes if token_id == self.yes.token_id else self.no

    @property
    def end_date_iso(self) -> str:
        return iso(self.end_ts)


def iso(ts: float) -> str:
    return datetime.fromtimestamp(ts, tz=UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def neg_risk_id(group: str) -> str:
    return "0x" + keccak(text=f"simulator-neg-risk:{group}").hex()


def load_raw(path: Path = DATA_FILE) -> list[dict[str, Any]]:
    with path.open(encoding="utf-8") as fh:
        return json.load(fh)["data"]


@functools.cache
def servable_markets(path: Path = DATA_FILE) -> int:
    """How many markets the simulator can serve: the usable real markets of the seed file. It
    does not invent more (made-up ticks, sizes and groups would be shapes the venue never
    served), so a larger count is refused rather than silently capped."""
    return sum(1 for raw in load_raw(path) if _usable(raw))


def _usable(raw: dict[str, Any]) -> bool:
    tokens = raw.get("tokens") or []
    return (
        len(tokens) == 2
        and all(t.get("token_id") and t.get("outcome") for t in tokens)
        and float(raw.get("minimum_order_size") or 0) > 0
        and raw.get("minimum_tick_size") in (0.1, 0.01, 0.001, 0.0001)
    )


def _pick(raws: list[dict[str, Any]], count: int) -> list[tuple[dict[str, Any], str | None]]:
    """Deterministic choice: first neg-risk group, preferred singles, second group, rest."""
    usable = [r for r in raws if _usable(r)]
    groups = {g: [r for r in usable if pat in r["question"]] for g, pat in NEG_RISK_GROUPS.items()}
    grouped_ids = {r["condition_id"] for rs in groups.values() for r in rs}
    singles = [r for r in usable if r["condition_id"] not in grouped_ids]
    preferred = [r for p in PREFERRED_SINGLES for r in singles if r["question"].startswith(p)]
    rest = [r for r in singles if r not in preferred]
    group_names = list(groups)
    ordered: list[tuple[dict[str, Any], str | None]] = [(r, group_names[0]) for r in groups[group_names[0]]]
    ordered += [(r, None) for r in preferred]
    for name in group_names[1:]:
        ordered += [(r, name) for r in groups[name]]
    ordered += [(r, None) for r in rest]
    chosen = ordered[: max(1, count)]
    # Never cut a neg-risk group below 3 outcomes: drop the stub instead.
    by_group: dict[str, int] = {}
    for _, g in chosen:
        if g:
            by_group[g] = by_group.get(g, 0) + 1
    kept = [(r, g) for r, g in chosen if not g or by_group[g] >= 3]
    spare = [(r, None) for r in preferred + rest if (r, None) not in kept]
    return kept + spare[: max(0, count - len(kept))]


def _initial_latents(picked: list[tuple[dict[str, Any], str | None]], rng: random.Random) -> list[float]:
    latents = [rng.uniform(0.15, 0.85) for _ in picked]
    for group in sorted({g for _, g in picked if g}):  # sorted: the draws must not follow hash order
        idx = [i for i, (_, g) in enumerate(picked) if g == group]
        weights = [rng.uniform(0.2, 1.0) for _ in idx]
        total = sum(weights)
        for i, w in zip(idx, weights, strict=False):
            latents[i] = max(0.03, min(0.9, w / total))
    return latents


MOST_MARKETS = 20_000  # what --markets may ask: the real ones, then generated quiet ones


def build_markets(count: int, rng: random.Random, start_ts: float, end_after_s: float) -> list[Market]:
    """``count`` live markets, deterministic for a given ``rng`` state: the seed file's revived,
    then generated quiet ones for the rest."""
    raws = load_raw()
    picked = _pick(raws, min(count, servable_markets()))
    latents = _initial_latents(picked, rng)
    out = []
    for (raw, group), latent in zip(picked, latents, strict=False):
        out.append(_revive(raw, group, latent, raws.index(raw), start_ts, end_after_s))
    out += [generated_market(n, start_ts, end_after_s) for n in range(count - len(out))]
    return out


def _token_id(text: str) -> str:
    return str(int.from_bytes(keccak(text=text), "big"))


def generated_market(n: int, start_ts: float, end_after_s: float) -> Market:
    """The ``n``-th generated quiet market: the same ids on every run."""
    key = f"simulator-generated:{n}"
    return Market(
        gamma_id=str(700_000 + n),
        condition_id="0x" + keccak(text=key).hex(),
        question_id="0x" + keccak(text=f"{key}:question").hex(),
        question=f"Simulated quiet market #{n + 1}: will it resolve YES?",
        description="Generated by the simulator so its listing is the venue's size; nobody trades it.",
        slug=f"simulated-quiet-market-{n + 1}",
        tags=["simulated"],
        icon="",
        yes=Token(_token_id(f"{key}:yes"), "Yes", True),
        no=Token(_token_id(f"{key}:no"), "No", False),
        tick=to_micro("0.01"),
        min_size=to_micro("5"),
        neg_risk=False,
        neg_risk_market_id="",
        neg_risk_request_id="",
        start_ts=start_ts,
        end_ts=start_ts + end_after_s,
        latent=0.5,
        quiet=True,
    )


def _revive(raw: dict[str, Any], group: str | None, latent: float, index: int,
            start_ts: float, end_after_s: float) -> Market:
    t0, t1 = raw["tokens"]
    nr_id = neg_risk_id(group) if group else ""
    return Market(
        gamma_id=str(500_000 + index),
        condition_id=raw["condition_id"],
        question_id=raw.get("question_id") or "",
        question=raw["question"].replace("[Single Market] ", ""),
        description=raw.get("description") or "",
        slug=raw.get("market_slug") or raw["condition_id"][:18],
        tags=[t for t in (raw.get("tags") or []) if isinstance(t, str)],
        icon=raw.get("icon") or "",
        yes=Token(str(t0["token_id"]), t0["outcome"], True),
        no=Token(str(t1["token_id"]), t1["outcome"], False),
        tick=to_micro(str(raw["minimum_tick_size"])),
        min_size=to_micro(str(raw["minimum_order_size"])),
        neg_risk=bool(group),
        neg_risk_market_id=nr_id,
        neg_risk_request_id=("0x" + keccak(text=f"{nr_id}:{raw['condition_id']}").hex()) if group else "",
        start_ts=start_ts,
        end_ts=start_ts + end_after_s,
        latent=latent,
        group=group or "",
        seed_delay_s=float(raw.get("seconds_delay") or 0),
    )


MARKET_CHOICES = "'default', 'none', 'all' or a comma list of market indexes / condition ids"


def parse_market_choice(raw: str, setting: str) -> tuple[str, tuple[str, ...]]:
    """A setting naming markets: ("default" | "none" | "all" | "list", the listed indexes /
    condition ids); anything else is an error naming ``setting``."""
    text = raw.strip()
    if text.lower() in ("default", "none", "all"):
        return text.lower(), ()
    items = tuple(i.strip().lower() for i in text.split(",") if i.strip())
    if items and all(i.isdigit() or (i.startswith("0x") and len(i) == 66) for i in items):
        return "list", items
    raise ValueError(f"{setting} must be {MARKET_CHOICES}, not {raw!r}")


def choose_markets(markets: Sequence[Market], raw: str, setting: str,
                   default: Callable[[Market], bool]) -> list[Market]:
    """The markets a ``parse_market_choice`` setting names (``default``: those ``default`` picks);
    a listed index or condition id that matches no market is an error."""
    kind, items = parse_market_choice(raw, setting)
    if kind == "list":
        by_ref = {str(i): m for i, m in enumerate(markets)} | {m.condition_id.lower(): m for m in markets}
        unknown = [i for i in items if i not in by_ref]
        if unknown:
            raise ValueError(f"{setting}: no market {', '.join(unknown)} "
                             f"(indexes 0..{len(markets) - 1} or condition ids)")
        return [by_ref[i] for i in items]
    if kind == "all":
        return list(markets)
    if kind == "none":
        return []
    return [m for m in markets if default(m)]


def price_to_tick(p: float, tick: int) -> int:
    """Nearest valid price (micro) for a probability, clamped to [tick, 1 - tick]."""
    ticks = round(p * MICRO / tick)
    return max(tick, min(MICRO - tick, ticks * tick))
