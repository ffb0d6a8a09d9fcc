"""The knowledge checker: every kind of error names the file, the line and the field."""

from __future__ import annotations

import copy
import re
import shutil
from pathlib import Path
from typing import Any

import pytest
import yaml

from bot.core.knowledge import DEFAULT_DIR, TOPIC_IDS, KnowledgeError, Problem, load_knowledge


def _topic(topic_id: str) -> dict[str, Any]:
    return {
        "id": topic_id,
        "title": f"Title {topic_id}",
        "questions": [f"question {n} about {topic_id}" for n in range(12)],
        "keywords": [f"word-{topic_id}"],
        "answer": f"An answer about {topic_id}.",
        "follow_ups": [],
    }


def valid_files() -> dict[str, dict[str, Any]]:
    """A small but complete knowledge base, as data."""
    return {
        "topics.yaml": {
            "caveat": "Complementary, not a substitute for medical care.",
            "fallback": "I don't know that one.",
            "clarify": "Did you mean:",
            "topics": [_topic(t) for t in TOPIC_IDS],
            "out_of_scope": [
                {"id": "weather", "keywords": ["rain"], "questions": ["rain?", "sun?", "snow?"]}
            ],
        },
        "red_flags.yaml": {
            "reply": "Please seek medical care now.",
            "flags": [
                {
                    "id": "chest-pain",
                    "why": "It can be a heart attack.",
                    "patterns": [r"\bchest pain\b"],
                }
            ],
        },
        "routines.yaml": {
            "safety": "Skip it with wounds.",
            "routines": [
                {
                    "id": "quick",
                    "title": "Quick",
                    "purpose": "Calm.",
                    "minutes": 1,
                    "steps": [{"text": "Press.", "seconds": 60, "area": "solar-plexus"}],
                }
            ],
        },
        "tips.yaml": {
            "tips": [{"id": "tip-one", "text": "Breathe out slowly.", "tags": ["relaxation"]}]
        },
    }


def write(directory: Path, files: dict[str, dict[str, Any]]) -> dict[str, str]:
    texts = {}
    for name, data in files.items():
        text = yaml.safe_dump(data, sort_keys=False, allow_unicode=True, width=200)
        (directory / name).write_text(text, encoding="utf-8")
        texts[name] = text
    return texts


def line_of(text: str, needle: str, occurrence: int = 1) -> int:
    """1-based line of the n-th line containing ``needle``."""
    hits = [n for n, line in enumerate(text.splitlines(), 1) if needle in line]
    return hits[occurrence - 1]


def only_problem(directory: Path) -> Problem:
    with pytest.raises(KnowledgeError) as caught:
        load_knowledge(directory)
    problems = caught.value.problems
    assert len(problems) == 1, [str(p) for p in problems]
    return problems[0]


def broken(tmp_path: Path, name: str, mutate) -> tuple[Problem, str]:
    files = valid_files()
    mutate(files[name])
    texts = write(tmp_path, files)
    return only_problem(tmp_path), texts[name]


def topic(data: dict[str, Any], topic_id: str) -> dict[str, Any]:
    return next(t for t in data["topics"] if t["id"] == topic_id)


def test_valid_base_loads(tmp_path: Path) -> None:
    write(tmp_path, valid_files())
    knowledge = load_knowledge(tmp_path)
    assert set(knowledge.topics) == set(TOPIC_IDS)
    assert knowledge.caveat.startswith("Complementary")


def test_missing_field(tmp_path: Path) -> None:
    problem, text = broken(tmp_path, "topics.yaml", lambda d: topic(d, "sleep").pop("answer"))
    assert problem.path == tmp_path / "topics.yaml"
    assert problem.line == line_of(text, "id: sleep")
    assert problem.field.endswith("(sleep).answer")
    assert "missing" in problem.message


def test_unknown_field(tmp_path: Path) -> None:
    problem, text = broken(
        tmp_path, "topics.yaml", lambda d: topic(d, "sleep").update(anwser="typo")
    )
    assert problem.line == line_of(text, "anwser:")
    assert problem.field.endswith("(sleep).anwser")
    assert "unknown field" in problem.message


def test_duplicate_id(tmp_path: Path) -> None:
    def mutate(data: dict[str, Any]) -> None:
        twin = copy.deepcopy(topic(data, "sleep"))
        twin["questions"] = [f"other phrasing {n}" for n in range(12)]
        data["topics"].append(twin)

    problem, text = broken(tmp_path, "topics.yaml", mutate)
    assert problem.line == line_of(text, "id: sleep", occurrence=2)
    assert problem.field.endswith(".id")
    assert "duplicate id 'sleep'" in problem.message


