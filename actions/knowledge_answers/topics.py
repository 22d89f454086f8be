"""Topics as buttons: plain titles and payloads for intents and FAQs, and the second question
in a message that asks two things.

Used by the two-stage fallback (guess the two most likely topics) and by the answer actions
(answer the main question, offer the other). Titles and cue patterns live in topics.yml.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from rasa_sdk import Tracker

from actions.chat import payload
from clinic.knowledge import CONDITION, TREATMENT, KnowledgeBase, side_yaml
from clinic.knowledge.wording import fill, lower_first
from clinic.nlp import matcher

FAQ = "faq"
FAQ_TOPIC = "faq_topic"


def config() -> dict[str, Any]:
    return side_yaml(__file__, "topics.yml")


@dataclass
class Topic:
    """Something the person may have meant: an intent (or faq/<id>) and its entities."""

    intent: str
    entities: dict[str, str] = field(default_factory=dict)

    def title(self, kb: KnowledgeBase) -> str:
        """Plain words for a button ("What causes sciatica", "Opening hours")."""
        if self.intent.startswith(f"{FAQ}/"):
            return kb.faqs[self.intent.split("/", 1)[1]].title
        titles = config()["titles"].get(self.intent, {"plain": self.intent.replace("_", " ")})
        for label, table in ((TREATMENT, kb.treatments), (CONDITION, kb.conditions)):
            template = titles.get(f"with_{label}")
            entry = table.get(self.entities.get(label, ""))
            if template and entry:
                return fill(template, kb, **{label: lower_first(entry.name)})
        return titles["plain"]

    def button(self, kb: KnowledgeBase) -> dict[str, str]:
        if self.intent.startswith(f"{FAQ}/"):
            return {
                "title": self.title(kb),
                "payload": payload(FAQ, **{FAQ_TOPIC: self.intent.split("/", 1)[1]}),
            }
        return {"title": self.title(kb), "payload": payload(self.intent, **self.entities)}


def _first_of_each(pairs: Iterable[tuple[str, str]]) -> dict[str, str]:
    """The first condition and the first treatment among (label, id) pairs."""
    found: dict[str, str] = {}
    for label, value in pairs:
        if label in (CONDITION, TREATMENT):
            found.setdefault(label, value)
    return found


def kb_entities(tracker: Tracker) -> dict[str, str]:
    """The condition and treatment the latest message names (first of each)."""
    entities = tracker.latest_message.get("entities") or []
    return _first_of_each((e.get("entity"), str(e.get("value"))) for e in entities)


def clause_entities(clause: str) -> dict[str, str]:
    """The condition and treatment a clause names itself (first of each): in "what causes
    sciatica, and how is stenosis treated?" the second question is about stenosis."""
    return _first_of_each((e.label, e.id) for e in matcher()(clause))


def selected_faq(message: dict[str, Any]) -> str | None:
    """The FAQ id a message asks about: a button's faq_topic, else the ResponseSelector's pick."""
    for ent in message.get("entities") or []:
        if ent.get("entity") == FAQ_TOPIC:
            return str(ent.get("value"))
    selectors = message.get("response_selector") or {}
    picked = selectors.get(FAQ) or selectors.get("default") or {}
    key = (picked.get("response") or {}).get("intent_response_key") or ""
    return key.split("/", 1)[1] if key.startswith(f"{FAQ}/") else None


def likely_topics(message: dict[str, Any], kb: KnowledgeBase, limit: int = 2) -> list[Topic]:
    """The most likely meanings of a message the classifier was unsure about, best first:
    intents from the ranking, with `faq` expanded into the ResponseSelector's top FAQs."""
    cfg = config()
    skip, floor = set(cfg["never_offer"]), float(cfg["min_confidence"])
    entities = {
        e["entity"]: str(e["value"])
        for e in message.get("entities") or []
        if e.get("entity") in (CONDITION, TREATMENT)
    }
    selectors = message.get("response_selector") or {}
    faq_ranking = (selectors.get(FAQ) or selectors.get("default") or {}).get("ranking") or []
    out: list[Topic] = []
    for ranked in message.get("intent_ranking") or []:
        name, confidence = ranked.get("name"), float(ranked.get("confidence") or 0)
        if not name or name in skip or confidence < floor:
            continue
        if name == FAQ:
            for faq in faq_ranking[:limit]:
                key = faq.get("intent_response_key") or ""
                if key.split("/", 1)[-1] in kb.faqs:
                    out.append(Topic(key))
        elif name in cfg["titles"]:
            out.append(Topic(name, {k: v for k, v in entities.items()}))
    unique: list[Topic] = []
    for topic in out:
        if all(topic.intent != t.intent for t in unique):
            unique.append(topic)
    return unique[:limit]


# --- two questions in one message ----------------------------------------------------------

_QUESTION_WORDS = (
    r"how|what|whats|what's|why|when|where|which|who|is|are|can|could|do|does|did|will|"
    r"would|should|shall|any"
)
_CLAUSE_SPLIT = re.compile(
    r"(?<=[?.!;])\s+|\s*[,;]?\s+\b(?:and also|and|also|plus|but)\b\s+"
    rf"|,\s+(?=(?:{_QUESTION_WORDS})\b)",
    re.I,
)
_LEADING_LINK = re.compile(r"^(?:and also|and|also|plus|but|so)\b\s*", re.I)
_QUESTION_START = re.compile(rf"^\s*(?:{_QUESTION_WORDS})\b", re.I)


#: Only the start of a very long message is searched for a second question. Whitespace is
#: collapsed first: the split pattern's adjacent whitespace runs take time that grows with
#: the cube of a run's length (24 s for 2,000 spaces), and actions share one event loop.
MAX_SCANNED_CHARS = 2000


def clauses(text: str) -> list[str]:
    """The message cut into clauses at sentence ends and at joins like "and" or "also"."""
    text = " ".join((text or "").split())[:MAX_SCANNED_CHARS]
    parts = (_LEADING_LINK.sub("", c.strip(" ,")) for c in _CLAUSE_SPLIT.split(text) if c)
    return [p for p in parts if p]


def _cue_intent(clause: str) -> str | None:
    for intent, patterns in config()["second_question_cues"].items():
        if any(re.search(p, clause, re.I) for p in patterns):
            return intent
    return None


def second_question(text: str, answered: str) -> tuple[str, str] | None:
    """(clause, intent) of a further question in `text` that the answer to `answered` did not
    cover, e.g. "how is it treated?" after the causes were explained; None if there is none."""
    parts = clauses(text)
    if len(parts) < 2:
        return None
    for clause in parts:
        if not (clause.endswith("?") or _QUESTION_START.match(clause)):
            continue
        intent = _cue_intent(clause)
        if intent and intent != answered:
            return clause, intent
    return None


def follow_up_offer(tracker: Tracker, kb: KnowledgeBase, answered: str) -> dict[str, Any] | None:
    """A chat message offering to answer the message's other question, or None."""
    found = second_question(tracker.latest_message.get("text") or "", answered)
    if not found:
        return None
    clause, intent = found
    if intent.startswith(f"{FAQ}/") and intent.split("/", 1)[1] not in kb.faqs:
        return None
    question = clause[:1].upper() + clause[1:].rstrip(".!,;")
    question = question if question.endswith("?") else question + "?"
    topic = Topic(intent, {**kb_entities(tracker), **clause_entities(clause)})
    text = fill(config()["wording"]["also_asked"], kb, question=question)
    return {"text": text, "buttons": [topic.button(kb)]}
