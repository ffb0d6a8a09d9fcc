"""Admin commands and the counting behind /stats.

- ``/stats`` (``BOT_ADMIN_IDS`` only): counts, never a user id or a message: people with
  settings stored, daily-tip subscribers, chats that wrote today, questions by kind of
  reply today and over the last 7 days, routine and reply feedback totals, and how many
  questions wait for review.
- ``/reload`` (admins only): re-reads and validates the knowledge base; a broken one is
  refused with its problems listed and the running one is kept. With several workers on
  one database the reload bumps the knowledge version there; every other worker checks
  it every ``RELOAD_CHECK_SECONDS`` and reloads its own copy of the files (each worker
  validates for itself and keeps what it runs on a broken one).

Admins get a command menu of their own (``BotCommandScopeChat``) with the two admin
commands added; everyone else's menu does not show them. ``note_reply`` is called by the
Q&A feature for every answered question: it only counts in memory (``bot.insights``), and
a job writes the counts in a thread every ``FLUSH_SECONDS``. The counters are kept in
their own SQLite file in ``BOT_DATA_DIR`` whichever database holds the subscriptions.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from telegram import BotCommand, BotCommandScopeChat, Update
from telegram.error import TelegramError
from telegram.ext import BaseHandler, CommandHandler

from bot.core.knowledge import Knowledge, KnowledgeError, load_knowledge
from bot.core.reply import Reply, ReplyKind
from bot.insights import FLUSH_SECONDS, Insights, InsightStore, today
from bot.storage import StorageError
from bot.telegram.context import BotApplication, BotContext
from bot.telegram.feature import Feature
from bot.telegram.sending import send_text
from bot.telegram.services import Services

log = logging.getLogger(__name__)

INSIGHTS_KEY = "insights"  # in Services.state
VERSION_KEY = "knowledge-version"  # in Services.state: the version this worker runs
RELOAD_CHECK_SECONDS = 5.0  # how often a worker on a shared database looks for a /reload
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


def _admin_commands() -> list[BotCommand]:
    return [
        BotCommand("stats", "Counts: people, subscribers, answers (admins)"),
        BotCommand("reload", "Re-read the knowledge base (admins)"),
    ]


def insights_of(services: Services) -> Insights | None:
    found = services.state.get(INSIGHTS_KEY)
    return found if isinstance(found, Insights) else None


def note_reply(context: BotContext, chat_id: int, text: str, reply: Reply) -> None:
    """Count one answered question (and keep it for review when unanswered and allowed)."""
    insights = insights_of(context.services)
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


async def admin_chat(update: Update, context: BotContext) -> int | None:
    """The chat to answer when an admin sent the command; else None (after saying so)."""
    chat = update.effective_chat
    if chat is None:
        return None
    if not _is_admin(update, context.services):
        await send_text(context.bot, chat.id, ADMINS_ONLY)
        return None
    return chat.id


async def stats(update: Update, context: BotContext) -> None:
    """Show aggregate counters to an admin."""
    chat_id = await admin_chat(update, context)
    if chat_id is None:
        return
    services = context.services
    store = services.store
    people = await store.user_count()
    subscribers = await store.subscriber_count()
    feedback = await store.routine_feedback_counts()
    votes = await store.answer_vote_counts()
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
    if votes:
        helped = sum(yes for yes, _ in votes.values())
        not_helped = sum(no for _, no in votes.values())
        lines.append(f"Did this help? 👍 {helped} 👎 {not_helped} (per entry: /answerstats)")
    if insights is not None and insights.review:
        lines.append(
            f"Questions waiting for review: {totals.review_waiting} (python -m bot review)"
        )
    else:
        lines.append("Review of unanswered questions: off (BOT_REVIEW=on to keep them)")
    await send_text(context.bot, chat_id, "\n".join(lines))


def _describe(knowledge: Knowledge) -> str:
    entries = sum(len(e) for e in knowledge.entries.values())
    return (
        f"{len(knowledge.topics)} topics, {entries} entries, {len(knowledge.routines)} routines,"
        f" {len(knowledge.tips)} tips"
    )


async def reload(update: Update, context: BotContext) -> None:
    """Re-read the knowledge base; keep the running one if the new one is broken."""
    chat_id = await admin_chat(update, context)
    if chat_id is None:
        return
    services = context.services
    try:
        knowledge = await _load_again(services)
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
        await send_text(context.bot, chat_id, text)
        return
    note = ""
    if services.store.shared:
        try:
            services.state[VERSION_KEY] = await services.store.bump_knowledge_version()
        except StorageError:
            note = " The other workers were not told (the database failed): /reload again."
    await send_text(context.bot, chat_id, f"Reloaded: {_describe(knowledge)}.{note}")


async def _load_again(services: Services) -> Knowledge:
    """Read, validate and install the knowledge base (``KnowledgeError``: nothing changed)."""
    from bot.core.companion import Companion

    knowledge = await asyncio.to_thread(load_knowledge, services.knowledge.directory)
    companion = await asyncio.to_thread(Companion, knowledge)
    companion.contexts = services.companion.contexts  # conversations carry on
    services.knowledge = knowledge
    services.companion = companion
    log.info("knowledge reloaded: %s", _describe(knowledge))
    return knowledge


async def _reload_check_job(context: BotContext) -> None:
    """Reload when another worker's /reload moved the shared knowledge version on."""
    services = context.services
    try:
        version = await services.store.knowledge_version()
    except StorageError:
        return  # logged by the store; checked again shortly
    if version <= int(services.state.get(VERSION_KEY, 0)):
        return
    services.state[VERSION_KEY] = version  # once per version, even if it is refused here
    # Loading takes seconds: in a task of its own, so the next checks are not held up.
    context.application.create_task(_reload_here(services), name="reload-from-another-worker")


