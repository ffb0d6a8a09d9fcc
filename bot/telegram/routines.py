"""Guided routines on Telegram: one live message that each step edits.

``/routine`` offers the routines as buttons. A started routine sends two messages: the
safety line, then the *live message*: the chart (the step's zone highlighted, the whole
map for whole-foot steps) captioned with the step, a progress bar and the time for the
step, under Pause/Resume, Next and Stop. Each later step edits that message
(``editMessageMedia`` when the picture changes, else ``editMessageCaption``) through one
JobQueue job per chat (``routine:<chat_id>``); the end is a last edit: the closing note
and "How do you feel?" with better / same / worse, counted in aggregate only.

Every run has a short token in its buttons' callback data (``r:<action>:<token>``): a
button of an older, stopped or finished run answers "This routine has ended." and does
nothing else. Starting another routine replaces the running one and says so; ``/stop``
ends it too. ``/routinestats`` shows the feedback counts to BOT_ADMIN_IDS.

Restarts: the live message of each chat is stored (``Store.save_routine_run``); at
start-up a routine that was cut short gets its buttons removed and a short note, so it
is never lost silently.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
from typing import Any

from telegram import BotCommand, InlineKeyboardButton, InlineKeyboardMarkup, Message, Update
from telegram.constants import MessageLimit
from telegram.error import BadRequest, Forbidden, TelegramError
from telegram.ext import BaseHandler, CallbackQueryHandler, CommandHandler, JobQueue

from bot.core.foot_zones import FOOT_ZONES, map_picture
from bot.core.knowledge import Routine
from bot.core.reply import Reply
from bot.core.routines import (
    ENDED_TEXT,
    FEEDBACK_QUESTION,
    FEELING_LABELS,
    FEELINGS,
    RoutineRun,
    button_label,
    closing_text,
    feedback_reply,
    interrupted_text,
    intro_text,
    live_step_text,
    menu_text,
    replaced_text,
    stopped_text,
)
from bot.storage import RoutineRunRow
from bot.telegram import callbacks
from bot.telegram.admin import admin_chat
from bot.telegram.callbacks import RoutineControl, RoutineFeeling, RoutineStart
from bot.telegram.context import BotApplication, BotContext, LiveRoutine
from bot.telegram.feature import Feature, TopicExtra
from bot.telegram.keyboards import topic_button
from bot.telegram.pictures import edit_foot_map, send_foot_map, send_map_picture
from bot.telegram.sending import call_with_retry, send_text

log = logging.getLogger(__name__)

NOTHING_RUNNING = "No routine is running. Start one with /routine."
CONTROLS = "Use the buttons under the picture to pause, skip a step or stop."


def _job_name(chat_id: int) -> str:
    return f"routine:{chat_id}"


def _fit_caption(text: str) -> str:
    """A caption Telegram accepts: a long step is cut rather than refused."""
    limit = int(MessageLimit.CAPTION_LENGTH)
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def _zone(area: str) -> str | None:
    """The chart variant of a step: its zone highlighted, or the whole map."""
    return area if area in FOOT_ZONES else None


# -- keyboards --------------------------------------------------------------------------


def _start_data(routine: Routine) -> str:
    return callbacks.pack(RoutineStart(routine.id))


def routine_buttons(routines: list[Routine]) -> InlineKeyboardMarkup:
    """One button per routine."""
    return InlineKeyboardMarkup(
        [[InlineKeyboardButton(button_label(r), callback_data=_start_data(r))] for r in routines]
    )


def control_buttons(token: str, paused: bool) -> InlineKeyboardMarkup:
    """Pause (or Resume), Next and Stop for the run ``token``."""

    def data(action: str) -> str:
        return callbacks.pack(RoutineControl(action, token))

    first = (
        InlineKeyboardButton("▶️ Resume", callback_data=data("resume"))
        if paused
        else InlineKeyboardButton("⏸ Pause", callback_data=data("pause"))
    )
    return InlineKeyboardMarkup(
        [
            [
                first,
                InlineKeyboardButton("⏭ Next", callback_data=data("next")),
                InlineKeyboardButton("⏹ Stop", callback_data=data("stop")),
            ]
        ]
    )


def feedback_buttons(routine_id: str) -> InlineKeyboardMarkup:
    """better / same / worse for one routine."""
    return InlineKeyboardMarkup(
        [
            [
                InlineKeyboardButton(
                    FEELING_LABELS[f], callback_data=callbacks.pack(RoutineFeeling(routine_id, f))
                )
                for f in FEELINGS
            ]
        ]
    )


# -- the live message -------------------------------------------------------------------


def _job_queue(context: BotContext) -> JobQueue[Any]:
    job_queue = context.application.job_queue
    if job_queue is None:  # pragma: no cover - the job-queue extra is a dependency
        raise RuntimeError("routines need python-telegram-bot[job-queue]")
    return job_queue


def _cancel_job(context: BotContext, chat_id: int) -> None:
    for job in _job_queue(context).get_jobs_by_name(_job_name(chat_id)):
        job.schedule_removal()


def _schedule(context: BotContext, chat_id: int, live: LiveRoutine) -> None:
    """(Re)schedule the job that moves the run on when the current step's time is up."""
    _cancel_job(context, chat_id)
    _job_queue(context).run_once(
        step_due,
        when=live.run.remaining(),
        chat_id=chat_id,
        name=_job_name(chat_id),
        data=(live.token, live.run.index),
    )


