"""TED computed only when it can change the answer (addons/lazy_ted.py) picks exactly what
Rasa picks: every next-action prediction of the test conversations (stories, follow-ups,
bookings, red flags, out-of-scope), replayed with and without it, gives the same action,
policy, probabilities and events; and TED is really skipped for most of them."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
import yaml
from rasa.core.policies.ensemble import DefaultPolicyPredictionEnsemble
from rasa.core.policies.policy import PolicyPrediction
from rasa.core.policies.ted_policy import TEDPolicy
from rasa.shared.core.events import ActionExecuted, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker

from addons import lazy_ted
from tests.helpers import ROOT

pytestmark = pytest.mark.model

CONVERSATIONS = sorted((ROOT / "tests" / "conversations").glob("*.yml"))


def user_turns(path: Path) -> list[list[str]]:
    conversations = yaml.safe_load(path.read_text())["conversations"]
    return [[turn["user"] for turn in c["turns"] if "user" in turn] for c in conversations]


def summary(prediction: PolicyPrediction) -> tuple:
    return (
        prediction.policy_name,
        prediction.max_confidence_index,
        [round(p, 6) for p in prediction.probabilities],
        prediction.events,
        prediction.optional_events,
        prediction.is_end_to_end_prediction,
        prediction.is_no_user_prediction,
        prediction.hide_rule_turn,
        prediction.action_metadata,
    )


def predictions_at_each_action(agent, tracker: DialogueStateTracker) -> list[tuple]:
    """The ensemble's prediction before each action of a finished conversation."""
    processor, out = agent.processor, []
    for index, event in enumerate(tracker.events):
        if isinstance(event, ActionExecuted) and index:
            before = DialogueStateTracker.from_events(
                tracker.sender_id, list(tracker.events)[:index], agent.domain.slots
            )
            out.append(summary(processor._predict_next_with_tracker(before)))
    return out


def unusual_turns(agent) -> list[DialogueStateTracker]:
    """Turns no rule or story covers (a greeting answered by each of the bot's actions in
    turn), where no policy is certain and TED decides."""
    domain, out = agent.domain, []
    greet = UserUttered("hello", {"name": "greet", "confidence": 1.0})
    for number, action in enumerate(domain.user_actions_and_forms[:40]):
        events = [ActionExecuted("action_listen"), greet, ActionExecuted(action)]
        events.append(ActionExecuted("action_listen"))  # the prediction before this one
        out.append(DialogueStateTracker.from_events(f"unusual-{number}", events, domain.slots))
    return out


def install_counted(monkeypatch: pytest.MonkeyPatch, agent) -> dict[str, int]:
    """addons/lazy_ted.py installed until `monkeypatch` undoes it (the agent is shared);
    the counts of deferred and computed TED predictions. The server installs it before
    loading; a loaded graph node keeps the method it found, so TED's nodes get the new one."""
    monkeypatch.setattr(
        TEDPolicy, "predict_action_probabilities", TEDPolicy.predict_action_probabilities
    )
    monkeypatch.setattr(
        DefaultPolicyPredictionEnsemble,
        "_best_policy_prediction",
        DefaultPolicyPredictionEnsemble.__dict__["_best_policy_prediction"],
    )
    counts = {"deferred": 0, "computed": 0}
    resolve = lazy_ted.DeferredPrediction.resolve

    def counting_resolve(self):
        counts["computed"] += not self.computed
        return resolve(self)

    init = lazy_ted.DeferredPrediction.__init__

    def counting_init(self, *args, **kwargs):
        counts["deferred"] += 1
        init(self, *args, **kwargs)

    monkeypatch.setattr(lazy_ted.DeferredPrediction, "resolve", counting_resolve)
    monkeypatch.setattr(lazy_ted.DeferredPrediction, "__init__", counting_init)
    lazy_ted.install()
    for node in agent.processor.graph_runner._instantiated_nodes.values():
        if isinstance(node._component, TEDPolicy):
            monkeypatch.setattr(node, "_fn", TEDPolicy.predict_action_probabilities)
    return counts


def test_every_prediction_of_the_test_conversations_is_unchanged(agent):
    trackers = []
    for path in CONVERSATIONS:
        for number, turns in enumerate(user_turns(path)):
            sender = f"lazy-ted-{path.stem}-{number}"
            for text in turns:
                asyncio.run(agent.handle_text(text, sender_id=sender))
            trackers.append(asyncio.run(agent.tracker_store.retrieve(sender)))
    trackers += unusual_turns(agent)
    eager = [predictions_at_each_action(agent, t) for t in trackers]

    with pytest.MonkeyPatch.context() as patch:
        counts = install_counted(patch, agent)
        lazily = [predictions_at_each_action(agent, t) for t in trackers]

    assert sum(map(len, eager)) > 300
    for tracker, expected, got in zip(trackers, eager, lazily, strict=True):
        assert got == expected, tracker.sender_id
    skipped = counts["deferred"] - counts["computed"]
    assert counts["computed"] > 0  # TED still decides where no other policy is certain
    assert skipped > counts["deferred"] / 2, counts


def test_an_end_to_end_ted_is_never_deferred():
    ted = TEDPolicy.__new__(TEDPolicy)
    ted.only_e2e, ted.fake_features = False, {"text": []}
    assert not lazy_ted.can_defer(ted)
    ted.fake_features = {"intent": []}
    assert lazy_ted.can_defer(ted)
    ted.only_e2e = True
    assert not lazy_ted.can_defer(ted)


def test_only_a_certain_higher_priority_prediction_outranks_a_deferred_one():
    deferred = lazy_ted.DeferredPrediction(lambda: PolicyPrediction([0.2, 0.8], "TED", 1), "TED", 1)
    rule = PolicyPrediction([0.0, 1.0], "RulePolicy", 6)
    unsure = PolicyPrediction([0.3, 0.7], "RulePolicy", 6)
    low = PolicyPrediction([0.0, 1.0], "Other", 1)  # same priority: TED could tie and win
    assert lazy_ted.outranked(deferred, [unsure, rule])
    assert not lazy_ted.outranked(deferred, [unsure])
    assert not lazy_ted.outranked(deferred, [low])
    assert not deferred.computed
    assert deferred.max_confidence == 0.8 and deferred.computed  # computed when read
