"""The `make eval` scoring rules, on hand-made parses: rejection per tier, question types
through the mapping, condition recognition, red-flag overrides and the threshold sweep."""

from __future__ import annotations

import json

import pytest

from scripts.nlu_report import (
    EVAL_DIR,
    classifier_intent,
    external_scores,
    read_external,
    simulated,
    threshold_sweep,
)
from tests.helpers import ROOT


def parse(intent: str, confidence: float = 0.9, entities=(), ranking=None) -> dict:
    return {
        "intent": {"name": intent, "confidence": confidence},
        "intent_ranking": ranking or [{"name": intent, "confidence": confidence}],
        "entities": [{"entity": k, "value": v} for k, v in entities],
    }


def row(tier, label=None, focus=None, file="x.jsonl", **extra) -> dict:
    return {
        "tier": tier,
        "label": label,
        "focus": focus,
        "file": file,
        "text": "t",
        "repeat": False,
        **extra,
    }


def test_rejection_question_type_and_condition_recognition():
    rows = [
        row("in_domain", "causes", "Sciatica"),
        row("in_domain", "treatment", "Herniated disk"),
        row("in_domain", "information", "Piriformis syndrome"),  # no mapped condition
        row("out_of_scope"),
        row("out_of_scope"),
        row("in_domain", "causes", "Sciatica", repeat=True),  # a repeat: left out
    ]
    parses = [
        parse("ask_causes", entities=[("condition", "sciatica")]),
        parse("ask_treatment"),
        parse("nlu_fallback"),
        parse("out_of_scope"),
        parse("ask_causes"),
        parse("nlu_fallback"),
    ]
    scores = external_scores([dict(r) for r in rows], parses)
    assert scores["rejected"]["in_domain"]["hits"] == 1
    assert scores["rejected"]["in_domain"]["total"] == 3
    assert scores["rejected"]["out_of_scope"]["rate"] == 0.5
    assert scores["question_type_headline"]["hits"] == 2
    assert scores["question_type_headline"]["total"] == 3
    assert scores["condition_recognition"] == {"rate": 0.5, "hits": 1, "total": 2}


def test_out_of_scope_rows_sent_to_urgent_care_count_when_they_describe_a_red_flag():
    """Issue 19: a red-flag reply to an out-of-scope row is handled only where the row itself
    describes a red-flag sign, as reviewed by hand in scripts/nlu_report.yml."""
    rows = [
        row("out_of_scope", file="medical_speech_intent.jsonl", id=189),  # chest tightness
        row("out_of_scope", file="liveqa_med_trec2017_test.jsonl", id="TQ8"),  # a prescription
        row("out_of_scope", file="x.jsonl", id=1),  # not reviewed yet
        row("out_of_scope"),
    ]
    parses = [parse("red_flag"), parse("red_flag"), parse("red_flag"), parse("out_of_scope")]
    scores = external_scores([dict(r) for r in rows], parses)
    oos = scores["rejected"]["out_of_scope"]
    assert (oos["red_flag"], oos["red_flag_sign"], oos["red_flag_other"]) == (3, 1, 1)
    assert oos["red_flag_unreviewed"] == 1
    assert oos["hits"] == 1
    assert scores["out_of_scope_handled"] == {"rate": 0.5, "hits": 2, "total": 4}


def test_the_question_type_under_a_red_flag_override_is_the_classifiers():
    flagged = parse(
        "red_flag",
        1.0,
        ranking=[
            {"name": "red_flag", "confidence": 1.0},
            {"name": "ask_symptoms", "confidence": 0.7},
        ],
    )
    assert classifier_intent(flagged) == "ask_symptoms"


def test_simulated_fallback_follows_rasas_rule():
    p = parse(
        "ask_causes",
        0.55,
        ranking=[
            {"name": "nlu_fallback", "confidence": 0.6},
            {"name": "ask_causes", "confidence": 0.55},
            {"name": "ask_treatment", "confidence": 0.5},
        ],
    )
    assert simulated(p, 0.6, 0.0) == "nlu_fallback"
    assert simulated(p, 0.5, 0.0) == "ask_causes"
    assert simulated(p, 0.5, 0.1) == "nlu_fallback"  # too close to the runner-up


def test_threshold_sweep_prefers_the_safer_of_equal_choices():
    gold = ["ask_causes", "out_of_scope"]
    parses = [parse("ask_causes", 0.95), parse("ask_causes", 0.25)]
    best = threshold_sweep(gold, parses)["best"]
    assert best["accuracy"] == 1.0
    assert best["threshold"] == 0.8  # the highest threshold that still gets both right


@pytest.mark.skipif(not EVAL_DIR.is_dir(), reason=f"{EVAL_DIR} is not beside this checkout")
def test_every_external_file_is_read():
    rows = read_external(EVAL_DIR)
    files = {r["file"] for r in rows}
    assert files == {p.name for p in EVAL_DIR.glob("*.jsonl")}
    assert {r["tier"] for r in rows} >= {"in_domain", "out_of_scope"}
    assert sum(1 for r in rows if r["repeat"]) > 0


def test_mappings_name_real_intents_and_ids(kb):
    import yaml

    from scripts.nlu_report import MAPPINGS

    intents = set()
    for path in (ROOT / "domain").glob("*.yml"):
        intents |= set(yaml.safe_load(path.read_text()).get("intents") or [])
    for group in MAPPINGS["question_types"].values():
        for intent in group.values():
            if intent.startswith("faq/"):
                assert intent.split("/", 1)[1] in kb.faqs
            else:
                assert intent in intents, intent
    assert set(MAPPINGS["focus"]["condition"].values()) <= set(kb.conditions)
    assert set(MAPPINGS["focus"]["treatment"].values()) <= set(kb.treatments)
    json.dumps(MAPPINGS)  # plain data


def test_the_alternative_pipeline_differs_from_config_yml_only_by_the_encoder():
    """`make eval` compares two pipelines; any other difference would blur what it says.
    The encoder's featurizer, and the red-flag net that needs it, are the only ones."""
    import yaml

    kept = yaml.safe_load((ROOT / "config.yml").read_text())
    alternative = yaml.safe_load((ROOT / "configs" / "without_encoder.yml").read_text())
    encoder = "addons.sentence_features.SentenceEncoderFeaturizer"
    without_net = [
        {k: v for k, v in c.items() if k != "similar_phrasings"}
        for c in kept["pipeline"]
        if c["name"] != encoder
    ]
    assert without_net == alternative["pipeline"]
    assert sum(c["name"] == encoder for c in kept["pipeline"]) == 1
    net = {"name": "addons.red_flags.RedFlagDetector", "similar_phrasings": True}
    assert net in kept["pipeline"]
    assert alternative["policies"] == kept["policies"]
    assert {k: v for k, v in alternative.items() if k not in ("pipeline", "policies")} == {
        k: v for k, v in kept.items() if k not in ("pipeline", "policies")
    }


@pytest.mark.skipif(not EVAL_DIR.is_dir(), reason=f"no external sets at {EVAL_DIR}")
def test_the_reviewed_red_flag_replies_are_real_out_of_scope_rows():
    from scripts.nlu_report import MAPPINGS

    rows = {(r["file"], str(r.get("id"))): r["tier"] for r in read_external(EVAL_DIR)}
    for file, reviewed in MAPPINGS["red_flag_replies_reviewed"].items():
        for row_id, review in reviewed.items():
            assert rows.get((file, str(row_id))) == "out_of_scope", (file, row_id)
            assert isinstance(review["sign"], bool) and review["why"]
