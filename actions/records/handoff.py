"""Hand-off to the clinic's own system: a persistent outbox delivered to a webhook.

A booking and its hand-off event are written in one transaction (bookings.py, outbox.py), so an
event is never lost when the webhook is down or the server restarts: `deliver_pending`
POSTs due events as JSON with an `Idempotency-Key` header (the receiver may see an event
twice after a crash, never zero times), marks 2xx answers delivered and backs off
exponentially otherwise. `OutboxWorker` runs those passes in a daemon thread of the action
server and wakes when the outbox announces a commit; `scripts/staff.py deliver` runs one by
hand. Settings: handoff.yml, beside this module.
Logs carry outbox ids, kinds and booking references, never names, phones or emails.
"""

from __future__ import annotations

import datetime as dt
import functools
import json
import logging
import os
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import requests
from sqlalchemy import func, select, update
from sqlalchemy.engine import Connection

from actions.records.database import engine, outbox, utc, utcnow, write
from actions.records.outbox import subscribe, unsubscribe
from actions.records.sealed import unseal
from clinic.knowledge import read_yaml

log = logging.getLogger(__name__)

CONFIG_PATH = Path(__file__).with_name("handoff.yml")


@dataclass(frozen=True)
class HandoffConfig:
    url_env: str
    token_env: str
    timeout_seconds: float
    backoff_base_seconds: float
    backoff_max_seconds: float
    poll_interval_seconds: float
    batch_size: int

    def url(self) -> str | None:
        return os.environ.get(self.url_env) or None

    def token(self) -> str | None:
        return os.environ.get(self.token_env) or None

    def backoff(self, attempts: int) -> dt.timedelta:
        """Wait after the `attempts`-th failure: base, 2 x base, 4 x base ... up to the max."""
        seconds = self.backoff_base_seconds * 2 ** max(attempts - 1, 0)
        return dt.timedelta(seconds=min(seconds, self.backoff_max_seconds))


@functools.cache
def config(path: Path = CONFIG_PATH) -> HandoffConfig:
    data = read_yaml(path)
    webhook, retry, worker = data["webhook"], data["retry"], data["worker"]
    return HandoffConfig(
        url_env=webhook["url_env"],
        token_env=webhook.get("token_env", ""),
        timeout_seconds=float(webhook["timeout_seconds"]),
        backoff_base_seconds=float(retry["backoff_base_seconds"]),
        backoff_max_seconds=float(retry["backoff_max_seconds"]),
        poll_interval_seconds=float(worker["poll_interval_seconds"]),
        batch_size=int(worker.get("batch_size", 20)),
    )


# --- delivery -------------------------------------------------------------------------------


def _rows_changed(stmt: Any) -> Callable[[Connection], int]:
    """A transaction's work: run `stmt`, and say how many rows it changed."""

    def work(conn: Connection) -> int:
        return conn.execute(stmt).rowcount

    return work


def _claim_due(now: dt.datetime, cfg: HandoffConfig) -> list[Any]:
    """Due pending rows, each leased by moving its next attempt past the request timeout, so
    that a worker and a manual `deliver` running at once do not both post it."""
    query = (
        select(outbox)
        .where(outbox.c.status == "pending", outbox.c.next_attempt_at <= now)
        .order_by(outbox.c.id)
        .limit(cfg.batch_size)
    )
    with engine().connect() as conn:
        rows = list(conn.execute(query))
    lease = now + dt.timedelta(seconds=cfg.timeout_seconds + 30)
    claimed = []
    for row in rows:
        stmt = (
            update(outbox)
            .where(
                outbox.c.id == row.id,
                outbox.c.status == "pending",
                outbox.c.next_attempt_at == utc(row.next_attempt_at),
            )
            .values(next_attempt_at=lease)
        )
        if write(_rows_changed(stmt)) == 1:
            claimed.append(row)
    return claimed


