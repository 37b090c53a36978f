"""Domain errors and the one exception handler that maps them to HTTP (STYLE 5).

Every error answer is JSON: ``{"detail": <message>, "code": <stable code>}``
plus error-specific fields; validation errors keep DRF's field-error shape.
"""

import logging
import math
from typing import Any

from django.db import InterfaceError, OperationalError
from django.db.models import ProtectedError
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

logger = logging.getLogger(__name__)


class ShopError(Exception):
    status_code: int = status.HTTP_400_BAD_REQUEST
    code = "invalid"
    message = "Invalid request."

    def __init__(self, message: str | None = None, *, code: str | None = None, **extra: Any) -> None:
        self.message = message or self.message
        self.code = code or self.code
        self.extra = extra
        super().__init__(self.message)

    def body(self) -> dict[str, Any]:
        return {"detail": self.message, "code": self.code, **self.extra}


class ValidationError(ShopError):
    pass


class NotFound(ShopError):
    status_code = status.HTTP_404_NOT_FOUND
    code = "not_found"
    message = "Not found."


class Conflict(ShopError):
    status_code = status.HTTP_409_CONFLICT
    code = "conflict"


class Unprocessable(ShopError):
    status_code = status.HTTP_422_UNPROCESSABLE_ENTITY
    code = "unprocessable"


class RateLimited(ShopError):
    status_code = status.HTTP_429_TOO_MANY_REQUESTS
    code = "rate_limited"
    message = "Too many requests."

    def __init__(self, message: str | None = None, *, retry_after: float, **extra: Any) -> None:
        super().__init__(message, **extra)
        self.retry_after = max(1, math.ceil(retry_after))


class ServiceUnavailable(ShopError):
    status_code = status.HTTP_503_SERVICE_UNAVAILABLE
    code = "unavailable"
    message = "A service the shop depends on is unavailable; try again shortly."


PROTECTED_MESSAGE = "This object is referenced by others and cannot be deleted; deactivate it."


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    if isinstance(exc, ShopError):
        response = Response(exc.body(), status=exc.status_code)
        if isinstance(exc, RateLimited):
            response["Retry-After"] = str(exc.retry_after)
        return response
    if isinstance(exc, OperationalError | InterfaceError):
        # The database is down, restarting or refusing connections (the pool timed out):
        # a clear, retryable answer instead of a 500 (the pool reconnects by itself).
        logger.warning("database unavailable in %s: %s", context.get("view"), exc)
        return Response(ServiceUnavailable().body(), status=ServiceUnavailable.status_code)
    if isinstance(exc, ProtectedError):
        return Response({"detail": PROTECTED_MESSAGE, "code": "protected"}, status=status.HTTP_409_CONFLICT)
    handled: Response | None = drf_exception_handler(exc, context)
    if handled is None:
        logger.exception("unhandled error in %s", context.get("view"))
        return Response(
            {"detail": "Internal server error.", "code": "server_error"},
            status=status.HTTP_500_INTERNAL_SERVER_ERROR,
        )
    if isinstance(handled.data, list):
        # A bare list of messages (a filter's or a view's own ValidationError): the same
        # {detail, code} object as every other non-field error.
        messages = [str(message) for message in handled.data]
        code = getattr(handled.data[0], "code", None) if handled.data else None
        handled.data = {"detail": " ".join(messages) or "Invalid input.", "code": code or "invalid"}
    if isinstance(handled.data, dict) and set(handled.data) == {"detail"}:
        # DRF's own errors (401, 403, 404, 405, parse errors) get the same stable code field.
        handled.data["code"] = getattr(handled.data["detail"], "code", None) or "error"
    return handled


class ErrorSerializer(serializers.Serializer):  # type: ignore[type-arg]
    """The body of every non-field error (for the OpenAPI schema)."""

    detail = serializers.CharField()
    code = serializers.CharField()
