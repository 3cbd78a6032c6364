"""The information in the agents' market: news, true probabilities, convergence, outcomes.

Every open market carries a latent *score* ``x``. Its probability of YES is
``Φ(x / T)`` (a neg-risk group: a softmax of its members' scores over ``T``), where
``T = sqrt(min(τ, H) / H)``, ``τ`` is the time to close and ``H`` the category's
*horizon*. The score moves by a diffusion (drift between news) and by news jumps
arriving at random (a Poisson process); its variance per second is ``1 / H``, so
inside the horizon the probability is a martingale that converges to 0 or 1 at the
close, and the outcome is the one the path implies (``x > 0``; a group's highest
score). Far from the close (``τ > H``) the score also reverts slowly (half-life ``H``)
towards where it started, so a market served for days keeps a finite spread of
beliefs. Markets tied to the reference price have no score of their own:
``x = (r - k) / (σ_r · sqrt(H_ref))`` for the reference log price ``r`` and a strike
``k``, the probability of the reference ending above the strike.

A news jump is *known* when it arrives (informed takers trade on it) and *public*
up to ``informed_lead_s`` later: until then ``market.latent`` (the public belief,
which the agent maker and the noise takers use) leaves it out.

The old benign market (``agent_market="calm"``) lives in ``calm.py``.
"""

from __future__ import annotations

import math
import random
import re
from dataclasses import dataclass, field
from statistics import NormalDist
from typing import Any, Protocol

from .market_config import MarketConfig
from .markets import Market, choose_markets
from .sports import is_game

SPORTS, POLITICS, REFERENCE = "sports", "politics", "reference"
PHI_0 = 1 / math.sqrt(2 * math.pi)  # slope of Φ at 0: probability points per unit of score
GROUP_SLOPE = 0.25  # slope of a two-way softmax at p = 0.5
P_MIN = 1e-6  # beliefs are kept inside (P_MIN, 1 - P_MIN) when inverted
SPORT_WORDS = re.compile(r"world cup|wimbledon|premier league|champions league|super bowl|\bnba\b|\bnfl\b|"
                         r"\bmlb\b|\bnhl\b|olympic|grand prix|formula 1|world series|stanley cup|\bufc\b",
                         re.IGNORECASE)
PRICE_WORDS = re.compile(r"\b(above|below|over|under|or more|or less|more than|less than)\b", re.IGNORECASE)
PRICE_SUBJECT = re.compile(r"\bprice\b|\$[A-Z]{2,6}\b")
NORMAL = NormalDist()

Winner = tuple[str, str, str]  # ("market", condition id, "YES"/"NO") or ("group", neg-risk id, winner cid)


class NewsError(ValueError):
    pass


@dataclass(frozen=True)
class NewsEvent:
    """News known now to informed takers, public at ``public_at`` (agent-clock seconds)."""

    markets: tuple[Market, ...]
    known_at: float
    public_at: float


@dataclass
class Advance:
    known: list[NewsEvent] = field(default_factory=list)  # arrived this step
    published: list[Market] = field(default_factory=list)  # markets whose news became public


class BeliefModel(Protocol):
    def advance(self, now: float) -> Advance: ...
    def true_p(self, market: Market) -> float: ...
    def set_latent(self, market: Market, p: float, now: float) -> None: ...
    def script(self, market: Market, p: float, lead_s: float, now: float) -> NewsEvent: ...
    def winners(self, rng: random.Random) -> list[Winner]: ...
    def horizon_s(self, market: Market) -> float: ...
    def category_of(self, market: Market) -> str: ...
    def status(self, now: float) -> dict[str, Any]: ...


def category(market: Market, tied: set[str]) -> str:
    if market.condition_id in tied and not market.neg_risk:
        return REFERENCE
    if is_game(market) or SPORT_WORDS.search(market.question):
        return SPORTS
    return POLITICS  # politics, macro and everything else: rarer news, with drift


def tied_markets(markets: list[Market], setting: str) -> set[str]:
    """Condition ids of the markets that follow the reference price (neg-risk members never do)."""
    chosen = choose_markets(markets, setting, "reference_markets", names_a_price_threshold)
    return {m.condition_id for m in chosen if not m.neg_risk}


