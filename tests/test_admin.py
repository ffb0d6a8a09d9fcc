"""Admin commands (/stats, /reload), the admins' own command menu, and /privacy.

Through the real Application (``build_application``) over the in-process fake Bot API,
with the real knowledge base and SQLite in a temporary folder. The admin is user 777
(``BOT_ADMIN_IDS`` in the ``settings`` fixture).
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from bot.config import Settings
from bot.core.companion import Companion
from bot.core.knowledge import load_knowledge
from bot.telegram.admin import ADMINS_ONLY
from bot.telegram.app import build_application
from bot.telegram.privacy import REVIEW_OFF
from tests.support.recording_request import RecordingRequest, running_application

ADMIN = 777
USER = 4242


def _menu(api: RecordingRequest, scope: dict | None) -> list[str]:
    key = json.dumps([scope, ""], sort_keys=True)
    return [c["command"] for c in api.commands.get(key, [])]


async def test_admins_get_their_own_menu_and_everyone_else_does_not(app, api) -> None:
    public = _menu(api, None)
    admin = _menu(api, {"type": "chat", "chat_id": ADMIN})
    assert "privacy" in public
    assert "stats" not in public and "reload" not in public
    assert {"stats", "reload"} <= set(admin)
    assert set(public) <= set(admin)


async def test_stats_is_refused_to_others_and_counts_without_ids_or_text(app, api) -> None:
    api.push_text(USER, "/stats")
    [refusal] = await api.wait_for_sent("sendMessage", chat_id=USER)
    assert refusal["text"] == ADMINS_ONLY

    questions = ["what is reflexology?", "what is the capital of france", "does it really work?"]
    for question in questions:
        api.push_text(USER, question)
    api.push_text(USER + 1, "recommend a good pizza place")
    await api.wait_for_sent("sendMessage", count=4, chat_id=USER)
    await api.wait_for_sent("sendMessage", count=1, chat_id=USER + 1)
    api.push_text(ADMIN, "/daily")
    await api.wait_for_sent("sendMessage", chat_id=ADMIN)
    api.push_text(ADMIN, "/stats")
    await api.wait_for(lambda _c: any("Statistics" in t for t in api.texts(ADMIN)), timeout=5.0)
    text = next(t for t in api.texts(ADMIN) if "Statistics" in t)
    assert "Questions today: 4 (answered 2, not understood 2)" in text
    assert "Questions in the last 7 days: 4" in text
    assert "Chats that wrote today: at least 2" in text
    assert "Daily-tip subscribers: 1" in text
    assert "People with settings stored: 1" in text
    assert "Review of unanswered questions: off" in text
    for private in (str(USER), str(ADMIN), "france", "pizza", "reflexology?"):
        assert private not in text


async def test_stats_counts_survive_a_restart(settings, knowledge, companion) -> None:
    for _ in range(2):  # the second Application reads what the first one wrote at shutdown
        api = RecordingRequest()
        application = build_application(
            settings, knowledge, request=api, get_updates_request=api, companion=companion
        )
        async with running_application(application):
            api.push_text(USER, "what is the capital of france")
            await api.wait_for_sent("sendMessage", chat_id=USER)
            api.push_text(ADMIN, "/stats")
            await api.wait_for_sent("sendMessage", chat_id=ADMIN)
    assert "Questions today: 2 (not understood 2)" in api.texts(ADMIN)[-1]


async def test_reload_keeps_the_running_knowledge_when_the_new_one_is_broken(
    tmp_path: Path, settings: Settings
) -> None:
    source = Path(__file__).resolve().parents[1] / "knowledge"
    folder = tmp_path / "knowledge"
    shutil.copytree(source, folder)
    knowledge = load_knowledge(folder)
    api = RecordingRequest()
    application = build_application(
        settings, knowledge, request=api, get_updates_request=api, companion=Companion(knowledge)
    )
    topics = folder / "topics" / "sleep.yaml"
    original = topics.read_text(encoding="utf-8")
    async with running_application(application):
        api.push_text(USER, "/reload")
        [refusal] = await api.wait_for_sent("sendMessage", chat_id=USER)
        assert refusal["text"] == ADMINS_ONLY

        topics.write_text(original + "\n  - this: [is not: valid\n", encoding="utf-8")
        api.push_text(ADMIN, "/reload")
        [refused] = await api.wait_for_sent("sendMessage", chat_id=ADMIN, timeout=15.0)
        assert refused["text"].startswith("Not reloaded")
        assert "sleep.yaml" in refused["text"]
        assert "running one is kept" in refused["text"]
        api.push_text(USER, "what is reflexology?")
        await api.wait_for_sent("sendMessage", count=2, chat_id=USER)
        old_answer = api.texts(USER)[-1]
        assert old_answer.strip()

        # A fixed file with a changed answer is picked up by the next question.
        marker = "This answer was changed by the reload test."
        overview = json.dumps(marker)
        entry = Companion(knowledge).respond("what is reflexology?").entry
        assert entry is not None
        first = knowledge.entry_by_id[entry].answer.split(". ")[0]
        changed = False
        for path in sorted((folder / "entries").glob("*.yaml")):
            text = path.read_text(encoding="utf-8")
            if first in text:
                path.write_text(text.replace(first, marker.rstrip(".")), encoding="utf-8")
                changed = True
                break
        assert changed, "the answer's first line was not found in knowledge/entries"
        topics.write_text(original, encoding="utf-8")
        api.push_text(ADMIN, "/reload")
        await api.wait_for_sent("sendMessage", count=2, chat_id=ADMIN, timeout=15.0)
        assert api.texts(ADMIN)[-1].startswith("Reloaded:")
        api.push_text(USER, "what is reflexology?")
        await api.wait_for_sent("sendMessage", count=3, chat_id=USER)
        assert marker in api.texts(USER)[-1], overview


async def test_privacy_says_what_is_kept(app, api) -> None:
    api.push_text(USER, "/privacy")
    [message] = await api.wait_for_sent("sendMessage", chat_id=USER)
    assert "/forget" in message["text"]
    assert REVIEW_OFF in message["text"]
