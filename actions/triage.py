"""Triage: red flags and symptom findings, with negation and context from medspaCy ConText.

Red flags come from the span ruler built from `knowledge/red_flags.yml`; symptoms and body
parts from the knowledge-base entity ruler; both live in the project's own spaCy pipeline.
medspaCy's ConText then marks each match negated ("no fever"), about someone else ("my mum
had cancer"), hypothetical ("what if I had a fever?") or historical ("last year"), so only
what the person reports about themselves, now, counts. The Rasa NLU component
(addons/red_flags.py), the actions and the evaluation script all call `detect_red_flags`, so
a message is judged the same way everywhere.
"""

from __future__ import annotations

import functools
import logging
from dataclasses import dataclass, field

from actions.knowledge import BODY_PART, SYMPTOM, KnowledgeBase, RedFlag, knowledge
from actions.nlp import FIRST_PERSON, RED_FLAG_EXCLUSIONS, RED_FLAG_SPANS, matcher

ROUTE_ORDER = {"crisis": 0, "emergency": 1, "same_day": 2}
TIER_ORDER = {"emergency": 0, "urgent": 1, "routine": 2}


def _quiet_medspacy() -> None:
    """medspaCy's sentence splitter logs every token at DEBUG through loguru; keep warnings."""
    try:
        import sys

        from loguru import logger

        logger.remove()
        logger.add(sys.stderr, level="WARNING")
    except ImportError:  # pragma: no cover - loguru comes with medspaCy
        pass
    logging.getLogger("medspacy").setLevel(logging.WARNING)


@dataclass(frozen=True)
class RedFlagHit:
    """A red flag the person reports about themselves."""

    id: str
    tier: str
    route: str
    text: str
    start: int
    end: int

    def as_dict(self) -> dict:
        return {
            "id": self.id,
            "tier": self.tier,
            "route": self.route,
            "text": self.text,
            "start": self.start,
            "end": self.end,
        }


@dataclass(frozen=True)
class Finding:
    """A knowledge-base symptom or body part, and whether it really applies to the person."""

    label: str
    id: str
    text: str
    start: int
    negated: bool = False
    other_person: bool = False
    hypothetical: bool = False
    historical: bool = False

    @property
    def present(self) -> bool:
        return not (self.negated or self.other_person or self.hypothetical or self.historical)


class ContextAnnotator:
    """Two ConText components over one pipeline: one for the knowledge-base entities, one for
    the red-flag span group. Both get the project's extra triggers from red_flags.yml."""

    def __init__(self, nlp, kb: KnowledgeBase) -> None:
        _quiet_medspacy()
        from medspacy.context import ConText, ConTextRule

        rules = [
            ConTextRule(r.literal, r.category, direction=r.direction) for r in kb.context_rules
        ]
        self.entities = ConText(nlp, name="context_entities", input_span_type="ents")
        self.flags = ConText(
            nlp,
            name="context_red_flags",
            input_span_type="group",
            span_group_name=RED_FLAG_SPANS,
        )
        for component in (self.entities, self.flags):
            component.add(rules)

    def __call__(self, doc):
        return self.flags(self.entities(doc))


@functools.lru_cache(maxsize=4)
def _annotator_for(nlp_id: int, nlp, kb: KnowledgeBase) -> ContextAnnotator:
    return ContextAnnotator(nlp, kb)


def annotator(nlp, kb: KnowledgeBase | None = None) -> ContextAnnotator:
    """The ConText annotator for this loaded pipeline (built once per pipeline object)."""
    return _annotator_for(id(nlp), nlp, kb or knowledge())


_NEGATIONS = frozenset("not n't nt no never".split())
_QUESTION_WORDS = frozenset(
    "does do can could is are will would should what whats how why when which".split()
)


def context_of(span) -> dict[str, list]:
    """The ConText modifiers acting on a span, by category. A cue inside the match itself
    ("can't" in "can't pee", "no" in "no feeling when I wipe") is part of what was said, not
    a negation of it, so it is left out; so is anything a "no"/"not" right before the span
    misses: that counts as a negation too ("no problems peeing")."""
    out: dict[str, list] = {}
    for modifier in span._.modifiers:
        start, end = modifier.modifier_span
        if start < span.end and span.start < end:
            continue
        out.setdefault(modifier.category, []).append(modifier)
    if span.start > 0 and span.doc[span.start - 1].lower_ in _NEGATIONS:
        out.setdefault("NEGATED_EXISTENCE", []).append(None)
    return out


_OPENERS = frozenset("so and but hi hello hey ok okay um also quick question".split())


def _is_general_question(span, modifiers: list) -> bool:
    """A sentence opened by a question word ("does back pain at night mean cancer?", "what
    does saddle anaesthesia mean") is a general question, unless the person speaks of
    themselves in it ("is it bad that I can't pee?" is a report)."""
    if not modifiers:
        return False
    question_words = {m.rule.literal.lower() for m in modifiers}
    sentence = [t for t in span.sent if not t.is_punct]
    words = [t.lower_ for t in sentence]
    while words and words[0] in _OPENERS:
        words.pop(0)
    opens_with_question = bool(words) and (
        words[0] in question_words or words[0] in _QUESTION_WORDS
    )
    return opens_with_question and not any(w in FIRST_PERSON for w in words)


def _intended(span, modifiers: list) -> bool:
    """Weight lost on purpose ("on a diet"), unless the cue is itself negated ("not on a diet")."""
    doc = span.doc
    for modifier in modifiers:
        start = modifier.modifier_span[0]
        if not any(t.lower_ in _NEGATIONS for t in doc[max(0, start - 2) : start]):
            return True
    return False