def test_follow_up_to_no_topic(tmp_path: Path) -> None:
    problem, text = broken(
        tmp_path, "topics.yaml", lambda d: topic(d, "sleep").update(follow_ups=["nap-time"])
    )
    assert problem.line == line_of(text, "- nap-time")
    assert problem.field.endswith("(sleep).follow_ups[0]")
    assert "'nap-time' points at no topic" in problem.message


def test_empty_answer(tmp_path: Path) -> None:
    problem, text = broken(
        tmp_path, "topics.yaml", lambda d: topic(d, "safety").update(answer="   ")
    )
    assert problem.line == line_of(text, "answer: '   '")
    assert problem.field.endswith("(safety).answer")
    assert "non-empty" in problem.message


def test_question_under_two_topics(tmp_path: Path) -> None:
    def mutate(data: dict[str, Any]) -> None:
        topic(data, "evidence")["questions"][3] = "Question 0 about SLEEP?"

    problem, text = broken(tmp_path, "topics.yaml", mutate)
    assert problem.line == line_of(text, "Question 0 about SLEEP?")
    assert problem.field.endswith("(evidence).questions[3]")
    assert "also appears under 'sleep'" in problem.message


def test_unknown_topic_id(tmp_path: Path) -> None:
    def mutate(data: dict[str, Any]) -> None:
        extra = _topic("sleep")
        extra["id"] = "yoga"
        extra["questions"] = [f"yoga {n}" for n in range(12)]
        data["topics"].append(extra)

    problem, text = broken(tmp_path, "topics.yaml", mutate)
    assert problem.line == line_of(text, "id: yoga")
    assert "unknown topic id 'yoga'" in problem.message


def test_too_few_questions(tmp_path: Path) -> None:
    problem, text = broken(
        tmp_path, "topics.yaml", lambda d: topic(d, "tip").update(questions=["tip?"])
    )
    assert problem.line == line_of(text, "questions:", occurrence=TOPIC_IDS.index("tip") + 1)
    assert problem.field.endswith("(tip).questions")
    assert "at least 12" in problem.message


def test_yaml_syntax_error(tmp_path: Path) -> None:
    texts = write(tmp_path, valid_files())
    lines = texts["tips.yaml"].splitlines()
    lines.insert(2, "  text: [unclosed")
    (tmp_path / "tips.yaml").write_text("\n".join(lines) + "\n")
    problem = only_problem(tmp_path)
    assert problem.path == tmp_path / "tips.yaml"
    assert problem.field == "(syntax)"
    assert problem.line >= 3


def test_duplicate_key(tmp_path: Path) -> None:
    texts = write(tmp_path, valid_files())
    text = texts["tips.yaml"].replace("  tags:", "  text: Another text.\n  tags:", 1)
    (tmp_path / "tips.yaml").write_text(text)
    problem = only_problem(tmp_path)
    assert problem.line == line_of(text, "text: Another text.")
    assert problem.field == "tips[0].text"
    assert "duplicate key" in problem.message


def test_invalid_red_flag_pattern(tmp_path: Path) -> None:
    problem, text = broken(
        tmp_path, "red_flags.yaml", lambda d: d["flags"][0]["patterns"].append("chest (pain")
    )
    assert problem.path == tmp_path / "red_flags.yaml"
    assert problem.line == line_of(text, "chest (pain")
    assert problem.field == "flags[0].patterns[1]"
    assert "invalid pattern" in problem.message


def test_routine_unknown_area(tmp_path: Path) -> None:
    problem, text = broken(
        tmp_path, "routines.yaml", lambda d: d["routines"][0]["steps"][0].update(area="knee")
    )
    assert problem.line == line_of(text, "area: knee")
    assert problem.field == "routines[0].steps[0].area"
    assert "unknown area 'knee'" in problem.message


def test_routine_length_must_match_steps(tmp_path: Path) -> None:
    problem, text = broken(tmp_path, "routines.yaml", lambda d: d["routines"][0].update(minutes=10))
    assert problem.line == line_of(text, "minutes: 10")
    assert problem.field == "routines[0].minutes"
    assert "add up to 60 s" in problem.message


def test_tip_unknown_tag(tmp_path: Path) -> None:
    problem, text = broken(tmp_path, "tips.yaml", lambda d: d["tips"][0].update(tags=["astrology"]))
    assert problem.line == line_of(text, "- astrology")
    assert problem.field == "tips[0].tags[0]"


