"""A base for dialogue policies that decide from the slots and the message, and learn nothing.

RedFlagPolicy and ContextPolicy make rule-like decisions no story can teach (a red flag always
first; a fragment read against the question just asked). Rasa still trains and loads every
policy, so the base writes an empty resource for it. A subclass sets `PRIORITY` and
implements `predict_action_probabilities`; it must still be registered with
`@DefaultV1Recipe.register` itself.
"""

from __future__ import annotations

from typing import Any

from rasa.core.policies.policy import Policy, PolicyPrediction
from rasa.engine.storage.resource import Resource
from rasa.shared.core.domain import Domain
from rasa.shared.core.generator import TrackerWithCachedStates


class FixedPolicy(Policy):
    """A policy with a priority and nothing to learn."""

    #: Ties on confidence go to the higher priority (RulePolicy's is 6).
    PRIORITY = 1

    @classmethod
    def get_default_config(cls) -> dict[str, Any]:
        return {"priority": cls.PRIORITY}

    def train(
        self, training_trackers: list[TrackerWithCachedStates], domain: Domain, **kwargs: Any
    ) -> Resource:
        with self._model_storage.write_to(self._resource):
            pass  # nothing to learn; the resource only has to exist for loading
        return self._resource

    def _override(self, probabilities: list[float]) -> PolicyPrediction:
        """A prediction that outranks an active form's. In a form, RulePolicy predicts the
        form as a "no user" prediction, which Rasa's ensemble ranks above every prediction
        made from the user's message; marked the same, with full confidence and a higher
        priority, this one wins the tie."""
        return self._prediction(probabilities, is_no_user_prediction=True)
