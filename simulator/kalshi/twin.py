"""Kalshi markets asking questions the Polymarket side serves, worded as Kalshi words them, so linking a
pair, the desk's pair suggestions and cross-venue arbitrage can be rehearsed offline (`--kalshi-no-pair`
leaves them out).

The first is the twin of the Polymarket market "Will the Fed increase interest rates by 25 bps after
its February meeting?" (one of the simulator's Fed group), closing when it ends: the pair the
rehearsal links (`pairs find "fed 25 bps february"`). The others ask a served question in other words
and close later than the Polymarket market does, as real pairs' close times differ: the Fed's 50 bps
(its figure in "basis points", the Fed as "the FOMC"), Trump's 2024 nomination, Haaland's record. One
more only looks like a served question (the Fed holding in **March**: a month none of the Polymarket
markets names), for a suggester to leave out.

Each is a market of a simulated series of its own, its house ladder centred on its Polymarket twin's
starting belief. The ladder then stands while the Polymarket side moves with its news: the two
venues' prices drift apart as a real pair's do, and the gap is what an arbitrage acts on.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from typing import Protocol

from .units import MICRO

SERIES = "KXSIMFED"
POLYMARKET_QUESTION = "Will the Fed increase interest rates by 25 bps after its February meeting?"
TITLE = "Will the Federal Reserve hike rates by 25 bps at its February meeting?"
SUB_TITLE = "+25 bps"
RULES = ("If the Federal Reserve raises the upper bound of the target federal funds range by 25 basis points at "
         "its February meeting, the market resolves to Yes; any other decision resolves it to No.")
SOURCE = ("The FOMC's statement after its February meeting (federalreserve.gov); here settled by the simulator's "
          "admin API (/_sim/kalshi/markets/{ticker}/...).")
CENT = 10_000  # micro-dollars
DAY_S = 86_400.0
ADMIN = "here settled by the simulator's admin API (/_sim/kalshi/markets/{ticker}/...)."


class Served(Protocol):
    question: str
    latent: float


@dataclass(frozen=True)
class Twin:
    title: str
    sub_title: str
    rules: str
    source: str
    mid: int  # micro-dollars, on the cent grid: where the house ladder is centred
    series: str = SERIES
    event_title: str = "Fed decision in February"
    suffix: str = "H25"  # the ticker's last part: <series>-<close day>-<suffix>
    later_s: float = 0.0  # closes this much after the Polymarket market ends


@dataclass(frozen=True)
class Spec:
    """A Kalshi market and the Polymarket question it asks ("": none, a lookalike)."""

    question: str
    twin: Twin


# The mids of these are their Polymarket twin's starting belief (a lookalike's its own).
SPECS = (
    Spec(POLYMARKET_QUESTION, Twin(TITLE, SUB_TITLE, RULES, SOURCE, 0)),
    Spec("Will the Fed increase interest rates by 50 bps after its February meeting?", Twin(
        "Will the FOMC raise the federal funds rate by 50 basis points in February?", "+50 bps",
        "If the FOMC raises the target range for the federal funds rate by exactly 50 basis points at its February "
        "meeting, the market resolves to Yes. Settles on the FOMC's statement, released after the meeting.",
        f"The FOMC's statement (federalreserve.gov); {ADMIN}", 0, "KXSIMFOMC", "FOMC in February", "B50", DAY_S)),
    Spec("Will Donald J. Trump win the U.S. 2024 Republican presidential nomination?", Twin(
        "Donald Trump to be the Republican nominee for President in 2024?", "Trump",
        "Resolves to Yes if Donald Trump is formally nominated as the Republican Party's candidate for President "
        "of the United States for the 2024 election at the party's national convention.",
        f"The Republican National Convention's roll call; {ADMIN}", 0, "KXSIMGOP", "2024 Republican nominee", "DJT",
        3 * DAY_S)),
    Spec("Will Erling Haaland break the Premier League goals record in the 22/23 season? (34 goals)", Twin(
        "Haaland to break the Premier League record of 34 goals in the 22/23 season?", "35+ goals",
        "Resolves to Yes if Erling Haaland scores more than 34 Premier League goals in the 22/23 season, as the "
        "Premier League's official statistics count them when the season ends.",
        f"premierleague.com's player statistics; {ADMIN}", 0, "KXSIMEPL", "Premier League golden boot", "EH",
        14 * DAY_S)),
    Spec("", Twin(
        "Will the Federal Reserve hold rates at its March meeting?", "Hold",
        "Resolves to Yes if the FOMC leaves the target range for the federal funds rate unchanged at its March "
        "meeting.", f"The FOMC's statement (federalreserve.gov); {ADMIN}", 60 * CENT, "KXSIMFEDMAR",
        "Fed decision in March", "HOLD", 40 * DAY_S)),
)


def _mid(latent: float) -> int:
    return min(95 * CENT, max(5 * CENT, round(latent * MICRO / CENT) * CENT))


def twins_of(markets: Iterable[Served]) -> tuple[Twin, ...]:
    """The Kalshi markets asking the questions the Polymarket side serves (each only when it serves its
    twin), the Fed's 25 bps first, and the lookalike; none when the Fed's 25 bps is not served."""
    served = {m.question: m for m in markets}
    if POLYMARKET_QUESTION not in served:
        return ()
    out = []
    for spec in SPECS:
        if not spec.question:
            out.append(spec.twin)
        elif (found := served.get(spec.question)) is not None:
            out.append(replace(spec.twin, mid=_mid(found.latent)))
    return tuple(out)


def twin_of(markets: Iterable[Served]) -> Twin | None:
    """The Kalshi twin of the Polymarket Fed market (25 bps), when the Polymarket side serves it."""
    found = twins_of(markets)
    return found[0] if found else None
