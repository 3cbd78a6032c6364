"""Delivery straight to NOTIFY_URLS, for the processes that speak when the engine cannot (the
watchdog, the service's failure notice): each message written to stderr (their log, or systemd's
journal) and sent through apprise at once, with a time limit, secrets redacted from whatever is
logged. The engine's own notifier (notifier.py) queues, retries and digests instead."""

from __future__ import annotations

import sys
from collections.abc import Callable

SEND_TIMEOUT_S = 15.0


def deliver_to(urls: list[str], redact: Callable[[str], str]) -> Callable[[str, str, str], None]:
    """A `deliver(title, body, level)` that logs each message and sends it to every URL."""
    from engine.notify.sender import Sender

    sender = Sender(urls, redact) if urls else None
    for problem in sender.problems if sender else ["no NOTIFY_URLS: the message is only logged"]:
        log_line(problem)

    def deliver(title: str, body: str, level: str) -> None:
        log_line(f"{level}: {title}: {body}")
        if sender is not None:
            outcome = sender.send(title, body, level, None, SEND_TIMEOUT_S)
            if not outcome.ok:
                log_line(f"not delivered: {outcome.error()}")
    return deliver


def log_line(line: str) -> None:
    print(line, file=sys.stderr, flush=True)
