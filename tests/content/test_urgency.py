"""One urgency per warning sign, across every patient-facing text.

Every passage a patient can be shown (knowledge/*.yml, the FAQ answers, the red-flag
reasons, the templates of actions/wording.yml, as listed by scripts/readability.py; plus
the domain's responses and the other wording files next to the actions) is read with the
red-flag matcher. Wherever a text names a warning sign, the urgency words
nearest to it in the same sentence (or the header of the list it is in) must be the ones its
flag's route in knowledge/red_flags.yml stands for: a foot that drags is an emergency in
every file, a fever same-day care, back pain late in pregnancy the maternity team.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import pytest
import yaml

from scripts.readability import Passage, passages
from tests.helpers import ROOT, leaves

#: Wording files beside the code, besides actions/wording.yml (read by scripts/readability.py).
WORDING_FILES = (
    "actions/forms.yml",
    "actions/booking/booking.yml",
    "actions/knowledge_answers/topics.yml",
    "actions/knowledge_answers/answers.yml",
    "actions/records/handoff.yml",
    "actions/triage/questions.yml",
    "clinic/intake/intake.yml",
)

#: The words that say how urgent something is, by route.
CUES = {
    "emergency": (
        r"\bemergency\b|\{emergency_number\}|\b911\b|\b999\b|\b112\b|\bA&E\b|\bambulance\b"
    ),
    "maternity": r"\bmidwife\b|\bmaternity\b",
    "same_day": r"\bsame[- ]day\b|\btoday\b|\burgent care\b|\burgent appointment\b",
    "see_doctor": r"\bsoon\b",
}
CUE_RE = re.compile("|".join(f"(?P<{name}>{rx})" for name, rx in CUES.items()), re.IGNORECASE)


@dataclass(frozen=True)
class Clause:
    where: str
    text: str
    header_cue: str | None  # the urgency of the list header a bullet belongs to


def clauses(where: str, text: str) -> list[Clause]:
    """Sentences (and list bullets, which take their header's urgency)."""
    out: list[Clause] = []
    header: str | None = None
    for line in text.splitlines():
        line = line.strip()
        if not line:
            continue
        if line.startswith("•"):
            out.append(Clause(where, line.lstrip("• "), header))
            continue
        header = None
        for sentence in re.split(r"(?<=[.!?])\s+", line):
            out.append(Clause(where, sentence, None))
        if line.endswith(":"):
            cues = [m.lastgroup for m in CUE_RE.finditer(line)]
            header = cues[0] if cues else None
    return out


def nearest_cue(clause: Clause, start: int, end: int) -> str | None:
    """The urgency named closest to the sign in its sentence; for a bullet without urgency
    words of its own, its list header's."""
    best: tuple[int, str] | None = None
    for m in CUE_RE.finditer(clause.text):
        distance = max(0, m.start() - end, start - m.end())
        if best is None or distance < best[0]:
            best = (distance, m.lastgroup)
    return best[1] if best else clause.header_cue


def other_texts() -> list[Passage]:
    """The domain's responses and the wording files beside the actions."""
    out = []
    for path in sorted((ROOT / "domain").glob("*.yml")):
        if path.name == "faq_generated.yml":  # the FAQ answers, read from knowledge/faq.yml
            continue
        responses = (yaml.safe_load(path.read_text()) or {}).get("responses") or {}
        for where, text in leaves(responses, "responses"):
            if isinstance(text, str):
                out.append(
                    Passage(f"domain/{path.name}", where.removesuffix(".text"), "text", text)
                )
    for name in WORDING_FILES:
        data = yaml.safe_load((ROOT / name).read_text())
        for where, text in leaves(data, name.rsplit("/", 1)[-1].removesuffix(".yml")):
            if isinstance(text, str):
                out.append(Passage(name, where, "text", text))
    return out


@pytest.fixture(scope="module")
def mentions(kb):
    """(clause, flag id, sign words, urgency found) for every sign any text names."""
    from clinic.red_flags import sign_mentions

    out = []
    for p in [*passages(kb), *other_texts()]:
        for clause in clauses(p.where, p.text):
            for flag_id, start, end in sign_mentions(clause.text, kb):
                cue = nearest_cue(clause, start, end)
                out.append((clause, flag_id, clause.text[start:end], cue))
    return out


def test_every_sign_has_one_urgency_across_all_files(kb, mentions):
    wrong = [
        f"{clause.where}: {words!r} is {kb.red_flags[flag_id].route} ({flag_id}) but the "
        f"text says {cue}: {clause.text!r}"
        for clause, flag_id, words, cue in mentions
        if cue is not None
        and kb.red_flags[flag_id].route != "crisis"
        and cue != kb.red_flags[flag_id].route
    ]
    assert not wrong, "\n".join(wrong)


def test_the_check_reads_the_signs_the_texts_give_advice_on(mentions):
    """The check is not vacuous: the signs the texts give urgent advice on are recognised,
    with their urgency, in the passages the clinical review named."""
    seen = {(clause.where, flag_id) for clause, flag_id, _, cue in mentions if cue}
    flags = {flag_id for _, flag_id in seen}
    assert flags >= {
        "saddle_numbness",
        "bladder_bowel",
        "bilateral_legs",
        "progressive_weakness",
        "chest_pain",
        "night_pain",
        "fever_infection",
        "weight_loss",
        "blood_clot",
        "blood_clot_lungs",
        "pregnancy_back_pain",
    }
    for where in (
        "symptoms.yml weakness.check_first",
        "conditions.yml spondylolisthesis.urgent",
        "conditions.yml osteoarthritis.urgent",
        "faq.yml driving.answer",
    ):
        assert (where, "progressive_weakness") in seen, where
    assert ("domain/general.yml responses.utter_greet[0].text", "bilateral_legs") in seen


def test_night_pain_is_either_sign_not_both(kb):
    """The NHS lists pain that is worse at night OR does not ease with rest; no text may ask
    for both before advising a doctor."""
    both = re.compile(r"worse at night and (does not|doesn't) ease", re.IGNORECASE)
    assert not [p.where for p in passages(kb) if both.search(p.text)]


def test_advice_to_see_a_doctor_soon_reaches_the_texts_that_raise_it(kb):
    """New back pain after 50, and inflammatory back pain, are named with a doctor's check
    'soon' where patients ask about them."""
    answer = {p.where: p.text for p in passages(kb)}
    assert re.search(r"after 50.*soon|soon.*after 50", answer["faq.yml when_to_see_doctor.answer"])
    for where in (
        "conditions.yml inflammatory_back_pain.urgent",
        "symptoms.yml stiffness.check_first",
        "red_flags.yml inflammatory_conditions.reason",
        "red_flags.yml age_new_pain.reason",
    ):
        assert re.search(r"\bsoon\b", answer[where]), where