async def _reload_here(services: Services) -> None:
    try:
        await _load_again(services)
    except KnowledgeError as exc:
        log.warning(
            "reload from another worker refused here: %d problems in the knowledge base",
            len(exc.problems),
        )


async def _flush_job(context: BotContext) -> None:
    insights = insights_of(context.services)
    if insights is not None:
        await insights.flush()


class AdminFeature(Feature):
    """/stats and /reload for BOT_ADMIN_IDS, with their own command menu; the counters."""

    name = "admin"

    def handlers(self) -> list[BaseHandler[Any, Any, Any]]:
        """/stats and /reload (each checks the sender is an admin)."""
        return [CommandHandler("stats", stats), CommandHandler("reload", reload)]

    async def post_init(self, application: BotApplication) -> None:
        """Open the counters, schedule their writes, and give admins their own menu."""
        services = application.bot_data.services
        store = await asyncio.to_thread(InsightStore, services.settings.data_dir)
        services.state[INSIGHTS_KEY] = Insights(store, review=services.settings.review)
        if application.job_queue is not None:
            application.job_queue.run_repeating(
                _flush_job, interval=FLUSH_SECONDS, first=FLUSH_SECONDS, name="insights-flush"
            )
        if services.store.shared:
            try:
                services.state[VERSION_KEY] = await services.store.knowledge_version()
            except StorageError:
                services.state[VERSION_KEY] = 0
            if application.job_queue is not None:
                every = RELOAD_CHECK_SECONDS * min(services.settings.time_scale, 1.0)
                application.job_queue.run_repeating(
                    _reload_check_job, interval=every, first=every, name="reload-check"
                )
        if services.settings.admin_ids:
            menu = [*application.bot_data.commands, *_admin_commands()]
            for admin_id in sorted(services.settings.admin_ids):
                try:
                    scope = BotCommandScopeChat(admin_id)
                    await application.bot.set_my_commands(menu, scope=scope)
                except TelegramError as exc:  # e.g. the admin never opened the chat
                    log.warning("the admins' command menu was not set for one admin: %s", exc)

    async def post_shutdown(self, application: BotApplication) -> None:
        """Write the last counts and close the counters' file."""
        insights = insights_of(application.bot_data.services)
        if insights is not None:
            await insights.flush()
            insights.store.close()


__all__ = ["ADMINS_ONLY", "AdminFeature", "admin_chat", "note_reply"]
