"""Tips feature: /tip and daily tips (/daily, /timezone, /settings, /unsubscribe).

(/forget is in bot/telegram/privacy.py, /start daily in bot/telegram/start.py.)

Scheduling: one dispatcher job, not a job per user. Every ``DISPATCH_INTERVAL``
seconds (and once right at start-up) it asks the database who is subscribed, keeps
those whose tip is due now (``bot.core.tips.due_date``: local time zone, local
HH:MM, local date of the last tip) and sends their tips through the paced sender.
Why: the database is the schedule, so nothing has to be rebuilt or kept in step
after a restart, a crash or a change of settings (PTB does not persist jobs); time
zones and daylight-saving changes are computed afresh for each day rather than
frozen into a trigger (a naive ``run_daily`` time is UTC, PTB #3263); a bot that was
down at someone's time sends that day's tip on its first pass; and one pass over
10,000 rows costs milliseconds, where 10,000 APScheduler jobs would each need
rebuilding and rescheduling.

No duplicates: before sending, a pass claims the user's local day in the database
with one conditional UPDATE (``Store.claim_day``: only if the stored last day is
earlier). Whoever wins the claim sends; a second pass, an overlapping pass or a
second process cannot win the same day. If the send fails for good (blocked: the
user is unsubscribed; a bad request) the day stays claimed. If it still fails after
the sender's retries for a passing reason (429s, network, 5xx) the claim is released
so a later pass that same local day tries again. A crash between claim and send
loses that day's tip for the few chats in flight (at most ``max_in_flight``): a
missed tip is better than a double one. (A connection that drops after Telegram
accepted a message cannot be told apart from one that never arrived; the sender
retries it, as every Bot API client must.)

Several workers on one PostgreSQL database: the dispatcher runs in exactly one of them,
the one that holds the dispatcher role (``Store.hold_dispatcher_role``, a session
advisory lock); the others ask again at each of their passes, so when the holder dies
another takes over within one ``DISPATCH_INTERVAL`` and first sends the claims the dead
one left unconfirmed. Every send also takes a slot of the bot's shared budget, so tips
and every worker's replies together stay within Telegram's overall limit.

Subscribing after today's time has passed sends today's tip with the confirmation
(claimed the same way). Moving the time or zone so that today's time has already
passed, with no tip sent yet today, makes today's tip due at the next pass.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from telegram import (
    BotCommand,
    ChatMember,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    KeyboardButton,
    ReplyKeyboardMarkup,
    ReplyKeyboardRemove,
    Update,
)
from telegram.constants import ChatType
from telegram.error import BadRequest
from telegram.ext import (
    Application,
    BaseHandler,
    CallbackQueryHandler,
    ChatMemberHandler,
    CommandHandler,
    MessageHandler,
    filters,
)

from bot.core.conversation import IDLE_SECONDS
from bot.core.reply import Reply
from bot.core.times import BadTime, find_time, likely_zones, parse_time, zone_at
from bot.core.tips import (
    due_date,
    next_due,
    parse_daily_time,
    resolve_timezone,
    suggest_timezones,
    tip_at,
    zone,
)
from bot.storage import Claim, Store, Subscription
from bot.telegram import callbacks
from bot.telegram.callbacks import ForgetAction, SettingsAction, TipAction, ZonePick
from bot.telegram.context import BotContext
from bot.telegram.delivery import (
    TELEGRAM_PER_CHAT_INTERVAL,
    Outcome,
    OutcomeCounts,
    PacedSender,
)
from bot.telegram.feature import Feature, TopicExtra
from bot.telegram.formatting import PARSE_MODE, escape
from bot.telegram.requester import pressed_by_requester, requester_of
from bot.telegram.sending import SharedBudget, send_text
from bot.telegram.services import BUDGET_KEY, SERVICES_KEY, Services

log = logging.getLogger(__name__)

STATE_KEY = "tips"  # Services.state: the TipsRuntime
JOB_NAME = "daily-tips-dispatcher"
DISPATCH_INTERVAL = 30.0  # seconds between two passes; a tip is at most this late
# Below Telegram's ~30/s so that replies to people chatting during a big morning
# batch still fit within the bot's overall limit.
DAILY_TIPS_RATE = 25.0
STOP_GRACE = 1.5  # seconds sends in flight may take to finish once the bot stops
TIME_PRESETS = ("07:00", "09:00", "12:00", "18:00", "21:00")
COMMON_ZONES = (
    "Europe/London",
    "Europe/Berlin",
    "Europe/Moscow",
    "America/New_York",
    "America/Chicago",
    "America/Los_Angeles",
    "Asia/Kolkata",
    "Asia/Tokyo",
    "Australia/Sydney",
    "UTC",
)

DAILY_USAGE = (
    "Usage: /daily [time|off]\n"
    "/daily turns daily tips on; /daily 7pm, /daily 19:30 or /daily 7.30am sets the time; "
    "/daily off stops them."
)
TIMEZONE_USAGE = "Usage: /timezone <Area/City>, for example /timezone Europe/Berlin"
NO_ZONE_NOTE = (
    "You have not set a time zone, so I use UTC. Which one is yours? Pick it below, or set "
    "it with /timezone, for example /timezone Europe/Berlin."
)
OTHER_ZONE_LABEL = "Other..."
OTHER_ZONE_TEXT = (
    "Send /timezone and your city or zone, for example /timezone Berlin or "
    "/timezone America/New_York. Or share your location: I only use it to look up the "
    "time zone and do not keep it."
)
SHARE_LOCATION_LABEL = "📍 Share my location"
NO_ZONE_THERE = (
    "I could not find a time zone for that place (at sea, perhaps?). Try /timezone "
    "and your city instead."
)


def _utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass
class DispatchReport(OutcomeCounts):
    """What one dispatcher pass did: the outcome of each send, plus what was skipped."""

    due: int = 0
    already_claimed: int = 0
    resent: int = 0  # claims left unconfirmed by a stopped process, sent again
    expired: int = 0  # such claims whose local day is over: dropped, not sent late
    released: int = 0  # claims given back because the bot was stopping
    busy: bool = False  # another pass was still running; this one did nothing
    standby: bool = False  # another worker runs the dispatcher; this one did nothing


def paced_sender(time_scale: float = 1.0, budget: SharedBudget | None = None) -> PacedSender:
    """The daily-tip sender; ``BOT_TIME_SCALE`` below 1 speeds its pacing up (tests, demos)."""
    scale = time_scale if time_scale > 0 else 1.0
    return PacedSender(
        rate=DAILY_TIPS_RATE / scale,
        per_chat_interval=TELEGRAM_PER_CHAT_INTERVAL * scale,
        backoff=0.5 * scale,
        retry_after_scale=scale,
        budget=budget,
    )


def dispatch_interval(time_scale: float = 1.0) -> float:
    """Seconds between passes; scaled down with ``BOT_TIME_SCALE`` (tests, demos)."""
    return DISPATCH_INTERVAL * min(time_scale, 1.0) if time_scale > 0 else DISPATCH_INTERVAL


@dataclass
class TipsRuntime:
    """The feature's runtime state; tests swap ``clock`` and ``sender``."""

    sender: PacedSender = field(default_factory=paced_sender)
    clock: Callable[[], datetime] = _utcnow
    interval: float = DISPATCH_INTERVAL
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    # Set on SIGTERM/SIGINT (``request_stop``); a pass also stops when the Application does.
    stopping: asyncio.Event = field(default_factory=asyncio.Event)
    stop_grace: float = STOP_GRACE
    passes: int = 0
    last_report: DispatchReport | None = None


