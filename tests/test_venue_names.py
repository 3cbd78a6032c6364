"""`engine/trading/` names no venue (issue 58): it reads a venue's policy (contracts/venue_policies.py)
for what differs and asks engine/venues/registry.py for its adapters, so a third venue is an adapter,
a policy and a registry entry, never a branch in the trading layer.

Every mention of a venue's name counts, case-insensitive (so `KALSHI`, `venue == "polymarket"`, a
module `kalshi_x`, a comment "Polymarket's"): zero in every file. (It was a ratchet, files pinned at
their counts, until the last of them, cross-venue arbitrage's legs, named them by role.)
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

from contracts.venues import VENUES
from tests.helpers import ROOT

NAMES = re.compile("|".join(re.escape(venue) for venue in VENUES), re.IGNORECASE)


def trading_files() -> list[Path]:
    return sorted((ROOT / "engine" / "trading").rglob("*.py"))


def venue_names(paths: list[Path]) -> dict[str, int]:
    """Mentions of a venue's name per file (files without any left out)."""
    counts = {}
    for path in paths:
        found = len(NAMES.findall(path.read_text(encoding="utf-8")))
        if found:
            counts[path.relative_to(ROOT).as_posix()] = found
    return counts


def test_the_pattern_catches_every_spelling_of_a_venue() -> None:
    text = 'from contracts.venues import KALSHI\nif venue == "polymarket": pass  # Kalshi nets\nkalshi_netting'
    assert len(NAMES.findall(text)) == 4


def test_engine_trading_names_no_venue() -> None:
    paths = trading_files()
    assert len(paths) > 20, "the walk found almost no file: is engine/trading/ where it was?"
    found = venue_names(paths)
    assert found == {}, (
        f"venue names in engine/trading/: {found}. Read the venue's policy (contracts/venue_policies.py) "
        "or ask engine/venues/registry.py instead, and say what, not which venue, in comments")


# A branch on a venue: a line of an `if`, `elif`, `while` or conditional expression that names a venue by its
# constant (`KALSHI`), a string ("kalshi", "kalshi:"; not a key read out of a row: `row["kalshi"]`), or an
# attribute of its own (`settings.kalshi`).
BRANCH = re.compile(r"\bif\b|\belif\b|\bwhile\b")
NAMED = re.compile("|".join(rf"\b{re.escape(venue.upper())}\b|(?<!\[)[\"']{re.escape(venue)}\b|\.{re.escape(venue)}\b"
                            for venue in VENUES))
DESK_FLOORS = ("engine", "contracts", "storage", "pages")
# The branches on a venue's name left outside the venues' folders, each for a reason.
ALLOWED_BRANCHES: dict[str, str] = {
    "contracts/settings.py": "the settings read each venue's own section (its host, its key, hidden from logs) and "
                             "whether the hosts are the simulator's or the real venue's",
    "engine/cli/research.py": "history import's --kalshi option, the command line of that venue's history import",
    "engine/main.py": "kalshi-preflight, that venue's own command, records its run",
    "engine/strategies/cross_venue_arb.py": "cross-venue arbitrage is the pair itself: Polymarket against Kalshi",
}


def venue_branches() -> dict[str, int]:
    """Branches on a venue per file, outside the venues' own folders (`*/venues/<venue>/`)."""
    paths = [ROOT / "app.py", *(p for floor in DESK_FLOORS for p in sorted((ROOT / floor).rglob("*.py")))]
    counts = {}
    for path in paths:
        parts = path.relative_to(ROOT).parts
        if any(a == "venues" and b in VENUES for a, b in zip(parts, parts[1:], strict=False)):
            continue
        lines = [line.split("#", 1)[0] for line in path.read_text(encoding="utf-8").splitlines()]
        found = sum(1 for line in lines if BRANCH.search(line) and NAMED.search(line))
        if found:
            counts[path.relative_to(ROOT).as_posix()] = found
    return counts


def test_the_branch_pattern_catches_a_branch_on_a_venue() -> None:
    lines = ['if venue == KALSHI:', 'unit = "pUSD" if venue == "polymarket" else "USD"',
             'elif settings.kalshi is not None:', 'if x.startswith("kalshi:"):', 'kalshi = mode_of(KALSHI)',
             'if kalshi != mode:', 'x = row["kalshi"] if row else None']
    assert [bool(BRANCH.search(line) and NAMED.search(line)) for line in lines] == [True] * 4 + [False] * 3


def test_outside_the_venues_folders_only_the_listed_branches_name_a_venue() -> None:
    found = venue_branches()
    assert sum(found.values()) <= 6, f"more branches on a venue than the handful allowed: {found}"
    assert set(found) == set(ALLOWED_BRANCHES), (
        f"branches on a venue's name outside */venues/<venue>/: {found}. Read the venue's policy "
        "(contracts/venue_policies.py) or ask engine/venues/registry.py, or list the file here with its reason")


