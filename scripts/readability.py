"""Plain-language check: the Flesch-Kincaid grade of every patient-facing passage.

    python scripts/readability.py [--max-grade 8] [--target 0.9] [--worst 15] [--out DIR]

A passage is one text a patient can be shown: each prose field of a knowledge-base entry
(a condition's summary, a treatment's evidence, a symptom's explanation...), each list field
read as one passage (a condition's causes), each FAQ answer with the clinic's facts filled
in, each red flag's reason, and each answer template of actions/wording.yml that carries
words of its own. Grades come from textstat (Flesch-Kincaid grade level, pyphen syllables).

Prints the share of passages at or below the grade limit, the median grade and the hardest
passages, and writes `readability.json` to --out when given. `make eval` runs it, and
tests/test_readability.py keeps the share at or above the target.
"""

from __future__ import annotations

import argparse
import json
import re
import statistics
import sys
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from clinic.knowledge import KnowledgeBase, load_knowledge, read_yaml
from clinic.knowledge.wording import render_faq
from clinic.paths import ROOT

MAX_GRADE = 8.0
TARGET_SHARE = 0.90
#: Template words a passage needs to count (the rest are wrappers like "{name}: {summary}").
MIN_TEMPLATE_WORDS = 8

PROSE_FIELDS = {
    "conditions.yml": (
        "summary",
        "name_note",
        "related_note",
        "assessment",
        "other_options",
        "outlook",
        "urgent",
    ),
    "symptoms.yml": ("explanation", "check_first"),
    "anatomy.yml": ("explanation", "back_pain", "leg_pain"),
    "treatments.yml": ("summary", "session", "suits", "not_for", "evidence"),
}
LIST_FIELDS = {"conditions.yml": ("causes", "symptoms")}


@dataclass(frozen=True)
class Passage:
    file: str
    entry: str
    field: str
    text: str

    @property
    def where(self) -> str:
        return f"{self.file} {self.entry}.{self.field}"


@dataclass(frozen=True)
class Scored:
    passage: Passage
    grade: float


def as_sentences(text: str) -> str:
    """Bullet lines and list items end with a full stop, so each counts as a sentence."""
    lines = [ln.strip().lstrip("•").strip() for ln in text.splitlines()]
    return " ".join(ln if ln[-1:] in ".!?:" else f"{ln}." for ln in lines if ln)


def _entries(kb: KnowledgeBase) -> list[tuple[str, Any]]:
    return [
        *(("conditions.yml", c) for c in kb.conditions.values()),
        *(("symptoms.yml", s) for s in kb.symptoms.values()),
        *(("anatomy.yml", b) for b in kb.body_parts.values()),
        *(("treatments.yml", t) for t in kb.treatments.values()),
    ]


def passages(kb: KnowledgeBase) -> list[Passage]:
    """Every patient-facing passage, in file order."""
    out: list[Passage] = []
    for file, entry in _entries(kb):
        for name in PROSE_FIELDS[file]:
            text = getattr(entry, name, None)
            if text:
                out.append(Passage(file, entry.id, name, text))
        for name in LIST_FIELDS.get(file, ()):
            items = getattr(entry, name)
            out.append(Passage(file, entry.id, name, " ".join(as_sentences(i) for i in items)))
        for link in getattr(entry, "linked_conditions", []):
            out.append(Passage(file, entry.id, f"why.{link.condition}", link.why))
    for faq in kb.faqs.values():
        out.append(Passage("faq.yml", faq.id, "answer", render_faq(kb, faq)))
    for flag in kb.red_flags.values():
        out.append(Passage("red_flags.yml", flag.id, "reason", flag.reason))
    for key, template in read_yaml(ROOT / "actions" / "wording.yml")["templates"].items():
        words = re.sub(r"\{[^}]*\}", " ", template)
        if len(words.split()) >= MIN_TEMPLATE_WORDS:
            out.append(Passage("wording.yml", "templates", key, " ".join(words.split())))
    return out


def grade(text: str) -> float:
    import textstat

    return float(textstat.flesch_kincaid_grade(as_sentences(text)))


def score(kb: KnowledgeBase) -> list[Scored]:
    return [Scored(p, grade(p.text)) for p in passages(kb)]


def summary(scored: list[Scored], max_grade: float = MAX_GRADE) -> dict:
    grades = [s.grade for s in scored]
    plain = sum(1 for g in grades if g <= max_grade)
    return {
        "passages": len(grades),
        "max_grade": max_grade,
        "at_or_below": plain,
        "share": round(plain / max(1, len(grades)), 3),
        "median_grade": round(statistics.median(grades), 1) if grades else None,
        "by_file": {
            file: {
                "passages": len(g := [s.grade for s in scored if s.passage.file == file]),
                "share": round(sum(1 for x in g if x <= max_grade) / len(g), 3),
            }
            for file in dict.fromkeys(s.passage.file for s in scored)
        },
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--max-grade", type=float, default=MAX_GRADE)
    parser.add_argument("--target", type=float, default=TARGET_SHARE)
    parser.add_argument("--worst", type=int, default=15, help="hardest passages to list")
    parser.add_argument("--out", type=Path, help="directory for readability.json")
    args = parser.parse_args(argv)

    scored = score(load_knowledge())
    result = summary(scored, args.max_grade)
    met = "met" if result["share"] >= args.target else "NOT met"
    print(
        f"readability: {result['at_or_below']}/{result['passages']} passages "
        f"({result['share']:.1%}) at Flesch-Kincaid grade <= {args.max_grade:g} "
        f"(target {args.target:.0%}: {met}); median grade {result['median_grade']}"
    )
    for file, row in result["by_file"].items():
        print(f"  {file:15} {row['share']:.1%} of {row['passages']}")
    hardest = sorted(scored, key=lambda s: -s.grade)[: args.worst]
    if hardest:
        print("hardest passages:")
        for s in hardest:
            print(f"  {s.grade:5.1f}  {s.passage.where}")
    if args.out:
        args.out.mkdir(parents=True, exist_ok=True)
        result["passages_scored"] = [
            {**asdict(s.passage), "grade": round(s.grade, 1)} for s in scored
        ]
        (args.out / "readability.json").write_text(json.dumps(result, indent=2) + "\n")
        print(f"-> {args.out / 'readability.json'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
