"""The account commands of scripts/staff.py, and the first admin that `make run` makes
(scripts/run.py's staff_admin, through `scripts/staff.py ensure-admin`)."""

from __future__ import annotations

import os
import stat

from console import accounts
from scripts import run, staff
from tests.console.conftest import PASSWORD


def test_add_list_and_remove_an_account(tmp_path, capsys):
    secret = tmp_path / "pw"
    secret.write_text(PASSWORD + "\n")
    assert staff.main(["add-user", "Carol", "--password-file", str(secret)]) == 0
    assert accounts.sign_in("carol", PASSWORD, "127.0.0.1").ok
    assert staff.main(["users"]) == 0
    assert "carol" in capsys.readouterr().out
    assert staff.main(["add-user", "carol", "--password-file", str(secret)]) == 2
    assert "already" in capsys.readouterr().err
    assert staff.main(["remove-user", "carol"]) == 0
    assert staff.main(["remove-user", "carol"]) == 1
    assert accounts.users() == []
    out = capsys.readouterr()
    assert PASSWORD not in out.out + out.err


def test_add_user_asks_for_the_password_twice(monkeypatch, capsys):
    answers = iter([PASSWORD, PASSWORD + "typo"])
    monkeypatch.setattr(staff.getpass, "getpass", lambda prompt: next(answers))
    assert staff.main(["add-user", "dave"]) == 2
    assert "differ" in capsys.readouterr().err
    answers = iter([PASSWORD, PASSWORD])
    assert staff.main(["add-user", "dave"]) == 0
    short = iter(["short", "short"])
    monkeypatch.setattr(staff.getpass, "getpass", lambda prompt: next(short))
    assert staff.main(["add-user", "erin"]) == 2
    assert [a.username for a in accounts.users()] == ["dave"]


def test_make_run_makes_the_first_admin_once_and_prints_only_where(console_env):
    env = {k: os.environ[k] for k in ("CLINIC_DB_PATH", "TRACKER_DB_PATH", "CLINIC_VAR_DIR")}
    line = run.staff_admin(env)
    path = console_env / "var" / "staff-admin-password"
    password = path.read_text().strip()
    assert str(path) in line and password not in line
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    # (the subprocess hashed with the real costs: check with the real hasher)
    from argon2 import PasswordHasher

    [stored] = [a for a in accounts.users()]
    assert stored.username == "admin"
    assert accounts._stored_hash("admin").startswith("$argon2id$v=19$m=65536,t=3,p=4$")
    assert PasswordHasher().verify(accounts._stored_hash("admin"), password)
    again = run.staff_admin(env)
    assert "created" not in again and path.read_text().strip() == password
