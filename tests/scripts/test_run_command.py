"""The Rasa command line `make run` builds is read by Rasa as meant, whatever the API token
looks like (a generated URL-safe token starts with "-" once in 64)."""

from __future__ import annotations

from pathlib import Path

import pytest

from scripts import run


@pytest.mark.parametrize("token", ["-7jBntzCs0vvnzbDlJ62gSzzjPwOoDy6r", "plain-token", "--x"])
def test_rasa_reads_the_auth_token_given_whatever_it_starts_with(monkeypatch, token):
    from rasa.__main__ import create_argument_parser

    monkeypatch.setenv("RASA_AUTH_TOKEN", token)
    command = run.rasa_command(
        Path("m.tar.gz"), Path("e.yml"), Path("c.yml"), "127.0.0.1", 5005, 8080
    )
    args = create_argument_parser().parse_args(command[2:])  # after python rasa_server.py
    assert args.auth_token == token
    assert args.port == 5005 and args.enable_api
