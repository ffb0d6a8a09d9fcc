#!/usr/bin/env python3
"""Install what the bot needs into ./.venv, then start it or test it.

    python3 dev.py start   # terminal chat, or the Telegram bot when .env has a token
    python3 dev.py test    # the whole test suite (ruff check and format, mypy, then pytest)

Standard library only, so it runs on a fresh clone with nothing but Python 3.11+.
Re-installs only when pyproject.toml or constraints.txt changes.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
STAMP = VENV / ".deps-stamp"
# The versions CI last tested (pip freeze of .venv with the test extra): a fresh clone
# installs exactly these, so it does not pick up a release nobody has run the suite on.
# Refresh with: .venv/bin/pip freeze --exclude-editable > constraints.txt
CONSTRAINTS = ROOT / "constraints.txt"


def venv_python() -> Path:
    scripts = "Scripts" if os.name == "nt" else "bin"
    return VENV / scripts / ("python.exe" if os.name == "nt" else "python")


def ensure_installed(extra: str | None) -> Path:
    """Create the virtual environment and install the project if needed."""
    if sys.version_info < (3, 11):  # noqa: UP036 - this script may run on an old Python
        sys.exit(f"Python 3.11 or newer is needed (this is {sys.version.split()[0]}).")
    python = venv_python()
    if not python.exists():
        print("Creating .venv ...", flush=True)
        venv.EnvBuilder(with_pip=True).create(VENV)
    target = f".[{extra}]" if extra else "."
    pinned = CONSTRAINTS.read_bytes() if CONSTRAINTS.exists() else b""
    digest = hashlib.sha256(
        (ROOT / "pyproject.toml").read_bytes() + pinned + target.encode()
    ).hexdigest()
    installed = STAMP.read_text().split() if STAMP.exists() else []
    if digest not in installed:
        print(f"Installing {target} into .venv ...", flush=True)
        subprocess.run(
            [
                str(python),
                "-m",
                "pip",
                "install",
                "--quiet",
                "--disable-pip-version-check",
                *(["-c", str(CONSTRAINTS)] if CONSTRAINTS.exists() else []),
                "-e",
                target,
            ],
            cwd=ROOT,
            check=True,
        )
        STAMP.write_text("\n".join([*installed, digest]))
    return python


def main(argv: list[str]) -> int:
    command = argv[0] if argv else "help"
    if command == "start":
        python = ensure_installed(None)
        return subprocess.call([str(python), "-m", "bot", *argv[1:]], cwd=ROOT)
    if command == "test":
        python = ensure_installed("test")
        paths = ["bot", "tests", "benchmarks", "scripts", "dev.py"]
        lint = subprocess.call([str(python), "-m", "ruff", "check", *paths], cwd=ROOT)
        lint = lint or subprocess.call(
            [str(python), "-m", "ruff", "format", "--check", *paths], cwd=ROOT
        )
        types = subprocess.call([str(python), "-m", "mypy"], cwd=ROOT)
        tests = subprocess.call([str(python), "-m", "pytest", *argv[1:]], cwd=ROOT)
        return tests or lint or types
    print(__doc__)
    return 0 if command in {"help", "-h", "--help"} else 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
