"""The Rasa server's own guards (addons/serving.py), on Rasa's real classes: input limits,
the replies when a part behind it fails, and the two cost fixes. The wrapped methods are
restored after each test (monkeypatch)."""

from __future__ import annotations

import asyncio
import inspect

import jsonschema
import pytest
from rasa.core.actions.action import ActionExtractSlots, RemoteAction
from rasa.core.agent import Agent
from rasa.core.channels.channel import CollectingOutputChannel, UserMessage
from rasa.core.tracker_store import FailSafeTrackerStore, InMemoryTrackerStore
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import (
    ActionExecuted,
    Event,
    SessionStarted,
    SlotSet,
    UserUttered,
)
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.utils.endpoints import EndpointConfig

from actions.general.slot_checks import ValidateSlotMappings
from addons import serving
from clinic.knowledge import knowledge
from clinic.limits import Limits
from tests.helpers import free_port


def run(coro):
    return asyncio.run(coro)


@pytest.fixture
def restore(monkeypatch):
    """Register Rasa's methods with monkeypatch, so the wrappers are undone afterwards."""
    for cls, name in (
        (Agent, "handle_message"),
        (RemoteAction, "run"),
        (RemoteAction, "_validate_action_result"),
        (ActionExtractSlots, "_execute_validation_action"),
        (FailSafeTrackerStore, "retrieve"),
        (FailSafeTrackerStore, "retrieve_full_tracker"),
        (FailSafeTrackerStore, "save"),
        (Event, "resolve_by_type"),
        (EndpointConfig, "session"),
    ):
        monkeypatch.setattr(cls, name, getattr(cls, name))
    return monkeypatch


def guarded(restore, handled: list, raises: Exception | None = None, limits: Limits | None = None):
    """Agent.handle_message wrapped over a stand-in that records what reaches it."""

    async def original(self, message):
        handled.append(message)
        if raises:
            raise raises
        return message.output_channel.messages

    restore.setattr(Agent, "handle_message", original)
    serving._guard_messages(limits or Limits())
    return Agent.handle_message


def texts(channel: CollectingOutputChannel) -> list[str]:
    return [m.get("text", "") for m in channel.messages]


def test_every_reply_is_filled_with_the_clinics_details():
    phone = knowledge().clinic.phone
    for name in ("actions_down", "storage_down"):
        assert phone in serving.reply(name)
    assert "2,000" in serving.reply("too_long", limit="2,000")
    for name in ("too_long", "bad_sender", "actions_down_red_flag"):
        assert "{" not in serving.reply(name, limit="2,000")


def test_an_over_long_message_gets_a_kind_reply_and_reaches_nothing(restore):
    handled: list = []
    handle = guarded(restore, handled, limits=Limits(message_chars=100))
    channel = CollectingOutputChannel()
    run(handle(None, UserMessage("a" * 101, channel, "patient-1")))
    assert handled == []
    assert "too long" in texts(channel)[0] and "100 characters" in texts(channel)[0]
    run(handle(None, UserMessage("a" * 100, channel, "patient-1")))
    assert len(handled) == 1


def test_a_malformed_sender_id_is_refused_and_oversized_metadata_dropped(restore):
    handled: list = []
    handle = guarded(restore, handled)
    channel = CollectingOutputChannel()
    run(handle(None, UserMessage("hello", channel, "x" * 500)))
    assert handled == [] and "not valid" in texts(channel)[0]
    run(handle(None, UserMessage("hello", channel, "patient-2", metadata={"b": "x" * 10_000})))
    assert handled[0].metadata is None
    run(handle(None, UserMessage("hello", channel, "patient-2", metadata={"page": "/"})))
    assert handled[1].metadata == {"page": "/"}


def test_a_store_failure_gets_a_clear_reply_instead_of_an_error(restore):
    handle = guarded(restore, [], raises=ConnectionError("redis is away"))
    channel = CollectingOutputChannel()
    assert run(handle(None, UserMessage("hello", channel, "patient-3"))) is None
    assert "Nothing you told me earlier is lost" in texts(channel)[0]


def _tracker(intent: str) -> DialogueStateTracker:
    tracker = DialogueStateTracker("patient-4", slots=[])
    tracker.update(UserUttered("hello", intent={"name": intent, "confidence": 1.0}))
    return tracker


def test_an_action_server_that_is_down_gets_one_apology_per_message(restore):
    """Two actions fail for one message (connection refused): one apology."""
    serving._apologise_when_an_action_fails()
    endpoint = EndpointConfig(f"http://127.0.0.1:{free_port()}/webhook")
    results: list = []

    async def original(self, message):
        for name in ("action_explain_causes", "action_follow_up"):
            results.append(
                await RemoteAction(name, endpoint).run(
                    message.output_channel, None, tracker, Domain.empty()
                )
            )
        return message.output_channel.messages

    restore.setattr(Agent, "handle_message", original)
    serving._guard_messages(Limits())
    for intent, expected in (("ask_causes", "not responding"), ("red_flag", "911")):
        tracker, channel = _tracker(intent), CollectingOutputChannel()
        run(Agent.handle_message(None, UserMessage("hello", channel, "patient-4")))
        assert results == [[], []]  # the events are lost, as Rasa would
        assert len(channel.messages) == 1 and expected in texts(channel)[0]
        results.clear()