def names_a_price_threshold(market: Market) -> bool:
    return bool(PRICE_WORDS.search(market.question) and PRICE_SUBJECT.search(market.question))


@dataclass(frozen=True)
class Process:
    """A score process: news rate and sizes, drift, horizon (scores in units where the
    variance per second is 1 / horizon)."""

    rate: float  # news per second
    jump: float  # standard deviation of a news jump, in score units
    sigma: float  # diffusion per sqrt(second), in score units
    horizon_s: float


def score_process(every_s: float, jump_points: float, drift_points: float) -> Process:
    """From probability points at p = 0.5 (the configured units) to score units."""
    rate = 1 / every_s
    jump, sigma = jump_points / PHI_0, drift_points / PHI_0 / 60.0
    return Process(rate, jump, sigma, 1 / (sigma * sigma + rate * jump * jump))


def _probit(p: float) -> float:
    return NORMAL.inv_cdf(min(1 - P_MIN, max(P_MIN, p)))


@dataclass
class _Score:
    market: Market
    process: Process
    scale: float  # score units per configured unit (a group member's softmax is flatter)
    x: float  # true score, pending news included
    anchor: float
    pending: list[tuple[float, float]] = field(default_factory=list)  # (public_at, dx)

    @property
    def public_x(self) -> float:
        return self.x - sum(dx for _, dx in self.pending)


@dataclass
class _Reference:
    r: float = 0.0  # log price relative to its start
    anchor: float = 0.0
    pending: list[tuple[float, float]] = field(default_factory=list)
    strikes: dict[str, float] = field(default_factory=dict)  # condition id -> log strike

    @property
    def public_r(self) -> float:
        return self.r - sum(dr for _, dr in self.pending)


