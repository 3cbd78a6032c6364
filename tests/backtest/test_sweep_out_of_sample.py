"""Whether a sweep's result holds out of sample: walk-forward windows (tune on one, test on the next),
the trials ranked by their held-out score, how much the best in-sample trial overstates, and a
deflated Sharpe ratio; the figures checked by hand, then a real walk-forward sweep."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from contracts.sweep_spec import SweepError
from engine.backtest import sweep_oos
from engine.backtest.sweep import open_study, run_sweep
from tests.backtest.test_sweep import _env, _spec, recording  # noqa: F401


def test_windows_cover_the_span_in_equal_parts() -> None:
    assert sweep_oos.windows(0, 2_999, 2) == [(0, 999), (1_000, 1_999), (2_000, 2_999)]


def test_the_in_sample_winner_is_shown_overstating_and_the_ranking_is_held_out() -> None:
    trials = [  # window scores W0, W1, W2: trial 0 shines where it was tuned, trial 1 holds up
        {"number": 0, "params": {"a": 1}, "windows": [5.0, 4.0, -1.0], "oos": {}},
        {"number": 1, "params": {"a": 2}, "windows": [1.0, 1.0, 1.0], "oos": {}},
        {"number": 2, "params": {"a": 3}, "windows": [0.0, 0.5, 0.0], "oos": {}},
    ]
    verdict = sweep_oos.summary(trials)
    assert [(t["number"], t["held_out"]) for t in verdict["ranking"]] == [(0, 1.5), (1, 1.0), (2, 0.25)]
    best = verdict["best_in_sample"]
    assert best["number"] == 0 and best["in_sample"] == 4.5 and best["held_out"] == 1.5
    assert best["overstates_by"] == 3.0
    # Fold 1 tunes on W0 (trial 0 wins) and tests on W1; fold 2 tunes on W1 (trial 0 again) and tests on W2.
    assert verdict["walk_forward"]["picks"] == [{"fold": 1, "trial": 0, "tuned": 5.0, "tested": 4.0},
                                                {"fold": 2, "trial": 0, "tuned": 4.0, "tested": -1.0}]
    assert verdict["walk_forward"]["score"] == 1.5 and verdict["walk_forward"]["overstates_by"] == 3.0


def test_the_ranking_is_by_the_held_out_score_not_the_in_sample_one() -> None:
    trials = [{"number": 0, "params": {}, "windows": [9.0, 0.0, 0.0], "oos": {}},
              {"number": 1, "params": {}, "windows": [0.0, 2.0, 2.0], "oos": {}}]
    verdict = sweep_oos.summary(trials)
    assert [t["number"] for t in verdict["ranking"]] == [1, 0]
    assert verdict["best_in_sample"]["number"] == 0  # what an in-sample ranking would have put first


def test_the_deflated_sharpe_ratio_falls_with_the_trials_tried() -> None:
    one = sweep_oos.deflated_sharpe(0.1, 1, 0.0, 0.0, 3.0, 400)
    # One trial: the probabilistic Sharpe ratio against 0, Φ(0.1 · √399 / √(1 + 2/4 · 0.01)).
    assert one == pytest.approx(0.5 * (1 + math.erf(0.1 * math.sqrt(399) / math.sqrt(1.005) / math.sqrt(2))))
    many = sweep_oos.deflated_sharpe(0.1, 100, 0.01, 0.0, 3.0, 400)
    assert many is not None and one is not None and many < one  # the best of 100 draws is expected to look good
    assert many < 0.01  # the best of 100 unskilled draws of spread 0.1 reaches ~0.25: 0.1 is no evidence
    assert sweep_oos.deflated_sharpe(0.4, 100, 0.01, 0.0, 3.0, 400) > 0.99  # well above it: unlikely to be luck
    assert sweep_oos.deflated_sharpe(0.1, 100, 0.01, 0.0, 3.0, 2) is None  # too few returns to say


def test_return_stats_are_the_moments_of_the_returns() -> None:
    stats = sweep_oos.return_stats([0.01, -0.01, 0.02, 0.0])
    assert stats["n"] == 4 and stats["sharpe"] == pytest.approx(0.005 / math.sqrt(0.00016666666666666666))
    assert sweep_oos.return_stats([0.0, 0.0, 0.0])["sharpe"] is None


def test_walk_forward_refuses_what_it_cannot_score(recording: tuple[Path, list[str], int, int]) -> None:
    from contracts.sweep_spec import check_spec

    for changes, said in (({"walk_forward": 1}, "between 2 and 12"),
                          ({"walk_forward": 2, "train_fraction": 0.7}, "drop --split"),
                          ({"walk_forward": 2, "objective": "markout"}, "use sharpe, return or calmar")):
        with pytest.raises(SweepError, match=said):
            check_spec(_spec(recording, **changes))


@pytest.mark.slow  # starts processes
def test_a_walk_forward_sweep_ranks_its_trials_by_their_held_out_score(
        recording: tuple[Path, list[str], int, int], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = recording[0]
    _env(monkeypatch, path)
    spec = _spec(recording, walk_forward=2, trials=4, name="wf")
    url = f"sqlite:///{tmp_path / 'wf.db'}"
    report = run_sweep(spec, url, path, jobs=2, work_root=tmp_path / "w")
    verdict = report.out_of_sample
    assert verdict is not None and verdict["trials"] == 4 and verdict["folds"] == 2
    held = [t["held_out"] for t in verdict["ranking"]]
    assert held == sorted(held, reverse=True) and len(held) >= 2
    study = open_study(spec, url)
    assert study.user_attrs["out_of_sample"] == verdict  # kept for the Sweep tab and the report
    for trial in study.trials:  # the sampler maximized the in-sample score: W0 and W1, never W2
        windows = trial.user_attrs["windows"]
        assert len(windows) == 3 and trial.value == pytest.approx(sweep_oos.trial_scores(windows)[0])
    best = verdict["best_in_sample"]
    assert best["overstates_by"] == pytest.approx(best["in_sample"] - best["held_out"])
    assert verdict["deflated_sharpe"] is None or 0 <= verdict["deflated_sharpe"] <= 1
    from reports.sweep import sweep_report
    from storage.research.sweep_queries import sweep_view

    view = sweep_view(url, "wf")
    assert view is not None and view.out_of_sample == verdict
    page = sweep_report(view, {})
    assert "Out of sample" in page and "tuning overstates it by" in page and "Deflated Sharpe ratio" in page
    assert "walk-forward, 2 folds" in page and "Trials by held-out score" in page
