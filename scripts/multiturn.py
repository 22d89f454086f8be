"""Multi-turn conversations written as patients type (tests/conversations/*.yml), and the check
of each turn against what the patient needed.

Used by tests/dialogue/test_multiturn.py (every conversation must pass) and by
scripts/multiturn_report.py (`make eval`: the share of conversations handled). Each turn's
`expect` is checked against the actions the assistant ran for that message and the slots
after it; the file header of each YAML file and the keys below say what each check means.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

TESTS = Path(__file__).resolve().parent.parent / "tests"
CONVERSATIONS = TESTS / "conversations"
#: Written apart, by someone who saw neither the code nor the conversations above: kept out
#: of development, so its figure says how well the handling generalises.
HELD_OUT = TESTS / "conversations_heldout"

ANSWER_ACTIONS = {
    "action_follow_up",
    "action_explain_condition",
    "action_explain_causes",
    "action_explain_symptoms",
    "action_explain_outlook",
    "action_explain_assessment",
    "action_explain_treatment",
    "action_explain_leg_pain",
}
#: Which explain action answers an aspect when no follow-up was needed.
ASPECT_ACTIONS = {
    "definition": {"action_explain_condition", "action_explain_treatment"},
    "causes": {"action_explain_causes"},
    "symptoms": {"action_explain_symptoms"},
    "hurt": {"action_explain_treatment", "action_explain_symptoms"},
    "treatment": {"action_explain_treatment"},
    "what_to_do": {"action_explain_treatment"},
    "evidence": {"action_explain_treatment"},
    "outlook": {"action_explain_outlook"},
    "go_away": {"action_explain_outlook"},
    "how_long": {"action_explain_outlook", "action_explain_treatment"},
    "sessions": {"action_explain_treatment"},
    "serious": {"action_explain_outlook"},
    "contraindication": {"action_explain_treatment"},
    "leg_pain": {"action_explain_leg_pain"},
}
#: Follow-up kinds (clinic/subject.yml) that answer an aspect.
ASPECT_KINDS = {
    "outlook": {"go_away", "how_long"},
    "go_away": {"go_away", "how_long"},
    "how_long": {"how_long", "go_away"},
    "serious": {"serious"},
    "what_to_do": {"what_to_do", "treatment"},
    "treatment": {"treatment", "what_to_do"},
    "evidence": {"evidence"},
}
SMALL_TALK = {
    "utter_greet",
    "utter_goodbye",
    "utter_you_are_welcome",
    "utter_iamabot",
    "utter_capabilities",
    "utter_ok_ask_away",
    "utter_anything_else",
}
STOPS = {"utter_booking_stopped", "utter_anything_else", "action_symptom_check"}


@dataclass
class Conversation:
    file: str
    name: str
    turns: list[dict[str, Any]]
    #: Why the assistant does not handle this one yet (tests/test_multiturn.py xfails it).
    known_miss: str | None = None


def load(directory: Path = CONVERSATIONS) -> list[Conversation]:
    out = []
    for path in sorted(directory.glob("*.yml")):
        data = yaml.safe_load(path.read_text()) or {}
        for conv in data.get("conversations") or []:
            out.append(Conversation(path.stem, conv["name"], conv["turns"], conv.get("known_miss")))
    return out


@dataclass
class TurnResult:
    user: str
    expect: dict[str, Any]
    actions: list[str]
    slots: dict[str, Any]
    replies: list[str]
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def _text(value: Any) -> str:
    return str(value or "").lower()


def check_turn(
    expect: dict[str, Any], actions: list[str], slots: dict[str, Any], user: str
) -> list[str]:
    """What is wrong with one turn (empty: handled as expected)."""
    from clinic.subject import follow_up_kind

    problems = []
    kind = expect["kind"]
    ran = set(actions)
    if "action_default_fallback" in ran:
        problems.append("fell back")
    if "utter_out_of_scope" in ran and kind != "out_of_scope":
        problems.append("sent out of scope")
    if "action_triage_red_flag" in ran and kind != "red_flag":
        problems.append("false red flag")
    loop = slots.get("requested_slot")
    if kind == "story" and "action_symptom_check" not in ran:
        problems.append("not taken as part of the story")
    elif kind == "answer" and not ran & ANSWER_ACTIONS:
        # A clinic FAQ about the very treatment or condition asked about is an answer too.
        faq_about = "action_answer_faq" in ran and expect.get("about") not in (None, "case")
        if not faq_about:
            problems.append("no answer about the subject")
    elif kind == "faq" and "action_answer_faq" not in ran:
        problems.append("clinic question not answered")
    elif kind == "red_flag" and "action_triage_red_flag" not in ran:
        problems.append("red flag missed")
    elif kind == "booking" and "appointment_form" not in ran:
        problems.append("booking not going on")
    elif kind == "booked" and "action_book_appointment" not in ran:
        problems.append("not booked")
    elif kind == "stopped" and (loop or "action_book_appointment" in ran or not ran & STOPS):
        problems.append("did not stop cleanly")
    elif kind == "out_of_scope" and "utter_out_of_scope" not in ran:
        problems.append("not declined as out of scope")
    elif kind == "small_talk" and not ran & SMALL_TALK:
        problems.append("no small-talk reply")
    if kind == "booked" and not slots.get("last_booking_reference"):
        problems.append("no booking reference")
    if expect.get("triage") and slots.get("triage_level") != expect["triage"]:
        problems.append(f"triage {slots.get('triage_level')} not {expect['triage']}")
    about = expect.get("about")
    if about:
        topic = slots.get("topic")
        subject = "case" if topic == "case" else slots.get(topic) if topic else None
        if subject != about:
            problems.append(f"about {subject} not {about}")
    aspect = expect.get("aspect")
    if aspect and kind == "answer":
        by_follow_up = "action_follow_up" in ran and follow_up_kind(user) in ASPECT_KINDS.get(
            aspect, {aspect}
        )
        if not by_follow_up and not ran & ASPECT_ACTIONS.get(aspect, set()):
            problems.append(f"aspect {aspect} not answered ({follow_up_kind(user)})")
    summary = _text(slots.get("intake_summary"))
    for part in expect.get("summary") or []:
        if part.lower() not in summary:
            problems.append(f"summary lacks {part!r}")
    for part in expect.get("not_in_summary") or []:
        if part.lower() in summary:
            problems.append(f"summary still has {part!r}")
    asking = slots.get("case_asking") if "action_symptom_check" in ran else None
    asked_now = {a for a in (asking, loop) if a}
    if expect.get("asks") and expect["asks"] not in asked_now:
        problems.append(f"asks {sorted(asked_now) or 'nothing'}, not {expect['asks']}")
    for item in expect.get("not_asks") or []:
        if item in asked_now:
            problems.append(f"asks {item} again")
    for slot, part in (expect.get("booking") or {}).items():
        if _text(part) not in _text(slots.get(slot)):
            problems.append(f"{slot} is {slots.get(slot)!r}, wanted {part!r}")
    return problems


Send = Callable[[str], tuple[list[str], list[str], dict[str, Any]]]


def run(conversation: Conversation, send: Send) -> list[TurnResult]:
    """Play a conversation; `send(text)` returns (reply texts, actions run, slots after)."""
    results = []
    for turn in conversation.turns:
        replies, actions, slots = send(turn["user"])
        result = TurnResult(turn["user"], turn["expect"], actions, slots, replies)
        result.problems = check_turn(turn["expect"], actions, slots, turn["user"])
        results.append(result)
    return results


def actions_since_last_user(events: list[dict[str, Any]]) -> list[str]:
    """The actions the assistant ran for the latest message."""
    out: list[str] = []
    for event in reversed(events):
        if event.get("event") == "user":
            break
        if event.get("event") == "action" and event.get("name") != "action_listen":
            out.append(event["name"])
        if event.get("event") == "active_loop" and event.get("name"):
            out.append(event["name"])
    return list(reversed(out))


def player(agent, sender: str) -> Send:
    """`send` for a Rasa Agent: one conversation under `sender`."""
    import asyncio

    def send(text: str):
        replies = asyncio.run(agent.handle_text(text, sender_id=sender))
        tracker = asyncio.run(agent.tracker_store.retrieve(sender))
        events = [e.as_dict() for e in tracker.events]
        texts = [r.get("text", "") for r in replies]
        return texts, actions_since_last_user(events), tracker.current_slot_values()

    return send


def report_line(conversation: Conversation, results: list[TurnResult]) -> str:
    bad = [r for r in results if not r.ok]
    if not bad:
        return f"ok    {conversation.file}: {conversation.name}"
    first = bad[0]
    return (
        f"FAIL  {conversation.file}: {conversation.name}: {first.user!r}: "
        f"{'; '.join(first.problems)} [ran {', '.join(first.actions)}]"
    )


def slug(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")
