"""The example clinic page with the chat widget, served on loopback (`make run` starts it).

    python scripts/web.py --port 8080 --socket-url http://localhost:5005

`web/index.html` is a template: the clinic's own details come from knowledge/clinic.yml at
serve time, so a real clinic edits one file. The widget is the npm package rasa-webchat,
installed by `npm ci` in web/ from the committed lock and served from the project (no CDN).
"""

from __future__ import annotations

import argparse
import functools
import html
import mimetypes
import sys
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

WEB = ROOT / "web"
STATIC = WEB / "static"
WIDGET = WEB / "node_modules" / "rasa-webchat" / "lib" / "index.js"


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


class Handler(BaseHTTPRequestHandler):
    socket_url = "http://localhost:5005"

    def do_GET(self) -> None:
        path = self.path.split("?", 1)[0]
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

    def log_message(self, format: str, *args) -> None:
        sys.stderr.write("web: " + (format % args) + "\n")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8080)
    parser.add_argument("--socket-url", default="http://localhost:5005")
    args = parser.parse_args(argv)
    if not WIDGET.exists():
        print(f"{WIDGET} is missing: run `npm ci` in web/ (make run does).", file=sys.stderr)
        return 1
    Handler.socket_url = args.socket_url
    page(args.socket_url)  # a broken template or clinic.yml fails here, not on a visit
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
