"""What the conversation is about, and short follow-up questions about it.

The subject is the last thing answered about: a condition, a treatment, or the patient's own
case (`topic` slot: condition / treatment / case, with the `condition` and `treatment` slots
holding the ids). A follow-up ("is it serious?", "will it go away on its own?", "can I still
have it if I'm pregnant?") names no subject of its own and is answered about that one. The
kinds of follow-up and their wording patterns live in subject.yml, beside this module.

The dialogue policy (addons/context_policy.py) and the follow-up action
(actions/knowledge_answers/follow_ups.py) both read messages with these functions.
"""

from __future__ import annotations

import functools
import re
from typing import Any

from clinic.knowledge import KnowledgeBase, side_yaml
from clinic.parsing.booking_answers import parse_reference

#: The subject kinds the `topic` slot holds.
SUBJECTS = ("condition", "treatment", "case")


def _config() -> dict[str, Any]:
    return side_yaml(__file__, "subject.yml")


@functools.lru_cache(maxsize=1)
def _patterns() -> list[tuple[str, re.Pattern]]:
    out = []
    for kind, patterns in _config()["kinds"].items():
        out += [(kind, re.compile(p)) for p in patterns]
    return out


def _clean(text: str) -> str:
    return " ".join(text.lower().replace("’", "'").split())


def is_question(text: str) -> bool:
    """A question mark, or a question's first word ("is it serious", "what if I'm pregnant")."""
    clean = _clean(text)
    if clean.endswith("?") or clean.rstrip(".! ").endswith(tuple(_config()["question_ends"])):
        return True
    words = re.sub(r"[^\w' ]+", " ", clean).split()
    while words and words[0] in _config()["question_openers"]:
        words = words[1:]
    starts = _config()["question_starts"]
    return bool(words) and (words[0] in starts or " ".join(words[:2]) in starts)


def offers_detail(text: str) -> bool:
    """A detail offered for the story ("I had a chest infection in March, if that matters")."""
    return _clean(text).rstrip(".! ").endswith(tuple(_config()["offer_ends"]))


def follow_up_kind(text: str) -> str | None:
    """The kind of follow-up a question is (subject.yml), or None."""
    if not text or text.startswith("/") or not is_question(text):
        return None
    clean = _clean(text)
    for kind, pattern in _patterns():
        if pattern.search(clean):
            return kind
    return None


def is_clinic_question(text: str) -> bool:
    """A question about the clinic itself (prices, visits, insurance): a FAQ's, not ours."""
    words = " " + re.sub(r"[^\w' ]+", " ", _clean(text)) + " "
    return any(f" {w} " in words for w in _config()["clinic_words"])


def contraindication_terms(text: str) -> list[str]:
    """The health situations a "can I still have it if..." question names."""
    pattern = re.compile(_config()["kinds"]["contraindication"][0])
    return list(dict.fromkeys(m.group(0) for m in pattern.finditer(_clean(text))))


def asks_to_book(text: str) -> bool:
    """Whether a message asks for an appointment, whatever else it tells."""
    clean = _clean(text)
    return any(re.search(p, clean) for p in _config()["booking_request"])


def names_a_booking(text: str) -> bool:
    """Whether a message refers to a booking already made ("move my appointment", a
    reference): a change of time without one is about the booking under way."""
    clean = _clean(text)
    return bool(parse_reference(text)) or any(
        re.search(p, clean) for p in _config()["existing_booking"]
    )


def change_misread(intent: str | None, text: str) -> bool:
    """A change of time that names no booking already made, which the classifier took for
    moving one: "could I try it? thursday afternoon suits me", or mid-booking "can we do the
    afternoon instead"."""
    return intent == "reschedule_appointment" and not names_a_booking(text)


def name_misread(intent: str | None, asked: str | None, text: str) -> bool:
    """A name given at the name question that the classifier took for a stop ("Jo Smith"):
    only a message with a word of stopping (subject.yml, stop_words) or a way of leaving
    (leave_booking) stops a booking there."""
    words = set(re.findall(r"[\w']+", text.lower()))
    stops = words & set(_config()["stop_words"])
    return intent == "stop" and asked == "patient_name" and not stops and not leaves_booking(text)


def leaves_booking(text: str) -> bool:
    """Whether a message leaves a booking in progress ("never mind, too pricey for me")."""
    clean = _clean(text)
    return any(re.search(p, clean) for p in _config()["leave_booking"])


_STOP_WORDS = frozenset(
    "what about with that this thing things does will would could should have your mine when"
    " then than them they there their just like really also still much more from into".split()
)


def related_sentences(texts: list[str], question: str, limit: int = 2) -> list[str]:
    """Sentences of a subject's entry that share a word with a vague follow-up ("and the
    walking thing?" finds "leg pain that comes on when standing or walking")."""
    words = {w[:5] for w in re.findall(r"[a-z]{4,}", question.lower()) if w not in _STOP_WORDS}
    if not words:
        return []
    found = []
    for text in texts:
        for sentence in re.split(r"(?<=[.!?])\s+", text):
            if any(re.search(rf"\b{re.escape(w)}", sentence.lower()) for w in words):
                found.append(sentence)
    return list(dict.fromkeys(found))[:limit]


def subject_texts(kb: KnowledgeBase, topic: str | None, entry_id: str | None) -> list[str]:
    """The knowledge-base texts of the subject under discussion, for `related_sentences`."""
    if topic == "condition" and entry_id in kb.conditions:
        c = kb.conditions[entry_id]
        return [c.summary, *c.symptoms, *c.causes, c.outlook, c.other_options]
    if topic == "treatment" and entry_id in kb.treatments:
        t = kb.treatments[entry_id]
        return [t.summary, t.session, t.suits, t.not_for, t.evidence]
    return []
