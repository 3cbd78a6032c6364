"""Who may change what: the three roles of the dashboard's logins and of the Telegram bot's chats.

- **administrator**: everything, and alone the desk's settings, keys, arming (paper/live, a venue armed on
  its own, promoting a strategy to live), its desk-wide risk limits and its users;
- **operator**: trading and strategies (the engine's controls, orders, exits, strategies and their limits,
  fair values, alerts), optionally on one venue only: then what names another venue, or adds risk across
  the whole desk (start, resume, re-arm), is refused; what lowers it desk-wide (kill, stop, pause) is not;
- **viewer**: sees everything, changes nothing.

Whoever writes without a login (the engine, `python -m engine ...` run by the machine's user, a script)
is the machine's own user: `Access` None, an administrator. The rules here are pure; the storage writers
apply them (`storage.sqlite.db.Database.require`) to what a write touches, before writing, whichever page,
fragment, dialog or bot handler called them: hiding a button is a courtesy, never the check. A dashboard
login's write is made only by a login that exists at that moment with the role it has then
(`Database.write`, storage/desk/dashboard_logins.py): a page drawn before a removal, a demotion or a new
password cannot act on it.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, field
from enum import StrEnum

from contracts.market_filter import SPANS_VENUES
from contracts.venues import LABELS, VENUES, desk_venue, venue_of


class Role(StrEnum):
    ADMIN = "admin"
    OPERATOR = "operator"
    VIEWER = "viewer"


ROLE_WORDS: Mapping[Role, str] = {Role.ADMIN: "administrator", Role.OPERATOR: "operator", Role.VIEWER: "viewer"}


@dataclass(frozen=True)
class Access:
    """A logged-in user (or a Telegram chat) as the writers see it."""

    user: str
    role: Role
    actor: str  # what the audit log names its writes by
    venue: str | None = None  # an operator limited to this venue
    # A dashboard login's credential: a fingerprint of the secret its sessions are signed with (who, with
    # which password; storage/desk/dashboard_logins.py). The writers find such a login again at each write
    # and refuse it when it is gone, has another password, role or venue. None: the machine's user or a
    # Telegram chat (whose role the bot reads from its settings).
    credential: str | None = field(default=None, repr=False)

    @property
    def described(self) -> str:
        """"alice (operator, Kalshi only)": who, as a refusal names them."""
        only = f", {LABELS.get(self.venue, self.venue)} only" if self.venue else ""
        return f"{self.user} ({ROLE_WORDS[self.role]}{only})"


class AccessRefused(PermissionError):
    """A write the role of whoever asked for it does not allow; the message says why, for them."""


class Scope(StrEnum):
    """What a write reaches, which decides who may make it."""

    ADMIN = "admin"  # settings, keys, arming, the desk's risk limits, users
    PROTECTIVE = "protective"  # lowers risk across the desk (kill, stop, pause): any operator
    DESK = "desk"  # adds risk, or acts, across the whole desk: an operator of every venue
    VENUE = "venue"  # acts on the venues it names: an operator of those venues


# Every command kind (contracts/command_kinds.py) by what it reaches; a kind missing here is refused to
# everyone but an administrator, and tests/contracts/test_roles.py fails until it is placed.
COMMAND_SCOPES: Mapping[str, Scope] = {
    "kill": Scope.PROTECTIVE, "stop": Scope.PROTECTIVE, "pause": Scope.PROTECTIVE,
    # Asks the engine to re-read what a permitted write just changed; it changes nothing itself.
    "reload_config": Scope.PROTECTIVE,
    "cancel_order": Scope.VENUE, "flatten": Scope.VENUE, "exit": Scope.VENUE, "place_order": Scope.VENUE,
    "redeem": Scope.VENUE, "merge": Scope.VENUE, "cancel_iceberg": Scope.VENUE, "cancel_trailing_stop": Scope.VENUE,
    "start": Scope.DESK, "resume": Scope.DESK, "rearm": Scope.DESK,
    "set_mode": Scope.ADMIN, "set_venue_mode": Scope.ADMIN, "notify_test": Scope.ADMIN,
    # Money moved between the sections of a venue's account (Kalshi's shards): the administrator's.
    "move_funds": Scope.ADMIN,
}
# Settings (the `settings` table) an operator keeps as part of trading; every other is the administrator's.
OPERATOR_SETTINGS: Mapping[str, Callable[[], str]] = {"followed_wallets": desk_venue}  # the copy strategies' wallets


def why_not(access: Access | None, scope: Scope, venues: Collection[str] = ()) -> str | None:
    """Why `access` may not make a write reaching `scope` (`venues`: those a VENUE write touches; none
    known: the whole desk), or None when it may."""
    if access is None or access.role is Role.ADMIN:
        return None
    if access.role is Role.VIEWER:
        return f"{access.described} is logged in read-only (a viewer sees every page and changes nothing)"
    if scope is Scope.ADMIN:
        return f"it is the administrator's to do, and {access.described} is not one"
    if access.venue is None or scope is Scope.PROTECTIVE:
        return None
    named = set(venues) if scope is Scope.VENUE else set()
    others = sorted(named - {access.venue})
    if named and not others:
        return None
    reach = "acts on the whole desk" if not named else f"touches {', '.join(LABELS.get(v, v) for v in others)}"
    return f"it {reach}, and {access.described} trades that one venue"


def refusal(access: Access | None, what: str, *, scope: Scope, venues: Collection[str] = ()) -> str | None:
    """The refusal of `what` (a phrase: "saving the engine settings") as its writer says it, or None
    when `access` may do it."""
    why = why_not(access, scope, venues)
    return None if why is None else f"{what[:1].upper()}{what[1:]} was refused: {why}, so nothing was changed"


def strategy_venues(kind: str, markets: object) -> frozenset[str]:
    """The venues a strategy trades: those of its listed markets, both for a kind spanning venues,
    the desk's venue for a filter (engine/trading/passes/routing.py routes it so)."""
    if kind in SPANS_VENUES:
        return frozenset(VENUES)
    if isinstance(markets, list) and markets:
        return frozenset(venue_of(m) for m in markets if isinstance(m, str)) or frozenset({desk_venue()})
    return frozenset({desk_venue()})
