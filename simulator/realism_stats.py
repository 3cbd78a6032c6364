"""The realism report's measures, the published figures beside them, and the tolerances.

Published figures: Dubach 2026, "The Anatomy of a Decentralized Prediction Market"
(arXiv 2604.24366; 600 markets, 52 days), as its replication package tabulates them.
SF1 gives the full quoted spread by mid-price decile in bps of the mid; the half-spread
is half of it (the paper's text: 1,300-1,800 bps full, 650-900 bps half, for the lowest
decile). SF2 is the share of the top-10 depth held at the best level (0.10 is a uniform
grid). SF8 regresses log depth on log seconds-to-close across markets (0.55 within
category). The paper does not measure markouts reliably (its spread decomposition's
adverse-selection median is ~0 with direction noise), so markouts are checked for their
direction only.
"""

from __future__ import annotations

import math
import statistics
from bisect import bisect_right
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from .config import SimConfig
from .realism import BOOK_LEVELS, BookSample, Phase

CENT = 0.01  # markouts and moves are quoted in cents (ticks of 0.01) per share
HORIZONS_S = (1.0, 10.0, 60.0)
PREDICTION_HORIZON_S = 60.0
# SF1: half-spread (bps of mid) by mid decile: median, p25, p75 (the table's full spread / 2).
PAPER_HALF_SPREAD = ((909, 588, 2000), (670, 345, 1282), (377, 233, 884), (1291, 462, 3899),
                     (200, 101, 200), (200, 200, 200), (222, 92, 388), (213, 70, 2958),
                     (111, 57, 296), (27, 0, 53))
PAPER_TOP_SHARE = (0.137, 0.033, 0.428)  # SF2: median, p10, p90 across 546 markets
PAPER_DEPTH_SLOPE = (0.55, 0.143)  # SF8 within category: slope, HC3 standard error
# Tolerances (the report flags a figure outside them; the suite checks the directions).
LONGSHOT_BAND = (588.0, 2000.0)  # lowest decile: within the paper's interquartile range
MIDDLE_BAND = (100.0, 300.0)  # deciles 4-5: the paper's 200, one tick either side at p = 0.5
PREMIUM_BAND = (3.0, 10.0)  # lowest decile over the middle: the paper's 4.5x
TOP_SHARE_BAND = (0.10, 0.25)  # between a uniform grid and twice the paper's median
SLOPE_BAND = (PAPER_DEPTH_SLOPE[0] - 2 * PAPER_DEPTH_SLOPE[1],
              PAPER_DEPTH_SLOPE[0] + 2 * PAPER_DEPTH_SLOPE[1])  # the paper's 95 % interval
PREDICTION_MIN_TICKS, PREDICTION_MIN_T = 0.5, 3.0


# -- series ----------------------------------------------------------------------------------------

def mid_at(phase: Phase, market: str, t: float) -> float | None:
    """The public mid at time ``t`` (the last one the feed showed at or before it)."""
    times, mids = phase.mids[market]
    i = bisect_right(times, t) - 1
    return mids[i] if i >= 0 else None


def _quantiles(values: Sequence[float]) -> tuple[float, float, float]:
    ordered = sorted(values)
    if len(ordered) == 1:
        return ordered[0], ordered[0], ordered[0]
    q = statistics.quantiles(ordered, n=4, method="inclusive")
    return q[1], q[0], q[2]


# -- spreads and depth -------------------------------------------------------------------------

@dataclass(frozen=True)
class Bin:
    lo: float
    hi: float
    n: int
    median: float
    p25: float
    p75: float


def half_spread_by_decile(samples: Iterable[BookSample]) -> list[Bin | None]:
    """Quoted half-spread in bps of the mid by mid-price decile, as the paper counts it: each
    market's median in the decile, then the median (and quartiles) across those markets; ``n``
    is the number of markets (None: no samples in the decile)."""
    by_bin: dict[int, dict[str, list[float]]] = defaultdict(lambda: defaultdict(list))
    for s in samples:
        if s.bid is None or s.ask is None:
            continue
        mid = (s.bid + s.ask) / 2
        by_bin[min(9, int(mid * 10))][s.market].append((s.ask - s.bid) / 2 / mid * 10_000)
    out: list[Bin | None] = []
    for k in range(10):
        per_market = [statistics.median(v) for v in by_bin[k].values()] if k in by_bin else []
        out.append(Bin(k / 10, (k + 1) / 10, len(per_market), *_quantiles(per_market))
                   if per_market else None)
    return out