def runtime(application: Application) -> TipsRuntime:
    """The TipsRuntime of ``application`` (created on first use)."""
    services: Services = application.bot_data[SERVICES_KEY]
    state = services.state.get(STATE_KEY)
    if not isinstance(state, TipsRuntime):
        scale = services.settings.time_scale
        state = TipsRuntime(sender=paced_sender(scale), interval=dispatch_interval(scale))
        services.state[STATE_KEY] = state
    return state


def request_stop(application: Application) -> None:
    """Stop the daily tips: no new sends; those in flight get ``stop_grace`` seconds."""
    runtime(application).stopping.set()


def _now(context: BotContext) -> datetime:
    return runtime(context.application).clock()


# -- texts and keyboards -------------------------------------------------------------------


def _zone_label(sub: Subscription) -> str:
    return sub.timezone or "UTC"


def _when(sub: Subscription, now: datetime) -> str:
    """When the next daily tip comes, in the user's words ("tomorrow at 09:00")."""
    instant = next_due(sub.timezone, sub.daily_time, sub.last_sent, now)
    if instant <= now:
        return "today's, in a moment"
    tz = zone(sub.timezone)
    local = instant.astimezone(tz)
    today = now.astimezone(tz).date()
    if local.date() == today:
        day = "today"
    elif local.date() == today + timedelta(days=1):
        day = "tomorrow"
    else:
        day = f"on {local:%A} {local.day} {local:%B}"
    return f"{day} at {local:%H:%M}"


