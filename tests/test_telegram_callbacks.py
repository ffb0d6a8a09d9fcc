"""Every button payload packs to under Telegram's 64 bytes and parses back to itself."""

from __future__ import annotations

import pytest
from telegram.constants import InlineKeyboardButtonLimit

from bot.telegram import callbacks
from bot.telegram.callbacks import (
    AllTopics,
    CallbackDataTooLong,
    ForgetAction,
    Helpful,
    NoneOfThese,
    RoutineControl,
    RoutineFeeling,
    RoutineStart,
    SettingsAction,
    TipAction,
    TopicPick,
    ZonePick,
)

BIG_USER = 9_999_999_999_999  # user ids fit in 52 bits; leave room for the largest


def every_payload(knowledge) -> list[callbacks.Payload]:
    payloads: list[callbacks.Payload] = [NoneOfThese(), AllTopics(), TipAction("next")]
    payloads += [TipAction("daily")]
    payloads += [TopicPick(t) for t in knowledge.topics]
    payloads += [Helpful(e, h) for e in knowledge.entry_by_id for h in (True, False)]
    for routine in knowledge.routines:
        payloads.append(RoutineStart(routine))
        payloads += [RoutineFeeling(routine, f) for f in callbacks.FEELINGS]
    payloads += [RoutineControl(a, "zz9999") for a in callbacks.ROUTINE_ACTIONS]
    for requester in (None, BIG_USER):
        payloads += [SettingsAction(a, requester) for a in ("on", "off", "tz")]
        payloads += [SettingsAction("t", requester, "07:30")]
        payloads += [ForgetAction(a, requester) for a in callbacks.FORGET_ACTIONS]
        payloads += [ZonePick("America/Argentina/ComodRivadavia", requester)]
        payloads += [ZonePick(callbacks.OTHER_ZONE, requester)]
    return payloads


def test_every_payload_fits_and_round_trips(knowledge) -> None:
    payloads = every_payload(knowledge)
    assert len(payloads) > 100
    for payload in payloads:
        data = callbacks.pack(payload)
        assert len(data.encode()) <= InlineKeyboardButtonLimit.MAX_CALLBACK_DATA, data
        assert callbacks.parse(data) == payload, data


def test_too_long_data_is_refused_when_packed() -> None:
    with pytest.raises(CallbackDataTooLong):
        callbacks.pack(TopicPick("x" * 63))


@pytest.mark.parametrize(
    "data", [None, "", "t:", "r:", "r:fly:abc", "fb:quick-calm:great", "set:t:2x:00", "zz:1"]
)
def test_unknown_data_parses_to_none(data) -> None:
    assert callbacks.parse(data) is None


def test_buttons_from_before_this_version_still_parse() -> None:
    assert callbacks.parse("forget:yes") == ForgetAction("yes", None)
    assert callbacks.parse("set:t:07:00") == SettingsAction("t", None, "07:00")
    assert callbacks.parse("r:pause") == RoutineControl("pause", "")
    assert callbacks.matches(ForgetAction)("forget:no:12")
    assert not callbacks.matches(ForgetAction)("t:sleep")
