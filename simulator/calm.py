"""The calm market: the agents' beliefs before issue 23, kept for tests that ask for it by
name (``agent_market="calm"``). A mean-reverting logit walk per step, neg-risk groups
renormalised, no news, no informed flow, no convergence; resolution draws each outcome
from the belief."""

from __future__ import annotations

import math
import random
from typing import Any

from .markets import Market
from .news import Advance, NewsError, NewsEvent, Winner

CALM_SIGMA = 0.004  # logit step per agent step
CALM_REVERSION = 0.0005


class CalmWalk:
    """The calm market's beliefs (see the module docstring); the same interface as
    ``news.Information``."""

    def __init__(self, markets: list[Market], rng: random.Random, now: float) -> None:
        self.markets = markets
        self.rng = rng
        self.now = now
        self.anchor = {m.condition_id: _logit(m.latent) for m in markets}

    def advance(self, now: float) -> Advance:
        self.now = now
        for market in self.markets:
            x = _logit(market.latent)
            x += self.rng.gauss(0.0, CALM_SIGMA) - CALM_REVERSION * (x - self.anchor[market.condition_id])
            market.latent = min(0.97, max(0.03, 1 / (1 + math.exp(-x))))
        groups: dict[str, list[Market]] = {}
        for market in self.markets:
            if market.group:
                groups.setdefault(market.group, []).append(market)
        for members in groups.values():
            total = sum(m.latent for m in members)
            for m in members:
                m.latent = min(0.97, max(0.01, m.latent / total))
        return Advance()

    def true_p(self, market: Market) -> float:
        return market.latent

    def set_latent(self, market: Market, p: float, now: float) -> None:
        market.latent = min(0.99, max(0.01, p))
        self.anchor[market.condition_id] = _logit(market.latent)

    def script(self, market: Market, p: float, lead_s: float, now: float) -> NewsEvent:
        raise NewsError("scripted news needs the informed market (agent_market=informed); "
                        "this simulator runs the calm one")

    def winners(self, rng: random.Random) -> list[Winner]:
        out: list[Winner] = []
        groups: dict[str, list[Market]] = {}
        for m in self.markets:
            if not m.closed:
                groups.setdefault(m.neg_risk_market_id or m.condition_id, []).append(m)
        for members in groups.values():
            if members[0].neg_risk:
                winner = rng.choices(members, weights=[m.latent for m in members])[0]
                out.append(("group", members[0].neg_risk_market_id, winner.condition_id))
            else:
                out.append(("market", members[0].condition_id,
                            "YES" if rng.random() < members[0].latent else "NO"))
        return out

    def horizon_s(self, market: Market) -> float:
        return math.inf

    def category_of(self, market: Market) -> str:
        return "calm"

    def status(self, now: float) -> dict[str, Any]:
        return {"agent_market": "calm", "clock": now,
                "markets": [{"condition_id": m.condition_id, "question": m.question, "closed": m.closed,
                             "latent": m.latent} for m in self.markets]}


def _logit(p: float) -> float:
    p = min(0.999, max(0.001, p))
    return math.log(p / (1 - p))