def settings_text(sub: Subscription | None, now: datetime) -> str:
    """The /settings summary."""
    if sub is None:
        sub = Subscription(0, None, "09:00", False, None, 0)
    lines = ["Your settings"]
    if sub.subscribed:
        lines.append(f"Daily tips: on, at {sub.daily_time} ({_zone_label(sub)})")
        lines.append(f"Next tip: {_when(sub, now)}")
    else:
        lines.append(f"Daily tips: off (time {sub.daily_time} when on)")
    if sub.timezone:
        lines.append(f"Time zone: {sub.timezone}")
    else:
        lines.append("Time zone: not set, so UTC is used")
    lines.append("")
    lines.append("Other time: /daily HH:MM · other zone: /timezone Area/City")
    return "\n".join(lines)


def settings_keyboard(
    sub: Subscription | None, requester: int | None = None
) -> InlineKeyboardMarkup:
    """Buttons to switch daily tips, pick a time or a zone, or delete the data."""
    subscribed = bool(sub and sub.subscribed)

    def data(action: str, time: str = "") -> str:
        return callbacks.pack(SettingsAction(action, requester, time))

    toggle = (
        InlineKeyboardButton("Turn daily tips off", callback_data=data("off"))
        if subscribed
        else InlineKeyboardButton("Turn daily tips on", callback_data=data("on"))
    )
    times = [
        InlineKeyboardButton(
            f"• {t}" if sub and sub.daily_time == t else t, callback_data=data("t", t)
        )
        for t in TIME_PRESETS
    ]
    forget = callbacks.pack(ForgetAction("ask", requester))
    return InlineKeyboardMarkup(
        [
            [toggle],
            times,
            [InlineKeyboardButton("Change time zone", callback_data=data("tz"))],
            [InlineKeyboardButton("Delete my data", callback_data=forget)],
        ]
    )


def zone_button(name: str, requester: int | None = None) -> InlineKeyboardButton:
    """A button that sets the time zone ``name``."""
    return InlineKeyboardButton(name, callback_data=callbacks.pack(ZonePick(name, requester)))


def zones_keyboard(requester: int | None = None) -> InlineKeyboardMarkup:
    """A few common time zones as buttons."""
    buttons = [zone_button(name, requester) for name in COMMON_ZONES]
    return InlineKeyboardMarkup([buttons[i : i + 2] for i in range(0, len(buttons), 2)])


def likely_zones_keyboard(
    language_code: str | None, requester: int | None = None
) -> InlineKeyboardMarkup:
    """A few zones likely for the person's language, plus "Other..."."""
    buttons = [zone_button(name, requester) for name in likely_zones(language_code)]
    other = callbacks.pack(ZonePick(callbacks.OTHER_ZONE, requester))
    rows = [buttons[i : i + 2] for i in range(0, len(buttons), 2)]
    return InlineKeyboardMarkup(
        [*rows, [InlineKeyboardButton(OTHER_ZONE_LABEL, callback_data=other)]]
    )


def tip_keyboard(subscribed: bool) -> InlineKeyboardMarkup:
    """Buttons under a tip: another one, and the subscription if not subscribed."""
    row = [InlineKeyboardButton("Another tip", callback_data=callbacks.pack(TipAction("next")))]
    if not subscribed:
        daily = callbacks.pack(TipAction("daily"))
        row.append(InlineKeyboardButton("Send me one daily", callback_data=daily))
    return InlineKeyboardMarkup([row])


