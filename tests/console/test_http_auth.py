"""Every refusal of the console over real HTTP (scripts/web.py's server, in-process): no
sign-in, wrong passwords, the rate limit, CSRF, ended sessions, Basic auth for the API."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select, update

from actions.records.database import utcnow
from console.store import engine, login_failures, staff_sessions
from tests.console.client import Client, basic
from tests.console.conftest import PASSWORD

PAGES = [
    "/staff/",
    "/staff/bookings",
    "/staff/callbacks",
    "/staff/red-flags",
    "/staff/handoffs",
    "/staff/conversations",
    "/staff/conversations/web-1",
    "/staff/not-understood",
    "/staff/report",
    "/staff/audit",
]
API = [
    "/staff/api/bookings",
    "/staff/api/callbacks",
    "/staff/api/red-flags",
    "/staff/api/handoffs",
    "/staff/api/conversations?q=x",
    "/staff/api/conversations/web-1",
    "/staff/api/not-understood",
    "/staff/api/report",
    "/staff/api/audit",
    "/staff/api/nothing-here",
]


def failures() -> dict[str, int]:
    with engine().connect() as conn:
        return {r.key: r.failures for r in conn.execute(select(login_failures))}


def test_pages_send_a_stranger_to_the_sign_in_page(client, staff):
    for path in PAGES:
        answer = client.get(path)
        assert answer.status == 303, path
        assert answer.headers["Location"].startswith("/staff/login?next=%2Fstaff%2F"), path
        assert answer.body == b""
    assert client.get("/staff").headers["Location"] == "/staff/"


def test_the_api_answers_a_stranger_401_with_a_basic_challenge(client, staff):
    for path in API:
        answer = client.get(path)
        assert answer.status == 401, path
        assert answer.headers["WWW-Authenticate"].startswith('Basic realm="staff"')
        assert answer.json() == {"error": "sign in: HTTP Basic with a staff account"}
    for path in ("/staff/api/callbacks/1/done", "/staff/api/handoffs/1/retry"):
        assert client.post(path).status == 401


def test_signing_in_sets_a_strict_http_only_session_cookie(client, staff):
    answer = client.sign_in("alice", PASSWORD, next_path="/staff/bookings")
    assert answer.status == 303 and answer.headers["Location"] == "/staff/bookings"
    cookie = answer.cookie("staff_session")
    assert cookie is not None
    for flag in ("HttpOnly", "SameSite=Strict", "Path=/staff"):
        assert flag in cookie
    assert "Secure" not in cookie  # plain http on loopback
    assert client.get("/staff/bookings").status == 200


def test_the_cookie_is_secure_behind_https(client, staff):
    https = {"X-Forwarded-Proto": "https"}
    page = client.get("/staff/login", headers=https)
    assert page.cookie("staff_login").endswith("; Secure")
    token = client.jar["staff_login"]
    fields = {"csrf": token, "username": "alice", "password": PASSWORD}
    answer = client.post("/staff/login", fields, headers=https)
    assert answer.cookie("staff_session").endswith("; Secure")


def test_sign_in_goes_back_to_console_pages_only(server, staff):
    for evil in ("https://evil.example/", "//evil.example/", "/staff/../x", "/other"):
        answer = Client(server).sign_in("alice", PASSWORD, next_path=evil)
        target = answer.headers["Location"]
        assert target in ("/staff/", "/staff/../x"), (evil, target)
        assert not target.startswith("//") and "evil" not in target


def test_a_wrong_password_is_refused_and_counted(client, staff):
    answer = client.sign_in("alice", "not the password")
    assert answer.status == 403
    assert "Wrong account name or password." in answer.text
    assert client.cookie_names() == {"staff_login"}
    assert failures() == {"account:alice": 1, "client:127.0.0.1": 1}
    assert client.get("/staff/").status == 303


def test_an_unknown_account_is_refused_the_same_way(client, staff):
    answer = client.sign_in("nobody", PASSWORD)
    assert answer.status == 403 and "Wrong account name or password." in answer.text


def test_the_sign_in_form_needs_its_own_token(client, staff):
    client.get("/staff/login")
    fields = {"username": "alice", "password": PASSWORD}
    assert client.post("/staff/login", fields).status == 403  # no token
    assert client.post("/staff/login", {**fields, "csrf": "forged"}).status == 403
    fresh = Client(client.base)  # a token from the form, but not this browser's cookie
    token = client.login_form_token()
    assert fresh.post("/staff/login", {**fields, "csrf": token}).status == 403
    assert failures() == {}  # refused before any password was checked


def test_five_wrong_passwords_lock_the_sign_in(client, staff):
    for _ in range(4):
        assert client.sign_in("alice", "not the password").status == 403
    locked = client.sign_in("alice", "not the password")
    assert locked.status == 429
    assert "Too many attempts, try again in 1 min." in locked.text
    assert locked.headers["Retry-After"] == "60"
    refused = client.sign_in("alice", PASSWORD)  # the right password, but locked
    assert refused.status == 429 and "staff_session" not in client.jar


def test_basic_auth_opens_the_api_and_wrong_basic_auth_is_counted(client, staff):
    answer = client.get("/staff/api/bookings", headers=basic("alice", PASSWORD))
    assert answer.status == 200 and answer.json() == {"bookings": []}
    assert answer.headers["Content-Type"].startswith("application/json")
    assert answer.cookies() == []  # no session for an API call
    wrong = client.get("/staff/api/bookings", headers=basic("alice", "nope nope nope"))
    assert wrong.status == 401 and failures()["account:alice"] == 1
    garbled = client.get("/staff/api/bookings", headers={"Authorization": "Basic !!!"})
    assert garbled.status == 401
    for _ in range(4):
        last = client.get("/staff/api/bookings", headers=basic("alice", "nope nope nope"))
    assert last.status == 429 and last.headers["Retry-After"] == "60"
    assert "Too many attempts" in last.json()["error"]
    assert client.get("/staff/api/bookings", headers=basic("alice", PASSWORD)).status == 429


def test_the_api_also_answers_the_browser_session(signed_in):
    assert signed_in.get("/staff/api/red-flags").status == 200


def test_signing_out_ends_the_session_on_the_server(signed_in):
    cookie = signed_in.jar["staff_session"]
    csrf = signed_in.csrf()
    answer = signed_in.post("/staff/logout", {"csrf": csrf})
    assert answer.status == 303 and answer.headers["Location"] == "/staff/login"
    assert "Max-Age=0" in answer.cookie("staff_session")
    with engine().connect() as conn:
        assert conn.execute(select(staff_sessions)).first() is None
    signed_in.jar["staff_session"] = cookie  # the old cookie, replayed
    assert signed_in.get("/staff/").status == 303
    assert signed_in.get("/staff/api/bookings").status == 401


def test_an_expired_session_is_refused(signed_in):
    stmt = update(staff_sessions).values(expires_at=utcnow() - dt.timedelta(seconds=1))
    with engine().begin() as conn:
        conn.execute(stmt)
    assert signed_in.get("/staff/bookings").status == 303
    assert signed_in.get("/staff/api/bookings").status == 401


def test_a_forged_cookie_is_refused(client, staff):
    client.jar["staff_session"] = "forged-token"
    assert client.get("/staff/").status == 303


def test_post_forms_without_the_right_csrf_token_are_refused(signed_in):
    for path in ("/staff/logout", "/staff/callbacks/1/done", "/staff/handoffs/1/retry"):
        assert signed_in.post(path, {}).status == 403, path
        assert signed_in.post(path, {"csrf": "wrong"}).status == 403, path
    assert signed_in.get("/staff/").status == 200  # still signed in: logout was refused


def test_a_post_without_a_session_is_refused(client, staff):
    assert client.post("/staff/callbacks/1/done", {"csrf": "x"}).status == 403


def test_api_posts_with_the_cookie_need_the_csrf_header(signed_in):
    path = "/staff/api/callbacks/99/done"
    assert signed_in.post(path).status == 403
    assert signed_in.post(path, headers={"X-CSRF-Token": "wrong"}).status == 403
    token = signed_in.csrf()
    assert signed_in.post(path, headers={"X-CSRF-Token": token}).status == 404  # no #99
    basic_only = signed_in.post(path, headers=basic("alice", PASSWORD), cookies=False)
    assert basic_only.status == 404  # Basic auth needs no CSRF token


def test_oversized_and_malformed_bodies_are_refused(client, staff):
    big = client.request(
        "POST",
        "/staff/login",
        data=b"x" * (17 * 1024),
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert big.status == 413
    odd = client.request("POST", "/staff/login", data=b"\xff\xfe", headers={})
    assert odd.status == 403  # not a form: no token, refused


def test_every_console_answer_is_uncached_and_unframed(client, staff):
    answer = client.get("/staff/login")
    assert answer.headers["Cache-Control"] == "no-store"
    assert answer.headers["X-Frame-Options"] == "DENY"
    assert "frame-ancestors 'none'" in answer.headers["Content-Security-Policy"]
