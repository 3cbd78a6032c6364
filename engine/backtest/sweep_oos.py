"""Whether a sweep's result holds out of sample: walk-forward windows, the held-out ranking, how much
the best in-sample trial's score overstates its held-out one, and a deflated Sharpe ratio.

With `--walk-forward K` the sweep's span is cut into K + 1 equal windows W0..WK. Each trial is
backtested once over the whole span and scored on each window (from its equity curve: a window's
equity starts where the previous one ended, positions carried, as a desk that kept trading would).
Fold k tunes on W(k-1) and tests on Wk, rolling forward:
- a trial's in-sample score is the mean of its scores on W0..W(K-1), what the sampler maximizes;
- its held-out score is the mean of its scores on W1..WK, each window scored after the one it
  was tuned on; trials are ranked by it;
- the walk-forward score is the procedure's own out-of-sample result: in each fold, the trial best
  on the tuning window, scored on the next window; the mean of those K scores;
- overstatement: the best in-sample trial's in-sample score less its held-out score (and the same
  for the walk-forward picks): how much tuning flattered the figure;
- significance: the deflated Sharpe ratio (Bailey and López de Prado, 2014) of the best held-out
  trial: the probability that its held-out per-period Sharpe ratio is above what the best of N
  trials of no skill would show, given the spread of the trials' Sharpe ratios and the skew and
  kurtosis of its returns. Near 1: unlikely to be luck; 0.5 or below: no evidence of skill.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from statistics import NormalDist
from typing import Any

from contracts import metrics as metric_fns

EULER_GAMMA = 0.5772156649015329
MIN_FOLDS, MAX_FOLDS = 2, 12
STEPS = 100  # grid periods a window's returns are taken on


def windows(from_ms: int, to_ms: int, folds: int) -> list[tuple[int, int]]:
    """K + 1 equal windows covering [from, to]."""
    size = (to_ms - from_ms + 1) // (folds + 1)
    edges = [from_ms + i * size for i in range(folds + 1)] + [to_ms + 1]
    return [(edges[i], edges[i + 1] - 1) for i in range(folds + 1)]


def window_curve(curve: Sequence[tuple[int, float]], window: tuple[int, int]) -> list[tuple[int, float]]:
    """The curve's points inside `window`, starting from the last equity before it (the window's
    opening equity), so its return counts every move inside it."""
    before = [p for p in curve if p[0] < window[0]]
    inside = [p for p in curve if window[0] <= p[0] <= window[1]]
    opening = [(window[0], before[-1][1])] if before else []
    return opening + inside


def window_metrics(curve: Sequence[tuple[int, float]], window: tuple[int, int]) -> metric_fns.Metrics:
    return metric_fns.compute(window_curve(curve, window), [], [], trades=0, fees=0.0, steps=STEPS)


def held_out_returns(curve: Sequence[tuple[int, float]], tested: Sequence[tuple[int, int]]) -> list[float]:
    """The per-period returns of the tested windows, one grid a window, in order."""
    returns: list[float] = []
    for window in tested:
        values, _ = metric_fns.resample(window_curve(curve, window), STEPS)
        returns += metric_fns.period_returns(values)
    return returns


def return_stats(returns: Sequence[float]) -> dict[str, float | int | None]:
    """Per-period Sharpe, skew and kurtosis (not excess: 3 for a normal) of returns."""
    n = len(returns)
    if n < 3:
        return {"sharpe": None, "skew": None, "kurtosis": None, "n": n}
    mean = sum(returns) / n
    var = sum((r - mean) ** 2 for r in returns) / (n - 1)
    if var <= 0:
        return {"sharpe": None, "skew": None, "kurtosis": None, "n": n}
    sd = math.sqrt(var)
    skew = sum(((r - mean) / sd) ** 3 for r in returns) / n
    kurt = sum(((r - mean) / sd) ** 4 for r in returns) / n
    return {"sharpe": mean / sd, "skew": skew, "kurtosis": kurt, "n": n}


def deflated_sharpe(sharpe: float, trials: int, variance: float, skew: float, kurtosis: float,
                    periods: int) -> float | None:
    """The probability that a per-period Sharpe ratio `sharpe` measured on `periods` returns is above
    the best of `trials` unskilled trials' (whose Sharpe ratios vary by `variance`); None when it
    cannot be said."""
    if periods < 3 or trials < 1:
        return None
    normal = NormalDist()
    if trials == 1 or variance <= 0:
        benchmark = 0.0  # one trial, or no spread: the probabilistic Sharpe ratio against 0
    else:
        benchmark = math.sqrt(variance) * ((1 - EULER_GAMMA) * normal.inv_cdf(1 - 1 / trials)
                                           + EULER_GAMMA * normal.inv_cdf(1 - 1 / (trials * math.e)))
    spread = 1 - skew * sharpe + (kurtosis - 1) / 4 * sharpe ** 2
    if spread <= 0:
        return None
    return normal.cdf((sharpe - benchmark) * math.sqrt(periods - 1) / math.sqrt(spread))


def _mean(values: Sequence[float | None]) -> float | None:
    found = [v for v in values if v is not None and math.isfinite(v)]
    return sum(found) / len(found) if found else None


def trial_scores(scores: Sequence[float | None]) -> tuple[float | None, float | None]:
    """(in-sample, held-out) of one trial's window scores W0..WK."""
    return _mean(scores[:-1]), _mean(scores[1:])


