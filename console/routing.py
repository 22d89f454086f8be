"""Matching a path to a handler, and turning failures into plain answers.

A broken database gives 503 and an unexpected error 500, both without details (the error's
type goes to the server's log, never a traceback to the client).
"""

from __future__ import annotations

import re
import sys
from collections.abc import Callable
from dataclasses import dataclass
from http import HTTPStatus
from typing import Any

from sqlalchemy.exc import SQLAlchemyError

from actions.records.sealed import SealError
from console.exchange import Request, Response


class HttpError(Exception):
    """Stop handling and answer with this status and a short, safe message."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = int(status)
        self.message = message


Handler = Callable[..., Response]


@dataclass(frozen=True)
class Route:
    method: str
    pattern: re.Pattern[str]
    handler: Handler


def route(method: str, pattern: str, handler: Handler) -> Route:
    return Route(method, re.compile(pattern), handler)


def find(routes: list[Route], request: Request) -> tuple[Handler, dict[str, str]]:
    """The handler for the request and the path's named parts; HttpError 404 or 405."""
    allowed = False
    for r in routes:
        match = r.pattern.fullmatch(request.path)
        if match is None:
            continue
        if r.method == request.method:
            return r.handler, match.groupdict()
        allowed = True
    if allowed:
        raise HttpError(HTTPStatus.METHOD_NOT_ALLOWED, "That action is not allowed here")
    raise HttpError(HTTPStatus.NOT_FOUND, "Page not found")


def guarded(work: Callable[[], Response], failure: Callable[[int, str], Response]) -> Response:
    """`work()`, with every failure answered by `failure(status, message)`."""
    try:
        return work()
    except HttpError as error:
        return failure(error.status, error.message)
    except (SQLAlchemyError, SealError, OSError) as error:
        sys.stderr.write(f"staff console: database unavailable: {type(error).__name__}\n")
        return failure(HTTPStatus.SERVICE_UNAVAILABLE, "The records are unavailable right now")
    except Exception as error:  # a bug: say so plainly, keep the details in the log
        sys.stderr.write(f"staff console: unexpected {type(error).__name__}\n")
        return failure(HTTPStatus.INTERNAL_SERVER_ERROR, "Something went wrong")


def number(value: str) -> int:
    """A record id from the path (the patterns allow digits only)."""
    return int(value)


def flag(query: dict[str, Any], name: str) -> bool:
    return query.get(name) in ("1", "true", "yes")
