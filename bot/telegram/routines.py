"""Guided routines on Telegram.

``/routine`` offers the routines as buttons (``r:start:<id>``). A started routine
sends the safety line and step 1, then each step when its time is up, through one
JobQueue job per chat (``routine:<chat_id>``): starting another routine replaces the
running one and says so. Every step has Pause / Resume, Next and Stop buttons
(``r:pause`` ...); ``/stop`` ends it too. A step on a foot zone comes as the chart
with that zone highlighted. At the end: "How do you feel?" with better / same /
worse (``fb:<routine>:<feeling>``), counted in aggregate only (no user id).
``/routinestats`` shows those counts to BOT_ADMIN_IDS.

The run itself (which step, paused, time left) is ``bot.core.routines.RoutineRun``,
kept in ``Services.state["routines"][chat_id]``.
"""

from __future__ import annotations

import logging
from typing import Any

from telegram import (
    BotCommand,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    Update,
)
from telegram.error import BadRequest, Forbidden, TelegramError
from telegram.ext import (
    BaseHandler,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    JobQueue,
)

from bot.core.foot_zones import FOOT_ZONES
from bot.core.knowledge import Routine
from bot.core.reply import Reply
from bot.core.routines import (
    FEEDBACK_QUESTION,
    FEELING_LABELS,
    FEELINGS,
    RoutineRun,
    button_label,
    closing_text,
    feedback_reply,
    intro_text,
    menu_text,
    replaced_text,
    step_text,
    stopped_text,
)
from bot.telegram.keyboards import topic_button
from bot.telegram.pictures import send_foot_map
from bot.telegram.sending import send_text
from bot.telegram.services import Services, get_services

log = logging.getLogger(__name__)

RUNS_KEY = "routines"  # Services.state[RUNS_KEY]: chat_id -> RoutineRun
FEEDBACK_KEY = "routine_feedback_open"  # chat_id -> routine id awaiting "How do you feel?"
NOTHING_RUNNING = "No routine is running. Start one with /routine."


def _job_name(chat_id: int) -> str:
    return f"routine:{chat_id}"


def _runs(services: Services) -> dict[int, RoutineRun]:
    runs: dict[int, RoutineRun] = services.state.setdefault(RUNS_KEY, {})
    return runs


def _open_feedback(services: Services) -> dict[int, str]:
    open_: dict[int, str] = services.state.setdefault(FEEDBACK_KEY, {})
    return open_


# -- keyboards --------------------------------------------------------------------------


def routine_buttons(routines: list[Routine]) -> InlineKeyboardMarkup:
    """One button per routine."""
    return InlineKeyboardMarkup(
        [[InlineKeyboardButton(button_label(r), callback_data=f"r:start:{r.id}")] for r in routines]
    )


def control_buttons(paused: bool) -> InlineKeyboardMarkup:
    """Pause (or Resume), Next and Stop."""
    first = (
        InlineKeyboardButton("▶️ Resume", callback_data="r:resume")
        if paused
        else InlineKeyboardButton("⏸ Pause", callback_data="r:pause")
    )
    return InlineKeyboardMarkup(
        [
            [
                first,
                InlineKeyboardButton("⏭ Next", callback_data="r:next"),
                InlineKeyboardButton("⏹ Stop", callback_data="r:stop"),
            ]
        ]
    )


def feedback_buttons(routine_id: str) -> InlineKeyboardMarkup:
    """better / same / worse for one routine."""
    return InlineKeyboardMarkup(
        [
            [
                InlineKeyboardButton(FEELING_LABELS[f], callback_data=f"fb:{routine_id}:{f}")
                for f in FEELINGS
            ]
        ]
    )


# -- running a routine ------------------------------------------------------------------


def _job_queue(context: ContextTypes.DEFAULT_TYPE) -> JobQueue[Any]:
    job_queue = context.application.job_queue
    if job_queue is None:  # pragma: no cover - the job-queue extra is a dependency
        raise RuntimeError("routines need python-telegram-bot[job-queue]")
    return job_queue


def _cancel_job(context: ContextTypes.DEFAULT_TYPE, chat_id: int) -> None:
    for job in _job_queue(context).get_jobs_by_name(_job_name(chat_id)):
        job.schedule_removal()


def _schedule(context: ContextTypes.DEFAULT_TYPE, chat_id: int, run: RoutineRun) -> None:
    """(Re)schedule the job that moves ``run`` on when the current step's time is up."""
    _cancel_job(context, chat_id)
    _job_queue(context).run_once(
        step_due,
        when=run.remaining(),
        chat_id=chat_id,
        name=_job_name(chat_id),
        data=(run, run.index),
    )


async def _send_step(context: ContextTypes.DEFAULT_TYPE, chat_id: int, run: RoutineRun) -> None:
    step = run.step
    if step is None:
        return
    text = step_text(run.routine, run.index)
    buttons = control_buttons(paused=False)
    if step.area in FOOT_ZONES:
        services = get_services(context)
        await send_foot_map(
            context.bot, chat_id, services.foot_maps, step.area, caption=text, reply_markup=buttons
        )
    else:
        await send_text(context.bot, chat_id, text, buttons, raise_errors=True)


