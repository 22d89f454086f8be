"""Contact details encrypted at rest (actions/records/sealed.py): sealed in the bookings and
the hand-off outbox, opened for the staff and the clinic's webhook, rows written before
encryption sealed when the database opens; on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
import stat

import pytest
from cryptography.fernet import Fernet
from sqlalchemy import insert, select

from actions.records import database, sealed
from actions.records.bookings import find_booking, request_callback
from actions.records.handoff import pending_handoffs
from tests.actions.records.samples import EMAIL, NAME, PHONE, book, future_slots


def reopen() -> None:
    """Forget the cached engine, as a restarted action server would."""
    database.engine().dispose()
    database._engine_for.cache_clear()


def test_a_value_is_sealed_with_a_fresh_iv_and_opens_again():
    once, twice = sealed.seal(PHONE), sealed.seal(PHONE)
    assert once.startswith(sealed.PREFIX) and once != twice and PHONE not in once
    assert sealed.unseal(once) == sealed.unseal(twice) == PHONE
    assert sealed.seal(None) is None and sealed.seal("") == ""
    assert sealed.unseal("written before encryption") == "written before encryption"
    assert sealed.seal(once) == once  # never sealed twice


def test_another_key_cannot_open_it_and_says_so(monkeypatch):
    value = sealed.seal(EMAIL)
    monkeypatch.setenv("CLINIC_DATA_KEY", Fernet.generate_key().decode())
    with pytest.raises(sealed.SealError, match="could not be opened"):
        sealed.unseal(value)
    monkeypatch.setenv("CLINIC_DATA_KEY", "not-a-key")
    with pytest.raises(sealed.SealError, match="CLINIC_DATA_KEY"):
        sealed.seal(EMAIL)


def test_without_a_key_one_is_made_once_and_kept_private(monkeypatch, tmp_path):
    monkeypatch.delenv("CLINIC_DATA_KEY")
    monkeypatch.setenv("CLINIC_VAR_DIR", str(tmp_path))
    value = sealed.seal(NAME)
    key_file = tmp_path / "data-key"
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert sealed.unseal(value) == NAME  # the same key read back
    assert key_file.read_bytes() == key_file.read_bytes().strip() + b"\n"


def test_bookings_and_hand_offs_are_sealed_at_rest_and_open_for_their_readers(db_url, tmp_path):
    reference = book().reference
    request_callback(
        name=NAME,
        phone=PHONE,
        email=None,
        reason="call me",
        intake_summary="",
        triage_level="routine",
        conversation_id="conv-2",
    )
    with database.engine().connect() as conn:
        row = conn.execute(select(database.bookings)).one()
        payloads = [r.payload for r in conn.execute(select(database.outbox))]
    for value in (row.patient_name, row.phone, row.email, *payloads):
        assert value.startswith(sealed.PREFIX)
        assert not any(secret in value for secret in (NAME, PHONE, EMAIL, "O'Brien"))
    found = find_booking(reference, PHONE)
    assert found and (found.patient_name, found.phone, found.email) == (NAME, PHONE, EMAIL)
    assert find_booking(reference, "ZOE@example.org") == found  # the email, any case
    assert find_booking(reference, "+15550100999") is None
    assert {h["name"] for h in pending_handoffs()} == {NAME}
    if db_url.startswith("sqlite:///"):  # a copied database file shows none of it
        with open(db_url.removeprefix("sqlite:///"), "rb") as copied:
            raw = copied.read()
        assert not any(s.encode("utf-8") in raw for s in (NAME, "O'Brien", PHONE, EMAIL))


def test_rows_written_before_encryption_are_sealed_when_the_database_opens(db_url):
    now = dt.datetime.now(dt.timezone.utc)
    slot = future_slots()[0]
    with database.engine().begin() as conn:
        if conn.dialect.name == "postgresql":  # as an earlier version made the table
            conn.exec_driver_sql("ALTER TABLE bookings ALTER COLUMN phone TYPE VARCHAR(32)")
        conn.execute(
            insert(database.bookings).values(
                reference="BK-OLDROW",
                status="booked",
                active=1,
                starts_at=slot.start,
                practitioner=slot.practitioner,
                patient_name=NAME,
                phone=PHONE,
                email=None,
                patient_type="new",
                reason="x",
                intake_summary="x",
                triage_level="routine",
                conversation_id="c",
                created_at=now,
                updated_at=now,
            )
        )
        conn.execute(
            insert(database.outbox).values(
                created_at=now,
                kind="booking.created",
                payload='{"id": "1", "name": "x"}',
                status="pending",
                attempts=0,
                next_attempt_at=now,
            )
        )
    reopen()
    with database.engine().connect() as conn:
        row = conn.execute(select(database.bookings)).one()
        payload = conn.execute(select(database.outbox.c.payload)).scalar_one()
        if conn.dialect.name == "postgresql":
            kind = conn.exec_driver_sql(
                "SELECT data_type FROM information_schema.columns "
                "WHERE table_name = 'bookings' AND column_name = 'phone'"
            ).scalar_one()
            assert kind == "text"
    assert row.patient_name.startswith(sealed.PREFIX) and row.phone.startswith(sealed.PREFIX)
    assert row.email is None and payload.startswith(sealed.PREFIX)
    assert find_booking("BK-OLDROW", PHONE).patient_name == NAME
