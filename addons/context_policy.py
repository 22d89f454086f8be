"""Dialogue policy: read each message in the context of the conversation.

Rules decide from the latest intent alone, and a piece of a story often has no intent of its
own: "3 weeks", "no", "it hurts more when I cough" (a cough is another illness to the
classifier), "it eases if I lean on a trolley". This policy looks at what was just asked and
what the conversation is about, and decides before the rules do:

- right after the symptom check asked a question (`case_asking`), the reply is the answer to
  it (`action_symptom_check`), unless it is plainly something else: a request to book, to
  stop or to talk to a person, a question about another condition or treatment, a clinic
  question, or something unrelated that holds nothing about the problem;
- while the patient's own problem is the subject (`topic` is `case`), a message that adds to
  the story goes to the symptom check too;
- a short follow-up question ("is it serious?", "can I still have it if I'm pregnant?") goes
  to `action_follow_up`, which answers it about the subject (clinic/subject.py);
- inside a thread about a condition or treatment, a question the classifier put out of scope
  but that names nothing outside our scope is a follow-up too ("and on a bike?");
- a change of time that names no booking already made is not a request to move one ("can we
  do the afternoon instead" mid-booking goes to the booking form; "could I try it? thursday
  suits me" starts a booking), and in the booking form a name the classifier called a stop
  ("Jo Smith") is the answer (clinic/subject.py: change_misread, name_misread).

Red flags are not decided here: RedFlagPolicy has the higher priority, so the triage action
still wins on every turn. Active forms are left to their rules. Nothing is learnt from
stories: the decision is made from the slots and the message.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from typing import Any

from rasa.core.policies.policy import PolicyPrediction, confidence_scores_for
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.shared.core.constants import ACTION_LISTEN_NAME
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, SlotSet, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker

from addons.fixed_policy import FixedPolicy
from addons.scope_guard import SCOPE_KEY
from clinic.intake.reading import mentions_case_details
from clinic.knowledge import knowledge
from clinic.subject import (
    asks_to_book,
    change_misread,
    follow_up_kind,
    is_clinic_question,
    is_question,
    leaves_booking,
    name_misread,
    offers_detail,
    related_sentences,
    subject_texts,
)

CASE_ACTION = "action_symptom_check"
FOLLOW_UP_ACTION = "action_follow_up"
PREPARE_BOOKING = "action_prepare_booking"
BOOKING_INTENT = "request_appointment"
BOOKING_FORM = "appointment_form"
#: Below RedFlagPolicy (8), above RulePolicy (6): ties on confidence go to the higher one.
PRIORITY = 7

#: Intents that always mean what they say, whatever was asked.
OWN_INTENTS = frozenset(
    {
        "request_appointment",
        "cancel_appointment",
        "reschedule_appointment",
        "request_human",
        "red_flag",
        "forget_me",
        "ask_stored_data",
    }
)
#: Small talk the classifier also gives to fragments it cannot place ("a fortnight" read as
#: a goodbye): small talk unless the message holds a detail of the story or a follow-up.
SMALL_TALK = frozenset({"greet", "goodbye", "thank", "bot_challenge", "ask_capabilities"})
#: Intents a piece of a story is often given when the classifier cannot place it.
UNPLACED = frozenset({"out_of_scope", "nlu_fallback", "inform", "describe_symptoms"})
#: The symptom check's questions answered in the patient's own words: any statement is the
#: answer ("helping my brother shift a wardrobe" to "how did it start?").
FREE_ANSWERS = frozenset({"onset"})
#: Question intents: a statement about oneself given one of them is a story.
ASK_INTENTS = frozenset(
    {
        "ask_condition_info",
        "ask_causes",
        "ask_symptoms",
        "ask_treatment",
        "ask_leg_pain_link",
        "ask_outlook",
        "ask_assessment",
        "faq",
    }
)
#: "It doesn't spread, no" is a story detail even when read as a plain no (or a stop).
YES_NO = frozenset({"affirm", "deny", "stop"})
KB_SUBJECTS = ("condition", "treatment")
#: Follow-ups the explain rules cannot answer even when the message names its subject
#: ("is sciatica serious?", "can I have decompression if I'm pregnant?").
FOLLOW_UP_ONLY = frozenset({"serious", "self_care", "what_to_do", "sessions", "contraindication"})
#: Follow-up kinds whose own intent's rule answers them ("what causes it?" is ask_causes).
RULE_KINDS = {
    "causes": {"ask_causes"},
    "symptoms": {"ask_symptoms"},
    "treatment": {"ask_treatment"},
    "go_away": {"ask_outlook"},
    "how_long": {"ask_outlook", "ask_treatment"},
    "definition": {"ask_condition_info", "ask_treatment"},
    "leg_pain": {"ask_leg_pain_link"},
    "hurt": {"ask_treatment"},  # a treatment's session, by its aspect words
    "evidence": {"ask_treatment"},
}
FIRST_PERSON = re.compile(r"\b(i|i'm|im|i've|ive|my|mine)\b", re.I)
BACK_OR_LEG = re.compile(
    r"\b(back|backs|spine|leg|legs|hips?|buttocks?|bum|thighs?|knees?|calf|calves|foot|feet|toes"
    r"|ankles?|sciatica|sciatia)\b",
    re.I,
)
LEAVE_REPLY = "utter_booking_stopped"
DEACTIVATE = "action_deactivate_loop"


@DefaultV1Recipe.register(
    DefaultV1Recipe.ComponentType.POLICY_WITHOUT_END_TO_END_SUPPORT, is_trainable=True
)
class ContextPolicy(FixedPolicy):
    """Sends story pieces and follow-ups where the conversation says they belong."""

    PRIORITY = PRIORITY

    def predict_action_probabilities(
        self,
        tracker: DialogueStateTracker,
        domain: Domain,
        rule_only_data: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> PolicyPrediction:
        in_form = self.predict_in_form(tracker)
        if in_form and in_form in domain.action_names_or_texts:
            return self._override(confidence_scores_for(in_form, 1.0, domain))
        action = self.decide(tracker)
        if action and action in domain.action_names_or_texts:
            return self._prediction(confidence_scores_for(action, 1.0, domain))
        return self._prediction(self._default_predictions(domain))

    def predict_in_form(self, tracker: DialogueStateTracker) -> str | None:
        """Leaving a booking however it is put ("actually never mind, I'll see how it goes")."""
        message = tracker.latest_message
        if tracker.latest_action_name == LEAVE_REPLY:
            return ACTION_LISTEN_NAME
        if tracker.latest_action_name == DEACTIVATE and message and leaves_booking(message.text):
            return LEAVE_REPLY
        loop = tracker.active_loop_name
        if not loop or tracker.latest_action_name != ACTION_LISTEN_NAME or not message:
            return None
        intent = (message.intent or {}).get("name")
        text = message.text or ""
        if loop == BOOKING_FORM and intent not in OWN_INTENTS and leaves_booking(text):
            return DEACTIVATE
        asked = tracker.get_slot("requested_slot")
        if loop == BOOKING_FORM and (
            change_misread(intent, text) or name_misread(intent, asked, text)
        ):
            return BOOKING_FORM  # "can we do the afternoon instead", "Jo Smith": an answer
        return None

    def decide(self, tracker: DialogueStateTracker) -> str | None:
        """The next action, or None to leave the decision to the other policies."""
        follow_on = _follow_on(tracker)
        if follow_on or tracker.latest_action_name != ACTION_LISTEN_NAME:
            return follow_on
        if tracker.active_loop_name or not tracker.latest_message:
            return None
        reading = Reading.of(tracker)
        if reading.text.startswith("/"):
            return None
        if reading.intent in OWN_INTENTS and not change_misread(reading.intent, reading.text):
            return None
        return _booking(reading) or _follow_up(reading) or _in_story(reading) or _vague(reading)


@dataclass
class Reading:
    """The latest message as this policy reads it, with the conversation around it."""

    tracker: DialogueStateTracker
    text: str
    intent: str | None
    topic: str | None
    asked: bool  # the symptom check's question is still open
    kind: str | None  # the follow-up kind (clinic/subject.yml)
    other_subject: bool  # names a condition or treatment other than the one discussed
    outside: bool  # the scope guard found something outside our scope
    question: bool

    @classmethod
    def of(cls, tracker: DialogueStateTracker) -> Reading:
        message = tracker.latest_message
        text = message.text or ""
        return cls(
            tracker=tracker,
            text=text,
            intent=(message.intent or {}).get("name"),
            topic=tracker.get_slot("topic"),
            asked=_asked_just_now(tracker),
            kind=follow_up_kind(text),
            other_subject=_names_another_subject(message.entities or [], tracker),
            outside=bool(message.parse_data.get(SCOPE_KEY)),
            question=is_question(text),
        )

    @functools.cached_property
    def story(self) -> bool:
        return _about_the_problem(self.tracker.latest_message)

    @property
    def asking(self) -> str | None:
        return self.tracker.get_slot("case_asking") if self.asked else None


def _follow_on(tracker: DialogueStateTracker) -> str | None:
    """What comes right after this policy's own actions."""
    last = tracker.latest_action_name
    if last in (CASE_ACTION, FOLLOW_UP_ACTION):
        return ACTION_LISTEN_NAME
    message = tracker.latest_message
    intent = (message.intent or {}).get("name") if message else None
    if last == PREPARE_BOOKING and not tracker.active_loop_name and intent != BOOKING_INTENT:
        return BOOKING_FORM  # a "yes" to the summary's offer, or a booking it started
    return None


