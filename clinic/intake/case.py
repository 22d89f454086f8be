"""The patient's case: what they have told us about their problem, over the whole conversation.

A story comes in pieces ("my back hurts", "3 weeks", "no", "worse when I cough"). Each piece
is read on its own (`read_piece`) and, when it answers the question just asked, against that
question (`read_answer`: "no" to "does it go down your leg?" means it stays in the back); the
result is merged into one `Case`, newest first, so a correction replaces what it corrects.
`next_question` picks the most useful thing still unknown, and `summary` is the few lines the
clinician receives with a booking. Vocabulary and question order live in intake.yml, the
parsers of single pieces in `clinic.intake.reading`.

The action server and the dialogue policy (addons/context_policy.py) both read a case with
these functions.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field
from typing import Any

from clinic.intake.reading import (
    NERVE_SYMPTOMS,
    any_number,
    implied_symptoms,
    is_no,
    is_skip,
    is_yes,
    leading_number,
    location_from,
    onset_and_rest,
    parse_duration,
    parse_severity,
    parse_side,
    parse_triggers,
    says_direction,
    says_pain,
    stays_in_back,
    travel_from,
    vocabulary,
)
from clinic.knowledge import SYMPTOM, KnowledgeBase
from clinic.red_flags import Findings, findings_in


@dataclass
class Case:
    """One patient's problem as told so far. Stored in the `case` slot as a dict."""

    location: str | None = None
    side: str | None = None
    travel: str | None = None
    duration: str | None = None
    onset: str | None = None
    severity: str | None = None
    worse: list[str] = field(default_factory=list)
    better: list[str] = field(default_factory=list)
    symptoms: list[str] = field(default_factory=list)
    absent: list[str] = field(default_factory=list)
    #: Questions answered with "skip" / "don't know", or the "anything else?" question asked.
    settled: list[str] = field(default_factory=list)
    #: Questions already put to the patient (never asked twice, at most max_questions).
    asked: list[str] = field(default_factory=list)
    #: Answers we could not read, kept in the patient's words for the clinician.
    notes: list[str] = field(default_factory=list)

    @classmethod
    def from_slot(cls, value: Any) -> Case:
        if not isinstance(value, dict):
            return cls()
        known = {k: v for k, v in value.items() if k in cls.__dataclass_fields__}
        try:
            return cls(**known)
        except TypeError:
            return cls()

    def as_slot(self) -> dict[str, Any]:
        return asdict(self)

    def is_empty(self) -> bool:
        return self == Case()

    def known(self, question: str) -> bool:
        """Whether a question's answer is known (or the patient chose not to give it)."""
        if question in self.settled:
            return True
        if question == "location":
            return bool(self.location)
        if question == "worse_better":
            return bool(self.worse or self.better)
        if question == "other_symptoms":
            return any(s in self.symptoms or s in self.absent for s in NERVE_SYMPTOMS)
        return bool(getattr(self, question))

    def merge(self, piece: Case) -> list[str]:
        """Take a newer piece in; returns the fields it changed (newest wins)."""
        changed = []
        for name in ("location", "side", "travel", "duration", "onset", "severity"):
            new, old = getattr(piece, name), getattr(self, name)
            if name == "duration" and old and _vaguer(new, old):
                continue  # "had flu last week" does not undo "for 5 days"
            if name == "location" and old and new and (new in old or new in _leg_places()):
                continue  # "stays in my back" keeps "lower back"; "down to my knee" travels
            if new and new != old:
                setattr(self, name, new)
                changed.append(name)
        for name in ("worse", "better"):
            other = "better" if name == "worse" else "worse"
            for item in getattr(piece, name):
                if item not in getattr(self, name):
                    getattr(self, name).append(item)
                    changed.append("worse_better")
                if item in getattr(self, other) and item not in getattr(piece, other):
                    getattr(self, other).remove(item)
        for sid in piece.symptoms:
            if sid in self.absent:
                self.absent.remove(sid)
            if sid not in self.symptoms:
                self.symptoms.append(sid)
                changed.append("symptoms")
        for sid in piece.absent:
            if sid in self.symptoms and sid not in piece.symptoms:
                self.symptoms.remove(sid)
            if sid not in self.absent:
                self.absent.append(sid)
                changed.append("absent")
        for note in piece.notes:
            if note not in self.notes:
                self.notes.append(note)
        for name in piece.settled:
            if name not in self.settled:
                self.settled.append(name)
        return list(dict.fromkeys(changed))


def _leg_places() -> set[str]:
    """The leg regions by the names a location is written with ("knee", "calf")."""
    return {level.replace("_", " ") for level in vocabulary()["leg_levels"]}


def _vaguer(new: str | None, old: str) -> bool:
    """A duration without a number, after one with a number."""
    return bool(new) and not re.search(r"\d", new or "") and bool(re.search(r"\d", old))


def read_piece(text: str, kb: KnowledgeBase, findings: Findings | None = None) -> Case:
    """Everything one message says about the problem, whatever was asked."""
    findings = findings or findings_in(text)
    onset, rest = onset_and_rest(text)
    triggers = parse_triggers(rest)
    severity = parse_severity(text)
    absent = set(findings.absent(SYMPTOM))
    named = findings.present(SYMPTOM)
    implied = [s for s in implied_symptoms(findings, triggers) if s not in absent]
    if stays_in_back(text):
        leg = {"pain_down_leg", "radiating_pain", "leg_pain"}
        named = [s for s in named if s not in leg]
        implied = [s for s in implied if s not in leg]
    location = location_from(findings, text, kb)
    if location and "back" in location and "low_back_pain" not in absent and says_pain(text):
        implied.append("low_back_pain")
    return Case(
        location=location,
        side=parse_side(text),
        travel=travel_from(findings, text, kb),
        duration=parse_duration(text),
        onset=onset,
        severity=f"{severity}/10" if severity is not None else None,
        worse=triggers["worse"],
        better=triggers["better"],
        symptoms=list(dict.fromkeys(named + implied)),
        absent=sorted(absent),
    )