def middle_half_spread(samples: Iterable[BookSample]) -> float | None:
    """The median across markets of their median half-spread (bps) with the mid in 0.4-0.6."""
    per_market: dict[str, list[float]] = defaultdict(list)
    for s in samples:
        if s.bid is not None and s.ask is not None and 0.4 <= (s.bid + s.ask) / 2 < 0.6:
            mid = (s.bid + s.ask) / 2
            per_market[s.market].append((s.ask - s.bid) / 2 / mid * 10_000)
    return statistics.median(statistics.median(v) for v in per_market.values()) if per_market else None


def depth_by_level(samples: Iterable[BookSample]) -> list[float]:
    """Mean resting shares at level 1..10 (bid and ask sides pooled; an empty level counts 0)."""
    totals, count = [0.0] * BOOK_LEVELS, 0
    for s in samples:
        for sizes in (s.bid_sizes, s.ask_sizes):
            count += 1
            for k, size in enumerate(sizes):
                totals[k] += size
    return [t / count for t in totals] if count else totals


def top_share_by_market(samples: Iterable[BookSample]) -> dict[str, float]:
    """Per market: mean top-of-book depth over mean top-10 depth (the paper's L1/L10)."""
    top: dict[str, float] = defaultdict(float)
    ten: dict[str, float] = defaultdict(float)
    for s in samples:
        for sizes in (s.bid_sizes, s.ask_sizes):
            if sizes:
                top[s.market] += sizes[0]
                ten[s.market] += sum(sizes)
    return {m: top[m] / ten[m] for m in ten if ten[m] > 0}


def depth_against_close(samples: Iterable[BookSample]) -> tuple[list[tuple[float, float, int]], float | None]:
    """Mean top-10 depth (both sides) by time to close in log buckets, and the OLS slope of
    log depth on log seconds to close over every sample."""
    points = [(s.time_to_close_s, sum(s.bid_sizes) + sum(s.ask_sizes)) for s in samples]
    points = [(t, d) for t, d in points if t >= 1.0 and d > 0]
    buckets: dict[int, list[float]] = defaultdict(list)
    for t, d in points:
        buckets[int(math.floor(math.log10(t) * 2))].append(d)  # half-decades
    table = [(10 ** (k / 2), statistics.fmean(v), len(v)) for k, v in sorted(buckets.items(), reverse=True)]
    if len(points) < 3:
        return table, None
    xs, ys = [math.log(t) for t, _ in points], [math.log(d) for _, d in points]
    mx, my = statistics.fmean(xs), statistics.fmean(ys)
    sxx = sum((x - mx) ** 2 for x in xs)
    slope = sum((x - mx) * (y - my) for x, y in zip(xs, ys, strict=False)) / sxx if sxx > 0 else None
    return table, slope


# -- trades ------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Markout:
    horizon: str
    n: int
    shares: float
    markout_cents: float  # per share, against the fill price (what the maker earned)
    adverse_cents: float  # per share, the mid's move against the maker since the fill


def passive_markouts(phase: Phase) -> list[Markout]:
    """Volume-weighted markouts of the agent maker's fills at 1, 10, 60 s (and, when the phase
    closes, at resolution: against the payout)."""
    out = []
    for h in HORIZONS_S:
        rows = []
        for f in phase.fills:
            later = mid_at(phase, f.market, f.t + h)
            if later is None or f.mid_before is None or f.t + h > phase_end(phase):
                continue
            rows.append((f.size, f.sign * (later - f.price), f.sign * (later - f.mid_before)))
        out.append(_markout(f"{h:g} s", rows))
    if phase.outcomes:
        rows = [(f.size, f.sign * (phase.outcomes[f.market] - f.price),
                 f.sign * (phase.outcomes[f.market] - f.mid_before))
                for f in phase.fills if f.mid_before is not None and f.market in phase.outcomes]
        out.append(_markout("resolution", rows))
    return out


def _markout(name: str, rows: list[tuple[float, float, float]]) -> Markout:
    shares = sum(r[0] for r in rows)
    if not shares:
        return Markout(name, 0, 0.0, math.nan, math.nan)
    return Markout(name, len(rows), shares, sum(r[0] * r[1] for r in rows) / shares / CENT,
                   sum(r[0] * r[2] for r in rows) / shares / CENT)


def phase_end(phase: Phase) -> float:
    return max((times[-1] for times, _ in phase.mids.values() if times), default=0.0)


@dataclass(frozen=True)
class Prediction:
    n: int
    mean_ticks: float
    se_ticks: float

    @property
    def t(self) -> float:
        return self.mean_ticks / self.se_ticks if self.se_ticks > 0 else math.inf


