"""The sign-in rate limit (console/throttle.py): per account and per address, in the
database, so every thread of the server counts together."""

from __future__ import annotations

import datetime as dt
import threading

from sqlalchemy import select

from actions.records.database import utcnow
from console import accounts, throttle
from console.store import engine, login_failures
from tests.console.conftest import PASSWORD


def test_the_lock_grows_with_each_failure_after_five():
    lengths = [throttle.lock_length(n) for n in range(1, 13)]
    assert lengths[:4] == [None] * 4
    minutes = [int(x.total_seconds() // 60) for x in lengths[4:] if x is not None]
    assert minutes == [1, 2, 4, 8, 16, 32, 60, 60]


def test_five_failures_lock_the_account_even_for_the_right_password(staff):
    for _ in range(4):
        result = accounts.sign_in("alice", "wrong password!", "10.0.0.1")
        assert not result.ok and result.locked is None
    fifth = accounts.sign_in("alice", "wrong password!", "10.0.0.1")
    assert fifth.locked is not None
    assert fifth.locked.message() == "Too many attempts, try again in 1 min."
    # From another address too: the account is locked, and no password is checked.
    refused = accounts.sign_in("alice", PASSWORD, "10.9.9.9")
    assert not refused.ok and refused.locked is not None


def test_one_address_guessing_many_accounts_is_locked_out(staff):
    for i in range(5):
        accounts.sign_in(f"user{i}", "wrong password!", "10.0.0.7")
    refused = accounts.sign_in("alice", PASSWORD, "10.0.0.7")
    assert not refused.ok and refused.locked.key == "client:10.0.0.7"
    assert accounts.sign_in("alice", PASSWORD, "10.0.0.8").ok  # another address is fine


def test_a_lock_ends_and_a_success_clears_the_counts(staff):
    now = utcnow()
    for _ in range(5):
        throttle.record_failure("alice", "10.0.0.1", now)
    assert throttle.locked("alice", "10.0.0.1", now) is not None
    later = now + dt.timedelta(minutes=1, seconds=1)
    assert throttle.locked("alice", "10.0.0.1", later) is None
    throttle.record_failure("alice", "10.0.0.1", later)  # the 6th: two minutes now
    lock = throttle.locked("alice", "10.0.0.1", later)
    assert lock is not None and lock.minutes(later) == 2
    throttle.clear("alice", "10.0.0.1")
    assert throttle.locked("alice", "10.0.0.1") is None


def test_old_failures_are_forgotten():
    then = utcnow() - dt.timedelta(days=2)
    for _ in range(4):
        throttle.record_failure("alice", "10.0.0.1", then)
    throttle.record_failure("alice", "10.0.0.1")
    assert throttle.locked("alice", "10.0.0.1") is None


def test_failures_from_many_threads_are_all_counted():
    threads = [
        threading.Thread(target=throttle.record_failure, args=("alice", f"10.0.1.{i}"))
        for i in range(12)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    query = select(login_failures.c.failures).where(login_failures.c.key == "account:alice")
    with engine().connect() as conn:
        assert conn.execute(query).scalar_one() == 12


def test_a_success_also_drops_old_unlocked_counts():
    then = utcnow() - dt.timedelta(days=2)
    throttle.record_failure("guessed-name", "10.0.0.9", then)
    throttle.record_failure("alice", "10.0.0.1")
    throttle.clear("alice", "10.0.0.1")
    with engine().connect() as conn:
        assert conn.execute(select(login_failures)).first() is None
