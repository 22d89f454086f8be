"""Staff accounts (console/accounts.py): argon2id hashes, sign-in, the first admin."""

from __future__ import annotations

import os
import stat

import pytest
from sqlalchemy import select

from console import accounts, sessions
from console.store import engine, login_failures, staff_accounts
from tests.console.conftest import PASSWORD


def stored_hashes() -> dict[str, str]:
    with engine().connect() as conn:
        return {r.username: r.password_hash for r in conn.execute(select(staff_accounts))}


def test_passwords_are_stored_as_individually_salted_argon2id_hashes():
    accounts.add_user("alice", PASSWORD)
    accounts.add_user("Bob", PASSWORD)  # names are kept in lower case
    hashes = stored_hashes()
    assert set(hashes) == {"alice", "bob"}
    assert all(h.startswith("$argon2id$") for h in hashes.values())
    assert hashes["alice"] != hashes["bob"]  # one salt each
    assert PASSWORD not in "".join(hashes.values())


@pytest.mark.parametrize("name", ["", " ", "a b", "../x", "é", "x" * 65, "-lead"])
def test_unusable_names_are_refused(name):
    with pytest.raises(accounts.AccountError):
        accounts.add_user(name, PASSWORD)


@pytest.mark.parametrize("password", ["", "short", " padded password ", "x" * 1025])
def test_unusable_passwords_are_refused(password):
    with pytest.raises(accounts.AccountError):
        accounts.add_user("alice", password)


def test_an_account_name_is_taken_once():
    accounts.add_user("alice", PASSWORD)
    with pytest.raises(accounts.AccountError, match="already"):
        accounts.add_user("ALICE", PASSWORD + "!")


def test_sign_in_accepts_the_right_password_only_and_counts_failures(staff):
    assert accounts.sign_in("alice", PASSWORD, "10.0.0.1").username == "alice"
    assert accounts.users()[0].last_login_at is not None
    wrong = accounts.sign_in("alice", PASSWORD + "x", "10.0.0.1")
    assert not wrong.ok and wrong.locked is None
    with engine().connect() as conn:
        counts = {r.key: r.failures for r in conn.execute(select(login_failures))}
    assert counts == {"account:alice": 1, "client:10.0.0.1": 1}


def test_an_unknown_name_costs_a_hash_check_too(staff, monkeypatch):
    checked = []
    real = accounts._verify
    monkeypatch.setattr(accounts, "_verify", lambda h, p: checked.append(h) or real(h, p))
    assert not accounts.sign_in("mallory", PASSWORD, "10.0.0.2").ok
    assert not accounts.sign_in("not a valid name!", PASSWORD, "10.0.0.2").ok
    assert len(checked) == 2 and all(h.startswith("$argon2id$") for h in checked)


def test_removing_an_account_signs_it_out(staff):
    token, _ = sessions.start("alice")
    assert sessions.find(token) is not None
    assert accounts.remove_user("alice")
    assert sessions.find(token) is None
    assert not accounts.remove_user("alice")
    assert not accounts.sign_in("alice", PASSWORD, "10.0.0.3").ok


def test_the_first_admin_gets_a_generated_password_in_a_private_file(console_env):
    line = accounts.ensure_admin()
    path = console_env / "var" / "staff-admin-password"
    assert str(path) in line
    password = path.read_text().strip()
    assert password not in line and len(password) >= 20
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert accounts.sign_in("admin", password, "127.0.0.1").ok
    # Later starts leave it alone.
    again = accounts.ensure_admin()
    assert "created" not in again and path.read_text().strip() == password
    assert [a.username for a in accounts.users()] == ["admin"]


def test_staff_admin_password_sets_the_first_admin_password(console_env, monkeypatch):
    monkeypatch.setenv("STAFF_ADMIN_PASSWORD", "a password from the env")
    line = accounts.ensure_admin()
    assert "STAFF_ADMIN_PASSWORD" in line and "a password from the env" not in line
    assert not (console_env / "var" / "staff-admin-password").exists()
    assert accounts.sign_in("admin", "a password from the env", "127.0.0.1").ok


def test_no_admin_is_made_when_an_account_exists(staff, console_env):
    accounts.ensure_admin()
    assert [a.username for a in accounts.users()] == ["alice"]
    assert not (console_env / "var" / "staff-admin-password").exists()