def _booking(r: Reading) -> str | None:
    """A booking asked for inside a story, or a yes to the summary's offer."""
    if asks_to_book(r.text):
        return PREPARE_BOOKING  # the story in it is kept by action_prepare_booking
    if r.asked and r.intent == "affirm" and r.tracker.get_slot("case_asking") is None:
        return PREPARE_BOOKING  # "yes" to "would you like to book an examination?"
    return None


def _follow_up(r: Reading) -> str | None:
    """A short follow-up about the subject ("is it serious?")."""
    if (r.topic == "case" or r.asked) and offers_detail(r.text):
        return CASE_ACTION  # "I had a chest infection in March, if that matters"
    # A question about something outside our scope ("is my tooth pain serious?") is not a
    # follow-up, unless it asks whether that caused the problem.
    follows = r.kind and (not r.outside or r.kind == "causes") and not is_clinic_question(r.text)
    follows = follows or (r.kind == "sessions" and not r.outside)
    has_subject = r.topic or r.asked or r.other_subject
    # The explain rules already answer these about a condition or treatment.
    by_rule = r.intent in RULE_KINDS.get(r.kind or "", ()) and (
        r.topic == "condition" or (r.topic == "treatment" and r.intent == "ask_treatment")
    )
    own_kind = not r.other_subject or r.kind in FOLLOW_UP_ONLY
    return FOLLOW_UP_ACTION if follows and has_subject and not by_rule and own_kind else None


