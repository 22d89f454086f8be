"""Plain language: at least 90% of patient-facing passages at Flesch-Kincaid grade 8 or below
(scripts/readability.py, which `make eval` also runs)."""

from __future__ import annotations

from scripts.readability import MAX_GRADE, TARGET_SHARE, as_sentences, passages, score, summary


def test_most_passages_are_plain_language(kb):
    result = summary(score(kb))
    assert result["passages"] >= 300
    assert result["share"] >= TARGET_SHARE, sorted(
        (round(s.grade, 1), s.passage.where) for s in score(kb) if s.grade > MAX_GRADE
    )


def test_every_kind_of_patient_text_is_measured(kb):
    files = {p.file for p in passages(kb)}
    assert files == {
        "conditions.yml",
        "symptoms.yml",
        "anatomy.yml",
        "treatments.yml",
        "faq.yml",
        "red_flags.yml",
        "wording.yml",
    }
    where = {p.where for p in passages(kb)}
    assert "faq.yml pregnancy.answer" in where
    assert "red_flags.yml blood_clot.reason" in where
    assert "wording.yml templates.triage_emergency" in where


def test_list_items_and_bullets_count_as_sentences():
    assert as_sentences("• one thing\n• another thing") == "one thing. another thing."
    assert as_sentences("Call now:\n• a fever") == "Call now: a fever."