class Information:
    """The informed market's beliefs (see the module docstring)."""

    def __init__(self, markets: list[Market], cfg: MarketConfig, rng: random.Random, now: float) -> None:
        self.cfg = cfg
        self.rng = rng
        self.now = now
        self.markets = markets
        tied = tied_markets(markets, cfg.reference_markets)
        self.categories = {m.condition_id: category(m, tied) for m in markets}
        for members in self._groups().values():  # a group's members share its first member's category
            for m in members:
                self.categories[m.condition_id] = self.categories[members[0].condition_id]
        self.processes = {
            SPORTS: score_process(cfg.sports_news_every_s, cfg.sports_news_jump, cfg.sports_drift),
            POLITICS: score_process(cfg.politics_news_every_s, cfg.politics_news_jump, cfg.politics_drift),
        }
        self.ref_rate = 1 / cfg.reference_news_every_s
        self.ref_sigma = cfg.reference_vol / 60.0  # log price per sqrt(second)
        ref_var = self.ref_sigma ** 2 + self.ref_rate * cfg.reference_news_jump ** 2
        self.ref_unit = math.sqrt(ref_var * cfg.reference_horizon_s)  # log price per score unit
        self.reference = _Reference()
        self.scores: dict[str, _Score] = {}
        for m in markets:
            self._init_market(m)
        self._publish_latents()

    # -- set-up ----------------------------------------------------------------------

    def _groups(self) -> dict[str, list[Market]]:
        groups: dict[str, list[Market]] = {}
        for m in self.markets:
            if m.group:
                groups.setdefault(m.group, []).append(m)
        return groups

    def category_of(self, market: Market) -> str:
        return self.categories[market.condition_id]

    def horizon_s(self, market: Market) -> float:
        if self.categories[market.condition_id] == REFERENCE:
            return self.cfg.reference_horizon_s
        return self.processes[self.categories[market.condition_id]].horizon_s

    def _temperature(self, market: Market) -> float:
        horizon = self.horizon_s(market)
        tau = max(0.0, market.end_ts - self.now)
        return math.sqrt(max(1e-12, min(tau, horizon) / horizon))

    def _init_market(self, market: Market) -> None:
        cid, temp = market.condition_id, self._temperature(market)
        if self.categories[cid] == REFERENCE:
            self.reference.strikes[cid] = self.reference.r - _probit(market.latent) * temp * self.ref_unit
            return
        process = self.processes[self.categories[cid]]
        if market.group:
            x = math.log(max(P_MIN, market.latent)) * temp
            scale = PHI_0 / GROUP_SLOPE
        else:
            x, scale = _probit(market.latent) * temp, 1.0
        self.scores[cid] = _Score(market, process, scale, x, x)

    # -- beliefs ---------------------------------------------------------------------

    def _p(self, market: Market, public: bool) -> float:
        cid, temp = market.condition_id, self._temperature(market)
        if self.categories[cid] == REFERENCE:
            r = self.reference.public_r if public else self.reference.r
            return NORMAL.cdf((r - self.reference.strikes[cid]) / self.ref_unit / temp)
        if market.group:
            members = [m for m in self.markets if m.group == market.group and not m.closed] or [market]
            xs = {m.condition_id: (self.scores[m.condition_id].public_x if public
                                   else self.scores[m.condition_id].x) / temp for m in members}
            top = max(xs.values())
            total = sum(math.exp(v - top) for v in xs.values())
            return math.exp(xs.get(cid, top) - top) / total
        score = self.scores[cid]
        return NORMAL.cdf((score.public_x if public else score.x) / temp)

    def true_p(self, market: Market) -> float:
        """What informed takers know: the belief with every arrived news included."""
        return self._p(market, public=False)

    def _publish_latents(self) -> None:
        for m in self.markets:
            if not m.closed:
                m.latent = self._p(m, public=True)

    # -- the clock ---------------------------------------------------------------------

    def advance(self, now: float) -> Advance:
        dt = max(0.0, now - self.now)
        self.now = now
        out = Advance()
        if dt > 0:
            for score in self.scores.values():
                if not score.market.closed:
                    self._move_score(score, dt, out)
            if any(not m.closed for m in self.markets if self.categories[m.condition_id] == REFERENCE):
                self._move_reference(dt, out)
        self._publish_due(out)
        self._publish_latents()
        return out

    def _lead(self) -> float:
        return self.rng.uniform(0.0, self.cfg.informed_lead_s)

    def _move_score(self, score: _Score, dt: float, out: Advance) -> None:
        process, market = score.process, score.market
        score.x += self.rng.gauss(0.0, process.sigma * score.scale * math.sqrt(dt))
        if market.end_ts - self.now > process.horizon_s:  # far from the close: slow reversion
            score.x -= (score.x - score.anchor) * min(1.0, dt * math.log(2) / process.horizon_s)
        if self.rng.random() < 1 - math.exp(-process.rate * dt):
            dx = self.rng.gauss(0.0, process.jump * score.scale)
            score.x += dx
            public_at = self.now + self._lead()
            score.pending.append((public_at, dx))
            out.known.append(NewsEvent(self._affected(market), self.now, public_at))

    def _affected(self, market: Market) -> tuple[Market, ...]:
        if market.group:  # a member's news moves the whole group's probabilities
            return tuple(m for m in self.markets if m.group == market.group and not m.closed)
        return (market,)

    def _tied_open(self) -> tuple[Market, ...]:
        return tuple(m for m in self.markets if self.categories[m.condition_id] == REFERENCE and not m.closed)

    def _move_reference(self, dt: float, out: Advance) -> None:
        ref, tied = self.reference, self._tied_open()
        ref.r += self.rng.gauss(0.0, self.ref_sigma * math.sqrt(dt))
        if min(m.end_ts for m in tied) - self.now > self.cfg.reference_horizon_s:
            ref.r -= (ref.r - ref.anchor) * min(1.0, dt * math.log(2) / self.cfg.reference_horizon_s)
        if self.rng.random() < 1 - math.exp(-self.ref_rate * dt):
            dr = self.rng.gauss(0.0, self.cfg.reference_news_jump)
            ref.r += dr
            public_at = self.now + self._lead()
            ref.pending.append((public_at, dr))
            out.known.append(NewsEvent(tied, self.now, public_at))

    def _publish_due(self, out: Advance) -> None:
        published: dict[str, Market] = {}
        for score in self.scores.values():
            due = [item for item in score.pending if item[0] <= self.now]
            if due:
                score.pending = [item for item in score.pending if item[0] > self.now]
                published.update({m.condition_id: m for m in self._affected(score.market)})
        due_ref = [item for item in self.reference.pending if item[0] <= self.now]
        if due_ref:
            self.reference.pending = [item for item in self.reference.pending if item[0] > self.now]
            published.update({m.condition_id: m for m in self._tied_open()})
        out.published.extend(published.values())

    # -- operator and scripted moves ------------------------------------------------------

    def _score_for(self, market: Market, p: float) -> float:
        """The score at which ``market``'s belief would be ``p`` (other members held)."""
        temp = self._temperature(market)
        if not market.group:
            return _probit(p) * temp
        others = [m for m in self.markets if m.group == market.group and m is not market and not m.closed]
        rest = sum(math.exp(self.scores[m.condition_id].x / temp) for m in others) or 1.0
        p = min(1 - P_MIN, max(P_MIN, p))
        return temp * math.log(p * rest / (1 - p))

    def set_latent(self, market: Market, p: float, now: float) -> None:
        """The operator sets the belief (public and true) at once; it becomes the anchor."""
        self.now = max(self.now, now)
        cid = market.condition_id
        if self.categories[cid] == REFERENCE:
            distance = _probit(p) * self._temperature(market) * self.ref_unit
            self.reference.strikes[cid] = self.reference.r - distance
        else:
            score = self.scores[cid]
            score.pending.clear()
            score.x = score.anchor = self._score_for(market, p)
        self._publish_latents()
        market.latent = min(1 - P_MIN, max(P_MIN, p))

    def script(self, market: Market, p: float, lead_s: float, now: float) -> NewsEvent:
        """Scripted news: the true belief becomes ``p`` now, public after ``lead_s``. For a market
        tied to the reference price the news moves the reference (every tied market follows)."""
        self.now = max(self.now, now)
        cid, public_at = market.condition_id, self.now + lead_s
        if self.categories[cid] == REFERENCE:
            ref = self.reference
            target = ref.strikes[cid] + _probit(p) * self._temperature(market) * self.ref_unit
            ref.pending.append((public_at, target - ref.r))
            ref.r = target
            return NewsEvent(self._tied_open(), self.now, public_at)
        score = self.scores[cid]
        target = self._score_for(market, p)
        score.pending.append((public_at, target - score.x))
        score.x = target
        return NewsEvent(self._affected(market), self.now, public_at)

    # -- resolution -------------------------------------------------------------------------

    def winners(self, rng: random.Random) -> list[Winner]:
        """The outcome each open market's path implies: YES when its score is above 0 (for a tied
        market: the reference above its strike), and a group's highest score. ``rng`` is unused:
        nothing is drawn at the end."""
        out: list[Winner] = []
        for members in self._groups().values():
            open_members = [m for m in members if not m.closed]
            if open_members:
                best = max(open_members, key=lambda m: self.scores[m.condition_id].x)
                out.append(("group", best.neg_risk_market_id, best.condition_id))
        for m in self.markets:
            if m.closed or m.group:
                continue
            if self.categories[m.condition_id] == REFERENCE:
                yes = self.reference.r > self.reference.strikes[m.condition_id]
            else:
                yes = self.scores[m.condition_id].x > 0
            out.append(("market", m.condition_id, "YES" if yes else "NO"))
        return out

    def status(self, now: float) -> dict[str, Any]:
        return {
            "agent_market": "informed",
            "clock": now,
            "reference": {"log_price": self.reference.public_r, "pending_news": len(self.reference.pending)},
            "markets": [{
                "condition_id": m.condition_id, "question": m.question,
                "category": self.categories[m.condition_id], "closed": m.closed,
                "latent": m.latent, "horizon_s": self.horizon_s(m),
                "time_to_close_s": max(0.0, m.end_ts - now),
                "pending_news": len(self.scores[m.condition_id].pending) if m.condition_id in self.scores
                else len(self.reference.pending),
            } for m in self.markets],
        }
