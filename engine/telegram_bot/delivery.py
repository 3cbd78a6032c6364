"""Delivering the notifications the engine's notifier queued for the `telegram` channel, to every
allowed chat: the oldest due message, one attempt; a chat that failed is tried again after the
notifier's doubling back-off (that chat only), and a message that fails ATTEMPTS times is marked
failed with a NOTIFY_FAILED alert (one per run of failures, like the apprise channel).

A message queued more than an hour before the bot read it (the bot was stopped) is not sent on
its own: it is marked failed, and one line says how many were skipped. The queue functions are
the notifier's own (storage/engine_stores/notify_store.py), so both channels keep one table the same way.
"""

from __future__ import annotations

import asyncio
import html
import logging
from collections.abc import Callable
from typing import Any

from telegram.constants import ParseMode
from telegram.error import TelegramError

from contracts.settings import Settings, TelegramSettings
from engine.notify import policy
from storage.desk.audit import raise_alert
from storage.engine_stores import notify_store
from storage.sqlite.db import Database, now_ms

log = logging.getLogger("engine.telegram_bot.delivery")
CHANNEL = "telegram"
SEND_TIMEOUT_S = 15.0
ERROR_CHARS = 300
STALE_ERROR = "older than an hour when the bot read it"


class Delivery:
    def __init__(self, settings: Settings, telegram: TelegramSettings, redact: Callable[[str], str],
                 database: Callable[[], Database], *, clock: Callable[[], int] = now_ms):
        self.settings = settings
        self.chats = sorted(telegram.allowed_chats)
        self.redact = redact
        self.database = database
        self.clock = clock
        self._failing = False

    async def deliver_next(self, bot: Any) -> bool:
        """Send the oldest due message; False when nothing is due (or the database is not ready)."""
        if not self.settings.db_path.exists():
            return False
        now = self.clock()
        message, skipped = await asyncio.to_thread(self._next, now)
        if skipped:
            await self._send_all(bot, self.chats, "", f"{skipped} notification{'s' if skipped != 1 else ''} "
                                 "queued while the bot was stopped were older than an hour and not sent (the "
                                 "Settings page lists them).")
        if message is None:
            return bool(skipped)
        targets = [self.chats[i] for i in (message.targets or range(len(self.chats))) if i < len(self.chats)]
        failed = await self._send_all(bot, targets, message.title, message.body)
        await asyncio.to_thread(self._record, message, failed)
        return True

    def _next(self, now: int) -> tuple[notify_store.Queued | None, int]:
        """The next due message (a read: no write lock is taken while there is nothing to send),
        after marking what waited too long."""
        before = now - policy.STALE_MS
        with self.database().read() as conn:
            if not notify_store.any_queued_before(conn, CHANNEL, before):
                return notify_store.next_due(conn, now, CHANNEL), 0
        with self.database().write() as conn:
            stale = notify_store.fail_queued_before(conn, CHANNEL, before, STALE_ERROR)
            return notify_store.next_due(conn, now, CHANNEL), stale

    async def _send_all(self, bot: Any, chats: list[int], title: str, body: str) -> dict[int, str]:
        text = self.redact(f"<b>{html.escape(title)}</b>\n{html.escape(body)}" if title else html.escape(body))
        failed: dict[int, str] = {}
        for chat in chats:
            try:
                await asyncio.wait_for(bot.send_message(chat, text[:4000], parse_mode=ParseMode.HTML),
                                       SEND_TIMEOUT_S)
            except (TelegramError, TimeoutError) as exc:
                failed[chat] = self.redact(f"{type(exc).__name__}: {exc}")[:ERROR_CHARS]
        return failed

    def _record(self, message: notify_store.Queued, failed: dict[int, str]) -> None:
        attempts = message.attempts + 1
        done = self.clock()
        error = "; ".join(f"chat {chat}: {why}" for chat, why in sorted(failed.items())) or None
        if not failed:
            fields: dict[str, Any] = {"status": "sent"}
        elif attempts >= policy.ATTEMPTS:
            fields = {"status": "failed", "error": error}
        else:
            fields = {"status": "queued", "error": error,
                      "next_at": done + int(policy.backoff_s(attempts) * 1000),
                      "targets": [self.chats.index(c) for c in failed]}
        with self.database().write() as conn:
            notify_store.record_attempt(conn, message.id, done, attempts=attempts, **fields)
            if fields["status"] == "failed" and not self._failing:
                raise_alert(conn, level="warning", source="telegram", code="NOTIFY_FAILED",
                            message=f"a {message.kind} notification ({message.title}) was not delivered by the "
                                    f"Telegram bot after {attempts} attempts: {error}")
        if fields["status"] == "failed":
            self._failing = True
            log.warning("notification not delivered", extra={"notification_id": message.id, "error": error})
        elif not failed:
            self._failing = False