def daily_tip_text(tip_text: str) -> str:
    """The text of a scheduled daily tip."""
    return f"💡 Tip of the day\n\n{tip_text}\n\n/tip for another · /settings · /daily off to stop"


def subscribed_text(sub: Subscription, now: datetime, today_follows: bool = False) -> str:
    """The confirmation after subscribing."""
    text = f"Daily tips are on: one tip every day at {sub.daily_time} ({_zone_label(sub)})."
    if today_follows:
        text += f"\nToday's comes right now; the next one {_when(sub, now)}."
    else:
        text += f"\nNext tip: {_when(sub, now)}."
    if not sub.timezone:
        text += f"\n\n{NO_ZONE_NOTE}"
    text += "\n\nChange the time: /daily 7pm · stop: /daily off"
    return text


# -- store operations shared by commands and buttons ---------------------------------------


async def _subscribe(
    context: BotContext,
    chat_id: int,
    daily_time: str | None = None,
    confirm: Callable[[Subscription, bool], Awaitable[Any]] | None = None,
    *,
    update: Update | None = None,
) -> Subscription:
    """Subscribe and confirm; if today's time has already passed, today's tip follows.

    That tip is claimed like a scheduled one (so the dispatcher never sends a second
    one today) and the claim is released if it could not be sent. With no time zone
    set, the confirmation asks for one: likely zones for the person's language (from
    ``update``) and "Other...".
    """
    services = context.services
    now = _now(context)
    store = services.store
    sub = await store.subscribe(chat_id, daily_time)
    day = due_date(sub.timezone, sub.daily_time, sub.last_sent, now)
    claim = await store.claim_day(chat_id, day.isoformat(), time.time()) if day else None
    sub = await store.get(chat_id) or sub
    if confirm is None:
        markup = None
        if not sub.timezone:
            user = update.effective_user if update is not None else None
            requester = requester_of(update) if update is not None else None
            markup = likely_zones_keyboard(user.language_code if user else None, requester)
        text = subscribed_text(sub, now, claim is not None)
        await send_text(context.bot, chat_id, text, markup)
    else:
        await confirm(sub, claim is not None)
    if claim is not None:
        text = daily_tip_text(tip_at(services.knowledge.tips, chat_id, claim.position).text)
        if await send_text(context.bot, chat_id, text, tip_keyboard(True)):
            await store.confirm_sent(chat_id, claim.local_date, time.time())
        else:
            await store.release_day(chat_id, claim.local_date)
    return sub


async def _next_tip(services: Services, chat_id: int) -> str:
    position = await services.store.take_tip_position(chat_id)
    return tip_at(services.knowledge.tips, chat_id, position).text


async def _is_subscribed(store: Store, chat_id: int) -> bool:
    sub = await store.get(chat_id)
    return bool(sub and sub.subscribed)


async def _edit(update: Update, text: str, markup: InlineKeyboardMarkup | None = None) -> None:
    query = update.callback_query
    assert query is not None
    try:
        await query.edit_message_text(text, reply_markup=markup)
    except BadRequest as exc:
        if "not modified" not in str(exc).lower():
            raise


# -- commands --------------------------------------------------------------------------


async def tip(update: Update, context: BotContext) -> None:
    """Send the user's next tip."""
    chat = update.effective_chat
    if chat is None:
        return
    services = context.services
    text = await _next_tip(services, chat.id)
    markup = tip_keyboard(await _is_subscribed(services.store, chat.id))
    await send_text(context.bot, chat.id, f"💡 {text}", markup)


async def daily(update: Update, context: BotContext) -> None:
    """Subscribe to daily tips, set their time, or stop them."""
    chat = update.effective_chat
    if chat is None:
        return
    words = " ".join(context.args or []).strip()
    if words.lower() in {"off", "stop", "no"}:
        await _send_unsubscribed(update, context)
        return
    daily_time = None
    if words:
        daily_time = parse_time(words)
        if daily_time is None:
            await send_text(context.bot, chat.id, DAILY_USAGE)
            return
    await _subscribe(context, chat.id, daily_time, update=update)


