"""Booking answers that are not contact details: new or returning patient, booking reference."""

from __future__ import annotations

import re

__all__ = ["REFERENCE_ALPHABET", "REFERENCE_RE", "parse_patient_type", "parse_reference"]

_RETURNING_NEGATED_NEW_RE = re.compile(
    r"\b(not (my|the|a) first|not new|isn'?t my first|no(t)? longer new)\b"
)
_NEW_NEGATED_RETURNING_RE = re.compile(
    r"\b(never (been|visited|seen|came|come|had)|(haven'?t|have not|hasn'?t|not) (been|visited|"
    r"seen|come)|not (a|an existing|yet a) patient|not existing)\b"
)
_RETURNING_RE = re.compile(
    r"\b(been (there|here|in|to|before|seen)|returning|existing|return(ing)? patient|"
    r"(came|come|visited|seen) (before|there|you|here)|i'?ve been|i have been|been before|"
    r"before|last (year|month|time|week)|again|regular|follow[- ]?up|current patient|"
    r"already (a )?patient|already (been|seen))\b"
)
_NEW_RE = re.compile(r"\b(first (time|visit|appointment)|new|first)\b")


def parse_patient_type(text: str) -> str | None:
    """'new' or 'returning' from the answer to 'have you been to us before?'.

    A bare 'yes' or 'no' is None: which one it means depends on how the question was put.
    """
    text = " ".join(text.lower().replace("’", "'").split())
    if _RETURNING_NEGATED_NEW_RE.search(text):
        return "returning"
    if _NEW_NEGATED_RETURNING_RE.search(text):
        return "new"
    if _RETURNING_RE.search(text):
        return "returning"
    if _NEW_RE.search(text):
        return "new"
    return None


REFERENCE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
#: A canonical booking reference, e.g. 'BK-7K2Q9M' (use .fullmatch to validate one).
REFERENCE_RE = re.compile(r"BK-[A-HJ-NP-Z2-9]{6}")
_REFERENCE_IN_TEXT_RE = re.compile(
    r"(?<![a-z0-9])bk[\s\-_:#]*((?:[a-hj-np-z2-9][\s-]?){5}[a-hj-np-z2-9])(?![a-z0-9])",
    re.IGNORECASE,
)


def parse_reference(text: str) -> str | None:
    """The booking reference in `text` in canonical form ('bk 7k2q9m' -> 'BK-7K2Q9M')."""
    match = _REFERENCE_IN_TEXT_RE.search(text)
    if not match:
        return None
    code = re.sub(r"[\s-]", "", match.group(1)).upper()
    return f"BK-{code}"
