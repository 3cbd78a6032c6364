"""The information in the agents' market (simulator/news.py), driven on its own clock: news
by category, informed before public, convergence to the outcome the path implies, markets
tied to the reference price, and the old calm walk kept for tests that ask for it."""

from __future__ import annotations

import math
import random
import statistics

import pytest

from simulator.calm import CalmWalk
from simulator.market_config import MarketConfig
from simulator.markets import build_markets
from simulator.news import POLITICS, REFERENCE, SPORTS, Information, NewsError

T0 = 1_800_000_000.0
STEP = 0.5


def _world(seconds_to_close: float, seed: int = 3, cfg: MarketConfig | None = None,
           markets: int = 10) -> Information:
    chosen = build_markets(markets, random.Random(f"markets:{seed}"), T0, seconds_to_close)
    return Information(chosen, cfg or MarketConfig(), random.Random(f"news:{seed}"), T0)


def _run(info: Information, seconds: float, on_step=None) -> list:
    events, now = [], info.now
    for _ in range(int(seconds / STEP)):
        now += STEP
        advance = info.advance(now)
        events.extend(advance.known)
        if on_step:
            on_step(now, advance)
    return events


def test_sports_news_is_frequent_and_large_politics_rare():
    info = _world(30 * 86_400.0)
    categories = {m.question: info.category_of(m) for m in info.markets}
    assert categories["2022 Wimbledon Championships: Who will win Djokovic vs. Sinner?"] == SPORTS
    assert categories["Will Argentina win the 2022 World Cup?"] == SPORTS
    assert categories["Which party wins 2024 US Presidential Election?"] == POLITICS
    jumps: dict[str, list[float]] = {SPORTS: [], POLITICS: []}
    counts = {m.condition_id: 0 for m in info.markets}
    before = {m.condition_id: m.latent for m in info.markets}

    def watch(now, advance):
        for market in advance.published:  # the public belief's move when news becomes public
            if not market.group:  # (a member's news also moves the rest of its group a little)
                jumps[info.category_of(market)].append(abs(market.latent - before[market.condition_id]))
        before.update({m.condition_id: m.latent for m in info.markets})

    hours = 3
    for event in _run(info, hours * 3600, watch):
        for market in event.markets[:1]:
            counts[market.condition_id] += 1
    standalone = [m for m in info.markets if not m.group]
    sports = [counts[m.condition_id] for m in standalone if info.category_of(m) == SPORTS]
    politics = [counts[m.condition_id] for m in standalone if info.category_of(m) == POLITICS]
    cfg = MarketConfig()
    expected_sports = hours * 3600 / cfg.sports_news_every_s
    expected_politics = hours * 3600 / cfg.politics_news_every_s
    assert 0.7 * expected_sports < statistics.fmean(sports) < 1.3 * expected_sports
    assert 0.5 * expected_politics < statistics.fmean(politics) < 1.5 * expected_politics
    assert statistics.median(jumps[SPORTS]) > statistics.median(jumps[POLITICS])


def test_news_is_known_before_it_is_public():
    info = _world(30 * 86_400.0)
    market = next(m for m in info.markets if not m.group)
    info.set_latent(market, 0.5, info.now)
    event = info.script(market, 0.8, lead_s=2.0, now=info.now)
    assert event.public_at == pytest.approx(info.now + 2.0) and event.markets == (market,)
    assert info.true_p(market) == pytest.approx(0.8, abs=1e-9)
    published = []
    _run(info, 1.5, lambda now, adv: published.extend(adv.published))
    assert market.latent == pytest.approx(0.5, abs=0.02)  # still the old public belief
    assert market not in published
    _run(info, 1.0, lambda now, adv: published.extend(adv.published))
    assert market in published and market.latent == pytest.approx(0.8, abs=0.02)


def test_prices_converge_to_the_outcome_the_path_implies():
    close_in = 1800.0
    info = _world(close_in)
    latents = []
    _run(info, close_in - STEP, lambda now, adv: latents.append([m.latent for m in info.markets]))
    last = dict(zip((m.condition_id for m in info.markets), latents[-1], strict=False))
    assert all(min(p, 1 - p) < 0.02 for p in last.values()), last  # at 0 or 1 at the close
    early_extreme = statistics.fmean(abs(p - 0.5) for p in latents[0])
    assert early_extreme < statistics.fmean(abs(p - 0.5) for p in last.values())
    winners = info.winners(random.Random(0))
    groups = [w for w in winners if w[0] == "group"]
    singles = {ref: outcome for kind, ref, outcome in winners if kind == "market"}
    assert len(groups) == 1 and last[groups[0][2]] > 0.98  # exactly one group member wins: the one at 1
    assert singles and all((outcome == "YES") == (last[cid] > 0.5) for cid, outcome in singles.items())