async def subscribe_and_confirm(update: Update, context: BotContext) -> None:
    """Subscribe in one tap (the deep link t.me/<bot>?start=daily, bot/telegram/start.py)."""
    chat = update.effective_chat
    if chat is None:
        return
    await _subscribe(context, chat.id, update=update)


async def unsubscribe(update: Update, context: BotContext) -> None:
    """Stop daily tips (same as /daily off)."""
    await _send_unsubscribed(update, context)


async def _send_unsubscribed(update: Update, context: BotContext) -> None:
    chat = update.effective_chat
    if chat is None:
        return
    if await context.services.store.unsubscribe(chat.id):
        text = "Daily tips are off. /daily turns them back on."
    else:
        text = "Daily tips were not on. /daily turns them on."
    await send_text(context.bot, chat.id, text)


async def timezone(update: Update, context: BotContext) -> None:
    """Set the time zone by its IANA name, suggesting close names for a misspelling."""
    chat = update.effective_chat
    if chat is None:
        return
    store = context.services.store
    query = " ".join(context.args or []).strip()
    if not query:
        sub = await store.get(chat.id)
        current = sub.timezone if sub and sub.timezone else "not set (UTC is used)"
        text = f"{TIMEZONE_USAGE}\nYour time zone: {current}"
        await send_text(context.bot, chat.id, text, zones_keyboard(requester_of(update)))
        return
    name = resolve_timezone(query)
    if name is None:
        suggestions = suggest_timezones(query)
        if suggestions:
            requester = requester_of(update)
            buttons = [[zone_button(s, requester)] for s in suggestions]
            # The query is the person's own text: escaped in this HTML message.
            text = (
                f"I don't know the time zone <i>{escape(query)}</i>. "
                f"Did you mean {escape(suggestions[0])}?"
            )
            markup = InlineKeyboardMarkup(buttons)
            await send_text(context.bot, chat.id, text, markup, parse_mode=PARSE_MODE)
        else:
            text = f"I don't know the time zone <i>{escape(query)}</i>.\n{escape(TIMEZONE_USAGE)}"
            await send_text(context.bot, chat.id, text, parse_mode=PARSE_MODE)
        return
    await send_text(context.bot, chat.id, await _set_zone(store, chat.id, name, _now(context)))


async def _set_zone(store: Store, chat_id: int, name: str, now: datetime) -> str:
    sub = await store.set_timezone(chat_id, name)
    local = now.astimezone(zone(name))
    text = f"Time zone set to {name}. It is {local:%H:%M} there now."
    if sub.subscribed:
        text += f"\nDaily tips at {sub.daily_time}; next tip: {_when(sub, now)}."
    else:
        text += "\nDaily tips are off: /daily turns them on."
    return text


async def settings(update: Update, context: BotContext) -> None:
    """Show the subscription, time and time zone, with buttons to change them."""
    chat = update.effective_chat
    if chat is None:
        return
    sub = await context.services.store.get(chat.id)
    text = settings_text(sub, _now(context))
    await send_text(context.bot, chat.id, text, settings_keyboard(sub, requester_of(update)))


# -- buttons -------------------------------------------------------------------------------


async def tip_button(update: Update, context: BotContext) -> None:
    """Another tip, or subscribe, from the buttons under a tip."""
    query = update.callback_query
    chat = update.effective_chat
    payload = callbacks.parse(query.data if query else None)
    if query is None or chat is None or not isinstance(payload, TipAction):
        return
    services = context.services
    if payload.action == "daily":
        await query.answer("Daily tips are on")
        await _subscribe(context, chat.id, update=update)
        return
    await query.answer()
    text = await _next_tip(services, chat.id)
    markup = tip_keyboard(await _is_subscribed(services.store, chat.id))
    await send_text(context.bot, chat.id, f"💡 {text}", markup)


