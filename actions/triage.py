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

import asyncio
import functools
import itertools
import logging
from dataclasses import dataclass, field
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import ActiveLoop, EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.knowledge import BODY_PART, SYMPTOM, KnowledgeBase, RedFlag, knowledge
from actions.nlp import FIRST_PERSON, RED_FLAG_EXCLUSIONS, RED_FLAG_SPANS, matcher
from actions.wording import say

RED_FLAG_INTENT = "red_flag"  # the intent addons/red_flags.py sets
RED_FLAGS_KEY = "red_flags"  # where the hits go in the parse result
TRIAGE_ACTION = "action_triage_red_flag"

ROUTE_ORDER = {"crisis": 0, "emergency": 1, "maternity": 2, "same_day": 3, "see_doctor": 4}
TIER_ORDER = {"emergency": 0, "urgent": 1, "routine": 2}
#: Tiers that make a red flag (the triage answer replaces any other flow); `soon` is advice.
RED_FLAG_TIERS = frozenset({"emergency", "urgent"})
ADVICE_TIERS = frozenset({"soon"})
ADVICE_KEY = "advice"  # where advice hits (tier soon) go in the parse result
#: Routes whose answer already covers the same-day signs: those are named, not repeated.
COVERING_ROUTES = ("emergency", "maternity")
MAX_SCOPE = 10  # words a ConText cue reaches

