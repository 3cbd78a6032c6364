"""The Telegram bot process (`python -m engine telegram`, supervised): python-telegram-bot polling
the Bot API at TELEGRAM_API_URL, answering only the chats in TELEGRAM_ALLOWED_CHATS.

Every update passes the gate first (group -1): a chat not on the list gets nothing, and the
attempt becomes an audited alert; an allowed chat over its rate limit is told once to slow
down. Reads answer from SQLite; a steering command is posted to the `commands` table with actor
`telegram:<chat id>` and the reply is the engine's own answer. Each chat has a role
(TELEGRAM_ALLOWED_CHATS, contracts/roles.py): a viewer's chat reads and changes nothing, an
operator's may be held to one venue. Its commands are refused before they are offered, and the
writers (storage/command_queue/posting.py, storage/desk/config.py) check the chat's role again
before they write; every refusal is audited. Dangerous commands are only
offered, with Confirm and Cancel buttons whose nonce works once, in its own chat, until it
expires (guard.py). The bot also delivers the notifications queued for the `telegram` channel.

It imports no trading machinery: storage, the contracts, the CLI's status text and the
notifier's queue functions only (tests/test_layering.py). The token reaches nothing but the
Bot API client: every log line passes the redaction filter, and outgoing text too.
"""

from __future__ import annotations

import asyncio
import html
import logging
import re
import time
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.constants import ParseMode
from telegram.error import InvalidToken, TelegramError
from telegram.ext import (
    Application,
    ApplicationBuilder,
    ApplicationHandlerStop,
    CallbackQueryHandler,
    ContextTypes,
    MessageHandler,
    TypeHandler,
    filters,
)

from contracts.redaction import RedactingFilter
from contracts.roles import COMMAND_SCOPES, AccessRefused, Scope, refusal
from contracts.settings import Settings, TelegramSettings, secret_values
from contracts.venues import venue_of
from engine.telegram_bot import actions, replies
from engine.telegram_bot.delivery import Delivery
from engine.telegram_bot.guard import Confirmations, RateLimit, Strangers
from storage.command_queue import posting
from storage.desk.audit import ack_alert, raise_alert, record_refusal, write_audit
from storage.sqlite.db import Database

log = logging.getLogger("engine.telegram_bot")
TEXT_CHARS = 3_900  # Telegram takes 4096 characters a message
ANSWER_WAIT_S = 15.0  # a kill's cancels can take seconds at a busy venue
STALE_MESSAGE_S = 120.0  # a command sent while the bot was away is not acted on later
TICK_S = 1.0
POLL_TIMEOUT_S = 10


def _pre(text: str) -> str:
    return f"<pre>{html.escape(text[:TEXT_CHARS])}</pre>"


def _plain(text: str) -> str:
    return html.escape(text[:TEXT_CHARS])


