"""tests/test_stories.yml exercises every intent and every action of the domain, and the
follow-up questions that rely on context."""

from __future__ import annotations

import yaml

from tests.helpers import ROOT

#: Run by Rasa itself rather than predicted in a story.
IMPLICIT_ACTIONS = {
    "action_session_start",
    "action_default_fallback",
    "action_validate_slot_mappings",
}


def _domain():
    merged = {"intents": set(), "actions": set(), "responses": set()}
    for path in (ROOT / "domain").glob("*.yml"):
        data = yaml.safe_load(path.read_text())
        merged["intents"] |= set(data.get("intents", []))
        merged["actions"] |= set(data.get("actions", []))
        merged["responses"] |= set(data.get("responses", {}))
    return merged


def _steps():
    stories = yaml.safe_load((ROOT / "tests" / "test_stories.yml").read_text())["stories"]
    return [step for story in stories for step in story["steps"]]


def test_every_intent_and_action_is_tested():
    domain, steps = _domain(), _steps()
    intents = {s["intent"] for s in steps if "intent" in s}
    actions = {s["action"] for s in steps if "action" in s}
    assert domain["intents"] <= intents, domain["intents"] - intents
    expected = {
        a
        for a in (domain["actions"] | domain["responses"]) - IMPLICIT_ACTIONS
        # run by the form itself; utter_faq/<id> are the ResponseSelector's labels, answered
        # by action_answer_faq
        if not a.startswith(("action_ask_", "validate_", "utter_faq/"))
    }
    assert expected <= actions, expected - actions


def test_follow_ups_without_entities_are_tested():
    """At least one question per kind that names nothing and relies on the slot."""
    steps = _steps()
    bare = {s["intent"] for s in steps if "user" in s and "]{" not in s["user"]}
    assert {"ask_causes", "ask_treatment", "ask_outlook", "ask_assessment", "ask_symptoms"} <= bare


def test_the_action_server_serves_exactly_the_domain_actions():
    """Every custom action the domain lists exists, and no action is registered by accident."""
    from rasa_sdk.executor import ActionExecutor

    import scripts._no_tensorflow  # noqa: F401

    executor = ActionExecutor()
    executor.register_package("actions")
    custom = {a for a in _domain()["actions"] if not a.startswith("utter_")}
    assert set(executor.actions) == custom
