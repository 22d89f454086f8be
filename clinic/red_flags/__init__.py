"""Red flags and symptom findings: detection (`detector`), context (`context`), results (`hits`).

Import from here; the submodules are the package's inside.
"""

from clinic.red_flags.context import annotator, context_of
from clinic.red_flags.detector import (
    advice_in,
    detect_red_flags,
    detect_signs,
    escalations,
    findings_in,
    red_flags_in,
    sign_mentions,
)
from clinic.red_flags.hits import (
    ADVICE_KEY,
    ADVICE_TIERS,
    COVERING_ROUTES,
    RED_FLAG_INTENT,
    RED_FLAG_TIERS,
    RED_FLAGS_KEY,
    ROUTE_ORDER,
    TIER_ORDER,
    TRIAGE_ACTION,
    Finding,
    Findings,
    RedFlagHit,
    ordered,
    split_signs,
    triage_level,
)

__all__ = [
    "ADVICE_KEY",
    "ADVICE_TIERS",
    "COVERING_ROUTES",
    "RED_FLAGS_KEY",
    "RED_FLAG_INTENT",
    "RED_FLAG_TIERS",
    "ROUTE_ORDER",
    "TIER_ORDER",
    "TRIAGE_ACTION",
    "Finding",
    "Findings",
    "RedFlagHit",
    "advice_in",
    "annotator",
    "context_of",
    "detect_red_flags",
    "detect_signs",
    "escalations",
    "findings_in",
    "ordered",
    "red_flags_in",
    "sign_mentions",
    "split_signs",
    "triage_level",
]
