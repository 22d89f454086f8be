"""The project's own spaCy pipeline, built from the knowledge base, and matching on it.

No trained spaCy model can be installed here, and none is needed: the pipeline is a blank
English tokenizer plus an entity ruler whose patterns are every name, synonym and token
pattern in `knowledge/*.yml`, each match carrying its knowledge-base id (`ent.ent_id_`).
Rasa's NLU (through `addons.kb_entities`) and the custom actions load the same directory,
so the assistant recognises exactly the same words everywhere.
"""

from __future__ import annotations

import functools
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from clinic.knowledge import BODY_PART, KnowledgeBase
from clinic.paths import ROOT

PIPELINE_NAME = "spine_kb"
DEFAULT_PIPELINE_DIR = ROOT / "build" / "spacy" / PIPELINE_NAME
RULER = "entity_ruler"
RED_FLAG_RULER = "red_flag_ruler"
RED_FLAG_SPANS = "red_flags"
RED_FLAG_EXCLUSION_RULER = "red_flag_exclusion_ruler"
RED_FLAG_EXCLUSIONS = "red_flag_exclusions"


@functools.cache
def english_words() -> frozenset:
    """About 160,000 English words (pyspellchecker's frequency list, shipped in the package).

    A word that is real English is never "corrected" into a knowledge-base term: "later" is
    not a typo of "laser", nor "weather" of "weaker".
    """
    from spellchecker import SpellChecker

    return frozenset(SpellChecker(language="en", distance=1).word_frequency.dictionary)


@dataclass(frozen=True)
class KBEntity:
    """A knowledge-base term found in a text."""

    label: str
    id: str
    start: int  # character offsets into the text
    end: int
    text: str
    fuzzy: bool = False

    @property
    def confidence(self) -> float:
        return 0.8 if self.fuzzy else 1.0


#: Plurals of the nouns that end knowledge-base phrases ("slipped discs", "back spasms").
_PLURALS = {
    "disc": "discs",
    "disk": "disks",
    "spasm": "spasms",
    "nerve": "nerves",
    "muscle": "muscles",
    "joint": "joints",
    "leg": "legs",
    "foot": "feet",
    "toe": "toes",
    "root": "roots",
    "ligament": "ligaments",
    "tendon": "tendons",
    "vertebra": "vertebrae",
    "buttock": "buttocks",
    "calf": "calves",
    "thigh": "thighs",
    "hip": "hips",
    "cramp": "cramps",
    "exercise": "exercises",
    "stretch": "stretches",
    "pack": "packs",
    "bone": "bones",
    "spur": "spurs",
    "adjustment": "adjustments",
    "injection": "injections",
    "pin": "pins",
    "needle": "needles",
    "ache": "aches",
    "pain": "pains",
    "shot": "shots",
    "operation": "operations",
    "surgery": "surgeries",
    "stenosis": "stenoses",
}


def term_variants(term: str) -> list[str]:
    """Spelling variants patients use for the same phrase (disc/disk, hyphens, plurals)."""
    base = " ".join(term.lower().split())
    out = {base, base.replace("-", " "), re.sub(r"(\w)-(\w)", r"\1\2", base)}
    for form in list(out):
        out.add(re.sub(r"\bdisc(s?)\b", r"disk\1", form))
        out.add(re.sub(r"\bdisk(s?)\b", r"disc\1", form))
    for form in list(out):
        *head, last = form.split()
        if last in _PLURALS:
            out.add(" ".join([*head, _PLURALS[last]]))
    return sorted(out)


def ruler_patterns(kb: KnowledgeBase) -> list[dict]:
    """Entity-ruler patterns for every entry: phrases (lower-cased) and token patterns."""
    patterns: list[dict[str, Any]] = []
    for label, entry in kb.entries():
        seen = set()
        for term in entry.terms():
            for variant in term_variants(term):
                if variant not in seen:
                    seen.add(variant)
                    patterns.append({"label": label, "pattern": variant, "id": entry.id})
        for tokens in entry.patterns:
            patterns.append({"label": label, "pattern": tokens, "id": entry.id})
    return patterns


