"""The console's HTML: one layout, and the pages for the clinic's records.

Server-rendered, no script. Every value goes through html.escape (`e`). Accessibility
(WCAG 2.1 AA): a language, a title per page, landmarks, a skip link, labelled controls,
tables with captions and scoped headers, visible focus and AA contrast (web/static/staff.css).
"""

from __future__ import annotations

import datetime as dt
import functools
from html import escape
from typing import Any
from urllib.parse import quote

from clinic.availability import clinic_tz
from clinic.knowledge import knowledge

NAV = (
    ("/staff/", "Overview"),
    ("/staff/bookings", "Bookings"),
    ("/staff/callbacks", "Call-backs"),
    ("/staff/red-flags", "Red flags"),
    ("/staff/handoffs", "Hand-offs"),
    ("/staff/conversations", "Conversations"),
    ("/staff/not-understood", "Not understood"),
    ("/staff/report", "Weekly report"),
    ("/staff/audit", "Audit log"),
)


def e(value: Any) -> str:
    """Escaped text; None shows as nothing."""
    return "" if value is None else escape(str(value), quote=True)


@functools.cache
def clinic_name() -> str:
    return knowledge().clinic.name


def when(value: dt.datetime | None) -> str:
    """A moment in the clinic's time zone, as a <time> element."""
    if value is None:
        return ""
    local = value.astimezone(clinic_tz())
    return f'<time datetime="{e(local.isoformat())}">{e(f"{local:%a %d %b %Y, %H:%M}")}</time>'


def conversation_link(conversation_id: str) -> str:
    href = "/staff/conversations/" + quote(conversation_id, safe="")
    return f'<a href="{e(href)}">{e(conversation_id)}</a>'


def level(value: str | None) -> str:
    """A triage level as text in a badge (the word carries the meaning, not the colour)."""
    name = (value or "unknown").lower()
    return f'<span class="level level-{e(name)}">{e(name)}</span>'


def flag_name(flag_id: str) -> str:
    found = knowledge().red_flags.get(flag_id)
    return found.name if found else flag_id.replace("_", " ")


def plural(n: int, word: str) -> str:
    return f"{n} {word}" + ("" if n == 1 else "s")


def csrf_field(token: str) -> str:
    return f'<input type="hidden" name="csrf" value="{e(token)}">'


def table(caption: str, headers: list[str], rows: list[list[str]], empty: str) -> str:
    """A data table; the first cell of each row is its header. Cells are HTML already."""
    if not rows:
        return f'<p class="empty">{e(empty)}</p>'
    head = "".join(f'<th scope="col">{e(h)}</th>' for h in headers)
    body = "".join(
        f'<tr><th scope="row">{row[0]}</th>{"".join(f"<td>{c}</td>" for c in row[1:])}</tr>'
        for row in rows
    )
    return (
        f'<div class="table-wrap"><table><caption>{e(caption)}</caption>'
        f"<thead><tr>{head}</tr></thead><tbody>{body}</tbody></table></div>"
    )


def notice(text: str | None) -> str:
    return f'<p class="notice" role="status">{e(text)}</p>' if text else ""


def document(title: str, body: str) -> str:
    return (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{e(title)} · Staff console · {e(clinic_name())}</title>"
        '<link rel="icon" href="/static/logo.svg" type="image/svg+xml">'
        '<link rel="stylesheet" href="/static/staff.css"></head><body>'
        '<a class="skip" href="#main">Skip to main content</a>'
        f"{body}</body></html>"
    )


def layout(title: str, body: str, *, user: str, csrf: str, current: str) -> str:
    """A signed-in page: header with the navigation and sign-out, then `body`."""
    here = ' aria-current="page"'
    links = "".join(
        f'<li><a href="{href}"{here if href == current else ""}>{e(label)}</a></li>'
        for href, label in NAV
    )
    header = (
        f'<header class="top"><p class="brand">{e(clinic_name())} · staff console</p>'
        f'<nav aria-label="Console sections"><ul>{links}</ul></nav>'
        '<form method="post" action="/staff/logout" class="signout">'
        f"{csrf_field(csrf)}<span>Signed in as <strong>{e(user)}</strong></span> "
        '<button type="submit">Sign out</button></form></header>'
    )
    main = f'<main id="main" tabindex="-1"><h1>{e(title)}</h1>{body}</main>'
    return document(title, header + main)


