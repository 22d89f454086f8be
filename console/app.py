"""The staff console's pages: routing of GET and POST under /staff/, called by the clinic
page's web server (scripts/web.py) with a Request, answering with a Response.

Every page needs a signed-in session (else: to the sign-in page); every POST form carries
the session's CSRF token (else 403). Views of contact details or conversations are written
to the audit log before they are shown.
"""

from __future__ import annotations

import secrets
from http import HTTPStatus
from urllib.parse import quote, unquote

from clinic.availability import clinic_now
from console import accounts, api, audit, pages, queries, report, review_pages, sessions, tracker
from console.auth import Visitor, from_session, safe_next
from console.exchange import Request, Response, html, redirect
from console.routing import HttpError, find, flag, guarded, number, route

LOGIN_TOKEN_AGE = 3600


def _page(who: Visitor, title: str, body: str, current: str) -> Response:
    return html(pages.layout(title, body, user=who.username, csrf=who.csrf, current=current))


def _error(status: int, message: str) -> Response:
    return html(pages.error_page(status, message), status)


# --- signing in and out -------------------------------------------------------------------


def _login_form(request: Request, error: str | None = None, status: int = 200) -> Response:
    """The sign-in form with a fresh double-submit token (cookie and hidden field)."""
    token = secrets.token_urlsafe(24)
    next_path = safe_next(request.query.get("next") or request.form().get("next"))
    response = html(pages.login_page(token=token, next_path=next_path, error=error), status)
    cookie = sessions.cookie(
        sessions.LOGIN_COOKIE, token, secure=request.secure, max_age=LOGIN_TOKEN_AGE
    )
    response.headers.append(("Set-Cookie", cookie))
    return response


def login_get(request: Request) -> Response:
    if from_session(request):
        return redirect(safe_next(request.query.get("next")))
    return _login_form(request)


def login_post(request: Request) -> Response:
    form = request.form()
    expected = request.cookie(sessions.LOGIN_COOKIE)
    if not (expected and sessions.csrf_ok(expected, form.get("csrf"))):
        return _login_form(request, "The form had expired. Please sign in again.", 403)
    result = accounts.sign_in(form.get("username", ""), form.get("password", ""), request.client)
    if result.locked and not result.ok:
        response = _login_form(request, result.locked.message(), HTTPStatus.TOO_MANY_REQUESTS)
        response.headers.append(("Retry-After", str(result.locked.minutes() * 60)))
        return response
    if not result.username:
        return _login_form(request, "Wrong account name or password.", HTTPStatus.FORBIDDEN)
    token, _ = sessions.start(result.username)
    sessions.end_expired()  # housekeeping: sessions nobody came back to
    secure = request.secure
    return redirect(
        safe_next(form.get("next")),
        sessions.session_cookie(token, secure=secure),
        sessions.cleared_cookie(sessions.LOGIN_COOKIE, secure=secure),
    )


def logout(request: Request, who: Visitor) -> Response:
    sessions.end(request.cookie(sessions.COOKIE))
    cleared = sessions.cleared_cookie(sessions.COOKIE, secure=request.secure)
    return redirect("/staff/login", cleared)


# --- the records ----------------------------------------------------------------------------


def overview(request: Request, who: Visitor) -> Response:
    return _page(who, "Overview", pages.overview_page(queries.overview()), "/staff/")


def bookings(request: Request, who: Visitor) -> Response:
    items = queries.bookings()
    audit.record(who.username, "bookings list", request.client)
    return _page(who, "Upcoming bookings", pages.bookings_page(items), "/staff/bookings")


def callbacks(request: Request, who: Visitor) -> Response:
    include_done = flag(request.query, "all")
    items = queries.callbacks(include_done=include_done)
    audit.record(who.username, "call-back list", request.client)
    done = request.query.get("done", "")
    message = f"Call-back request #{done} marked done." if done.isdigit() else None
    body = pages.callbacks_page(items, csrf=who.csrf, include_done=include_done, message=message)
    return _page(who, "Call-back requests", body, "/staff/callbacks")


def callback_done(request: Request, who: Visitor, id: str) -> Response:
    if not queries.mark_callback_done(number(id), who.username):
        raise HttpError(HTTPStatus.NOT_FOUND, f"No open call-back request #{id}")
    return redirect(f"/staff/callbacks?done={number(id)}")


def red_flags(request: Request, who: Visitor) -> Response:
    items = queries.red_flags()
    audit.record(who.username, "red-flag list", request.client)
    return _page(who, "Red flags", pages.red_flags_page(items), "/staff/red-flags")


RETRY_MESSAGES = {
    "delivered": "Hand-off #{id} delivered.",
    "failed": "Hand-off #{id} failed again; its last error is below.",
    "pending": "Hand-off #{id} is due now; it is sent once a webhook is configured.",
    "busy": "Hand-off #{id} is being delivered right now.",
}


