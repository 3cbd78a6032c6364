"""One delivery attempt through apprise to some of the configured destinations, with a time limit,
and what each destination answered (its error text passed through the log redactor: never a
token). Imported by the notifier's own thread only: apprise stays out of every other path."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import apprise

from engine.notify.policy import NOTIFY_TYPE

ERROR_CHARS = 300


@dataclass(frozen=True)
class Outcome:
    delivered: list[int]  # destination indexes (positions in NOTIFY_URLS) that took the message
    failed: dict[int, str] = field(default_factory=dict)  # index -> what went wrong (redacted)

    @property
    def ok(self) -> bool:
        return not self.failed

    def error(self) -> str:
        return "; ".join(f"#{i + 1} {why}" for i, why in sorted(self.failed.items()))[:ERROR_CHARS * 2]


class Sender:
    def __init__(self, urls: Sequence[str], redact: Callable[[str], str]):
        self.redact = redact
        self.apprise = apprise.Apprise()
        self.schemes = [url.split("://", 1)[0].lower() for url in urls]
        self.usable: list[int] = []
        self.problems: list[str] = []
        for index, url in enumerate(urls):
            if self.apprise.add(url, tag=_tag(index)):
                self.usable.append(index)
            else:
                self.problems.append(f"NOTIFY_URLS entry {index + 1} ({self.schemes[index]}://…) is not a URL "
                                     "apprise understands; it is skipped (see docs/notifications.md)")

    def send(self, title: str, body: str, level: str, targets: Sequence[int] | None, timeout_s: float) -> Outcome:
        wanted = [i for i in (self.usable if targets is None else targets) if i in self.usable]
        unusable = {i: "not a URL apprise understands" for i in (targets or []) if i not in self.usable}
        if not wanted:
            return Outcome([], unusable or {-1: "no destination apprise understands (NOTIFY_URLS)"})
        result = self.apprise.notify(body=body, title=title, notify_type=NOTIFY_TYPE.get(level, "info"),
                                     tag=[_tag(i) for i in wanted], timeout=timeout_s)
        delivered, failed = [], dict(unusable)
        answered = set()
        for service in result:
            index = _index(service.tag)
            if index is None:
                continue
            answered.add(index)
            if service:
                delivered.append(index)
            else:
                failed[index] = self._why(service)
        for index in set(wanted) - answered:
            failed[index] = "no answer from apprise"
        return Outcome(sorted(delivered), failed)

    def _why(self, service: apprise.NotifyResult) -> str:
        messages = [entry.message for entry in service.logs() if entry.level in ("WARNING", "ERROR", "CRITICAL")]
        status = getattr(service.status, "name", str(service.status)).lower()
        text = f"{service.name} {where(service.url)}: {status}" + (f" ({messages[-1]})" if messages else "")
        return self.redact(" ".join(text.split()))[:ERROR_CHARS]


def where(privacy_url: str) -> str:
    """Where a message went, as the operator may see it: apprise's privacy URL (passwords and
    tokens already masked) without its query and without the user name, which apprise leaves
    in (`json://adv:****@host` showed the account's name)."""
    base = privacy_url.split("?", 1)[0]
    scheme, sep, rest = base.partition("://")
    authority, slash, path = rest.partition("/")
    return f"{scheme}{sep}{authority.rpartition('@')[2]}{slash}{path}"


def _tag(index: int) -> str:
    return f"desk-destination-{index}"


def _index(tags: Sequence[str]) -> int | None:
    for tag in tags:
        if tag.startswith("desk-destination-"):
            return int(tag.rsplit("-", 1)[1])
    return None
