"""Fixtures shared by the storage tests."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from storage.sqlite.db import Database
from storage.sqlite.migrations import migrate


@pytest.fixture
def db(tmp_path: Path) -> Iterator[Database]:
    """A freshly migrated database file of its own (a test module may define its own `db`)."""
    migrate(tmp_path / "desk.db")
    database = Database(tmp_path / "desk.db")
    yield database
    database.dispose()