def login_page(*, token: str, next_path: str, error: str | None = None) -> str:
    alert = f'<p class="error" role="alert">{e(error)}</p>' if error else ""
    form = (
        '<form method="post" action="/staff/login" class="login">'
        f'<input type="hidden" name="csrf" value="{e(token)}">'
        f'<input type="hidden" name="next" value="{e(next_path)}">'
        '<p><label for="username">Account name</label>'
        '<input id="username" name="username" autocomplete="username" required '
        'autocapitalize="none" spellcheck="false" maxlength="64"></p>'
        '<p><label for="password">Password</label>'
        '<input id="password" name="password" type="password" '
        'autocomplete="current-password" required maxlength="1024"></p>'
        '<p><button type="submit">Sign in</button></p></form>'
    )
    main = (
        f'<main id="main" tabindex="-1" class="narrow"><h1>Staff sign-in</h1>'
        f"<p>{e(clinic_name())}: for the clinic's staff only.</p>{alert}{form}</main>"
    )
    return document("Sign in", main)


def error_page(status: int, message: str) -> str:
    main = (
        f'<main id="main" tabindex="-1" class="narrow"><h1>{e(message)}</h1>'
        f'<p>Error {status}. <a href="/staff/">Back to the staff console</a></p></main>'
    )
    return document(message, main)


def overview_page(counts: dict[str, int]) -> str:
    items = (
        ("/staff/bookings", "Upcoming bookings", counts["upcoming_bookings"]),
        ("/staff/callbacks", "Call-back requests to handle", counts["open_callbacks"]),
        ("/staff/red-flags", "Red flags in the last 7 days", counts["red_flags_7_days"]),
        ("/staff/handoffs", "Hand-offs not yet delivered", counts["pending_handoffs"]),
    )
    cards = "".join(
        f'<li><a href="{href}"><span class="count">{n}</span> {e(label)}</a></li>'
        for href, label, n in items
    )
    return f'<ul class="cards">{cards}</ul>'


def _contact(item: dict[str, Any]) -> str:
    parts = []
    if item.get("phone"):
        parts.append(f'<a href="tel:{e(item["phone"])}">{e(item["phone"])}</a>')
    if item.get("email"):
        parts.append(f'<a href="mailto:{e(item["email"])}">{e(item["email"])}</a>')
    return "<br>".join(parts) or "<em>removed</em>"


def bookings_page(items: list[dict[str, Any]]) -> str:
    rows = [
        [
            when(b["starts_at"]),
            f'<span class="nowrap">{e(b["reference"])}</span>',
            e(b["practitioner"]),
            f"{e(b['patient_name']) or '<em>removed</em>'}<br><small>{e(b['patient_type'])}"
            " patient</small>",
            _contact(b),
            e(b["reason"]),
            e(b["intake_summary"]) or "<em>none</em>",
            level(b["triage_level"]),
            conversation_link(b["conversation_id"]),
        ]
        for b in items
    ]
    headers = ["When", "Reference", "With", "Patient", "Contact", "Reason"]
    headers += ["Intake summary", "Triage", "Conversation"]
    return table("Upcoming appointments, soonest first", headers, rows, "No upcoming bookings.")


def _post_button(action: str, text: str, what: str, csrf: str) -> str:
    """A one-button form. Its name starts with its visible text, then says which row it acts
    on ("Mark done: call-back 3"), so speech input and screen readers agree (WCAG 2.5.3)."""
    return (
        f'<form method="post" action="{action}">{csrf_field(csrf)}'
        f'<button type="submit" aria-label="{e(text)}: {e(what)}">{e(text)}</button></form>'
    )


def _done_button(callback_id: int, csrf: str) -> str:
    return _post_button(
        f"/staff/callbacks/{callback_id}/done", "Mark done", f"call-back {callback_id}", csrf
    )


