"""A throw-away PostgreSQL server for the tests: ``initdb`` and ``pg_ctl`` into a
temporary folder, listening on a free port of 127.0.0.1 only, with fsync off.

``.ci/run`` installs the server package when it is missing; the tests that need it
skip with a clear message only when no server binary can be found at all. As root
(CI), the server runs as the ``postgres`` user (or ``nobody``): PostgreSQL refuses root.
"""

from __future__ import annotations

import contextlib
import glob
import itertools
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

HOST = "127.0.0.1"
USER = "bot"
_names = itertools.count(1)


def find_bin_dir() -> Path | None:
    """The newest installed server's bin folder, or None."""
    candidates = sorted(
        glob.glob("/usr/lib/postgresql/*/bin/initdb"),
        key=lambda p: int(Path(p).parts[-3]) if Path(p).parts[-3].isdigit() else 0,
    )
    if candidates:
        return Path(candidates[-1]).parent
    found = shutil.which("initdb")
    if found and shutil.which("pg_ctl"):
        return Path(found).resolve().parent
    return None


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


class PostgresServer:
    """One running server; ``new_database()`` gives each test an empty database."""

    def __init__(self, bin_dir: Path) -> None:
        self.bin_dir = bin_dir
        self.root = Path(tempfile.mkdtemp(prefix="bot-pg-"))
        self.data = self.root / "data"
        self.port = _free_port()
        self._as: pwd.struct_passwd | None = None
        if os.geteuid() == 0:
            for name in ("postgres", "nobody"):
                with contextlib.suppress(KeyError):
                    self._as = pwd.getpwnam(name)
                    break
            assert self._as is not None, "no unprivileged user to run PostgreSQL as"
            os.chown(self.root, self._as.pw_uid, self._as.pw_gid)

    def _demote(self) -> None:
        if self._as is not None:
            os.setgid(self._as.pw_gid)
            os.setuid(self._as.pw_uid)

    def _run(self, *args: str) -> None:
        result = subprocess.run(
            [str(self.bin_dir / args[0]), *args[1:]],
            preexec_fn=self._demote,
            capture_output=True,
            text=True,
            timeout=60,
            cwd=self.root,
        )
        if result.returncode != 0:
            raise RuntimeError(f"{args[0]} failed: {result.stderr.strip()[-2000:]}")

    def start(self) -> None:
        self._run(
            "initdb",
            "-D",
            str(self.data),
            "-U",
            USER,
            "-A",
            "trust",
            "-E",
            "UTF8",
            "--locale=C",
            "--no-sync",
        )
        options = (
            f"-p {self.port} -k {self.root} -c listen_addresses={HOST} -c fsync=off"
            " -c synchronous_commit=off -c full_page_writes=off -c max_connections=200"
        )
        self._run(
            "pg_ctl",
            "-D",
            str(self.data),
            "-o",
            options,
            "-l",
            str(self.root / "server.log"),
            "-w",
            "-t",
            "30",
            "start",
        )

    def stop(self) -> None:
        with contextlib.suppress(Exception):
            self._run("pg_ctl", "-D", str(self.data), "-m", "immediate", "-w", "stop")
        shutil.rmtree(self.root, ignore_errors=True)

    def url(self, database: str = "postgres") -> str:
        return f"postgresql://{USER}@{HOST}:{self.port}/{database}"

    def new_database(self) -> str:
        """A fresh, empty database; returns its URL."""
        import psycopg

        name = f"t{os.getpid()}_{next(_names)}"
        with psycopg.connect(self.url(), autocommit=True) as connection:
            connection.execute(f'CREATE DATABASE "{name}"')
        return self.url(name)


@contextlib.contextmanager
def running_server() -> Iterator[PostgresServer | None]:
    """A started server, or None when no PostgreSQL binary is installed."""
    bin_dir = find_bin_dir()
    if bin_dir is None:
        yield None
        return
    server = PostgresServer(bin_dir)
    try:
        server.start()
        yield server
    finally:
        server.stop()


try:
    import pytest
except ImportError:  # pragma: no cover - only the tests import this module
    pytest = None  # type: ignore[assignment]

if pytest is not None:

    @pytest.fixture(scope="session")
    def postgres_server() -> Iterator[PostgresServer]:
        """One PostgreSQL server for the whole session (skips when none is installed)."""
        with running_server() as server:
            if server is None:
                pytest.skip(
                    "PostgreSQL is not installed (no initdb under /usr/lib/postgresql/*/bin"
                    " or on PATH): .ci/run installs it with apt-get install postgresql"
                )
            yield server

    @pytest.fixture
    def postgres_url(postgres_server: PostgresServer) -> str:
        """The URL of a fresh, empty database on the session's server."""
        return postgres_server.new_database()
