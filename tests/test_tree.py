"""The tests mirror the tree: each engine package has its own folder of tests, `tests/<package>/`,
and no catch-all folder of engine tests comes back."""

from __future__ import annotations

from tests.helpers import ROOT


def _engine_packages() -> list[str]:
    return sorted(p.name for p in (ROOT / "engine").iterdir() if (p / "__init__.py").is_file())


def test_every_engine_package_has_a_folder_of_tests() -> None:
    packages = _engine_packages()
    assert "execution" in packages and "trading" in packages  # really read the tree
    missing = [p for p in packages if not any((ROOT / "tests" / p).glob("test_*.py"))]
    assert missing == []


def test_no_catch_all_folder_of_engine_tests() -> None:
    assert list((ROOT / "tests" / "engine").glob("*.py")) == []  # (a stale __pycache__ may linger)
