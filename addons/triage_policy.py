"""Dialogue policy: a red flag always gets the triage action next, whatever else is going on.

Rules and forms normally decide the next action; in the middle of a form, RulePolicy force-
predicts the form as a "no user" prediction, which Rasa's ensemble ranks above every prediction
made from the user's message, whatever its confidence. So this policy also marks its
predictions as "no user" ones, and with full confidence and a priority above RulePolicy's it
wins that tie: `action_triage_red_flag` right after a `red_flag` message, then listen.
It learns nothing from stories: the decision is made by the red-flag
detector, not by a model. One decision needs the conversation, so it is made here: a message
that completes a red flag reported earlier (`escalates` in knowledge/red_flags.yml: "also I'm
short of breath" after a swollen calf) gets the triage action too, whatever its intent.
"""

from __future__ import annotations

from typing import Any

from rasa.core.policies.policy import PolicyPrediction, confidence_scores_for
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.shared.core.constants import ACTION_LISTEN_NAME
from rasa.shared.core.domain import Domain
from rasa.shared.core.trackers import DialogueStateTracker

from addons.fixed_policy import FixedPolicy
from clinic.red_flags import RED_FLAG_INTENT, TRIAGE_ACTION, escalations

RED_FLAGS_SLOT = "red_flags"  # the flags reported so far (set by the triage action)

#: RulePolicy's priority is 6 and ContextPolicy's 7; ties on confidence go to the higher one.
PRIORITY = 8


@DefaultV1Recipe.register(
    DefaultV1Recipe.ComponentType.POLICY_WITHOUT_END_TO_END_SUPPORT, is_trainable=True
)
class RedFlagPolicy(FixedPolicy):
    """Predicts the triage action after every red-flag message."""

    PRIORITY = PRIORITY

    def predict_action_probabilities(
        self,
        tracker: DialogueStateTracker,
        domain: Domain,
        rule_only_data: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> PolicyPrediction:
        last_action = tracker.latest_action_name
        intent = (
            (tracker.latest_message.intent or {}).get("name") if tracker.latest_message else None
        )
        if last_action == ACTION_LISTEN_NAME and (
            intent == RED_FLAG_INTENT or self._escalates(tracker)
        ):
            return self._override(confidence_scores_for(TRIAGE_ACTION, 1.0, domain))
        if last_action == TRIAGE_ACTION:
            return self._override(confidence_scores_for(ACTION_LISTEN_NAME, 1.0, domain))
        return self._prediction(self._default_predictions(domain))

    @staticmethod
    def _escalates(tracker: DialogueStateTracker) -> bool:
        """Whether the latest message completes a red flag reported earlier."""
        earlier = tracker.get_slot(RED_FLAGS_SLOT) if RED_FLAGS_SLOT in tracker.slots else None
        if not earlier or not tracker.latest_message:
            return False
        return bool(escalations(tracker.latest_message.text or "", list(earlier)))
