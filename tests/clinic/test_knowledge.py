"""Knowledge-base integrity: the ids the rest of the assistant relies on, every field filled,
every reference resolvable, every source defined, and errors that name file and entry."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml

from clinic.knowledge import KnowledgeBaseError, Treatment, load_knowledge
from tests.helpers import CONDITION_IDS, ROOT

KNOWLEDGE = ROOT / "knowledge"

#: The clinic page's conditions, plus inflammatory back pain (added by the clinical review so
#: that "ankylosing spondylitis" or "rheumatoid arthritis" never gets the osteoarthritis page).
CONDITIONS = {*CONDITION_IDS, "inflammatory_back_pain"}
TREATMENTS = {
    "spinal_decompression",
    "spinal_manipulation",
    "physical_conditioning",
    "cold_laser",
    "heat_ice",
    "staying_active",
}
#: Every symptom on the clinic page, plus tingling, numbness and weakness.
CLINIC_PAGE_SYMPTOMS = {
    "persistent_aching",
    "stiffness",
    "sharp_pain",
    "pain_after_lifting",
    "ache_after_sitting_standing",
    "radiating_pain",
    "pain_down_leg",
    "cannot_stand_straight",
    "muscle_spasms",
    "pain_cough_bend",
    "tingling",
    "numbness",
    "weakness",
}
#: The parts of the back the clinic page names: soft tissue, nerves, joints, discs.
STRUCTURES = {"soft_tissues", "nerve_roots", "facet_joints", "discs"}

CHAT_LIMIT = 450  # characters in one knowledge-base text field
#: Who should not have a treatment: a safety list that must be complete (still one bubble).
LIST_LIMIT = 600


def test_condition_ids_are_exactly_the_contract(kb):
    assert set(kb.conditions) == CONDITIONS


def test_required_treatments_exist(kb):
    assert TREATMENTS <= set(kb.treatments)
    assert all(kb.treatments[t].offered for t in TREATMENTS - {"heat_ice", "staying_active"})
    assert {kb.treatments[t].kind for t in ("heat_ice", "staying_active")} == {"self_care"}


def test_clinic_page_symptoms_and_anatomy_are_covered(kb):
    assert CLINIC_PAGE_SYMPTOMS <= set(kb.symptoms)
    assert STRUCTURES <= set(kb.structures)


def _text_fields(entry):
    for name, value in entry:
        if name in ("id", "sources", "synonyms", "patterns"):
            continue
        if isinstance(value, str):
            yield name, value
        elif isinstance(value, list) and value and isinstance(value[0], str):
            for item in value:
                yield name, item


@pytest.mark.parametrize("kind", ["conditions", "symptoms", "structures", "regions", "treatments"])
def test_every_entry_has_every_field_and_a_source(kb, kind):
    for entry in getattr(kb, kind).values():
        assert entry.sources, f"{kind} {entry.id} names no source"
        if kind in ("conditions", "treatments"):
            assert entry.synonyms, f"{kind} {entry.id} lists no words patients use for it"
        for field, value in entry:
            if field in (
                "name_note",
                "check_first",
                "patterns",
                "conditions",
                "synonyms",
                "related_terms",
                "related_note",
            ):
                continue  # optional by design
            assert value not in (None, "", []), f"{kind} {entry.id}: {field} is empty"
        for field, text in _text_fields(entry):
            limit = LIST_LIMIT if field == "not_for" else CHAT_LIMIT
            assert len(text) <= limit, f"{kind} {entry.id}: {field} too long for a chat"


def test_every_reference_resolves(kb):
    for c in kb.conditions.values():
        assert set(c.treatments) <= set(kb.treatments)
    for s in kb.symptoms.values():
        assert {link.condition for link in s.linked_conditions} <= set(kb.conditions)
    for e in [*kb.structures.values(), *kb.treatments.values()]:
        assert set(e.conditions) <= set(kb.conditions)
    cited = {src for _, e in kb.entries() for src in e.sources}
    cited |= {src for flag in kb.red_flags.values() for src in flag.sources}
    cited |= {src for faq in kb.faqs.values() for src in faq.sources if src != "clinic"}
    assert cited <= set(kb.sources)
    assert set(kb.sources) <= cited, f"sources nobody cites: {set(kb.sources) - cited}"


def test_each_condition_is_linked_from_some_symptom_and_treats_something(kb):
    linked = {ln.condition for s in kb.symptoms.values() for ln in s.linked_conditions}
    assert linked == set(kb.conditions)
    offered = {t.id for t in kb.treatments.values() if t.offered}
    assert all(set(c.treatments) & (offered | TREATMENTS) for c in kb.conditions.values())


def test_weak_evidence_is_said_plainly(kb):
    """Table decompression and cold laser must not be oversold."""
    assert kb.treatments["spinal_decompression"].evidence_level in ("weak", "not_recommended")
    assert kb.treatments["cold_laser"].evidence_level in ("weak", "not_recommended")
    laser = kb.treatments["cold_laser"].evidence.lower()
    assert "inflammation" not in laser or "not" in laser


def test_clinic_is_a_marked_example(kb):
    assert kb.clinic.example is True
    assert "example" in (KNOWLEDGE / "clinic.yml").read_text().lower()
    assert kb.clinic.emergency_number


def test_leg_pain_explanations_exist(kb):
    for sid in STRUCTURES:
        s = kb.structures[sid]
        assert s.back_pain and s.leg_pain


# --- validation errors name the file and the entry -----------------------------------------


@pytest.fixture
def kb_copy(tmp_path):
    target = tmp_path / "knowledge"
    shutil.copytree(KNOWLEDGE, target)
    return target


def _edit(path: Path, fn):
    data = yaml.safe_load(path.read_text())
    fn(data)
    path.write_text(yaml.safe_dump(data, sort_keys=False, allow_unicode=True))


def test_missing_field_names_file_and_entry(kb_copy):
    _edit(kb_copy / "conditions.yml", lambda d: d["conditions"][2].pop("causes"))
    broken = yaml.safe_load((kb_copy / "conditions.yml").read_text())["conditions"][2]["id"]
    with pytest.raises(KnowledgeBaseError) as err:
        load_knowledge(kb_copy)
    assert "conditions.yml" in str(err.value)
    assert f"'{broken}'" in str(err.value)
    assert "causes" in str(err.value)


def test_unknown_reference_names_file_and_entry(kb_copy):
    _edit(
        kb_copy / "symptoms.yml",
        lambda d: d["symptoms"][0]["linked_conditions"].append(
            {"condition": "no_such_condition", "why": "x"}
        ),
    )
    with pytest.raises(
        KnowledgeBaseError, match=r"symptoms\.yml: symptoms entry '.+'.*no_such_condition"
    ):
        load_knowledge(kb_copy)


def test_unknown_source_is_rejected(kb_copy):
    _edit(kb_copy / "treatments.yml", lambda d: d["treatments"][0]["sources"].append("NOPE-1"))
    with pytest.raises(KnowledgeBaseError, match=r"treatments\.yml: treatments entry .*NOPE-1"):
        load_knowledge(kb_copy)


def test_a_phrase_cannot_mean_two_things(kb_copy):
    def clash(data):
        data["conditions"][0]["synonyms"].append(data["conditions"][1]["name"])

    _edit(kb_copy / "conditions.yml", clash)
    with pytest.raises(KnowledgeBaseError, match="belongs to both"):
        load_knowledge(kb_copy)


def test_bad_yaml_and_bad_id_are_reported(kb_copy):
    (kb_copy / "treatments.yml").write_text("treatments: [unclosed\n")
    with pytest.raises(KnowledgeBaseError, match=r"treatments\.yml: not valid YAML"):
        load_knowledge(kb_copy)
    shutil.copy(KNOWLEDGE / "treatments.yml", kb_copy / "treatments.yml")
    _edit(kb_copy / "anatomy.yml", lambda d: d["regions"][0].update(id="Lower Back"))
    with pytest.raises(KnowledgeBaseError, match=r"anatomy\.yml: regions entry 'Lower Back'.*id"):
        load_knowledge(kb_copy)


def test_clinic_errors_are_named(kb_copy):
    _edit(kb_copy / "clinic.yml", lambda d: d["clinic"]["hours"].update(monday=["18:00-09:00"]))
    with pytest.raises(KnowledgeBaseError, match=r"clinic\.yml: clinic: hours.monday"):
        load_knowledge(kb_copy)


def test_models_reject_unknown_fields():
    with pytest.raises(Exception, match="extra fields not permitted"):
        Treatment(
            id="x",
            name="X",
            sources=["a"],
            kind="in_clinic",
            offered=True,
            summary="s",
            session="s",
            suits="s",
            not_for="s",
            evidence="e",
            evidence_level="weak",
            colour="red",
        )


def test_related_terms_come_with_their_note(kb_copy):
    """A word recognised as a condition but not another name for it needs the explanation."""
    _edit(kb_copy / "conditions.yml", lambda d: d["conditions"][0].pop("related_note"))
    with pytest.raises(
        KnowledgeBaseError, match=r"conditions\.yml: conditions entry 'herniated_disc'"
    ):
        load_knowledge(kb_copy)


def test_advice_tier_and_route_go_together(kb_copy):
    def mismatch(data):
        flag = next(f for f in data["red_flags"] if f["id"] == "age_new_pain")
        flag["route"] = "same_day"

    _edit(kb_copy / "red_flags.yml", mismatch)
    with pytest.raises(KnowledgeBaseError, match=r"red_flags\.yml: red_flags entry 'age_new_pain'"):
        load_knowledge(kb_copy)


def test_a_bulge_is_not_another_name_for_a_herniation(kb):
    """Standard nomenclature (Fardon 2014): recognised as the disc problem, but explained as
    something different, never listed as a synonym."""
    disc = kb.conditions["herniated_disc"]
    assert "bulging disc" in disc.related_terms
    assert not {"bulging disc", "disc bulge"} & {s.lower() for s in disc.synonyms}
    assert "bulging" not in (disc.name_note or "").lower()


def test_the_review_corrections_hold(kb):
    """The content review's corrections (docs/clinical-review.md), as plain checks."""
    stenosis = kb.conditions["spinal_stenosis"]
    assert "7 in 10" in stenosis.outlook and "JOHNSSON1992" in stenosis.sources
    assert "central" in stenosis.other_options
    assert "osteoarthritis" not in kb.treatments["spinal_injections"].conditions
    assert "spinal_injections" not in kb.conditions["osteoarthritis"].treatments
    assert "muscle relaxant" not in kb.conditions["herniated_disc"].other_options
    assert "disability" in kb.treatments["heat_ice"].evidence
    assert "stiffness" not in kb.treatments["heat_ice"].evidence
    prevention = kb.faqs["prevention"].answer.lower()
    assert "lift" in prevention and "not been shown" in prevention
    assert {"STEFFENS2016", "VERBEEK2011"} <= set(kb.faqs["prevention"].sources)
    for text in (
        kb.treatments["cold_laser"].evidence,
        kb.treatments["heat_ice"].suits,
        kb.faqs["other_therapies"].answer,
    ):
        assert "US guidance lists" not in text
        assert "2017" in text and "five-year review" in text
    manipulation = kb.treatments["spinal_manipulation"].not_for.lower()
    for contraindication in ("osteoporosis", "steroid", "spine surgery", "ankylosing", "pregnan"):
        assert contraindication in manipulation, contraindication
    assert "severe osteoporosis" not in manipulation
    decompression = kb.treatments["spinal_decompression"].not_for.lower()
    for contraindication in ("pregnan", "fracture", "aneurysm", "weaker"):
        assert contraindication in decompression, contraindication
    laser = kb.treatments["cold_laser"].not_for.lower()
    for contraindication in ("eyes", "cancer", "pregnan"):
        assert contraindication in laser, contraindication


def test_leg_texts_do_not_hide_other_causes(kb):
    """No text reassures that "the leg itself" is fine; joints, circulation and clots are
    named where people ask about the hip, knee, calf and foot."""
    from scripts.readability import passages

    assert not [p.where for p in passages(kb) if "leg itself is" in p.text.lower()]
    assert "hip joint itself" in kb.regions["hip"].explanation
    assert "knee itself" in kb.regions["knee"].explanation
    assert "blood clot" in kb.regions["calf"].explanation
    assert "blood flow" in kb.regions["calf"].explanation
    assert "foot or ankle itself" in kb.regions["foot"].explanation


def test_an_escalation_must_say_what_completes_it(kb_copy):
    def no_needs(data):
        flag = next(f for f in data["red_flags"] if f["id"] == "blood_clot_lungs")
        flag.pop("needs")

    _edit(kb_copy / "red_flags.yml", no_needs)
    with pytest.raises(KnowledgeBaseError, match=r"'blood_clot_lungs'.*escalates needs"):
        load_knowledge(kb_copy)
