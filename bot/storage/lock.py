"""One polling instance per data folder: an exclusive ``flock`` on ``bot.lock``.

Two long-polling processes on one token fight over ``getUpdates`` (409 Conflict every
few seconds) and together send above Telegram's limit, so the second one refuses to
start. The kernel drops the lock when the process ends in any way, kill -9 included,
so a crash never leaves a stale lock behind.
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path
from typing import IO

from bot.storage.base import StorageError

LOCK_FILENAME = "bot.lock"


class InstanceLock:
    """Held for the life of the process (or until ``release``)."""

    def __init__(self, handle: IO[str], path: Path) -> None:
        self._handle = handle
        self.path = path

    @classmethod
    def acquire(cls, data_dir: Path) -> InstanceLock:
        """Take the lock or raise ``StorageError`` saying which process holds it."""
        import fcntl

        path = Path(data_dir) / LOCK_FILENAME
        try:
            path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
            old_umask = os.umask(0o077)
            try:
                handle = path.open("a+")
            finally:
                os.umask(old_umask)
        except OSError as exc:
            raise StorageError(
                f"cannot create the lock file {path}: {exc} (check that the data folder"
                " exists and the bot's user may write to it)"
            ) from exc
        try:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            handle.seek(0)
            holder = handle.read().strip() or "unknown"
            handle.close()
            raise StorageError(
                f"another instance of the bot (pid {holder}) is already running on {data_dir}:"
                " stop it first (two polling instances on one token conflict)"
            ) from None
        handle.seek(0)
        handle.truncate()
        handle.write(f"{os.getpid()}\n")
        handle.flush()
        return cls(handle, path)

    def release(self) -> None:
        """Let another instance start (the process ending does the same)."""
        with contextlib.suppress(OSError):
            self._handle.close()


__all__ = ["LOCK_FILENAME", "InstanceLock"]
