"""The Rasa server's own guards and fixes to its costs, installed before Rasa starts.

Rasa 3.6 has no hook for any of these, so `install()` wraps some of its methods; it refuses
to run on any other Rasa version, where the wrapped code may differ (scripts/rasa_server.py
calls it; the tests of this module wrap one method at a time and undo it).

- Every channel's message passes `clinic.limits` first: an over-long text gets a kind reply
  asking for shorter messages and nothing else runs on it; a sender id that is not a bounded
  printable string is refused; oversized metadata is dropped.
- A message the server cannot take in because the tracker store (PostgreSQL) or the lock
  store (Redis) is away gets a clear reply instead of an HTTP 500, silence, or (Rasa's
  fail-safe store) an answer from an empty conversation kept only in memory.
- A message whose custom actions the action server cannot run (crashed, restarting,
  unreachable) gets one apology with the clinic's phone number, or the urgent-care advice
  when it reported a red flag, instead of silence.
- Cost fixes measured with py-spy (README, "Serving"): TensorFlow models are loaded for
  inference only (no optimizer state: 580 MB less, a faster start). Rasa validated each action
  server response with `jsonschema.validate`, which re-checks the schema itself on every
  call (60% of the server's CPU); the schema is now checked once. And Rasa called the
  `action_validate_slot_mappings` custom action after every message, even when no slot
  was filled; now only when one was (its only job is to check filled slots). And it found
  each stored event's class by walking all of Event's subclasses; now from a table. After
  loading, `gc.freeze()` keeps the collector off the model's objects. TED's prediction is
  computed only when a more certain policy has not already decided (addons/lazy_ted.py).
  Each message's NLU runs in one worker thread, off the event loop (addons/nlu_thread.py).
"""

from __future__ import annotations

import functools
import logging
from contextvars import ContextVar
from typing import Any

import rasa
from rasa.core.actions.action import ActionExecutionRejection, ActionExtractSlots, RemoteAction
from rasa.core.agent import Agent
from rasa.core.channels.channel import UserMessage
from rasa.core.tracker_store import FailSafeTrackerStore
from rasa.shared.core.constants import ACTION_LISTEN_NAME, ACTION_SESSION_START_NAME
from rasa.shared.core.events import ActionExecuted, Event, SessionStarted, SlotSet
from rasa.shared.exceptions import RasaException

from addons import lazy_ted, nlu_thread
from clinic.knowledge import knowledge
from clinic.knowledge.files import side_yaml
from clinic.knowledge.wording import fill
from clinic.limits import Limits, bounded_metadata, too_long, valid_sender_id

logger = logging.getLogger(__name__)

RASA_VERSION = "3.6.21"
RED_FLAG_INTENT = "red_flag"
_INSTALLED = False


def reply(name: str, **fields: Any) -> str:
    """One of serving.yml's replies, filled with the clinic's details."""
    return fill(side_yaml(__file__, "serving.yml")[name], knowledge(), **fields)


def install(limits: Limits | None = None) -> None:
    """Wrap Rasa's methods once; `limits` default to the environment's (clinic.limits)."""
    global _INSTALLED
    if _INSTALLED:
        return
    if rasa.__version__ != RASA_VERSION:
        raise RuntimeError(
            f"addons/serving.py wraps Rasa {RASA_VERSION} internals; found {rasa.__version__}"
        )
    _validate_with_a_checked_schema()
    _validate_slots_only_when_filled()
    _resolve_event_types_from_a_table()
    _freeze_what_loading_made()
    load_models_for_inference()
    lazy_ted.install()
    nlu_thread.install()
    _reuse_connections_to_the_action_server()
    _apologise_when_an_action_fails()
    _fail_loudly_when_the_tracker_store_does()
    _guard_messages(limits or Limits.from_env())
    _INSTALLED = True


# ------------------------------------------------------------------------------ costs


@functools.lru_cache(maxsize=1)
def _action_result_validator() -> Any:
    from jsonschema.validators import validator_for

    schema = RemoteAction.action_response_format_spec()
    cls = validator_for(schema)
    cls.check_schema(schema)
    return cls(schema)


def _validate_with_a_checked_schema() -> None:
    """Same validation and error as Rasa's, with the schema checked once, not per response."""
    from jsonschema import exceptions

    def validate(self: RemoteAction, result: dict[str, Any]) -> bool:
        # a jsonschema.ValidationError, as jsonschema.validate raises
        error = exceptions.best_match(_action_result_validator().iter_errors(result))
        if error is None:
            return True
        error.message += (
            ". Failed to validate Action server response from API, make sure your response "
            "from the Action endpoint is valid."
        )
        raise error

    RemoteAction._validate_action_result = validate


def _validate_slots_only_when_filled() -> None:
    """No round trip to the action server for a message that filled no slot.

    Rasa runs `action_validate_slot_mappings` after every message; ours
    (actions/general/slot_checks.py) only checks filled slots and has no `extract_` methods,
    so with nothing filled it has nothing to do (tests/addons/test_serving.py checks that).
    """
    original = ActionExtractSlots._execute_validation_action

    async def validate(self: ActionExtractSlots, extraction_events: list[Event], *args: Any):
        if not any(isinstance(e, SlotSet) for e in extraction_events):
            return []
        return await original(self, extraction_events, *args)

    ActionExtractSlots._execute_validation_action = validate


