"""Ids and other whole numbers from the outside world: plain integers in 1…2⁶³−1.

Every id in a path, a query or a body passes through ``parse_id`` (SPEC §6).
It looks at the text before turning it into a number, so nothing a client
sends can make the conversion expensive: django-filter's NumberFilter took
``-1e99999999`` as a Decimal and its conversion to int held the GIL for
minutes. Out of range (a bigint column's) is refused as well: ``10**20`` was
an OverflowError in SQLite and a dead feed connection in PostgreSQL.
"""

import re
from typing import Any, cast

from django import forms
from django.db.models import QuerySet
from django_filters import Filter
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers
from rest_framework.relations import MANY_RELATION_KWARGS

from shop.core.errors import CoreErrorCode

MAX_ID = 2**63 - 1
INVALID_ID = f"A whole number from 1 to {MAX_ID} is required."
_DIGITS = re.compile(r"[0-9]{1,19}")
ID_SCHEMA = {"type": "integer", "format": "int64", "minimum": 1, "maximum": MAX_ID}


def parse_int(value: Any, *, minimum: int = 1, maximum: int = MAX_ID) -> int | None:
    """``value`` as a whole number in ``minimum…maximum``, or None. Accepts an int (not a bool)
    or a string of at most 19 ASCII digits (no sign, spaces or exponent)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        number = value
    elif isinstance(value, str) and _DIGITS.fullmatch(value):
        number = int(value)
    else:
        return None
    return number if minimum <= number <= maximum else None


def parse_id(value: Any) -> int | None:
    """``value`` as an id (1…2⁶³−1), or None."""
    return parse_int(value)


@extend_schema_field(ID_SCHEMA)
class IdField(serializers.Field):  # type: ignore[type-arg]
    """An id in a request body."""

    default_error_messages = {"invalid": INVALID_ID}

    def to_internal_value(self, data: Any) -> int:
        number = parse_id(data)
        if number is None:
            self.fail("invalid")
        return number  # fail() raised when None

    def to_representation(self, value: int) -> int:
        return int(value)


class IdRelatedField(serializers.PrimaryKeyRelatedField):  # type: ignore[type-arg]
    """A PrimaryKeyRelatedField that checks the id before it reaches the database; with
    ``many=True``, all the ids are looked up in one query (a sale of 10,000 goods)."""

    default_error_messages = {**serializers.PrimaryKeyRelatedField.default_error_messages}
    default_error_messages["incorrect_type"] = INVALID_ID

    @classmethod
    def many_init(cls, *args: Any, **kwargs: Any) -> "ManyIdsRelatedField":
        many = {key: value for key, value in kwargs.items() if key in MANY_RELATION_KWARGS}
        return ManyIdsRelatedField(child_relation=cls(*args, **kwargs), **many)

    def to_internal_value(self, data: Any) -> Any:
        if parse_id(data) is None:
            self.fail("incorrect_type", data_type=type(data).__name__)
        return super().to_internal_value(data)


class ManyIdsRelatedField(serializers.ManyRelatedField):
    def to_internal_value(self, data: Any) -> list[Any]:
        if isinstance(data, str) or not isinstance(data, list):
            self.fail("not_a_list", input_type=type(data).__name__)
        if not self.allow_empty and not data:
            self.fail("empty")
        ids = [parse_id(item) for item in data]
        if None in ids:
            self.child_relation.fail("incorrect_type", data_type=type(data[ids.index(None)]).__name__)
        found = cast(QuerySet[Any], self.child_relation.get_queryset()).in_bulk(ids)
        missing = [pk for pk in ids if pk not in found]
        if missing:
            self.child_relation.fail("does_not_exist", pk_value=missing[0])
        return [found[pk] for pk in ids]


class IdFormField(forms.Field):
    default_error_messages = {"invalid": INVALID_ID}

    def to_python(self, value: Any) -> int | None:
        if value in self.empty_values:
            return None
        number = parse_id(value)
        if number is None:
            raise forms.ValidationError(self.error_messages["invalid"], code=CoreErrorCode.INVALID)
        return number


@extend_schema_field(ID_SCHEMA)
class IdFilter(Filter):  # type: ignore[misc]  # django-filter is untyped
    """A query filter on an id (``?goods=``, ``?sale=``)."""

    field_class = IdFormField
