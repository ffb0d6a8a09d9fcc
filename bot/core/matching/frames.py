"""The frames of ``knowledge/language/frames.yaml`` applied to one message.

Evidence from words alone cannot tell "can I still have it with diabetes?" (safety)
from "does it help diabetes?" (a benefit question): the shape of the question does.
The rules, their order and what they do are data; this module only knows how to
evaluate a condition and carry out an action.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from bot.core.knowledge.language import Action, Condition, Decision, Language, Rule
from bot.core.matching.analysis import Analysis
from bot.core.normalize import stem

# How far a winning frame puts its topic ahead of the best other class.
FRAME_MARGIN = 0.6
# A winner must also pass this share of the greeting's evidence.
GREETING_SHARE = 0.5


@dataclass
class Scene:
    """What the rules may look at: the analysed message and the evidence so far."""

    analysis: Analysis
    totals: list[float]
    specifics: list[float]
    domain: bool
    mentions_domain: Callable[[], bool]
    names_condition: Callable[[], bool]
    _memo: dict[str, bool] = field(default_factory=dict)
    # Frames never change out-of-scope evidence, so its maximum is read once.
    _oos: float | None = None


class Frames:
    """Evaluates the frames and decisions of a ``Language`` against a ``Scene``."""

    def __init__(
        self,
        language: Language,
        index: dict[str, int],
        oos_indexes: tuple[int, ...],
        greeting_index: int,
        domain_stems: frozenset[str],
        word_stems: dict[str, frozenset[str]],
    ) -> None:
        self.language = language
        self.index = index
        self.oos_indexes = oos_indexes
        self.greeting_index = greeting_index
        self.domain_stems = domain_stems
        # The lexicon's lists, stemmed once by the matcher that owns these frames.
        self._stems = word_stems

    def stems_of(self, name: str) -> frozenset[str]:
        return self._stems.get(name, frozenset())

    # --- conditions ---------------------------------------------------------------
    def holds(self, condition: Condition, scene: Scene) -> bool:
        kind, arg = condition
        analysis = scene.analysis
        if kind == "shape":
            return analysis.search(arg) is not None
        if kind == "named":
            if arg not in scene._memo:
                scene._memo[arg] = self.holds(self.language.conditions[arg], scene)
            return scene._memo[arg]
        if kind == "builtin":
            return self._builtin(arg, scene)
        if kind == "all":
            return all(self.holds(c, scene) for c in arg)
        if kind == "any":
            return any(self.holds(c, scene) for c in arg)
        if kind == "not":
            return not self.holds(arg, scene)
        if kind == "whole":
            return analysis.whole(arg)
        if kind == "text":
            return arg in analysis.text
        if kind == "words":
            return any(self.stems_of(name) & analysis.stem_set for name in arg)
        if kind == "evidence":
            return scene.totals[self.index[arg]] > 0
        if kind == "leader_in":
            best = max(self.index.values(), key=lambda i: scene.totals[i])
            return any(self.index.get(t) == best for t in arg)
        if kind == "named_benefit":
            return self.named_benefit(scene, frozenset(arg)) is not None
        if kind == "captures_outside":
            shape, lists = arg
            found = analysis.search(shape)
            if found is None:
                return False
            allowed = self.domain_stems.union(*(self.stems_of(n) for n in lists))
            return not any(w and stem(w) in allowed for w in found.groups())
        raise ValueError(f"unknown condition {kind!r}")  # the loader rules this out

    def _builtin(self, name: str, scene: Scene) -> bool:
        if name == "domain":
            return scene.domain
        if name == "no_oos":
            return self._oos_evidence(scene) == 0.0
        if name == "oos":
            return self._oos_evidence(scene) > 0
        if name == "mentions_domain":
            return scene.mentions_domain()
        if name == "names_condition":
            return scene.names_condition()
        if name == "named_benefit":
            return self.named_benefit(scene) is not None
        raise ValueError(f"unknown built-in {name!r}")

    def _oos_evidence(self, scene: Scene) -> float:
        if scene._oos is None:
            scene._oos = max((scene.totals[i] for i in self.oos_indexes), default=0.0)
        return scene._oos

    def named_benefit(self, scene: Scene, skip: frozenset[str] = frozenset()) -> str | None:
        """The benefit topic a help or overview question names, if any."""
        language = self.language
        for group in language.named_groups:
            found = [
                (scene.specifics[self.index[topic]], topic)
                for topic in group
                if topic not in skip
                and scene.specifics[self.index[topic]]
                >= language.named_at.get(topic, language.named_default)
            ]
            if found:
                return max(found)[1]
        return None

    # --- actions ------------------------------------------------------------------
    def _win(self, topic: str, totals: list[float]) -> None:
        position = self.index[topic]
        best_other = max(
            (t for i, t in enumerate(totals) if i != position and i != self.greeting_index),
            default=0.0,
        )
        greeting = totals[self.greeting_index] if self.greeting_index >= 0 else 0.0
        totals[position] = max(
            totals[position], best_other + FRAME_MARGIN, GREETING_SHARE * greeting + 0.01
        )

    def _act(self, action: Action, scene: Scene) -> str | None:
        """Carry out ``action``; "stop" or "off_topic" ends the frames."""
        if action.unless is not None and self.holds(action.unless, scene):
            return None
        totals = scene.totals
        if action.kind == "off_topic":
            return "off_topic"
        if action.kind == "win_named":
            named = self.named_benefit(scene)
            if named is None:
                return None
            self._win(named, totals)
            return "stop"
        assert action.topic is not None
        if action.kind in ("win", "mark"):
            self._win(action.topic, totals)
            return "stop" if action.kind == "win" else None
        if action.kind == "boost":
            totals[self.index[action.topic]] += action.amount
        elif action.kind == "zero":
            totals[self.index[action.topic]] = 0.0
        return None

    def _run(self, rules: tuple[Rule, ...], scene: Scene, first_only: bool) -> str | None:
        for rule in rules:
            if rule.first:
                outcome = self._run(rule.first, scene, first_only=True)
                if outcome is not None:
                    return outcome
                continue
            assert rule.when is not None and rule.action is not None
            if self.holds(rule.when, scene):
                outcome = self._act(rule.action, scene)
                if outcome is not None or first_only:
                    return outcome
        return None

    def apply(self, scene: Scene) -> bool:
        """Apply the frames in order; True when the message is about another subject."""
        return self._run(self.language.frames, scene, first_only=False) == "off_topic"

    def decide(self, scene: Scene) -> Decision | None:
        """The first decision whose condition holds, if any."""
        for decision in self.language.decisions:
            if self.holds(decision.when, scene):
                return decision
        return None


__all__ = ["FRAME_MARGIN", "Frames", "Scene"]