def read_answer(text: str, asking: str | None, kb: KnowledgeBase) -> Case:
    """A message read against the question just asked: "no", "7", "3", "lifting a box"."""
    findings = findings_in(text)
    piece = read_piece(text, kb, findings)
    if not asking:
        return piece
    if is_skip(text) and not piece_says_anything(piece):
        piece.settled.append(asking)
        return piece
    no, yes = is_no(text), is_yes(text)
    if asking == "location" and not piece.location:
        piece.location = location_from(findings, text, kb, with_legs=True)
        if not piece.location and piece.side:
            piece.location = "back"
    elif asking == "travel" and not piece.travel:
        piece.travel = "stays in the back" if no else ("down the leg" if yes else None)
        if yes and "pain_down_leg" not in piece.symptoms:
            piece.symptoms.append("pain_down_leg")
    elif asking == "duration" and not piece.duration:
        days = leading_number(text)
        if days is not None:
            piece.duration = f"{days} days"
            piece.severity = None
    elif asking == "onset" and not piece.onset:
        if no or re.search(r"\b(nothing|no reason|not sure why|no idea)\b", text.lower()):
            piece.onset = "no clear reason"
        elif (
            len(text) <= 120
            and not piece_says_anything(
                piece, ignore=("worse_better", "symptoms", "side", "location")
            )
            and not (piece.worse or piece.better) * says_direction(text)
        ):
            # The answer to "how did it start?": "lifting a box" is how, not what makes it worse.
            piece.onset = " ".join(text.strip().rstrip(".!").split())
            piece.worse, piece.better = [], []
    elif asking == "severity" and not piece.severity:
        value = parse_severity(text)  # "7/10", "a 7": a score however it is put
        number = any_number(text)
        if value is None and number is not None and number <= 10:
            value = number  # a number wins over a word ("bad. 8 when I...")
        if value is None:
            value = parse_severity(text, asked=True)
        piece.severity = f"{value}/10" if value is not None else None
    elif asking == "worse_better" and not (piece.worse or piece.better):
        if no or re.search(r"\b(nothing|not really|same all the time|constant)\b", text.lower()):
            piece.settled.append(asking)
    elif asking == "other_symptoms":
        if no:
            piece.absent = sorted(
                {*piece.absent, *(s for s in NERVE_SYMPTOMS if s not in piece.symptoms)}
            )
        piece.settled.append(asking)
    return piece


def piece_says_anything(piece: Case, ignore: tuple[str, ...] = ()) -> bool:
    """Whether a reading holds anything about the problem."""
    values = {
        "location": piece.location,
        "side": piece.side,
        "travel": piece.travel,
        "duration": piece.duration,
        "onset": piece.onset,
        "severity": piece.severity,
        "worse_better": piece.worse or piece.better,
        "symptoms": piece.symptoms or piece.absent,
    }
    return any(v for k, v in values.items() if k not in ignore)


def next_question(case: Case) -> str | None:
    """The most useful question still open, in intake.yml's order; None when done."""
    vocab = vocabulary()
    if len(case.asked) >= vocab["max_questions"]:
        return None
    # A question answered with something else is asked once more.
    for question in vocab["questions"]:
        if not case.known(question) and case.asked.count(question) < 2:
            return question
    return None


def _names(ids: list[str], kb: KnowledgeBase) -> str:
    return ", ".join(kb.symptoms[i].name.lower() for i in ids if i in kb.symptoms)


def summary_lines(case: Case, kb: KnowledgeBase) -> list[str]:
    """The few lines the clinician receives with a booking."""
    labels = vocabulary()["labels"]
    where = ", ".join(v for v in (case.location, case.side) if v)
    triggers = "; ".join(
        f"{k}: {', '.join(v)}" for k, v in (("worse", case.worse), ("better", case.better)) if v
    )
    rows = [
        ("symptoms", _names(case.symptoms, kb)),
        ("location", where),
        ("travel", case.travel),
        ("duration", case.duration),
        ("onset", case.onset),
        ("severity", case.severity),
        ("worse_better", triggers),
        ("absent", _names(case.absent, kb)),
        ("notes", "; ".join(f'"{n}"' for n in case.notes)),
    ]
    return [f"{labels[key]}: {value}" for key, value in rows if value]


def summary(case: Case, kb: KnowledgeBase) -> str:
    return "\n".join(summary_lines(case, kb))


def short_reason(case: Case, kb: KnowledgeBase) -> str | None:
    """A booking reason from the case: "Lower back pain, down to the calf, for 3 weeks"."""
    main = [kb.symptoms[s].name for s in case.symptoms[:2] if s in kb.symptoms]
    if not main and case.location:
        main = [f"Pain in the {case.location}"]
    if not main:
        return None
    parts = [", ".join(main)]
    if case.side:
        parts.append(case.side)
    if case.travel and case.travel != "stays in the back":
        parts.append(case.travel)
    if case.duration:
        parts.append(case.duration if case.duration.startswith("since") else f"for {case.duration}")
    return ", ".join(parts)[:200]
