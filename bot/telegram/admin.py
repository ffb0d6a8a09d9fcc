"""Admin commands, the /privacy statement, and the counting behind /stats.

- ``/stats`` (``BOT_ADMIN_IDS`` only): counts, never a user id or a message: people with
  settings stored, daily-tip subscribers, chats that wrote today, questions by kind of
  reply today and over the last 7 days, routine and reply feedback totals, and how many
  questions wait for review.
- ``/reload`` (admins only): re-reads and validates the knowledge base; a broken one is
  refused with its problems listed and the running one is kept.
- ``/privacy`` (everyone): what the bot keeps, for how long, and how to delete it.

Admins get a command menu of their own (``BotCommandScopeChat``) with the two admin
commands added; everyone else's menu does not show them. ``note_reply`` is called by the
Q&A feature for every answered question: it only counts in memory (``bot.insights``), and
a job writes the counts in a thread every ``FLUSH_SECONDS``.
"""

from __future__ import annotations

import asyncio
import logging

from telegram import BotCommand, BotCommandScopeChat, Update
from telegram.error import TelegramError
from telegram.ext import Application, BaseHandler, CommandHandler, ContextTypes

from bot.core.knowledge import Knowledge, KnowledgeError, load_knowledge
from bot.core.reply import Reply, ReplyKind
from bot.insights import FLUSH_SECONDS, REVIEW_DAYS, Insights, InsightStore, today
from bot.telegram.sending import send_text
from bot.telegram.services import COMMANDS_KEY, SERVICES_KEY, Services, get_services

log = logging.getLogger(__name__)

INSIGHTS_KEY = "insights"  # in Services.state
ADMINS_ONLY = "Sorry, that command is for the bot's admins."
RELOADING = "Reloading the knowledge base..."
MAX_PROBLEMS_SHOWN = 30
KIND_LABELS = {
    ReplyKind.ANSWER.value: "answered",
    ReplyKind.CLARIFY.value: '"did you mean"',
    ReplyKind.FALLBACK.value: "not understood",
    ReplyKind.URGENT.value: "urgent",
    ReplyKind.SEE_SOON.value: "see a professional",
    ReplyKind.GREETING.value: "greeting",
    ReplyKind.ENGLISH_ONLY.value: "not English",
}

PRIVACY_TEXT = (
    "What I keep, and for how long:\n\n"
    "• Daily tips: if you subscribe, your chat id, time zone, daily time and which tips you "
    "have seen, until you unsubscribe or send /forget (which deletes all of it).\n"
    '• The conversation: the topic of your last question, so that "why?" makes sense; '
    "never your words, in memory only, for 30 minutes.\n"
    "• Counts: how many questions got which kind of answer each day, and how people felt "
    "after a routine, as totals with nothing that points to you.\n"
    "{review}\n\n"
    "Your messages are never written to the bot's logs, and nothing is shared with anyone."
)
REVIEW_ON = (
    "• Questions I could not answer: their text, without your name, chat or user id, so the "
    "editors can teach me those questions; phone numbers and e-mail addresses are masked, "
    "urgent messages are never kept, and each question is deleted after {days} days."
)
REVIEW_OFF = "• Questions I could not answer are not kept."


def _admin_commands() -> list[BotCommand]:
    return [
        BotCommand("stats", "Counts: people, subscribers, answers (admins)"),
        BotCommand("reload", "Re-read the knowledge base (admins)"),
    ]


def commands() -> list[BotCommand]:
    """Everyone's menu: /privacy (the admin commands go in the admins' own menu)."""
    return [BotCommand("privacy", "What I keep about you")]


def insights_of(services: Services) -> Insights | None:
    found = services.state.get(INSIGHTS_KEY)
    return found if isinstance(found, Insights) else None


def note_reply(context: ContextTypes.DEFAULT_TYPE, chat_id: int, text: str, reply: Reply) -> None:
    """Count one answered question (and keep it for review when unanswered and allowed)."""
    insights = insights_of(get_services(context))
    if insights is not None:
        urgent = reply.kind is ReplyKind.URGENT or reply.urgent
        insights.note(chat_id, text, reply.kind.value, urgent=urgent, topic=reply.topic)


def _is_admin(update: Update, services: Services) -> bool:
    user = update.effective_user
    return user is not None and user.id in services.settings.admin_ids


def _kinds_line(label: str, kinds: dict[str, int]) -> str:
    total = sum(kinds.values())
    parts = [
        f"{KIND_LABELS.get(kind, kind)} {n}"
        for kind, n in sorted(kinds.items(), key=lambda item: -item[1])
    ]
    return f"{label}: {total}" + (f" ({', '.join(parts)})" if parts else "")


