"""Records: the database, appointments, the hand-off outbox and its delivery, triage events."""
