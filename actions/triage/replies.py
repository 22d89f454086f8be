"""The triage reply: what to do now, most urgent first, in the clinic's words.

Reads the signs the NLU component attached to the parse (or detects them afresh for a
hand-typed payload) and words the crisis, emergency, maternity, same-day and see-a-doctor
answers from answers.yml.
"""

from __future__ import annotations

from typing import Any

from actions.chat import say
from clinic.knowledge import KnowledgeBase, knowledge
from clinic.red_flags import (
    ADVICE_KEY,
    ADVICE_TIERS,
    COVERING_ROUTES,
    RED_FLAG_TIERS,
    RED_FLAGS_KEY,
    RedFlagHit,
    advice_in,
    ordered,
    red_flags_in,
    split_signs,
)


def _parsed_hits(message: dict[str, Any], key: str, tiers) -> list[RedFlagHit]:
    """The hits the NLU component stored under `key`, for flags of `tiers` only (a parse is
    the user's to type: "/red_flag{...}" can carry anything)."""
    kb = knowledge()
    hits = []
    for raw in message.get(key) or []:
        flag = kb.red_flags.get(str(raw.get("id")))
        if flag is not None and flag.tier in tiers:
            hits.append(
                RedFlagHit(
                    flag.id,
                    flag.tier,
                    flag.route,
                    str(raw.get("text", "")),
                    int(raw.get("start") or 0),
                    int(raw.get("end") or 0),
                )
            )
    return hits


def _typed(message: dict[str, Any]) -> str:
    """The message's text when a person typed it (not a button payload)."""
    text = message.get("text") or ""
    return "" if text.startswith("/") else text


def hits_from_parse(message: dict[str, Any]) -> list[RedFlagHit]:
    """The red flags the NLU component attached to a message, or a fresh detection on its
    text (a hand-typed "/red_flag" payload carries none)."""
    hits = _parsed_hits(message, RED_FLAGS_KEY, RED_FLAG_TIERS)
    text = _typed(message)
    if not hits and text:
        hits = red_flags_in(text)
    return ordered(hits)


def triage_reply(hits: list[RedFlagHit], kb: KnowledgeBase | None = None) -> list[str]:
    """What to do now, most urgent first: crisis line, emergency number or same-day care.
    Never a routine booking."""
    kb = kb or knowledge()
    if not hits:
        return [say("triage_unclear")]
    messages = []
    flags, advice = split_signs(hits)
    covered = False
    for route in ("crisis", "emergency", "maternity", "same_day"):
        routed = [h for h in flags if h.route == route]
        if not routed:
            continue
        flag = kb.red_flags[routed[0].id]
        text = say(f"triage_{route}", reason=flag.reason)
        others = [kb.red_flags[h.id].name for h in routed[1:]]
        if route in COVERING_ROUTES:
            # this answer already covers the less urgent ones: name them only
            others += [kb.red_flags[h.id].name for h in flags if h.route == "same_day"]
        if others:
            text += " " + say("triage_also", names="; ".join(others).lower())
        messages.append(text)
        if route in COVERING_ROUTES:
            covered = True
            break
    if not covered:
        messages += advice_texts(advice, kb)
    messages.append(say("triage_after"))
    return messages


def advice_texts(hits: list[RedFlagHit], kb: KnowledgeBase | None = None) -> list[str]:
    """The see-a-doctor-soon notes for advice hits, one per flag."""
    kb = kb or knowledge()
    return [
        say("triage_see_doctor", reason=kb.red_flags[h.id].reason)
        for h in hits
        if h.id in kb.red_flags and h.tier not in RED_FLAG_TIERS
    ]


def advice_from_parse(message: dict[str, Any]) -> list[RedFlagHit]:
    """The advice hits the NLU component attached to a message, or a fresh detection on its
    text when the parse carries none (an older model, or a test's hand-made tracker)."""
    if ADVICE_KEY in message:
        return _parsed_hits(message, ADVICE_KEY, ADVICE_TIERS)
    text = _typed(message)
    return advice_in(text) if text else []


def advice_messages(message: dict[str, Any]) -> list[str]:
    """See-a-doctor-soon notes for the latest message (added to any normal answer)."""
    return advice_texts(advice_from_parse(message))


def add_advice(messages: list[dict[str, Any]], message: dict[str, Any]) -> list[dict[str, Any]]:
    """`messages` with the latest message's see-a-doctor-soon notes added, before the last
    bubble when that one carries the buttons (so the buttons stay at the end)."""
    notes = [{"text": text, "buttons": []} for text in advice_messages(message)]
    if not notes:
        return messages
    at = len(messages) - 1 if messages and messages[-1].get("buttons") else len(messages)
    return [*messages[:at], *notes, *messages[at:]]