def _caption(live: LiveRoutine) -> str:
    run = live.run
    step = run.step
    assert step is not None
    # Shown in the person's seconds: a test's time scale must not change the wording.
    left = run.remaining() / run.time_scale if run.time_scale else float(step.seconds)
    return live_step_text(run.routine, run.index, left, paused=run.paused)


async def _show_live(context: BotContext, chat_id: int, live: LiveRoutine) -> None:
    """Send the live message (first step) or edit it to the current step."""
    run = live.run
    step = run.step
    if step is None:
        return
    services = context.services
    caption = _fit_caption(_caption(live))
    markup = control_buttons(live.token, run.paused)
    zone = _zone(step.area)
    bot = context.bot
    if live.message_id is None:
        message: Message | None = None
        try:
            message = await send_foot_map(
                bot, chat_id, services.foot_maps, zone, caption=caption, reply_markup=markup
            )
            live.has_photo = True
        except BadRequest as exc:  # the chart could not be sent: carry on in words
            log.warning("routine picture not sent to chat %s: %s", chat_id, exc)
            sent = await send_text(bot, chat_id, caption, markup, raise_errors=True)
            message = sent[-1] if sent else None
        if message is not None:
            live.message_id = message.message_id
        live.zone = zone
    elif live.has_photo and zone != live.zone:
        await edit_foot_map(
            bot,
            chat_id,
            live.message_id,
            services.foot_maps,
            zone,
            caption=caption,
            reply_markup=markup,
        )
        live.zone = zone
    else:
        await _edit_live(context, chat_id, live, caption, markup)
    await _save(context, chat_id, live)


async def _edit_live(
    context: BotContext,
    chat_id: int,
    live: LiveRoutine,
    text: str,
    markup: InlineKeyboardMarkup | None,
) -> None:
    """Edit the live message's words (caption or text) and buttons."""
    if live.message_id is None:
        return
    message_id = live.message_id
    bot = context.bot
    try:
        if live.has_photo:
            caption = _fit_caption(text)
            await call_with_retry(
                lambda: bot.edit_message_caption(
                    chat_id=chat_id, message_id=message_id, caption=caption, reply_markup=markup
                ),
                what=f"editMessageCaption in chat {chat_id}",
            )
        else:
            await call_with_retry(
                lambda: bot.edit_message_text(
                    text, chat_id=chat_id, message_id=message_id, reply_markup=markup
                ),
                what=f"editMessageText in chat {chat_id}",
            )
    except BadRequest as exc:
        if "not modified" not in str(exc).lower():
            raise


async def _save(context: BotContext, chat_id: int, live: LiveRoutine) -> None:
    await context.services.store.save_routine_run(
        RoutineRunRow(chat_id, live.run.routine.id, live.token, live.message_id, live.run.index)
    )


async def _forget(context: BotContext, chat_id: int, live: LiveRoutine) -> None:
    """Drop the run from memory, the job queue and the database (if it is still current)."""
    if context.bot_data.routines.get(chat_id) is live:
        del context.bot_data.routines[chat_id]
    _cancel_job(context, chat_id)
    await context.services.store.end_routine_run(chat_id, live.token)


