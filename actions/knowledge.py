"""The clinic's knowledge base: schema, loading and validation.

`knowledge/*.yml` is the single source of truth for what the assistant knows: the spaCy
entity patterns, the NLU lookup tables and synonyms, and every answer are generated from
it. Each file is validated at load time so that a typo in a YAML edit fails loudly with the
file and the entry named, instead of surfacing as a wrong answer in a conversation.
"""

from __future__ import annotations

import datetime as dt
import functools
import os
import re
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, Extra, ValidationError, conlist, constr, validator

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DIR = ROOT / "knowledge"

#: Entity labels, as used by the spaCy pipeline, the NLU data and the domain.
CONDITION, SYMPTOM, BODY_PART, TREATMENT = "condition", "symptom", "body_part", "treatment"
ENTITY_LABELS = (CONDITION, SYMPTOM, BODY_PART, TREATMENT)

Id = constr(regex=r"^[a-z][a-z0-9_]*$", strip_whitespace=True)
Text = constr(min_length=1, strip_whitespace=True)
NonEmptyTexts = conlist(Text, min_items=1)


class KnowledgeBaseError(ValueError):
    """A knowledge-base file is malformed; the message names the file and the entry."""


class _Strict(BaseModel):
    class Config:
        extra = Extra.forbid
        anystr_strip_whitespace = True


class Source(_Strict):
    """A publication an answer is based on."""

    title: Text
    url: Text
    publisher: Text | None = None


class Entry(_Strict):
    """Fields every knowledge entry has: an id, the words people use, and its sources."""

    id: Id
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
    treatments: conlist(Id, min_items=1)
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


class Symptom(Entry):
    explanation: Text
    linked_conditions: conlist(ConditionLink, min_items=1)
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
    kind: constr(regex=r"^(in_clinic|self_care|medical)$")
    offered: bool
    summary: Text
    session: Text
    suits: Text
    not_for: Text
    evidence: Text
    evidence_level: constr(regex=r"^(supported|modest|weak|not_recommended)$")
    conditions: list[Id] = []


class RedFlag(Entry):
    """A warning sign that needs urgent or emergency care instead of a routine booking.

    `synonyms` are exact phrases and `patterns` spaCy token patterns, as for other entries;
    matches are checked for negation, family history and hypotheticals before they count.
    """

    #: emergency and urgent are red flags: the triage answer replaces any other flow. soon
    #: is advice (see a doctor soon, booking can go alongside): added to the normal answer.
    tier: constr(regex=r"^(emergency|urgent|soon)$")
    #: emergency: call the emergency number now; same_day: urgent medical advice today;
    #: crisis: the crisis line (and the emergency number if in immediate danger); maternity:
    #: the midwife, GP or maternity unit now; see_doctor: a doctor's check soon.
    route: constr(regex=r"^(emergency|same_day|crisis|maternity|see_doctor)$")
    reason: Text
    #: Whether a past occurrence still counts ("I had breast cancer" is a red flag).
    counts_if_past: bool = False
    #: Whether it counts even when put as a question or "what if" (thoughts of suicide do).
    counts_if_hypothetical: bool = False
    #: Phrases that contain a match but mean something else ("hay fever", "cabin fever").
    exclusions: list[Text] = []
    #: Matches that count even when in the past ("I had sepsis last month").
    past_terms: list[Text] = []
    #: Word groups that signal the flag when one word (or phrase) of every group appears in
    #: the same sentence, in any order ("my privates ... have gone numb"). The first group
    #: holds the symptom words: one right after "no"/"not" does not count.
    together: list[conlist(conlist(Text, min_items=1), min_items=2)] = []
    #: Word groups that must each also appear somewhere in the message, not denied, for any
    #: match of this flag to count ("I'm 67" counts for new back pain only with a pain word;
    #: a swollen calf is an emergency only with breathlessness, in any sentence).
    needs: list[conlist(Text, min_items=1)] = []
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
    category: constr(
        regex=r"^(NEGATED_EXISTENCE|POSSIBLE_EXISTENCE|HYPOTHETICAL|HISTORICAL|FAMILY|TERMINATE"
        r"|QUESTION|INTENDED|RESOLVED)$"
    )
    direction: constr(regex=r"^(FORWARD|BACKWARD|BIDIRECTIONAL|TERMINATE)$")


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


class Booking(_Strict):
    slot_minutes: int
    practitioners: NonEmptyTexts
    closed_dates: list[dt.date] = []
    horizon_days: int = 28
    min_notice_hours: int = 2


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
    country: constr(regex=r"^[A-Z]{2}$")
    emergency_number: Text
    urgent_care: Text
    crisis_line: Text
    hours: Hours
    booking: Booking
    practice: Practice

    @validator("timezone")
    def _known_timezone(cls, value: str) -> str:
        import zoneinfo

        try:
            zoneinfo.ZoneInfo(value)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {value!r}") from None
        return value