def test_action_results_are_validated_against_a_schema_checked_once(restore, monkeypatch):
    checks = []
    check_schema = jsonschema.Draft4Validator.check_schema
    monkeypatch.setattr(
        jsonschema.Draft4Validator,
        "check_schema",
        classmethod(lambda cls, s: checks.append(1) or check_schema(s)),
    )
    serving._action_result_validator.cache_clear()
    serving._validate_with_a_checked_schema()
    action = RemoteAction("action_explain_causes", None)
    for _ in range(3):
        assert action._validate_action_result({"events": [], "responses": []})
    with pytest.raises(jsonschema.ValidationError, match="Failed to validate Action server"):
        action._validate_action_result({"events": [{"no_event_key": 1}]})
    assert len(checks) <= 1
    serving._action_result_validator.cache_clear()


def test_slot_mappings_are_validated_only_when_a_slot_was_filled(restore):
    calls: list = []

    async def original(self, events, *args):
        calls.append(events)
        return events

    restore.setattr(ActionExtractSlots, "_execute_validation_action", original)
    serving._validate_slots_only_when_filled()
    action = ActionExtractSlots(None)
    assert run(action._execute_validation_action([], None, None, None, None)) == []
    assert calls == []
    filled = [SlotSet("condition", "sciatica")]
    assert run(action._execute_validation_action(filled, None, None, None, None)) == filled
    assert calls == [filled]


def test_the_slot_validation_action_only_checks_filled_slots():
    """What the skip above relies on: no `extract_` methods, which would run without any
    filled slot."""
    names = [n for n, _ in inspect.getmembers(ValidateSlotMappings) if n.startswith("extract_")]
    assert names == []


def test_install_refuses_another_rasa_version(restore, monkeypatch):
    monkeypatch.setattr(serving.rasa, "__version__", "3.7.0")
    with pytest.raises(RuntimeError, match=r"3\.6\.21"):
        serving.install()


def test_a_tracker_store_failure_is_not_papered_over_with_an_empty_conversation(restore):
    class Broken(InMemoryTrackerStore):
        async def retrieve(self, sender_id):
            raise ConnectionError("PostgreSQL is away")

        async def save(self, tracker):
            raise ConnectionError("PostgreSQL is away")

    serving._fail_loudly_when_the_tracker_store_does()
    store = FailSafeTrackerStore(Broken(Domain.empty()))
    with pytest.raises(ConnectionError):
        run(store.retrieve("patient-5"))
    with pytest.raises(ConnectionError):
        run(store.save(DialogueStateTracker("patient-5", slots=[])))


def test_a_failed_session_start_still_starts_the_session(restore):
    """Rasa's own session start events, so that the message after it is read in order."""
    serving._apologise_when_an_action_fails()
    endpoint = EndpointConfig(f"http://127.0.0.1:{free_port()}/webhook")
    tracker = DialogueStateTracker("patient-6", slots=[])
    events = run(
        RemoteAction("action_session_start", endpoint).run(
            CollectingOutputChannel(), None, tracker, Domain.empty()
        )
    )
    assert events == [SessionStarted(), ActionExecuted("action_listen")]


def test_event_types_resolve_as_before(restore):
    serving._resolve_event_types_from_a_table()
    for _ in range(2):
        assert Event.resolve_by_type("user") is UserUttered
        assert Event.resolve_by_type("slot") is SlotSet
        assert Event.resolve_by_type("no such event", default=SlotSet) is SlotSet
        assert Event.resolve_by_type("topic") is None
        with pytest.raises(ValueError, match="Unknown event name"):
            Event.resolve_by_type("no such event")


def test_action_server_calls_reuse_one_kept_alive_connection(restore):
    """Rasa's EndpointConfig.request, unchanged, over the kept session: the same TCP
    connection serves consecutive calls; a new event loop gets a new session."""
    from aiohttp import web

    serving._reuse_connections_to_the_action_server()
    peers: list[int] = []

    async def webhook(request: web.Request) -> web.Response:
        peers.append(request.transport.get_extra_info("peername")[1])
        return web.json_response({"events": [], "responses": []})

    async def calls(endpoint: EndpointConfig, count: int) -> list:
        app = web.Application()
        app.router.add_post("/webhook", webhook)
        runner = web.AppRunner(app)
        await runner.setup()
        await web.TCPSite(runner, "127.0.0.1", port).start()
        try:
            return [await endpoint.request(json={"next_action": "x"}) for _ in range(count)]
        finally:
            await runner.cleanup()

    port = free_port()
    endpoint = EndpointConfig(url=f"http://127.0.0.1:{port}/webhook")
    assert run(calls(endpoint, 3)) == [{"events": [], "responses": []}] * 3
    assert len(peers) == 3 and len(set(peers)) == 1
    first = endpoint.__dict__["_clinic_session"][1]
    run(calls(endpoint, 1))  # another loop (asyncio.run): another session, still working
    assert endpoint.__dict__["_clinic_session"][1] is not first and len(peers) == 4
