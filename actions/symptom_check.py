"""Symptom check and short intake.

A described problem ("shooting pain down the back of my thigh when I cough, for 3 weeks") is
read with the project's spaCy pipeline and ConText (`actions.triage.findings_in`): symptoms
and body parts that really apply, plus triggers, how long, which side, how far down the leg
and how bad, from the vocabulary in intake.yml. The answer names what those symptoms are
commonly linked to and why, most common conditions first, never as a diagnosis, and offers
an examination. A short intake form then asks only what the description left open (at most
four questions, each skippable) and leaves a summary in the `intake_summary` slot for the
booking hand-off.

Red flags are not handled here: they never reach this action (addons/red_flags.py and
addons/triage_policy.py send every red-flag message to the triage action first).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.answers import book_button, bubble, bullets, button, say
from actions.forms import NOT_GIVEN, ExplainingFormValidation
from actions.knowledge import BODY_PART, SYMPTOM, KnowledgeBase, knowledge, side_config
from actions.triage import Findings, add_advice, findings_in

QUESTION_SLOTS = (
    "intake_location",
    "intake_travel",
    "intake_duration",
    "intake_severity",
    "intake_triggers",
)
PLAN_SLOT = "intake_plan"
SUMMARY_SLOT = "intake_summary"


def vocabulary() -> dict[str, Any]:
    return side_config("intake.yml")


def _words(text: str) -> str:
    return " " + re.sub(r"[^\w'/ ]+", " ", text.lower()) + " "


def _has(text: str, phrase: str) -> bool:
    return f" {phrase} " in _words(text)


def is_skip(text: str) -> bool:
    return any(_has(text, w) for w in vocabulary()["skip_words"])


# --- reading answers ---------------------------------------------------------------------

_NUMBER_WORDS = {
    "a": 1,
    "an": 1,
    "one": 1,
    "two": 2,
    "three": 3,
    "four": 4,
    "five": 5,
    "six": 6,
    "seven": 7,
    "eight": 8,
    "nine": 9,
    "ten": 10,
    "eleven": 11,
    "twelve": 12,
    "couple": 2,
    "few": 3,
    "several": 3,
}
_UNITS = r"(day|days|week|weeks|wk|wks|month|months|year|years|yr|yrs|hour|hours)"
_DURATION = re.compile(
    rf"\b(?P<qty>\d+(?:\.\d+)?|{'|'.join(_NUMBER_WORDS)})(?:\s+of)?\s*(?:or so\s+)?{_UNITS}\b"
)
_SINCE = re.compile(
    r"\bsince\s+(?P<when>yesterday|last\s+\w+|\w+day|christmas|the\s+\w+|\d{1,2}(?:st|nd|rd|th)?"
    r"(?:\s+\w+)?|january|february|march|april|may|june|july|august|september|october"
    r"|november|december)\b"
)
_SEVERITY = re.compile(r"\b(?P<n>10|[0-9])(?:\s*(?:/|out of)\s*10)?\b")
_SEVERITY_WORDS = {
    w: i for i, w in enumerate("zero one two three four five six seven eight nine ten".split())
}


def parse_duration(text: str) -> str | None:
    """'about 3 weeks' -> '3 weeks'; 'since last Tuesday' -> 'since last tuesday'."""
    lowered = text.lower()
    match = _DURATION.search(lowered)
    if match:
        qty, unit = match.group("qty"), match.group(2)
        unit = {"wk": "weeks", "wks": "weeks", "yr": "years", "yrs": "years"}.get(unit, unit)
        count = _NUMBER_WORDS.get(qty, qty)
        if qty in ("couple", "few", "several"):
            count = f"a {qty} of" if qty == "couple" else ("a few" if qty == "few" else qty)
        if str(count) == "1" and unit.endswith("s"):
            unit = unit[:-1]
        elif str(count) != "1" and not unit.endswith("s"):
            unit += "s"
        prefix = "on and off for " if "on and off" in lowered or "on/off" in lowered else ""
        return f"{prefix}{count} {unit}"
    since = _SINCE.search(lowered)
    if since:
        return f"since {' '.join(since.group('when').split())}"
    for word in ("yesterday", "today", "this morning", "last night", "ages", "years", "months"):
        if _has(lowered, word):
            return {
                "yesterday": "since yesterday",
                "today": "since today",
                "this morning": "since this morning",
                "last night": "since last night",
                "ages": "a long time",
                "years": "years",
                "months": "months",
            }[word]
    return None


def parse_severity(text: str) -> int | None:
    """'about a 7/10' -> 7; 'eight out of ten' -> 8; anything else -> None."""
    lowered = text.lower().replace("out of ten", "out of 10")
    match = _SEVERITY.search(lowered)
    if match and not _DURATION.search(lowered):
        return int(match.group("n"))
    for word, value in _SEVERITY_WORDS.items():
        if _has(lowered, word):
            return value
    return None


def parse_side(text: str) -> str | None:
    lowered = _words(text)
    sides = [s for s in ("left", "right") if f" {s} " in lowered]
    if " both sides " in lowered or len(sides) == 2:
        return "both sides"
    if sides:
        return f"{sides[0]} side"
    if " middle " in lowered or " centre " in lowered or " center " in lowered:
        return "middle"
    return None


def parse_triggers(text: str) -> dict[str, list[str]]:
    """{'worse': ['sitting', 'coughing'], 'better': ['walking']}, clause by clause."""
    out: dict[str, list[str]] = {"worse": [], "better": []}
    vocab = vocabulary()
    for clause in re.split(r"[,;.]|\bbut\b|\bwhile\b|\bwhereas\b", text.lower()):
        found = [
            name for name, words in vocab["triggers"].items() if any(_has(clause, w) for w in words)
        ]
        if not found:
            continue
        direction = "better" if any(_has(clause, w) for w in vocab["better_words"]) else "worse"
        out[direction] += [t for t in found if t not in out[direction]]
    return out


def travel_from(findings: Findings, text: str, kb: KnowledgeBase) -> str | None:
    """How far down the leg the pain goes: 'down to the calf', or 'stays in the back'."""
    levels = vocabulary()["leg_levels"]
    reached = [b for b in findings.present(BODY_PART) if b in levels]
    if reached:
        furthest = max(reached, key=levels.index)
        if furthest == "leg":
            return "down the leg"
        return f"down to the {kb.body_parts[furthest].name.lower()}"
    if set(findings.present(SYMPTOM)) & {"pain_down_leg", "radiating_pain"}:
        return "down the leg"
    if any(_has(text, p) for p in vocabulary()["no_travel"]):
        return "stays in the back"
    return None


def location_from(
    findings: Findings, text: str, kb: KnowledgeBase, with_legs: bool = False
) -> str | None:
    """Where it hurts: the regions named (leg regions only when asked where it hurts, since
    in a description they say how far the pain travels), and the side."""
    levels = set() if with_legs else set(vocabulary()["leg_levels"])
    places = [
        kb.body_parts[b].name.lower()
        for b in findings.present(BODY_PART)
        if b not in levels and b in kb.regions
    ]
    if not places and "low_back_pain" in findings.present(SYMPTOM):
        places = ["lower back"]
    if not places:
        return None
    side = parse_side(text)
    return ", ".join(places) + (f" ({side})" if side else "")


def triggers_text(triggers: dict[str, list[str]]) -> str | None:
    parts = [f"{k}: {', '.join(v)}" for k, v in triggers.items() if v]
    return "; ".join(parts) or None


@dataclass
class Description:
    """Everything a described problem tells the intake."""

    symptoms: list[str] = field(default_factory=list)
    absent: list[str] = field(default_factory=list)
    answers: dict[str, str] = field(default_factory=dict)  # intake slot -> value


def implied_symptoms(findings: Findings, triggers: dict[str, list[str]]) -> list[str]:
    """Symptoms the description implies: what makes it worse, and how far down it goes."""
    vocab = vocabulary()
    out = [
        vocab["symptoms_from_triggers"][t]
        for t in triggers["worse"]
        if t in vocab["symptoms_from_triggers"]
    ]
    out += [
        vocab["symptoms_from_travel"][b]
        for b in findings.present(BODY_PART)
        if b in vocab["symptoms_from_travel"]
    ]
    return out


def read_description(text: str, kb: KnowledgeBase) -> Description:
    findings = findings_in(text)
    triggers = parse_triggers(text)
    severity = parse_severity(text) if re.search(r"\b(10|out of|/10|scale)\b", text) else None
    answers = {
        "intake_location": location_from(findings, text, kb),
        "intake_travel": travel_from(findings, text, kb),
        "intake_duration": parse_duration(text),
        "intake_severity": f"{severity}/10" if severity is not None else None,
        "intake_triggers": triggers_text(triggers),
    }
    named = findings.present(SYMPTOM)
    absent = set(findings.absent(SYMPTOM))
    implied = [s for s in implied_symptoms(findings, triggers) if s not in absent]
    return Description(
        symptoms=list(dict.fromkeys(named + implied)) if named or implied else [],
        absent=findings.absent(SYMPTOM),
        answers={k: v for k, v in answers.items() if v},
    )


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
    return ", ".join(kb.symptoms[i].name.lower() for i in ids)


def symptom_check_reply(
    description: Description, plan: list[str], kb: KnowledgeBase
) -> list[dict[str, Any]]:
    """The answer to a described problem: links, not a diagnosis, and the next step."""
    if not description.symptoms:
        return [bubble(say("check_nothing_found"), [book_button()])]
    ranked = rank_conditions(description.symptoms, kb)
    lines = [f"{kb.conditions[lk.condition].name}: {lk.why}" for lk in ranked]
    messages = [
        bubble(say("check_links", symptoms=_names(description.symptoms, kb), links=bullets(lines))),
        bubble(say("not_a_diagnosis") + " " + say("check_exam")),
    ]
    if plan:
        n = len(plan)
        messages.append(
            bubble(
                say("check_offer_intake", count=n, questions="question" if n == 1 else "questions"),
                [button("Yes, ask me", "affirm"), button("No thanks", "deny"), book_button()],
            )
        )
    else:
        messages[-1]["buttons"] = [book_button()]
    return messages


def intake_plan(answers: dict[str, str]) -> list[str]:
    """The intake questions worth asking: those the description left open, at most four."""
    vocab = vocabulary()
    return [q for q in vocab["questions"] if q not in answers][: vocab["max_questions"]]


class ActionSymptomCheck(Action):
    """Reads a described problem, says what it is commonly linked to, offers the intake."""

    def name(self) -> str:
        return "action_symptom_check"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        kb = knowledge()
        text = (tracker.latest_message or {}).get("text") or ""
        description = read_description(text, kb)
        plan = intake_plan(description.answers) if description.symptoms else []
        reply = symptom_check_reply(description, plan, kb)
        for m in add_advice(reply, tracker.latest_message or {}):
            dispatcher.utter_message(text=m["text"], buttons=m["buttons"] or None)
        events: list[EventType] = [
            SlotSet(slot, value) for slot, value in description.answers.items()
        ]
        events += [
            SlotSet("symptoms", description.symptoms),
            SlotSet(PLAN_SLOT, plan),
            SlotSet(
                SUMMARY_SLOT, intake_summary(tracker, description.answers, description.symptoms, kb)
            ),
        ]
        if (tracker.get_slot("triage_level") or "routine") not in ("emergency", "urgent"):
            events.append(SlotSet("triage_level", "routine"))
        return events


# --- the intake form ---------------------------------------------------------------------


class ValidateIntakeForm(ExplainingFormValidation):
    """Asks only the planned questions; every answer can be skipped."""

    skippable = frozenset(QUESTION_SLOTS)

    def name(self) -> str:
        return "validate_intake_form"

    async def required_slots(
        self,
        domain_slots: list[str],
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> list[str]:
        plan = tracker.get_slot(PLAN_SLOT)
        return [s for s in (plan if plan is not None else domain_slots) if s in domain_slots]

    def _free_text(self, slot: str, value: Any, parsed: str | None) -> dict[str, Any]:
        text = str(value or "").strip()
        if not text:
            return {slot: None}
        if is_skip(text):
            return {slot: NOT_GIVEN}
        return {slot: parsed or text[:120]}

    def validate_intake_location(self, value: Any, dispatcher, tracker, domain) -> dict[str, Any]:
        text = str(value or "")
        return self._free_text(
            "intake_location", value, location_from(findings_in(text), text, knowledge(), True)
        )

    def validate_intake_travel(self, value: Any, dispatcher, tracker, domain) -> dict[str, Any]:
        text = str(value or "")
        travel = travel_from(findings_in(text), text, knowledge())
        if travel is None and re.match(r"\s*(no|nope|nah|not)\b", text.lower()):
            travel = "stays in the back"
        return self._free_text("intake_travel", value, travel)

    def validate_intake_triggers(self, value: Any, dispatcher, tracker, domain) -> dict[str, Any]:
        return self._free_text(
            "intake_triggers", value, triggers_text(parse_triggers(str(value or "")))
        )

    def validate_intake_duration(self, value: Any, dispatcher, tracker, domain) -> dict[str, Any]:
        text = str(value or "")
        if is_skip(text):
            return {"intake_duration": NOT_GIVEN}
        return {"intake_duration": parse_duration(text)}

    def validate_intake_severity(self, value: Any, dispatcher, tracker, domain) -> dict[str, Any]:
        text = str(value or "")
        if is_skip(text):
            return {"intake_severity": NOT_GIVEN}
        severity = parse_severity(text)
        return {"intake_severity": f"{severity}/10" if severity is not None else None}


def intake_summary(
    tracker: Tracker, answers: dict[str, str], symptoms: list[str], kb: KnowledgeBase
) -> str:
    """The few lines the clinician receives with a booking."""
    labels = vocabulary()["labels"]
    lines = []
    if symptoms:
        lines.append(f"{labels['symptoms']}: {_names(symptoms, kb)}")
    for slot in QUESTION_SLOTS:
        value = answers.get(slot, tracker.get_slot(slot))
        if value:
            lines.append(f"{labels[slot]}: {value}")
    return "\n".join(lines)


class ActionIntakeSummary(Action):
    """Closes the intake: the summary for the clinician, and the offer of an examination."""

    def name(self) -> str:
        return "action_intake_summary"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        kb = knowledge()
        summary = intake_summary(tracker, {}, tracker.get_slot("symptoms") or [], kb)
        dispatcher.utter_message(
            text=say("intake_summary", summary=summary),
            buttons=[book_button(), button("No thanks", "deny")],
        )
        return [SlotSet(SUMMARY_SLOT, summary), SlotSet("form_failures", None)]