async def _show_current_step(
    context: ContextTypes.DEFAULT_TYPE, chat_id: int, run: RoutineRun
) -> None:
    """Send the current step and schedule the next one; finish when there is none."""
    if run.finished:
        await _finish(context, chat_id, run)
        return
    index = run.index
    try:
        await _send_step(context, chat_id, run)
    except Forbidden:
        # The person blocked the bot: nobody is listening any more.
        run.stop()
        if _runs(get_services(context)).get(chat_id) is run:
            _stop(context, chat_id)
        return
    except TelegramError as exc:
        # Keep the pace even if one step could not be delivered.
        log.warning("routine step for chat %s not sent: %s", chat_id, exc)
    # Pause, Next or Stop may have been pressed while the step was being sent.
    if _runs(get_services(context)).get(chat_id) is not run or run.index != index:
        return
    run.restart_step()  # the step's time starts once it is on screen
    if not (run.finished or run.paused):
        _schedule(context, chat_id, run)


async def _finish(context: ContextTypes.DEFAULT_TYPE, chat_id: int, run: RoutineRun) -> None:
    services = get_services(context)
    if _runs(services).get(chat_id) is run:
        del _runs(services)[chat_id]
    _cancel_job(context, chat_id)
    _open_feedback(services)[chat_id] = run.routine.id
    await send_text(
        context.bot,
        chat_id,
        f"{closing_text(run.routine)}\n\n{FEEDBACK_QUESTION}",
        feedback_buttons(run.routine.id),
    )


async def start_routine(
    context: ContextTypes.DEFAULT_TYPE, chat_id: int, routine: Routine
) -> RoutineRun:
    """Start ``routine`` in ``chat_id``, replacing (and naming) any routine still running."""
    services = get_services(context)
    runs = _runs(services)
    old = runs.get(chat_id)
    notice = ""
    if old is not None and not old.finished:
        old.stop()
        notice = replaced_text(old.routine, routine) + "\n\n"
    _cancel_job(context, chat_id)
    run = RoutineRun(routine, time_scale=services.settings.time_scale)
    runs[chat_id] = run
    safety = services.knowledge.routines_file.safety
    await send_text(context.bot, chat_id, notice + intro_text(routine, safety))
    if runs.get(chat_id) is run:
        await _show_current_step(context, chat_id, run)
    return run


async def step_due(context: ContextTypes.DEFAULT_TYPE) -> None:
    """Move a routine to its next step when the current one's time is up."""
    job = context.job
    assert job is not None and job.chat_id is not None
    run: RoutineRun
    index: int
    run, index = job.data  # type: ignore[misc]  # PTB types job.data as object
    chat_id = job.chat_id
    # A stale job (the run was paused, skipped, stopped or replaced) does nothing.
    if _runs(get_services(context)).get(chat_id) is not run or run.index != index:
        return
    if run.paused or run.finished:
        return
    run.next()
    await _show_current_step(context, chat_id, run)


def _stop(context: ContextTypes.DEFAULT_TYPE, chat_id: int) -> RoutineRun | None:
    run = _runs(get_services(context)).pop(chat_id, None)
    _cancel_job(context, chat_id)
    if run is None or not run.stop():
        return None
    return run


# -- handlers ---------------------------------------------------------------------------


async def routine_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Offer the routines as buttons; ``/routine <id>`` starts one directly."""
    message = update.effective_message
    chat = update.effective_chat
    if message is None or chat is None:
        return
    knowledge = get_services(context).knowledge
    if context.args:
        routine = knowledge.routines.get(context.args[0].lower())
        if routine is not None:
            await start_routine(context, chat.id, routine)
            return
    await offer_routines(update, context)


async def offer_routines(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Send the list of routines with a button for each."""
    chat = update.effective_chat
    if chat is None:
        return
    routines = list(get_services(context).knowledge.routines.values())
    await send_text(
        context.bot, chat.id, menu_text(routines) + "\n\nPick one:", routine_buttons(routines)
    )


