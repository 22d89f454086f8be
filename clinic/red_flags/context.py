"""Negation and context for red flags and symptoms: medspaCy ConText plus the project's rules.

medspaCy's ConText marks each match negated ("no fever"), about someone else ("my mum had
cancer"), hypothetical ("what if I had a fever?") or historical ("last year"), so only what
the person reports about themselves, now, counts.
"""

from __future__ import annotations

import functools
import itertools
import logging

from clinic.knowledge import KnowledgeBase, RedFlag, knowledge
from clinic.nlp import FIRST_PERSON, RED_FLAG_SPANS

MAX_SCOPE = 10  # words a ConText cue reaches


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


class ContextAnnotator:
    """Two ConText components over one pipeline: one for the knowledge-base entities, one for
    the red-flag span group. Both get the project's extra triggers from red_flags.yml."""

    def __init__(self, nlp, kb: KnowledgeBase) -> None:
        _quiet_medspacy()
        from medspacy.context import ConText, ConTextRule

        from clinic.red_flags import windowed

        windowed.install()  # cues compared only with what lies near them: linear, same result

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
#: Words after which "I"/"my" starts a new subject: "..., and I had", "so my", and someone
#: else's word about me ("my wife says I look thin").
_TURNS_TO_ME = frozenset(("and", "so", ",", "says", "thinks", "reckons", "noticed", "notices"))


def _crosses_a_turn(words) -> bool:
    """Whether the words between a cue and a match change the subject ("..., and I had",
    "so my", "my wife says I ...") or turn the sentence ("but", "since"), which ends the
    cue's reach."""
    lowered = [t.lower_ for t in words]
    if any(w in _TERMINATORS for w in lowered):
        return True
    return any(a in _TURNS_TO_ME and b in _NEW_SUBJECT for a, b in itertools.pairwise(lowered))


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


_RESOLVED_DENIAL_REACH = 3  # words before a "went away" that may deny it ("never really")


def _resolved_later(span, kb: KnowledgeBase) -> bool:
    """ "had tingling in both feet when I was pregnant but it went away": the words after the
    match, up to the end of the sentence, say it is over; unless that is denied ("it never
    went away", "the infection hasn't fully cleared")."""
    tokens = span.doc[span.start : span.sent.end]
    words = [t.lower_ for t in tokens]
    rest = " " + " ".join(words) + " "
    for cue in _resolved_cues(id(kb), kb):
        if f" {cue} " not in rest:
            continue
        cue_words = cue.split()
        for i in range(len(words) - len(cue_words) + 1):
            if words[i : i + len(cue_words)] != cue_words:
                continue
            before = []  # the words just before the cue, back to a comma or full stop
            for j in range(i - 1, max(-1, i - 1 - _RESOLVED_DENIAL_REACH), -1):
                if tokens[j].is_punct:
                    break
                before.append(words[j])
            if not any(w in _NEGATIONS for w in before):
                return True
    return False


def counts(span, flag: RedFlag, kb: KnowledgeBase) -> bool:
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