class Faq(_Strict):
    """A clinic FAQ, answered when the ResponseSelector picks `faq/<id>`."""

    id: Id
    #: Plain words for a button ("Opening hours"), also used when the bot offers the topic.
    title: constr(min_length=1, max_length=32, strip_whitespace=True)
    #: The answer; {placeholders} are filled from clinic.yml (see faq_fields()).
    answer: Text
    #: Keys of sources.yml, or `clinic` for facts from clinic.yml.
    sources: NonEmptyTexts
    treatment: Id | None = None
    condition: Id | None = None
    #: Everyday words for the topic ("digits", "ring" for the phone number). They become an
    #: NLU lookup table, one shared feature for the classifiers, so a question that uses a
    #: word missing from the training examples can still be recognised.
    words: list[constr(min_length=1, strip_whitespace=True, to_lower=True)] = []


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


class _Catalogue(BaseModel):
    """Internal: the parsed entries of every file, before cross-references are checked."""

    sources: dict[str, Source]
    conditions: list[Condition]
    symptoms: list[Symptom]
    structures: list[Structure]
    regions: list[Region]
    treatments: list[Treatment]
    red_flags: list[RedFlag]
    context_rules: list[ContextRule]
    clinic: Clinic
    faqs: list[Faq]
    scope: Scope


T = TypeVar("T", bound=BaseModel)


def _read_yaml(path: Path) -> dict[str, Any]:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise KnowledgeBaseError(f"{path}: file is missing") from None
    except yaml.YAMLError as exc:
        raise KnowledgeBaseError(f"{path}: not valid YAML: {exc}") from None
    if not isinstance(data, dict):
        raise KnowledgeBaseError(f"{path}: expected a mapping at the top level")
    return data


@functools.cache
def side_config(name: str) -> dict[str, Any]:
    """A YAML file kept next to the actions that use it (wording, vocabularies), read once;
    a broken file is reported by name, like the knowledge base."""
    return _read_yaml(Path(__file__).with_name(name))


def _describe(exc: ValidationError) -> str:
    return "; ".join(
        f"{'.'.join(str(p) for p in err['loc'])}: {err['msg']}" for err in exc.errors()
    )


def _parse_entries(path: Path, data: dict[str, Any], key: str, model: type[T]) -> list[T]:
    items = data.get(key)
    if not isinstance(items, list) or not items:
        raise KnowledgeBaseError(f"{path}: needs a non-empty list under '{key}:'")
    parsed, seen = [], set()
    for index, raw in enumerate(items, start=1):
        label = raw.get("id", "?") if isinstance(raw, dict) else "?"
        where = f"{path.name}: {key} entry '{label}' (#{index})"
        if not isinstance(raw, dict):
            raise KnowledgeBaseError(f"{where}: expected a mapping")
        try:
            entry = model(**raw)
        except ValidationError as exc:
            raise KnowledgeBaseError(f"{where}: {_describe(exc)}") from None
        if entry.id in seen:
            raise KnowledgeBaseError(f"{where}: id '{entry.id}' is used twice")
        seen.add(entry.id)
        parsed.append(entry)
    return parsed


def _parse_sources(path: Path) -> dict[str, Source]:
    data = _read_yaml(path).get("sources")
    if not isinstance(data, dict) or not data:
        raise KnowledgeBaseError(f"{path.name}: needs a mapping under 'sources:'")
    out = {}
    for key, raw in data.items():
        try:
            out[str(key)] = Source(**(raw or {}))
        except (ValidationError, TypeError) as exc:
            detail = _describe(exc) if isinstance(exc, ValidationError) else str(exc)
            raise KnowledgeBaseError(f"{path.name}: source '{key}': {detail}") from None
    return out


def _parse_context_rules(path: Path, items: list) -> list[ContextRule]:
    rules = []
    for index, raw in enumerate(items, start=1):
        try:
            rules.append(ContextRule(**raw))
        except (ValidationError, TypeError) as exc:
            detail = _describe(exc) if isinstance(exc, ValidationError) else str(exc)
            raise KnowledgeBaseError(f"{path.name}: context_rules #{index}: {detail}") from None
    return rules


def _parse_clinic(path: Path) -> Clinic:
    data = _read_yaml(path).get("clinic")
    if not isinstance(data, dict):
        raise KnowledgeBaseError(f"{path.name}: needs a mapping under 'clinic:'")
    try:
        return Clinic(**data)
    except ValidationError as exc:
        raise KnowledgeBaseError(f"{path.name}: clinic: {_describe(exc)}") from None


