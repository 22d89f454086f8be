"""Red-flag and symptom detection: the span ruler's matches, judged in context.

Red flags come from the span ruler built from `knowledge/red_flags.yml`; symptoms and body
parts from the knowledge-base entity ruler; both live in the project's own spaCy pipeline.
`clinic.red_flags.context` then keeps only what the person reports about themselves, now.
The Rasa NLU component (addons/red_flags.py), the actions and the evaluation script all
call `detect_signs`, so a message is judged the same way everywhere.
"""

from __future__ import annotations

import functools
from typing import Any

from clinic.knowledge import BODY_PART, SYMPTOM, KnowledgeBase, knowledge
from clinic.nlp import RED_FLAG_EXCLUSIONS, RED_FLAG_SPANS, english_words, matcher
from clinic.red_flags.context import annotator, context_of, counts
from clinic.red_flags.hits import (
    ROUTE_ORDER,
    Finding,
    Findings,
    RedFlagHit,
    ordered,
    split_signs,
)


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
        if flag is None or span.label_ in hits or not counts(span, flag, kb):
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
_UNTIL = frozenset(("until", "till", "til"))
_UNTIL_REACH = 12  # tokens after a "never ..." match that may say "until"


def _denied(doc, sent, match: tuple[int, int], claimed: set[int]) -> bool:
    """ "not both", "no numbness", "isn't getting any weaker": a denial shortly before a word,
    unless that denial belongs to another matched phrase ("can't feel my groin")."""
    window = range(max(sent.start, match[0] - 4), match[0])
    denials = {doc[i].lower_ for i in window if doc[i].lower_ in _DENIALS and i not in claimed}
    if denials != {"never"}:
        return bool(denials)
    # "never had back pain until this month" says it is new, not absent. The look-ahead is
    # bounded so that a message repeating "never ..." stays linear in its length.
    ahead = doc[match[1] : min(sent.end, match[1] + _UNTIL_REACH)]
    return not any(t.lower_ in _UNTIL for t in ahead)


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
    return ordered(hits.values())


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
    return ordered(_hits_in(annotator(nlp, kb)(doc), kb, needs).values())


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