async def settings_button(update: Update, context: BotContext) -> None:
    """Apply a /settings button (only for the person who asked) and show the settings again."""
    query = update.callback_query
    chat = update.effective_chat
    payload = callbacks.parse(query.data if query else None)
    if query is None or chat is None or not isinstance(payload, SettingsAction):
        return
    if not await pressed_by_requester(update, payload.requester):
        return
    store = context.services.store
    now = _now(context)
    requester = payload.requester
    if payload.action == "tz":
        await query.answer()
        text = f"{TIMEZONE_USAGE}\nOr pick one:"
        await send_text(context.bot, chat.id, text, zones_keyboard(requester))
        return
    if payload.action == "on":
        await query.answer("Daily tips are on")

        async def show(sub: Subscription, _today_follows: bool) -> None:
            await _edit(update, settings_text(sub, now), settings_keyboard(sub, requester))

        await _subscribe(context, chat.id, confirm=show)
        return
    elif payload.action == "off":
        await store.unsubscribe(chat.id)
        note = "Daily tips are off"
    elif payload.action == "t" and (daily_time := parse_daily_time(payload.time)):
        await store.set_time(chat.id, daily_time)
        note = f"Time set to {daily_time}"
    else:
        await query.answer("That button is out of date.")
        return
    await query.answer(note)
    sub = await store.get(chat.id)
    await _edit(update, settings_text(sub, now), settings_keyboard(sub, requester))


async def timezone_button(update: Update, context: BotContext) -> None:
    """Set the time zone picked from a suggestion or the common list."""
    query = update.callback_query
    chat = update.effective_chat
    payload = callbacks.parse(query.data if query else None)
    if query is None or chat is None or not isinstance(payload, ZonePick):
        return
    if not await pressed_by_requester(update, payload.requester):
        return
    if payload.zone == callbacks.OTHER_ZONE:
        await query.answer()
        await _ask_other_zone(update, context)
        return
    name = resolve_timezone(payload.zone)
    if name is None:
        await query.answer("That button is out of date.")
        return
    await query.answer(f"Time zone: {name}")
    text = await _set_zone(context.services.store, chat.id, name, _now(context))
    await _edit(update, text)


async def _ask_other_zone(update: Update, context: BotContext) -> None:
    """How to name another zone; in a private chat, also a button to share the location."""
    chat = update.effective_chat
    if chat is None:
        return
    markup: ReplyKeyboardMarkup | None = None
    if chat.type == ChatType.PRIVATE:  # Telegram offers location buttons only there
        button = KeyboardButton(SHARE_LOCATION_LABEL, request_location=True)
        markup = ReplyKeyboardMarkup([[button]], resize_keyboard=True, one_time_keyboard=True)
    await send_text(context.bot, chat.id, OTHER_ZONE_TEXT, markup)


async def location_shared(update: Update, context: BotContext) -> None:
    """Set the time zone from a shared location (looked up offline, the place not kept)."""
    message = update.effective_message
    chat = update.effective_chat
    if message is None or chat is None or message.location is None:
        return
    where = message.location
    name = await asyncio.to_thread(zone_at, where.latitude, where.longitude)
    if name is None:
        await send_text(context.bot, chat.id, NO_ZONE_THERE, ReplyKeyboardRemove())
        return
    text = await _set_zone(context.services.store, chat.id, name, _now(context))
    await send_text(context.bot, chat.id, text, ReplyKeyboardRemove())


async def take_over_subscription(update: Update, context: BotContext, reply: Reply) -> bool:
    """ "Daily tips at 9 please": subscribe at the time the message names, in place of the
    answer that asks for a time. True when it did (or answered an impossible time)."""
    message = update.message
    chat = update.effective_chat
    if (
        reply.topic != "tip"
        or reply.action not in {"subscribe", "set-time"}
        or message is None
        or not message.text
        or chat is None
    ):
        return False
    try:
        daily_time = find_time(message.text)
    except BadTime:
        await send_text(context.bot, chat.id, DAILY_USAGE)
        return True
    if daily_time is None:
        return False
    await _subscribe(context, chat.id, daily_time, update=update)
    return True


async def tip_extra(update: Update, context: BotContext, reply: Reply) -> None:
    """After the tip topic's answer: what its entry says was done (subscribe, stop), else a
    tip now and the subscription offer, as /tip does."""
    action = reply.action
    chat = update.effective_chat
    if action == "subscribe" and chat is not None:
        await _subscribe(context, chat.id, update=update)
    elif action == "unsubscribe":
        await _send_unsubscribed(update, context)
    elif action == "set-time" and chat is not None:
        await send_text(context.bot, chat.id, DAILY_USAGE)
    else:
        await tip(update, context)