def _counts(span, flag: RedFlag) -> bool:
    """Whether a matched red flag is something the person reports about themselves, now."""
    context = context_of(span)
    if "NEGATED_EXISTENCE" in context or "FAMILY" in context:
        return False
    if not flag.counts_if_hypothetical and (
        "HYPOTHETICAL" in context or _is_general_question(span, context.get("QUESTION", []))
    ):
        return False
    if flag.id == "weight_loss" and _intended(span, context.get("INTENDED", [])):
        return False
    return flag.counts_if_past or "HISTORICAL" not in context


@functools.cache
def _red_flag_vocabulary(kb_id: int, kb: KnowledgeBase) -> tuple:
    """Every word the red-flag phrases and patterns look for (for typo correction)."""
    words: set[str] = set()

    def walk(node) -> None:
        if isinstance(node, str):
            words.update(w for w in node.lower().split() if w.isalpha())
        elif isinstance(node, dict):
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    for flag in kb.red_flags.values():
        walk(flag.synonyms)
        walk(flag.patterns)
    return tuple(sorted(w for w in words if len(w) >= 4))


def _typo_corrected(doc, kb: KnowledgeBase) -> str | None:
    """The text with misspelt words replaced by the red-flag word they were meant to be
    ("numbess aroud my back passage"), or None when nothing needs correcting. A real English
    word is never changed; replacements keep the token count, so spans map back one to one."""
    from rapidfuzz.distance import OSA
    from rapidfuzz.process import extractOne

    from actions.nlp import english_words

    vocabulary = _red_flag_vocabulary(id(kb), kb)
    changed = False
    parts = []
    for token in doc:
        word = token.lower_
        replacement = token.text
        if token.is_alpha and len(word) >= 5 and word not in english_words():
            limit = 1 if len(word) < 7 else 2
            best = extractOne(word, vocabulary, scorer=OSA.distance, score_cutoff=limit)
            if best is not None and best[0][0] == word[0]:
                replacement, changed = best[0], True
        parts.append(replacement + token.whitespace_)
    return "".join(parts) if changed else None


def _hits_in(doc, kb: KnowledgeBase, source=None) -> dict[str, RedFlagHit]:
    """Red flags that count in `doc`; spans are reported from `source` (the original doc
    when `doc` is its typo-corrected copy)."""
    source = source if source is not None else doc
    hits: dict[str, RedFlagHit] = {}
    excluded = [(e.label_, e.start, e.end) for e in doc.spans.get(RED_FLAG_EXCLUSIONS, [])]
    for span in doc.spans.get(RED_FLAG_SPANS, []):
        flag = kb.red_flags.get(span.label_)
        if flag is None or span.label_ in hits or not _counts(span, flag):
            continue
        if any(label == flag.id and s <= span.start and span.end <= e for label, s, e in excluded):
            continue
        original = source[span.start : span.end]
        hits[flag.id] = RedFlagHit(
            flag.id, flag.tier, flag.route, original.text, original.start_char, original.end_char
        )
    return hits


def detect_red_flags(doc, nlp, kb: KnowledgeBase | None = None) -> list[RedFlagHit]:
    """Red flags the person reports about themselves, most urgent route first, one per flag."""
    kb = kb or knowledge()
    context = annotator(nlp, kb)
    hits = _hits_in(context(doc), kb)
    corrected = _typo_corrected(doc, kb)
    if corrected is not None:
        fixed = nlp(corrected)
        if len(fixed) == len(doc):
            for flag_id, hit in _hits_in(context(fixed), kb, source=doc).items():
                hits.setdefault(flag_id, hit)
    return sorted(hits.values(), key=lambda h: (ROUTE_ORDER[h.route], h.start))


def red_flags_in(text: str) -> list[RedFlagHit]:
    """`detect_red_flags` on a text, with the project's pipeline (actions, scripts, tests)."""
    m = matcher()
    return detect_red_flags(m.nlp(text), m.nlp)


def triage_level(hits: list[RedFlagHit]) -> str:
    return min((h.tier for h in hits), key=TIER_ORDER.__getitem__, default="routine")


@dataclass
class Findings:
    """What a described problem contains, each item checked for negation and context."""

    symptoms: list[Finding] = field(default_factory=list)
    body_parts: list[Finding] = field(default_factory=list)

    def present(self, label: str) -> list[str]:
        items = self.symptoms if label == SYMPTOM else self.body_parts
        return list(dict.fromkeys(f.id for f in items if f.present))

    def absent(self, label: str) -> list[str]:
        items = self.symptoms if label == SYMPTOM else self.body_parts
        return list(dict.fromkeys(f.id for f in items if f.negated))


def findings_in(text: str) -> Findings:
    """Symptoms and body parts in a description, with ConText applied to each."""
    m = matcher()
    doc = m.nlp(text)
    annotator(m.nlp)(doc)
    spans = {(e.start_char, e.end_char): e for e in doc.ents}
    out = Findings()
    for ent in m.entities(doc):
        if ent.label not in (SYMPTOM, BODY_PART):
            continue
        span = spans.get((ent.start, ent.end))
        context = context_of(span) if span is not None else {}
        flags = {
            "negated": "NEGATED_EXISTENCE" in context,
            "other_person": "FAMILY" in context,
            "hypothetical": "HYPOTHETICAL" in context,
            "historical": "HISTORICAL" in context,
        }
        finding = Finding(ent.label, ent.id, ent.text, ent.start, **flags)
        (out.symptoms if ent.label == SYMPTOM else out.body_parts).append(finding)
    return out
