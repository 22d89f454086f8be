"""Filling the answer templates of actions/answers.yml.

A module of its own so that every action module (answers, triage, booking...) can word its
replies without importing another action module.
"""

from __future__ import annotations

from typing import Any

from actions.knowledge import side_config


def wording() -> dict[str, Any]:
    return side_config("answers.yml")


def lower_first(text: str) -> str:
    """ "Herniated disc" -> "herniated disc" for mid-sentence use; acronyms stay ("LLLT")."""
    return text if text[1:2].isupper() else text[:1].lower() + text[1:]


def say(key: str, **fields: Any) -> str:
    """A template from answers.yml filled with `fields` (each also offered as `<field>_lower`)."""
    lowered = {f"{k}_lower": lower_first(v) for k, v in fields.items() if isinstance(v, str) and v}
    return wording()["templates"][key].format(**fields, **lowered)
