"""Chat helpers every action uses: bubbles, buttons, payloads and the templates' wording.

`say` is the actions' one way to word a reply: a template from wording.yml (beside this
module) filled by `clinic.knowledge.wording.fill`, which adds the clinic's facts.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from rasa_sdk import Tracker

from clinic.knowledge import knowledge, side_yaml
from clinic.knowledge.wording import fill

Message = dict[str, Any]

#: Yes / No buttons for a confirmation question.
YES_NO = [{"title": "Yes", "payload": "/affirm"}, {"title": "No", "payload": "/deny"}]


def wording() -> dict[str, Any]:
    """wording.yml: the reply templates and the shared buttons."""
    return side_yaml(__file__, "wording.yml")


def say(key: str, **fields: Any) -> str:
    """The template `key` of wording.yml filled with the clinic's facts and `fields`."""
    return fill(wording()["templates"][key], knowledge(), **fields)


def bubble(text: str, buttons: list[dict[str, str]] | None = None) -> Message:
    return {"text": text, "buttons": buttons or []}


def bullets(items: Sequence[str]) -> str:
    return "\n".join(say("bullet", text=item) for item in items)


def payload(intent: str, **entities: str) -> str:
    """A button payload that triggers `intent` with entities, bypassing NLU."""
    return f"/{intent}{json.dumps(entities)}" if entities else f"/{intent}"


def button(title: str, intent: str, **entities: str) -> dict[str, str]:
    return {"title": title, "payload": payload(intent, **entities)}


def book_button() -> dict[str, str]:
    return dict(wording()["book_button"])


def slot_before_latest_message(tracker: Tracker, name: str) -> Any:
    """A slot's value as it was when the person's latest message arrived (entities in that
    message may have changed it since)."""
    value = before = None
    for event in tracker.events:
        if event.get("event") == "user":
            before = value
        elif event.get("event") == "slot" and event.get("name") == name:
            value = event.get("value")
    return before
