"""The atomic Redis lock store, on a real Redis: two "replicas" (two store objects) taking
tickets for one conversation at once never get the same number, and a conversation's
messages are served one at a time, in the order they came."""

from __future__ import annotations

import asyncio
import threading

import pytest
from rasa.core.lock_store import LockStore
from rasa.utils.endpoints import EndpointConfig

from addons.lock_store import AtomicRedisLockStore
from scripts import scale_out

pytestmark = pytest.mark.scale


def store(redis_url: str) -> AtomicRedisLockStore:
    """What Rasa builds from the launcher's endpoints.yml entry."""
    config = scale_out.lock_store(redis_url)
    made = LockStore.create(EndpointConfig.from_dict(config))
    assert isinstance(made, AtomicRedisLockStore)
    return made


def test_tickets_taken_at_once_by_two_replicas_are_unique(redis_url):
    replicas = [store(redis_url), store(redis_url)]
    tickets: list[int] = []

    def take(replica: AtomicRedisLockStore) -> None:
        for _ in range(50):
            tickets.append(replica.issue_ticket("race-conversation"))

    threads = [threading.Thread(target=take, args=(replicas[i % 2],)) for i in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(tickets) == 400 and len(set(tickets)) == 400
    for ticket in tickets:
        replicas[0].cleanup("race-conversation", ticket)
    assert replicas[1].get_lock("race-conversation") is None  # released: deleted


def test_one_conversation_is_served_one_message_at_a_time_in_order(redis_url):
    replicas = [store(redis_url), store(redis_url)]
    served: list[int] = []
    busy = []

    async def message(number: int) -> None:
        async with replicas[number % 2].lock("ordered-conversation", wait_time_in_seconds=0.01):
            busy.append(number)
            assert len(busy) == 1  # nobody else inside
            served.append(number)
            await asyncio.sleep(0.02)
            busy.remove(number)

    async def main() -> None:
        tasks = []
        for number in range(12):
            tasks.append(asyncio.create_task(message(number)))
            await asyncio.sleep(0.001)  # they arrive in this order
        await asyncio.gather(*tasks)

    asyncio.run(main())
    assert served == list(range(12))