async def _show_current_step(context: BotContext, chat_id: int, live: LiveRoutine) -> None:
    """Show the current step and schedule the next; finish when there is none."""
    run = live.run
    if run.finished:
        await _finish(context, chat_id, live)
        return
    index = run.index
    try:
        await _show_live(context, chat_id, live)
    except Forbidden:
        # The person blocked the bot: nobody is listening any more.
        run.stop()
        await _forget(context, chat_id, live)
        return
    except TelegramError as exc:
        # Keep the pace even if one step could not be shown.
        log.warning("routine step for chat %s not shown: %s", chat_id, exc)
    # Pause, Next or Stop may have been pressed while the step was being shown.
    if context.bot_data.routines.get(chat_id) is not live or run.index != index:
        return
    run.restart_step()  # the step's time starts once it is on screen
    if not (run.finished or run.paused):
        _schedule(context, chat_id, live)


async def _finish(context: BotContext, chat_id: int, live: LiveRoutine) -> None:
    """The last edit: the closing note and "How do you feel?"."""
    await _forget(context, chat_id, live)
    routine = live.run.routine
    context.bot_data.feedback_open[chat_id] = routine.id
    text = f"{closing_text(routine)}\n\n{FEEDBACK_QUESTION}"
    try:
        if live.message_id is None:
            raise BadRequest("no live message")
        await _edit_live(context, chat_id, live, text, feedback_buttons(routine.id))
    except BadRequest as exc:  # the live message is gone: say it in a new one
        log.info("routine end not edited in chat %s (%s): sending it", chat_id, exc)
        await send_text(context.bot, chat_id, text, feedback_buttons(routine.id))


async def _end_live(context: BotContext, chat_id: int, live: LiveRoutine, text: str) -> None:
    """Stop a run and leave its live message with ``text`` and no buttons."""
    live.run.stop()
    await _forget(context, chat_id, live)
    try:
        await _edit_live(context, chat_id, live, text, None)
    except TelegramError as exc:  # the buttons now answer "ended" anyway
        log.info("stopped routine not edited in chat %s: %s", chat_id, exc)


def _lock(context: BotContext, chat_id: int) -> asyncio.Lock:
    """The chat's live-message lock.

    Jobs are not updates, so the per-chat update order does not cover them: without
    this, a step being drawn when Stop is pressed could land after the "Stopped" edit
    and put a live step back on screen.
    """
    return context.bot_data.routine_locks.setdefault(chat_id, asyncio.Lock())


async def start_routine(context: BotContext, chat_id: int, routine: Routine) -> LiveRoutine:
    """Start ``routine`` in ``chat_id``, replacing (and naming) any routine still running."""
    async with _lock(context, chat_id):
        return await _start(context, chat_id, routine)


async def _start(context: BotContext, chat_id: int, routine: Routine) -> LiveRoutine:
    services = context.services
    runs = context.bot_data.routines
    old = runs.get(chat_id)
    notice = ""
    if old is not None and not old.run.finished:
        notice = replaced_text(old.run.routine, routine) + "\n\n"
        await _end_live(context, chat_id, old, stopped_text(old.run.routine))
    _cancel_job(context, chat_id)
    run = RoutineRun(routine, time_scale=services.settings.time_scale)
    live = LiveRoutine(run=run, token=secrets.token_hex(3))
    runs[chat_id] = live
    safety = services.knowledge.routines_file.safety
    await send_text(context.bot, chat_id, notice + intro_text(routine, safety, CONTROLS))
    if runs.get(chat_id) is live:
        await _show_current_step(context, chat_id, live)
    return live


async def step_due(context: BotContext) -> None:
    """Move a routine to its next step when the current one's time is up."""
    job = context.job
    assert job is not None and job.chat_id is not None
    token: str
    index: int
    token, index = job.data  # type: ignore[misc]  # PTB types job.data as object
    chat_id = job.chat_id
    async with _lock(context, chat_id):
        live = context.bot_data.routines.get(chat_id)
        # A stale job (the run was paused, skipped, stopped or replaced) does nothing.
        if live is None or live.token != token or live.run.index != index:
            return
        if live.run.paused or live.run.finished:
            return
        live.run.next()
        await _show_current_step(context, chat_id, live)


# -- handlers ---------------------------------------------------------------------------


async def routine_command(update: Update, context: BotContext) -> None:
    """Offer the routines as buttons; ``/routine <id>`` starts one directly."""
    chat = update.effective_chat
    if chat is None:
        return
    knowledge = context.services.knowledge
    if context.args:
        routine = knowledge.routines.get(context.args[0].lower())
        if routine is not None:
            await start_routine(context, chat.id, routine)
            return
    await offer_routines(update, context)


