"""The second net for red flags: a clause close in meaning to one of a red flag's phrasings.

The patterns (detector.py) catch the words people are known to use; someone who says it
another way ("I stand there forever before anything comes") slips through. Here each red
flag's name, synonyms and phrasings in knowledge/red_flags.yml are reference sentences for
the sentence encoder (clinic/encoder/); each clause of a message is compared with them, and a
clause whose best cosine reaches the threshold counts as that red flag, unless the patterns
already found it. The threshold is chosen on the blind sets 1-3, not on the test set
(scripts/evaluate_triage.py --sweep), and kept in red_flags_similar.yml beside this file.

The same context rules apply as for a pattern match (context.py `counts`): in a clause that
is close enough, the few words closest to the flag's phrasings stand in for the match, and
the ConText cues acting on them decide (a negation, someone else, a hypothetical, a past or
resolved episode, a general question), with the same exceptions (thoughts of self-harm put
as a question, cancer in the past). A cue inside those words is part of what was said
("can't" in "can't feel the paper"), as for a pattern match. Only red flags proper (tiers
emergency and urgent) are looked for, except those whose warning lies in a detail that a
sentence's meaning does not carry (`patterns_only` in red_flags_similar.yml).

Needs TensorFlow: for the Rasa server's NLU and the evaluation script, never the action
server.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Set
from dataclasses import dataclass

from clinic.knowledge import KnowledgeBase, knowledge
from clinic.knowledge.files import side_yaml
from clinic.red_flags.context import counts
from clinic.red_flags.hits import RED_FLAG_TIERS, RedFlagHit

_CLAUSE_END = re.compile(r"[.!?;\n]+|,\s+(?:and|but|so|though|although)\b|\s+but\s+", re.I)
MIN_CLAUSE_CHARS = 8
WINDOW = 8  # the most words that stand in for a pattern match


def threshold() -> float:
    return float(side_yaml(__file__, "red_flags_similar.yml")["threshold"])


def patterns_only() -> frozenset[str]:
    """Red flags the net does not look for (red_flags_similar.yml says why, per flag)."""
    return frozenset(side_yaml(__file__, "red_flags_similar.yml").get("patterns_only") or {})


@dataclass(frozen=True)
class Clause:
    text: str
    start: int
    end: int


def clauses(text: str) -> list[Clause]:
    """The message cut at sentence ends, semicolons and ", and" / "but" (a denial in one
    clause must not cancel a complaint in the next)."""
    out, start = [], 0
    for cut in [*_CLAUSE_END.finditer(text), None]:
        end = cut.start() if cut else len(text)
        piece = text[start:end]
        stripped = piece.strip()
        if len(stripped) >= MIN_CLAUSE_CHARS:
            offset = start + piece.index(stripped)
            out.append(Clause(stripped, offset, offset + len(stripped)))
        start = cut.end() if cut else len(text)
    return out


def texts_to_encode(text: str) -> list[str]:
    """What the net asks the encoder for, for a message: its clauses; or, for a message of
    one clause, the message itself but its closing mark, i.e. the message's own vector,
    which the NLU's featurizer makes anyway."""
    pieces = clauses(text)
    if len(pieces) == 1 and pieces[0].text == text.strip().rstrip(".!?;").strip():
        return [text]
    return [c.text for c in pieces]


class SimilarityNet:
    """Reference sentences of every red flag, encoded once; clauses compared with them."""

    def __init__(self, encoder, kb: KnowledgeBase | None = None, cutoff: float | None = None):
        from clinic.encoder.model import wants

        wants(texts_to_encode)
        self.kb = kb or knowledge()
        self.encoder = encoder
        self.cutoff = threshold() if cutoff is None else cutoff
        self.reference_flags: list[str] = []
        texts: list[str] = []
        skipped = patterns_only()
        unknown = skipped - set(self.kb.red_flags)
        if unknown:
            raise ValueError(f"red_flags_similar.yml: patterns_only names no red flag {unknown}")
        for flag in self.kb.red_flags.values():
            if flag.tier not in RED_FLAG_TIERS or flag.id in skipped:
                continue
            for phrase in dict.fromkeys([flag.name, *flag.synonyms, *flag.phrasings]):
                self.reference_flags.append(flag.id)
                texts.append(phrase)
        self.references = encoder.sentences(texts)

    def best(self, texts: list[str]) -> list[tuple[str, float]]:
        """For each text, the red flag whose phrasing is nearest, and the cosine."""
        if not texts:
            return []
        scores = self.encoder.sentences(texts) @ self.references.T
        best = scores.argmax(axis=1)
        return [(self.reference_flags[k], float(scores[row, k])) for row, k in enumerate(best)]

    def candidates(self, doc, floor: float = 0.0) -> list[tuple[Clause, str, float]]:
        """Each clause of `doc` (ConText already applied, detector.py) whose nearest red flag
        reaches `floor` and that the context rules let count, with that flag and the cosine."""
        pieces = clauses(doc.text)
        nearest = self.best(texts_to_encode(doc.text))
        return [
            (clause, flag_id, score)
            for clause, (flag_id, score) in zip(pieces, nearest, strict=True)
            if score >= floor and self._counts(doc, clause, flag_id)
        ]

    def hits(self, doc, found: Set[str] = frozenset()) -> list[RedFlagHit]:
        """Red flags the patterns did not find (`found`), at most one per flag."""
        out: dict[str, RedFlagHit] = {}
        for clause, flag_id, _ in self.candidates(doc, self.cutoff):
            if flag_id in found or flag_id in out:
                continue
            flag = self.kb.red_flags[flag_id]
            out[flag_id] = RedFlagHit(
                flag_id, flag.tier, flag.route, clause.text, clause.start, clause.end
            )
        return list(out.values())

    def _counts(self, doc, clause: Clause, flag_id: str) -> bool:
        """The pattern matches' context rules, on the words that stand in for a match."""
        span = self._closest_words(doc, clause, flag_id)
        if span is None:
            return False
        graph = getattr(doc._, "context_graph", None)
        modifiers = graph.modifiers if graph is not None else []
        span._.modifiers = tuple(m for m in modifiers if m.modifies(span))
        return counts(span, self.kb.red_flags[flag_id], self.kb)

    def _closest_words(self, doc, clause: Clause, flag_id: str):
        """The run of 2-8 words of the clause nearest to the flag's phrasings, as a Span."""
        from spacy.tokens import Span

        whole = doc.char_span(clause.start, clause.end, alignment_mode="expand")
        if whole is None or not len(whole):
            return None
        start, end = whole.start, whole.end
        windows = [
            (a, b)
            for a in range(start, end)
            for b in range(min(a + 2, end), min(a + WINDOW, end) + 1)
        ]
        own = self.references[[f == flag_id for f in self.reference_flags]]
        vectors = self.encoder.sentences([doc[a:b].text for a, b in windows])
        a, b = windows[int((vectors @ own.T).max(axis=1).argmax())]
        return Span(doc, a, b, label=flag_id)


@functools.cache
def similarity_net() -> SimilarityNet:
    """The process's net, with the process's encoder (loads TensorFlow)."""
    from clinic.encoder.model import encoder

    return SimilarityNet(encoder())
