"""Domain errors and the one exception handler that maps them to HTTP (STYLE 5).

Every error answer is JSON: ``{"detail": <message>, "code": <stable code>}``
plus error-specific fields; validation errors keep DRF's field-error shape.
"""

import importlib
import logging
import math
from enum import StrEnum
from typing import Any

from django.apps import apps
from django.db import InterfaceError, OperationalError
from django.db.models import ProtectedError
from psycopg.errors import QueryCanceled
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

logger = logging.getLogger(__name__)


class CoreErrorCode(StrEnum):
    """Shared by every app, and those of answers made outside the views.

    Each app names its own codes in ``<app>/errors.py`` (``CatalogErrorCode``, ...), the
    way Saleor keeps one enum per module: a raise site names a member, never a literal,
    and the schema lists them all from there (``error_code_enums``).
    """

    INVALID = "invalid"
    NOT_FOUND = "not_found"
    CONFLICT = "conflict"
    UNPROCESSABLE = "unprocessable"
    RATE_LIMITED = "rate_limited"
    UNAVAILABLE = "unavailable"
    PROTECTED = "protected"
    SERVER_ERROR = "server_error"
    ERROR = "error"  # DRF's own errors that carry no code of their own
    BAD_REQUEST = "bad_request"
    NOT_AUTHENTICATED = "not_authenticated"
    INVALID_ID = "invalid_id"
    TOO_LARGE = "too_large"
    OVERFLOW = "overflow"
    INVALID_LIMIT = "invalid_limit"
    INVALID_OFFSET = "invalid_offset"
    INVALID_CURSOR = "invalid_cursor"
    BUSY = "busy"  # every web thread busy and the queue in front of them full
    TOO_SLOW = "too_slow"  # a database statement ran past its timeout
    SEARCH_TOO_LONG = "search_too_long"
    ORDERING_TOO_LONG = "ordering_too_long"


def error_code_enums() -> dict[str, type[StrEnum]]:
    """The shop's error-code enums by name: the ``StrEnum`` classes of every ``shop.<app>.errors``.

    Found by name, as Django finds ``admin`` modules, so core imports no app.
    """
    found: dict[str, type[StrEnum]] = {}
    for config in apps.get_app_configs():
        if not config.name.startswith("shop."):
            continue
        try:
            module = importlib.import_module(f"{config.name}.errors")
        except ModuleNotFoundError as exc:
            if exc.name != f"{config.name}.errors":
                raise
            continue
        for value in vars(module).values():
            if isinstance(value, type) and issubclass(value, StrEnum) and value.__module__ == module.__name__:
                found[value.__name__] = value
    return found


class ShopError(Exception):
    status_code: int = status.HTTP_400_BAD_REQUEST
    code: str = CoreErrorCode.INVALID
    message = "Invalid request."

    def __init__(self, message: str | None = None, *, code: str | None = None, **extra: Any) -> None:
        self.message = message or self.message
        self.code = code or self.code
        self.extra = extra
        super().__init__(self.message)

    def body(self) -> dict[str, Any]:
        return {"detail": self.message, "code": self.code, **self.extra}

    def headers(self) -> dict[str, str]:
        """Headers the answer carries besides the body."""
        return {}


class ValidationError(ShopError):
    pass


class NotFound(ShopError):
    status_code = status.HTTP_404_NOT_FOUND
    code: str = CoreErrorCode.NOT_FOUND
    message = "Not found."


class Conflict(ShopError):
    status_code = status.HTTP_409_CONFLICT
    code: str = CoreErrorCode.CONFLICT


class Unprocessable(ShopError):
    status_code = status.HTTP_422_UNPROCESSABLE_ENTITY
    code: str = CoreErrorCode.UNPROCESSABLE


class RateLimited(ShopError):
    status_code = status.HTTP_429_TOO_MANY_REQUESTS
    code: str = CoreErrorCode.RATE_LIMITED
    message = "Too many requests."

    def __init__(self, message: str | None = None, *, retry_after: float, **extra: Any) -> None:
        super().__init__(message, **extra)
        self.retry_after = max(1, math.ceil(retry_after))

    def headers(self) -> dict[str, str]:
        return {"Retry-After": str(self.retry_after)}


class ServiceUnavailable(ShopError):
    status_code = status.HTTP_503_SERVICE_UNAVAILABLE
    code: str = CoreErrorCode.UNAVAILABLE
    message = "A service the shop depends on is unavailable; try again shortly."


TOO_SLOW = "The request took too long to answer; try again later, or ask for less."


def database_unavailable(exc: Exception) -> ServiceUnavailable:
    """The 503 of a database error: a statement that ran past DB_STATEMENT_TIMEOUT_SECONDS
    (``too_slow``), or a database down, restarting or refusing connections (``unavailable``:
    retryable, the pool reconnects by itself). Never a 500."""
    if isinstance(exc.__cause__, QueryCanceled):
        return ServiceUnavailable(TOO_SLOW, code=CoreErrorCode.TOO_SLOW)
    return ServiceUnavailable()


PROTECTED_MESSAGE = "This object is referenced by others and cannot be deleted; deactivate it."


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    if isinstance(exc, ShopError):
        return Response(exc.body(), status=exc.status_code, headers=exc.headers())
    if isinstance(exc, OperationalError | InterfaceError):
        unavailable = database_unavailable(exc)
        logger.warning("%s in %s: %s", unavailable.code, context.get("view"), exc)
        return Response(unavailable.body(), status=unavailable.status_code)
    if isinstance(exc, ProtectedError):
        return Response(
            {"detail": PROTECTED_MESSAGE, "code": CoreErrorCode.PROTECTED}, status=status.HTTP_409_CONFLICT
        )
    handled: Response | None = drf_exception_handler(exc, context)
    if handled is None:
        logger.exception("unhandled error in %s", context.get("view"))
        return Response(
            {"detail": "Internal server error.", "code": CoreErrorCode.SERVER_ERROR},
            status=status.HTTP_500_INTERNAL_SERVER_ERROR,
        )
    if isinstance(handled.data, list):
        # A bare list of messages (a filter's or a view's own ValidationError): the same
        # {detail, code} object as every other non-field error.
        messages = [str(message) for message in handled.data]
        code = getattr(handled.data[0], "code", None) if handled.data else None
        handled.data = {
            "detail": " ".join(messages) or "Invalid input.",
            "code": code or CoreErrorCode.INVALID,
        }
    if isinstance(handled.data, dict) and set(handled.data) == {"detail"}:
        # DRF's own errors (401, 403, 404, 405, parse errors) get the same stable code field.
        handled.data["code"] = getattr(handled.data["detail"], "code", None) or CoreErrorCode.ERROR
    return handled


class ErrorSerializer(serializers.Serializer):  # type: ignore[type-arg]
    """The body of every non-field error (for the OpenAPI schema)."""

    detail = serializers.CharField()
    code = serializers.CharField()