# A venue's services (its hosts: the settings its adapter lists as `services`, engine/venues/adapter.py) are
# named only in its own packages (`*/venues/<venue>/`): a module elsewhere that reads one of those settings
# (`settings.gamma_host`, `self.settings.kalshi`), imports a venue's engine package or names it in a string
# (an import by name) asks the venue's adapter instead (engine/venues/registry.py: the desk venue's market
# data, the pairs' feeds, a venue's own feed), or is listed here with its reason.
ALLOWED_SERVICES: dict[str, str] = {
    "contracts/settings.py": "the settings: each venue's hosts read from the environment (and its keys kept from "
                             "the logs)",
    "engine/venues/registry.py": "the registry lines: each venue's adapter",
    "engine/main.py": "the composition root: each venue's own commands (its preflight and its record, a deposit "
                      "wallet's funder, a key's watch)",
    "engine/cli/deposit_wallet.py": "the wallet's deposit wallet, deployed through the venue's relayer",
    "engine/cli/pairs.py": "the operator's pairs: the two venues' markets read side by side",
    "engine/cli/pair_spreads.py": "what each pair's spread locks in: both venues' books read",
    "engine/cli/pair_suggest.py": "pairs suggested: the paired venue's listing read",
    "engine/cli/research.py": "each venue's history and archive imports, by their command-line options",
    "engine/cli/wallets.py": "the wallet finder, of the venue whose wallets the desk follows",
}
VENUE_PACKAGE = re.compile(rf"engine\.venues\.({'|'.join(map(re.escape, VENUES))})(\.\w+)*")


def _service_settings() -> dict[str, str]:
    from engine.venues.registry import ADAPTERS

    return {name: venue for venue, adapter in ADAPTERS.items() for name in adapter.services}


def service_names(source: str, services: dict[str, str]) -> list[str]:
    """What a module's source names of a venue's services: a service setting read off the settings, a venue's
    engine package imported, or named whole in a string."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Attribute) and node.attr in services and ast.unparse(node.value).endswith("settings"):
            found.append(f"{services[node.attr]}'s {ast.unparse(node)}")
        names: list[str] = []
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            names = [node.module, *(f"{node.module}.{alias.name}" for alias in node.names)]
        elif isinstance(node, ast.Constant) and isinstance(node.value, str):
            names = [node.value]
        found += [name for name in names if VENUE_PACKAGE.fullmatch(name)]
    return found


def venue_services() -> dict[str, list[str]]:
    """What each module outside the venues' own folders names of a venue's services (files without any left out)."""
    services = _service_settings()
    counts = {}
    for path in [ROOT / "app.py", *(p for floor in DESK_FLOORS for p in sorted((ROOT / floor).rglob("*.py")))]:
        parts = path.relative_to(ROOT).parts
        if any(a == "venues" and b in VENUES for a, b in zip(parts, parts[1:], strict=False)):
            continue
        found = service_names(path.read_text(encoding="utf-8"), services)
        if found:
            counts[path.relative_to(ROOT).as_posix()] = sorted(set(found))
    return counts


def test_the_service_check_catches_a_module_naming_a_venues_services() -> None:
    services = _service_settings()
    assert {"gamma_host", "clob_host", "kalshi"} <= set(services)  # each built-in venue lists its services
    planted = ("from engine.venues.polymarket.rest import RestClient\nimport engine.venues.kalshi.client\n"
               "from engine.venues import polymarket\nmodule = 'engine.venues.polymarket.discovery'\n"
               "client = RestClient(link.settings.gamma_host)\nhost = self.settings.kalshi.host\n")
    assert service_names(planted, services) == [
        "engine.venues.polymarket.rest", "engine.venues.polymarket.rest.RestClient", "engine.venues.kalshi.client",
        "engine.venues.polymarket", "engine.venues.polymarket.discovery", "polymarket's link.settings.gamma_host",
        "kalshi's self.settings.kalshi"]
    harmless = ("from engine.venues.registry import adapter_of\nx = one.kalshi.market\nsay('engine/venues/kalshi/')\n"
                "data = self.market_data.feed()\n")
    assert service_names(harmless, services) == []


def test_outside_the_venues_folders_only_the_listed_modules_name_a_venues_services() -> None:
    found = venue_services()
    assert set(found) == set(ALLOWED_SERVICES), (
        f"modules outside */venues/<venue>/ naming a venue's services: "
        f"{ {k: v for k, v in found.items() if k not in ALLOWED_SERVICES} }. Ask the venue's adapter through "
        "engine/venues/registry.py (the desk venue's market data, the pairs' feeds), or list the module here with "
        f"its reason; listed but naming none: {sorted(set(ALLOWED_SERVICES) - set(found))}")


# The desk's own venue and the venue the pairs link to are registry data (`VenuePolicy.desk`, `.paired`), read when
# asked (contracts/venues/__init__.py `desk_venue()`, `paired_venue()`): a venue registered later may take a role.
# The constants they replaced, kept for one release for code written against them, are named nowhere else.
ROLE_CONSTANTS = re.compile(r"\b(?:DESK_VENUE|PAIRED_VENUE)\b")
ROLE_CONSTANTS_KEPT = {"contracts/venues/__init__.py", "contracts/venue_policies.py"}


def test_the_desk_venue_and_the_paired_venue_are_read_from_the_registry_when_asked() -> None:
    paths = [ROOT / "app.py", *(p for floor in DESK_FLOORS for p in sorted((ROOT / floor).rglob("*.py")))]
    found = {path.relative_to(ROOT).as_posix() for path in paths
             if ROLE_CONSTANTS.search(path.read_text(encoding="utf-8"))}
    assert found == ROLE_CONSTANTS_KEPT, (
        f"DESK_VENUE or PAIRED_VENUE named in {sorted(found - ROLE_CONSTANTS_KEPT)}: read desk_venue() or "
        "paired_venue() (contracts/venues/__init__.py) when the role is needed, not at import")