def _parse_scope(path: Path) -> Scope:
    try:
        return Scope(**_read_yaml(path))
    except ValidationError as exc:
        raise KnowledgeBaseError(f"{path.name}: {_describe(exc)}") from None


class KnowledgeBase:
    """Validated, cross-referenced knowledge with lookups by id."""

    def __init__(self, catalogue: _Catalogue, directory: Path) -> None:
        self.directory = directory
        self.sources = catalogue.sources
        self.clinic = catalogue.clinic
        self.conditions = {c.id: c for c in catalogue.conditions}
        self.symptoms = {s.id: s for s in catalogue.symptoms}
        self.structures = {s.id: s for s in catalogue.structures}
        self.regions = {r.id: r for r in catalogue.regions}
        self.treatments = {t.id: t for t in catalogue.treatments}
        self.body_parts: dict[str, Entry] = {**self.structures, **self.regions}
        self.red_flags = {r.id: r for r in catalogue.red_flags}
        self.context_rules = catalogue.context_rules
        self.faqs = {f.id: f for f in catalogue.faqs}
        self.scope = catalogue.scope

    def by_label(self, label: str) -> dict[str, Entry]:
        """Entries that the entity `label` can take as values, keyed by id."""
        return {
            CONDITION: self.conditions,
            SYMPTOM: self.symptoms,
            BODY_PART: self.body_parts,
            TREATMENT: self.treatments,
        }[label]

    def entries(self) -> Iterator[tuple[str, Entry]]:
        """Every (entity label, entry) pair, in file order."""
        for label in ENTITY_LABELS:
            for entry in self.by_label(label).values():
                yield label, entry

    def conditions_for_symptom(self, symptom_id: str) -> list[ConditionLink]:
        """Linked conditions, most common first (ties keep the author's order)."""
        links = self.symptoms[symptom_id].linked_conditions
        return sorted(links, key=lambda link: self.conditions[link.condition].commonness)

    def treatments_for(self, condition_id: str) -> list[Treatment]:
        return [self.treatments[t] for t in self.conditions[condition_id].treatments]


def _where(file: str, kind: str, entry_id: str) -> str:
    return f"{file}: {kind} entry '{entry_id}'"


def _check_references(kb: KnowledgeBase) -> None:
    """Every id an entry points at must exist, and every source key must be defined."""
    problems: list[str] = []

    def need(ids: Iterable[str], table: dict[str, Any], what: str, where: str) -> None:
        for ref in ids:
            if ref not in table:
                problems.append(f"{where}: unknown {what} '{ref}'")

    files = {
        CONDITION: ("conditions.yml", "conditions"),
        SYMPTOM: ("symptoms.yml", "symptoms"),
        TREATMENT: ("treatments.yml", "treatments"),
    }
    for label, entry in kb.entries():
        file, kind = files.get(label, ("anatomy.yml", "anatomy"))
        where = _where(file, kind, entry.id)
        need(entry.sources, kb.sources, "source", where)
        if isinstance(entry, Condition):
            need(entry.treatments, kb.treatments, "treatment", where)
        if isinstance(entry, Symptom):
            need(
                [link.condition for link in entry.linked_conditions],
                kb.conditions,
                "condition",
                where,
            )
        if isinstance(entry, (Structure, Treatment)):
            need(entry.conditions, kb.conditions, "condition", where)
    for flag in kb.red_flags.values():
        where = _where("red_flags.yml", "red_flags", flag.id)
        need(flag.sources, kb.sources, "source", where)
        need(flag.escalates, kb.red_flags, "red flag", where)
        if flag.escalates and not flag.needs:
            problems.append(f"{where}: escalates needs `needs` (what a later message must add)")
    need(kb.scope.sources, kb.sources, "source", "scope.yml")
    inside = {w.lower() for w in kb.scope.inside}
    need(
        [a.lower() for a in kb.scope.anchors],
        dict.fromkeys(inside),
        "inside word",
        "scope.yml anchors",
    )
    for faq in kb.faqs.values():
        where = _where("faq.yml", "faqs", faq.id)
        need([s for s in faq.sources if s != CLINIC_SOURCE], kb.sources, "source", where)
        need([faq.treatment] if faq.treatment else [], kb.treatments, "treatment", where)
        need([faq.condition] if faq.condition else [], kb.conditions, "condition", where)
        try:
            render_faq(kb, faq)
        except (KeyError, AttributeError, IndexError, ValueError) as exc:
            problems.append(
                f"{where}: the answer has an unknown placeholder or stray brace ({exc})"
            )
    if problems:
        raise KnowledgeBaseError("\n".join(problems))