def red_flag_patterns(kb: KnowledgeBase) -> list[dict]:
    """Span-ruler patterns for the red flags (knowledge/red_flags.yml), labelled by flag id."""
    patterns: list[dict[str, Any]] = []
    for flag in kb.red_flags.values():
        phrases = {v for term in flag.synonyms for v in term_variants(term)}
        patterns += [{"label": flag.id, "pattern": p, "id": flag.id} for p in sorted(phrases)]
        patterns += [{"label": flag.id, "pattern": t, "id": flag.id} for t in flag.patterns]
    return patterns


def red_flag_exclusion_patterns(kb: KnowledgeBase) -> list[dict]:
    """Phrases that cancel a red-flag match they contain ("hay fever"), labelled by flag id."""
    return [
        {"label": flag.id, "pattern": phrase.lower(), "id": flag.id}
        for flag in kb.red_flags.values()
        for phrase in flag.exclusions
    ]


def build_pipeline(kb: KnowledgeBase):
    """A blank English pipeline: sentence boundaries (for negation scope), an entity ruler with
    the knowledge base's terms and a span ruler with the red flags, all generated from YAML."""
    import spacy

    nlp = spacy.blank("en")
    nlp.add_pipe("sentencizer")
    ruler: Any = nlp.add_pipe(RULER, config={"phrase_matcher_attr": "LOWER", "validate": True})
    ruler.add_patterns(ruler_patterns(kb))
    flags: Any = nlp.add_pipe(
        "span_ruler",
        name=RED_FLAG_RULER,
        config={"spans_key": RED_FLAG_SPANS, "phrase_matcher_attr": "LOWER", "validate": True},
    )
    flags.add_patterns(red_flag_patterns(kb))
    exclusions: Any = nlp.add_pipe(
        "span_ruler",
        name=RED_FLAG_EXCLUSION_RULER,
        config={"spans_key": RED_FLAG_EXCLUSIONS, "phrase_matcher_attr": "LOWER"},
    )
    exclusions.add_patterns(red_flag_exclusion_patterns(kb))
    nlp.meta.update(
        {
            "name": PIPELINE_NAME,
            "version": "1.0.0",
            "description": "Spine clinic knowledge base: entity ruler and red-flag span ruler "
            "(generated from knowledge/*.yml; do not edit)",
            "sources": [{"name": "knowledge/*.yml"}],
        }
    )
    return nlp


def pipeline_dir() -> Path:
    return Path(os.environ.get("SPACY_PIPELINE_DIR") or DEFAULT_PIPELINE_DIR)


@functools.cache
def load_pipeline(path: str | None = None):
    """Load the built pipeline once per process (it is read-only afterwards)."""
    import spacy

    directory = Path(path) if path else pipeline_dir()
    if not (directory / "meta.json").exists():
        raise FileNotFoundError(f"spaCy pipeline not found at {directory}; build it with `make kb`")
    return spacy.load(directory)


