"""A backtest's markouts are the desk's: record a paper session, let the desk's markout job
complete its fills' markouts from the recorded mids, backtest the recording, and get the same
markout for every fill and horizon that both have (the same mids, the same pure function).
The replay stamps a fill with the recorded event's time, the live desk with its clock a few ms
later: where the mid moved in between, the later mid differs (the test says how often), and the
backtest's markout is still exactly the one of the recorded mid at its own fill's horizon."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import text

from contracts.domain import Side
from engine.analytics.markout_job import MarkoutJob
from engine.analytics.markouts import HORIZONS, FillPoint, markout
from engine.backtest.runner import BacktestSpec, run_sync
from simulator.testing import SimHandle, approved_simulator
from storage.research.markout_queries import RecordedPrices
from storage.sqlite.db import Database
from tests.backtest.test_parity import PARAMS, _record_session, _settings

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def sim() -> Iterator[SimHandle]:
    # Busy noise takers: the market maker's quotes fill within seconds.
    with approved_simulator(seed=17, agents=True, agent_interval_s=0.1, noise_every_s=0.2) as handle:
        yield handle


def _desk_markouts(path: Path) -> list[tuple[tuple, dict[str, tuple[int | None, int | None]]]]:
    """Each fill in match order, (token, side, price, size, matched_at) with horizon -> (mid,
    markout) as the desk's job wrote them."""
    db = Database(path)
    job = MarkoutJob(db)
    while job.run(0):  # every fill the history covers (the job pages through them)
        pass
    with db.read() as conn:
        fills = conn.execute(text("""SELECT id, token_id, side, price, size, matched_at FROM fills
                                     ORDER BY matched_at, trade_id""")).all()
        marks = conn.execute(text("SELECT fill_id, horizon, mid, markout FROM fill_markouts")).all()
    db.dispose()
    by_fill: dict[int, dict[str, tuple[int | None, int | None]]] = {}
    for fill_id, horizon, mid, value in marks:
        by_fill.setdefault(fill_id, {})[horizon] = (mid, value)
    return [(tuple(f[1:]), by_fill.get(f[0], {})) for f in fills]


def test_a_backtest_of_a_recorded_session_reports_the_desks_markouts(tmp_path: Path, sim: SimHandle) -> None:
    db_path, markets, start, end = _record_session(tmp_path, sim, seconds=8)
    desk = _desk_markouts(db_path)
    assert any(marks for _, marks in desk), "the session filled nothing: nothing to compare"
    spec = BacktestSpec("market_making", PARAMS, start, end, tuple(markets), seed=5)
    result = run_sync(spec, db_path, _settings(tmp_path, sim), work_dir=tmp_path / "bt")
    assert len(result.fills) == len(desk)  # the same fills (tests/backtest/test_parity.py)
    recorded = RecordedPrices(db_path)
    same = moved = 0
    # Paired in (token, side, price, size, time) order: trade ids differ between the two runs.
    ours = sorted(result.fills, key=lambda f: (f["token_id"], f["side"], f["price"], f["size"], f["matched_at"]))
    for fill, (key, marks) in zip(ours, sorted(desk, key=lambda d: d[0]), strict=True):
        assert (fill["token_id"], fill["side"], fill["price"], fill["size"]) == key[:4]
        assert abs(fill["matched_at"] - key[4]) < 1_000  # the replay's clock: the recorded event's time
        point = FillPoint(Side(fill["side"]), fill["price"], fill["size"], fill["matched_at"])
        for horizon, after in HORIZONS:
            if fill[f"markout_{horizon}"] is None:  # past the replayed range
                continue
            replayed_mid = recorded.mid_at(key[0], fill["matched_at"] + after)
            assert replayed_mid is not None and fill[f"markout_{horizon}"] == markout(point, replayed_mid)
            if horizon not in marks:  # the desk's job has not marked it (on a loaded machine, the last
                continue  # fill's horizon can end past what the job saw): only horizons both have compare
            mid, value = marks[horizon]
            if replayed_mid != mid:
                moved += 1  # the mid moved between the two fill times: a different later mid
                continue
            assert fill[f"markout_{horizon}"] == value, (key, horizon)
            same += 1
    recorded.close()
    assert same + moved >= 3 and same >= 1, (same, moved)
    assert result.metrics.markout_1s_usdc == sum(f["markout_1s"] or 0 for f in result.fills) / 1_000_000
    assert result.metrics.markout_1s_bps is not None
    for horizon in ("1s", "10s", "60s"):  # each horizon counts the fills it measured, no more
        assert getattr(result.metrics, f"markout_{horizon}_fills") == \
            sum(f[f"markout_{horizon}"] is not None for f in result.fills), horizon
