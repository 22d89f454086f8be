"""The trained model on text its authors did not train on (tests/nlu_holdout.yml)."""

from __future__ import annotations

import json

import pytest

from scripts.evaluate_nlu import DEFAULT_NLU, evaluate
from tests.helpers import ROOT

TRAINING = ROOT / "data" / "nlu"
FAQ_HOLDOUT = ROOT / "tests" / "nlu_holdout_faq.yml"


def _normalise(text: str) -> str:
    return " ".join(text.lower().split())


def test_holdout_is_apart_from_training_data(nlu_examples):
    train = {
        _normalise(e.text)
        for p in TRAINING.glob("*.yml")
        for e in nlu_examples(p)
        if p.name != "kb_generated.yml"
    }
    held_out = [*nlu_examples(DEFAULT_NLU), *nlu_examples(FAQ_HOLDOUT)]
    overlap = [e.text for e in held_out if _normalise(e.text) in train]
    assert not overlap, overlap


@pytest.mark.model
def test_holdout_intent_and_entity_f1(agent):
    scores = evaluate(agent, DEFAULT_NLU)
    out = ROOT / "results" / "nlu_holdout.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps(scores.__dict__, indent=2))
    print("\n".join(scores.lines()))
    assert scores.intent_macro_f1 >= 0.90, scores.errors
    assert scores.entity_f1 >= 0.90, scores.errors


@pytest.mark.model
def test_faq_holdout_floor(agent):
    """A floor, not the target: issue 6 asks for more (see the README's evaluation section)."""
    scores = evaluate(agent, FAQ_HOLDOUT)
    print("\n".join(scores.lines()))
    assert scores.intent_accuracy >= 0.55, scores.errors
    assert scores.faq_accuracy >= 0.50, scores.errors
