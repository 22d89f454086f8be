"""The example clinic page with the chat widget, served on loopback (`make run` starts it).

    python scripts/web.py --port 8080 --socket-url http://localhost:5005

`web/index.html` is a template: the clinic's own details come from knowledge/clinic.yml at
serve time, so a real clinic edits one file. The widget is the npm package rasa-webchat,
installed by `npm ci` in web/ from the committed lock, patched at build time
(scripts/patch_widget.py) and served from the project (no CDN).
The staff console (package `console`) answers everything under /staff.
"""

from __future__ import annotations

import argparse
import functools
import html
import importlib
import mimetypes
import sys
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

WEB = ROOT / "web"
STATIC = WEB / "static"
#: rasa-webchat as `make web` builds it: the npm bundle with web/patches/rasa-webchat.yml applied.
WIDGET = ROOT / "build" / "web" / "rasa-webchat.js"


def hours_html(clinic) -> str:
    """Opening-hours table rows, one per run of weekdays with the same hours."""
    from clinic.knowledge.wording import hours_runs

    rows = []
    for run in hours_runs(clinic.hours):
        days = run.first[:3].title()
        if run.last != run.first:
            days += f"–{run.last[:3].title()}"
        hours = ", ".join(r.replace("-", "–") for r in run.ranges) or "closed"
        rows.append(f"<tr><th>{html.escape(days)}</th><td>{html.escape(hours)}</td></tr>")
    return "\n".join(rows)


@functools.cache
def page(socket_url: str) -> bytes:
    """web/index.html with the clinic's details filled in (escaped) and the socket URL."""
    from clinic.knowledge import knowledge
    from clinic.knowledge.wording import clinic_fields

    clinic = knowledge().clinic
    fields = {k: v for k, v in clinic_fields(knowledge()).items() if isinstance(v, str)}
    fields["socket_url"] = socket_url
    text = (WEB / "index.html").read_text(encoding="utf-8")
    for key, value in fields.items():
        text = text.replace("{{" + key + "}}", html.escape(value))
    return text.replace("{{hours_html}}", hours_html(clinic)).encode()


def resolve(path: str) -> Path | None:
    """The file for a /static/ path, never outside web/static (no `..` escapes)."""
    if path == "/static/rasa-webchat/index.js":
        return WIDGET if WIDGET.exists() else None
    if not path.startswith("/static/"):
        return None
    target = (STATIC / path.removeprefix("/static/")).resolve()
    if STATIC.resolve() not in target.parents or not target.is_file():
        return None
    return target


def is_console(path: str) -> bool:
    return path == "/staff" or path.startswith("/staff/")


class Handler(BaseHTTPRequestHandler):
    socket_url = "http://localhost:5005"
    timeout = 60  # seconds a client may take to send its request (no slow-loris threads)

    def do_GET(self) -> None:
        path = self.path.split("?", 1)[0]
        if is_console(path):
            self._console()
            return
        if path in ("/", "/index.html"):
            self._send(page(self.socket_url), "text/html; charset=utf-8")
            return
        if path == "/health":
            self._send(b"ok", "text/plain")
            return
        if path.startswith("/calendar/"):
            self._calendar(path)
            return
        target = resolve(path)
        if target is None:
            self.send_error(HTTPStatus.NOT_FOUND)
            return
        kind = mimetypes.guess_type(target.name)[0] or "application/octet-stream"
        self._send(target.read_bytes(), kind)

    def do_POST(self) -> None:
        if is_console(self.path.split("?", 1)[0]):
            self._console()
            return
        self.send_error(HTTPStatus.METHOD_NOT_ALLOWED)

    def _console(self) -> None:
        """The staff console: its own routing, sign-in and errors (console/app.py). A body
        over console.exchange.MAX_BODY is refused (413) unhandled; up to 64 times that is
        read and dropped first, so that the client can read the refusal."""
        from console.app import handle
        from console.exchange import MAX_BODY, Request

        try:
            length = int(self.headers.get("Content-Length") or 0)
        except ValueError:
            length = -1
        if not 0 <= length <= MAX_BODY:
            remaining = length if length <= 64 * MAX_BODY else 0
            while remaining > 0:  # read and drop a modest one, so the client sees the answer
                chunk = self.rfile.read(min(MAX_BODY, remaining))
                if not chunk:
                    break
                remaining -= len(chunk)
            self.close_connection = True
            self.send_error(
                HTTPStatus.REQUEST_ENTITY_TOO_LARGE if length > 0 else HTTPStatus.BAD_REQUEST
            )
            return
        body = self.rfile.read(length) if length else b""
        request = Request.of(
            self.command, self.path, self.headers, body=body, peer=self.client_address[0]
        )
        response = handle(request)
        self.send_response(response.status)
        for name, value in response.all_headers():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(response.body)))
        self.end_headers()
        self.wfile.write(response.body)

    def _calendar(self, path: str) -> None:
        """A booking's calendar file, for the link in its confirmation (an unguessable token
        per booking: actions/records/calendar_file.py); 404 for anything else."""
        from actions.records.calendar_file import booking_for_path, calendar_file

        try:
            booking = booking_for_path(path)
        except Exception as exc:  # the database is down: say so, and no details
            sys.stderr.write(f"web: calendar lookup failed: {type(exc).__name__}\n")
            self.send_error(HTTPStatus.SERVICE_UNAVAILABLE)
            return
        if booking is None:
            self.send_error(HTTPStatus.NOT_FOUND)
            return
        self.send_response(HTTPStatus.OK)
        body = calendar_file(booking)
        self.send_header("Content-Type", "text/calendar; charset=utf-8")
        self.send_header("Content-Disposition", f'attachment; filename="{booking.reference}.ics"')
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        self.end_headers()
        self.wfile.write(body)

    def _send(self, body: bytes, kind: str) -> None:
        self.send_response(HTTPStatus.OK)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-cache")
        self.end_headers()
        self.wfile.write(body)

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        """One line per request; a console request's query (a search may hold a phone
        number) is left out, and phone numbers or emails in its path are masked."""
        from clinic.privacy import redact

        line = self.requestline
        if is_console(self.path.split("?", 1)[0]):
            line = f"{self.command} {redact(self.path.split('?', 1)[0])}"
        self.log_message('"%s" %s %s', line, str(code), str(size))

    def log_message(self, format: str, *args) -> None:
        sys.stderr.write("web: " + (format % args) + "\n")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8080)
    parser.add_argument("--socket-url", default="http://localhost:5005")
    args = parser.parse_args(argv)
    if not WIDGET.exists():
        print(f"{WIDGET} is missing: run `make web` (make run does).", file=sys.stderr)
        return 1
    Handler.socket_url = args.socket_url
    page(args.socket_url)  # a broken template or clinic.yml fails here, not on a visit
    importlib.import_module("console.app")  # the staff console, loaded before its first visit
    server = ThreadingHTTPServer((args.host, args.port), Handler)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