def _resolve_event_types_from_a_table() -> None:
    """Rasa finds an event's class by walking every subclass of Event, for each event it
    reads back from the tracker store (a fifth of the time spent retrieving a tracker);
    the answer for a type name never changes, so it is looked up once."""
    original = Event.resolve_by_type
    table: dict[str, type[Event]] = {}

    def resolve_by_type(type_name: str, default: type[Event] | None = None) -> Any:
        found = table.get(type_name)
        if found is None:
            found = original(type_name, default)  # raises for an unknown name, as before
            if found is not None and found is not default:
                table[type_name] = found
        return found

    Event.resolve_by_type = staticmethod(resolve_by_type)


#: Seconds an idle connection to the action server is kept: below the action server's own
#: keep-alive (Sanic's KEEP_ALIVE_TIMEOUT, 5 s), so it never closes one about to be reused.
ACTION_KEEPALIVE_S = 2.0


class _Shared:
    """`async with` over a session that outlives the block (Rasa closes its own)."""

    def __init__(self, session: Any) -> None:
        self.session = session

    async def __aenter__(self) -> Any:
        return self.session

    async def __aexit__(self, *exc: Any) -> None:
        return None


def _reuse_connections_to_the_action_server() -> None:
    """Rasa opened a new HTTP session and TCP connection for every custom-action call (two
    or three per message) and closed it after the answer: connection set-up on both sides
    for each (7% of the server's CPU under load, py-spy). Each endpoint now keeps one
    session per event loop, whose connections are kept alive briefly and reused; a session
    of a loop that has ended is replaced. Same headers, authentication and timeout."""
    import asyncio

    import aiohttp
    from rasa.utils.endpoints import DEFAULT_REQUEST_TIMEOUT, EndpointConfig

    def session(self: EndpointConfig) -> _Shared:
        loop = asyncio.get_running_loop()
        kept = self.__dict__.get("_clinic_session")
        if kept is None or kept[0] is not loop or kept[1].closed:
            auth = None
            if self.basic_auth:
                auth = aiohttp.BasicAuth(self.basic_auth["username"], self.basic_auth["password"])
            kept = (
                loop,
                aiohttp.ClientSession(
                    headers=self.headers,
                    auth=auth,
                    timeout=aiohttp.ClientTimeout(total=DEFAULT_REQUEST_TIMEOUT),
                    connector=aiohttp.TCPConnector(keepalive_timeout=ACTION_KEEPALIVE_S),
                ),
            )
            self.__dict__["_clinic_session"] = kept
        return _Shared(kept[1])

    EndpointConfig.session = session


def load_models_for_inference() -> None:
    """Rasa builds each TensorFlow model it loads (the ResponseSelector, TED) by training it
    one step on an example, then loads the trained weights over it. That step creates the
    optimizer's state and the gradients, never used again (580 MB of a 1.55 GB server), and
    traces the training graph (a third of the start-up). Here the model is built by one
    eager prediction instead, then gets the same weights: the same outputs (tests/addons/
    test_inference_load.py compares both on the trained model). Fine-tuning keeps Rasa's."""
    import tensorflow as tf
    from rasa.utils.tensorflow.constants import LEARNING_RATE, RUN_EAGERLY
    from rasa.utils.tensorflow.models import RasaModel

    original = RasaModel.__dict__["load"].__func__

    def load(
        cls: type[RasaModel],
        model_file_name: str,
        model_data_example: Any,
        predict_data_example: Any = None,
        finetune_mode: bool = False,
        *args: Any,
        **kwargs: Any,
    ) -> RasaModel:
        if finetune_mode or predict_data_example is None:
            return original(
                cls, model_file_name, model_data_example, predict_data_example, finetune_mode,
                *args, **kwargs,
            )  # fmt: skip
        config = kwargs.get("config", {})
        model = cls(*args, **kwargs)
        model.compile(
            optimizer=tf.keras.optimizers.Adam(config.get(LEARNING_RATE, 0.001)),
            run_eagerly=config.get(RUN_EAGERLY),
        )
        eager, model._run_eagerly = model._run_eagerly, True
        model.run_inference(predict_data_example)  # creates the layers' variables
        model._run_eagerly = eager
        model.load_weights(model_file_name).expect_partial()  # not the optimizer's state
        # Label embeddings and the traced prediction graph again, with the trained weights.
        model.prepared_for_prediction = False
        model._tf_predict_step = None
        model.run_inference(predict_data_example)
        return model

    RasaModel.load = classmethod(load)


def _return_freed_memory() -> None:
    """Hand the heap that loading freed back to the system (glibc's `malloc_trim`): the
    encoder's phrasings for the red-flag net, encoded in batches at load, leave tens of MB
    of freed but held pages otherwise. Nothing on other C libraries."""
    import contextlib
    import ctypes
    import ctypes.util

    with contextlib.suppress(OSError, AttributeError, TypeError):
        ctypes.CDLL(ctypes.util.find_library("c")).malloc_trim(0)