def test_missing_file_is_named(tmp_path: Path) -> None:
    write(tmp_path, valid_files())
    (tmp_path / "routines.yaml").unlink()
    problem = only_problem(tmp_path)
    assert problem.path == tmp_path / "routines.yaml"
    assert "cannot read" in problem.message


def test_every_problem_is_reported_at_once(tmp_path: Path) -> None:
    files = valid_files()
    topic(files["topics.yaml"], "sleep")["answer"] = ""
    files["tips.yaml"]["tips"][0]["tags"] = ["astrology"]
    write(tmp_path, files)
    with pytest.raises(KnowledgeError) as caught:
        load_knowledge(tmp_path)
    assert {p.path.name for p in caught.value.problems} == {"topics.yaml", "tips.yaml"}
    assert re.search(r"topics\.yaml:\d+: .*answer", str(caught.value))


def test_the_shipped_knowledge_base_is_valid() -> None:
    knowledge = load_knowledge()
    assert set(knowledge.topics) == set(TOPIC_IDS)
    assert len(knowledge.routines) >= 3
    assert len(knowledge.tips) >= 60
    for topic_entry in knowledge.topics.values():
        words = len(topic_entry.answer.split())
        assert 20 <= words <= 180, (topic_entry.id, words)


def test_duplicate_routine_and_tip_ids(tmp_path: Path) -> None:
    files = valid_files()
    files["routines.yaml"]["routines"].append(copy.deepcopy(files["routines.yaml"]["routines"][0]))
    files["tips.yaml"]["tips"].append(copy.deepcopy(files["tips.yaml"]["tips"][0]))
    texts = write(tmp_path, files)
    with pytest.raises(KnowledgeError) as caught:
        load_knowledge(tmp_path)
    problems = {p.path.name: p for p in caught.value.problems}
    assert set(problems) == {"routines.yaml", "tips.yaml"}
    for name, needle in (("routines.yaml", "id: quick"), ("tips.yaml", "id: tip-one")):
        assert problems[name].line == line_of(texts[name], needle, occurrence=2)
        assert problems[name].field.endswith(".id")
        first = line_of(texts[name], needle)
        assert f"(first at line {first})" in problems[name].message


def _split_copy(tmp_path: Path) -> Path:
    folder = tmp_path / "kb"
    shutil.copytree(DEFAULT_DIR, folder)
    return folder


def test_split_layout_names_the_topic_file(tmp_path: Path) -> None:
    """One file per topic: a problem names that file and its line, not a merged one."""
    folder = _split_copy(tmp_path)
    sleep = folder / "topics" / "sleep.yaml"
    lines = sleep.read_text(encoding="utf-8").splitlines()
    answer_line = next(i for i, line in enumerate(lines, 1) if line.startswith("answer:"))
    sleep.write_text("\n".join(lines).replace("answer:", "anwser:", 1) + "\n", encoding="utf-8")
    with pytest.raises(KnowledgeError) as caught:
        load_knowledge(folder)
    found = {(p.path, p.line, p.field) for p in caught.value.problems}
    assert (sleep, answer_line, "sleep.anwser") in found
    assert any(p.path == sleep and p.field == "sleep.answer" for p in caught.value.problems)


def test_split_layout_refuses_a_misnamed_or_missing_topic(tmp_path: Path) -> None:
    folder = _split_copy(tmp_path)
    (folder / "topics" / "sleep.yaml").rename(folder / "topics" / "slumber.yaml")
    (folder / "topics" / "tip.yaml").unlink()
    with pytest.raises(KnowledgeError) as caught:
        load_knowledge(folder)
    messages = [(p.path.name, p.message) for p in caught.value.problems]
    assert ("slumber.yaml", "must be 'slumber', the file's name") in messages
    assert ("common.yaml", "topic 'tip' is missing") in messages


def test_split_layout_catches_a_question_shared_by_two_topic_files(tmp_path: Path) -> None:
    folder = _split_copy(tmp_path)
    sleep = folder / "topics" / "sleep.yaml"
    text = sleep.read_text(encoding="utf-8")
    sleep.write_text(text.replace("questions:\n", "questions:\n  - what is reflexology\n", 1))
    with pytest.raises(KnowledgeError) as caught:
        load_knowledge(folder)
    problem = next(p for p in caught.value.problems if "also appears under" in p.message)
    assert problem.path in (sleep, folder / "topics" / "what-is-reflexology.yaml")
