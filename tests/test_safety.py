"""The safety screen, through the real red_flags.yaml."""

from __future__ import annotations

import pytest

from bot.core.safety import SafetyScreen


@pytest.fixture(scope="module")
def screen(knowledge) -> SafetyScreen:
    return SafetyScreen(knowledge.red_flags)


@pytest.mark.parametrize(
    ("message", "flag"),
    [
        ("i don't want to be alive anymore", "crisis"),
        ("been thinking about hurting myself", "crisis"),
        ("my chest feels kind of tight, could a foot rub help", "chest-pain"),
        ("kinda hard to catch my breath today", "breathing"),
        ("my dad's face is drooping and he's slurring", "stroke"),
        ("sudden weakness in my left arm", "stroke"),
        ("worst headache of my life right now", "sudden-severe-pain"),
        ("pregnant and seeing spots with a pounding headache", "sudden-severe-pain"),
        ("my calf is swollen and warm to touch", "clot"),
        ("coughing up blood since this morning", "clot"),
        ("diabetic and the blister on my heel turned black", "foot-wound"),
        ("the skin on my shin is red and hot and i have a fever", "infection-fever"),
        ("lips swelling up after a bee sting", "allergy"),
        ("my son swallowed some bleach", "overdose"),
        ("my gran is having a seizure", "seizure"),
        ("cut my finger and it won't stop bleeding", "bleeding"),
        ("my wife just collapsed in the kitchen", "fainting"),
        ("foot went pale and cold all of a sudden", "limb-ischaemia"),
    ],
)
def test_red_flags_in_everyday_words(screen: SafetyScreen, message: str, flag: str) -> None:
    found = screen.screen(message)
    assert found is not None, message
    assert found.id == flag


@pytest.mark.parametrize(
    "message",
    [
        "where is the heart point on the foot",
        "chest area of the foot map?",
        "had a clot years ago, is it safe now",
        "had a heart attack 3 years ago, is reflexology ok",
        "does it help headaches",
        "finish with long strokes on the sole",
        "my calves are tight and achy after running",
        "i get stressed and cant sleep",
        "is reflexology safe in pregnancy",
        "",
        "🙂",
    ],
)
def test_no_false_alarm(screen: SafetyScreen, message: str) -> None:
    assert screen.screen(message) is None


def test_crisis_reply_points_to_a_crisis_line(screen: SafetyScreen) -> None:
    flag = screen.screen("i want to end my life")
    assert flag is not None
    text = screen.urgent_text(flag)
    assert "988" in text or "116 123" in text
    assert "emergency" in text.lower()


def test_every_flag_says_why(knowledge) -> None:
    for flag in knowledge.red_flags.flags:
        assert flag.why.strip() and flag.patterns