async def bot_blocked(update: Update, context: BotContext) -> None:
    """Unsubscribe a chat as soon as Telegram says the bot was blocked or removed."""
    member = update.my_chat_member
    if member is None:
        return
    gone = member.new_chat_member.status in {ChatMember.BANNED, ChatMember.LEFT}
    if gone and await context.services.store.mark_blocked(member.chat.id, time.time()):
        log.info("chat %s blocked or removed the bot: unsubscribed", member.chat.id)


# -- the dispatcher ------------------------------------------------------------------------


async def dispatch_due_tips(
    application: Application, now: datetime | None = None
) -> DispatchReport:
    """Send every tip that is due at ``now`` (default: the runtime's clock); one pass.

    First the claims a stopped process left unconfirmed (the outbox), then everyone due.
    Each send is confirmed in the database as soon as the Bot API accepted it. When the
    bot stops, the pass takes no new chat, and sends still in flight after
    ``stop_grace`` seconds are cancelled and their claims released for the next start.
    """
    state = runtime(application)
    if state.lock.locked():
        return DispatchReport(busy=True)
    async with state.lock:
        services: Services = application.bot_data[SERVICES_KEY]
        store = services.store
        if not await store.hold_dispatcher_role():
            state.last_report = DispatchReport(standby=True)
            return state.last_report
        now = now or state.clock()
        wall = time.time()
        purged = await store.purge_blocked(wall)
        if purged:
            log.info("deleted %d chats that blocked the bot 30 days ago or more", purged)
        await store.purge_contexts(wall, IDLE_SECONDS)
        subscribers = {sub.chat_id: sub for sub in await store.subscribers()}
        report = DispatchReport()
        jobs: list[Claim | tuple[int, date]] = []
        for claim in await store.unconfirmed_claims(wall):
            sub = subscribers.get(claim.chat_id)
            if sub is None or claim.local_date != _today(sub, now):
                await store.finish_claim(claim.chat_id, claim.local_date, "expired", wall)
                report.expired += 1
            else:
                jobs.append(claim)
        report.resent = len(jobs)
        for sub in subscribers.values():
            try:
                day = _due(sub, now)
            except ValueError:  # a damaged row must not stop everyone else's tips
                log.exception("cannot schedule chat %s", sub.chat_id)
                continue
            if day is not None:
                jobs.append((sub.chat_id, day))
        report.due = len(jobs)
        started_running = application.running

        def stopping() -> bool:
            return state.stopping.is_set() or (started_running and not application.running)

        async def deliver(job: Claim | tuple[int, date]) -> None:
            if isinstance(job, Claim):
                claim: Claim | None = job
            else:
                claim = await store.claim_day(job[0], job[1].isoformat(), time.time())
            if claim is None:
                report.already_claimed += 1
                return
            chat_id = claim.chat_id
            text = daily_tip_text(tip_at(services.knowledge.tips, chat_id, claim.position).text)
            try:
                outcome, _ = await state.sender.send_message(
                    application.bot, chat_id, text, reply_markup=tip_keyboard(True)
                )
            except asyncio.CancelledError:
                # Stopping: the next start sends it (it may have arrived: a duplicate).
                with contextlib.suppress(Exception):
                    await asyncio.wait_for(store.release_day(chat_id, claim.local_date), 1.0)
                report.released += 1
                raise
            # Confirm first, count after: the confirmation is what prevents a resend.
            if outcome is Outcome.SENT:
                await store.confirm_sent(chat_id, claim.local_date, time.time())
            elif outcome is Outcome.GONE:
                await store.finish_claim(chat_id, claim.local_date, "gone", time.time())
                await store.mark_blocked(chat_id, time.time())
                log.info("chat %s blocked the bot or is gone: unsubscribed", chat_id)
            elif outcome is Outcome.FAILED:
                await store.finish_claim(chat_id, claim.local_date, "failed", time.time())
            else:
                await store.release_day(chat_id, claim.local_date)
            report.count(outcome)

        await state.sender.send_many(jobs, deliver, should_stop=stopping, grace=state.stop_grace)
        state.passes += 1
        state.last_report = report
        if report.due or report.expired:
            log.info("daily tips: %s", report)
        return report


