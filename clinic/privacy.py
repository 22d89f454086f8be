"""Keep patients' phone numbers and email addresses out of the logs.

Two layers, because neither alone is enough:

* At source: the actions never log slot values (names, phones, emails), and any user text
  the booking form logs goes through `redact` first. Names cannot be recognised by a
  regex in arbitrary text, so this is the only protection names get; `mask_name` is for
  the rare message that must refer to one.
* As a safety net: `install_log_redaction` rewrites every log record (Rasa's, the SDK's,
  Sanic's and ours) so that phone-number-like digit runs and email addresses are replaced
  before any handler formats or stores them.
"""

from __future__ import annotations

import logging
import re
from typing import Any

__all__ = ["RedactingFilter", "install_log_redaction", "mask_name", "redact"]

#: Loggers whose existing handlers also get the filter (records logged straight to a
#: handler by a library would otherwise skip the root logger's filter).
LOGGERS = ("", "rasa", "rasa_sdk", "sanic", "sanic.access")

# The alternation is tried in order at each position: things that must stay intact
# (dates, times, booking references) are matched first and put back unchanged.
_TOKEN_RE = re.compile(
    r"(?P<email>[\w.+%-]+@[\w-]+(?:\.[\w-]+)+)"
    r"|(?P<keep>BK-[A-HJ-NP-Z2-9]{6}"  # booking reference (see clinic.parsing.booking_answers)
    r"|\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2})?(?:[.,]\d+)?)?"  # ISO date / timestamp
    r"|\d{1,2}/\d{1,2}/\d{2,4}"  # 11/26/2026
    r"|\b\d{1,2}:\d{2}(?::\d{2})?\b)"  # 10:30
    r"|(?P<phone>(?<![\w+])\+?\(?\d[\d \t().-]{5,}\d(?![\d:]))"
)


def _replace(match: re.Match[str]) -> str:
    if match.group("email"):
        return "<email>"
    if match.group("keep"):
        return match.group("keep")
    candidate = match.group("phone")
    digits = sum(ch.isdigit() for ch in candidate)
    return "<phone>" if 7 <= digits <= 15 else candidate


def redact(text: str) -> str:
    """`text` with email addresses and phone-like digit runs (7-15 digits) replaced.

    Errs on the side of hiding: any other long number (an id, a timestamp) is hidden too.
    """
    if not text:
        return text
    return _TOKEN_RE.sub(_replace, text)


def mask_name(name: str) -> str:
    """'Jane Doe' -> 'J*** D**': enough to tell records apart, not to identify anyone."""
    return " ".join(word[0] + "*" * (len(word) - 1) for word in name.split())


def _redact_value(value: Any) -> Any:
    """Redact strings inside structlog-style event dicts (and lists in them)."""
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, dict):
        return {key: _redact_value(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(_redact_value(item) for item in value)
    return value


def _redact_record(record: logging.LogRecord) -> None:
    """Format the message once, redact it, and drop the args so nothing re-formats it."""
    if getattr(record, "_redacted", False):
        return
    if isinstance(record.msg, dict):  # structlog's ProcessorFormatter passes event dicts
        record.msg = _redact_value(record.msg)
        record.args = _redact_value(record.args) if record.args else record.args
    else:
        try:
            message = record.getMessage()
        except Exception:  # a broken format string: let logging report it as usual
            return
        record.msg, record.args = redact(message), ()
    record._redacted = True


class RedactingFilter(logging.Filter):
    """A logging filter that redacts each record in place and never drops one."""

    def filter(self, record: logging.LogRecord) -> bool:
        _redact_record(record)
        return True


def install_log_redaction() -> None:
    """Redact every log record from now on; safe to call more than once.

    Records are redacted when they are created (a wrapped LogRecordFactory), so loggers and
    handlers that libraries add later are covered too. The filter on the root logger and on
    the existing handlers of Rasa's, the SDK's and Sanic's loggers is a second line, for
    code that builds records itself (logging.makeLogRecord) and skips the factory.
    """
    factory = logging.getLogRecordFactory()
    if not getattr(factory, "_redacting", False):

        def redacting_factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
            record = factory(*args, **kwargs)
            _redact_record(record)
            return record

        redacting_factory._redacting = True  # type: ignore[attr-defined]
        redacting_factory._wrapped = factory  # type: ignore[attr-defined]
        logging.setLogRecordFactory(redacting_factory)
    for name in LOGGERS:
        logger = logging.getLogger(name)
        for target in [logger, *logger.handlers]:
            if not any(isinstance(f, RedactingFilter) for f in target.filters):
                target.addFilter(RedactingFilter())


def uninstall_log_redaction() -> None:
    """Undo install_log_redaction (for tests that must leave logging as they found it)."""
    factory = logging.getLogRecordFactory()
    if getattr(factory, "_redacting", False):
        logging.setLogRecordFactory(factory._wrapped)  # type: ignore[attr-defined]
    for name in LOGGERS:
        logger = logging.getLogger(name)
        for target in [logger, *logger.handlers]:
            for existing in [f for f in target.filters if isinstance(f, RedactingFilter)]:
                target.removeFilter(existing)
