"""A reusable base for form validation: explain after a failed answer, give up gracefully.

Rasa's FormValidationAction re-asks a slot whose answer did not validate, but says nothing
about why. With this base a failed answer gets the slot's explanation from forms.yml; after
`max_failures` failures in a row the form calls `give_up`, which by default offers the clinic's
phone number and, for a skippable slot, records it as not given so the form can move on.
"""

from __future__ import annotations

import abc
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.forms import FormValidationAction
from rasa_sdk.types import DomainDict

from clinic.knowledge import knowledge, side_yaml
from clinic.knowledge.wording import fill

FAILURES_SLOT = "form_failures"
#: In form_failures: per slot, the message whose failure was last counted. Rasa validates a
#: slot with a custom mapping twice per message (action_extract_slots, whose replies are not
#: sent, then the form): one wrong answer is one failure, "1" as the reason for a booking no
#: longer gives up at once.
COUNTED = "_counted"
NOT_GIVEN = "not given"


def form_wording() -> dict[str, Any]:
    """`forms.yml`: per form and slot, the question and the explanation after a failed answer."""
    return side_yaml(__file__, "forms.yml")


class ExplainingFormValidation(FormValidationAction, abc.ABC):
    """FormValidationAction that explains failed answers and gives up after repeated ones.

    What the project must declare for a form `<form>` validated by a subclass:

    - domain: the form under `forms:` with its `required_slots`; each slot with a
      `from_text`/`from_entity` mapping conditioned on `active_loop: <form>` (so free text
      never fills it outside the form); the slot `form_failures` (type any, not influencing
      the conversation, custom mapping); the actions `validate_<form>` and
      `action_ask_<form>_<slot>` for every slot not marked `dynamic` in forms.yml.
    - forms.yml (beside this module): `forms.<form>.<slot>` with `ask` (and optional
      `buttons`) and `explain`; `give_up.skippable` and `give_up.required`. Texts may use the
      clinic's placeholders (clinic.knowledge.wording).
    - the subclass: `name()` returning `validate_<form>`, `validate_<slot>` methods, and
      `skippable` / `restarts` where a slot may be skipped or means "go back a step".
    """

    @abc.abstractmethod
    def name(self) -> str:
        """`validate_<form name>`."""

    max_failures = 2
    #: Slots that may be left unanswered ("skip"): after repeated failures they become
    #: NOT_GIVEN instead of blocking the form.
    skippable: frozenset = frozenset()
    #: Slots where an empty outcome means "go back a step", never a failed answer.
    restarts: frozenset = frozenset()

    def explanation(self, slot: str) -> str:
        return fill(form_wording()["forms"][self.form_name()][slot]["explain"], knowledge())

    def give_up(self, slot: str, dispatcher: CollectingDispatcher) -> list[EventType]:
        """After repeated failures: point to a person, and let skippable slots go."""
        wording = form_wording()["give_up"]["skippable" if slot in self.skippable else "required"]
        dispatcher.utter_message(text=fill(wording, knowledge()))
        return [SlotSet(slot, NOT_GIVEN)] if slot in self.skippable else []

    async def get_validation_events(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        candidates = dict(tracker.slots_to_validate())
        said_before = len(dispatcher.messages)
        events = await super().get_validation_events(dispatcher, tracker, domain)
        # A validator that replied itself ("that time has passed") needs no explanation.
        explained = len(dispatcher.messages) > said_before
        outcome = {e["name"]: e["value"] for e in events if e.get("event") == "slot"}
        before = dict(tracker.get_slot(FAILURES_SLOT) or {})
        failures = {k: v for k, v in before.items() if k != COUNTED}
        counted = dict(before.get(COUNTED) or {})
        message = tracker.latest_message.get("message_id")
        extra: list[EventType] = []
        for slot, candidate in candidates.items():
            if slot not in outcome or candidate is None:
                continue
            changed_others = any(v is not None for k, v in outcome.items() if k != slot)
            if outcome[slot] is not None or changed_others or slot in self.restarts:
                # Filled; or the answer set other slots (a new preferred time instead of one
                # of the offered slots); or it restarts a step ("no" to a confirmation).
                failures.pop(slot, None)
                counted.pop(slot, None)
                continue
            if message is None or counted.get(slot) != message:
                # A new wrong answer (after a give-up, the count starts again).
                earlier = failures.get(slot, 0)
                failures[slot] = (0 if earlier >= self.max_failures else earlier) + 1
                counted[slot] = message
            if failures[slot] >= self.max_failures:
                extra += self.give_up(slot, dispatcher)
            elif not explained:
                dispatcher.utter_message(text=self.explanation(slot))
        if counted:
            failures[COUNTED] = counted
        if failures != before:
            # Only when it changed: any SlotSet tells Rasa the form used the message, and a
            # form that extracted nothing must be rejected so a question can be answered.
            extra.append(SlotSet(FAILURES_SLOT, failures))
        return [*events, *extra]


class AskAction(Action, abc.ABC):
    """Asks for one form slot with the wording and buttons in forms.yml.

    Rasa asks with `action_ask_<form>_<slot>` when it exists (several forms share slots such
    as the contact details); keeping the questions here, next to their explanations, keeps
    each form's wording in one file. Slots marked `dynamic` have their own ask action."""

    form = ""
    slot = ""

    @abc.abstractmethod
    def name(self) -> str:
        """`action_ask_<form>_<slot>`."""

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        question = form_wording()["forms"][self.form][self.slot]
        dispatcher.utter_message(
            text=fill(question["ask"], knowledge()), buttons=question.get("buttons") or None
        )
        return []


def _ask_actions() -> list[type[AskAction]]:
    """One AskAction subclass per form slot in forms.yml (rasa-sdk registers subclasses)."""
    return [
        type(
            f"AskFor_{form}_{slot}",
            (AskAction,),
            {
                "form": form,
                "slot": slot,
                "name": lambda self, f=form, s=slot: f"action_ask_{f}_{s}",
                "__module__": __name__,
            },
        )
        for form, slots in form_wording()["forms"].items()
        for slot, wording in slots.items()
        if not wording.get("dynamic")
    ]


ASK_ACTIONS = _ask_actions()
