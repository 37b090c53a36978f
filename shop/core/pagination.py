"""Pages of every list (SPEC §6): limit/offset, and a cursor for append-only history.

DRF reads ``limit`` and ``offset`` with ``int()``, serves the default for what it
cannot read, caps a limit over the maximum and passes any offset on: ``?offset=
9223372036854775808`` was a 500 (PostgreSQL's OFFSET is a bigint). It hands a
cursor's position to the query as it comes: ``p=garbage`` was a 500, and so
was a date-time with an offset Python takes and PostgreSQL does not. Here each
is checked before any query, the way ids are (``shop.core.ids``): a ``limit``
is a whole number from 1 to 500, an ``offset`` from 0 to 2⁶³−1, a cursor one
the shop wrote; anything else is a 400 with its own code. An empty value
counts as none, as with the filters. The schema documents the ranges, so
Schemathesis tries their edges.
"""

from datetime import timedelta
from typing import Any

from django.db.models import QuerySet
from django.utils.dateparse import parse_datetime
from rest_framework import pagination
from rest_framework.exceptions import NotFound
from rest_framework.request import Request
from rest_framework.views import APIView

from shop.core.errors import CoreErrorCode, ValidationError
from shop.core.ids import MAX_ID, parse_int

DEFAULT_LIMIT = 50
MAX_LIMIT = 500
INVALID_LIMIT = f"limit must be a whole number from 1 to {MAX_LIMIT}."
INVALID_OFFSET = f"offset must be a whole number from 0 to {MAX_ID}."
INVALID_CURSOR = "Invalid cursor: use the next and previous links as they are given."


def _query_int(request: Request, name: str, *, minimum: int, maximum: int, default: int) -> int | None:
    """The whole number ``?name=`` gives (``default`` when absent or empty); None when it gives none in range."""
    value = request.query_params.get(name, "")
    return default if value == "" else parse_int(value, minimum=minimum, maximum=maximum)


def query_limit(request: Request, name: str) -> int:
    number = _query_int(request, name, minimum=1, maximum=MAX_LIMIT, default=DEFAULT_LIMIT)
    if number is None:
        raise ValidationError(INVALID_LIMIT, code=CoreErrorCode.INVALID_LIMIT)
    return number


def query_offset(request: Request, name: str) -> int:
    number = _query_int(request, name, minimum=0, maximum=MAX_ID, default=0)
    if number is None:
        raise ValidationError(INVALID_OFFSET, code=CoreErrorCode.INVALID_OFFSET)
    return number


def limit_parameter(name: str) -> dict[str, Any]:
    return {
        "name": name,
        "required": False,
        "in": "query",
        "description": f"Results per page, 1 to {MAX_LIMIT}.",
        "schema": {"type": "integer", "minimum": 1, "maximum": MAX_LIMIT, "default": DEFAULT_LIMIT},
    }


class LimitOffsetPagination(pagination.LimitOffsetPagination):
    default_limit = DEFAULT_LIMIT
    max_limit = MAX_LIMIT

    def paginate_queryset(
        self, queryset: QuerySet[Any], request: Request, view: APIView | None = None
    ) -> list[Any] | None:
        self.get_offset(request)  # DRF counts the rows before it reads the offset: refuse a bad one first
        return super().paginate_queryset(queryset, request, view)

    def get_limit(self, request: Request) -> int:
        return query_limit(request, self.limit_query_param)

    def get_offset(self, request: Request) -> int:
        return query_offset(request, self.offset_query_param)

    def get_schema_operation_parameters(self, view: APIView) -> list[dict[str, Any]]:
        offset = {
            "name": self.offset_query_param,
            "required": False,
            "in": "query",
            "description": "How many results to skip.",
            "schema": {"type": "integer", "format": "int64", "minimum": 0, "maximum": MAX_ID, "default": 0},
        }
        return [limit_parameter(self.limit_query_param), offset]


def cursor_position(text: str) -> str | None:
    """A cursor's position as the shop writes it (``str()`` of a ``created_at``: a date-time in
    UTC), or None when ``text`` is not one. PostgreSQL takes UTC offsets up to ±15:59 only and
    Python up to ±23:59; a client has no business sending any but the ones it was given."""
    try:
        moment = parse_datetime(text)
    except ValueError:  # well-formed and out of range: month 13, an offset of 99 hours
        return None
    if moment is None or moment.utcoffset() != timedelta(0):
        return None
    return str(moment)


class NewestFirstCursorPagination(pagination.CursorPagination):
    """Cursor pagination for append-only history, newest first (SPEC §6).

    Every cursor that is not one the shop wrote is the same 400 ``invalid_cursor``: DRF's
    own 404 "Invalid cursor" (one it cannot decode) included.
    """

    ordering = ("-created_at", "-id")
    page_size = DEFAULT_LIMIT
    page_size_query_param = "limit"
    max_page_size = MAX_LIMIT

    def get_page_size(self, request: Request) -> int:
        return query_limit(request, self.page_size_query_param)

    def decode_cursor(self, request: Request) -> pagination.Cursor | None:
        try:
            cursor = super().decode_cursor(request)
        except NotFound:
            raise ValidationError(INVALID_CURSOR, code=CoreErrorCode.INVALID_CURSOR) from None
        if cursor is None or cursor.position is None:
            return cursor
        position = cursor_position(str(cursor.position))
        if position is None:
            raise ValidationError(INVALID_CURSOR, code=CoreErrorCode.INVALID_CURSOR)
        return cursor._replace(position=position)  # type: ignore[arg-type]  # the stubs say int; DRF's are str

    def get_schema_operation_parameters(self, view: APIView) -> list[dict[str, Any]]:
        cursor = {
            "name": self.cursor_query_param,
            "required": False,
            "in": "query",
            "description": "Where the page starts: the cursor of a next or previous link, as given.",
            "schema": {"type": "string"},
        }
        return [cursor, limit_parameter(self.page_size_query_param)]
