"""What a patient sees when input is hostile or a part crashes, on the stack `make run`
starts: over-long messages never hold up another patient, a killed action server gets an
apology with the clinic's number and comes back by itself, a killed Rasa server is
restarted while the page stays up, and the conversation carries on where it was."""

from __future__ import annotations

import json
import os
import signal
import threading
import time
import urllib.error
import urllib.request

import pytest

from clinic.knowledge import knowledge
from tests.helpers import MODEL
from tests.stack import Stack, status

pytestmark = [
    pytest.mark.model,
    pytest.mark.browser,  # the page serves the built widget (make web)
    pytest.mark.skipif(not MODEL.exists(), reason="needs the trained model"),
]

HOSTILE = {
    "no spaces, 1 MB": "a" * 1_000_000,
    "many spaces, 50 kB": "ab " * 17_000,
    "many @, 50 kB": "a@" * 25_000,
    "deep repetition, 1 MB": "my back hurts and " * 58_000,
}


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    running = Stack(tmp_path_factory.mktemp("faults"))
    running.start()
    yield running
    running.stop()


def texts(replies: list[dict]) -> str:
    return "\n".join(r.get("text", "") for r in replies)


def wait_for(check, timeout: float, what: str) -> float:
    start = time.monotonic()
    while not check():
        if time.monotonic() - start > timeout:
            raise AssertionError(f"{what}: not within {timeout} s")
        time.sleep(0.5)
    return time.monotonic() - start


def answers(stack: Stack) -> bool:
    try:
        return bool(stack.rest("probe", "hello"))
    except OSError:
        return False


@pytest.mark.parametrize("kind", HOSTILE)
def test_a_hostile_message_never_holds_up_another_patient(stack, kind):
    hostile: dict = {}

    def send() -> None:
        hostile["replies"] = stack.rest(f"hostile-{len(kind)}", HOSTILE[kind])

    thread = threading.Thread(target=send)
    thread.start()
    time.sleep(0.05)  # the hostile message first
    start = time.monotonic()
    other = stack.rest("patient-meanwhile", "what causes sciatica?")
    waited = time.monotonic() - start
    thread.join(60)
    assert "sciatica" in texts(other).lower() and waited < 1.0, (waited, other)
    assert "too long for me to read" in texts(hostile["replies"])


def test_a_request_body_over_2_mb_is_refused_unread(stack):
    request = urllib.request.Request(
        stack.url("/webhooks/rest/webhook"),
        data=json.dumps({"sender": "huge", "message": "a" * 3_000_000}).encode(),
        headers={"Content-Type": "application/json"},
    )
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(request, timeout=30)
    assert refused.value.code == 413


def test_bad_sender_ids_are_refused_and_nonsense_gets_the_fallback(stack):
    assert "not valid" in texts(stack.rest("x" * 10_000, "hello"))
    assert "not valid" in texts(stack.rest("two\nlines", "hello"))
    for text in ("a" * 1500, "#$%&*!", "asdfghjkl"):
        request = urllib.request.Request(
            stack.url(f"/model/parse?token={stack.token}"),
            data=json.dumps({"text": text}).encode(),
            headers={"Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=30) as resp:
            assert json.load(resp)["intent"]["name"] == "nlu_fallback", text


def test_a_killed_action_server_gets_an_apology_and_comes_back(stack):
    clinic = knowledge().clinic
    assert "sciatica" in texts(stack.rest("crash-1", "what causes sciatica?")).lower()
    os.kill(stack.child("scripts/action_server.py"), signal.SIGKILL)
    down = texts(stack.rest("crash-1", "how is it treated?"))
    assert clinic.phone in down and "not responding" in down
    urgent = texts(stack.rest("crash-2", "I suddenly can't control my bladder"))
    assert clinic.emergency_number in urgent
    health = f"http://127.0.0.1:{stack.action_port}/health"
    wait_for(lambda: status(health) == 200, 60, "the action server restarted")
    back = texts(stack.rest("crash-1", "how is it treated?")).lower()
    assert "sciatica" in back and "not responding" not in back  # the subject is kept
    assert "restarting it in 1 s" in stack.output()


def test_a_killed_rasa_server_is_restarted_while_the_page_stays_up(stack):
    assert "sciatica" in texts(stack.rest("crash-3", "what causes sciatica?")).lower()
    os.kill(stack.child("scripts/rasa_server.py"), signal.SIGKILL)
    time.sleep(1)
    assert status(stack.page_url) == 200  # the clinic page does not go down with it
    wait_for(lambda: answers(stack), 180, "the Rasa server restarted")
    back = texts(stack.rest("crash-3", "how is it treated?")).lower()
    assert "sciatica" in back  # the conversation was kept (SQLite tracker store)
