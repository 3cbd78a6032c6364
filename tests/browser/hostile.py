"""Hostile text everywhere a desk shows text from outside: market questions, tags and reasons (the
venue's, or an imported session's), strategy names and errors, run names, session notes, alerts,
audit rows, the decisions log, news feeds, notification errors, the engine's errors and the
venue's conditions. Each payload tries every way text can become active in a page: HTML with an
event handler, a `</style>` that ends a style element, a CSS string it breaks out of, Markdown
images and links, plotly's pseudo-HTML, LaTeX.

What a browser must show of it (`FOREIGN`, `foreign_rules`): no dialog (every payload calls
alert), no element or attribute a payload made, no style rule that names the canary, and no
request to the canary (a local HTTP server standing in for somebody else's host).
"""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from storage.sqlite.db import now_ms
from tests.dashboard.seed import BTC, ELECTION, RAIN

PAD = " and the rest of a long question that the tables cut, so its hover box holds it whole"


def payload(n: int, canary: str) -> str:
    """Text whose every active part, if it ever became active, calls alert(n) or fetches from the
    canary (`n` tells which field it was)."""
    return (f'<img src=x onerror="alert({n})"> </style><script>alert({n})</script>'
            f'"}} * {{ background: url({canary}/css{n}) }} x {{ content: "'
            f" ![i]({canary}/md{n}) [link](javascript:alert({n})) $\\href{{javascript:alert({n})}}{{x}}$"
            f' <a href="javascript:alert({n})">a</a> :red[red] **bold**{PAD}')


# In the page: elements and attributes only a payload would have made (an inline script of the
# page's own calls no alert; plotly's carry the payloads as data, beside its own calls).
FOREIGN = """[...document.querySelectorAll(
    'img[src="x"], [onerror], [onload], a[href^="javascript"], script:not([src])')]
  .filter(e => e.tagName !== 'SCRIPT' || (e.textContent.includes('alert(') && !e.textContent.includes('Plotly')))
  .map(e => e.outerHTML.slice(0, 200))"""


def foreign_rules(canary: str) -> str:
    """JavaScript: the style declarations of the page that name the canary anywhere but in a
    `content` string (where a cut cell's hover box holds its text: a payload's CSS that got out
    of that string is a declaration of its own)."""
    return f"""[...document.styleSheets]
  .flatMap(s => {{ try {{ return [...s.cssRules]; }} catch (e) {{ return []; }} }})
  .filter(r => r.style && [...r.style].some(p => p !== 'content'
                                               && r.style.getPropertyValue(p).includes({json.dumps(canary)}))).length"""


class Canary:
    """A local host standing in for somebody else's: counts every request it gets."""

    def __init__(self) -> None:
        hits: list[str] = []

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 (the standard library's name)
                hits.append(self.path)
                self.send_response(404)
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self.hits = hits
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, name="canary", daemon=True)

    @classmethod
    @contextmanager
    def running(cls) -> Iterator[Canary]:
        canary = cls()
        canary.thread.start()
        try:
            yield canary
        finally:
            canary.server.shutdown()
            canary.server.server_close()


def make_hostile(path: Path, canary: str) -> str:
    """Put hostile text into every outside-text field of a seeded desk (tests/dashboard/seed.py)
    as the venue, a file, a feed or a careless hand could have written it; returns the name the
    market-making strategy now has."""
    def p(n: int) -> str:
        return payload(n, canary)

    now = now_ms()
    strategy = p(1)
    with sqlite3.connect(path) as conn:
        for n, cid in ((2, BTC), (3, ELECTION), (4, RAIN)):
            conn.execute("UPDATE markets SET question = ?, slug = ?, tags = ?, untradable_reason = ? "
                         "WHERE condition_id = ?", (p(n), p(n + 10), json.dumps([p(n + 20)]), p(n + 30), cid))
        for table in ("strategies", "orders", "fills", "positions"):
            column = "name" if table == "strategies" else "strategy"
            conn.execute(f"UPDATE {table} SET {column} = ? WHERE {column} = 'mm-btc'", (strategy,))
        conn.execute("UPDATE strategies SET last_error = ? WHERE name = 'vb-election'", (p(40),))
        conn.execute("UPDATE engine_state SET last_error = ?, trading_state_reason = ?, kill_latched = 1, "
                     "kill_reason = ?, venue_conditions = ?",
                     (p(41), p(42), p(43), json.dumps([{"code": "VENUE_UNREACHABLE", "detail": p(44), "since": now}])))
        conn.execute("INSERT INTO alerts (created_at, level, source, code, message) VALUES (?, 'critical', ?, ?, ?)",
                     (now, p(45), p(46), p(47)))
        conn.execute("INSERT INTO audit_log (at, actor, action, entity, before, after) VALUES (?, ?, ?, ?, ?, ?)",
                     (now, p(48), p(49), p(50), json.dumps({"note": p(51)}), json.dumps({"note": p(52)})))
        conn.execute("""INSERT INTO decisions (at, mode, strategy, condition_id, side, price, requested, approved,
                            action, reason, detail) VALUES (?, 'paper', ?, ?, 'BUY', 500000, 10000000, 0,
                            'deny', ?, ?)""", (now, strategy, BTC, p(53), p(54)))
        conn.execute("INSERT INTO news_feeds (name, url, polled_at, error, entries, matched, updated_at) "
                     "VALUES (?, ?, ?, ?, 0, 0, ?)", (p(55), p(56), now, p(57), now))
        conn.execute("""INSERT INTO notifications (created_at, channel, kind, level, title, body, status, targets,
                            attempts, last_attempt_at, error) VALUES (?, 'apprise', ?, 'critical', ?, ?, 'failed',
                            '[]', 1, ?, ?)""", (now, "alert", p(58), p(59), now, p(60)))
        conn.execute("""INSERT INTO recording_sessions (name, notes, markets, started_at, stopped_at, origin,
                            created_by, updated_at) VALUES (?, ?, ?, ?, ?, 'imported', ?, ?)""",
                     (p(61), p(62), json.dumps([BTC]), now - 7_200_000, now - 3_600_000, p(63), now))
        conn.execute("UPDATE signals SET detail = ?", (p(64),))
    return strategy
