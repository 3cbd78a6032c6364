"""A local stand-in for Telegram's Bot API on 127.0.0.1 (python-telegram-bot takes its base URL):
long-polled getUpdates, sendMessage, editMessageText, answerCallbackQuery, getMe, deleteWebhook,
setMyCommands. It is at least as strict as the real one where the bot could go wrong: a wrong
token is 401; HTML that Telegram could not parse, text over 4096 characters, callback data over
64 bytes, an edit that changes nothing, an unknown chat or message are 400s, and every refusal
is recorded so a test can fail on it.

Tests play the people: `send` types a message into a chat, `press` taps an inline button of a
message the bot sent; `messages`/`wait_for` read what the bot said (edits included).
"""

from __future__ import annotations

import asyncio
import json
import re
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from html.parser import HTMLParser
from typing import Any

from aiohttp import web

from tests.helpers import wait_until

BOT_ID = 7_000_000_001
TEXT_LIMIT = 4096
CALLBACK_LIMIT = 64
ALLOWED_TAGS = {"b", "strong", "i", "em", "u", "ins", "s", "strike", "del", "code", "pre", "a", "span",
                "tg-spoiler", "blockquote"}
_ENTITY = re.compile(r"&(lt|gt|amp|quot|#[0-9]+|#x[0-9a-fA-F]+);")


class BadHtml(ValueError):
    pass