def taker_prediction(phase: Phase, horizon_s: float = PREDICTION_HORIZON_S) -> Prediction:
    """Signed move of the public mid ``horizon_s`` after each taker print (up for a BUY), from
    the mid before the trade, in ticks of 0.01 (whatever the market's tick: a finer one would
    count the same move ten times); standard error clustered by market-minute (moves after one
    piece of news are not independent)."""
    rows: list[tuple[tuple[str, int], float]] = []
    end = phase_end(phase)
    for p in phase.prints:
        later = mid_at(phase, p.market, p.t + horizon_s)
        if p.mid_before is None or later is None or p.t + horizon_s > end:
            continue
        rows.append(((p.market, int(p.t // 60)), p.sign * (later - p.mid_before) / CENT))
    if not rows:
        return Prediction(0, math.nan, math.nan)
    mean = statistics.fmean(v for _, v in rows)
    clusters: dict[tuple[str, int], float] = defaultdict(float)
    for key, v in rows:
        clusters[key] += v - mean
    se = math.sqrt(sum(c * c for c in clusters.values())) / len(rows)
    return Prediction(len(rows), mean, se)


def effective_half_spread_by_category(phase: Phase) -> dict[str, tuple[int, float]]:
    """Mean |trade price - mid before| in probability points, per category (the print's price
    is the last level a sweep reached)."""
    by_cat: dict[str, list[float]] = defaultdict(list)
    for p in phase.prints:
        if p.mid_before is not None:
            by_cat[phase.categories[p.market]].append(abs(p.price - p.mid_before))
    return {c: (len(v), statistics.fmean(v)) for c, v in sorted(by_cat.items())}


def converged(phase: Phase, within: float = 0.1) -> tuple[int, int]:
    """(markets whose last public mid was within ``within`` of their payout, markets)."""
    hits = 0
    for market, payout in phase.outcomes.items():
        times, mids = phase.mids[market]
        last = next((m for m in reversed(mids) if m is not None), None)
        hits += last is not None and abs(last - payout) <= within
    return hits, len(phase.outcomes)


# -- the facts and the report ------------------------------------------------------------------------------

@dataclass(frozen=True)
class Fact:
    name: str
    ours: float | None
    published: str
    tolerance: tuple[float, float]

    @property
    def ok(self) -> bool:
        return self.ours is not None and self.tolerance[0] <= self.ours <= self.tolerance[1]


def facts(served: Phase, closing: Phase) -> list[Fact]:
    both = served.samples + closing.samples
    bins = half_spread_by_decile(both)
    low, middle = bins[0].median if bins[0] else None, middle_half_spread(both)
    shares = list(top_share_by_market(served.samples).values())
    _, slope = depth_against_close(closing.samples)
    adverse = next(m for m in passive_markouts(served) if m.horizon == "60 s").adverse_cents
    prediction = taker_prediction(served)
    return [
        Fact("half-spread, lowest decile (bps)", low, "909 (650-900 in the text)", LONGSHOT_BAND),
        Fact("half-spread, deciles 4-5 (bps)", middle, "200", MIDDLE_BAND),
        Fact("longshot premium (lowest / middle)", low / middle if low and middle else None, "4.5x",
             PREMIUM_BAND),
        Fact("top-of-book share of top-10 depth", statistics.median(shares) if shares else None,
             "0.137 (uniform grid 0.10)", TOP_SHARE_BAND),
        Fact("slope of log depth on log time to close", slope, "0.55 (SE 0.143)", SLOPE_BAND),
        Fact("passive fills, 60 s adverse selection (cents)", None if math.isnan(adverse) else adverse,
             "< 0 (direction only)", (-math.inf, 0.0)),
        Fact("taker trade -> mid 60 s later (ticks)", None if math.isnan(prediction.mean_ticks)
             else prediction.mean_ticks, ">= 0.5 tick", (PREDICTION_MIN_TICKS, math.inf)),
        Fact("  ... its t-statistic (clustered)", None if math.isnan(prediction.mean_ticks) else prediction.t,
             ">= 3", (PREDICTION_MIN_T, math.inf)),
    ]


def _num(value: float | None, fmt: str = "{:.1f}") -> str:
    return "-" if value is None or math.isnan(value) else fmt.format(value)


def report(cfg: SimConfig, served: Phase, closing: Phase, changes: list[str]) -> str:
    lines = [f"Realism report: seed {cfg.seed}, {cfg.markets} markets, {served.seconds / 60:g} simulated "
             f"minutes per phase ({served.wall_s + closing.wall_s:.1f} s of wall time)",
             "settings: " + (", ".join(changes) if changes else "the defaults"),
             "published: Dubach 2026, arXiv 2604.24366 (replication tables SF1, SF2, SF8)", ""]
    lines += [f"{'FACTS':<50}{'ours':>8}   {'published':<28}tolerance"]
    for f in facts(served, closing):
        lines.append(f"{'ok  ' if f.ok else 'OUT '}{f.name:<46}{_value(f.ours):>8}   "
                     f"{f.published:<27} {_band(f.tolerance)}")
    lines += ["", "HALF-SPREAD BY MID DECILE (bps of the mid; both phases)",
              "decile  markets   median      p25      p75 | paper median      p25      p75"]
    for k, b in enumerate(half_spread_by_decile(served.samples + closing.samples)):
        paper = PAPER_HALF_SPREAD[k]
        ours = (f"{b.n:>6} {b.median:>8.0f} {b.p25:>8.0f} {b.p75:>8.0f}" if b
                else f"{0:>6} {'-':>8} {'-':>8} {'-':>8}")
        lines.append(f"{k / 10:.1f}-{(k + 1) / 10:.1f}  {ours} | {paper[0]:>12} {paper[1]:>8} {paper[2]:>8}")
    levels = depth_by_level(served.samples)
    total = sum(levels) or 1.0
    lines += ["", "DEPTH BY LEVEL (served phase; mean shares per side, share of the top 10)",
              "level " + " ".join(f"{k + 1:>6}" for k in range(BOOK_LEVELS)),
              "shares" + " ".join(f"{v:>6.0f}" for v in levels),
              "share " + " ".join(f"{v / total:>6.3f}" for v in levels),
              f"paper: top-of-book share median {PAPER_TOP_SHARE[0]} (p10 {PAPER_TOP_SHARE[1]}, "
              f"p90 {PAPER_TOP_SHARE[2]}); a uniform grid holds 0.100 at each level"]
    table, slope = depth_against_close(closing.samples)
    lines += ["", "DEPTH AGAINST TIME TO CLOSE (closing phase; top-10 depth, both sides)",
              "time to close >=      samples   mean depth"]
    lines += [f"{_duration(t):>18} {n:>12} {d:>12.0f}" for t, d, n in table]
    lines.append(f"slope of log depth on log seconds to close: {_num(slope, '{:.2f}')} "
                 f"(paper, across markets: 0.55 within category, SE 0.143; 0.82 bivariate)")
    lines += ["", "MARKOUTS OF PASSIVE FILLS (the agent maker; cents per share, volume-weighted)",
              "phase    horizon       fills      shares   markout  adverse selection"]
    for phase in (served, closing):
        for m in passive_markouts(phase):
            lines.append(f"{phase.name:<8} {m.horizon:<10} {m.n:>8} {m.shares:>11.0f} "
                         f"{_num(m.markout_cents, '{:+.2f}'):>9} {_num(m.adverse_cents, '{:+.2f}'):>18}")
    lines.append("paper: no reliable markouts (its adverse-selection component's median is ~0 under "
                 "direction noise); direction expected: adverse selection < 0")
    pred = taker_prediction(served)
    lines += ["", "TAKER TRADES PREDICT THE MID (public feed, served phase)",
              f"signed mid move {PREDICTION_HORIZON_S:g} s after a trade: {_num(pred.mean_ticks, '{:+.2f}')} "
              f"ticks (SE {_num(pred.se_ticks, '{:.2f}')}, t = {_num(pred.t, '{:.1f}')}, n = {pred.n})"]
    lines += ["", "EFFECTIVE HALF-SPREAD BY CATEGORY (served phase; mean |price - mid before|, probability)"]
    lines += [f"{c:<10} n={n:<7} {v:.4f}" for c, (n, v) in effective_half_spread_by_category(served).items()]
    lines.append("paper (SF5, signed on-chain medians): sports 0.0075, geopolitics 0.0001, other -0.0004, "
                 "crypto -0.0393")
    hits, count = converged(closing)
    lines += ["", f"CONVERGENCE (closing phase): {hits} of {count} markets' last mid within 0.10 of "
                  f"the outcome their path implied"]
    return "\n".join(lines)


def _value(value: float | None) -> str:
    if value is None or math.isnan(value):
        return "-"
    return f"{value:.0f}" if abs(value) >= 100 else f"{value:.2f}" if abs(value) >= 1 else f"{value:.3f}"


def _band(band: tuple[float, float]) -> str:
    low, high = band
    if math.isinf(low):
        return f"< {high:g}"
    if math.isinf(high):
        return f">= {low:g}"
    return f"{low:g} .. {high:g}"


def _duration(seconds: float) -> str:
    if seconds >= 3600:
        return f"{seconds / 3600:.1f} h"
    if seconds >= 60:
        return f"{seconds / 60:.1f} min"
    return f"{seconds:.0f} s"
