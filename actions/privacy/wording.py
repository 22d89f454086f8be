"""privacy.yml's wording, filled the one way every reply is (clinic.knowledge.wording.fill)."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Tracker

from actions.chat import bullets
from clinic.knowledge import knowledge, side_yaml
from clinic.knowledge.wording import fill


def text(key: str, **fields: Any) -> str:
    """The privacy.yml wording `key`, filled with the clinic's facts and `fields`."""
    return fill(side_yaml(__file__, "privacy.yml")[key], knowledge(), **fields)


def listed(intro_key: str, items: list[str], **fields: Any) -> str:
    """A reply whose `{items}` are bullet points."""
    return text(intro_key, items=bullets(items), **fields)


def messages(tracker: Tracker) -> str:
    """ "3 messages": what the person has written in this conversation."""
    count = sum(1 for event in tracker.events if event.get("event") == "user")
    return f"{count} message" + ("" if count == 1 else "s")


def bookings_count(count: int) -> str:
    return "your booking" if count == 1 else f"your {count} bookings"
