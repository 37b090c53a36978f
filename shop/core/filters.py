"""Query filters shared by the APIs."""

from datetime import UTC, datetime
from typing import Any

import django_filters
from django.core.exceptions import ValidationError
from django_filters.fields import IsoDateTimeField

from shop.core.errors import CoreErrorCode

DATETIME_OUT_OF_RANGE = "Date-time out of range."


class UtcIsoDateTimeField(IsoDateTimeField):  # type: ignore[misc]  # django-filter is untyped
    """An ISO 8601 date-time, turned to UTC before it reaches the database.

    Python accepts UTC offsets up to ±23:59 and PostgreSQL only up to ±15:59:
    ``?since=2026-01-01T00:00:00-19:28`` was a 500 (found by the fuzz test).
    In UTC every offset is fine; a date-time that leaves Python's range when
    moved to UTC (year 1 with a positive offset) is a 400.
    """

    def to_python(self, value: Any) -> datetime | None:
        result: datetime | None = super().to_python(value)
        if result is None:
            return None
        try:
            return result.astimezone(UTC)
        except OverflowError:
            raise ValidationError(DATETIME_OUT_OF_RANGE, code=CoreErrorCode.OVERFLOW) from None


class UtcIsoDateTimeFilter(django_filters.IsoDateTimeFilter):  # type: ignore[misc]
    field_class = UtcIsoDateTimeField