class FuzzyIndex:
    """Finds near-misses of knowledge-base phrases ("sciatia", "herniatd disc").

    The entity ruler only matches exact words; patients type fast on phones. Windows of up
    to four words are compared with the ruler's own phrases of the same word count, so the
    index needs nothing but the saved pipeline. To keep ordinary words from being "corrected"
    into symptoms, exactly one word of the window may differ from the phrase, and only as a
    typo would: a small edit distance for its length, same first letter, never a common word.
    """

    MAX_TOKENS = 4

    def __init__(self, nlp) -> None:
        self._by_ntokens: dict[int, dict[str, tuple[str, str]]] = {}
        for pattern in nlp.get_pipe(RULER).patterns:
            phrase = pattern["pattern"]
            if isinstance(phrase, str):
                n = len(phrase.split())
                self._by_ntokens.setdefault(n, {})[phrase] = (pattern["label"], pattern["id"])

    @staticmethod
    def word_budget(word: str) -> int:
        """Edits a misspelt word of this length may carry (0: too short to guess)."""
        n = len(word)
        return 0 if n < 5 else 1 if n < 7 else 2

    def _is_typo_of(self, typed: str, meant: str, in_phrase: bool) -> bool:
        """Whether `typed` is plausibly `meant` mistyped; the other words of a multi-word
        phrase matching exactly ("pinched nerv") earn one more edit."""
        from rapidfuzz.distance import OSA

        if len(typed) < 4 or typed[0] != meant[0] or typed in english_words():
            return False
        budget = min(2, self.word_budget(typed) + (1 if in_phrase else 0))
        if budget == 2 and typed[:2] != meant[:2]:
            budget = 1
        return 0 < OSA.distance(typed, meant) <= budget

    def _candidates(self, doc, taken: set) -> Iterator[tuple[int, int, list[str]]]:
        """Windows of alphabetic tokens with at least one token no entity claims; a window
        may swallow whole exact matches ("herniatd disc" contains the body part "disc")."""
        inside = {t.i: (ent.start, ent.end) for ent in doc.ents for t in ent}
        for n in range(self.MAX_TOKENS, 0, -1):
            for i in range(len(doc) - n + 1):
                span = doc[i : i + n]
                if not all(t.is_alpha for t in span) or all(t.i in taken for t in span):
                    continue
                if any(s < i or e > i + n for s, e in (inside[t.i] for t in span if t.i in inside)):
                    continue
                yield i, i + n, [t.lower_ for t in span]

    def _match(self, words: list[str]) -> tuple[str, str] | None:
        from rapidfuzz.distance import OSA
        from rapidfuzz.process import extract

        choices = self._by_ntokens.get(len(words), {})
        text = " ".join(words)
        for phrase, _, _ in extract(
            text, list(choices), scorer=OSA.distance, score_cutoff=2, limit=5
        ):
            differing = [(w, p) for w, p in zip(words, phrase.split(), strict=False) if w != p]
            if len(differing) == 1 and self._is_typo_of(*differing[0], len(words) > 1):
                return choices[phrase]
        return None

    def find(self, doc, taken: set) -> list[tuple[int, int, str, str]]:
        found = []
        claimed: set = set()
        for start, end, words in self._candidates(doc, taken):
            if any(i in claimed for i in range(start, end)):
                continue
            hit = self._match(words)
            if hit:
                found.append((start, end, *hit))
                claimed.update(range(start, end))
        return found


class KBMatcher:
    """Exact (entity ruler) plus typo-tolerant matching on one loaded pipeline."""

    def __init__(self, nlp) -> None:
        from spacy.matcher import PhraseMatcher

        self.nlp = nlp
        self.fuzzy = FuzzyIndex(nlp)
        # Body parts named inside a longer match ("pain down the back of my thigh into my
        # calf" is one symptom, but the thigh and calf still say how far the pain goes).
        self._body_parts = PhraseMatcher(nlp.vocab, attr="LOWER")
        for pattern in nlp.get_pipe(RULER).patterns:
            if pattern["label"] == BODY_PART and isinstance(pattern["pattern"], str):
                self._body_parts.add(pattern["id"], [nlp.make_doc(pattern["pattern"])])

    def body_parts_within(self, span) -> list[KBEntity]:
        """Body parts named inside a span (typically a symptom phrase)."""
        doc = span.doc
        found = [
            KBEntity(
                BODY_PART,
                doc.vocab.strings[match_id],
                doc[s:e].start_char,
                doc[s:e].end_char,
                doc[s:e].text,
            )
            for match_id, s, e in self._body_parts(span)
        ]
        return sorted(found, key=lambda e: e.start)

    def entities(self, doc, fuzzy: bool = True) -> list[KBEntity]:
        """Knowledge-base entities in a processed doc, in text order."""
        found = [
            KBEntity(ent.label_, ent.ent_id_, ent.start_char, ent.end_char, ent.text)
            for ent in doc.ents
            if ent.ent_id_
        ]
        if fuzzy:
            taken = {t.i for ent in doc.ents for t in ent}
            for start, end, label, kb_id in self.fuzzy.find(doc, taken):
                span = doc[start:end]
                found = [e for e in found if not span.start_char <= e.start < span.end_char]
                found.append(
                    KBEntity(label, kb_id, span.start_char, span.end_char, span.text, True)
                )
        return sorted(found, key=lambda e: e.start)

    def __call__(self, text: str, fuzzy: bool = True) -> list[KBEntity]:
        return self.entities(self.nlp(text), fuzzy=fuzzy)


@functools.cache
def matcher(path: str | None = None) -> KBMatcher:
    """The process-wide matcher on the built pipeline."""
    return KBMatcher(load_pipeline(path))


FIRST_PERSON = frozenset("i i'm im i've ive i'd me my mine myself".split())


def talks_about_self(doc) -> bool:
    """Whether the person speaks about their own body ("my leg", "I have..."), which is
    when an answer needs the reminder that a chat cannot diagnose."""
    return any(t.lower_ in FIRST_PERSON for t in doc)
