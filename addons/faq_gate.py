"""Rasa NLU component: a clinic FAQ only when the ResponseSelector recognises one.

The intent classifier sees `faq` as one broad intent (39 FAQs), so it tends to claim any
general back-pain question ("what are the treatments for chronic low back pain?"). When the
ResponseSelector, trained on the FAQs alone, is unsure which FAQ it is (its best FAQ below
`min_faq_confidence`), the message is not treated as a FAQ: the next intent in the
classifier's ranking is used, with the other intents' confidences renormalised as "given
that it is not a FAQ". It runs before the FallbackClassifier, which then judges them.

A message that gives a phone number or an email address ("you can reach me on
jo@example.com") is someone handing over their details, not asking how to contact us,
however much it sounds like the contact FAQ: it becomes `inform`, which the booking and
call-back forms take as an answer.
"""

from __future__ import annotations

from typing import Any

from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.shared.nlu.constants import INTENT, TEXT
from rasa.shared.nlu.training_data.message import Message

from addons.component import ConfiguredComponent, override_intent, ranking_of, set_intent
from clinic.parsing.contact import normalise_contact

FAQ = "faq"
INFORM = "inform"
GATED_KEY = "faq_gated"


def gives_contact_details(message: Message) -> bool:
    """True when the text holds a phone number or an email address the forms would accept."""
    return any(normalise_contact(message.get(TEXT) or ""))


def faq_confidence(message: Message) -> float:
    selectors = message.get("response_selector") or {}
    picked = selectors.get(FAQ) or selectors.get("default") or {}
    return float((picked.get("response") or {}).get("confidence") or 0.0)


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=False)
class FaqGate(ConfiguredComponent):
    """Passes `faq` on to the next-ranked intent when no single FAQ stands out."""

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        return {"min_faq_confidence": 0.25}

    def __init__(self, config: dict[str, Any]) -> None:
        super().__init__(config)
        self._floor = float(config["min_faq_confidence"])

    def process(self, messages: list[Message]) -> list[Message]:
        for message in messages:
            if (message.get(INTENT) or {}).get("name") != FAQ:
                continue
            if gives_contact_details(message):
                override_intent(message, INFORM)
                continue
            confidence = faq_confidence(message)
            if confidence >= self._floor:
                continue
            ranking = ranking_of(message)
            faq_share = max((r["confidence"] for r in ranking if r["name"] == FAQ), default=0.0)
            # The other intents' confidences given that it is not a FAQ.
            scale = 1.0 / max(1.0 - float(faq_share), 1e-6)
            rest = [
                {**r, "confidence": min(1.0, float(r["confidence"]) * scale)}
                for r in ranking
                if r["name"] != FAQ
            ]
            if not rest:
                continue
            faq = [r for r in ranking if r["name"] == FAQ]
            set_intent(message, dict(rest[0]), rest + faq)
            message.set(GATED_KEY, round(confidence, 3), add_to_output=True)
        return messages
