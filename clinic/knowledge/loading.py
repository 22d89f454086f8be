"""Loading `knowledge/*.yml`: parse every file, check cross-references, fail with names.

`knowledge/*.yml` is the single source of truth for what the assistant knows: the spaCy
entity patterns, the NLU lookup tables and synonyms, and every answer are generated from
it. Each file is validated at load time so that a typo in a YAML edit fails loudly with the
file and the entry named, instead of surfacing as a wrong answer in a conversation.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from clinic.knowledge.files import KnowledgeBaseError, read_yaml
from clinic.knowledge.models import (
    BODY_PART,
    CLINIC_SOURCE,
    CONDITION,
    ENTITY_LABELS,
    SYMPTOM,
    TREATMENT,
    Clinic,
    Condition,
    ConditionLink,
    ContextRule,
    Entry,
    Faq,
    Identified,
    RedFlag,
    Region,
    Scope,
    Source,
    Structure,
    Symptom,
    Treatment,
)
from clinic.knowledge.wording import render_faq
from clinic.paths import ROOT

DEFAULT_DIR = ROOT / "knowledge"


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


T = TypeVar("T", bound=Identified)


def _describe(exc: ValidationError) -> str:
    return "; ".join(
        f"{'.'.join(str(p) for p in err['loc'])}: {err['msg']}" for err in exc.errors()
    )


def _parse_entries(path: Path, data: dict[str, Any], key: str, model: type[T]) -> list[T]:
    items = data.get(key)
    if not isinstance(items, list) or not items:
        raise KnowledgeBaseError(f"{path}: needs a non-empty list under '{key}:'")
    parsed: list[T] = []
    seen: set[str] = set()
    for index, raw in enumerate(items, start=1):
        label = raw.get("id", "?") if isinstance(raw, dict) else "?"
        where = f"{path.name}: {key} entry '{label}' (#{index})"
        if not isinstance(raw, dict):
            raise KnowledgeBaseError(f"{where}: expected a mapping")
        try:
            entry = model.parse_obj(raw)
        except ValidationError as exc:
            raise KnowledgeBaseError(f"{where}: {_describe(exc)}") from None
        if entry.id in seen:
            raise KnowledgeBaseError(f"{where}: id '{entry.id}' is used twice")
        seen.add(entry.id)
        parsed.append(entry)
    return parsed


def _parse_sources(path: Path) -> dict[str, Source]:
    data = read_yaml(path).get("sources")
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
    data = read_yaml(path).get("clinic")
    if not isinstance(data, dict):
        raise KnowledgeBaseError(f"{path.name}: needs a mapping under 'clinic:'")
    try:
        return Clinic(**data)
    except ValidationError as exc:
        raise KnowledgeBaseError(f"{path.name}: clinic: {_describe(exc)}") from None


def _parse_scope(path: Path) -> Scope:
    try:
        return Scope(**read_yaml(path))
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

    def by_label(self, label: str) -> Mapping[str, Entry]:
        """Entries that the entity `label` can take as values, keyed by id."""
        tables: dict[str, Mapping[str, Entry]] = {
            CONDITION: self.conditions,
            SYMPTOM: self.symptoms,
            BODY_PART: self.body_parts,
            TREATMENT: self.treatments,
        }
        return tables[label]

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
    anatomy = read_yaml(anatomy_path)
    flags_path = base / "red_flags.yml"
    flags = read_yaml(flags_path)
    catalogue = _Catalogue.construct(
        sources=_parse_sources(base / "sources.yml"),
        conditions=_parse_entries(
            base / "conditions.yml", read_yaml(base / "conditions.yml"), "conditions", Condition
        ),
        symptoms=_parse_entries(
            base / "symptoms.yml", read_yaml(base / "symptoms.yml"), "symptoms", Symptom
        ),
        structures=_parse_entries(anatomy_path, anatomy, "structures", Structure),
        regions=_parse_entries(anatomy_path, anatomy, "regions", Region),
        treatments=_parse_entries(
            base / "treatments.yml", read_yaml(base / "treatments.yml"), "treatments", Treatment
        ),
        red_flags=_parse_entries(flags_path, flags, "red_flags", RedFlag),
        context_rules=_parse_context_rules(flags_path, flags.get("context_rules") or []),
        clinic=_parse_clinic(base / "clinic.yml"),
        faqs=_parse_entries(base / "faq.yml", read_yaml(base / "faq.yml"), "faqs", Faq),
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


@functools.cache
def knowledge() -> KnowledgeBase:
    """The process-wide knowledge base, loaded once."""
    return load_knowledge()
