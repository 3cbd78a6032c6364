"""The dashboard's sweep reads never write to a sweeps file, even one a sweep is creating."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import optuna

from storage.research.sweep_queries import sweep_list, sweep_view, sweeps_url


def _rows(path: Path, sql: str) -> list[tuple[object, ...]]:
    with sqlite3.connect(path) as conn:
        return conn.execute(sql).fetchall()


def test_a_sweeps_file_still_being_created_reads_as_no_sweeps_and_is_not_written(tmp_path: Path) -> None:
    path = tmp_path / "trader-sweeps.db"
    url = sweeps_url(tmp_path / "trader.db")
    assert url.endswith(str(path))
    optuna.logging.set_verbosity(optuna.logging.ERROR)
    optuna.create_study(study_name="mm", storage=url)
    # The moment a sweep has written Optuna's version row but not yet stamped its schema
    # revision: a reader that went on would stamp it itself and race the sweep.
    ((revision,),) = _rows(path, "SELECT version_num FROM alembic_version")
    with sqlite3.connect(path) as conn:
        conn.execute("DELETE FROM alembic_version")
    assert sweep_list(url).empty and sweep_view(url, "mm") is None
    assert _rows(path, "SELECT COUNT(*) FROM alembic_version") == [(0,)]
    # Once the sweep has stamped it, the study reads.
    with sqlite3.connect(path) as conn:
        conn.execute("INSERT INTO alembic_version (version_num) VALUES (?)", (revision,))
    assert list(sweep_list(url)["name"]) == ["mm"] and sweep_view(url, "mm") is not None
