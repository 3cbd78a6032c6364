"""The model-confidence breaker: an outside source of fair values whose calibration has gone bad
stops feeding strategies.

Each source is judged on its last N resolved markets (`source_breaker_markets`, by the markets'
end times): the Brier score of every fair value it posted for them against what one YES paid
(contracts/calibration.py: each market counts once however often the value moved). Above
`source_breaker_max_brier` the source is *benched*: its signals are no longer fair values (the
engine's read leaves them out: storage/engine_stores/trading_reads.py), a warning says why
(`SOURCE_BENCHED`), and its posts are still taken and scored, so a source whose later markets bring
its score back under the limit feeds again (`SOURCE_RESTORED`). A source with fewer than N resolved
markets is not judged yet and feeds. The verdicts are kept in `signal_sources`, written here only.
Every market a source priced counts, traded or not: the job that runs the breaker first records
the resolutions the venue shows for them (engine/trading/settlement/posted_resolutions.py).
"""

from __future__ import annotations

import logging
from collections import defaultdict

from sqlalchemy import Connection

from contracts.calibration import calibrate
from contracts.domain import ONE
from contracts.runtime_settings import RuntimeConfig
from storage.desk.audit import raise_alert
from storage.engine_stores import source_store
from storage.engine_stores.source_store import ScoredPost
from storage.sqlite.db import Database

log = logging.getLogger("engine.risk.source_breaker")
FEEDING, BENCHED = "feeding", "benched"


def judge(posts: list[ScoredPost], markets: int, max_brier: float) -> dict[str, tuple[str, int | None, int, str]]:
    """source -> (state, Brier in micros or None, resolved markets judged, why)."""
    by_source: dict[str, dict[str, list[ScoredPost]]] = defaultdict(lambda: defaultdict(list))
    for post in posts:
        by_source[post[0]][post[1]].append(post)
    verdicts: dict[str, tuple[str, int | None, int, str]] = {}
    for source, by_market in by_source.items():
        last = sorted(by_market.values(), key=lambda rows: (rows[0][4], rows[0][1]))[-markets:]
        if len(last) < markets:
            verdicts[source] = (FEEDING, None, len(last),
                                f"not judged yet: {len(last)} of {markets} resolved markets")
            continue
        brier = calibrate((cid, p, paid) for rows in last for _, cid, p, paid, _ in rows).brier
        assert brier is not None
        worse = brier > max_brier
        verdicts[source] = (BENCHED if worse else FEEDING, round(brier * ONE), len(last),
                            f"Brier {brier:.4f} over its last {len(last)} resolved markets "
                            f"{'above' if worse else 'within'} the limit {max_brier:g}")
    return verdicts


class SourceBreaker:
    def __init__(self, db: Database) -> None:
        self.db = db

    def run(self, config: RuntimeConfig, now: int) -> dict[str, str]:
        """Judge every source once, write the verdicts, alert each change; source -> state."""
        with self.db.write() as conn:
            posts = source_store.resolved_posts(conn)
            before = source_store.states(conn)
            verdicts = judge(posts, config.source_breaker_markets, config.source_breaker_max_brier)
            for source in source_store.posting_sources(conn):
                verdicts.setdefault(source, (FEEDING, None, 0, "not judged yet: no resolved market"))
            for source, (state, brier, count, reason) in sorted(verdicts.items()):
                changed = before.get(source, FEEDING) != state
                source_store.write_verdict(conn, source=source, state=state, brier=brier, markets=count, now=now,
                                           changed=changed or source not in before, reason=reason)
                if changed:
                    self._alert(conn, source, state, reason)
            source_store.prune_posts(conn)
        return {source: verdict[0] for source, verdict in verdicts.items()}

    @staticmethod
    def _alert(conn: Connection, source: str, state: str, reason: str) -> None:
        if state == BENCHED:
            message = f"outside source '{source}' benched: its fair values no longer feed strategies ({reason})"
            raise_alert(conn, level="warning", source="risk", code="SOURCE_BENCHED", message=message, subject=source)
        else:
            raise_alert(conn, level="info", source="risk", code="SOURCE_RESTORED", subject=source,
                        message=f"outside source '{source}' feeds strategies again ({reason})")
        log.warning("outside source %s", state, extra={"source": source, "reason": reason})