def _in_story(r: Reading) -> str | None:
    """The answer to the question just asked, or more of the story under way."""
    if r.asking:
        if r.intent == "stop":
            return CASE_ACTION
        if r.question and (r.other_subject or r.intent in ASK_INTENTS):
            return None  # a question of its own: the rules answer it
        if r.asking in FREE_ANSWERS and not r.question and not r.outside:
            return CASE_ACTION  # "helping my brother shift a wardrobe", to "how did it start?"
        unplaced = r.intent in SMALL_TALK | {"out_of_scope", "nlu_fallback"}
        return None if unplaced and not r.story else CASE_ACTION
    # Naming a condition or treatment in a statement about one's own pain is still the
    # story ("pretty sure it's sciatica", "a hot water bottle helps a lot").
    own = not r.other_subject or r.topic == "case" or _tells_own_pain(r.text)
    if r.question or not own or not r.story:
        return None
    if r.topic == "case" and r.intent in UNPLACED | SMALL_TALK | ASK_INTENTS | YES_NO:
        return CASE_ACTION
    told = _tells_own_pain(r.text) or _just_names_it(r)
    told = told and r.intent in ASK_INTENTS | {"out_of_scope", "nlu_fallback"}
    return CASE_ACTION if told else None


def _vague(r: Reading) -> str | None:
    """A short question in a condition or treatment thread the classifier could not place
    ("and the walking thing?")."""
    if r.topic not in KB_SUBJECTS or not r.question or r.outside or len(r.text.split()) > 8:
        return None
    # A question is no statement: "inform" is the classifier's guess for a fragment too.
    unplaced = r.intent in ("out_of_scope", "nlu_fallback", "inform")
    related = r.intent in SMALL_TALK and _shares_words_with_subject(r.tracker, r.text)
    return FOLLOW_UP_ACTION if unplaced or related else None


