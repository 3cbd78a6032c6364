"""Live: trading stops while the desk cannot see its own fills.

The user channel reports each fill as it happens; while it is down (or back but its missed fills
not yet read back over REST) a resting quote can fill unseen, and a strategy that thinks it is
flat quotes again, and again. Past `fills_dark_s` the desk places nothing (the risk gate refuses
with FILLS_DARK, every decision saying so) and, with `fills_dark_cancel`, cancels the strategies'
resting orders; without it, it leaves them and neither places nor cancels. It alerts once when
this starts and once when fills are back (reconnected and reconciled), and the condition is on
the venue conditions board meanwhile.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from storage.desk.audit import AlertLevel

log = logging.getLogger("engine.trading.core")

CODE, CLEARED = "FILLS_DARK", "FILLS_DARK_CLEARED"


class FillsDark:
    def __init__(self, alert: Callable[[AlertLevel, str, str], None]) -> None:
        self.alert = alert
        self.since: int | None = None  # when the venue's fills went dark, while the desk is holding for it

    def update(self, dark_since: int | None, now: int, *, after_s: int, cancel: bool) -> bool:
        """Whether trading holds now, given since when the venue's fills have been dark (None: they are not)."""
        dark = after_s > 0 and dark_since is not None and now - dark_since >= after_s * 1000
        if dark and self.since is None:
            self.since = dark_since
            what = "its strategies' resting orders are cancelled" if cancel else "resting orders are left as they are"
            self.alert("critical", CODE, f"the user channel, which reports the desk's fills, has been down for "
                                         f"{(now - (dark_since or now)) // 1000} s: no order is placed and {what} "
                                         "until it has reconnected and the fills made meanwhile are read back")
            log.error("fills dark: trading holds", extra={"since": dark_since, "cancel": cancel})
        elif not dark and self.since is not None:
            self.alert("info", CLEARED, f"fills are back after {(now - self.since) // 1000} s (the user channel "
                                        "reconnected and the fills made meanwhile were read back): trading resumes")
            log.warning("fills back: trading resumes")
            self.since = None
        return dark