def callbacks_page(
    items: list[dict[str, Any]], *, csrf: str, include_done: bool, message: str | None
) -> str:
    rows = []
    for c in items:
        if c["status"] == "open":
            state = _done_button(c["id"], csrf)
        else:
            state = f"done by {e(c['handled_by'])}<br>{when(c['handled_at'])}"
        rows.append(
            [
                f"#{c['id']}",
                when(c["created_at"]),
                e(c["patient_name"]) or "<em>removed</em>",
                _contact(c),
                e(c["reason"]),
                e(c["intake_summary"]) or "<em>none</em>",
                level(c["triage_level"]),
                conversation_link(c["conversation_id"]),
                state,
            ]
        )
    toggle = (
        '<p><a href="/staff/callbacks">Show open requests only</a></p>'
        if include_done
        else '<p><a href="/staff/callbacks?all=1">Show handled requests too</a></p>'
    )
    headers = ["Request", "Asked", "Name", "Contact", "Reason", "Intake summary", "Triage"]
    headers += ["Conversation", "Status"]
    caption = "Call-back requests" if include_done else "Open call-back requests, oldest first"
    return notice(message) + toggle + table(caption, headers, rows, "No call-backs to handle.")


def red_flags_page(items: list[dict[str, Any]]) -> str:
    rows = [
        [
            f"#{r['id']}",
            when(r["created_at"]),
            level(r["level"]),
            "<br>".join(e(flag_name(f)) for f in r["flags"]),
            f"<q>{e(r['message'])}</q>",
            conversation_link(r["conversation_id"]),
        ]
        for r in items
    ]
    headers = ["Event", "When", "Level", "Signs", "What the patient wrote", "Conversation"]
    return table("Red flags the assistant answered, newest first", headers, rows, "None.")


def _iso_when(text: str) -> str:
    """A time written in a hand-off's payload (ISO 8601), shown like the others."""
    try:
        return when(dt.datetime.fromisoformat(text))
    except (TypeError, ValueError):
        return e(text)


def _retry_button(outbox_id: int, csrf: str) -> str:
    return _post_button(
        f"/staff/handoffs/{outbox_id}/retry", "Retry now", f"hand-off {outbox_id}", csrf
    )


def handoffs_page(
    items: list[dict[str, Any]], *, csrf: str, configured: bool, message: str | None
) -> str:
    warning = (
        ""
        if configured
        else '<p class="warning">No webhook is configured (HANDOFF_WEBHOOK_URL), so events '
        "stay here until one is; handle them from this list meanwhile.</p>"
    )
    rows = []
    for h in items:
        booking = f'<span class="nowrap">{e(h["reference"])}</span>' if h["reference"] else "—"
        if h["starts_at"]:
            booking += f"<br><small>{_iso_when(h['starts_at'])}</small>"
        tried = plural(h["attempts"], "attempt")
        if h["last_error"]:
            tried += f"<br><small>last error: {e(h['last_error'])}</small>"
        rows.append(
            [
                f"#{h['id']}",
                e(h["kind"]),
                when(h["created_at"]),
                booking,
                e(h["name"]) or "<em>removed</em>",
                _contact(h),
                tried + f"<br><small>next try {when(h['next_attempt_at'])}</small>",
                _retry_button(h["id"], csrf),
            ]
        )
    headers = ["Event", "Kind", "Created", "Booking", "Name", "Contact", "Delivery", "Action"]
    return (
        notice(message)
        + warning
        + table("Hand-offs not yet delivered, oldest first", headers, rows, "All delivered.")
    )


def audit_page(entries: list[Any], username: str | None) -> str:
    rows = [[when(a.at), e(a.username), e(a.what), e(a.client)] for a in entries]
    form = (
        '<form method="get" action="/staff/audit" class="filter" role="search">'
        '<label for="user">Account</label>'
        f'<input id="user" name="user" value="{e(username)}" maxlength="64">'
        '<button type="submit">Filter</button></form>'
    )
    caption = f"Views by {username}, newest first" if username else "Views, newest first"
    headers = ["When", "Account", "What was viewed", "From"]
    return form + table(caption, headers, rows, "No views recorded.")
