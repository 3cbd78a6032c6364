"""A poll feed, as a pollster or an aggregator would publish one, so the desk's poll source is tested
offline: ``GET /polls/polls.csv`` and ``GET /polls/polls.json`` (the same rows: ``poll_id, race,
option, share, sample_size, end_date, pollster``; the layout docs/strategies-and-risk.md gives).

Each open standalone politics market is a referendum-style race named by its slug, options ``Yes``
and ``No``. Its polls follow the market's public belief p (``market.latent``, which moves with
published news): the true margin is ``POLL_SCALE * Phi^-1(p)`` points of the vote, a poll samples
400 to 2,000 people with 3-10 % undecided, and its shares carry that sample's own error. A new poll
of every race ends each ``polls_every_s`` seconds (wall clock); five back-dated polls, a day apart,
give a race its history at the start (on the belief then). Polls are made when the feed is read
(each due one on the belief at that moment, at most MAX_CATCH_UP at once); the newest KEEP a race
are served. Seeded: the same seed and the same reads give the same polls.
"""

from __future__ import annotations

import csv
import io
import math
import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from statistics import NormalDist
from typing import Any

from aiohttp import web

from .httputil import SIM_KEY
from .markets import Market
from .news import POLITICS

POLL_SCALE = 5.0  # points of margin per unit of the belief's normal score (p = 0.84: +5 points)
HISTORY, HISTORY_GAP_S = 5, 86_400.0
MAX_CATCH_UP = 10
KEEP = 200
POLLSTERS = ("Harbor Research", "Northfield Polling", "Civic Pulse", "Lakeside Survey")
FIELDS = ("poll_id", "race", "option", "share", "sample_size", "end_date", "pollster")


@dataclass(frozen=True)
class SimPoll:
    poll_id: str
    race: str
    pollster: str
    sample: int
    end_ts: float
    yes: float
    no: float


class PollBook:
    """Every politics market's polls, made as the feed is read."""

    def __init__(self, seed: int, every_s: float, clock: Callable[[], float] = time.time) -> None:
        self.rng = random.Random(f"polls:{seed}")
        self.every_s = every_s
        self.clock = clock
        self.start = clock()
        self.made: dict[str, list[SimPoll]] = {}  # race -> polls, oldest first
        self.slot: dict[str, int] = {}  # race -> the last slot polled

    def rows(self, markets: list[Market], category_of: Callable[[Market], str]) -> list[dict[str, Any]]:
        now = self.clock()
        due = int((now - self.start) // self.every_s)
        out = []
        for market in markets:
            if market.closed or market.neg_risk or market.quiet or category_of(market) != POLITICS:
                continue
            polls = self._update(market, due)
            out += [row for poll in polls for row in _rows(poll)]
        return out

    def _update(self, market: Market, due: int) -> list[SimPoll]:
        race = market.slug or market.condition_id
        polls = self.made.get(race)
        if polls is None:
            polls = self.made[race] = [self._poll(market, race, f"h{i}", self.start - i * HISTORY_GAP_S)
                                       for i in range(HISTORY, 0, -1)]
            self.slot[race] = 0
        first = max(self.slot[race] + 1, due - MAX_CATCH_UP + 1)
        for slot in range(first, due + 1):
            polls.append(self._poll(market, race, str(slot), self.start + slot * self.every_s))
        self.slot[race] = max(self.slot[race], due)
        del polls[:-KEEP]
        return polls

    def _poll(self, market: Market, race: str, slot: str, end_ts: float) -> SimPoll:
        p = min(1 - 1e-6, max(1e-6, market.latent))
        margin = POLL_SCALE * NormalDist().inv_cdf(p)
        undecided = self.rng.uniform(3, 10)
        sample = self.rng.randint(400, 2_000)
        yes_true = max(1.0, min(99.0, (100 - undecided + margin) / 2))
        noise = 100 * math.sqrt(yes_true / 100 * (1 - yes_true / 100) / sample) * self.rng.gauss(0, 1)
        yes = max(0.5, min(99.0, yes_true + noise))
        no = max(0.5, min(99.5 - yes, 100 - undecided - yes))
        return SimPoll(f"{race}-{slot}", race, self.rng.choice(POLLSTERS), sample, end_ts, round(yes, 1),
                       round(no, 1))


def _rows(poll: SimPoll) -> list[dict[str, Any]]:
    end = datetime.fromtimestamp(poll.end_ts, tz=UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    return [{"poll_id": poll.poll_id, "race": poll.race, "option": option, "share": share,
             "sample_size": poll.sample, "end_date": end, "pollster": poll.pollster}
            for option, share in (("Yes", poll.yes), ("No", poll.no))]


def _current(request: web.Request) -> list[dict[str, Any]]:
    sim = request.app[SIM_KEY]
    return sim.polls.rows(list(sim.exchange.markets.values()), sim.agents.news.category_of)


routes = web.RouteTableDef()


@routes.get("/polls/polls.json")
async def polls_json(request: web.Request) -> web.Response:
    return web.json_response(_current(request))


@routes.get("/polls/polls.csv")
async def polls_csv(request: web.Request) -> web.Response:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=FIELDS, lineterminator="\n")
    writer.writeheader()
    writer.writerows(_current(request))
    return web.Response(text=out.getvalue(), content_type="text/csv")