def handoffs(request: Request, who: Visitor) -> Response:
    items = queries.handoffs()
    audit.record(who.username, "hand-offs list", request.client)
    retried, outcome = request.query.get("retried", ""), request.query.get("outcome", "")
    template = RETRY_MESSAGES.get(outcome) if retried.isdigit() else None
    message = template.replace("{id}", retried) if template else None
    body = pages.handoffs_page(
        items, csrf=who.csrf, configured=queries.webhook_configured(), message=message
    )
    return _page(who, "Hand-offs not yet delivered", body, "/staff/handoffs")


def handoff_retry(request: Request, who: Visitor, id: str) -> Response:
    outcome = queries.retry_handoff(number(id))
    if not outcome["found"]:
        raise HttpError(HTTPStatus.NOT_FOUND, f"No pending hand-off #{id}")
    if outcome["delivered"]:
        state = "delivered"
    elif outcome["error"]:
        state = "failed"
    else:
        state = "busy" if queries.webhook_configured() else "pending"
    return redirect(f"/staff/handoffs?retried={number(id)}&outcome={state}")


# --- the conversations ----------------------------------------------------------------------


def conversations(request: Request, who: Visitor) -> Response:
    q = request.query.get("q", "").strip()[: tracker.MAX_QUERY]
    items = tracker.conversations(q)
    audit.record(who.username, f"conversation search {q!r}" if q else "conversation list",
                 request.client)  # fmt: skip
    body = review_pages.conversations_page(items, q)
    return _page(who, "Conversations", body, "/staff/conversations")


def transcript(request: Request, who: Visitor, id: str) -> Response:
    conversation_id = unquote(id)
    said = tracker.transcript(conversation_id)
    if said is None:
        raise HttpError(HTTPStatus.NOT_FOUND, "No such conversation")
    audit.record(who.username, f"transcript {conversation_id}", request.client)
    body = review_pages.transcript_page(conversation_id, said)
    return _page(who, "Conversation transcript", body, "/staff/conversations")


def not_understood(request: Request, who: Visitor) -> Response:
    items = tracker.not_understood()
    audit.record(who.username, "not-understood messages", request.client)
    body = review_pages.not_understood_page(items)
    return _page(who, "Messages not understood", body, "/staff/not-understood")


def weekly(request: Request, who: Visitor) -> Response:
    try:
        start = report.parse_week(request.query.get("week"))
    except ValueError:
        raise HttpError(HTTPStatus.BAD_REQUEST, "The week must be a date (YYYY-MM-DD)") from None
    body = review_pages.report_page(report.weekly(start), clinic_now().date())
    return _page(who, "Weekly report", body, "/staff/report")


def audit_log(request: Request, who: Visitor) -> Response:
    username = (request.query.get("user") or "").strip().lower()[:64] or None
    body = pages.audit_page(audit.entries(username=username), username)
    return _page(who, "Audit log", body, "/staff/audit")


ROUTES = [
    route("GET", r"/staff/", overview),
    route("POST", r"/staff/logout", logout),
    route("GET", r"/staff/bookings", bookings),
    route("GET", r"/staff/callbacks", callbacks),
    route("POST", r"/staff/callbacks/(?P<id>\d{1,12})/done", callback_done),
    route("GET", r"/staff/red-flags", red_flags),
    route("GET", r"/staff/handoffs", handoffs),
    route("POST", r"/staff/handoffs/(?P<id>\d{1,12})/retry", handoff_retry),
    route("GET", r"/staff/conversations", conversations),
    route("GET", r"/staff/conversations/(?P<id>[^/]{1,800})", transcript),
    route("GET", r"/staff/not-understood", not_understood),
    route("GET", r"/staff/report", weekly),
    route("GET", r"/staff/audit", audit_log),
]


def _answer(request: Request) -> Response:
    if request.path == "/staff/login":
        if request.method == "POST":
            return login_post(request)
        if request.method == "GET":
            return login_get(request)
        raise HttpError(HTTPStatus.METHOD_NOT_ALLOWED, "That action is not allowed here")
    handler, parts = find(ROUTES, request)
    who = from_session(request)
    if who is None:
        if request.method != "GET":
            raise HttpError(HTTPStatus.FORBIDDEN, "Your session has ended; please sign in again")
        target = request.path + (f"?{request.raw_query}" if request.raw_query else "")
        return redirect("/staff/login?next=" + quote(target, safe=""))
    if request.method == "POST" and not sessions.csrf_ok(who.csrf, request.form().get("csrf")):
        raise HttpError(HTTPStatus.FORBIDDEN, "The form had expired; go back and try again")
    return handler(request, who, **parts)


def handle(request: Request) -> Response:
    """The answer to one request under /staff (the API's too)."""
    if request.path == "/staff":
        return redirect("/staff/")
    if request.path == "/staff/api" or request.path.startswith("/staff/api/"):
        return api.handle(request)
    return guarded(lambda: _answer(request), _error)
