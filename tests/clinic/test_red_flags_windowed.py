"""medspaCy's ConText with each cue compared only with what lies near it
(clinic/red_flags/windowed.py) gives exactly medspaCy's result, in the same order, on every
red-flag phrasing and on long messages dense with cues; and its work grows linearly with the
message (medspaCy's own grows with the square)."""

from __future__ import annotations

import pytest
import yaml
from medspacy.context import context as medspacy_context
from medspacy.context.context_graph import ConTextGraph
from medspacy.context.context_modifier import ConTextModifier

from clinic.nlp import RED_FLAG_SPANS, matcher
from clinic.red_flags import annotator, windowed
from tests.helpers import ROOT

DENSE = (
    "no numbness and my mum had no weakness, ",
    "if I can't feel my saddle area or pee, but not since last year my dad ",
    "numb legs both sides, no fever? ",
    "I don't think there's any weakness, just pain. ",
)


def phrasings() -> list[str]:
    texts = []
    for path in sorted((ROOT / "tests" / "triage").glob("red_flag_*.yml")):
        cases = yaml.safe_load(path.read_text())
        texts += [t for group in cases["positives"].values() for t in group]
        texts += [case["text"] for case in cases["negatives"]]
    long = [" ".join(DENSE[i:] + DENSE[:i]) * 8 for i in range(len(DENSE))]
    return texts + long + [unit * 40 for unit in DENSE]


def relations(text: str, graph: type) -> list[tuple]:
    """Every (target, modifier, scope) edge ConText finds, in order, with `graph`."""
    medspacy_context.ConTextGraph = graph
    nlp = matcher().nlp
    doc = annotator(nlp)(nlp(text))
    edges = []
    for span in (*doc.ents, *doc.spans.get(RED_FLAG_SPANS, [])):
        for modifier in span._.modifiers:
            edges.append(
                ((span.start, span.end, span.label_), modifier.category, modifier.modifier_span)
                + (modifier.scope_span,)
            )
    return edges


@pytest.fixture
def restore_graph():
    yield
    windowed.install()


def test_the_same_relations_as_medspacy_on_every_phrasing(restore_graph):
    texts = phrasings()
    assert len(texts) > 500
    found = 0
    for text in texts:
        expected = relations(text, ConTextGraph)
        assert relations(text, windowed.WindowedConTextGraph) == expected, text
        found += len(expected)
    assert found > 1000  # the messages really have cues acting on matches


def comparisons(text: str, graph: type, monkeypatch) -> int:
    """How many cue-cue and cue-match comparisons ConText makes on `text` with `graph`."""
    count = {"n": 0}
    limit, modifies = ConTextModifier.limit_scope, ConTextModifier.modifies

    def counted_limit(self, other):
        count["n"] += 1
        return limit(self, other)

    def counted_modifies(self, target):
        count["n"] += 1
        return modifies(self, target)

    monkeypatch.setattr(ConTextModifier, "limit_scope", counted_limit)
    monkeypatch.setattr(ConTextModifier, "modifies", counted_modifies)
    relations(text, graph)
    return count["n"]


def test_the_work_grows_linearly_with_the_message(restore_graph, monkeypatch):
    unit = DENSE[0]
    small, large = unit * 25, unit * 100  # 1,000 and 4,000 characters
    ours = [comparisons(t, windowed.WindowedConTextGraph, monkeypatch) for t in (small, large)]
    theirs = [comparisons(t, ConTextGraph, monkeypatch) for t in (small, large)]
    assert ours[1] <= 4.5 * ours[0]  # four times the text, about four times the work
    assert theirs[1] >= 12 * theirs[0]  # medspaCy's: about sixteen times
    assert ours[1] * 10 < theirs[1]