class _Checker(HTMLParser):
    """Telegram's HTML: known tags only, properly nested; returns the visible text."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.stack: list[str] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag not in ALLOWED_TAGS:
            raise BadHtml(f"Unsupported start tag \"{tag}\"")
        self.stack.append(tag)

    def handle_endtag(self, tag: str) -> None:
        if not self.stack or self.stack.pop() != tag:
            raise BadHtml(f"Unexpected end tag \"{tag}\"")

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def visible_text(text: str, parse_mode: str | None) -> str:
    if parse_mode != "HTML":
        return text
    stray = re.sub(r"</?[a-zA-Z][a-zA-Z0-9-]*(\s[^<>]*)?>", "", text)
    if "<" in stray or ">" in stray:
        raise BadHtml("Can't parse entities: unescaped < or >")
    if "&" in _ENTITY.sub("", stray):
        raise BadHtml("Can't parse entities: unescaped &")
    checker = _Checker()
    checker.feed(text)
    checker.close()
    if checker.stack:
        raise BadHtml(f"Can't find end tag corresponding to start tag \"{checker.stack[-1]}\"")
    return "".join(checker.text)


@dataclass
class Sent:
    chat_id: int
    message_id: int
    text: str  # as the person reads it (tags gone, entities decoded)
    buttons: list[tuple[str, str]]  # (label, callback data) shown now
    edits: list[str] = field(default_factory=list)
    ever: list[tuple[str, str]] = field(default_factory=list)  # every button it ever showed

    def __post_init__(self) -> None:
        self.ever = list(self.buttons)

    @property
    def current(self) -> str:
        return self.edits[-1] if self.edits else self.text


class BotApi:
    def __init__(self, token: str):
        self.token = token
        self.updates: list[dict[str, Any]] = []
        self.sent: list[Sent] = []
        self.answers: list[dict[str, Any]] = []
        self.refused: list[str] = []
        self.calls: list[str] = []
        self._next_update = 1
        self._next_message = 1000
        self._lock = threading.Lock()
        self.loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self.port = 0
        self._runner: web.AppRunner | None = None
        self._arrived: asyncio.Event | None = None
        self._polls_ended = False  # set while a bot is being stopped: long polls answer at once

    # -- lifecycle ----------------------------------------------------------------------------

    def start(self) -> BotApi:
        threading.Thread(target=self._serve, daemon=True, name="bot-api").start()
        if not self._ready.wait(10):
            raise RuntimeError("the Bot API stand-in did not start")
        return self

    def _serve(self) -> None:
        asyncio.set_event_loop(self.loop)

        async def up() -> None:
            self._arrived = asyncio.Event()
            app = web.Application()
            app.router.add_route("*", "/bot{token}/{method}", self._handle)
            self._runner = web.AppRunner(app, access_log=None)
            await self._runner.setup()
            site = web.TCPSite(self._runner, "127.0.0.1", 0)
            await site.start()
            self.port = site._server.sockets[0].getsockname()[1]

        self.loop.run_until_complete(up())
        self._ready.set()
        self.loop.run_forever()

    def stop(self) -> None:
        async def down() -> None:
            if self._runner is not None:
                await self._runner.cleanup()

        asyncio.run_coroutine_threadsafe(down(), self.loop).result(10)
        self.loop.call_soon_threadsafe(self.loop.stop)

    def end_polls(self) -> None:
        """Answer every long poll now and from now on (a bot being stopped would otherwise wait out
        its poll's timeout, 10 s, before it exits: the tests stop many bots)."""
        self._polls_ended = True
        assert self._arrived is not None
        self.loop.call_soon_threadsafe(self._arrived.set)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/bot"

    # -- the people -----------------------------------------------------------------------------

    def _push(self, update: dict[str, Any]) -> None:
        with self._lock:
            update["update_id"] = self._next_update
            self._next_update += 1
            self.updates.append(update)
        assert self._arrived is not None
        self.loop.call_soon_threadsafe(self._arrived.set)

    def send(self, chat_id: int, text: str, *, user_id: int | None = None, username: str = "trader",
             sent_at: float | None = None) -> None:
        """A person types `text` into the private chat `chat_id`."""
        with self._lock:
            self._next_message += 1
            message_id = self._next_message
        command = text.startswith("/")
        entities = [{"type": "bot_command", "offset": 0, "length": len(text.split()[0])}] if command else []
        self._push({"message": {
            "message_id": message_id, "date": int(sent_at if sent_at is not None else time.time()),
            "chat": {"id": chat_id, "type": "private"},
            "from": {"id": user_id or chat_id, "is_bot": False, "first_name": "T", "username": username},
            "text": text, "entities": entities}})

    def press(self, message: Sent, label_starts: str, *, user_id: int | None = None) -> None:
        """A person taps the button of `message` whose label starts with `label_starts` (even one
        the bot has since removed: an old client, or a replay)."""
        data = next(d for label, d in message.ever if label.startswith(label_starts))
        self._push({"callback_query": {
            "id": f"cq{time.monotonic_ns()}", "chat_instance": "ci",
            "from": {"id": user_id or message.chat_id, "is_bot": False, "first_name": "T"},
            "message": {"message_id": message.message_id, "date": int(time.time()),
                        "chat": {"id": message.chat_id, "type": "private"}, "text": message.text,
                        "from": {"id": BOT_ID, "is_bot": True, "first_name": "Desk"}},
            "data": data}})

    # -- reading what the bot did -----------------------------------------------------------------

    def messages(self, chat_id: int) -> list[Sent]:
        with self._lock:
            return [m for m in self.sent if m.chat_id == chat_id]

    def wait_for(self, chat_id: int, predicate: Callable[[Sent], bool], timeout: float = 20.0,
                 what: str = "a message") -> Sent:
        return wait_until(lambda: next((m for m in self.messages(chat_id) if predicate(m)), None), timeout, 0.05,
                          f"{what} in chat {chat_id}; the bot sent: {[m.current for m in self.messages(chat_id)]}")

    # -- the API --------------------------------------------------------------------------------

    async def _handle(self, request: web.Request) -> web.Response:
        if request.match_info["token"] != self.token:
            return web.json_response({"ok": False, "error_code": 401, "description": "Unauthorized"}, status=401)
        method = request.match_info["method"]
        self.calls.append(method)
        params = await _params(request)
        handler = getattr(self, f"_api_{method}", None)
        if handler is None:
            return _error(404, "Not Found: method not found")
        try:
            return web.json_response({"ok": True, "result": await handler(params)})
        except BadRequest as exc:
            self.refused.append(f"{method}: {exc}")
            return _error(400, f"Bad Request: {exc}")

    async def _api_getMe(self, params: dict[str, Any]) -> Any:  # noqa: N802 (the API's names)
        return {"id": BOT_ID, "is_bot": True, "first_name": "Desk", "username": "desk_test_bot",
                "can_join_groups": False, "can_read_all_group_messages": False, "supports_inline_queries": False}

    async def _api_deleteWebhook(self, params: dict[str, Any]) -> Any:  # noqa: N802
        if params.get("drop_pending_updates") in (True, "true", "True"):
            with self._lock:
                self.updates.clear()
        return True

    async def _api_setMyCommands(self, params: dict[str, Any]) -> Any:  # noqa: N802
        for command in _json(params.get("commands")) or []:
            if not re.fullmatch(r"[a-z0-9_]{1,32}", command.get("command", "")) or not (
                    1 <= len(command.get("description", "")) <= 256):
                raise BadRequest(f"BOT_COMMAND_INVALID: {command}")
        return True

    async def _api_getUpdates(self, params: dict[str, Any]) -> Any:  # noqa: N802
        offset = int(params.get("offset") or 0)
        deadline = time.monotonic() + min(float(params.get("timeout") or 0), 30.0)
        assert self._arrived is not None
        while True:
            with self._lock:
                self.updates = [u for u in self.updates if u["update_id"] >= offset]  # confirmed ones are gone
                ready = list(self.updates)
                self._arrived.clear()
            if ready or self._polls_ended or time.monotonic() >= deadline:
                return ready
            try:
                await asyncio.wait_for(self._arrived.wait(), max(0.01, deadline - time.monotonic()))
            except TimeoutError:
                pass

    async def _api_sendMessage(self, params: dict[str, Any]) -> Any:  # noqa: N802
        chat_id = int(params["chat_id"])
        text = visible(params)
        buttons = _buttons(params)
        with self._lock:
            self._next_message += 1
            sent = Sent(chat_id, self._next_message, text, buttons)
            self.sent.append(sent)
        return _message(sent, text)

    async def _api_editMessageText(self, params: dict[str, Any]) -> Any:  # noqa: N802
        chat_id, message_id = int(params["chat_id"]), int(params["message_id"])
        text = visible(params)
        with self._lock:
            found = next((m for m in self.sent if m.chat_id == chat_id and m.message_id == message_id), None)
            if found is None:
                raise BadRequest("message to edit not found")
            if text == found.current and _buttons(params) == found.buttons:
                raise BadRequest("message is not modified: specified new message content and reply markup are "
                                 "exactly the same as a current content and reply markup of the message")
            found.edits.append(text)
            found.buttons = _buttons(params)
            found.ever += found.buttons
        return _message(found, text)

    async def _api_answerCallbackQuery(self, params: dict[str, Any]) -> Any:  # noqa: N802
        self.answers.append({"id": params.get("callback_query_id"), "text": params.get("text"),
                             "show_alert": params.get("show_alert")})
        return True


class BadRequest(Exception):
    pass


def visible(params: dict[str, Any]) -> str:
    text = str(params.get("text", ""))
    try:
        shown = visible_text(text, params.get("parse_mode"))
    except BadHtml as exc:
        raise BadRequest(str(exc)) from None
    if not shown.strip():
        raise BadRequest("message text is empty")
    if len(shown) > TEXT_LIMIT:
        raise BadRequest("message is too long")
    return shown


def _json(raw: Any) -> Any:
    return json.loads(raw) if isinstance(raw, str) else raw


def _buttons(params: dict[str, Any]) -> list[tuple[str, str]]:
    markup = _json(params.get("reply_markup")) or {}
    out = []
    for row in markup.get("inline_keyboard", []):
        for button in row:
            data = button.get("callback_data", "")
            if len(data.encode()) > CALLBACK_LIMIT:
                raise BadRequest("BUTTON_DATA_INVALID")
            out.append((button["text"], data))
    return out


def _message(sent: Sent, text: str) -> dict[str, Any]:
    return {"message_id": sent.message_id, "date": int(time.time()), "text": text,
            "chat": {"id": sent.chat_id, "type": "private"},
            "from": {"id": BOT_ID, "is_bot": True, "first_name": "Desk"}}


def _error(code: int, description: str) -> web.Response:
    return web.json_response({"ok": False, "error_code": code, "description": description}, status=code)


async def _params(request: web.Request) -> dict[str, Any]:
    params: dict[str, Any] = dict(request.query)
    if request.can_read_body:
        if request.content_type == "application/json":
            params.update(await request.json())
        else:
            params.update({k: v for k, v in (await request.post()).items() if isinstance(v, str)})
    return params


@contextmanager
def bot_api(token: str) -> Iterator[BotApi]:
    api = BotApi(token).start()
    try:
        yield api
    finally:
        api.stop()
