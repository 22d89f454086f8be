"""A small HTTP client for the console's tests: no redirects followed, cookies kept by
hand (so each one's flags can be checked), Basic auth when asked (not a test module)."""

from __future__ import annotations

import base64
import re
import urllib.error
import urllib.request
from dataclasses import dataclass
from email.message import Message
from urllib.parse import urlencode


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


@dataclass
class Answer:
    status: int
    headers: Message
    body: bytes

    @property
    def text(self) -> str:
        return self.body.decode("utf-8")

    def cookies(self) -> list[str]:
        return self.headers.get_all("Set-Cookie") or []

    def cookie(self, name: str) -> str | None:
        """The whole Set-Cookie value for `name` (with its flags), if set."""
        return next((c for c in self.cookies() if c.startswith(name + "=")), None)

    def json(self):
        import json

        return json.loads(self.body)


def basic(username: str, password: str) -> dict[str, str]:
    token = base64.b64encode(f"{username}:{password}".encode()).decode()
    return {"Authorization": f"Basic {token}"}


class Client:
    def __init__(self, base: str) -> None:
        self.base = base
        self.jar: dict[str, str] = {}
        self.opener = urllib.request.build_opener(_NoRedirects)

    def request(
        self,
        method: str,
        path: str,
        *,
        data: bytes | None = None,
        headers: dict[str, str] | None = None,
        cookies: bool = True,
    ) -> Answer:
        sent = dict(headers or {})
        if cookies and self.jar:
            sent["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.jar.items())
        request = urllib.request.Request(self.base + path, data=data, headers=sent, method=method)
        try:
            with self.opener.open(request, timeout=30) as response:
                answer = Answer(response.status, response.headers, response.read())
        except urllib.error.HTTPError as error:
            answer = Answer(error.code, error.headers, error.read())
        for header in answer.cookies():
            name, _, rest = header.partition("=")
            value = rest.split(";", 1)[0]
            if "Max-Age=0" in header:
                self.jar.pop(name, None)
            else:
                self.jar[name] = value
        return answer

    def cookie_names(self) -> set[str]:
        return set(self.jar)

    def get(self, path: str, **kwargs) -> Answer:
        return self.request("GET", path, **kwargs)

    def post(self, path: str, fields: dict[str, str] | None = None, **kwargs) -> Answer:
        headers = {"Content-Type": "application/x-www-form-urlencoded", **kwargs.pop("headers", {})}
        data = urlencode(fields or {}).encode()
        return self.request("POST", path, data=data, headers=headers, **kwargs)

    def login_form_token(self) -> str:
        page = self.get("/staff/login")
        assert page.status == 200, page.status
        return re.search(r'name="csrf" value="([^"]+)"', page.text).group(1)

    def sign_in(self, username: str, password: str, next_path: str = "/staff/") -> Answer:
        token = self.login_form_token()
        fields = {"csrf": token, "username": username, "password": password, "next": next_path}
        return self.post("/staff/login", fields)

    def csrf(self, path: str = "/staff/") -> str:
        """The session's CSRF token, as a page's forms carry it."""
        page = self.get(path)
        assert page.status == 200, page.status
        return re.search(r'name="csrf" value="([^"]+)"', page.text).group(1)
