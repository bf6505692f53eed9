"""Give every request an id that audit events and logs can be correlated by."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from contextvars import ContextVar

from django.http import HttpRequest, HttpResponse

REQUEST_ID_HEADER = "X-Request-ID"

# The request being handled, for audit events recorded where no request is passed along
# (signal receivers, services called by views).
_current_request: ContextVar[HttpRequest | None] = ContextVar("audit_current_request", default=None)


def current_request() -> HttpRequest | None:
    return _current_request.get()


def _incoming_request_id(request: HttpRequest) -> uuid.UUID | None:
    # A proxy or load balancer may have assigned one already; keep it so logs line up,
    # but only when it is a UUID (the column's type, and nothing a client can smuggle text into).
    raw = request.headers.get(REQUEST_ID_HEADER, "")
    try:
        return uuid.UUID(raw) if raw else None
    except ValueError:
        return None


class RequestIdMiddleware:
    """Sets ``request.request_id`` (a UUID) and the ``X-Request-ID`` response header."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        request_id = _incoming_request_id(request) or uuid.uuid4()
        request.request_id = request_id  # type: ignore[attr-defined]
        token = _current_request.set(request)
        try:
            response = self.get_response(request)
        finally:
            _current_request.reset(token)
        response[REQUEST_ID_HEADER] = str(request_id)
        return response
