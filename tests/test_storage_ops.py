"""Storage under operational trouble: a database locked by another process, and start-up
failures (damaged file, unwritable folder, full disk) of ``python -m bot run``."""

from __future__ import annotations

import asyncio
import os
import resource
import signal
import sqlite3
import sys
import time
from dataclasses import replace
from pathlib import Path

import pytest

from bot.storage import DB_FILENAME
from bot.storage.lock import InstanceLock
from tests.support.bot_api_server import BotApiServer
from tests.support.recording_request import running_application

TOKEN = "123456:TEST-TOKEN"

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="POSIX processes and limits")

LOCK_HOLDER = """
import sqlite3, sys, time
connection = sqlite3.connect(sys.argv[1], isolation_level=None)
connection.execute("BEGIN IMMEDIATE")
connection.execute("INSERT INTO routine_feedback VALUES ('held', 'better', 1)")
print("locked", flush=True)
time.sleep(float(sys.argv[2]))
"""


async def test_a_locked_database_does_not_stop_other_chats(settings, knowledge, companion) -> None:
    from bot.telegram.app import build_application

    async with BotApiServer() as server:
        application = build_application(
            replace(settings, base_url=server.base_url), knowledge, companion=companion
        )
        async with running_application(application):
            await server.wait_for(lambda calls: any(c.method == "getUpdates" for c in calls))
            holder = await asyncio.create_subprocess_exec(
                sys.executable,
                "-c",
                LOCK_HOLDER,
                str(settings.data_dir / DB_FILENAME),
                "6",
                stdout=asyncio.subprocess.PIPE,
            )
            try:
                assert holder.stdout is not None
                assert await asyncio.wait_for(holder.stdout.readline(), 10) == b"locked\n"
                # Chat 1 needs a write (the lock holder blocks it); chat 2 asks a question.
                server.push_text(1, "/daily")
                await asyncio.sleep(0.05)  # the /daily handler is waiting on the lock now
                asked = time.monotonic()
                server.push_text(2, "does reflexology really work? what do studies say?")
                [answer] = await server.wait_for_sent("sendMessage", chat_id=2, timeout=5)
                latency = time.monotonic() - asked
                evidence = knowledge.entry_by_id["evidence-studies"].answer.split(". ")[0][:60]
                assert evidence in answer["text"]
                # Chat 1 is told something went wrong once its write gave up (BUSY_TIMEOUT).
                [sorry] = await server.wait_for_sent("sendMessage", chat_id=1, timeout=5)
                failed_after = time.monotonic() - asked
                assert "something went wrong" in sorry["text"].lower()
            finally:
                holder.kill()
                await holder.wait()
            # The lock is gone: the same command works.
            server.push_text(1, "/daily")
            sent = await server.wait_for_sent("sendMessage", 2, chat_id=1, timeout=5)
            assert "daily tips are on" in sent[1]["text"].lower()
    print(
        f"lock case: other chat answered in {latency:.3f} s; locked write failed after"
        f" {failed_after:.2f} s"
    )
    assert latency < 1.0
    assert 1.0 < failed_after < 4.0


def _limit_file_size() -> None:  # runs in the child: a "full disk" of 4 KiB
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    resource.setrlimit(resource.RLIMIT_FSIZE, (4096, 4096))


async def _run_bot(data_dir: Path, cwd: Path, full_disk: bool = False) -> tuple[int, str]:
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("TELEGRAM_", "BOT_"))},
        "TELEGRAM_BOT_TOKEN": TOKEN,
        "TELEGRAM_BASE_URL": "http://127.0.0.1:9/bot",  # never reached: storage fails first
        "BOT_DATA_DIR": str(data_dir),
    }
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        "run",
        cwd=cwd,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,  # pipes: the file-size limit does not apply to them
        preexec_fn=_limit_file_size if full_disk else None,
    )
    _, err = await asyncio.wait_for(process.communicate(), 60)
    assert process.returncode is not None
    return process.returncode, err.decode()


async def test_start_up_storage_errors_are_one_line_and_fail(tmp_path: Path) -> None:
    damaged = tmp_path / "damaged"
    damaged.mkdir()
    (damaged / DB_FILENAME).write_bytes(b"not a database at all " * 100)
    blocker = tmp_path / "blocker"
    blocker.write_text("a file where the data folder's parent should be")
    # A first instance (this test process) holds the data folder: the second refuses.
    taken = tmp_path / "taken"
    lock = InstanceLock.acquire(taken)
    try:
        results = await asyncio.gather(
            _run_bot(damaged, tmp_path),
            _run_bot(blocker / "data", tmp_path),
            _run_bot(tmp_path / "full", tmp_path, full_disk=True),
            _run_bot(taken, tmp_path),
        )
    finally:
        lock.release()
    assert f"pid {os.getpid()}" in results[3][1]
    assert not (taken / DB_FILENAME).exists()  # refused before touching the database
    expected = ("damaged", "folder", "disk", "already running")
    for (status, stderr), hint in zip(results, expected, strict=True):
        lines = [line for line in stderr.splitlines() if line.strip()]
        cannot = [line for line in lines if line.startswith("cannot start:")]
        assert status == 1, stderr
        assert len(cannot) == 1 and hint in cannot[0], stderr
        assert "Traceback" not in stderr, stderr


def test_the_lock_holder_script_really_locks(tmp_path: Path) -> None:
    """The helper above must hold a real write lock, or the first test proves nothing."""
    import subprocess

    path = tmp_path / "x.sqlite3"
    raw = sqlite3.connect(path)
    raw.execute("CREATE TABLE routine_feedback (a, b, c)")
    raw.commit()
    raw.close()
    holder = subprocess.Popen(
        [sys.executable, "-c", LOCK_HOLDER, str(path), "5"], stdout=subprocess.PIPE
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline() == b"locked\n"
        other = sqlite3.connect(path, timeout=0.1, isolation_level=None)
        with pytest.raises(sqlite3.OperationalError, match="locked"):
            other.execute("BEGIN IMMEDIATE")
        other.close()
    finally:
        holder.kill()
        holder.wait()


def test_the_instance_lock_is_exclusive_and_freed_on_release(tmp_path: Path) -> None:
    import subprocess

    first = InstanceLock.acquire(tmp_path)
    probe = (
        "import sys; from bot.storage.lock import InstanceLock\n"
        "try:\n    InstanceLock.acquire(sys.argv[1])\nexcept Exception as e:\n"
        "    print(e); sys.exit(1)\n"
    )
    refused = subprocess.run(
        [sys.executable, "-c", probe, str(tmp_path)], capture_output=True, text=True
    )
    assert refused.returncode == 1 and "already running" in refused.stdout
    first.release()
    taken = subprocess.run([sys.executable, "-c", probe, str(tmp_path)], capture_output=True)
    assert taken.returncode == 0
    assert stat_mode(tmp_path / "bot.lock") & 0o077 == 0


def stat_mode(path: Path) -> int:
    import stat

    return stat.S_IMODE(path.stat().st_mode)
