"""The bounds of a GTD order's expiry: one rule for the ticket, the dashboard, the executor
and the paper venue.

- **The venue's minimum.** Polymarket's own clients refuse an expiration closer than now + 180 s
  (the venue then takes the order off the book about 60 s before it), so a shorter one would
  pass a rehearsal and fail live. The simulator refuses it by default too.
- **Our maximum.** The venue accepts any expiration, even 2**63 or 10**40: an order that rests
  effectively forever, usually because milliseconds were typed where seconds were meant. The
  desk refuses anything more than `GTD_MAX_LEAD_S` (one year) ahead, and names the likely
  mistake when the value reads as unix milliseconds.

Pure: the caller passes the time.
"""

from __future__ import annotations

GTD_MIN_LEAD_S = 180  # the venue's clients refuse an expiration closer than now + 180 s
GTD_MAX_LEAD_S = 365 * 86_400  # ours: one year (the venue itself has no upper bound)
# A unix time in seconds has 10 digits until the year 2286; one in milliseconds has 13 (14 from 2286).
MILLISECONDS = range(10**12, 10**14)


def venue_expiry_problem(expires_at_s: int, now_s: int) -> str | None:
    """What the venue says of this expiration (the paper venue uses it): too soon, or fine."""
    if expires_at_s < now_s + GTD_MIN_LEAD_S:
        return "invalid expiration"
    return None


def expiry_problem(expires_at_s: object, now_s: int) -> str | None:
    """Why a GTD order cannot carry this expiry (unix seconds), or None when it can."""
    if isinstance(expires_at_s, bool) or not isinstance(expires_at_s, int):
        return f"must be a whole number of unix seconds, not {str(expires_at_s)[:40]!r}"
    if expires_at_s in MILLISECONDS:
        return (f"{expires_at_s} looks like unix milliseconds: give unix seconds ({expires_at_s // 1000}), "
                f"at most {GTD_MAX_LEAD_S // 86_400} days ahead")
    if expires_at_s < now_s + GTD_MIN_LEAD_S:
        return (f"a GTD order needs an expiry at least {GTD_MIN_LEAD_S} s ahead (the venue refuses a sooner one); "
                f"{_short(expires_at_s)} is {_lead(expires_at_s - now_s)}")
    if expires_at_s > now_s + GTD_MAX_LEAD_S:
        return (f"at most {GTD_MAX_LEAD_S // 86_400} days ahead (unix seconds); {_short(expires_at_s)} is "
                f"{_lead(expires_at_s - now_s)}")
    return None


def _short(value: int) -> str:
    text = str(value)
    return text if len(text) <= 20 else f"{text[:6]}…({len(text)} digits)"


def _lead(seconds: int) -> str:
    if seconds < 0:
        return f"{-seconds} s in the past"
    if seconds < 3_600:
        return f"{seconds} s ahead"
    if seconds > 100 * GTD_MAX_LEAD_S:
        return "centuries ahead"
    return f"{seconds / 86_400:,.1f} days ahead"
