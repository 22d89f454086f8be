"""The knowledge base's schema: one pydantic model per kind of entry in `knowledge/*.yml`.

Validation lives in the models (ids, ranges, time zones), so a typo in a YAML edit fails at
load time with the file and the entry named (see `clinic.knowledge.loading`).
"""

from __future__ import annotations

import datetime as dt
import re
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, Extra, conint, conlist, constr, validator

#: The weekdays in clinic order, as used by opening hours, time preferences and slots.
WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")


#: Entity labels, as used by the spaCy pipeline, the NLU data and the domain.
CONDITION, SYMPTOM, BODY_PART, TREATMENT = "condition", "symptom", "body_part", "treatment"
ENTITY_LABELS = (CONDITION, SYMPTOM, BODY_PART, TREATMENT)

# The constrained types pydantic validates, and what they are to a type checker.
if TYPE_CHECKING:
    Id = str
    Text = str
    NonEmptyTexts = list[str]
    Ids = list[str]
    TextGroups = list[list[str]]
    Kind = str
    EvidenceLevel = str
    Tier = str
    Route = str
    Category = str
    Direction = str
    Country = str
    Title = str
    Word = str
    Days = int
    Positive = int
else:
    Id = constr(regex=r"^[a-z][a-z0-9_]*$", strip_whitespace=True)
    Text = constr(min_length=1, strip_whitespace=True)
    NonEmptyTexts = conlist(Text, min_items=1)
    Ids = conlist(Id, min_items=1)
    TextGroups = conlist(conlist(Text, min_items=1), min_items=2)
    Kind = constr(regex=r"^(in_clinic|self_care|medical)$")
    Days = conint(ge=0)
    Positive = conint(ge=1)
    EvidenceLevel = constr(regex=r"^(supported|modest|weak|not_recommended)$")
    Tier = constr(regex=r"^(emergency|urgent|soon)$")
    Route = constr(regex=r"^(emergency|same_day|crisis|maternity|see_doctor)$")
    Category = constr(
        regex=r"^(NEGATED_EXISTENCE|POSSIBLE_EXISTENCE|HYPOTHETICAL|HISTORICAL|FAMILY|TERMINATE"
        r"|QUESTION|INTENDED|RESOLVED)$"
    )
    Direction = constr(regex=r"^(FORWARD|BACKWARD|BIDIRECTIONAL|TERMINATE)$")
    Country = constr(regex=r"^[A-Z]{2}$")
    Title = constr(min_length=1, max_length=32, strip_whitespace=True)
    Word = constr(min_length=1, strip_whitespace=True, to_lower=True)


class _Strict(BaseModel):
    class Config:
        extra = Extra.forbid
        anystr_strip_whitespace = True


class Source(_Strict):
    """A publication an answer is based on."""

    title: Text
    url: Text
    publisher: Text | None = None


class Identified(_Strict):
    """Anything a knowledge file lists by id (entries, FAQs)."""

    id: Id


class Entry(Identified):
    """Fields every knowledge entry has: an id, the words people use, and its sources."""

    name: Text
    synonyms: list[Text] = []
    #: spaCy token patterns for phrasings a word list cannot capture ("pain ... down my leg").
    patterns: list[list[dict[str, Any]]] = []
    sources: NonEmptyTexts

    @validator("synonyms")
    def _no_duplicate_synonyms(cls, value: list[str]) -> list[str]:
        seen = set()
        for term in value:
            if term.lower() in seen:
                raise ValueError(f"synonym {term!r} is listed twice")
            seen.add(term.lower())
        return value

    @validator("patterns")
    def _pattern_values_are_text(cls, value: list) -> list:
        """YAML reads bare on/off/yes/no as booleans; in a token pattern that silently
        matches nothing, so insist on quotes."""

        def walk(node: Any, key: str = "") -> None:
            flag_attribute = key.startswith(("IS_", "LIKE_"))  # LIKE_NUM: true is meant
            if isinstance(node, bool) and not flag_attribute:
                raise ValueError(
                    f'a pattern holds the boolean {node}; quote words like "on" or "no"'
                )
            if isinstance(node, dict):
                for name, item in node.items():
                    walk(item, str(name))
            elif isinstance(node, list):
                for item in node:
                    walk(item)

        walk(value)
        return value

    def terms(self) -> list[str]:
        """The entry's name and synonyms: every phrase that should be recognised as it."""
        return [self.name, *self.synonyms]


