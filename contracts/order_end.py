"""Why an order ended, in the operator's words.

The executor records the desk's own cause when it sends a cancel (`orders.end_reason`: a
replace, a pause, a stop, a kill, an exit, a protection, the strategy's own withdrawal, the
operator's cancel); an end the venue decides is read from the order's status and the venue's
words (`error`): filled, expired, refused with its reason, a fill-and-kill's unfilled rest.
`shown` turns both into the one phrase the Orders and Strategies pages show.

An empty intent's `reason` is the cause its orders end for: whoever empties an intent
(a pause, the risk gate, an exit, a game's start) says why with one of the phrases below, and
the executor records it; a strategy's own empty intent keeps the strategy's words
(`withdrawn by its strategy: <its reason>`).
"""

from __future__ import annotations

from contracts.order_status import OrderStatus

FILLED = "filled"
REPLACED = "replaced"
PROTECTION = "pulled by a protection"
PAUSED = "paused"
STOPPED = "stopped"
KILLED = "killed"
EXITED = "exited"
EXPIRED = "expired"
REFUSED = "refused by the venue"
WITHDRAWN = "withdrawn by its strategy"
DROPPED = "strategy stopped trading the market"
DISABLED = "strategy disabled"
OPERATOR = "cancelled by the operator"
MARKET_CLOSED = "market closed"
TAKE_REST = "fill-and-kill: the rest was not filled"
LOST = "lost"

# The causes the desk records itself (a prefix of `end_reason`): an empty intent whose reason
# starts with one of these is taken as said; any other reason is the strategy's own.
DESK_CAUSES = (REPLACED, PROTECTION, PAUSED, STOPPED, KILLED, EXITED, WITHDRAWN, DROPPED, DISABLED, OPERATOR,
               MARKET_CLOSED)
WORKING = frozenset({OrderStatus.PENDING_SUBMIT, OrderStatus.LIVE, OrderStatus.PARTIALLY_FILLED})
TAKES = frozenset({"FAK", "FOK"})


def because(cause: str, detail: str = "") -> str:
    """`cause` with what made it (`pulled by a protection: STALE_DATA`)."""
    return f"{cause}: {detail}" if detail else cause


def of_empty_intent(reason: str) -> str:
    """The end cause an empty intent gives the orders it withdraws."""
    if reason.startswith(DESK_CAUSES):
        return reason
    return because(WITHDRAWN, reason)


def shown(status: str, end_reason: str | None, error: str | None, tif: str, filled: int, size: int) -> str:
    """The phrase an order's row shows: "" while it works; else why it ended (with "partly
    filled" when some of it traded first)."""
    try:
        state = OrderStatus(status)
    except ValueError:
        return status  # a status this code does not know: shown as stored
    if state in WORKING:
        return ""
    if state is OrderStatus.CANCEL_PENDING:
        return f"ending ({end_reason or 'cancel sent'})"
    if state is OrderStatus.FILLED:
        return FILLED if filled >= size else because(FILLED, "in part, the venue killed the rest")
    if state is OrderStatus.REJECTED:
        return because(REFUSED, _venue_words(error) or "no reason given")
    if state is OrderStatus.LOST:
        return because(LOST, error or "")
    ended = _cancelled(end_reason, error, tif)
    return f"{ended} (partly filled)" if filled > 0 else ended


def _cancelled(end_reason: str | None, error: str | None, tif: str) -> str:
    if end_reason:
        return end_reason
    words = _venue_words(error)
    if "EXPIRED" in words.upper():
        return EXPIRED
    if tif in TAKES:
        return TAKE_REST
    return because("cancelled", words)


def _venue_words(error: str | None) -> str:
    return (error or "").removeprefix("ended by the venue: ").strip()
