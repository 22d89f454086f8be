"""Filling templates (clinic/knowledge/wording.py): one function, one spelling per placeholder."""

from __future__ import annotations

import pytest

from clinic.knowledge.wording import clinic_fields, fill, hours_runs, hours_text, render_faq


def test_fill_offers_the_clinics_facts_and_the_callers_fields(kb):
    text = fill("Call {clinic_name} on {clinic_phone} about {name_lower}.", kb, name="Sciatica")
    assert text == f"Call {kb.clinic.name} on {kb.clinic.phone} about sciatica."


def test_the_callers_field_wins_over_a_clinic_fact(kb):
    assert fill("{clinic_name}", kb, clinic_name="Another clinic") == "Another clinic"


@pytest.mark.parametrize("old", ["{clinic}", "{phone}", "{address}", "{hours}", "{horizon}"])
def test_an_old_spelling_fails_loudly_instead_of_printing_braces(kb, old):
    with pytest.raises(KeyError):
        fill(f"Call {old}", kb)


def test_every_fact_a_template_may_use_is_built_in_one_place(kb):
    fields = clinic_fields(kb)
    assert fields["opening_hours"] == hours_text(kb.clinic.hours)
    assert fields["horizon_days"] == kb.clinic.booking.horizon_days
    assert fields["practice"].parking == kb.clinic.practice.parking
    assert clinic_fields(kb) is fields  # built once per knowledge base


def test_faq_answers_are_filled_by_the_same_function(kb):
    faq = kb.faqs["contact_phone"]
    assert render_faq(kb, faq) == fill(faq.answer, kb)
    assert kb.clinic.phone in render_faq(kb, faq)


def test_opening_hours_come_in_runs_of_equal_days(kb):
    runs = hours_runs(kb.clinic.hours)
    days = [run.first for run in runs]
    assert days[0] == "monday" and runs[-1].last == "sunday"
    assert hours_text(kb.clinic.hours).count(";") == len(runs) - 1