class Condition(Entry):
    summary: Text
    name_note: Text | None = None
    #: Words recognised as this condition although they do not name quite the same thing
    #: ("bulging disc" for a herniated disc): the answer explains the difference
    #: (`related_note`) instead of calling them another name for it.
    related_terms: list[Text] = []
    related_note: Text | None = None
    causes: NonEmptyTexts
    symptoms: NonEmptyTexts
    assessment: Text
    treatments: Ids
    other_options: Text
    outlook: Text
    urgent: Text
    #: Rough ordering used when several conditions fit: 1 = very common, 3 = uncommon.
    commonness: int

    @validator("commonness")
    def _commonness_range(cls, value: int) -> int:
        if value not in (1, 2, 3):
            raise ValueError("must be 1 (very common), 2 (common) or 3 (less common)")
        return value

    @validator("related_note", always=True)
    def _related_note_goes_with_terms(cls, value: str | None, values: dict) -> str | None:
        if bool(values.get("related_terms")) != bool(value):
            raise ValueError("related_terms and related_note go together")
        return value

    def terms(self) -> list[str]:
        return [*super().terms(), *self.related_terms]


class ConditionLink(_Strict):
    condition: Id
    why: Text


if TYPE_CHECKING:
    ConditionLinks = list[ConditionLink]
else:
    ConditionLinks = conlist(ConditionLink, min_items=1)


class Symptom(Entry):
    explanation: Text
    linked_conditions: ConditionLinks
    check_first: Text | None = None


class Structure(Entry):
    """A part of the back that can hurt: soft tissue, nerves, joints, discs, bones."""

    explanation: Text
    back_pain: Text
    leg_pain: Text
    conditions: list[Id] = []


class Region(Entry):
    """A place where people feel pain (lower back, buttock, thigh, calf...)."""

    explanation: Text


class Treatment(Entry):
    kind: Kind
    offered: bool
    summary: Text
    session: Text
    suits: Text
    not_for: Text
    evidence: Text
    evidence_level: EvidenceLevel
    conditions: list[Id] = []


class RedFlag(Entry):
    """A warning sign that needs urgent or emergency care instead of a routine booking.

    `synonyms` are exact phrases and `patterns` spaCy token patterns, as for other entries;
    matches are checked for negation, family history and hypotheticals before they count.
    """

    #: emergency and urgent are red flags: the triage answer replaces any other flow. soon
    #: is advice (see a doctor soon, booking can go alongside): added to the normal answer.
    tier: Tier
    #: emergency: call the emergency number now; same_day: urgent medical advice today;
    #: crisis: the crisis line (and the emergency number if in immediate danger); maternity:
    #: the midwife, GP or maternity unit now; see_doctor: a doctor's check soon.
    route: Route
    reason: Text
    #: Whether a past occurrence still counts ("I had breast cancer" is a red flag).
    counts_if_past: bool = False
    #: Whether it counts even when put as a question or "what if" (thoughts of suicide do).
    counts_if_hypothetical: bool = False
    #: Whole sentences a patient might write for this sign, in everyday words: the sentence
    #: encoder's second net compares each clause of a message with them and with the name
    #: and synonyms (clinic/red_flags/similar.py). Never copied from a test or blind set.
    phrasings: list[Text] = []
    #: Phrases that contain a match but mean something else ("hay fever", "cabin fever").
    exclusions: list[Text] = []
    #: Matches that count even when in the past ("I had sepsis last month").
    past_terms: list[Text] = []
    #: Word groups that signal the flag when one word (or phrase) of every group appears in
    #: the same sentence, in any order ("my privates ... have gone numb"). The first group
    #: holds the symptom words: one right after "no"/"not" does not count.
    together: list[TextGroups] = []
    #: Word groups that must each also appear somewhere in the message, not denied, for any
    #: match of this flag to count ("I'm 67" counts for new back pain only with a pain word;
    #: a swollen calf is an emergency only with breathlessness, in any sentence).
    needs: list[NonEmptyTexts] = []
    #: Flags this one makes worse: when one of them was reported earlier in the conversation,
    #: this flag counts as soon as its `needs` come in a later message ("also I'm short of
    #: breath" after a swollen calf is the emergency, not a new, unrelated complaint).
    escalates: list[Id] = []

    @validator("route")
    def _route_fits_tier(cls, value: str, values: dict) -> str:
        advice = values.get("tier") == "soon"
        if advice != (value == "see_doctor"):
            raise ValueError("the see_doctor route goes with tier soon, and only with it")
        return value