async def offer_routines(update: Update, context: BotContext) -> None:
    """Send the list of routines with a button for each."""
    chat = update.effective_chat
    if chat is None:
        return
    routines = list(context.services.knowledge.routines.values())
    await send_text(
        context.bot, chat.id, menu_text(routines) + "\n\nPick one:", routine_buttons(routines)
    )


async def stop_command(update: Update, context: BotContext) -> None:
    """Stop the routine running in this chat."""
    chat = update.effective_chat
    if chat is None:
        return
    async with _lock(context, chat.id):
        live = context.bot_data.routines.get(chat.id)
        if live is None or live.run.finished:
            text = NOTHING_RUNNING
        else:
            text = stopped_text(live.run.routine)
            await _end_live(context, chat.id, live, text)
    await send_text(context.bot, chat.id, text)


async def _answer(update: Update, text: str | None = None) -> None:
    query = update.callback_query
    if query is None:
        return
    try:
        await query.answer(text)
    except TelegramError as exc:  # too old to answer: what the press does still counts
        log.debug("answerCallbackQuery failed: %s", exc)


async def routine_button(update: Update, context: BotContext) -> None:
    """Start a routine, or pause, resume, skip or stop the live one, from its buttons."""
    query = update.callback_query
    chat = update.effective_chat
    payload = callbacks.parse(query.data if query else None)
    if query is None or chat is None:
        return
    services = context.services
    if isinstance(payload, RoutineStart):
        routine = services.knowledge.routines.get(payload.routine)
        if routine is None:
            await _answer(update, "That routine is no longer available.")
            await offer_routines(update, context)
            return
        await _answer(update, f"Starting {routine.title}")
        await start_routine(context, chat.id, routine)
        return
    if not isinstance(payload, RoutineControl):
        return
    async with _lock(context, chat.id):
        await _control(update, context, chat.id, payload)


async def _control(
    update: Update, context: BotContext, chat_id: int, payload: RoutineControl
) -> None:
    """Pause, resume, skip or stop the live run (the chat's lock is held)."""
    live = context.bot_data.routines.get(chat_id)
    if live is None or live.token != payload.run or live.run.finished:
        # A button of an older, stopped or finished run: it must not touch the current one.
        await _answer(update, ENDED_TEXT)
        return
    run = live.run
    if payload.action == "pause":
        if run.pause():
            _cancel_job(context, chat_id)
        await _answer(update, "Paused. Press Resume when you are ready.")
        await _edit_live(context, chat_id, live, _caption(live), control_buttons(live.token, True))
    elif payload.action == "resume":
        if run.resume():
            _schedule(context, chat_id, live)
        await _answer(update, "Carrying on.")
        await _edit_live(context, chat_id, live, _caption(live), control_buttons(live.token, False))
    elif payload.action == "next":
        await _answer(update)
        _cancel_job(context, chat_id)
        run.next()
        await _show_current_step(context, chat_id, live)
    elif payload.action == "stop":
        await _answer(update, "Stopped.")
        await _end_live(context, chat_id, live, stopped_text(run.routine))


async def feedback_button(update: Update, context: BotContext) -> None:
    """Count a "How do you feel?" answer (aggregate only) and reply kindly."""
    query = update.callback_query
    chat = update.effective_chat
    payload = callbacks.parse(query.data if query else None)
    if query is None or chat is None or not isinstance(payload, RoutineFeeling):
        return
    routine_id, feeling = payload.routine, payload.feeling
    services = context.services
    if routine_id not in services.knowledge.routines:
        await _answer(update)
        return
    # Count one answer per finished routine: a second press or an old button is not counted.
    if context.bot_data.feedback_open.get(chat.id) != routine_id:
        await _answer(update, "Thanks, I already have your answer.")
        return
    del context.bot_data.feedback_open[chat.id]
    await services.store.record_routine_feedback(routine_id, feeling)
    await _answer(update, "Thank you!")
    try:
        await query.edit_message_reply_markup(reply_markup=None)
    except BadRequest as exc:  # too old to edit: the answer is counted anyway
        log.debug("feedback buttons not removed: %s", exc)
    markup = None
    if feeling == "worse":
        button = topic_button(services.knowledge, "safety")
        markup = InlineKeyboardMarkup([[button]]) if button is not None else None
    await send_text(context.bot, chat.id, feedback_reply(feeling), markup)