def _today(sub: Subscription, now: datetime) -> str:
    return now.astimezone(zone(sub.timezone)).date().isoformat()


def _due(sub: Subscription, now: datetime) -> date | None:
    return due_date(sub.timezone, sub.daily_time, sub.last_sent, now)


async def _dispatch_job(context: BotContext) -> None:
    """Job callback: one dispatcher pass."""
    await dispatch_due_tips(context.application)


async def post_init(application: Application) -> None:
    """Start the dispatcher: the schedule is the database, so a restart loses nothing."""
    state = runtime(application)
    services: Services = application.bot_data[SERVICES_KEY]
    shared = services.state.get(BUDGET_KEY)
    state.sender.budget = shared if isinstance(shared, SharedBudget) else None
    job_queue = application.job_queue
    if job_queue is None:
        log.error("no JobQueue (install python-telegram-bot[job-queue]): daily tips are off")
        return
    for job in job_queue.get_jobs_by_name(JOB_NAME):
        job.schedule_removal()
    # A catch-up pass right away (an interval trigger added before the scheduler starts
    # would skip its first, already-past run), then one every ``interval`` seconds.
    job_queue.run_once(
        _dispatch_job, when=0, name=JOB_NAME, job_kwargs={"misfire_grace_time": None}
    )
    job_queue.run_repeating(
        _dispatch_job,
        interval=state.interval,
        first=state.interval,
        name=JOB_NAME,
        job_kwargs={"coalesce": True, "max_instances": 1, "misfire_grace_time": None},
    )
    log.info("daily tips: %d subscribers", await services.store.subscriber_count())


# -- the feature contract --------------------------------------------------------------------


class TipsFeature(Feature):
    """/tip, /daily, /timezone, /settings, /unsubscribe and the daily-tip dispatcher."""

    name = "tips"

    def handlers(self) -> list[BaseHandler[Any, Any, Any]]:
        """The tips feature's commands and buttons."""
        return [
            CommandHandler("tip", tip),
            CommandHandler("daily", daily),
            CommandHandler("timezone", timezone),
            CommandHandler("settings", settings),
            CommandHandler("unsubscribe", unsubscribe),
            CallbackQueryHandler(tip_button, pattern=callbacks.matches(TipAction)),
            CallbackQueryHandler(settings_button, pattern=callbacks.matches(SettingsAction)),
            CallbackQueryHandler(timezone_button, pattern=callbacks.matches(ZonePick)),
            MessageHandler(filters.UpdateType.MESSAGE & filters.LOCATION, location_shared),
            ChatMemberHandler(bot_blocked, ChatMemberHandler.MY_CHAT_MEMBER),
        ]

    def commands(self) -> list[BotCommand]:
        """Menu entries for the tips commands."""
        return [
            BotCommand("tip", "A tip now"),
            BotCommand("daily", "Daily tips: /daily, /daily 7pm, /daily off"),
            BotCommand("timezone", "Set your time zone, e.g. /timezone Europe/Berlin"),
            BotCommand("settings", "Your daily-tip settings"),
            BotCommand("unsubscribe", "Stop daily tips"),
        ]

    def topic_extras(self) -> dict[str, TopicExtra]:
        """A tip and the subscription offer after the ``tip`` topic's answer."""
        return {"tip": tip_extra}

    async def take_over(self, update: Update, context: BotContext, reply: Reply) -> bool:
        """ "Send me a tip every morning at 8" subscribes at 08:00."""
        return await take_over_subscription(update, context, reply)

    async def post_init(self, application: Any) -> None:
        """Start the daily-tip dispatcher."""
        await post_init(application)


__all__ = [
    "DISPATCH_INTERVAL",
    "DispatchReport",
    "TipsFeature",
    "TipsRuntime",
    "dispatch_due_tips",
    "dispatch_interval",
    "paced_sender",
    "post_init",
    "request_stop",
    "runtime",
    "subscribe_and_confirm",
]
