"""Answer actions: explain conditions, causes, symptoms and treatments from the knowledge base.

Every fact in a reply comes from `knowledge/*.yml`; the wording around it comes from
`actions/answers.yml`. The composing functions are pure (knowledge base and the person's
message in, chat messages out) so tests can check each answer against its entry; the
actions only gather context from the tracker and dispatch.
"""

from __future__ import annotations

import abc
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.knowledge import (
    BODY_PART,
    CONDITION,
    SYMPTOM,
    TREATMENT,
    Condition,
    KnowledgeBase,
    Symptom,
    Treatment,
    knowledge,
)
from actions.nlp import matcher, talks_about_self, term_variants
from actions.triage import add_advice
from actions.wording import lower_first, say, wording

__all__ = ["lower_first", "say", "wording"]  # re-exported for the other action modules

Message = dict[str, Any]


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


def bullets(items: Sequence[str]) -> str:
    return "\n".join(say("bullet", text=item) for item in items)


def clinic_fields(kb: KnowledgeBase) -> dict[str, str]:
    c = kb.clinic
    return {"clinic_name": c.name, "phone": c.phone, "email": c.email}


def payload(intent: str, **entities: str) -> str:
    """A button payload that triggers `intent` with entities, bypassing NLU."""
    return f"/{intent}{json.dumps(entities)}" if entities else f"/{intent}"


def button(title: str, intent: str, **entities: str) -> dict[str, str]:
    return {"title": title, "payload": payload(intent, **entities)}


def book_button() -> dict[str, str]:
    return dict(wording()["book_button"])


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
    for aspect, words in wording()["aspect_words"].items():
        if any(f" {w} " in lowered for w in words):
            return aspect
    return None


def slot_before_latest_message(tracker: Tracker, name: str) -> Any:
    """A slot's value as it was when the person's latest message arrived (entities in that
    message may have changed it since)."""
    value = before = None
    for event in tracker.events:
        if event.get("event") == "user":
            before = value
        elif event.get("event") == "slot" and event.get("name") == name:
            value = event.get("value")
    return before


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
        if label == "aspect" and value in wording()["aspect_words"]:
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


# --- composing answers -------------------------------------------------------------------


def bubble(text: str, buttons: list[dict[str, str]] | None = None) -> Message:
    return {"text": text, "buttons": buttons or []}


def _finish(messages: list[Message], ask: Ask, buttons: list[dict[str, str]]) -> list[Message]:
    """Add the not-a-diagnosis note when people speak about themselves; buttons go last."""
    if ask.about_self:
        messages.append(bubble(say("not_a_diagnosis")))
    messages[-1]["buttons"] = buttons
    return messages


def condition_buttons(condition: Condition, skip: str) -> list[dict[str, str]]:
    out = [
        button(b["title"], b["intent"], condition=condition.id)
        for b in wording()["condition_buttons"]
        if b["intent"] != skip
    ]
    return out + [book_button()]


def ask_which_condition(kb: KnowledgeBase, intent: str) -> list[Message]:
    buttons = [button(c.name, intent, condition=c.id) for c in kb.conditions.values()]
    return [bubble(say("ask_which_condition"), buttons)]


def _names_used(ask: Ask, condition: Condition) -> list[str]:
    """Distinct words the person used for this condition, other than its own name."""
    seen: dict[str, str] = {}
    for term in ask.surfaces.get(condition.id, []):
        key = term.lower()
        if key not in condition.name.lower() and condition.name.lower() not in key:
            seen.setdefault(key, term)
    return list(seen.values())


def _related_term(condition: Condition, surface: str) -> str | None:
    """The related-but-different word (`related_terms`: "bulging disc" for a herniated disc)
    that a phrase the person used contains, in any spelling the recogniser accepts."""
    words = f" {' '.join(surface.lower().split())} "
    for term in condition.related_terms:
        if any(f" {v} " in words for v in term_variants(term)):
            return term
    return None


def explain_condition(kb: KnowledgeBase, condition: Condition, ask: Ask) -> list[Message]:
    """What a condition is, noting when the person used another name for it, or a word for
    something related but different."""
    messages = []
    used = {t: _related_term(condition, t) for t in _names_used(ask, condition)}
    related = [term for term in used.values() if term]
    if related:
        note = condition.related_note
        messages.append(
            bubble(say("related_term", term=related[0], name=condition.name, note=note))
        )
    names = [t for t, term in used.items() if not term]
    if len(names) >= 2:
        terms = " and ".join(f'"{t}"' for t in names)
        messages.append(bubble(say("same_condition", terms=terms, name=condition.name)))
    elif names:
        messages.append(bubble(say("also_called", term=names[0], name=condition.name)))
    messages.append(
        bubble(say("condition_summary", name=condition.name, summary=condition.summary))
    )
    if used and condition.name_note:
        messages.append(bubble(condition.name_note))
    return _finish(messages, ask, condition_buttons(condition, skip="ask_condition_info"))