#: Bot turns that answer an aside without ending the question the symptom check asked
#: ("what's the weather?" mid-story): the next message may still answer that question.
ASIDES = frozenset(
    {
        "utter_out_of_scope",
        "action_answer_faq",
        "action_follow_up",
        "utter_iamabot",
        "utter_you_are_welcome",
        "utter_capabilities",
        "utter_greet",
        "action_offer_topics",
    }
)


def _asked_just_now(tracker: DialogueStateTracker) -> bool:
    """Whether the symptom check's question is still open: it was the bot's last turn before
    the latest message, or only asides came after it."""
    seen_user = False
    for event in reversed(tracker.events):
        if isinstance(event, UserUttered):
            seen_user = True
        elif seen_user and isinstance(event, ActionExecuted):
            if event.action_name == FOLLOW_UP_ACTION and tracker.get_slot("topic") != "case":
                return False  # a follow-up about a condition or treatment left the story
            if event.action_name == ACTION_LISTEN_NAME or event.action_name in ASIDES:
                continue
            return event.action_name == CASE_ACTION
    return False


def _names_another_subject(entities: list[dict[str, Any]], tracker: DialogueStateTracker) -> bool:
    """Whether the message names a condition or treatment other than the one discussed (the
    slots already hold the message's own entities, so the values before it are compared)."""
    for entity in entities:
        label = entity.get("entity")
        if label in KB_SUBJECTS and entity.get("value") != _slot_before_message(tracker, label):
            return True
    return False


def _slot_before_message(tracker: DialogueStateTracker, name: str) -> Any:
    """A slot's value when the latest message arrived."""
    value = before = None
    for event in tracker.events:
        if isinstance(event, UserUttered):
            before = value
        elif isinstance(event, SlotSet) and event.key == name:
            value = event.value
    return before


def _tells_own_pain(text: str) -> bool:
    """A statement about one's own back or leg ("my lower back is wrecked by friday")."""
    return bool(FIRST_PERSON.search(text) and BACK_OR_LEG.search(text))


def _just_names_it(r: Reading) -> bool:
    """A bare mention of the problem ("back pain", "sore lower back"): a symptom or body part
    in a few words and no question, however the classifier read it."""
    labels = {e.get("entity") for e in r.tracker.latest_message.entities or []}
    short = len(r.text.split()) <= 4
    return short and not r.question and bool(labels & {"symptom", "body_part"})


def _shares_words_with_subject(tracker: DialogueStateTracker, text: str) -> bool:
    topic = tracker.get_slot("topic")
    texts = subject_texts(knowledge(), topic, tracker.get_slot(topic) if topic else None)
    return bool(related_sentences(texts, text))


def _about_the_problem(message: UserUttered) -> bool:
    """Whether a message tells something about the problem: a symptom or body part from the
    knowledge base, or a duration, side, severity, trigger or onset."""
    details = mentions_case_details(message.text or "")
    if message.parse_data.get(SCOPE_KEY):
        # Names something outside our scope ("my tooth hurts"): only a detail of the story
        # itself keeps it in ("it hurts more when I cough").
        return bool(details - {"pain"})
    labels = {e.get("entity") for e in message.entities or []}
    return bool(labels & {"symptom", "body_part"} or details)
