"""TED's prediction computed only when it can change the answer.

Every prediction runs all the policies, then the ensemble keeps the most confident one, ties
going to the higher priority (Rasa's `DefaultPolicyPredictionEnsemble`). TED has the lowest
priority and its confidences are softmax values, never above 1. So when another policy is
already certain (a rule, a memorised story, the red-flag or context policy: confidence 1.0)
TED cannot win, and its network run (a fifth of the server's CPU under load, py-spy) was
thrown away. Here TED's policy node returns a `DeferredPrediction`; the ensemble computes it
only when no other prediction outranks it for sure. The chosen prediction is the same
object it was, with the same events (tests/addons/test_lazy_ted.py replays conversations
both ways).

Deferral holds only while TED is not end-to-end (text) trained: an end-to-end prediction
overrules intent-based ones whatever its confidence, so such a TED is always computed.
Anything else that reads a deferred prediction gets it computed on first access.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from rasa.core.policies.ensemble import DefaultPolicyPredictionEnsemble
from rasa.core.policies.policy import PolicyPrediction
from rasa.core.policies.ted_policy import TEDPolicy
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, ActionExecutionRejected
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.shared.nlu.constants import TEXT

#: The highest confidence a policy gives (softmax and rule confidences alike).
CERTAIN = 1.0


class DeferredPrediction(PolicyPrediction):
    """A prediction computed on first use; name and priority are known up front."""

    def __init__(
        self, compute: Callable[[], PolicyPrediction], policy_name: str, priority: int
    ) -> None:  # no super().__init__: every other attribute comes from the computed one
        self._compute: Callable[[], PolicyPrediction] | None = compute
        self._computed: PolicyPrediction | None = None
        self.policy_name = policy_name
        self.policy_priority = priority

    @property
    def computed(self) -> bool:
        return self._computed is not None

    def resolve(self) -> PolicyPrediction:
        """The real prediction, computed once."""
        if self._computed is None:
            assert self._compute is not None
            self._computed, self._compute = self._compute(), None
        return self._computed

    def __getattr__(self, name: str) -> Any:
        # Only for attributes not set above (probabilities, events, ...): compute on first read.
        if name.startswith("_"):
            raise AttributeError(name)
        return getattr(self.resolve(), name)


def can_defer(policy: TEDPolicy) -> bool:
    """False for an end-to-end TED (its text predictions overrule others)."""
    return not policy.only_e2e and TEXT not in (policy.fake_features or {})


def outranked(deferred: DeferredPrediction, others: list[PolicyPrediction]) -> bool:
    """True when some computed prediction beats `deferred` whatever it turns out to be:
    certain (confidence 1.0, which `deferred` can at most tie) with a higher priority.
    Rejected actions do not matter here: the ensemble zeroes them in `deferred` too, which
    can only lower it."""
    return any(
        p.max_confidence >= CERTAIN and p.policy_priority > deferred.policy_priority for p in others
    )


def _defer_ted() -> None:
    original = TEDPolicy.predict_action_probabilities

    def predict_action_probabilities(
        self: TEDPolicy, tracker: DialogueStateTracker, domain: Domain, *args: Any, **kw: Any
    ) -> PolicyPrediction:
        if not can_defer(self):
            return original(self, tracker, domain, *args, **kw)
        return DeferredPrediction(
            lambda: original(self, tracker, domain, *args, **kw),
            self.__class__.__name__,
            self.priority,
        )

    TEDPolicy.predict_action_probabilities = predict_action_probabilities


def _compute_deferred_only_when_needed() -> None:
    original = DefaultPolicyPredictionEnsemble._best_policy_prediction

    def best_policy_prediction(
        predictions: list[PolicyPrediction], tracker: DialogueStateTracker, domain: Domain
    ) -> PolicyPrediction:
        ready = [p for p in predictions if not isinstance(p, DeferredPrediction)]
        dropped = {
            id(p)
            for p in predictions
            if isinstance(p, DeferredPrediction)
            and not p.computed
            and _outranked_after_rejection(p, ready, tracker, domain)
        }
        chosen = [_real(p) for p in predictions if id(p) not in dropped]
        return original(chosen, tracker, domain)

    DefaultPolicyPredictionEnsemble._best_policy_prediction = staticmethod(best_policy_prediction)


def _outranked_after_rejection(
    deferred: DeferredPrediction,
    ready: list[PolicyPrediction],
    tracker: DialogueStateTracker,
    domain: Domain,
) -> bool:
    # Rasa zeroes the rejected action, if any, in every prediction before choosing; that can
    # make a computed one less than certain, so it is applied (to copies) before asking.
    rejected = _rejected_action(tracker)
    if rejected is None:
        return outranked(deferred, ready)
    index = domain.index_for_action(rejected)
    zeroed = [_zeroed_copy(p, index) for p in ready]
    return outranked(deferred, zeroed)


def _zeroed_copy(prediction: PolicyPrediction, index: int) -> PolicyPrediction:
    probabilities = list(prediction.probabilities)
    probabilities[index] = 0.0
    return PolicyPrediction(probabilities, prediction.policy_name, prediction.policy_priority)


def _rejected_action(tracker: DialogueStateTracker) -> str | None:
    """The action whose execution was rejected last, as Rasa's ensemble finds it."""
    for event in reversed(tracker.events):
        if isinstance(event, ActionExecutionRejected):
            return event.action_name
        if isinstance(event, ActionExecuted):
            return None
    return None


def _real(prediction: PolicyPrediction) -> PolicyPrediction:
    return prediction.resolve() if isinstance(prediction, DeferredPrediction) else prediction


def install() -> None:
    """Defer TED's predictions and compute them in the ensemble only when needed."""
    _defer_ted()
    _compute_deferred_only_when_needed()
