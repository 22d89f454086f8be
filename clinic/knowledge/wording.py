"""Filling wording templates: the one way any text gets its {placeholders}.

Every template (answers, booking, forms, FAQs) can use the clinic's facts, spelt one way:
{clinic_name} {clinic_phone} {clinic_email} {clinic_address} {clinic_website}
{opening_hours} {emergency_number} {urgent_care} {crisis_line} {assistant_name}
{horizon_days} {practice.<field>}; the caller adds its own fields, and every string field
`x` is also offered as `x_lower` ("Herniated disc" -> "herniated disc") for mid-sentence use.
"""

from __future__ import annotations

import functools
import types
from collections.abc import Hashable
from dataclasses import dataclass
from typing import Any, Protocol

from clinic.knowledge.models import WEEKDAYS, Clinic, Faq, Hours


class HasClinic(Hashable, Protocol):
    """What the placeholders need of a knowledge base: its clinic (loading's KnowledgeBase)."""

    @property
    def clinic(self) -> Clinic: ...


def lower_first(text: str) -> str:
    """ "Herniated disc" -> "herniated disc" for mid-sentence use; acronyms stay ("LLLT")."""
    return text if text[1:2].isupper() else text[:1].lower() + text[1:]


@dataclass(frozen=True)
class HoursRun:
    """Consecutive weekdays with the same opening hours ("HH:MM-HH:MM" ranges; none: closed)."""

    first: str
    last: str
    ranges: tuple[str, ...]


def hours_runs(hours: Hours) -> list[HoursRun]:
    """The week as runs of days with equal hours: Monday-Thursday, Friday, Saturday, Sunday."""
    runs: list[HoursRun] = []
    for day in WEEKDAYS:
        ranges = tuple(getattr(hours, day))
        if runs and runs[-1].ranges == ranges:
            runs[-1] = HoursRun(runs[-1].first, day, ranges)
        else:
            runs.append(HoursRun(day, day, ranges))
    return runs


def hours_text(hours: Hours) -> str:
    """Opening hours in words, consecutive days with the same hours joined:
    "Monday to Thursday 8:00–12:00 and 13:00–18:00; Saturday 9:00–12:00; closed Sunday"."""
    parts = []
    for run in hours_runs(hours):
        days = run.first.title()
        if run.last != run.first:
            days += f" to {run.last.title()}"
        times = " and ".join(_unpadded(r.replace("-", "–")) for r in run.ranges)
        parts.append(f"{days} {times}" if times else f"closed {days}")
    return "; ".join(parts)


def _unpadded(text: str) -> str:
    return text.lstrip("0") if text[0] == "0" else text


@functools.lru_cache(maxsize=4)
def clinic_fields(kb: HasClinic) -> dict[str, Any]:
    """The clinic's facts by placeholder name: the only place they are built (once per
    knowledge base; callers copy, never change, the mapping)."""
    clinic = kb.clinic
    return {
        "clinic_name": clinic.name,
        "clinic_phone": clinic.phone,
        "clinic_email": clinic.email,
        "clinic_address": clinic.address,
        "clinic_website": clinic.website,
        "opening_hours": hours_text(clinic.hours),
        "emergency_number": clinic.emergency_number,
        "urgent_care": clinic.urgent_care,
        "crisis_line": clinic.crisis_line,
        "assistant_name": clinic.assistant_name,
        "horizon_days": clinic.booking.horizon_days,
        "practice": types.SimpleNamespace(**clinic.practice.dict()),
    }


def fill(template: str, kb: HasClinic, **fields: Any) -> str:
    """`template` with the clinic's facts and `fields` filled in (`fields` win)."""
    lowered = {f"{k}_lower": lower_first(v) for k, v in fields.items() if isinstance(v, str) and v}
    return template.format(**{**clinic_fields(kb), **fields, **lowered})


def render_faq(kb: HasClinic, faq: Faq) -> str:
    """The FAQ's answer with the clinic's facts filled in."""
    return fill(faq.answer, kb)