class ContextRule(_Strict):
    """An extra medspaCy ConText trigger ("ruled out", "my husband", "what if").

    Three categories are the project's own: QUESTION (a question word opening a sentence:
    the sentence is a general question unless the person speaks of themselves in it),
    INTENDED (on a diet, trying to: weight lost on purpose) and RESOLVED (later in the same
    sentence, "...but it went away": over, whatever a "but" in between says). A rule gives
    either a `literal` phrase or a spaCy token `pattern`."""

    literal: Text
    pattern: list[dict[str, Any]] | None = None
    category: Category
    direction: Direction


class Hours(_Strict):
    """Opening hours of one weekday, as 'HH:MM-HH:MM' ranges; empty means closed."""

    monday: list[Text] = []
    tuesday: list[Text] = []
    wednesday: list[Text] = []
    thursday: list[Text] = []
    friday: list[Text] = []
    saturday: list[Text] = []
    sunday: list[Text] = []

    @validator("*", each_item=True)
    def _range(cls, value: str) -> str:
        match = re.fullmatch(r"(\d\d):(\d\d)-(\d\d):(\d\d)", value)
        if not match:
            raise ValueError(f"{value!r} is not a 'HH:MM-HH:MM' range")
        start, end = match.group(1, 2), match.group(3, 4)
        if not (int(start[0]) < 24 and int(end[0]) <= 24 and start < end):
            raise ValueError(f"{value!r} does not start before it ends")
        return value


class BookingRules(_Strict):
    """How appointments are cut and offered: slot length, who, how far ahead, how soon."""

    slot_minutes: int
    practitioners: NonEmptyTexts
    closed_dates: list[dt.date] = []
    horizon_days: int = 28
    min_notice_hours: int = 2


class Retention(_Strict):
    """How long what patients tell the assistant is kept (actions/records/retention.py)."""

    #: A conversation with no message for this many days is deleted from the tracker store.
    conversation_days: Positive = 30
    #: This many days after an appointment, its booking loses the name, phone and email.
    contact_days_after_visit: Days = 30


class Practice(_Strict):
    """Practical answers for the FAQs (parking, insurance, prices...), in the clinic's words."""

    parking: Text
    accessibility: Text
    insurance: Text
    prices: Text
    first_visit_minutes: int
    follow_up_minutes: int
    telehealth: Text
    same_day: Text
    cancellation: Text
    registration: Text


class Clinic(_Strict):
    """The clinic's own facts; the shipped file is an example that a real clinic replaces."""

    example: bool
    name: Text
    assistant_name: Text
    address: Text
    phone: Text
    email: Text
    website: Text
    timezone: Text
    country: Country
    emergency_number: Text
    urgent_care: Text
    crisis_line: Text
    hours: Hours
    booking: BookingRules
    practice: Practice
    retention: Retention = Retention()

    @validator("timezone")
    def _known_timezone(cls, value: str) -> str:
        import zoneinfo

        try:
            zoneinfo.ZoneInfo(value)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {value!r}") from None
        return value


class Faq(Identified):
    """A clinic FAQ, answered when the ResponseSelector picks `faq/<id>`."""

    #: Plain words for a button ("Opening hours"), also used when the bot offers the topic.
    title: Title
    #: The answer; {placeholders} are filled from clinic.yml (see faq_fields()).
    answer: Text
    #: Keys of sources.yml, or `clinic` for facts from clinic.yml.
    sources: NonEmptyTexts
    treatment: Id | None = None
    condition: Id | None = None
    #: Everyday words for the topic ("digits", "ring" for the phone number). They become an
    #: NLU lookup table, one shared feature for the classifiers, so a question that uses a
    #: word missing from the training examples can still be recognised.
    words: list[Word] = []


class Scope(_Strict):
    """Words for other parts of the body and other health problems (out of scope)."""

    sources: NonEmptyTexts
    #: Words that stop the guard from calling a message out of scope ("back", "appointment").
    inside: NonEmptyTexts
    #: Words that keep a message in scope even when the classifier rejected it ("clinic").
    anchors: NonEmptyTexts
    outside: dict[Id, NonEmptyTexts]

    def terms(self) -> list[str]:
        return [t.lower() for group in self.outside.values() for t in group]


#: The source key for facts that come from clinic.yml rather than a publication.
CLINIC_SOURCE = "clinic"
