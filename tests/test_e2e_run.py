"""End to end: ``python -m bot run`` as a subprocess against a Bot API server on 127.0.0.1.

The bot is started exactly as in production (environment variables, long polling, real
httpx), holds a short conversation, rides out injected faults, stops on SIGINT, and never
prints its token.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import sys
from pathlib import Path

import pytest

from bot.telegram.runner import ALLOWED_UPDATES
from tests.support.bot_api_server import BotApiServer

TOKEN = "123456:TEST-TOKEN"
SECRET = TOKEN.split(":", 1)[1]
CHAT = 5151
START_TIMEOUT = 30.0  # the interpreter, PTB and the knowledge base load in a few seconds
STOP_TIMEOUT = 15.0

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="SIGINT to a child process")


def buttons(params: dict) -> list[str]:
    markup = params.get("reply_markup") or {}
    return [b.get("callback_data") for row in markup.get("inline_keyboard", []) for b in row]


async def stop(process: asyncio.subprocess.Process) -> int:
    """SIGINT (as Ctrl-C would), then kill if it does not stop in time; the exit status."""
    if process.returncode is None:
        process.send_signal(signal.SIGINT)
        try:
            await asyncio.wait_for(process.wait(), STOP_TIMEOUT)
        except TimeoutError:
            process.kill()
            await process.wait()
            pytest.fail("the bot did not stop within 15 s of SIGINT")
    assert process.returncode is not None
    return process.returncode


async def test_the_bot_runs_converses_survives_faults_and_keeps_its_token_secret(
    tmp_path: Path, knowledge
) -> None:
    out_path, err_path = tmp_path / "stdout.log", tmp_path / "stderr.log"
    async with BotApiServer() as server:
        env = {
            **{k: v for k, v in os.environ.items() if not k.startswith(("TELEGRAM_", "BOT_"))},
            "TELEGRAM_BOT_TOKEN": TOKEN,
            "TELEGRAM_BASE_URL": server.base_url,
            "BOT_DATA_DIR": str(tmp_path / "data"),
            "BOT_TIME_SCALE": "0.01",
            "BOT_LOG_LEVEL": "DEBUG",  # the most talkative level must still hide the token
            "PYTHONUNBUFFERED": "1",
        }
        # Files, not pipes: a chatty child can never block on a full pipe.
        with out_path.open("wb") as out, err_path.open("wb") as err:
            process = await asyncio.create_subprocess_exec(
                sys.executable, "-m", "bot", "run", cwd=tmp_path, env=env, stdout=out, stderr=err
            )
        try:
            await server.wait_for(
                lambda calls: (
                    any(c.method == "getUpdates" for c in calls) or process.returncode is not None
                ),
                timeout=START_TIMEOUT,
            )
            assert process.returncode is None, err_path.read_text()[-3000:]

            # Start-up: the command menu, and polling for exactly the updates it handles.
            [menu] = server.sent("setMyCommands")
            names = [c["command"] for c in menu["commands"]]
            assert {"start", "help", "topics"} <= set(names)
            polls = server.sent("getUpdates")
            assert polls[0]["allowed_updates"] == ALLOWED_UPDATES

            # /start: the welcome with the caveat and topic buttons.
            server.push_text(CHAT, "/start")
            [welcome] = await server.wait_for_sent("sendMessage", 1, chat_id=CHAT, timeout=10)
            assert knowledge.caveat.strip() in welcome["text"]
            assert buttons(welcome)

            # A question, answered although the first send hits flood control (429).
            server.retry_after = 1
            server.fail_next("sendMessage", "429", chat_id=CHAT)
            server.push_text(CHAT, "does reflexology really work? what do studies say?")
            sent = await server.wait_for_sent("sendMessage", 2, chat_id=CHAT, timeout=10)
            answer = sent[1]
            evidence = knowledge.entry_by_id["evidence-studies"].answer.split(". ")[0][:60]
            assert evidence in answer["text"]
            assert knowledge.caveat.strip() in answer["text"]
            assert any(c.fault == "429" for c in server.calls)
            follow_ups = [d for d in buttons(answer) if d.startswith("t:")]
            assert follow_ups

            # A button press, while one long poll is dropped: polling recovers.
            server.fail_next("getUpdates", "drop")
            pressed = follow_ups[0]
            server.push_callback(CHAT, pressed)
            [ack] = await server.wait_for_sent("answerCallbackQuery", timeout=10)
            assert ack["callback_query_id"]
            sent = await server.wait_for_sent("sendMessage", 3, chat_id=CHAT, timeout=10)
            topic = knowledge.topics[pressed.removeprefix("t:")]
            assert knowledge.topic_answer(topic.id).split(". ")[0][:60] in sent[2]["text"]
            # The next poll confirms every update: none would be delivered twice on restart.
            await server.wait_for(lambda _calls: server.pending_updates == 0, timeout=5)
        finally:
            status = await stop(process)
            with contextlib.suppress(Exception):
                await server.stop()

    stdout, stderr = out_path.read_text(), err_path.read_text()
    assert status == 0, stderr[-3000:]
    assert "calling bot api endpoint" in stderr.lower()  # DEBUG logging really was on
    for output in (stdout, stderr):
        assert TOKEN not in output
        assert SECRET not in output
    assert server.tokens_seen == {TOKEN}  # ... although every request carried it