async def stop_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Stop the routine running in this chat."""
    chat = update.effective_chat
    if chat is None:
        return
    run = _stop(context, chat.id)
    text = stopped_text(run.routine) if run is not None else NOTHING_RUNNING
    await send_text(context.bot, chat.id, text)


async def _edit_buttons(update: Update, markup: InlineKeyboardMarkup | None) -> None:
    query = update.callback_query
    if query is None or query.message is None:
        return
    try:
        await query.edit_message_reply_markup(reply_markup=markup)
    except BadRequest as exc:  # "message is not modified", or too old to edit
        log.debug("buttons not edited: %s", exc)


async def routine_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Start, pause, resume, skip or stop a routine from its buttons."""
    query = update.callback_query
    chat = update.effective_chat
    if query is None or chat is None or not query.data:
        return
    _, _, rest = query.data.partition(":")
    action, _, argument = rest.partition(":")
    services = get_services(context)
    if action == "start":
        routine = services.knowledge.routines.get(argument)
        if routine is None:
            await query.answer("That routine is no longer available.")
            await offer_routines(update, context)
            return
        await query.answer(f"Starting {routine.title}")
        await start_routine(context, chat.id, routine)
        return
    run = _runs(services).get(chat.id)
    if run is None or run.finished:
        await query.answer(NOTHING_RUNNING)
        await _edit_buttons(update, None)
        return
    if action == "pause":
        if run.pause():
            _cancel_job(context, chat.id)
        await query.answer("Paused. Press Resume when you are ready.")
        await _edit_buttons(update, control_buttons(paused=True))
    elif action == "resume":
        if run.resume():
            _schedule(context, chat.id, run)
        await query.answer("Carrying on.")
        await _edit_buttons(update, control_buttons(paused=False))
    elif action == "next":
        await query.answer()
        _cancel_job(context, chat.id)
        run.next()
        await _edit_buttons(update, None)
        await _show_current_step(context, chat.id, run)
    elif action == "stop":
        _stop(context, chat.id)
        await query.answer("Stopped.")
        await _edit_buttons(update, None)
        await send_text(context.bot, chat.id, stopped_text(run.routine))
    else:
        await query.answer()


async def feedback_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Count a "How do you feel?" answer (aggregate only) and reply kindly."""
    query = update.callback_query
    chat = update.effective_chat
    if query is None or chat is None or not query.data:
        return
    _, routine_id, feeling = [*query.data.split(":", 2), "", ""][:3]
    services = get_services(context)
    if routine_id not in services.knowledge.routines or feeling not in FEELINGS:
        await query.answer()
        return
    # Count one answer per finished routine: a second press or an old button is not counted.
    if _open_feedback(services).get(chat.id) != routine_id:
        await query.answer("Thanks, I already have your answer.")
        await _edit_buttons(update, None)
        return
    del _open_feedback(services)[chat.id]
    await services.store.record_routine_feedback(routine_id, feeling)
    await query.answer("Thank you!")
    await _edit_buttons(update, None)
    markup = None
    if feeling == "worse":
        button = topic_button(services.knowledge, "safety")
        markup = InlineKeyboardMarkup([[button]]) if button is not None else None
    await send_text(context.bot, chat.id, feedback_reply(feeling), markup)


async def routine_stats_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Show the aggregate "How do you feel?" counts (admins only)."""
    chat = update.effective_chat
    user = update.effective_user
    if chat is None:
        return
    services = get_services(context)
    if user is None or user.id not in services.settings.admin_ids:
        await send_text(context.bot, chat.id, "Sorry, that command is for the bot's admins.")
        return
    counts = await services.store.routine_feedback_counts()
    lines = ["How people felt after each routine (better / same / worse):"]
    for routine in services.knowledge.routines.values():
        row = counts.get(routine.id, {})
        numbers = " / ".join(str(row.get(f, 0)) for f in FEELINGS)
        lines.append(f"{routine.title} ({routine.id}): {numbers}")
    await send_text(context.bot, chat.id, "\n".join(lines))


# -- after a topic's answer -------------------------------------------------------------


async def routine_topic_extra(
    update: Update, context: ContextTypes.DEFAULT_TYPE, reply: Reply
) -> None:
    """After the ``routine`` topic's answer: the routines as buttons."""
    await offer_routines(update, context)


async def foot_map_topic_extra(
    update: Update, context: ContextTypes.DEFAULT_TYPE, reply: Reply
) -> None:
    """After the ``foot-map`` topic's answer: the chart itself."""
    chat = update.effective_chat
    if chat is None:
        return
    try:
        await send_foot_map(context.bot, chat.id, get_services(context).foot_maps)
    except TelegramError as exc:  # the answer itself was sent; the picture is a bonus
        log.warning("foot map not sent to chat %s: %s", chat.id, exc)


# -- the feature contract (bot/telegram/app.py) -----------------------------------------


def handlers() -> list[BaseHandler[Any, Any, Any]]:
    """Commands and buttons of the routines feature."""
    return [
        CommandHandler("routine", routine_command),
        CommandHandler("stop", stop_command),
        CommandHandler("routinestats", routine_stats_command),
        CallbackQueryHandler(routine_button, pattern=r"^r:"),
        CallbackQueryHandler(feedback_button, pattern=r"^fb:"),
    ]


def commands() -> list[BotCommand]:
    """Menu entries (``/routinestats`` is for admins and stays out of the menu)."""
    return [
        BotCommand("routine", "A guided self-massage routine (3-10 min)"),
        BotCommand("stop", "Stop the running routine"),
    ]


def topic_extras() -> dict[str, Any]:
    """Extra sends after the ``routine`` and ``foot-map`` answers."""
    return {"routine": routine_topic_extra, "foot-map": foot_map_topic_extra}


__all__ = [
    "commands",
    "control_buttons",
    "feedback_buttons",
    "handlers",
    "routine_buttons",
    "start_routine",
    "topic_extras",
]
