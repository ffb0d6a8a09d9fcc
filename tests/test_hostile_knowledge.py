"""Knowledge files that are empty, hostile or dangerous are refused, naming the file.

Each test copies the real knowledge base, breaks one file the way an editor's slip
or an attacker might, and runs the real loader or the real command line.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from bot.core.knowledge import DEFAULT_DIR, KnowledgeError, load_knowledge
from bot.core.knowledge.source import MAX_FILE_BYTES, backtracking_risk


@pytest.fixture
def kb(tmp_path: Path) -> Path:
    target = tmp_path / "knowledge"
    shutil.copytree(DEFAULT_DIR, target)
    return target


def problems_of(directory: Path) -> list[str]:
    with pytest.raises(KnowledgeError) as caught:
        load_knowledge(directory)
    return [str(p) for p in caught.value.problems]


@pytest.mark.parametrize("content", ["", "~\n", "null\n", "---\n", "- a\n- b\n", "just text\n"])
@pytest.mark.parametrize("name", ["red_flags.yaml", "tips.yaml", "routines.yaml"])
def test_empty_null_or_wrong_type_file_is_refused(kb: Path, name: str, content: str) -> None:
    (kb / name).write_text(content, encoding="utf-8")
    found = problems_of(kb)
    assert any(name in p and "(file)" in p for p in found), found


def test_null_red_flags_cannot_switch_the_screen_off(kb: Path) -> None:
    (kb / "red_flags.yaml").write_text("~\n", encoding="utf-8")
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "bot",
            "--knowledge",
            str(kb),
            "ask",
            "--json",
            "my father has crushing chest pain and can't breathe right now",
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode != 0
    assert result.stdout == ""
    assert "red_flags.yaml" in result.stderr


def test_alias_bomb_is_refused_quickly(kb: Path) -> None:
    lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    lines += [f"a{i}: &a{i} [*a{i - 1}, *a{i - 1}, *a{i - 1}, *a{i - 1}]" for i in range(1, 30)]
    (kb / "tips.yaml").write_text("\n".join(lines) + "\n", encoding="utf-8")
    started = time.perf_counter()
    found = problems_of(kb)
    assert time.perf_counter() - started < 5
    assert any("tips.yaml:1:" in p and "aliases" in p for p in found), found


def test_deep_nesting_is_refused_without_a_traceback(kb: Path) -> None:
    depth = 100_000
    (kb / "routines.yaml").write_text("x: " + "[" * depth + "]" * depth + "\n", encoding="utf-8")
    found = problems_of(kb)
    assert any("routines.yaml:1:" in p and "nested deeper" in p for p in found), found


def test_oversized_file_is_refused(kb: Path) -> None:
    path = kb / "tips.yaml"
    path.write_text(path.read_text(encoding="utf-8") + "#" * (MAX_FILE_BYTES + 1) + "\n")
    found = problems_of(kb)
    assert any("tips.yaml" in p and "too large" in p for p in found), found


@pytest.mark.parametrize(
    ("pattern", "risky"),
    [
        (r"(a+)+$", True),
        (r"(\w+\s?)+$", True),
        (r"(x|(y+)*)z", True),
        (r"(?=(a+)+)b", True),
        (r"(?:\w+ ){0,12}chest", False),
        (r"\bchest (?:pain|hurt\w*)\b", False),
        (r"a+b+c*", False),
    ],
)
def test_backtracking_risk(pattern: str, risky: bool) -> None:
    assert (backtracking_risk(pattern) is not None) is risky


def test_catastrophic_red_flag_pattern_is_refused_with_its_line(kb: Path) -> None:
    path = kb / "red_flags.yaml"
    lines = path.read_text(encoding="utf-8").splitlines()
    at = next(i for i, line in enumerate(lines) if line.strip() == "patterns:")
    lines.insert(at + 1, "      - '(\\w+\\s?)+$'")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    found = problems_of(kb)
    assert any(f"red_flags.yaml:{at + 2}:" in p and "unsafe pattern" in p for p in found), found