def summary(trials: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """The sweep's out-of-sample verdict from its trials ({number, params, windows: [scores], oos:
    return_stats of its held-out returns}), the held-out ranking first."""
    scored = []
    for trial in trials:
        ins, held = trial_scores(trial["windows"])
        scored.append({**trial, "in_sample": ins, "held_out": held})
    ranked = sorted((t for t in scored if t["held_out"] is not None), key=lambda t: (-t["held_out"], t["number"]))
    if not ranked:
        return {"trials": len(trials), "ranking": [], "note": "no trial has a held-out score"}
    by_in_sample = max((t for t in scored if t["in_sample"] is not None), key=lambda t: t["in_sample"], default=None)
    folds = len(ranked[0]["windows"]) - 1
    picks = []
    for k in range(1, folds + 1):
        tuned = [t for t in scored if t["windows"][k - 1] is not None and t["windows"][k] is not None]
        if tuned:
            best = max(tuned, key=lambda t: (t["windows"][k - 1], -t["number"]))
            picks.append({"fold": k, "trial": best["number"], "tuned": best["windows"][k - 1],
                          "tested": best["windows"][k]})
    sharpes = [t["oos"]["sharpe"] for t in scored if t.get("oos", {}).get("sharpe") is not None]
    variance = _variance(sharpes)
    top = ranked[0].get("oos", {})
    dsr = None if top.get("sharpe") is None else deflated_sharpe(
        top["sharpe"], len(trials), variance, top["skew"], top["kurtosis"], top["n"])
    walk = _mean([p["tested"] for p in picks])
    tuned_mean = _mean([p["tuned"] for p in picks])
    return {
        "trials": len(trials), "folds": folds,
        "ranking": [{"number": t["number"], "params": t["params"], "in_sample": t["in_sample"],
                     "held_out": t["held_out"]} for t in ranked],
        "best_in_sample": None if by_in_sample is None else {
            "number": by_in_sample["number"], "in_sample": by_in_sample["in_sample"],
            "held_out": by_in_sample["held_out"],
            "overstates_by": None if by_in_sample["held_out"] is None
            else by_in_sample["in_sample"] - by_in_sample["held_out"]},
        "walk_forward": {"picks": picks, "score": walk,
                         "overstates_by": None if walk is None or tuned_mean is None else tuned_mean - walk},
        "deflated_sharpe": dsr, "sharpe_variance": variance,
    }


def _variance(values: Sequence[float]) -> float:
    if len(values) < 2:
        return 0.0
    mean = sum(values) / len(values)
    return sum((v - mean) ** 2 for v in values) / (len(values) - 1)