async def stats(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Show aggregate counters to an admin."""
    chat = update.effective_chat
    if chat is None:
        return
    services = get_services(context)
    if not _is_admin(update, services):
        await send_text(context.bot, chat.id, ADMINS_ONLY)
        return
    store = services.store
    people = await asyncio.to_thread(store.user_count)
    subscribers = await asyncio.to_thread(store.subscriber_count)
    feedback = await asyncio.to_thread(store.routine_feedback_counts)
    insights = insights_of(services)
    day = today()
    lines = [
        "Statistics (counts only)",
        f"People with settings stored: {people}",
        f"Daily-tip subscribers: {subscribers}",
    ]
    if insights is not None:
        await insights.flush()  # so the figures include the last few minutes
        totals = await asyncio.to_thread(insights.store.totals, day)
        lines += [
            f"Chats that wrote today: at least {totals.chats_today}",
            _kinds_line("Questions today", totals.kinds_today),
            _kinds_line("Questions in the last 7 days", totals.kinds_week),
        ]
    feelings: dict[str, int] = {}
    for row in feedback.values():
        for feeling, count in row.items():
            feelings[feeling] = feelings.get(feeling, 0) + count
    if feelings:
        lines.append(
            "Routine feedback: "
            + ", ".join(f"{feeling} {n}" for feeling, n in sorted(feelings.items()))
        )
    reply_feedback = getattr(store, "reply_feedback_counts", None)  # when the store has it
    if callable(reply_feedback):
        counts = await asyncio.to_thread(reply_feedback)
        if isinstance(counts, dict) and counts:
            lines.append(
                "Reply feedback: " + ", ".join(f"{k} {v}" for k, v in sorted(counts.items()))
            )
    if insights is not None and insights.review:
        lines.append(
            f"Questions waiting for review: {totals.review_waiting} (python -m bot review)"
        )
    else:
        lines.append("Review of unanswered questions: off (BOT_REVIEW=on to keep them)")
    await send_text(context.bot, chat.id, "\n".join(lines))


def _describe(knowledge: Knowledge) -> str:
    entries = sum(len(e) for e in knowledge.entries.values())
    return (
        f"{len(knowledge.topics)} topics, {entries} entries, {len(knowledge.routines)} routines,"
        f" {len(knowledge.tips)} tips"
    )


async def reload(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Re-read the knowledge base; keep the running one if the new one is broken."""
    chat = update.effective_chat
    if chat is None:
        return
    services = get_services(context)
    if not _is_admin(update, services):
        await send_text(context.bot, chat.id, ADMINS_ONLY)
        return
    from bot.core.companion import Companion

    directory = services.knowledge.directory
    try:
        knowledge = await asyncio.to_thread(load_knowledge, directory)
        companion = await asyncio.to_thread(Companion, knowledge)
    except KnowledgeError as exc:
        problems = [str(p) for p in exc.problems]
        shown = problems[:MAX_PROBLEMS_SHOWN]
        more = len(problems) - len(shown)
        text = "\n".join(
            [
                f"Not reloaded: the knowledge base has {len(problems)} problem"
                f"{'s' if len(problems) != 1 else ''}. The running one is kept.",
                "",
                *(f"• {p}" for p in shown),
                *([f"... and {more} more (python -m bot kb check)"] if more > 0 else []),
            ]
        )
        log.warning("reload refused: %d problems in the knowledge base", len(problems))
        await send_text(context.bot, chat.id, text)
        return
    companion.contexts = services.companion.contexts  # conversations carry on
    services.knowledge = knowledge
    services.companion = companion
    log.info("knowledge reloaded: %s", _describe(knowledge))
    await send_text(context.bot, chat.id, f"Reloaded: {_describe(knowledge)}.")


async def privacy(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Say what the bot keeps, for how long, and how to delete it."""
    chat = update.effective_chat
    if chat is None:
        return
    review = get_services(context).settings.review
    text = PRIVACY_TEXT.format(review=REVIEW_ON.format(days=REVIEW_DAYS) if review else REVIEW_OFF)
    await send_text(context.bot, chat.id, text)


def handlers() -> list[BaseHandler]:
    """/stats, /reload and /privacy."""
    return [
        CommandHandler("stats", stats),
        CommandHandler("reload", reload),
        CommandHandler("privacy", privacy),
    ]


async def _flush_job(context: ContextTypes.DEFAULT_TYPE) -> None:
    insights = insights_of(get_services(context))
    if insights is not None:
        await insights.flush()


async def post_init(application: Application) -> None:
    """Open the counters, schedule their writes, and give admins their own menu."""
    services = application.bot_data[SERVICES_KEY]
    assert isinstance(services, Services)
    store = await asyncio.to_thread(InsightStore, services.settings.data_dir)
    services.state[INSIGHTS_KEY] = Insights(store, review=services.settings.review)
    if application.job_queue is not None:
        application.job_queue.run_repeating(
            _flush_job, interval=FLUSH_SECONDS, first=FLUSH_SECONDS, name="insights-flush"
        )
    if services.settings.admin_ids:
        menu = [*application.bot_data.get(COMMANDS_KEY, []), *_admin_commands()]
        for admin_id in sorted(services.settings.admin_ids):
            try:
                await application.bot.set_my_commands(menu, scope=BotCommandScopeChat(admin_id))
            except TelegramError as exc:  # e.g. the admin never opened the chat: not fatal
                log.warning("the admins' command menu was not set for one admin: %s", exc)


async def post_shutdown(application: Application) -> None:
    """Write the last counts and close the file."""
    services = application.bot_data.get(SERVICES_KEY)
    if not isinstance(services, Services):
        return
    insights = insights_of(services)
    if insights is not None:
        await insights.flush()
        insights.store.close()


__all__ = ["commands", "handlers", "note_reply", "post_init", "post_shutdown"]