def _check_terms_unique(kb: KnowledgeBase) -> None:
    """A phrase must mean one thing, or the entity ruler would pick arbitrarily."""
    owner: dict[str, str] = {}
    problems = []
    for label, entry in kb.entries():
        for term in entry.terms():
            key = " ".join(term.lower().split())
            here = f"{label} '{entry.id}'"
            if key in owner and owner[key] != here:
                problems.append(f"the phrase {term!r} belongs to both {owner[key]} and {here}")
            owner.setdefault(key, here)
    for term in kb.scope.terms():
        key = " ".join(term.split())
        if key in owner:
            problems.append(f"scope.yml: {term!r} is out of scope but also {owner[key]}")
    if problems:
        raise KnowledgeBaseError("knowledge base: " + "; ".join(problems))


def load_knowledge(directory: os.PathLike | None = None) -> KnowledgeBase:
    """Load and validate every knowledge file; raise KnowledgeBaseError naming the culprit."""
    base = Path(directory or os.environ.get("KNOWLEDGE_DIR") or DEFAULT_DIR)
    anatomy_path = base / "anatomy.yml"
    anatomy = _read_yaml(anatomy_path)
    flags_path = base / "red_flags.yml"
    flags = _read_yaml(flags_path)
    catalogue = _Catalogue.construct(
        sources=_parse_sources(base / "sources.yml"),
        conditions=_parse_entries(
            base / "conditions.yml", _read_yaml(base / "conditions.yml"), "conditions", Condition
        ),
        symptoms=_parse_entries(
            base / "symptoms.yml", _read_yaml(base / "symptoms.yml"), "symptoms", Symptom
        ),
        structures=_parse_entries(anatomy_path, anatomy, "structures", Structure),
        regions=_parse_entries(anatomy_path, anatomy, "regions", Region),
        treatments=_parse_entries(
            base / "treatments.yml", _read_yaml(base / "treatments.yml"), "treatments", Treatment
        ),
        red_flags=_parse_entries(flags_path, flags, "red_flags", RedFlag),
        context_rules=_parse_context_rules(flags_path, flags.get("context_rules") or []),
        clinic=_parse_clinic(base / "clinic.yml"),
        faqs=_parse_entries(base / "faq.yml", _read_yaml(base / "faq.yml"), "faqs", Faq),
        scope=_parse_scope(base / "scope.yml"),
    )
    kb = KnowledgeBase(catalogue, base)
    _check_ids_unique_across_body_parts(kb, catalogue)
    _check_references(kb)
    _check_terms_unique(kb)
    return kb


def _check_ids_unique_across_body_parts(kb: KnowledgeBase, catalogue: _Catalogue) -> None:
    clash = {s.id for s in catalogue.structures} & {r.id for r in catalogue.regions}
    if clash:
        raise KnowledgeBaseError(
            f"anatomy.yml: ids used both as structure and region: {', '.join(sorted(clash))}"
        )


DAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")


def hours_text(hours: Hours) -> str:
    """Opening hours in words, consecutive days with the same hours joined:
    "Monday to Thursday 8:00–12:00 and 13:00–18:00; Saturday 9:00–12:00; closed Sunday"."""

    def ranges(day: str) -> str:
        times = [r.replace("-", "–") for r in getattr(hours, day)]
        return " and ".join(t.lstrip("0") if t[0] == "0" else t for t in times)

    groups: list[list[str]] = []
    for day in DAYS:
        if groups and ranges(groups[-1][-1]) == ranges(day):
            groups[-1].append(day)
        else:
            groups.append([day])
    parts = []
    for group in groups:
        days = group[0].title() if len(group) == 1 else f"{group[0].title()} to {group[-1].title()}"
        times = ranges(group[0])
        parts.append(f"{days} {times}" if times else f"closed {days}")
    return "; ".join(parts)


def faq_fields(kb: KnowledgeBase) -> dict[str, Any]:
    """What FAQ answers may quote from clinic.yml, by placeholder name."""
    import types

    clinic = kb.clinic
    return {
        "clinic_name": clinic.name,
        "phone": clinic.phone,
        "email": clinic.email,
        "address": clinic.address,
        "website": clinic.website,
        "hours": hours_text(clinic.hours),
        "emergency_number": clinic.emergency_number,
        "urgent_care": clinic.urgent_care,
        "crisis_line": clinic.crisis_line,
        "practice": types.SimpleNamespace(**clinic.practice.dict()),
    }


def render_faq(kb: KnowledgeBase, faq: Faq) -> str:
    """The FAQ's answer with the clinic's facts filled in."""
    return faq.answer.format(**faq_fields(kb))


@functools.cache
def knowledge() -> KnowledgeBase:
    """The process-wide knowledge base, loaded once."""
    return load_knowledge()
