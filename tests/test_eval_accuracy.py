"""Accuracy on the held-out labelled set (written without seeing the knowledge base).

Thresholds sit a little below the figures measured when this test was written
(see the commit message); a drop below them means a change hurt matching.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.core.companion import Companion
from bot.core.evaluation import evaluate, format_report, load_rows

DATA = Path(__file__).parent / "data"
HELD_OUT = DATA / "questions.jsonl"
DEV = DATA / "dev_questions.jsonl"
BLIND2 = DATA / "blind2.jsonl"
PROBE = DATA / "probe_general.jsonl"
BLIND3 = DATA / "blind3.jsonl"
PROBE2 = DATA / "probe_general2.jsonl"
BLIND4 = DATA / "blind4.jsonl"
PROBE3 = DATA / "probe_general3.jsonl"
BLIND5 = DATA / "blind5.jsonl"
BLIND6 = DATA / "blind6.jsonl"
BLIND7 = DATA / "blind7.jsonl"
BLIND8 = DATA / "blind8.jsonl"
BLIND9 = DATA / "blind9.jsonl"
BLIND10 = DATA / "blind10.jsonl"
URGENT = "urgent"


def _non_urgent(path: Path) -> list[dict]:
    """Rows whose answer is a topic or null (the urgent screen is tested on its own)."""
    return [row for row in load_rows(path) if URGENT not in row["expect"]]


@pytest.fixture(scope="module")
def companion(knowledge) -> Companion:
    return Companion(knowledge)


@pytest.mark.skipif(not HELD_OUT.exists(), reason="tests/data/questions.jsonl not written yet")
def test_held_out_accuracy(companion: Companion) -> None:
    rows = load_rows(HELD_OUT)
    assert len(rows) >= 200
    report = evaluate(companion, rows)
    summary = format_report(report)
    assert report.accuracy >= 0.95, summary
    assert report.urgent_recall == 1.0, summary
    assert report.false_alarms <= 2, summary
    assert report.out_of_scope_rejection >= 0.95, summary


def test_dev_set_accuracy(companion: Companion) -> None:
    report = evaluate(companion, load_rows(DEV))
    summary = format_report(report)
    assert report.accuracy >= 0.94, summary
    assert report.urgent_recall == 1.0, summary
    assert report.false_alarms == 0, summary
    assert report.out_of_scope_rejection >= 0.95, summary


def test_blind2_non_urgent_accuracy(companion: Companion) -> None:
    # 325 non-urgent rows; measured 1.000 (0.889 before tuning on them).
    report = evaluate(companion, _non_urgent(BLIND2))
    summary = format_report(report)
    assert report.total >= 300
    assert report.accuracy >= 0.96, summary
    assert report.false_alarms <= 1, summary
    assert report.out_of_scope_rejection >= 0.95, summary


def test_probe_general_accuracy(companion: Companion) -> None:
    # 182 non-urgent rows written before tuning; measured 0.896 then, 0.989 after.
    report = evaluate(companion, _non_urgent(PROBE))
    summary = format_report(report)
    assert report.total >= 150
    assert report.accuracy >= 0.95, summary
    assert report.false_alarms == 0, summary
    assert report.out_of_scope_rejection >= 0.93, summary


def test_blind3_non_urgent_accuracy(companion: Companion) -> None:
    # 412 non-urgent rows; measured 0.896 / out-of-scope 0.882 before tuning, 0.985 / 1.000 after.
    report = evaluate(companion, _non_urgent(BLIND3))
    summary = format_report(report)
    assert report.total >= 400
    assert report.accuracy >= 0.96, summary
    assert report.false_alarms == 0, summary
    assert report.out_of_scope_rejection >= 0.95, summary


def test_probe_general2_accuracy(companion: Companion) -> None:
    # 164 rows written before tuning; measured 0.823 / out-of-scope 0.542 then, 0.970 / 0.958 after.
    report = evaluate(companion, _non_urgent(PROBE2))
    summary = format_report(report)
    assert report.total >= 150
    assert report.accuracy >= 0.94, summary
    assert report.false_alarms == 0, summary
    assert report.out_of_scope_rejection >= 0.92, summary


def test_blind4_non_urgent_accuracy(companion: Companion) -> None:
    # 398 non-urgent rows; measured 0.902 / out-of-scope 0.757 before the anchor rule,
    # 0.947 / 0.959 after, 0.970 / 0.959 after the question-shape rules.
    report = evaluate(companion, _non_urgent(BLIND4))
    summary = format_report(report)
    assert report.total >= 390
    assert report.accuracy >= 0.955, summary
    assert report.false_alarms <= 1, summary
    assert report.out_of_scope_rejection >= 0.94, summary


def test_probe_general3_accuracy(companion: Companion) -> None:
    # 168 rows written before tuning; measured 0.774 / out-of-scope 0.600 then,
    # 0.869 / 0.831 after the anchor rule, 0.899 / 0.862 after the question-shape rules.
    report = evaluate(companion, _non_urgent(PROBE3))
    summary = format_report(report)
    assert report.total >= 150
    assert report.accuracy >= 0.88, summary
    assert report.false_alarms == 0, summary
    assert report.out_of_scope_rejection >= 0.83, summary


def test_blind5_non_urgent_accuracy(companion: Companion) -> None:
    # 416 non-urgent rows; measured 0.930 / out-of-scope 0.934 before the question-shape
    # rules (benefits overview vs named benefit, tip, routine, who-first), 0.988 / 1.000 after.
    report = evaluate(companion, _non_urgent(BLIND5))
    summary = format_report(report)
    assert report.total >= 400
    assert report.accuracy >= 0.97, summary
    assert report.false_alarms == 0, summary
    assert report.out_of_scope_rejection >= 0.96, summary


def test_blind6_non_urgent_accuracy(companion: Companion) -> None:
    # 405 non-urgent rows; measured 0.948 before tuning on them (pain slang, named pain
    # conditions, set-aside feelings, qi beats what-is/map, other therapies out of scope),
    # 1.000 / 1.000 after.
    report = evaluate(companion, _non_urgent(BLIND6))
    summary = format_report(report)
    assert report.total >= 400
    assert report.accuracy >= 0.98, summary
    assert report.false_alarms <= 1, summary
    assert report.out_of_scope_rejection >= 0.96, summary


@pytest.mark.parametrize(
    ("path", "measured_before"),
    [(BLIND7, 0.939), (BLIND8, 0.945)],
    ids=["blind7", "blind8"],
)
def test_blind7_blind8_non_urgent_accuracy(
    companion: Companion, path: Path, measured_before: float
) -> None:
    # ~410 non-urgent rows each; measured 0.939 (blind7) and 0.945 (blind8) before tuning
    # on them (idea-behind shapes, foot part = body part, dose questions, other therapies,
    # named benefits), 0.998 and 1.000 after.
    report = evaluate(companion, _non_urgent(path))
    summary = format_report(report)
    assert report.total >= 400
    assert report.accuracy >= 0.98, summary
    assert report.accuracy > measured_before, summary
    assert report.false_alarms <= 1, summary
    assert report.out_of_scope_rejection >= 0.96, summary


@pytest.mark.parametrize(
    ("path", "measured_before"),
    [(BLIND9, 0.955), (BLIND10, 0.945)],
    ids=["blind9", "blind10"],
)
def test_blind9_blind10_non_urgent_accuracy(
    companion: Companion, path: Path, measured_before: float
) -> None:
    # 419 and 397 non-urgent rows; measured 0.955 (blind9) and 0.945 (blind10) before
    # tuning on them (benefits overview tails, finding/choosing a practitioner, greeting
    # plus question, is-that-what-it-is, reported claims, anticoagulants, routines on
    # someone else, corns), 1.000 and 0.997 after.
    report = evaluate(companion, _non_urgent(path))
    summary = format_report(report)
    assert report.total >= 390
    assert report.accuracy >= 0.98, summary
    assert report.accuracy > measured_before, summary
    assert report.false_alarms <= 1, summary
    assert report.out_of_scope_rejection >= 0.96, summary


def test_evaluate_counts_right_and_wrong() -> None:
    class Fixed:
        def __init__(self, topic):
            self.topic = topic

        def respond(self, text):
            from bot.core.reply import Reply, ReplyKind

            return Reply(ReplyKind.ANSWER, "x", topic=self.topic)

    rows = [
        {"q": "a", "expect": ["urgent"]},
        {"q": "b", "expect": [None]},
        {"q": "c", "expect": ["sleep", "urgent"]},
    ]
    report = evaluate(Fixed("urgent"), rows)
    assert report.correct == 2
    assert report.urgent_recall == 1.0
    assert report.false_alarms == 1
    assert report.out_of_scope_rejection == 0.0
    assert len(report.misses) == 1