def test_tied_markets_follow_the_reference_price():
    cfg = MarketConfig(reference_markets="4,6")
    info = _world(30 * 86_400.0, cfg=cfg)
    tied = [m for m in info.markets if info.category_of(m) == REFERENCE]
    free = next(m for m in info.markets if info.category_of(m) == POLITICS)
    assert len(tied) == 2
    path = []
    _run(info, 2 * 3600, lambda now, adv: path.append((tied[0].latent, tied[1].latent, free.latent)))
    moves = [[b[i] - a[i] for a, b in zip(path, path[1:], strict=False)] for i in range(3)]
    assert statistics.correlation(moves[0], moves[1]) > 0.9
    assert abs(statistics.correlation(moves[0], moves[2])) < 0.3
    assert info.status(info.now)["reference"]["log_price"] != 0.0


def test_group_beliefs_sum_to_one():
    info = _world(3600.0)
    group = [m for m in info.markets if m.group]
    _run(info, 1200, lambda now, adv: None)
    assert sum(m.latent for m in group) == pytest.approx(1.0, abs=1e-9)
    info.set_latent(group[0], 0.6, info.now)
    assert group[0].latent == pytest.approx(0.6, abs=1e-6)
    assert sum(m.latent for m in group) == pytest.approx(1.0, abs=1e-6)


def test_a_seed_reproduces_the_path_and_another_does_not():
    def path(seed):
        info = _world(86_400.0, seed=4)
        info.rng = random.Random(seed)
        out = []
        _run(info, 600, lambda now, adv: out.append(tuple(round(m.latent, 12) for m in info.markets)))
        return out
    assert path(1) == path(1) and path(1) != path(2)


def test_the_calm_market_has_no_news():
    markets = build_markets(10, random.Random("markets:3"), T0, 600.0)
    calm = CalmWalk(markets, random.Random(1), T0)
    assert all(not calm.advance(T0 + k).known for k in range(1, 200))
    assert all(0.01 <= m.latent <= 0.97 for m in markets)  # no convergence, whatever the close
    assert math.isinf(calm.horizon_s(markets[0]))
    with pytest.raises(NewsError, match="agent_market=informed"):
        calm.script(markets[0], 0.9, 1.0, T0)


def test_bad_market_settings_are_refused_with_their_name():
    bad_settings = {"agent_market": "wild", "sports_news_every_s": 0, "maker_levels": 0, "informed_lead_s": -1,
                    "reference_markets": "x", "depth_decay_slope": math.nan}
    for name, value in bad_settings.items():
        with pytest.raises(ValueError, match=name):
            MarketConfig().with_updates({name: value})
    with pytest.raises(ValueError, match="reference_markets: no market 99"):
        _world(600.0, cfg=MarketConfig(reference_markets="99"))


def test_every_knob_is_a_flag_a_variable_and_documented():
    from pathlib import Path

    from simulator.__main__ import FLAGS, parse_args
    from simulator.config import SimConfig, env_overrides
    from simulator.market_config import FIELD_NAMES

    readme = (Path(__file__).resolve().parents[2] / "simulator" / "README.md").read_text()
    flags = {name: flag for flag, (name, _, _) in FLAGS.items()}
    for name in FIELD_NAMES:
        flag = flags[name]
        assert f"| `{flag}` | `{name}` |" in readme, name  # the knob table
        variable = "SIMULATOR_" + flag[2:].upper().replace("-", "_")
        default = getattr(MarketConfig(), name)
        raw = _another_value(name, default)
        env = env_overrides({variable: raw})
        assert list(env) == [name]
        assert getattr(SimConfig().with_updates(env).market, name) != default, name
        assert parse_args([flag, raw]) == env


def _another_value(name: str, default: object) -> str:
    """A valid setting other than the default, as a flag or variable would carry it."""
    if name == "agent_market":
        return "calm"
    if name == "reference_markets":
        return "none"
    return str(default + 1 if isinstance(default, int) else float(str(default)) * 2)