def compare_conditions(kb: KnowledgeBase, conditions: list[Condition], ask: Ask) -> list[Message]:
    messages = [bubble(say("different_conditions"))]
    for c in conditions:
        messages.append(bubble(say("condition_summary", name=c.name, summary=c.summary)))
    buttons = [
        button(f"More on {c.name}", "ask_condition_info", condition=c.id) for c in conditions
    ]
    return _finish(messages, ask, buttons + [book_button()])


def explain_causes(kb: KnowledgeBase, condition: Condition, ask: Ask) -> list[Message]:
    text = say("condition_causes", name=condition.name, causes=bullets(condition.causes))
    return _finish([bubble(text)], ask, condition_buttons(condition, skip="ask_causes"))


def explain_symptoms(kb: KnowledgeBase, condition: Condition, ask: Ask) -> list[Message]:
    messages = [
        bubble(
            say("condition_symptoms", name=condition.name, symptoms=bullets(condition.symptoms))
        ),
        bubble(say("condition_urgent", urgent=condition.urgent)),
    ]
    return _finish(messages, ask, condition_buttons(condition, skip="ask_symptoms"))


def symptom_in_condition(
    kb: KnowledgeBase, symptom: Symptom, condition: Condition, ask: Ask
) -> list[Message]:
    """Whether a symptom goes with a condition ("does a herniated disc cause tingling?")."""
    link = next((ln for ln in symptom.linked_conditions if ln.condition == condition.id), None)
    if link:
        text = say("symptom_in_condition", symptom=symptom.name, name=condition.name, why=link.why)
    else:
        text = say(
            "symptom_not_in_condition",
            symptom=symptom.name,
            name=condition.name,
            symptoms=bullets(condition.symptoms),
        )
    messages = [bubble(text), bubble(say("condition_urgent", urgent=condition.urgent))]
    return _finish(messages, ask, condition_buttons(condition, skip="ask_symptoms"))


def explain_symptom(kb: KnowledgeBase, symptom: Symptom, ask: Ask) -> list[Message]:
    """What a symptom is commonly linked to and why, most common conditions first."""
    links = kb.conditions_for_symptom(symptom.id)
    lines = [f"{kb.conditions[ln.condition].name}: {ln.why}" for ln in links]
    messages = [
        bubble(say("symptom_explanation", name=symptom.name, explanation=symptom.explanation)),
        bubble(say("symptom_links", name=symptom.name, links=bullets(lines))),
    ]
    if symptom.check_first:
        messages.append(bubble(say("symptom_check_first", check_first=symptom.check_first)))
    buttons = [
        button(
            f"About {kb.conditions[ln.condition].name}",
            "ask_condition_info",
            condition=ln.condition,
        )
        for ln in links[:3]
    ]
    return _finish(messages, ask, buttons + [book_button()])


def explain_condition_field(
    condition: Condition, ask: Ask, field: str, intent: str
) -> list[Message]:
    """One field of a condition in one bubble ("outlook", "assessment"), template
    `condition_<field>`; the buttons offer the other questions."""
    text = say(f"condition_{field}", name=condition.name, **{field: getattr(condition, field)})
    return _finish([bubble(text)], ask, condition_buttons(condition, skip=intent))


def treatment_line(kb: KnowledgeBase, treatment: Treatment) -> str:
    """One line of a treatment list: name, where it is done, and the evidence in a phrase."""
    offered = treatment.offered or treatment.kind != "in_clinic"
    return say(
        "treatment_line",
        name=treatment.name,
        offered=wording()["offered_marks"][treatment.kind] if offered else "",
        evidence_phrase=wording()["evidence_phrases"][treatment.evidence_level],
    )


def list_treatments(kb: KnowledgeBase, condition: Condition, ask: Ask) -> list[Message]:
    """The options for a condition, each with an honest one-line evidence summary."""
    treatments = kb.treatments_for(condition.id)
    lines = [treatment_line(kb, t) for t in treatments]
    messages = [
        bubble(say("condition_treatments", name=condition.name, treatments=bullets(lines))),
        bubble(say("condition_other_options", other_options=condition.other_options)),
    ]
    buttons = [
        button(f"About {t.name}", "ask_treatment", treatment=t.id)
        for t in treatments
        if t.kind == "in_clinic"
    ][:4]
    return _finish(messages, ask, buttons + [book_button()])


