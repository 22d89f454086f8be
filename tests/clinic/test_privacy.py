"""Phones and emails never reach the logs in clear text."""

from __future__ import annotations

import io
import logging
from collections.abc import Iterator

import pytest

from clinic.privacy import (
    RedactingFilter,
    install_log_redaction,
    mask_name,
    redact,
    uninstall_log_redaction,
)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("call (312) 555-0142 please", "call <phone> please"),
        ("+44 7911 123456", "<phone>"),
        ("312.555.0142", "<phone>"),
        ("mail jane.doe+x@mail.example.com now", "mail <email> now"),
        ("Jane.Doe@Example.com, 3125550142", "<email>, <phone>"),
        ("see you at 10:30 on 2026-11-26", "see you at 10:30 on 2026-11-26"),
        ("2026-11-26 10:30:00,123 INFO booked", "2026-11-26 10:30:00,123 INFO booked"),
        ("11/26/2026 at 9:00", "11/26/2026 at 9:00"),
        ("reference BK-7K2Q9M", "reference BK-7K2Q9M"),
        ("pain 7/10 for 3 weeks", "pain 7/10 for 3 weeks"),
        ("room 12345", "room 12345"),
        ("", ""),
    ],
)
def test_redact(text: str, expected: str) -> None:
    assert redact(text) == expected


def test_mask_name() -> None:
    assert mask_name("Jane Doe") == "J*** D**"
    assert mask_name("Zoë") == "Z**"
    assert mask_name("") == ""


def test_filter_formats_then_redacts() -> None:
    record = logging.LogRecord("x", logging.INFO, __file__, 1, "to %s", ("312-555-0142",), None)
    assert RedactingFilter().filter(record)
    assert (record.msg, record.args) == ("to <phone>", ())


def test_filter_redacts_structlog_event_dicts() -> None:
    event = {"event": "booking", "contact": "jane@example.com", "slot": "10:30"}
    record = logging.LogRecord("x", logging.INFO, __file__, 1, event, (), None)
    RedactingFilter().filter(record)
    assert record.msg == {"event": "booking", "contact": "<email>", "slot": "10:30"}


@pytest.fixture
def redaction() -> Iterator[None]:
    install_log_redaction()
    install_log_redaction()  # idempotent
    yield
    uninstall_log_redaction()


def test_logged_phone_and_email_come_out_redacted(redaction: None) -> None:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)  # added after install: the factory covers it
    logger = logging.getLogger("rasa_sdk.x")
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    try:
        logger.info("call %s at %s", "(312) 555-0142", "jane.doe@example.com")
    finally:
        logger.removeHandler(handler)
        logger.setLevel(logging.NOTSET)
    assert stream.getvalue() == "call <phone> at <email>\n"
    root_filters = [f for f in logging.getLogger().filters if isinstance(f, RedactingFilter)]
    assert len(root_filters) == 1


def test_caplog_sees_redacted_records(redaction: None, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.INFO, logger="rasa_sdk.x"):
        logging.getLogger("rasa_sdk.x").info("call %s at %s", "+13125550142", "a@b.org")
    assert caplog.messages == ["call <phone> at <email>"]


def test_uninstall_restores_logging() -> None:
    factory = logging.getLogRecordFactory()
    install_log_redaction()
    uninstall_log_redaction()
    assert logging.getLogRecordFactory() is factory
    assert not any(isinstance(f, RedactingFilter) for f in logging.getLogger().filters)
