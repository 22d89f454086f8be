"""Training data hygiene: every intent is trained, annotations agree with the knowledge base,
and nothing is copied from the external evaluation sets."""

from __future__ import annotations

import json
from collections import Counter

import pytest
import yaml

from clinic.nlp import matcher
from tests.helpers import ROOT

EVAL_DIR = ROOT.parent / "shared" / "eval"
TRAIN_FILES = sorted(
    p for p in (ROOT / "data" / "nlu").glob("*.yml") if p.name != "kb_generated.yml"
)


@pytest.fixture(scope="module")
def training(nlu_examples):
    return [ex for p in TRAIN_FILES for ex in nlu_examples(p)]


def _norm(text: str) -> str:
    return " ".join(text.lower().split())


def test_every_domain_intent_has_enough_examples(training):
    domain_intents = set()
    for path in (ROOT / "domain").glob("*.yml"):
        domain_intents |= set(yaml.safe_load(path.read_text()).get("intents", []))
    # Retrieval intents (faq/<id>) count towards their base intent.
    counts = Counter(ex.intent.split("/", 1)[0] for ex in training)
    # nlu_fallback and red_flag are set by components (FallbackClassifier, the red-flag
    # detector), never learnt from examples.
    for intent in domain_intents - {"nlu_fallback", "red_flag"}:
        assert counts[intent] >= 25, (intent, counts[intent])
    assert sum(counts.values()) >= 600


def test_no_duplicate_examples(training):
    seen = Counter(_norm(ex.text) for ex in training)
    assert [t for t, n in seen.items() if n > 1] == []


def test_annotations_agree_with_the_knowledge_base(training):
    """Each annotated entity is what the knowledge-base matcher finds in that text."""
    m = matcher()
    wrong = []
    for ex in training:
        found = {(e.label, e.id) for e in m(ex.text)}
        missing = ex.entities - found
        if missing:
            wrong.append((ex.text, sorted(missing), sorted(found)))
    assert not wrong, "\n".join(map(str, wrong[:30]))


@pytest.mark.skipif(not EVAL_DIR.exists(), reason="external evaluation sets not present")
def test_nothing_is_copied_from_the_external_evaluation_sets(training, nlu_examples):
    external = set()
    for path in EVAL_DIR.glob("*.jsonl"):
        for line in path.read_text().splitlines():
            if line.strip():
                external.add(_norm(json.loads(line)["text"]))
    ours = [ex.text for ex in training] + [
        ex.text for ex in nlu_examples(ROOT / "tests" / "nlu_holdout.yml")
    ]
    copied = [t for t in ours if _norm(t) in external and len(t.split()) > 3]
    assert not copied, copied
