"""What a question asks: the knowledge-base ids it names, the words used, and the context.

Gathered from the tracker once per turn, then handed to the pure composing functions in
`explain` (which never see a tracker).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.events import EventType, SlotSet

from actions.chat import Message, slot_before_latest_message
from clinic.knowledge import BODY_PART, CONDITION, SYMPTOM, TREATMENT, KnowledgeBase, side_yaml
from clinic.nlp import matcher, talks_about_self


def answers_config() -> dict[str, Any]:
    """answers.yml: evidence phrases, offered marks, aspect words, buttons."""
    return side_yaml(__file__, "answers.yml")


@dataclass
class Answer:
    """Chat messages, and what they were about (for follow-ups like "what causes it?")."""

    messages: list[Message]
    condition: str | None = None
    treatment: str | None = None
    subject: str | None = None  # "case": the patient's own problem

    def events(self) -> list[EventType]:
        out: list[EventType] = [SlotSet("topic", self.subject)] if self.subject else []
        if self.condition:
            out += [SlotSet("condition", self.condition), SlotSet("topic", "condition")]
        if self.treatment:
            out += [SlotSet("treatment", self.treatment), SlotSet("topic", "treatment")]
        return out


@dataclass
class Ask:
    """What the person's latest message refers to, plus the conversation's context."""

    mentions: dict[str, list[str]] = field(default_factory=dict)  # label -> ids, in order
    surfaces: dict[str, list[str]] = field(default_factory=dict)  # id -> words they used
    aspect: str | None = None
    about_self: bool = False
    condition: str | None = None  # slot: the condition under discussion
    treatment: str | None = None  # slot: the treatment under discussion
    topic: str | None = None  # slot: "condition" or "treatment", whichever came last
    previous_treatment: str | None = None  # the treatment slot before this message

    def first(self, label: str) -> str | None:
        ids = self.mentions.get(label) or []
        return ids[0] if ids else None


def detect_aspect(text: str) -> str | None:
    """Which side of a treatment a question is about, from its words (see answers.yml)."""
    lowered = " " + re.sub(r"[^\w' ]+", " ", text.lower()) + " "
    for aspect, words in answers_config()["aspect_words"].items():
        if any(f" {w} " in lowered for w in words):
            return aspect
    return None


def ask_from_tracker(tracker: Tracker, kb: KnowledgeBase) -> Ask:
    """Collect the entities of the latest message (already knowledge-base ids) and slots."""
    message = tracker.latest_message or {}
    text = message.get("text") or ""
    ask = Ask(
        condition=tracker.get_slot("condition"),
        treatment=tracker.get_slot("treatment"),
        topic=tracker.get_slot("topic"),
        previous_treatment=slot_before_latest_message(tracker, "treatment"),
    )
    for ent in message.get("entities") or []:
        label, value = ent.get("entity"), ent.get("value")
        if not isinstance(value, str):
            continue  # typed-in payloads can carry anything; only ids can be answered
        if label == "aspect" and value in answers_config()["aspect_words"]:
            ask.aspect = value
        if label not in (CONDITION, SYMPTOM, BODY_PART, TREATMENT):
            continue
        if value not in kb.by_label(label):
            continue  # a value that is no knowledge-base id cannot be answered from it
        ids = ask.mentions.setdefault(label, [])
        if value not in ids:
            ids.append(value)
        start, end = ent.get("start"), ent.get("end")
        if isinstance(start, int) and isinstance(end, int) and text:
            ask.surfaces.setdefault(value, []).append(text[start:end])
    if text and not text.startswith("/"):
        ask.about_self = talks_about_self(matcher().nlp.make_doc(text))
        ask.aspect = ask.aspect or detect_aspect(text)
    return ask
