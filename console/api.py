"""The JSON API under /staff/api/: the pages' data for the clinic's own tools.

HTTP Basic with a staff account (each attempt rate-limited like a sign-in), or the
browser's session; 401 with `WWW-Authenticate: Basic realm="staff"` without either. A POST
made with the session cookie needs the X-CSRF-Token header; one with Basic auth does not
(no cookie is involved, so another site cannot make the browser send it).
"""

from __future__ import annotations

import dataclasses
from http import HTTPStatus
from typing import Any
from urllib.parse import unquote

from console import audit, queries, report, tracker
from console.auth import TooManyAttempts, Visitor, api_visitor
from console.exchange import Request, Response, as_json
from console.routing import HttpError, find, flag, guarded, number, route
from console.sessions import csrf_ok


def _error(status: int, message: str) -> Response:
    return as_json({"error": message}, status)


def bookings(request: Request, who: Visitor) -> Response:
    items = queries.bookings()
    audit.record(who.username, "bookings list (API)", request.client)
    return as_json({"bookings": items})


def callbacks(request: Request, who: Visitor) -> Response:
    items = queries.callbacks(include_done=flag(request.query, "all"))
    audit.record(who.username, "call-back list (API)", request.client)
    return as_json({"callbacks": items})


def red_flags(request: Request, who: Visitor) -> Response:
    items = queries.red_flags()
    audit.record(who.username, "red-flag list (API)", request.client)
    return as_json({"red_flags": items})


def handoffs(request: Request, who: Visitor) -> Response:
    items = queries.handoffs()
    audit.record(who.username, "hand-offs list (API)", request.client)
    return as_json({"handoffs": items, "webhook_configured": queries.webhook_configured()})


def conversations(request: Request, who: Visitor) -> Response:
    q = request.query.get("q", "").strip()[: tracker.MAX_QUERY]
    items = tracker.conversations(q)
    audit.record(who.username, f"conversation search {q!r} (API)", request.client)
    return as_json({"query": q, "conversations": items})


def transcript(request: Request, who: Visitor, id: str) -> Response:
    conversation_id = unquote(id)
    said = tracker.transcript(conversation_id)
    if said is None:
        raise HttpError(HTTPStatus.NOT_FOUND, "no such conversation")
    audit.record(who.username, f"transcript {conversation_id} (API)", request.client)
    return as_json({"conversation_id": conversation_id, "messages": said})


def not_understood(request: Request, who: Visitor) -> Response:
    items = tracker.not_understood()
    audit.record(who.username, "not-understood messages (API)", request.client)
    return as_json({"messages": items})


def weekly(request: Request, who: Visitor) -> Response:
    try:
        start = report.parse_week(request.query.get("week"))
    except ValueError:
        raise HttpError(HTTPStatus.BAD_REQUEST, "week must be a date: YYYY-MM-DD") from None
    return as_json(report.weekly(start).as_dict())


def audit_log(request: Request, who: Visitor) -> Response:
    entries = audit.entries(username=request.query.get("user") or None)
    return as_json({"entries": [dataclasses.asdict(e) for e in entries]})


def callback_done(request: Request, who: Visitor, id: str) -> Response:
    if not queries.mark_callback_done(number(id), who.username):
        raise HttpError(HTTPStatus.NOT_FOUND, f"no open call-back request #{id}")
    return as_json({"id": number(id), "status": "done", "handled_by": who.username})


def handoff_retry(request: Request, who: Visitor, id: str) -> Response:
    outcome: dict[str, Any] = queries.retry_handoff(number(id))
    if not outcome["found"]:
        raise HttpError(HTTPStatus.NOT_FOUND, outcome["message"])
    return as_json(outcome)


ROUTES = [
    route("GET", r"/staff/api/bookings", bookings),
    route("GET", r"/staff/api/callbacks", callbacks),
    route("POST", r"/staff/api/callbacks/(?P<id>\d{1,12})/done", callback_done),
    route("GET", r"/staff/api/red-flags", red_flags),
    route("GET", r"/staff/api/handoffs", handoffs),
    route("POST", r"/staff/api/handoffs/(?P<id>\d{1,12})/retry", handoff_retry),
    route("GET", r"/staff/api/conversations", conversations),
    route("GET", r"/staff/api/conversations/(?P<id>[^/]{1,800})", transcript),
    route("GET", r"/staff/api/not-understood", not_understood),
    route("GET", r"/staff/api/report", weekly),
    route("GET", r"/staff/api/audit", audit_log),
]


def unauthorised() -> Response:
    response = _error(HTTPStatus.UNAUTHORIZED, "sign in: HTTP Basic with a staff account")
    response.headers.append(("WWW-Authenticate", 'Basic realm="staff", charset="UTF-8"'))
    return response


def _answer(request: Request) -> Response:
    try:
        who = api_visitor(request)
    except TooManyAttempts as refused:
        response = _error(HTTPStatus.TOO_MANY_REQUESTS, refused.lock.message())
        response.headers.append(("Retry-After", str(refused.lock.minutes() * 60)))
        return response
    if who is None:
        return unauthorised()
    handler, parts = find(ROUTES, request)
    session = who.session
    if (
        request.method == "POST"
        and session
        and not csrf_ok(session.csrf, request.headers.get("X-CSRF-Token"))
    ):
        raise HttpError(HTTPStatus.FORBIDDEN, "missing or wrong X-CSRF-Token header")
    return handler(request, who, **parts)


def handle(request: Request) -> Response:
    return guarded(lambda: _answer(request), _error)
