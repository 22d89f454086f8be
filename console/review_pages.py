"""The console's HTML for the conversations: search, a transcript, the messages not
understood, and the weekly report with its charts (see pages.py for the layout)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from console import charts
from console.pages import conversation_link, e, flag_name, plural, table, when
from console.report import WeeklyReport


def conversations_page(items: list[dict[str, Any]], q: str) -> str:
    form = (
        '<form method="get" action="/staff/conversations" class="filter" role="search">'
        '<label for="q">Conversation id or words the patient typed</label>'
        f'<input id="q" name="q" type="search" value="{e(q)}" maxlength="200">'
        '<button type="submit">Search</button></form>'
    )
    rows = [
        [
            conversation_link(c["conversation_id"]),
            when(c["started_at"]),
            when(c["last_message_at"]),
            str(c["user_messages"]),
        ]
        for c in items
    ]
    caption = f"Conversations matching “{q}”" if q else "Latest conversations"
    empty = "No conversation matches." if q else "No conversations yet."
    headers = ["Conversation", "Started", "Last message", "Patient messages"]
    return form + table(caption, headers, rows, empty)


def transcript_page(conversation_id: str, said: list[dict[str, Any]]) -> str:
    if not said:
        return "<p class='empty'>Nothing was said in this conversation.</p>"
    items = []
    for turn in said:
        who = "Patient" if turn["speaker"] == "user" else "Assistant"
        intent = (
            f' <span class="intent">understood as {e(turn["intent"])}</span>'
            if turn.get("intent")
            else ""
        )
        items.append(
            f'<li class="turn turn-{e(turn["speaker"])}"><p class="meta"><strong>{who}</strong>'
            f" {when(turn['at'])}{intent}</p><p class='said'>{e(turn['text'])}</p></li>"
        )
    back = '<p><a href="/staff/conversations">Back to the conversations</a></p>'
    heading = f"<p>Conversation <code>{e(conversation_id)}</code>, oldest first.</p>"
    return back + heading + f'<ol class="transcript">{"".join(items)}</ol>'


def not_understood_page(items: list[dict[str, Any]]) -> str:
    rows = [
        [
            when(m["at"]),
            f"<q>{e(m['text'])}</q>",
            "fallback (unsure)" if m["intent"] == "nlu_fallback" else "out of scope",
            conversation_link(m["conversation_id"]),
        ]
        for m in items
    ]
    headers = ["When", "What the patient wrote", "Read as", "Conversation"]
    return (
        "<p>Messages the assistant answered with its fallback or its out-of-scope reply: "
        "training material for the next model.</p>"
        + table("Messages not understood, newest first", headers, rows, "None.")
    )


def _percent(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.0%}"


def _week_nav(report: WeeklyReport, today: dt.date) -> str:
    earlier = report.start - dt.timedelta(days=7)
    later = report.start + dt.timedelta(days=7)
    links = [f'<a href="/staff/report?week={earlier.isoformat()}">Previous 7 days</a>']
    if later <= today:
        links.append(f'<a href="/staff/report?week={later.isoformat()}">Next 7 days</a>')
    links.append('<a href="/staff/report">Last 7 days</a>')
    form = (
        '<form method="get" action="/staff/report" class="filter">'
        '<label for="week">Week starting</label>'
        f'<input id="week" name="week" type="date" value="{report.start.isoformat()}">'
        '<button type="submit">Show</button></form>'
    )
    return f'<nav aria-label="Weeks" class="weeks">{" · ".join(links)}</nav>{form}'


def report_page(report: WeeklyReport, today: dt.date) -> str:
    labels = [f"{d:%a %d}" for d in report.days]
    period = f"{report.start:%a %d %b %Y} to {report.end:%a %d %b %Y}"
    shares = [report.share(i) for i in range(len(report.days))]
    totals = (
        f"<ul class='totals'><li>{plural(report.total_conversations, 'conversation')}</li>"
        f"<li>{plural(sum(report.bookings), 'booking')} made</li>"
        f"<li>{plural(report.red_flag_events, 'red-flag event')}</li>"
        f"<li>{_percent(report.share())} of {plural(sum(report.user_messages), 'patient message')}"
        " not understood</li></ul>"
    )
    day_rows = [
        [
            e(f"{d:%a %d %b}"),
            str(report.conversations[i]),
            str(report.bookings[i]),
            str(report.user_messages[i]),
            str(report.not_understood[i]),
            _percent(shares[i]),
        ]
        for i, d in enumerate(report.days)
    ]
    day_headers = ["Day", "Conversations", "Bookings made", "Patient messages"]
    day_headers += ["Not understood", "Share not understood"]
    kinds = [(flag_name(k), v) for k, v in report.red_flags.items()]
    flag_rows = [[e(name), str(n)] for name, n in kinds]
    sections = [
        ("Conversations per day", charts.columns("chart-conv", "Conversations per day",
                                                 labels, report.conversations)),
        ("Bookings made per day", charts.columns("chart-book", "Bookings made per day",
                                                 labels, report.bookings)),
        ("Share of patient messages not understood", charts.columns(
            "chart-miss", "Share of patient messages not understood, per day", labels,
            shares, label_value=_percent, scale_max=1.0)),
        ("Red flags by kind", charts.rows("chart-flags", "Red flags by kind", kinds)),
    ]  # fmt: skip
    figures = "".join(
        f"<section><h2>{e(title)}</h2><figure>{svg}<figcaption>{e(title)}, {e(period)}"
        "</figcaption></figure></section>"
        for title, svg in sections
    )
    numbers = table(f"Day by day, {period}", day_headers, day_rows, "No days.") + table(
        f"Red flags by kind, {period}", ["Sign", "Events"], flag_rows, "No red flags."
    )
    return (
        _week_nav(report, today)
        + f"<p>{e(period)} (clinic time).</p>"
        + totals
        + figures
        + "<section><h2>The numbers</h2>"
        + numbers
        + "</section>"
    )
