"""Rasa NLU component: keeps the assistant to its scope, in both directions.

The intent classifier learns "a described health problem" or "a question about a condition"
from the words around it, so "I have an itchy rash on my arm" can look like a symptom
description. This component turns such a prediction into `out_of_scope` when the message
names something from `knowledge/scope.yml` (other body parts and health problems) and nothing
that keeps it in scope: no knowledge-base entity (condition, symptom, body part, treatment)
and none of the file's `inside` words ("back", "leg", "appointment").

The other way round, a message the classifier put out of scope is kept in scope when it names
one of our conditions, symptoms, treatments or body parts, or an `anchors` word ("clinic",
"appointment"), and nothing from the outside list ("I have back pain. Please help.", "what
time does the clinic close on saturday?"): the best-ranked content intent is used instead.

It runs after the FallbackClassifier and before the red-flag detector, so a red flag ("chest
pain") still wins.
"""

from __future__ import annotations

import re
from typing import Any

from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.shared.nlu.constants import ENTITIES, INTENT, TEXT
from rasa.shared.nlu.training_data.message import Message

from addons.component import ConfiguredComponent, override_intent, ranking_of, set_intent
from clinic.knowledge import ENTITY_LABELS, SYMPTOM, knowledge

OUT_OF_SCOPE = "out_of_scope"
#: The out-of-scope words of an out_of_scope message, set on the parse (for the dialogue
#: policy, the logs and the evaluation).
SCOPE_KEY = "out_of_scope_terms"
KEPT_KEY = "kept_in_scope_by"


#: "back" that is not the lower back: a phrasal verb ("it keeps coming back", "call me back").
#: `back of <body word>` is built from scope.yml in ScopeGuard.__init__. "put my back out"
#: and "my back" stay: only the words right before "back" are looked at.
PHRASAL_BACK = re.compile(
    r"\b(?:come|comes|coming|came|go|goes|going|gone|went|get|gets|getting|got|call|calls|"
    r"calling|called|ring|text|write|bounce|bounced|bouncing|fight|fighting|hold|holding|"
    r"held|pay|paying|paid|give|giving|gave|grow|grows|growing|grew|look|looking|looked|"
    r"sent|send|sending|bring|brought|be|been|being|is|are|was|were|i'm|i'll|ill)"
    r"\s+(?:(?:me|you|us|him|her|them|it)\s+)?back\b"
    r"(?!\s+(?:pain|ache|problems?|issues?|injur\w*|trouble|spasms?)\b)",
    re.I,
)


def alternation(terms: list[str]) -> str:
    """The terms as one regex alternation, longest first so "lower back" wins over "back"."""
    return "|".join(sorted({re.escape(t) for t in terms}, key=len, reverse=True))


def word_pattern(terms: list[str]) -> re.Pattern:
    """One case-insensitive pattern for the terms, their plurals and -ing forms ("coughing"),
    whole words only."""
    return re.compile(rf"\b(?:{alternation(terms)})(?:e?s|ing)?\b", re.I)


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=False)
class ScopeGuard(ConfiguredComponent):
    """Overrides content intents with out_of_scope for messages about other health topics."""

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        return {
            "intents": [
                "describe_symptoms",
                "ask_condition_info",
                "ask_causes",
                "ask_symptoms",
                "ask_treatment",
                "ask_outlook",
                "ask_assessment",
                "ask_leg_pain_link",
                "faq",
            ],
            # Also turned out of scope, never chosen to keep a message in scope: likely
            # misreadings of a message about something else ("severe pain in the ear" as a
            # form answer, "my eyes hurt, can I come in"). Not yes/no, greetings or thanks:
            # those answer the assistant and rarely name a body part.
            "misread_intents": ["inform", "request_appointment", "stop", "goodbye"],
        }

    def __init__(self, config: dict[str, Any]) -> None:
        super().__init__(config)
        self._intents = set(config["intents"])
        self._guarded = self._intents | set(config["misread_intents"])
        scope = knowledge().scope
        self._pattern = word_pattern(scope.terms())
        self._body = word_pattern(scope.outside.get("body", []))
        self._inside = word_pattern(scope.inside)
        self._anchors = word_pattern(scope.anchors)
        body = alternation(scope.outside.get("body", []))
        self._back_of_body = re.compile(
            rf"\bback\s+of\s+(?:(?:the|my|your|his|her|their|our|a)\s+)?(?:{body})"
            r"(?:e?s)?\b",
            re.I,
        )

    def without_other_backs(self, text: str) -> str:
        """`text` without the uses of "back" that are not the spine ("the back of my head",
        "my rash keeps coming back"), so they do not keep a message about something else
        in scope."""
        return PHRASAL_BACK.sub(" ", self._back_of_body.sub(" ", text))

    def is_outside_word(self, text: str, entity: dict[str, Any]) -> bool:
        """A typo-tolerant entity match that is, as written, one of the outside words
        ("statins" read as "strains"): the word the person typed wins over the guess."""
        if entity.get("confidence_entity", 1.0) >= 1.0:
            return False
        start, end = entity.get("start"), entity.get("end")
        if start is None or end is None:
            return False
        return bool(self._pattern.fullmatch(text[start:end]))

    def outside_terms(self, text: str, entities: list[dict[str, Any]]) -> list[str]:
        """The out-of-scope words in `text`, or [] when it names something we know.

        A symptom alone ("a sharp pain", "tingling") does not keep a message in scope when it
        is placed in another part of the body ("a sharp pain in my stomach")."""
        labels = {
            e.get("entity") for e in entities if not self.is_outside_word(text or "", e)
        } & set(ENTITY_LABELS)
        if labels - {SYMPTOM} or self._inside.search(self.without_other_backs(text or "")):
            return []
        if labels and not self._body.search(text or ""):
            return []
        return [m.group(0) for m in self._pattern.finditer(text or "")]

    def keep_in_scope(self, message: Message) -> None:
        """out_of_scope, but the message names one of our conditions, symptoms or treatments
        and nothing outside: use the best-ranked content intent instead."""
        text, entities = message.get(TEXT) or "", message.get(ENTITIES) or []
        anchors = sorted(
            {str(e.get("value")) for e in entities if e.get("entity") in ENTITY_LABELS}
        )
        anchors += [m.group(0).lower() for m in self._anchors.finditer(text)]
        if not anchors or self._pattern.search(text):
            return
        ranking = ranking_of(message)
        best = next((r for r in ranking if r["name"] in self._intents), None)
        if best is None:
            return
        set_intent(message, dict(best), [best, *(r for r in ranking if r is not best)])
        message.set(KEPT_KEY, anchors, add_to_output=True)

    def note_outside_terms(self, message: Message) -> None:
        """Already out_of_scope: name what is outside ("my tooth is throbbing"), so that the
        dialogue does not take the message for a piece of the back-pain story."""
        if (message.get(INTENT) or {}).get("name") != OUT_OF_SCOPE:
            return  # kept in scope
        found = self.outside_terms(message.get(TEXT), message.get(ENTITIES) or [])
        if found:
            message.set(SCOPE_KEY, found, add_to_output=True)

    def process(self, messages: list[Message]) -> list[Message]:
        for message in messages:
            intent = (message.get(INTENT) or {}).get("name")
            if intent == OUT_OF_SCOPE:
                self.keep_in_scope(message)
                self.note_outside_terms(message)
                continue
            if intent not in self._guarded:
                continue
            found = self.outside_terms(message.get(TEXT), message.get(ENTITIES) or [])
            if not found:
                continue
            override_intent(message, OUT_OF_SCOPE)
            message.set(SCOPE_KEY, found, add_to_output=True)
        return messages
