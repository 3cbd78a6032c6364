"""The poll source: the poll feed the trader names (POLLS_FEED in .env: CSV or JSON, an http(s) URL,
which may carry a key and is redacted from the logs, or a file path) read, each race a market is
linked to averaged by recency and sample (contracts/polls.py says how), and each linked market's
chance posted as a fair value with its confidence, through the same checks and writer as any outside
source (contracts/outside_signals.py, storage/desk/signal_intake.py; `via` cli). The source is then
judged by the model-confidence breaker like any other: benched when its values score badly on
resolved markets.

`python -m engine polls post` posts once; `--every S` keeps posting (each round logged). A feed that
fails or cannot be read posts nothing that round: the values already posted hold until their TTL
and then expire, never a guessed value.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass

from contracts.outside_signals import PostRefused, parse_post
from contracts.polls import PollError, PollFair, PollFeed, Weighting, fair_value, parse_feed
from engine.feeds.outside_file import FeedError, read_bounded
from storage.desk.poll_links import PollLink, list_links
from storage.desk.signal_intake import record_post
from storage.sqlite.db import Database

log = logging.getLogger("engine.outside.polls")
MAX_BYTES = 8 * 1024 * 1024
TIMEOUT_S = 10.0


class PollFeedError(Exception):
    """The feed could not be read or is not in the layout; the message says why (never the URL)."""


async def read_polls(location: str) -> PollFeed:
    try:
        body = await read_bounded(location, setting="POLLS_FEED", what="the poll feed", max_bytes=MAX_BYTES,
                                  timeout_s=TIMEOUT_S, accept="text/csv, application/json")
        return parse_feed(body)
    except (FeedError, PollError) as exc:
        raise PollFeedError(str(exc)) from None


@dataclass(frozen=True, slots=True)
class Posted:
    """What a round did for one linked market: posted (its post id), or why not."""

    link: PollLink
    fair: PollFair | None
    post_id: int | None
    why_not: str = ""


def post_round(db: Database, feed: PollFeed, links: list[PollLink], *, now: int, weighting: Weighting,
               source: str, ttl_s: int, actor: str) -> list[Posted]:
    """Each linked market's fair value from the feed, posted as `source`; a market whose race has no
    usable poll, or whose post is refused (closed, a source name the desk keeps), is skipped with
    the reason and nothing stored for it."""
    done = []
    for link in links:
        fair = fair_value(feed.polls, link.race, link.option, now, weighting)
        if fair is None:
            done.append(Posted(link, None, None, f"no poll of race {link.race!r} that ended by now asks about "
                                                 f"{link.option!r} and a rival"))
            continue
        raw = {"market": link.condition_id, "source": source, "fair_value": f"{fair.probability:.6f}",
               "confidence": f"{fair.confidence:.6f}", "posted_at": now, "nonce": uuid.uuid4().hex,
               "ttl_s": ttl_s, "detail": fair.detail()}
        try:
            accepted = record_post(db, parse_post(raw, now), via="cli", actor=actor, now=now)
        except PostRefused as refused:
            done.append(Posted(link, fair, None, f"refused ({refused.code.value}): {refused.message}"))
            continue
        done.append(Posted(link, fair, accepted.post_id))
    return done


async def keep_posting(db: Database, location: str, *, every_s: float, weighting: Weighting, source: str,
                       ttl_s: int, actor: str, clock_ms: Callable[[], int], rounds: int | None = None) -> None:
    """Post a round every `every_s` seconds (`rounds` of them; None: until cancelled), logging each; the
    links are read again each round (a market linked meanwhile is posted at the next)."""
    done = 0
    while rounds is None or done < rounds:
        try:
            feed = await read_polls(location)
        except PollFeedError as exc:
            log.warning("poll feed not read: nothing posted this round", extra={"error": str(exc)[:300]})
        else:
            now = clock_ms()
            posted = post_round(db, feed, list_links(db), now=now, weighting=weighting, source=source, ttl_s=ttl_s,
                                actor=actor)
            log.info("poll fair values posted", extra={
                "posted": sum(1 for p in posted if p.post_id is not None), "skipped": [p.why_not for p in posted
                                                                                       if p.post_id is None][:5],
                "polls": len(feed.polls), "left_out": feed.left_out})
        done += 1
        if rounds is None or done < rounds:
            await asyncio.sleep(every_s)