def _freeze_what_loading_made() -> None:
    """After the model is loaded, its millions of long-lived objects (TensorFlow, spaCy,
    scikit-learn) are moved out of the garbage collector's sight (`gc.freeze`), so that
    the collections that each message's short-lived objects trigger do not walk them all;
    then the memory loading freed goes back to the system."""
    import gc

    import rasa.core.run

    original = rasa.core.run.load_agent_on_start

    async def load_agent_on_start(*args: Any, **kwargs: Any) -> Any:
        agent = await original(*args, **kwargs)
        gc.collect()
        gc.freeze()
        _return_freed_memory()
        return agent

    rasa.core.run.load_agent_on_start = load_agent_on_start


# ------------------------------------------------------------------------------ faults

#: The intents of the messages whose custom actions failed, for the message being handled.
_FAILURES: ContextVar[list[str] | None] = ContextVar("clinic_failed_actions", default=None)


def apology_for(failed_intents: list[str]) -> str:
    """One reply for a message whose actions the action server could not run."""
    return reply("actions_down_red_flag" if RED_FLAG_INTENT in failed_intents else "actions_down")


def _apologise_when_an_action_fails() -> None:
    """A failed custom action is noted for the message, which then gets one apology
    (`_guard_messages`), and the conversation goes on as Rasa would (the action's events
    are lost; the policies predict the next action, so a red flag still reaches the triage
    action and its urgent-care apology). The apology is sent there, not returned here as an
    event, because Rasa drops every event but SlotSet from the actions it calls while
    extracting slots, and the session-start action runs before the message is logged."""
    original = RemoteAction.run

    async def run(self: RemoteAction, output_channel, nlg, tracker, domain) -> list[Event]:
        try:
            return await original(self, output_channel, nlg, tracker, domain)
        except ActionExecutionRejection:
            raise  # a form declining a message: Rasa's own flow
        except RasaException as error:
            logger.error("Action server could not run %s: %s", self.name(), error)
            failures = _FAILURES.get()
            if failures is not None:
                intent = (getattr(tracker.latest_message, "intent", None) or {}).get("name")
                failures.append(str(intent))
            if self.name() == ACTION_SESSION_START_NAME:
                # Rasa's own session start, so that the message is still read in order
                # (the policies expect an action_listen before it; a red flag is triaged).
                return [SessionStarted(), ActionExecuted(ACTION_LISTEN_NAME)]
            return []

    RemoteAction.run = run


def _fail_loudly_when_the_tracker_store_does() -> None:
    """Rasa wraps the tracker store in a `FailSafeTrackerStore`: when PostgreSQL is away it
    answers from an empty conversation and keeps the result in memory, where it is lost (and
    out of context: "which condition?" in the middle of a story). Instead the error reaches
    `_guard_messages`, which asks the person to send the message again."""

    async def retrieve(self: FailSafeTrackerStore, sender_id: str) -> Any:
        return await self._tracker_store.retrieve(sender_id)

    async def retrieve_full_tracker(self: FailSafeTrackerStore, sender_id: str) -> Any:
        return await self._tracker_store.retrieve_full_tracker(sender_id)

    async def save(self: FailSafeTrackerStore, tracker: Any) -> None:
        await self._tracker_store.save(tracker)

    FailSafeTrackerStore.retrieve = retrieve
    FailSafeTrackerStore.retrieve_full_tracker = retrieve_full_tracker
    FailSafeTrackerStore.save = save


# ------------------------------------------------------------------------------ input


async def _answer(message: UserMessage, text: str) -> None:
    if message.output_channel is not None:
        await message.output_channel.send_text_message(str(message.sender_id)[:200], text)


def _guard_messages(limits: Limits) -> None:
    original = Agent.handle_message

    async def handle_message(self: Agent, message: UserMessage) -> Any:
        if not valid_sender_id(message.sender_id, limits):
            logger.warning(
                "Refused a message: invalid sender id (%d chars)", len(str(message.sender_id))
            )
            await _answer(message, reply("bad_sender"))
            return None
        if too_long(message.text, limits):
            logger.warning(
                "Refused a %d-character message from %s (limit %d)",
                len(message.text or ""),
                message.sender_id,
                limits.message_chars,
            )
            await _answer(message, reply("too_long", limit=f"{limits.message_chars:,}"))
            return None
        if message.metadata is not None and bounded_metadata(message.metadata, limits) is None:
            logger.warning("Dropped the metadata of a message from %s", message.sender_id)
            message.metadata = None
        failures: list[str] = []
        token = _FAILURES.set(failures)
        try:
            result = await original(self, message)
        except Exception:  # the stores behind the conversation: never a 500 or silence
            logger.exception("Could not handle a message from %s", message.sender_id)
            await _answer(message, reply("storage_down"))
            return None
        finally:
            _FAILURES.reset(token)
        if failures:
            await _answer(message, apology_for(failures))
        return result

    Agent.handle_message = handle_message
