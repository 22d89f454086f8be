"""What red-flag detection reports: the hits, the findings, and the tiers and routes.

Shared by the Rasa NLU component (addons/red_flags.py), the triage policy, the actions and
the evaluation script, so a message is judged and routed the same way everywhere.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from clinic.knowledge import SYMPTOM

RED_FLAG_INTENT = "red_flag"  # the intent addons/red_flags.py sets
RED_FLAGS_KEY = "red_flags"  # where the hits go in the parse result
TRIAGE_ACTION = "action_triage_red_flag"

ROUTE_ORDER = {"crisis": 0, "emergency": 1, "maternity": 2, "same_day": 3, "see_doctor": 4}
TIER_ORDER = {"emergency": 0, "urgent": 1, "routine": 2}
#: Tiers that make a red flag (the triage answer replaces any other flow); `soon` is advice.
RED_FLAG_TIERS = frozenset({"emergency", "urgent"})
ADVICE_TIERS = frozenset({"soon"})
ADVICE_KEY = "advice"  # where advice hits (tier soon) go in the parse result
#: Routes whose answer already covers the same-day signs: those are named, not repeated.
COVERING_ROUTES = ("emergency", "maternity")


@dataclass(frozen=True)
class RedFlagHit:
    """A red flag the person reports about themselves."""

    id: str
    tier: str
    route: str
    text: str
    start: int
    end: int

    def as_dict(self) -> dict:
        return {
            "id": self.id,
            "tier": self.tier,
            "route": self.route,
            "text": self.text,
            "start": self.start,
            "end": self.end,
        }


@dataclass(frozen=True)
class Finding:
    """A knowledge-base symptom or body part, and whether it really applies to the person."""

    label: str
    id: str
    text: str
    start: int
    negated: bool = False
    other_person: bool = False
    hypothetical: bool = False
    historical: bool = False

    @property
    def present(self) -> bool:
        return not (self.negated or self.other_person or self.hypothetical or self.historical)


@dataclass
class Findings:
    """What a described problem contains, each item checked for negation and context."""

    symptoms: list[Finding] = field(default_factory=list)
    body_parts: list[Finding] = field(default_factory=list)

    def present(self, label: str) -> list[str]:
        items = self.symptoms if label == SYMPTOM else self.body_parts
        return list(dict.fromkeys(f.id for f in items if f.present))

    def absent(self, label: str) -> list[str]:
        items = self.symptoms if label == SYMPTOM else self.body_parts
        return list(dict.fromkeys(f.id for f in items if f.negated))


def ordered(hits: Iterable[RedFlagHit]) -> list[RedFlagHit]:
    """Most urgent route first, then in text order."""
    return sorted(hits, key=lambda h: (ROUTE_ORDER[h.route], h.start))


def split_signs(hits: list[RedFlagHit]) -> tuple[list[RedFlagHit], list[RedFlagHit]]:
    """(red flags, advice): what replaces the normal answer, and what is added to it."""
    flags = [h for h in hits if h.tier in RED_FLAG_TIERS]
    return flags, [h for h in hits if h.tier not in RED_FLAG_TIERS]


def triage_level(hits: list[RedFlagHit]) -> str:
    tiers = [h.tier for h in hits if h.tier in RED_FLAG_TIERS]
    return min(tiers, key=TIER_ORDER.__getitem__, default="routine")
