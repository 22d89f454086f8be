"""One request and its response, apart from the HTTP server: the console's handlers take a
Request and return a Response, so they are tested without sockets and served by
scripts/web.py's handler.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, field
from http import HTTPStatus
from http.cookies import CookieError, SimpleCookie
from typing import Any, Protocol
from urllib.parse import parse_qs

#: The largest request body the console reads (a sign-in or a button's form is < 1 kB).
MAX_BODY = 16 * 1024
LOOPBACK = ("127.0.0.1", "::1", "::ffff:127.0.0.1")

#: Sent with every console response: nothing cached, framed, sniffed or sent elsewhere.
SECURITY_HEADERS = (
    ("Cache-Control", "no-store"),
    ("X-Content-Type-Options", "nosniff"),
    ("X-Frame-Options", "DENY"),
    ("Referrer-Policy", "no-referrer"),
    (
        "Content-Security-Policy",
        "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; "
        "frame-ancestors 'none'; base-uri 'none'",
    ),
)


class Headers(Protocol):
    """What the console reads of request headers: `get`, case-insensitive in a server's
    headers (http.server's `Message`), exact in a test's dict."""

    def get(self, name: str, default: Any = None, /) -> Any: ...


@dataclass
class Request:
    method: str
    path: str  # without the query string, still percent-encoded
    query: dict[str, str]
    headers: Headers
    body: bytes = b""
    peer: str = "127.0.0.1"  # the socket's address
    raw_query: str = ""

    @classmethod
    def parse_query(cls, text: str) -> dict[str, str]:
        """Fields of a query string or form body, the first value of each."""
        try:
            pairs = parse_qs(text, keep_blank_values=True, max_num_fields=50)
        except ValueError:  # more fields than any form of ours has
            return {}
        return {k: v[0] for k, v in pairs.items()}

    @classmethod
    def of(cls, method: str, target: str, headers: Headers, **more: Any) -> Request:
        """A Request for `target` (path and query string, as on the request line)."""
        path, _, query = target.partition("?")
        return cls(method, path, cls.parse_query(query), headers, raw_query=query, **more)

    @property
    def client(self) -> str:
        """The client's address: nginx's X-Forwarded-For (its last hop) when the request
        came through a proxy on this machine, else the socket's."""
        forwarded = self.headers.get("X-Forwarded-For") or ""
        if self.peer in LOOPBACK and forwarded.strip():
            return forwarded.split(",")[-1].strip()[:64]
        return self.peer[:64]

    @property
    def secure(self) -> bool:
        return (self.headers.get("X-Forwarded-Proto") or "").strip().lower() == "https"

    def cookie(self, name: str) -> str | None:
        jar: SimpleCookie = SimpleCookie()
        try:
            jar.load(self.headers.get("Cookie") or "")
        except CookieError:
            return None
        morsel = jar.get(name)
        return morsel.value if morsel else None

    def form(self) -> dict[str, str]:
        """A url-encoded form body's fields (first value each); {} for anything else."""
        kind = (self.headers.get("Content-Type") or "").split(";")[0].strip().lower()
        if kind != "application/x-www-form-urlencoded":
            return {}
        try:
            text = self.body.decode("utf-8")
        except UnicodeDecodeError:
            return {}
        return self.parse_query(text)


@dataclass
class Response:
    status: int
    body: bytes
    content_type: str = "text/html; charset=utf-8"
    headers: list[tuple[str, str]] = field(default_factory=list)

    def all_headers(self) -> list[tuple[str, str]]:
        return [("Content-Type", self.content_type), *SECURITY_HEADERS, *self.headers]


def html(text: str, status: int = HTTPStatus.OK) -> Response:
    return Response(int(status), text.encode("utf-8"))


def _default(value: Any) -> Any:
    if isinstance(value, (dt.datetime, dt.date)):
        return value.isoformat()
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


def as_json(value: Any, status: int = HTTPStatus.OK) -> Response:
    body = json.dumps(value, default=_default, ensure_ascii=False, indent=1)
    return Response(int(status), body.encode("utf-8"), "application/json; charset=utf-8")


def redirect(location: str, *cookies: str) -> Response:
    """303 See Other (after a form, the browser GETs the next page)."""
    headers = [("Location", location), *(("Set-Cookie", c) for c in cookies)]
    return Response(int(HTTPStatus.SEE_OTHER), b"", "text/plain; charset=utf-8", headers)
