"""Rasa's Redis lock store, with every change to a lock made atomically.

With several Rasa servers, the lock store is what keeps one conversation's messages in
order: each message takes a ticket and waits its turn. Rasa 3.6's `RedisLockStore` changes a
lock by reading it, changing it in Python and writing it back, so two servers taking a ticket
for the same conversation at the same moment can both get the same number, and both go
ahead (RasaHQ/rasa#9213): a test with two replicas lost 6 messages in 40. Here each change is
a Redis optimistic transaction (WATCH/MULTI/EXEC, retried when another server changed the
lock in between), so tickets are unique and a released lock is never resurrected.

    lock_store:
      type: addons.lock_store.AtomicRedisLockStore
      url: <host>
      port: 6379
      password: ${REDIS_PASSWORD}
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from typing import Any, TypeVar

from rasa.core.lock import TicketLock
from rasa.core.lock_store import LOCK_LIFETIME, LockError, RedisLockStore
from rasa.utils.endpoints import EndpointConfig

logger = logging.getLogger(__name__)
T = TypeVar("T")
UNCHANGED = object()  # a change that writes nothing back


class AtomicRedisLockStore(RedisLockStore):
    """`RedisLockStore` whose read-change-write steps are Redis transactions."""

    def __init__(self, endpoint_config: EndpointConfig | None = None, **kwargs: Any) -> None:
        if endpoint_config is not None:  # Rasa passes a custom store its endpoint config
            kwargs = {"host": endpoint_config.url or "localhost", **endpoint_config.kwargs}
        kwargs.pop("type", None)
        super().__init__(**kwargs)

    def _change(
        self, conversation_id: str, change: Callable[[TicketLock | None], tuple[Any, T]]
    ) -> T:
        """Apply `change` to the stored lock atomically; it returns (the lock to store,
        None to delete it or UNCHANGED, and the result to return)."""
        from redis.exceptions import WatchError

        key = self.key_prefix + conversation_id
        with self.red.pipeline() as pipe:
            while True:
                try:
                    pipe.watch(key)
                    raw = pipe.get(key)
                    lock = TicketLock.from_dict(json.loads(raw)) if raw else None
                    new, result = change(lock)
                    pipe.multi()
                    if new is None:
                        pipe.delete(key)
                    elif new is not UNCHANGED:
                        pipe.set(key, new.dumps())
                    pipe.execute()
                    return result
                except WatchError:
                    continue  # another server changed the lock meanwhile: read it again

    def issue_ticket(self, conversation_id: str, lock_lifetime: float = LOCK_LIFETIME) -> int:
        def take(lock: TicketLock | None) -> tuple[TicketLock, int]:
            lock = lock or self.create_lock(conversation_id)
            return lock, lock.issue_ticket(lock_lifetime)

        try:
            return self._change(conversation_id, take)
        except Exception as error:
            raise LockError(f"Error while acquiring lock. Error:\n{error}") from error

    def update_lock(self, conversation_id: str) -> None:
        def expire(lock: TicketLock | None) -> tuple[Any, None]:
            if lock is None:
                return UNCHANGED, None
            lock.remove_expired_tickets()
            return lock, None

        self._change(conversation_id, expire)

    def finish_serving(self, conversation_id: str, ticket_number: int) -> None:
        self.cleanup(conversation_id, ticket_number)

    def cleanup(self, conversation_id: str, ticket_number: int) -> None:
        """Give the ticket back; delete the lock in the same step if no one else waits."""

        def release(lock: TicketLock | None) -> tuple[Any, None]:
            if lock is None:
                return UNCHANGED, None
            lock.remove_ticket_for(ticket_number)
            return (lock if lock.is_someone_waiting() else None), None

        self._change(conversation_id, release)