logger = logging.getLogger(__name__)


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
            ConTextRule(r.literal, r.category, pattern=r.pattern, direction=r.direction)
            for r in kb.context_rules
            if r.category != "RESOLVED"  # checked by _resolved_later, past any "but"
        ]
        # max_scope: in chat, one "sentence" can run on for a whole paragraph; a cue reaches
        # at most this many words (a "my husband..." early on says nothing of "I can't pee"
        # twenty words later).
        self.entities = ConText(
            nlp, name="context_entities", input_span_type="ents", max_scope=MAX_SCOPE
        )
        self.flags = ConText(
            nlp,
            name="context_red_flags",
            input_span_type="group",
            span_group_name=RED_FLAG_SPANS,
            max_scope=MAX_SCOPE,
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


_NEGATIONS = frozenset("not n't nt no never without".split())
_QUESTION_WORDS = frozenset(
    "does do can could is are will would should what whats how why when which".split()
)


_TERMINATORS = frozenset("but however though although yet except since".split())
_NEW_SUBJECT = frozenset("i my i'm i've".split())


def _crosses_a_turn(words) -> bool:
    """Whether the words between a cue and a match change the subject ("..., and I had",
    "so my") or turn the sentence ("but", "since"), which ends the cue's reach."""
    lowered = [t.lower_ for t in words]
    if any(w in _TERMINATORS for w in lowered):
        return True
    return any(
        a in ("and", "so", ",") and b in _NEW_SUBJECT for a, b in itertools.pairwise(lowered)
    )


def _marks_onset(doc, cue_start: int) -> bool:
    """ "since I slipped a disc last month, I can't ...": a past time after "since" says when
    it began, not that it is over."""
    before = doc[max(doc[cue_start].sent.start, cue_start - 6) : cue_start]
    return any(t.lower_ in ("since", "started", "began", "starting") for t in before)


def context_of(span) -> dict[str, list]:
    """The ConText modifiers acting on a span, by category. A cue inside the match itself
    ("can't" in "can't pee", "no" in "no feeling when I wipe") is part of what was said, not
    a negation of it, so it is left out, and so is a cue with a "but" between it and the
    match (ConText sometimes lets one reach past it). A "no"/"not" right before the span
    counts as a negation even when ConText misses it ("no problems peeing")."""
    doc = span.doc
    out: dict[str, list] = {}
    for modifier in span._.modifiers:
        start, end = modifier.modifier_span
        if start < span.end and span.start < end:
            continue
        if modifier.category == "HISTORICAL" and _marks_onset(doc, start):
            continue
        between = doc[end : span.start] if end <= span.start else doc[span.end : start]
        if _crosses_a_turn(between):
            continue
        out.setdefault(modifier.category, []).append(modifier)
    if span.start > 0 and span.doc[span.start - 1].lower_ in _NEGATIONS:
        out.setdefault("NEGATED_EXISTENCE", []).append(None)
    return out


_WH = frozenset("what whats why how when which".split())
_OPENERS = frozenset("so and but hi hello hey ok okay um also quick question".split())


def _is_general_question(span, modifiers: list) -> bool:
    """A sentence opened by a question word ("does back pain at night mean cancer?", "out of
    interest, why does the form ask about chest pain?") is a general question, unless the
    person speaks of themselves in it ("is it bad that I can't pee?" is a report)."""
    if not modifiers:
        return False
    words = [t.lower_ for t in span.sent if not t.is_punct]
    while words and words[0] in _OPENERS:
        words.pop(0)
    opens = bool(words) and words[0] in _QUESTION_WORDS
    wh_question = span.sent.text.rstrip().endswith("?") and any(w in _WH for w in words[:4])
    return (opens or wh_question) and not any(w in FIRST_PERSON for w in words)


def _intended(span, modifiers: list) -> bool:
    """Weight lost on purpose ("on a diet", "would losing weight help?"), unless the cue is
    itself negated ("not on a diet")."""
    words = [t.lower_ for t in span.sent if not t.is_punct]
    if words and words[0] in _QUESTION_WORDS:
        return True
    doc = span.doc
    for modifier in modifiers:
        start = modifier.modifier_span[0]
        if not any(t.lower_ in _NEGATIONS for t in doc[max(0, start - 2) : start]):
            return True
    return False


@functools.cache
def _resolved_cues(kb_id: int, kb: KnowledgeBase) -> tuple:
    return tuple(r.literal.lower() for r in kb.context_rules if r.category == "RESOLVED")


def _resolved_later(span, kb: KnowledgeBase) -> bool:
    """ "had tingling in both feet when I was pregnant but it went away": the words after the
    match, up to the end of the sentence, say it is over."""
    rest = " " + " ".join(t.lower_ for t in span.doc[span.start : span.sent.end]) + " "
    return any(f" {cue} " in rest for cue in _resolved_cues(id(kb), kb))


def _counts(span, flag: RedFlag, kb: KnowledgeBase) -> bool:
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
    resolved = _resolved_later(span, kb)
    if flag.counts_if_past:
        return True
    if span.text.lower() in {t.lower() for t in flag.past_terms}:
        return not resolved  # a recent infection counts, unless it is over
    return not (resolved or "HISTORICAL" in context)


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


def _ordered(hits) -> list[RedFlagHit]:
    """Most urgent route first, then in text order."""
    return sorted(hits, key=lambda h: (ROUTE_ORDER[h.route], h.start))


def _excluded(span, excluded: list[tuple[str, int, int]]) -> bool:
    """Whether a match lies inside one of its flag's exclusions ("hay fever")."""
    return any(
        label == span.label_ and s <= span.start and span.end <= e for label, s, e in excluded
    )


def _hits_in(doc, kb: KnowledgeBase, needs: NeedsChecker, source=None) -> dict[str, RedFlagHit]:
    """Red flags that count in `doc`; spans are reported from `source` (the original doc
    when `doc` is its typo-corrected copy)."""
    source = source if source is not None else doc
    hits: dict[str, RedFlagHit] = {}
    excluded = [(e.label_, e.start, e.end) for e in doc.spans.get(RED_FLAG_EXCLUSIONS, [])]
    for span in doc.spans.get(RED_FLAG_SPANS, []):
        flag = kb.red_flags.get(span.label_)
        if flag is None or span.label_ in hits or not _counts(span, flag, kb):
            continue
        if _excluded(span, excluded) or not needs.met(doc, flag.id):
            continue
        original = source[span.start : span.end]
        hits[flag.id] = RedFlagHit(
            flag.id, flag.tier, flag.route, original.text, original.start_char, original.end_char
        )
    return hits


_DENIALS = frozenset("no not n't nt without never".split())


_INABILITY_VERBS = frozenset(
    "tell feel notice know sense control hold start go get keep lift".split()
)
_AUXILIARIES = frozenset("ca can do does did could wo".split())


def _denied(doc, sent, match: tuple[int, int], claimed: set[int]) -> bool:
    """ "not both", "no numbness", "isn't getting any weaker": a denial shortly before a word,
    unless that denial belongs to another matched phrase ("can't feel my groin")."""
    window = range(max(sent.start, match[0] - 4), match[0])
    # "never had back pain until this month" says it is new, not absent
    since = {t.lower_ for t in doc[match[1] : sent.end]} & {"until", "till", "til"}
    return any(
        doc[i].lower_ in _DENIALS and i not in claimed and not (since and doc[i].lower_ == "never")
        for i in window
    )


def _absorb_inability(doc, sent, start: int) -> int:
    """Widen a match to take in a "can't tell when ..." just before it: the "can't" is the
    complaint itself, not a negation of it."""
    for i in range(start - 1, max(sent.start, start - 5) - 1, -1):
        if doc[i].lower_ in _INABILITY_VERBS and i - 1 >= sent.start:
            j = i - 1
            if doc[j].lower_ not in _DENIALS:
                continue
            if j - 1 >= sent.start and doc[j - 1].lower_ in _AUXILIARIES:
                j -= 1
            return j
    return start


class TogetherMatcher:
    """Finds red flags whose words come in any order in one sentence (`together` in
    red_flags.yml) and adds them to the doc's red-flag spans, before ConText runs."""

    def __init__(self, nlp, kb: KnowledgeBase) -> None:
        from spacy.matcher import PhraseMatcher

        self.rules = []
        for flag in kb.red_flags.values():
            for combo in flag.together:
                groups = []
                for index, phrases in enumerate(combo):
                    matcher = PhraseMatcher(nlp.vocab, attr="LOWER")
                    matcher.add(f"{flag.id}_{index}", [nlp.make_doc(p) for p in phrases])
                    groups.append(matcher)
                self.rules.append((flag.id, groups))

    def __call__(self, doc):
        from spacy.tokens import Span

        found = []
        for flag_id, groups in self.rules:
            matches = [[(s, e) for _, s, e in group(doc)] for group in groups]
            for sent in doc.sents:
                inside = [
                    [m for m in ms if sent.start <= m[0] and m[1] <= sent.end] for ms in matches
                ]
                claimed = {i for ms in inside for s, e in ms for i in range(s, e)}
                inside = [[m for m in ms if not _denied(doc, sent, m, claimed)] for ms in inside]
                if not all(inside):
                    continue
                for anchor in inside[0]:
                    others = [min(ms, key=lambda m: abs(m[0] - anchor[0])) for ms in inside[1:]]
                    start = _absorb_inability(doc, sent, min(m[0] for m in [anchor, *others]))
                    end = max(m[1] for m in [anchor, *others])
                    found.append(Span(doc, start, end, label=flag_id))
        if found:
            doc.spans[RED_FLAG_SPANS] = [*doc.spans.get(RED_FLAG_SPANS, []), *found]
        return doc


@functools.lru_cache(maxsize=4)
def _together_for(nlp_id: int, nlp, kb: KnowledgeBase) -> TogetherMatcher:
    return TogetherMatcher(nlp, kb)


class NeedsChecker:
    """Whether every `needs` word group of a flag appears somewhere in the message, each
    with at least one occurrence that is not denied ("no back pain" does not count)."""

    def __init__(self, nlp, kb: KnowledgeBase) -> None:
        from spacy.matcher import PhraseMatcher

        self.groups: dict[str, list] = {}
        for flag in kb.red_flags.values():
            matchers = []
            for index, phrases in enumerate(flag.needs):
                group = PhraseMatcher(nlp.vocab, attr="LOWER")
                group.add(f"{flag.id}_needs_{index}", [nlp.make_doc(p) for p in phrases])
                matchers.append(group)
            self.groups[flag.id] = matchers

    def found(self, doc, flag_id: str) -> list[tuple[int, int]] | None:
        """The token spans that satisfy the flag's groups, or None when a group is missing."""
        spans: list[tuple[int, int]] = []
        for group in self.groups.get(flag_id, []):
            matches = [(s, e) for _, s, e in group(doc)]
            claimed = {i for s, e in matches for i in range(s, e)}
            kept = [(s, e) for s, e in matches if not _denied(doc, doc[s].sent, (s, e), claimed)]
            if not kept:
                return None
            spans += kept
        return spans

    def met(self, doc, flag_id: str) -> bool:
        return self.found(doc, flag_id) is not None


@functools.lru_cache(maxsize=4)
def _needs_for(nlp_id: int, nlp, kb: KnowledgeBase) -> NeedsChecker:
    return NeedsChecker(nlp, kb)


def detect_signs(doc, nlp, kb: KnowledgeBase | None = None) -> list[RedFlagHit]:
    """Every warning sign the person reports about themselves (red flags and advice), most
    urgent route first, one per flag."""
    kb = kb or knowledge()
    context = annotator(nlp, kb)
    together = _together_for(id(nlp), nlp, kb)
    needs = _needs_for(id(nlp), nlp, kb)
    hits = _hits_in(context(together(doc)), kb, needs)
    corrected = _typo_corrected(doc, kb)
    if corrected is not None:
        fixed = nlp(corrected)
        if len(fixed) == len(doc):
            for flag_id, hit in _hits_in(context(together(fixed)), kb, needs, doc).items():
                hits.setdefault(flag_id, hit)
    return _ordered(hits.values())


def sign_mentions(text: str, kb: KnowledgeBase | None = None) -> list[tuple[str, int, int]]:
    """Every warning sign a text mentions, as (flag id, start, end) character offsets, before
    negation and context are applied: for checking the assistant's own texts, which name
    signs in general ("get emergency help for numbness around your genitals"). Where two
    flags match the same words, only the most urgent is kept (a swollen leg with
    breathlessness is the emergency, not also the same-day sign)."""
    kb = kb or knowledge()
    nlp = matcher().nlp
    doc = _together_for(id(nlp), nlp, kb)(nlp(text))
    needs = _needs_for(id(nlp), nlp, kb)
    excluded = [(e.label_, e.start, e.end) for e in doc.spans.get(RED_FLAG_EXCLUSIONS, [])]
    found = []
    for span in doc.spans.get(RED_FLAG_SPANS, []):
        flag = kb.red_flags.get(span.label_)
        extra = needs.found(doc, flag.id) if flag is not None else None
        if flag is None or extra is None or _excluded(span, excluded):
            continue
        # the words a flag needs are part of its mention ("a fever" in pregnancy)
        parts = [(span.start, span.end), *extra]
        found.append((ROUTE_ORDER[flag.route], flag.id, span, parts))
    kept: list[tuple[str, Any, list[tuple[int, int]]]] = []
    for _, flag_id, span, parts in sorted(found, key=lambda f: (f[0], f[1], f[2].start)):
        overlaps = any(
            s < e2 and s2 < e for _, _, done in kept for s, e in parts for s2, e2 in done
        )
        if not overlaps:
            kept.append((flag_id, span, parts))
    mentions = [(flag_id, span.start_char, span.end_char) for flag_id, span, _ in kept]
    return sorted(mentions, key=lambda m: m[1])


def escalations(text: str, earlier: list[str] | None, kb: KnowledgeBase | None = None) -> list:
    """Red flags that a message completes given those reported earlier in the conversation
    (`escalates` in red_flags.yml): "also I'm short of breath" after a swollen, red calf is
    the emergency. The added words go through the same negation and context rules."""
    from spacy.tokens import Span

    kb = kb or knowledge()
    earlier_ids = set(earlier or [])
    candidates = [f for f in kb.red_flags.values() if earlier_ids & set(f.escalates)]
    if not candidates or not text or text.startswith("/"):
        return []
    nlp = matcher().nlp
    doc = nlp(text)
    needs = _needs_for(id(nlp), nlp, kb)
    spans = [
        Span(doc, start, end, label=flag.id)
        for flag in candidates
        for start, end in needs.found(doc, flag.id) or []
    ]
    if not spans:
        return []
    doc.spans[RED_FLAG_SPANS] = spans
    return _ordered(_hits_in(annotator(nlp, kb)(doc), kb, needs).values())


def split_signs(hits: list[RedFlagHit]) -> tuple[list[RedFlagHit], list[RedFlagHit]]:
    """(red flags, advice): what replaces the normal answer, and what is added to it."""
    flags = [h for h in hits if h.tier in RED_FLAG_TIERS]
    return flags, [h for h in hits if h.tier not in RED_FLAG_TIERS]


def detect_red_flags(doc, nlp, kb: KnowledgeBase | None = None) -> list[RedFlagHit]:
    """Red flags (emergency or urgent) the person reports about themselves, most urgent
    route first, one per flag."""
    return split_signs(detect_signs(doc, nlp, kb))[0]


def red_flags_in(text: str) -> list[RedFlagHit]:
    """`detect_red_flags` on a text, with the project's pipeline (actions, scripts, tests)."""
    m = matcher()
    return detect_red_flags(m.nlp(text), m.nlp)


def advice_in(text: str) -> list[RedFlagHit]:
    """Advice signs (tier soon: see a doctor soon) in a text."""
    m = matcher()
    return split_signs(detect_signs(m.nlp(text), m.nlp))[1]


def triage_level(hits: list[RedFlagHit]) -> str:
    tiers = [h.tier for h in hits if h.tier in RED_FLAG_TIERS]
    return min(tiers, key=TIER_ORDER.__getitem__, default="routine")


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
        if ent.label == SYMPTOM and span is not None:
            for part in m.body_parts_within(span):
                out.body_parts.append(Finding(BODY_PART, part.id, part.text, part.start, **flags))
    return out


# --- the triage reply -------------------------------------------------------------------


def _parsed_hits(message: dict[str, Any], key: str, tiers) -> list[RedFlagHit]:
    """The hits the NLU component stored under `key`, for flags of `tiers` only (a parse is
    the user's to type: "/red_flag{...}" can carry anything)."""
    kb = knowledge()
    hits = []
    for raw in message.get(key) or []:
        flag = kb.red_flags.get(str(raw.get("id")))
        if flag is not None and flag.tier in tiers:
            hits.append(
                RedFlagHit(
                    flag.id,
                    flag.tier,
                    flag.route,
                    str(raw.get("text", "")),
                    int(raw.get("start") or 0),
                    int(raw.get("end") or 0),
                )
            )
    return hits


def _typed(message: dict[str, Any]) -> str:
    """The message's text when a person typed it (not a button payload)."""
    text = message.get("text") or ""
    return "" if text.startswith("/") else text


def hits_from_parse(message: dict[str, Any]) -> list[RedFlagHit]:
    """The red flags the NLU component attached to a message, or a fresh detection on its
    text (a hand-typed "/red_flag" payload carries none)."""
    hits = _parsed_hits(message, RED_FLAGS_KEY, RED_FLAG_TIERS)
    text = _typed(message)
    if not hits and text:
        hits = red_flags_in(text)
    return _ordered(hits)


def triage_reply(hits: list[RedFlagHit], kb: KnowledgeBase | None = None) -> list[str]:
    """What to do now, most urgent first: crisis line, emergency number or same-day care.
    Never a routine booking."""
    kb = kb or knowledge()
    clinic = kb.clinic
    fields = {
        "emergency_number": clinic.emergency_number,
        "crisis_line": clinic.crisis_line,
        "urgent_care": clinic.urgent_care,
    }
    if not hits:
        return [say("triage_unclear", **fields)]
    messages = []
    flags, advice = split_signs(hits)
    covered = False
    for route in ("crisis", "emergency", "maternity", "same_day"):
        routed = [h for h in flags if h.route == route]
        if not routed:
            continue
        flag = kb.red_flags[routed[0].id]
        text = say(f"triage_{route}", reason=flag.reason, **fields)
        others = [kb.red_flags[h.id].name for h in routed[1:]]
        if route in COVERING_ROUTES:
            # this answer already covers the less urgent ones: name them only
            others += [kb.red_flags[h.id].name for h in flags if h.route == "same_day"]
        if others:
            text += " " + say("triage_also", names="; ".join(others).lower())
        messages.append(text)
        if route in COVERING_ROUTES:
            covered = True
            break
    if not covered:
        messages += advice_texts(advice, kb)
    messages.append(say("triage_after"))
    return messages


def advice_texts(hits: list[RedFlagHit], kb: KnowledgeBase | None = None) -> list[str]:
    """The see-a-doctor-soon notes for advice hits, one per flag."""
    kb = kb or knowledge()
    return [
        say("triage_see_doctor", reason=kb.red_flags[h.id].reason)
        for h in hits
        if h.id in kb.red_flags and h.tier not in RED_FLAG_TIERS
    ]


def advice_from_parse(message: dict[str, Any]) -> list[RedFlagHit]:
    """The advice hits the NLU component attached to a message, or a fresh detection on its
    text when the parse carries none (an older model, or a test's hand-made tracker)."""
    if ADVICE_KEY in message:
        return _parsed_hits(message, ADVICE_KEY, ADVICE_TIERS)
    text = _typed(message)
    return advice_in(text) if text else []


def advice_messages(message: dict[str, Any]) -> list[str]:
    """See-a-doctor-soon notes for the latest message (added to any normal answer)."""
    return advice_texts(advice_from_parse(message))


def add_advice(messages: list[dict[str, Any]], message: dict[str, Any]) -> list[dict[str, Any]]:
    """`messages` with the latest message's see-a-doctor-soon notes added, before the last
    bubble when that one carries the buttons (so the buttons stay at the end)."""
    notes = [{"text": text, "buttons": []} for text in advice_messages(message)]
    if not notes:
        return messages
    at = len(messages) - 1 if messages and messages[-1].get("buttons") else len(messages)
    return [*messages[:at], *notes, *messages[at:]]


class ActionTriageRedFlag(Action):
    """Answers a red flag, whatever else was going on: ends any form, sets `triage_level`,
    and records the event for the clinic's staff. The conversation can then go on."""

    def name(self) -> str:
        return TRIAGE_ACTION

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        message = tracker.latest_message or {}
        hits = hits_from_parse(message) or escalations(
            message.get("text") or "", tracker.get_slot("red_flags")
        )
        for text in triage_reply(hits + advice_from_parse(message)):
            dispatcher.utter_message(text=text)
        previous = tracker.get_slot("triage_level") or "routine"
        level = min(triage_level(hits) if hits else "urgent", previous, key=TIER_ORDER.get)
        flags = sorted({*(tracker.get_slot("red_flags") or []), *(h.id for h in hits)})
        await _record(tracker.sender_id, level, [h.id for h in hits], message.get("text") or "")
        events: list[EventType] = [SlotSet("triage_level", level), SlotSet("red_flags", flags)]
        if tracker.active_loop_name:
            events += [ActiveLoop(None), SlotSet("requested_slot", None)]
        return events


async def _record(conversation_id: str, level: str, flags: list[str], text: str) -> None:
    """Store the event for staff review; a storage failure must not cost the person the
    urgent reply, so it is logged, not raised."""
    from actions.storage import record_triage_event

    try:
        await asyncio.to_thread(record_triage_event, conversation_id, level, flags, text)
    except Exception:
        logger.exception("could not record a triage event for staff review")