def _post(row: Any, url: str, session: requests.Session, cfg: HandoffConfig) -> str | None:
    """POST one event; None when the receiver accepted it, else a short error (no PII)."""
    text = unseal(row.payload) or ""
    body = json.loads(text)
    headers = {"Content-Type": "application/json", "Idempotency-Key": body["id"]}
    token = cfg.token()
    if token:
        headers["Authorization"] = f"Bearer {token}"
    try:
        response = session.post(
            url, data=text.encode("utf-8"), headers=headers, timeout=cfg.timeout_seconds
        )
    except requests.RequestException as exc:
        return f"{type(exc).__name__}: could not reach the webhook"
    if 200 <= response.status_code < 300:
        return None
    return f"HTTP {response.status_code}"


def _record(row: Any, error: str | None, now: dt.datetime, cfg: HandoffConfig) -> None:
    if error is None:
        values = {
            "status": "delivered",
            "attempts": row.attempts + 1,
            "delivered_at": utcnow(),
            "last_error": None,
        }
    else:
        attempts = row.attempts + 1
        values = {
            "attempts": attempts,
            "next_attempt_at": now + cfg.backoff(attempts),
            "last_error": error[:500],
        }
    stmt = update(outbox).where(outbox.c.id == row.id).values(**values)
    write(lambda conn: conn.execute(stmt))


def pending_count() -> int:
    query = select(func.count()).where(outbox.c.status == "pending")
    with engine().connect() as conn:
        return conn.execute(query).scalar_one()


def deliver_pending(
    *,
    now: dt.datetime | None = None,
    url: str | None = None,
    session: requests.Session | None = None,
) -> dict[str, Any]:
    """One delivery pass over the due events; a report of what happened.

    Without a webhook URL nothing is sent: events stay pending for when one is configured."""
    cfg = config()
    url = url or cfg.url()
    now = utc(now) if now is not None else utcnow()
    report: dict[str, Any] = {"url_configured": bool(url), "attempted": 0, "delivered": 0}
    report.update(failed=0, errors=[])
    if not url:
        report["pending"] = pending_count()
        report["message"] = f"no webhook configured (set {cfg.url_env}); events stay pending"
        return report
    own_session = session is None
    session = session or requests.Session()
    try:
        for row in _claim_due(now, cfg):
            error = _post(row, url, session, cfg)
            _record(row, error, now, cfg)
            report["attempted"] += 1
            if error is None:
                report["delivered"] += 1
                log.info("hand-off %s (%s) delivered", row.id, row.kind)
            else:
                report["failed"] += 1
                report["errors"].append({"id": row.id, "error": error})
                log.warning("hand-off %s (%s) failed: %s", row.id, row.kind, error)
    finally:
        if own_session:
            session.close()
    report["pending"] = pending_count()
    report["message"] = (
        f"{report['delivered']} delivered, {report['failed']} failed, {report['pending']} pending"
    )
    return report


def retry_now(
    outbox_id: int, *, url: str | None = None, session: requests.Session | None = None
) -> dict[str, Any]:
    """Deliver one pending event now, whatever its backoff (the staff console's "Retry
    now"): `found`, `delivered`, `error` and a `message` for staff.

    Without a webhook its next attempt is simply made due. An event the worker is posting
    at this moment (leased) is left to it."""
    cfg = config()
    url = url or cfg.url()
    now = utcnow()
    query = select(outbox).where(outbox.c.id == outbox_id, outbox.c.status == "pending")
    with engine().connect() as conn:
        row = conn.execute(query).first()
    outcome: dict[str, Any] = {"id": outbox_id, "found": row is not None, "delivered": False}
    outcome["error"] = None
    if row is None:
        return {**outcome, "message": f"no pending hand-off #{outbox_id}"}
    due = update(outbox).where(
        outbox.c.id == row.id,
        outbox.c.status == "pending",
        outbox.c.next_attempt_at == utc(row.next_attempt_at),
    )
    if not url:
        write(_rows_changed(due.values(next_attempt_at=now)))
        return {
            **outcome,
            "message": f"no webhook configured (set {cfg.url_env}); it stays pending",
        }
    lease = now + dt.timedelta(seconds=cfg.timeout_seconds + 30)
    if write(_rows_changed(due.values(next_attempt_at=lease))) != 1:
        return {**outcome, "message": f"hand-off #{outbox_id} is being delivered right now"}
    own_session = session is None
    session = session or requests.Session()
    try:
        error = _post(row, url, session, cfg)
    finally:
        if own_session:
            session.close()
    _record(row, error, now, cfg)
    log.info("hand-off %s (%s) retried by staff: %s", row.id, row.kind, error or "delivered")
    if error is None:
        return {**outcome, "delivered": True, "message": f"hand-off #{outbox_id} delivered"}
    return {**outcome, "error": error, "message": f"hand-off #{outbox_id} failed: {error}"}


