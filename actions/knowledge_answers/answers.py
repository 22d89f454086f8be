"""Answer actions: explain conditions, causes, symptoms and treatments from the knowledge base.

The actions only gather what the question refers to (`asks`), compose the answer with the
pure functions of `explain`, add any see-a-doctor-soon note and a second-question offer,
and dispatch.
"""

from __future__ import annotations

import abc
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType
from rasa_sdk.executor import CollectingDispatcher

from actions.chat import Message
from actions.knowledge_answers.asks import Answer, Ask, ask_from_tracker
from actions.knowledge_answers.explain import (
    ask_which_condition,
    compare_conditions,
    describe_treatment,
    explain_causes,
    explain_condition,
    explain_condition_field,
    explain_leg_pain,
    explain_symptom,
    explain_symptoms,
    list_offered_treatments,
    list_treatments,
    symptom_in_condition,
)
from actions.knowledge_answers.topics import follow_up_offer
from actions.triage.replies import add_advice
from clinic.intake.reading import leg_regions
from clinic.knowledge import (
    BODY_PART,
    CONDITION,
    SYMPTOM,
    TREATMENT,
    Condition,
    KnowledgeBase,
    knowledge,
)


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
        if symptom := ask.first(SYMPTOM):
            return Answer(explain_symptom(kb, kb.symptoms[symptom], ask))
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
            if symptom := ask.first(SYMPTOM):
                return Answer(explain_symptom(kb, kb.symptoms[symptom], ask))
            if set(ask.mentions.get(BODY_PART, [])) & leg_regions():
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
