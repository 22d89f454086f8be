"""The encoder's second net for red flags (clinic/red_flags/similar.py): clauses, reference
sentences from the knowledge base, the threshold, and the pattern matches' context rules."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from clinic.nlp import matcher
from clinic.red_flags import detect_signs
from clinic.red_flags.similar import SimilarityNet, clauses, patterns_only, threshold


def test_a_message_is_cut_into_clauses_at_sentence_ends_and_turns():
    text = "No numbness down there. But my stream is weak, and it keeps stopping"
    assert [c.text for c in clauses(text)] == [
        "No numbness down there",
        "my stream is weak",
        "it keeps stopping",
    ]
    for clause in clauses(text):
        assert text[clause.start : clause.end] == clause.text


@pytest.fixture(scope="module")
def net():
    from clinic.encoder.model import encoder

    return SimilarityNet(encoder(), cutoff=0.5)


def annotated(text: str):
    m = matcher()
    doc = m.nlp(text)
    detect_signs(doc, m.nlp)  # applies ConText, as in the NLU component
    return doc


def test_every_red_flag_has_reference_phrasings(net, kb):
    flags = {f.id for f in kb.red_flags.values() if f.tier in ("emergency", "urgent")}
    assert set(net.reference_flags) == flags - patterns_only()
    assert patterns_only() <= flags
    assert all(len(kb.red_flags[f].phrasings) >= 5 for f in flags)
    assert 0.5 <= threshold() <= 1.0


def test_a_close_clause_counts_and_a_denied_one_does_not(net):
    said = net.hits(annotated("I have to strain for ages before any wee comes out"))
    assert [h.id for h in said] == ["bladder_bowel"]
    assert not net.hits(annotated("my dad has to strain for ages before any wee comes out"))
    assert not net.hits(
        annotated("I have to strain for ages before any wee comes out"), found={"bladder_bowel"}
    )  # the patterns had it already


CASE_FILES = sorted((Path(__file__).resolve().parents[1] / "triage").glob("red_flag_*.yml"))


@pytest.mark.parametrize("path", CASE_FILES, ids=lambda p: p.stem)
def test_the_net_as_the_assistant_runs_it_adds_no_false_alarm(path):
    """At the configured threshold, on every case file (negated, someone else's,
    hypothetical, past and benign messages): whatever the net adds to the patterns is not
    on a negative, and it takes no positive away."""
    from clinic.encoder.model import encoder

    live = SimilarityNet(encoder())
    cases = yaml.safe_load(path.read_text())
    added = []
    nlp = matcher().nlp
    for case in cases["negatives"]:
        doc = nlp(case["text"])
        found = {h.id for h in detect_signs(doc, nlp)}  # applies ConText, as in the NLU
        added += [(case["text"], h.id) for h in live.hits(doc, found)]
    assert added == [], "\n".join(map(str, added))