def pending_handoffs(limit: int = 50, *, include_delivered: bool = False) -> list[dict[str, Any]]:
    """Outbox events for staff, oldest first, with the booking reference, time and patient."""
    query = select(outbox).order_by(outbox.c.id).limit(limit)
    if not include_delivered:
        query = query.where(outbox.c.status == "pending")
    with engine().connect() as conn:
        rows = list(conn.execute(query))
    return [_describe(row) for row in rows]


def _describe(row: Any) -> dict[str, Any]:
    body = json.loads(unseal(row.payload) or "{}")
    booking = body.get("booking") or {}
    person = booking.get("patient") or body.get("callback") or {}
    return {
        "id": row.id,
        "kind": row.kind,
        "status": row.status,
        "created_at": utc(row.created_at),
        "attempts": row.attempts,
        "next_attempt_at": utc(row.next_attempt_at),
        "last_error": row.last_error,
        "delivered_at": utc(row.delivered_at) if row.delivered_at else None,
        "reference": booking.get("reference"),
        "starts_at": booking.get("starts_at"),
        "previous_starts_at": body.get("previous_starts_at"),
        "name": person.get("name"),
        "phone": person.get("phone"),
        "email": person.get("email"),
        "triage_level": body.get("triage_level"),
    }


# --- background worker ----------------------------------------------------------------------

_default_worker: OutboxWorker | None = None


class OutboxWorker(threading.Thread):
    """Delivery passes every poll interval, or at once when the outbox announces a commit;
    never dies of an error (it logs the error's type and tries again next time)."""

    def __init__(self, *, poll_interval: float | None = None, url: str | None = None) -> None:
        super().__init__(name="handoff-outbox", daemon=True)
        self.poll_interval = poll_interval or config().poll_interval_seconds
        self.url = url
        self._wake = threading.Event()
        self._stopping = threading.Event()
        self._warned_no_url = False

    def start(self) -> None:
        subscribe(self.nudge)
        super().start()

    def nudge(self) -> None:
        self._wake.set()

    def stop(self, timeout: float = 10) -> None:
        self._stopping.set()
        self._wake.set()
        if self.is_alive():
            self.join(timeout)
        unsubscribe(self.nudge)

    def run(self) -> None:
        while not self._stopping.is_set():
            self._wake.clear()  # a nudge during the pass triggers another pass
            self._pass()
            self._wake.wait(self.poll_interval)

    def _pass(self) -> None:
        try:
            report = deliver_pending(url=self.url)
        except Exception as exc:  # keep serving: the outbox keeps the events
            log.error("hand-off pass failed: %s", type(exc).__name__)
            return
        if not report["url_configured"] and not self._warned_no_url:
            log.warning("hand-off: %s", report["message"])
            self._warned_no_url = True


def start_worker() -> OutboxWorker:
    """The process's outbox worker, started once (scripts/action_server.py)."""
    global _default_worker
    if _default_worker is None or not _default_worker.is_alive():
        _default_worker = OutboxWorker()
        _default_worker.start()
        configured = "configured" if config().url() else "not configured (events stay pending)"
        log.info("hand-off worker started; webhook %s", configured)
    return _default_worker
