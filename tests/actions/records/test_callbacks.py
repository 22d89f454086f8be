"""Call-back requests for staff (actions/records/callbacks.py): written with their hand-off
event, sealed at rest, open until marked done once; on SQLite and on PostgreSQL."""

from __future__ import annotations

import sqlite3

from sqlalchemy import select

from actions.records import callbacks, database
from tests.actions.records.samples import EMAIL, NAME, PHONE, call_back


def test_a_request_is_open_for_staff_and_queued_for_the_clinic(db_url) -> None:
    outbox_id = call_back()
    [request] = callbacks.list_callbacks()
    assert (request.patient_name, request.phone, request.email) == (NAME, PHONE, EMAIL)
    assert (request.status, request.reason, request.triage_level) == ("open", "sciatica", "routine")
    with database.engine().connect() as conn:
        kinds = [r.kind for r in conn.execute(select(database.outbox.c.id, database.outbox.c.kind))]
        assert kinds == ["callback.requested"] and outbox_id


def test_contact_details_are_sealed_at_rest(tmp_path, monkeypatch) -> None:
    path = tmp_path / "clinic.db"
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{path}")
    call_back()
    raw = path.read_bytes()
    for secret in (NAME, PHONE, EMAIL):
        assert secret.encode() not in raw
    with sqlite3.connect(path) as conn:
        assert conn.execute("SELECT patient_name FROM callbacks").fetchone()[0].startswith("enc1:")


def test_marked_done_once_and_then_left_out_of_the_open_list(db_url) -> None:
    call_back("conv-1")
    call_back("conv-2")
    first, second = callbacks.list_callbacks()
    assert callbacks.mark_done(first.id, "admin") is True
    assert callbacks.mark_done(first.id, "admin") is False  # already done
    assert callbacks.mark_done(999, "admin") is False
    assert [c.id for c in callbacks.list_callbacks()] == [second.id]
    done = next(c for c in callbacks.list_callbacks(include_done=True) if c.id == first.id)
    assert (done.status, done.handled_by) == ("done", "admin") and done.handled_at


def test_a_conversation_s_own_requests(db_url) -> None:
    call_back("conv-1")
    call_back("conv-2")
    assert [c.conversation_id for c in callbacks.list_for("conv-2")] == ["conv-2"]