def list_offered_treatments(kb: KnowledgeBase) -> list[Message]:
    offered = [t for t in kb.treatments.values() if t.offered]
    buttons = [button(t.name, "ask_treatment", treatment=t.id) for t in offered]
    return [bubble(say("ask_which_treatment"), buttons)]


ASPECT_BUTTONS = {
    "session": "What's it like?",
    "evidence": "Does it work?",
    "suitability": "Is it right for me?",
}


def describe_treatment(
    kb: KnowledgeBase, treatment: Treatment, ask: Ask, condition: Condition | None = None
) -> list[Message]:
    """What a treatment is and whether the clinic offers it, then the side asked about. A
    follow-up on the treatment just discussed ("does it work?") gets only that side."""
    follow_up = (
        bool(ask.aspect) and ask.topic == "treatment" and (ask.previous_treatment == treatment.id)
    )
    if treatment.offered:
        availability = say("treatment_offered", **clinic_fields(kb))
    elif treatment.kind == "self_care":
        availability = say("treatment_self_care")
    else:
        availability = say("treatment_not_offered", **clinic_fields(kb))
    first = say("treatment_summary", name=treatment.name, summary=treatment.summary)
    messages = [] if follow_up else [bubble(first), bubble(availability)]
    if condition is not None and messages:
        key = (
            "treatment_for_condition"
            if condition.id in treatment.conditions
            else "treatment_not_for_condition"
        )
        messages[-1]["text"] += " " + say(key, condition=condition.name)
    shown = [ask.aspect] if ask.aspect else ["session", "evidence"]
    for aspect in shown:
        if aspect == "session":
            messages.append(bubble(say("treatment_session", session=treatment.session)))
        elif aspect == "evidence":
            messages.append(bubble(say("treatment_evidence", evidence=treatment.evidence)))
        elif aspect == "suitability":
            messages.append(bubble(say("treatment_suits", suits=treatment.suits)))
            messages.append(bubble(say("treatment_not_for", not_for=treatment.not_for)))
    buttons = [
        button(title, "ask_treatment", treatment=treatment.id, aspect=aspect)
        for aspect, title in ASPECT_BUTTONS.items()
        if aspect not in shown
    ]
    if treatment.offered:
        buttons.append(book_button())
    return _finish(messages, ask, buttons)


def explain_leg_pain(kb: KnowledgeBase, ask: Ask) -> list[Message]:
    """Why a back problem can make the leg hurt: nerves, discs, joints, soft tissue."""
    parts = [kb.structures[s] for s in wording()["leg_pain_structures"]]
    texts = [say("leg_pain_part", name=p.name, leg_pain=p.leg_pain) for p in parts]
    messages = [bubble(say("leg_pain_intro") + "\n" + texts[0])] + [bubble(t) for t in texts[1:]]
    for region_id in ask.mentions.get(BODY_PART, []):
        region = kb.regions.get(region_id)
        if region is not None:
            messages.append(
                bubble(say("region_note", name=region.name, explanation=region.explanation))
            )
            break
    buttons = [
        button(f"About {kb.conditions[c].name}", "ask_condition_info", condition=c)
        for c in wording()["leg_pain_conditions"]
    ]
    return _finish(messages, ask, buttons + [book_button()])


# --- actions ------------------------------------------------------------------------------


def _condition(kb: KnowledgeBase, ask: Ask) -> Condition | None:
    """The condition asked about: named in the message, else the one under discussion."""
    cid = ask.first(CONDITION) or ask.condition
    return kb.conditions.get(cid) if cid else None


def _about_condition(messages: list[Message], condition: Condition) -> Answer:
    return Answer(messages, condition=condition.id)


class KnowledgeAction(Action, abc.ABC):
    """Base: gather what the question refers to, compose the answer, dispatch it."""

    action_name = ""
    intent = ""

    def name(self) -> str:
        return self.action_name

    @abc.abstractmethod
    def answer(self, kb: KnowledgeBase, ask: Ask) -> Answer:
        """The answer to the latest message, given the conversation so far."""

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        from actions.topics import follow_up_offer  # topics builds on this module

        kb = knowledge()
        result = self.answer(kb, ask_from_tracker(tracker, kb))
        result.messages = add_advice(result.messages, tracker.latest_message or {})
        offer = follow_up_offer(tracker, kb, self.intent)
        if offer:
            result.messages.append(offer)
        for m in result.messages:
            dispatcher.utter_message(text=m["text"], buttons=m["buttons"] or None)
        return result.events()

    def which_condition(self, kb: KnowledgeBase) -> Answer:
        return Answer(ask_which_condition(kb, self.intent))