class DeskBot:
    def __init__(self, settings: Settings, telegram: TelegramSettings, *,
                 clock: Callable[[], float] = time.monotonic):
        self.settings = settings
        self.telegram = telegram
        self.allowed = telegram.allowed_chats
        self.redact = RedactingFilter(secret_values(settings)).redact
        self.limits = RateLimit(telegram.commands_per_minute, clock)
        self.confirmations = Confirmations(float(telegram.confirm_s), clock)
        self.strangers = Strangers(clock)
        self._db: Database | None = None
        self.delivery = Delivery(settings, telegram, self.redact, self.database)

    def database(self) -> Database:
        if self._db is None:
            self._db = Database(self.settings.db_path)
        return self._db

    # -- the gate ----------------------------------------------------------------------------

    async def gate(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        chat = update.effective_chat
        if chat is None or (update.message is None and update.callback_query is None):
            raise ApplicationHandlerStop
        if chat.id not in self.allowed:
            await self._stranger(update, chat.id)
            raise ApplicationHandlerStop
        verdict = self.limits.check(chat.id)
        if verdict == "ok":
            return
        if verdict == "warn":
            await self._say(context, chat.id, f"Slow down: at most {self.telegram.commands_per_minute} commands a "
                                              "minute from one chat. That one was ignored; try again in a minute.")
        if update.callback_query is not None:
            await _quietly(update.callback_query.answer())
        raise ApplicationHandlerStop

    async def _stranger(self, update: Update, chat_id: int) -> None:
        attempts = self.strangers.attempt(chat_id)
        if attempts is None:
            return
        user = update.effective_user
        who = (f"@{re.sub(r'[^A-Za-z0-9_]', '', user.username)}" if user is not None and user.username
               else f"user {user.id if user else '?'}")
        text = update.message.text if update.message is not None and update.message.text else "(a button)"
        # A stranger's words go into an alert: the command's name only, letters and digits.
        word = "/" + re.sub(r"[^A-Za-z0-9_]", "", text.split()[0])[:32] if text.startswith("/") else "a message"
        message = (f"the Telegram bot ignored {word} from chat {chat_id} ({who[:40]}), which is not in "
                   f"TELEGRAM_ALLOWED_CHATS" + (f" ({attempts} attempts since the last alert)" if attempts > 1 else "")
                   + ". If it is yours, add the chat id to .env and restart the bot.")

        def record() -> bool:
            # Many strangers at once are one cause: past the alerts' burst limit they are counted on
            # the newest alert, and neither an alert nor an audit row is written for each.
            with self.database().write() as conn:
                raised = raise_alert(conn, level="warning", source="telegram", code="TELEGRAM_STRANGER",
                                     message=message)
                if raised:
                    write_audit(conn, actor=f"telegram:{chat_id}", action="telegram.refused", entity="telegram_bot",
                                before=None, after={"chat_id": chat_id, "attempts": attempts})
            return raised

        if await asyncio.to_thread(record):
            log.warning("message from a chat not allowed", extra={"chat_id": chat_id, "attempts": attempts})

    # -- commands ----------------------------------------------------------------------------

    async def on_command(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        message = update.message
        assert message is not None and message.text is not None and update.effective_chat is not None
        chat_id = update.effective_chat.id
        age = time.time() - message.date.timestamp()
        if age > STALE_MESSAGE_S:
            await self._reply(message, f"Ignored {message.text.split()[0][:32]}: it was sent {age / 60:.0f} min "
                                       "ago, while the bot was away. Send it again if you still mean it.")
            return
        words = message.text.split()
        name = words[0][1:].split("@", 1)[0].lower()
        try:
            await self._dispatch(message, chat_id, name, words[1:])
        except replies.NotReady as exc:
            await self._reply(message, f"Cannot answer: {exc}")

    async def _dispatch(self, message: Any, chat_id: int, name: str, args: list[str]) -> None:
        reads: dict[str, Callable[[], str]] = {
            "status": lambda: replies.status(self.settings),
            "positions": lambda: replies.positions(self.settings),
            "orders": lambda: replies.orders(self.settings),
        }
        if name in reads:
            await self._reply(message, await asyncio.to_thread(reads[name]), pre=True)
        elif name == "pnl":
            window = (args[0].lower() if args else "today")
            if window not in actions.WINDOWS or len(args) > 1:
                await self._reply(message, f"usage: {actions.COMMANDS['pnl'].usage}")
                return
            await self._reply(message, await asyncio.to_thread(replies.pnl, self.settings, window), pre=True)
        elif name == "alerts":
            await self._alerts(message)
        elif name == "strategy":
            await self._strategy(message, chat_id, args)
        elif name == "flatten":
            await self._flatten(message, chat_id, args)
        elif name in actions.COMMANDS and actions.COMMANDS[name].kind is not None:
            action = actions.lifecycle(name, args)
            if isinstance(action, str):
                await self._reply(message, action)
            elif not await self._refused(message, chat_id, f"/{name}", COMMAND_SCOPES[action.kind]):
                await self._act(message, chat_id, action)
        elif name == "help":
            await self._reply(message, actions.help_text())
        else:
            await self._reply(message, f"Unknown command /{name[:32]}. /help lists what the bot does.")

    async def _refused(self, message: Any, chat_id: int, what: str, scope: Scope,
                       venues: frozenset[str] = frozenset()) -> bool:
        """Refuse (said, audited) what this chat's role does not allow, before anything is offered."""
        reason = refusal(self.telegram.access(chat_id), what, scope=scope, venues=venues)
        if reason is not None:
            await self._reply(message, await self._audit_refusal(chat_id, reason))
        return reason is not None

    async def _audit_refusal(self, chat_id: int, reason: str) -> str:
        await asyncio.to_thread(record_refusal, self.database(), self.telegram.access(chat_id), reason,
                                entity="telegram_bot")
        return f"Refused. {reason}."

    async def on_text(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        if update.message is not None:
            await self._reply(update.message, "Send a command; /help lists them.")

    async def _act(self, message: Any, chat_id: int, action: actions.Action) -> None:
        if action.confirm is None:
            await self._reply(message, await self._run(chat_id, action, uuid.uuid4().hex))
            return
        nonce = self.confirmations.offer(chat_id, action.kind, action.payload, action.label)
        buttons = InlineKeyboardMarkup([[InlineKeyboardButton(f"Yes, {action.label}", callback_data=f"ok:{nonce}"),
                                         InlineKeyboardButton("Cancel", callback_data=f"no:{nonce}")]])
        sent = await message.reply_text(
            _plain(f"{action.confirm}\nConfirm within {self.telegram.confirm_s} s."),
            parse_mode=ParseMode.HTML, reply_markup=buttons)
        self.confirmations.shown(nonce, sent.message_id)

    async def _run(self, chat_id: int, action: actions.Action, key: str) -> str:
        """Post the command as telegram:<chat id> and wait for the engine's answer."""
        def post_and_wait() -> str:
            values = posting.prepare(action.kind, action.payload, actor=f"telegram:{chat_id}",
                                     key=f"telegram:{key}", ttl_s=self.settings.command_ttl_s)
            row = posting.post(self.settings.db_path, values, lock_wait_s=10.0, access=self.telegram.access(chat_id))
            return replies.outcome_text(action.label, replies.wait_for(self.settings, int(row["id"]), ANSWER_WAIT_S))

        try:
            return await asyncio.to_thread(post_and_wait)
        except AccessRefused as refused:  # the writer's own check: the role changed since it was offered
            return await self._audit_refusal(chat_id, str(refused))

    async def _flatten(self, message: Any, chat_id: int, args: list[str]) -> None:
        if len(args) != 1:
            await self._reply(message, f"usage: {actions.COMMANDS['flatten'].usage} (/positions lists them)")
            return
        found = await asyncio.to_thread(replies.held_markets, self.settings, args[0])
        if len(found) != 1:
            listed = "\n".join(f"• {m['slug'] or m['condition_id'][:12]}: {m['market']}" for m in found)
            await self._reply(message, (f"{args[0][:70]!r} matches {len(found)} markets with a position:\n{listed}\n"
                                        "Be more specific.") if found else
                              f"No position in a market matching {args[0][:70]!r}. /positions lists them.")
            return
        market = found[0]
        if await self._refused(message, chat_id, "/flatten", COMMAND_SCOPES["flatten"],
                               frozenset({venue_of(market["condition_id"])})):
            return
        lines = await asyncio.to_thread(replies.flatten_lines, self.settings, market["condition_id"])
        await self._act(message, chat_id, actions.flatten(market["condition_id"], market["market"], lines))

    async def _strategy(self, message: Any, chat_id: int, args: list[str]) -> None:
        parsed = actions.strategy_switch(args)
        if isinstance(parsed, str):
            await self._reply(message, parsed)
            return
        name, enabled = parsed
        found = await asyncio.to_thread(replies.strategy_version, self.settings, name)
        if found is None:
            names = await asyncio.to_thread(replies.strategy_names, self.settings)
            await self._reply(message, f"No strategy named {name[:64]!r}. Strategies: {', '.join(names) or 'none'}.")
            return
        version, _ = found

        def save() -> str:
            from storage.desk.config import ConfigError, set_strategy_enabled  # only this command needs it

            access = self.telegram.access(chat_id)
            try:
                saved = set_strategy_enabled(self.database().acting_as(access), name=name, version=version,
                                             enabled=enabled, actor=access.actor)
            except ConfigError as exc:
                return f"strategy {name}: not changed: {exc}"
            except AccessRefused as refused:
                record_refusal(self.database(), access, str(refused), entity="telegram_bot")
                return f"Refused. {refused}."
            outcome = replies.wait_for(self.settings, saved.reload_command_id, ANSWER_WAIT_S)
            return (f"strategy {name} {'enabled' if enabled else 'disabled'} (audited). "
                    + replies.outcome_text("reload", outcome))

        await self._reply(message, await asyncio.to_thread(save))

    async def _alerts(self, message: Any) -> None:
        text, shown = await asyncio.to_thread(replies.alerts, self.settings)
        rows = [[InlineKeyboardButton(f"Acknowledge #{a['id']} {a['code']}"[:60], callback_data=f"ack:{a['id']}")]
                for a in shown]
        await self._reply(message, text, pre=True, buttons=InlineKeyboardMarkup(rows) if rows else None)

    # -- buttons -----------------------------------------------------------------------------

    async def on_button(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        query = update.callback_query
        assert query is not None and update.effective_chat is not None
        chat_id = update.effective_chat.id
        verb, _, rest = (query.data or "").partition(":")
        if verb == "ack" and rest.isdigit():
            await _quietly(query.answer())
            reason = refusal(self.telegram.access(chat_id), "acknowledging an alert", scope=Scope.PROTECTIVE)
            if reason is not None:
                await self._say(None, chat_id, await self._audit_refusal(chat_id, reason), bot=query.get_bot())
                return
            await self._ack(query, chat_id, int(rest))
            return
        pending = self.confirmations.take(rest, chat_id) if verb in ("ok", "no") else None
        if pending is None:
            await _quietly(query.answer("This confirmation was already used, cancelled or has expired: nothing "
                                        "done.", show_alert=True))
            return
        await _quietly(query.answer())
        if verb == "no":
            await _quietly(query.edit_message_text(_plain(f"Cancelled: nothing done ({pending.label}).")))
            return
        await _quietly(query.edit_message_text(_plain(f"{pending.label}: sent to the engine…")))
        action = actions.Action(pending.kind, pending.payload, pending.label, None)
        answer = await self._run(chat_id, action, rest)
        await _quietly(query.edit_message_text(_plain(self.redact(answer))))

    async def _ack(self, query: Any, chat_id: int, alert_id: int) -> None:
        def ack() -> bool:
            with self.database().write() as conn:
                return ack_alert(conn, alert_id, actor=f"telegram:{chat_id}")

        done = await asyncio.to_thread(ack)
        note = f"Alert #{alert_id} acknowledged." if done else f"Alert #{alert_id} was already acknowledged."
        if query.message is not None:
            await self._say(None, chat_id, note, bot=query.get_bot())

    # -- sending -----------------------------------------------------------------------------

    async def _reply(self, message: Any, text: str, *, pre: bool = False,
                     buttons: InlineKeyboardMarkup | None = None) -> None:
        body = self.redact(text)
        await message.reply_text(_pre(body) if pre else _plain(body), parse_mode=ParseMode.HTML,
                                 reply_markup=buttons)

    async def _say(self, context: ContextTypes.DEFAULT_TYPE | None, chat_id: int, text: str, *,
                   bot: Any = None) -> None:
        target = bot if bot is not None else context.bot if context is not None else None
        if target is not None:
            await _quietly(target.send_message(chat_id, _plain(self.redact(text)), parse_mode=ParseMode.HTML))

    # -- the background tick: expired confirmations, queued notifications ------------------------

    async def tick(self, application: Application) -> None:
        while True:
            try:
                for gone in self.confirmations.expired():
                    if gone.message_id is not None:
                        await _quietly(application.bot.edit_message_text(
                            _plain(f"Expired: nothing done ({gone.label}). Send the command again if you still "
                                   "mean it."), chat_id=gone.chat_id, message_id=gone.message_id))
                while await self.delivery.deliver_next(application.bot):
                    pass
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("bot tick failed; it tries again")
            await asyncio.sleep(TICK_S)


async def _quietly(call: Awaitable[Any]) -> None:
    """A reply that cannot be delivered (the message is gone, Telegram is unreachable) is logged,
    never fatal to the bot."""
    try:
        await call
    except TelegramError as exc:
        log.warning("a Telegram call failed", extra={"error": str(exc)[:300]})


def build(settings: Settings, telegram: TelegramSettings) -> Application:
    bot = DeskBot(settings, telegram)
    ticking: list[asyncio.Task[None]] = []

    async def started(application: Application) -> None:
        await application.bot.set_my_commands([(name, spec.help[:256]) for name, spec in actions.COMMANDS.items()])
        ticking.append(asyncio.create_task(bot.tick(application)))
        log.info("telegram bot started", extra={"chats": len(telegram.allowed_chats)})

    async def stopping(application: Application) -> None:
        for task in ticking:
            task.cancel()

    application = (ApplicationBuilder().token(telegram.token.reveal()).base_url(telegram.api_url)
                   .base_file_url(telegram.api_url.rsplit("/bot", 1)[0] + "/file/bot")
                   .post_init(started).post_stop(stopping).build())
    application.add_handler(TypeHandler(Update, bot.gate), group=-1)
    application.add_handler(MessageHandler(filters.COMMAND, bot.on_command))
    application.add_handler(MessageHandler(filters.TEXT & ~filters.COMMAND, bot.on_text))
    application.add_handler(CallbackQueryHandler(bot.on_button))
    application.add_error_handler(_on_error)
    return application


async def _on_error(update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
    log.error("handling an update failed", exc_info=context.error)


def run(settings: Settings) -> int:
    telegram = settings.telegram
    if telegram is None:
        print("telegram bot: TELEGRAM_BOT_TOKEN is not set, so there is no bot to run "
              "(see docs/notifications.md: Telegram bot)")
        return 0
    try:
        build(settings, telegram).run_polling(timeout=POLL_TIMEOUT_S, bootstrap_retries=-1,
                                              allowed_updates=["message", "callback_query"],
                                              drop_pending_updates=True)
    except InvalidToken:
        log.error("Telegram refused TELEGRAM_BOT_TOKEN: check it in .env (BotFather: /mybots, API Token)")
        return 1
    return 0
