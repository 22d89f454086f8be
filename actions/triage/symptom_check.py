"""Symptom check: the patient's own story, told over as many messages as they like.

Every piece of a story ("shooting pain down my thigh", "3 weeks", "no", "worse when I
cough") comes here: addons/context_policy.py sends a message that answers the question just
asked, or adds to a story under way, and the rules send a described problem. The piece is
read into the conversation's one case (clinic/intake/case.py, kept in the `case` slot). The first
time symptoms are known, the answer names what they are commonly linked to and why, most
common conditions first, never as a diagnosis. Then the most useful question still open is
asked directly, with buttons and free text, one at a time; nothing already said is asked
again. The summary the case builds is what a booking hands to the clinic (`intake_summary`).

Red flags are not handled here: they never reach this action (addons/red_flags.py and
addons/triage_policy.py send every red-flag message to the triage action first).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.chat import book_button, bubble, bullets, button, say
from actions.triage.replies import add_advice
from clinic.intake.case import Case, next_question, piece_says_anything, read_answer, summary
from clinic.intake.reading import leg_regions
from clinic.knowledge import KnowledgeBase, knowledge, side_yaml

CASE_SLOT = "case"
ASKING_SLOT = "case_asking"
SUMMARY_SLOT = "intake_summary"
STOP_INTENT = "stop"


# --- what the symptoms are linked to -----------------------------------------------------


@dataclass
class Link:
    condition: str
    symptoms: list[str]
    why: str


def rank_conditions(symptom_ids: list[str], kb: KnowledgeBase, top: int = 3) -> list[Link]:
    """Conditions linked to the symptoms: most matched symptoms first, then the more common
    condition (a strain before a rarer problem), then the order the knowledge base gives."""
    links: dict[str, Link] = {}
    order: dict[str, tuple[int, int]] = {}
    for s_index, sid in enumerate(symptom_ids):
        for l_index, link in enumerate(kb.symptoms[sid].linked_conditions):
            entry = links.setdefault(link.condition, Link(link.condition, [], link.why))
            entry.symptoms.append(sid)
            order.setdefault(link.condition, (s_index, l_index))
    ranked = sorted(
        links.values(),
        key=lambda lk: (
            -len(lk.symptoms),
            kb.conditions[lk.condition].commonness,
            order[lk.condition],
        ),
    )
    return ranked[:top]


def _names(ids: list[str], kb: KnowledgeBase) -> str:
    return ", ".join(kb.symptoms[i].name.lower() for i in ids if i in kb.symptoms)


def symptom_links(symptoms: list[str], kb: KnowledgeBase) -> list[dict[str, Any]]:
    """What the symptoms are commonly linked to: links, not a diagnosis."""
    ranked = rank_conditions(symptoms, kb)
    lines = [f"{kb.conditions[lk.condition].name}: {lk.why}" for lk in ranked]
    return [
        bubble(say("check_links", symptoms=_names(symptoms, kb), links=bullets(lines))),
        bubble(say("not_a_diagnosis") + " " + say("check_exam")),
    ]


def region_notes(case: Case, kb: KnowledgeBase) -> list[dict[str, Any]]:
    """Pain felt in the leg itself ("my calf"): what else that part can hurt from (muscle,
    circulation, a clot), from the knowledge base's region notes."""
    where = {case.location or ""} | set((case.travel and case.travel.split()[-1:]) or [])
    return [
        bubble(say("region_note", name=region.name, explanation=region.explanation))
        for region in kb.regions.values()
        if region.name.lower() in where and region.id in leg_regions()
    ][:1]


def question(name: str) -> dict[str, Any]:
    """One case question with its buttons (questions.yml, beside this module)."""
    asked = side_yaml(__file__, "questions.yml")["ask"][name]
    return bubble(asked["text"], [dict(b) for b in asked.get("buttons", [])])


def noted(piece: Case, changed: list[str], kb: KnowledgeBase) -> str:
    """What a piece added, in a few words: "3 weeks; worse: coughing"."""
    parts = []
    for name in ("location", "side", "travel", "duration", "onset", "severity"):
        if name in changed:
            parts.append(str(getattr(piece, name)))
    if "worse_better" in changed:
        parts += [
            f"{k}: {', '.join(v)}"
            for k, v in (("worse", piece.worse), ("better", piece.better))
            if v
        ]
    if "symptoms" in changed:
        parts.append(_names(piece.symptoms, kb))
    if "absent" in changed:
        parts.append("no " + _names(piece.absent, kb).replace(", ", ", no "))
    return "; ".join(dict.fromkeys(p for p in parts if p))


@dataclass
class Turn:
    """The reply to one piece of a story, and the case after it."""

    messages: list[dict[str, Any]]
    case: Case
    asking: str | None


def case_turn(text: str, case: Case, asking: str | None, kb: KnowledgeBase) -> Turn:
    """Read a piece into the case, and say what comes next: links the first time symptoms
    are known, a short "noted", then the next question or, when none is left, the summary."""
    had_symptoms = bool(case.symptoms)
    piece = read_answer(text, asking, kb)
    bare = re.fullmatch(r"\W*(10|[0-9])\W*", text)
    if bare and not case.severity and not piece_says_anything(piece):
        # A lone number cannot answer a yes/no or "where" question: it is the pain score.
        piece.severity = f"{bare.group(1)}/10"
    if not piece_says_anything(piece) and not piece.settled:
        # Not something we can read: keep the words for the clinician, and move on.
        case.notes.append(" ".join(text.split())[:160])
        if asking:
            piece.settled.append(asking)
    changed = case.merge(piece)
    messages: list[dict[str, Any]] = []
    if case.symptoms and not had_symptoms:
        messages += symptom_links(case.symptoms, kb)
        messages += region_notes(case, kb)
    elif changed and noted(piece, changed, kb):
        messages.append(bubble(say("case_noted", noted=noted(piece, changed, kb))))
    elif asking or had_symptoms:
        messages.append(bubble(say("case_kept")))
    else:
        messages.append(bubble(say("check_nothing_found")))
    follow = next_question(case)
    if follow:
        case.asked.append(follow)
        messages.append(question(follow))
    else:
        messages.append(
            bubble(
                say("case_summary", summary=summary(case, kb)),
                [book_button(), button("No thanks", "deny")],
            )
        )
    return Turn(messages, case, follow)


class ActionSymptomCheck(Action):
    """Takes one piece of the patient's story into the case, and asks what is still open."""

    def name(self) -> str:
        return "action_symptom_check"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        kb = knowledge()
        message = tracker.latest_message or {}
        case = Case.from_slot(tracker.get_slot(CASE_SLOT))
        if (message.get("intent") or {}).get("name") == STOP_INTENT:
            dispatcher.utter_message(text=say("case_stopped"))
            return [SlotSet(ASKING_SLOT, None)]
        text = message.get("text") or ""
        turn = case_turn(text, case, tracker.get_slot(ASKING_SLOT), kb)
        for m in add_advice(turn.messages, message):
            dispatcher.utter_message(text=m["text"], buttons=m["buttons"] or None)
        events: list[EventType] = [
            SlotSet(CASE_SLOT, turn.case.as_slot()),
            SlotSet(ASKING_SLOT, turn.asking),
            SlotSet("symptoms", turn.case.symptoms),
            SlotSet(SUMMARY_SLOT, summary(turn.case, kb)),
            SlotSet("topic", "case"),
        ]
        if (tracker.get_slot("triage_level") or "routine") not in ("emergency", "urgent"):
            events.append(SlotSet("triage_level", "routine"))
        return events