class ActionExplainCondition(KnowledgeAction):
    """ "What is X?" / "is X the same as Y?"; a symptom or treatment is explained instead
    when that is what the question names."""

    action_name, intent = "action_explain_condition", "ask_condition_info"

    def answer(self, kb: KnowledgeBase, ask: Ask) -> Answer:
        named = [kb.conditions[c] for c in ask.mentions.get(CONDITION, [])]
        if len(named) >= 2:
            return Answer(compare_conditions(kb, named, ask), condition=named[-1].id)
        if named:
            return _about_condition(explain_condition(kb, named[0], ask), named[0])
        if ask.first(TREATMENT):
            return ActionExplainTreatment().answer(kb, ask)
        if ask.first(SYMPTOM):
            return Answer(explain_symptom(kb, kb.symptoms[ask.first(SYMPTOM)], ask))
        if ask.topic == "treatment" and ask.treatment in kb.treatments:
            return ActionExplainTreatment().answer(kb, ask)
        condition = _condition(kb, ask)
        if condition is None:
            return self.which_condition(kb)
        return _about_condition(explain_condition(kb, condition, ask), condition)


class ActionExplainCauses(KnowledgeAction):
    """What causes a condition, or what a symptom is commonly linked to."""

    action_name, intent = "action_explain_causes", "ask_causes"

    def answer(self, kb: KnowledgeBase, ask: Ask) -> Answer:
        if not ask.first(CONDITION):
            if ask.first(SYMPTOM):
                return Answer(explain_symptom(kb, kb.symptoms[ask.first(SYMPTOM)], ask))
            if set(ask.mentions.get(BODY_PART, [])) & set(wording()["leg_regions"]):
                return Answer(explain_leg_pain(kb, ask))
        condition = _condition(kb, ask)
        if condition is None:
            return self.which_condition(kb)
        return _about_condition(explain_causes(kb, condition, ask), condition)


class ActionExplainSymptoms(KnowledgeAction):
    """A condition's typical signs, or whether a named symptom goes with it."""

    action_name, intent = "action_explain_symptoms", "ask_symptoms"

    def answer(self, kb: KnowledgeBase, ask: Ask) -> Answer:
        symptom = kb.symptoms.get(ask.first(SYMPTOM) or "")
        if symptom and not ask.first(CONDITION):
            return Answer(explain_symptom(kb, symptom, ask))
        condition = _condition(kb, ask)
        if condition is None:
            return self.which_condition(kb)
        if symptom:
            return _about_condition(symptom_in_condition(kb, symptom, condition, ask), condition)
        return _about_condition(explain_symptoms(kb, condition, ask), condition)


def answer_with_field(action: KnowledgeAction, kb: KnowledgeBase, ask: Ask) -> Answer:
    """One field (`action.field`) of the condition asked about, or under discussion."""
    condition = _condition(kb, ask)
    if condition is None:
        return action.which_condition(kb)
    messages = explain_condition_field(condition, ask, action.field, action.intent)
    return _about_condition(messages, condition)


class ActionExplainOutlook(KnowledgeAction):
    action_name, intent, field = "action_explain_outlook", "ask_outlook", "outlook"
    answer = answer_with_field


class ActionExplainAssessment(KnowledgeAction):
    action_name, intent, field = "action_explain_assessment", "ask_assessment", "assessment"
    answer = answer_with_field


class ActionExplainTreatment(KnowledgeAction):
    """Describe a named treatment, or list the options for the condition in question."""

    action_name, intent = "action_explain_treatment", "ask_treatment"

    def answer(self, kb: KnowledgeBase, ask: Ask) -> Answer:
        named = kb.conditions.get(ask.first(CONDITION) or "")
        treatment_id = ask.first(TREATMENT)
        if treatment_id is None and not named and ask.topic == "treatment":
            treatment_id = ask.treatment  # "does it hurt?" right after a treatment answer
        if treatment_id in kb.treatments:
            treatment = kb.treatments[treatment_id]
            return Answer(describe_treatment(kb, treatment, ask, named), treatment=treatment.id)
        condition = _condition(kb, ask)
        if condition is None:
            return Answer(list_offered_treatments(kb))
        return _about_condition(list_treatments(kb, condition, ask), condition)


class ActionExplainLegPain(KnowledgeAction):
    action_name, intent = "action_explain_leg_pain", "ask_leg_pain_link"

    def answer(self, kb: KnowledgeBase, ask: Ask) -> Answer:
        return Answer(explain_leg_pain(kb, ask))
