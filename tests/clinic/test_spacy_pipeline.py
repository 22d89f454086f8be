"""The spaCy pipeline built from the knowledge base: it is current, it finds every name and
synonym as its own entry, it tolerates typos, and it leaves ordinary sentences alone."""

from __future__ import annotations

import json

import pytest

from clinic.knowledge import load_knowledge
from clinic.nlp import (
    build_pipeline,
    load_pipeline,
    matcher,
    pipeline_dir,
    red_flag_patterns,
    ruler_patterns,
    term_variants,
)


def _patterns_key(patterns):
    return sorted(json.dumps(p, sort_keys=True) for p in patterns)


def test_saved_pipeline_matches_the_knowledge_base(kb):
    """The build output on disk is regenerated whenever knowledge/ changes (make kb)."""
    saved = load_pipeline()
    assert _patterns_key(saved.get_pipe("entity_ruler").patterns) == _patterns_key(
        ruler_patterns(kb)
    )
    assert _patterns_key(saved.get_pipe("red_flag_ruler").patterns) == _patterns_key(
        red_flag_patterns(kb)
    )
    meta = json.loads((pipeline_dir() / "meta.json").read_text())
    assert meta["name"] == "spine_kb"
    assert "vectors" not in meta or meta["vectors"].get("width", 0) == 0  # no trained weights


def _all_terms(kb):
    for label, entry in kb.entries():
        for term in entry.terms():
            yield label, entry.id, term


def test_every_name_and_synonym_is_found_as_its_entry(kb):
    m = matcher()
    missed = []
    for label, kb_id, term in _all_terms(kb):
        for variant in {term, term.lower(), term.upper(), *term_variants(term)}:
            found = [(e.label, e.id, e.text.lower()) for e in m(variant, fuzzy=False)]
            if (label, kb_id, variant.lower()) not in found:
                missed.append((variant, label, kb_id, found))
    assert not missed, missed[:20]


def test_synonyms_are_found_inside_sentences(kb):
    m = matcher()
    for label, kb_id, term in _all_terms(kb):
        sentence = f"Hello, could you tell me about {term} please?"
        assert (label, kb_id) in {(e.label, e.id) for e in m(sentence)}, (term, sentence)


def test_fresh_build_equals_saved_build(tmp_path):
    nlp = build_pipeline(load_knowledge())
    nlp.to_disk(tmp_path / "p")
    fresh = load_pipeline(str(tmp_path / "p"))
    text = "My slipped disc gives me pins and needles down my leg; would a traction table help?"
    assert [(e.label_, e.ent_id_) for e in fresh(text).ents] == [
        (e.label_, e.ent_id_) for e in load_pipeline()(text).ents
    ]


@pytest.mark.parametrize(
    "text, expected",
    [
        ("what causes sciatia", ("condition", "sciatica")),
        ("is a herniatd disc serious", ("condition", "herniated_disc")),
        ("I have spondylolisthisis", ("condition", "spondylolisthesis")),
        ("does decompresion therapy work", ("treatment", "spinal_decompression")),
        ("what is spinal stenosys", ("condition", "spinal_stenosis")),
        ("osteoarthritus in my spine", ("condition", "osteoarthritis")),
    ],
)
def test_typos_are_tolerated(text, expected):
    found = {(e.label, e.id) for e in matcher()(text)}
    assert expected in found, found


@pytest.mark.parametrize(
    "text",
    [
        "I took the train to the station this morning",
        "what are your opening hours on saturday",
        "can I pay by card",
        "my brain feels tired after work",
        "I walked the dog and went shopping",
        "thanks, that was helpful",
    ],
)
def test_ordinary_sentences_have_no_entities(text):
    assert matcher()(text) == []


def test_entities_carry_offsets_into_the_original_text():
    text = "Is a Slipped Disc the same as a BULGING DISK?"
    ents = matcher()(text)
    assert [(e.id, text[e.start : e.end]) for e in ents] == [
        ("herniated_disc", "Slipped Disc"),
        ("herniated_disc", "BULGING DISK"),
    ]


def test_project_command_rebuilds_only_when_the_knowledge_base_changes(tmp_path):
    """`make kb` runs the spaCy project command; a YAML edit is all a new synonym needs."""
    import shutil
    import subprocess
    import sys

    from tests.helpers import ROOT

    for part in ("knowledge", "clinic", "actions", "scripts"):
        shutil.copytree(ROOT / part, tmp_path / part, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "project.yml", tmp_path)

    def run_kb() -> str:
        out = subprocess.run(
            [sys.executable, "scripts/spacy_cli.py", "project", "run", "kb"],
            cwd=tmp_path,
            capture_output=True,
            text=True,
            check=True,
        )
        return out.stdout

    assert "Running command" in run_kb()
    assert "Skipping 'kb-pipeline': nothing changed" in run_kb()

    conditions = tmp_path / "knowledge" / "conditions.yml"
    conditions.write_text(
        conditions.read_text().replace(
            "      - lumbar radiculopathy\n",
            "      - lumbar radiculopathy\n      - zingy leg nerve\n",
            1,
        )
    )
    assert "Running command" in run_kb()
    rebuilt = load_pipeline(str(tmp_path / "build" / "spacy" / "spine_kb"))
    assert [(e.label_, e.ent_id_) for e in rebuilt("I have zingy leg nerve").ents] == [
        ("condition", "sciatica")
    ]
    assert "zingy leg nerve" in (tmp_path / "data" / "nlu" / "kb_generated.yml").read_text()