async def routine_stats_command(update: Update, context: BotContext) -> None:
    """Show the aggregate "How do you feel?" counts (admins only)."""
    chat_id = await admin_chat(update, context)
    if chat_id is None:
        return
    services = context.services
    counts = await services.store.routine_feedback_counts()
    lines = ["How people felt after each routine (better / same / worse):"]
    for routine in services.knowledge.routines.values():
        row = counts.get(routine.id, {})
        numbers = " / ".join(str(row.get(f, 0)) for f in FEELINGS)
        lines.append(f"{routine.title} ({routine.id}): {numbers}")
    await send_text(context.bot, chat_id, "\n".join(lines))


# -- after a restart --------------------------------------------------------------------


async def end_interrupted_routines(application: BotApplication) -> int:
    """End every routine a restart cut short: buttons off the live message, and a note.

    Returns how many were ended. (Resuming would need the step's time left, which a
    hard stop does not leave behind; a short, honest note is kinder than a guess.)
    """
    services = application.bot_data.services
    bot = application.bot
    ended = 0
    for row in await services.store.routine_runs():
        routine = services.knowledge.routines.get(row.routine_id)
        await services.store.end_routine_run(row.chat_id, row.token)
        if routine is None:
            continue
        text = interrupted_text(routine)
        if row.message_id is not None:
            try:
                await bot.edit_message_reply_markup(row.chat_id, row.message_id, reply_markup=None)
            except TelegramError as exc:  # gone or too old: the note below still goes
                log.info("interrupted routine not edited in chat %s: %s", row.chat_id, exc)
        again = InlineKeyboardMarkup(
            [
                [
                    InlineKeyboardButton(
                        button_label(routine),
                        callback_data=callbacks.pack(RoutineStart(routine.id)),
                    )
                ]
            ]
        )
        if await send_text(bot, row.chat_id, text, again):
            ended += 1
    if ended:
        log.info("ended %d routine(s) cut short by a restart", ended)
    return ended


# -- after a topic's answer -------------------------------------------------------------


async def routine_topic_extra(update: Update, context: BotContext, reply: Reply) -> None:
    """After the ``routine`` topic's answer: the routines as buttons."""
    await offer_routines(update, context)


async def foot_map_topic_extra(update: Update, context: BotContext, reply: Reply) -> None:
    """After the ``foot-map`` topic's answer: the chart, the entry's area highlighted."""
    chat = update.effective_chat
    if chat is None:
        return
    try:
        picture = map_picture(reply.entry, context.services.knowledge)
        await send_map_picture(context.bot, chat.id, context.services.foot_maps, picture)
    except TelegramError as exc:  # the answer itself was sent; the picture is a bonus
        log.warning("foot map not sent to chat %s: %s", chat.id, exc)


# -- the feature ------------------------------------------------------------------------


class RoutinesFeature(Feature):
    """/routine, /stop, /routinestats and the routine buttons."""

    name = "routines"

    def handlers(self) -> list[BaseHandler[Any, Any, Any]]:
        """Commands and buttons of the routines feature."""
        return [
            CommandHandler("routine", routine_command),
            CommandHandler("stop", stop_command),
            CommandHandler("routinestats", routine_stats_command),
            CallbackQueryHandler(
                routine_button, pattern=callbacks.matches((RoutineStart, RoutineControl))
            ),
            CallbackQueryHandler(feedback_button, pattern=callbacks.matches(RoutineFeeling)),
        ]

    def commands(self) -> list[BotCommand]:
        """Menu entries (``/routinestats`` is for admins and stays out of the menu)."""
        return [
            BotCommand("routine", "A guided self-massage routine (3-10 min)"),
            BotCommand("stop", "Stop the running routine"),
        ]

    def topic_extras(self) -> dict[str, TopicExtra]:
        """Extra sends after the ``routine`` and ``foot-map`` answers."""
        return {"routine": routine_topic_extra, "foot-map": foot_map_topic_extra}

    async def post_init(self, application: BotApplication) -> None:
        """Routines cut short by the last stop get their note."""
        await end_interrupted_routines(application)


__all__ = [
    "RoutinesFeature",
    "control_buttons",
    "end_interrupted_routines",
    "feedback_buttons",
    "routine_buttons",
    "start_routine",
]
