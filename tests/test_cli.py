"""``python -m bot ask --json``, ``chat``, ``kb check`` and ``run`` driven as subprocesses."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from bot.core.knowledge import DEFAULT_DIR, TOPIC_IDS

TOPICS = {*TOPIC_IDS, "urgent"}
TIMEOUT = 60


def bot_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TELEGRAM_", "BOT_"))}
    env.update(BOT_DATA_DIR=str(tmp_path / "data"), PYTHONIOENCODING="utf-8", **extra)
    return env


def run_bot(tmp_path: Path, *args: str, stdin: bytes | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        input=stdin,
        capture_output=True,
        cwd=tmp_path,  # no stray .env from the developer's tree
        env=bot_env(tmp_path),
        timeout=TIMEOUT,
    )


def assert_contract(obj: dict) -> None:
    assert obj["topic"] is None or obj["topic"] in TOPICS
    assert 0 <= obj["score"] <= 100
    assert obj["urgent"] is (obj["topic"] == "urgent")
    assert isinstance(obj["reply"], str) and obj["reply"].strip()
    assert all(s in TOPICS for s in obj["suggestions"])


def test_ask_json_one_question(tmp_path: Path) -> None:
    result = run_bot(tmp_path, "ask", "--json", "does", "reflexology", "help", "me", "sleep?")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.decode().splitlines()
    assert len(lines) == 1
    obj = json.loads(lines[0])
    assert_contract(obj)
    assert obj["topic"] == "sleep"
    assert "not a substitute for medical care" in obj["reply"]


def test_ask_json_reads_every_line_and_never_stops(tmp_path: Path) -> None:
    lines = [
        "what is foot acupuncture",
        "",
        "x" * 5000,
        "😀😀😀",
        "\x00\x07 hello \x1b[31m there\x7f",
        "my dad has crushing chest pain right now",
        "   ",
        "who won the football",
        "is reflexology safe when pregnant",
    ]
    payload = ("\n".join(lines) + "\n").encode() + b"\xff\xfe broken utf-8\n"
    result = run_bot(tmp_path, "ask", "--json", stdin=payload)
    assert result.returncode == 0, result.stderr
    objects = [json.loads(line) for line in result.stdout.decode().splitlines()]
    assert len(objects) == len(lines) + 1
    for obj in objects:
        assert_contract(obj)
    assert objects[0]["topic"] == "what-is-reflexology"
    assert objects[1]["topic"] is None  # empty line: a prompt, not an answer
    assert objects[5]["topic"] == "urgent" and objects[5]["urgent"] is True
    assert objects[7]["topic"] is None  # out of scope
    assert objects[8]["topic"] == "safety"


def test_ask_json_flushes_line_by_line(tmp_path: Path) -> None:
    process = subprocess.Popen(
        [sys.executable, "-m", "bot", "ask", "--json"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        cwd=tmp_path,
        env=bot_env(tmp_path),
    )
    try:
        assert process.stdin is not None and process.stdout is not None
        process.stdin.write(b"how often should i have a session\n")
        process.stdin.flush()
        first = json.loads(process.stdout.readline())  # arrives before stdin closes
        assert first["topic"] == "session"
        process.stdin.write(b"hi\n")
        process.stdin.close()
        second = json.loads(process.stdout.readline())
        assert second["topic"] == "greeting"
        assert process.wait(timeout=TIMEOUT) == 0
    finally:
        process.kill()
        process.wait()


def test_ask_plain_text(tmp_path: Path) -> None:
    result = run_bot(tmp_path, "ask", "where", "are", "the", "points", "on", "the", "foot")
    assert result.returncode == 0
    assert "toes" in result.stdout.decode().lower()


def broken_knowledge(tmp_path: Path) -> Path:
    folder = tmp_path / "kb"
    shutil.copytree(DEFAULT_DIR, folder)
    sleep = folder / "topics" / "sleep.yaml"
    sleep.write_text(sleep.read_text(encoding="utf-8").replace("follow_ups:", "follow_upz:", 1))
    return folder


@pytest.mark.parametrize("command", [["kb", "check"], ["ask", "--json", "hi"], ["chat"], ["run"]])
def test_broken_knowledge_is_refused(tmp_path: Path, command: list[str]) -> None:
    folder = broken_knowledge(tmp_path)
    result = run_bot(tmp_path, "--knowledge", str(folder), *command, stdin=b"")
    assert result.returncode == 2
    assert result.stdout == b""
    err = result.stderr.decode()
    assert "knowledge base is broken" in err
    assert f"{folder / 'topics' / 'sleep.yaml'}:" in err
    assert "follow_upz" in err and "unknown field" in err


def test_kb_check_summary(tmp_path: Path) -> None:
    result = run_bot(tmp_path, "kb", "check")
    assert result.returncode == 0, result.stderr
    out = result.stdout.decode().strip()
    assert len(out.splitlines()) == 1
    assert out.startswith("Knowledge OK: 17 topics")


def test_chat_answers_and_quits(tmp_path: Path) -> None:
    script = "hello\n\nwhat is reflexology\n🦶🦶\n" + "y" * 5000 + "\nquit\nnever read\n"
    result = run_bot(tmp_path, "chat", stdin=script.encode())
    assert result.returncode == 0, result.stderr
    out = result.stdout.decode()
    assert "not a substitute for medical care" in out
    assert "never read" not in out
    assert "Traceback" not in result.stderr.decode()


def test_chat_ends_on_eof(tmp_path: Path) -> None:
    result = run_bot(tmp_path, "chat", stdin=b"does it help circulation")
    assert result.returncode == 0, result.stderr
    assert "circulation" in result.stdout.decode().lower()


def test_run_without_token_exits_with_a_clear_message(tmp_path: Path) -> None:
    result = run_bot(tmp_path, "run")
    assert result.returncode != 0
    assert "TELEGRAM_BOT_TOKEN" in result.stderr.decode()


def test_lone_carriage_return_inside_a_line_gives_one_output_line() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "bot", "ask", "--json"],
        input=b"does it help\rsleep?\r\nhi\n",
        capture_output=True,
        timeout=60,
    )
    lines = result.stdout.decode().splitlines()
    assert len(lines) == 2
    assert json.loads(lines[0])["topic"] == "sleep"  # one question, read across the \r


def test_closed_pipe_ends_quietly() -> None:
    ask = subprocess.Popen(
        [sys.executable, "-m", "bot", "ask", "--json"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert ask.stdout is not None and ask.stdin is not None
    ask.stdout.close()  # the reader goes away without reading, like `| head -0`
    _, err = ask.communicate(b"does it help sleep\n" * 2000, timeout=60)
    assert b"Traceback" not in err and b"BrokenPipe" not in err
    assert ask.returncode == 0
