"""Composing knowledge answers: conditions, causes, symptoms and treatments, from the KB.

Every fact in a reply comes from `knowledge/*.yml`; the wording around it comes from the
templates in actions/wording.yml. The functions are pure (knowledge base and the question
in, chat messages out) so tests can check each answer against its entry.
"""

from __future__ import annotations

from actions.chat import Message, book_button, bubble, bullets, button, say
from actions.knowledge_answers.asks import Ask, answers_config
from clinic.knowledge import (
    BODY_PART,
    Condition,
    KnowledgeBase,
    Symptom,
    Treatment,
)
from clinic.nlp import term_variants


def _finish(messages: list[Message], ask: Ask, buttons: list[dict[str, str]]) -> list[Message]:
    """Add the not-a-diagnosis note when people speak about themselves; buttons go last."""
    if ask.about_self:
        messages.append(bubble(say("not_a_diagnosis")))
    messages[-1]["buttons"] = buttons
    return messages


def condition_buttons(condition: Condition, skip: str) -> list[dict[str, str]]:
    out = [
        button(b["title"], b["intent"], condition=condition.id)
        for b in answers_config()["condition_buttons"]
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
        offered=answers_config()["offered_marks"][treatment.kind] if offered else "",
        evidence_phrase=answers_config()["evidence_phrases"][treatment.evidence_level],
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
        availability = say("treatment_offered")
    elif treatment.kind == "self_care":
        availability = say("treatment_self_care")
    else:
        availability = say("treatment_not_offered")
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
    parts = [kb.structures[s] for s in answers_config()["leg_pain_structures"]]
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
        for c in answers_config()["leg_pain_conditions"]
    ]
    return _finish(messages, ask, buttons + [book_button()])
