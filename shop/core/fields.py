from decimal import Decimal
from typing import Any

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from shop.domain.money import format_amount

BASE_DECIMALS = 2  # stored prices have 2 decimals (SPEC §4)


@extend_schema_field({"type": "string", "format": "decimal", "example": "12.30"})
class MoneyField(serializers.Field):  # type: ignore[type-arg]
    """A read-only amount rendered as a string with at least ``decimals`` digits."""

    def __init__(self, decimals: int = BASE_DECIMALS, **kwargs: Any) -> None:
        kwargs["read_only"] = True
        self.decimals = decimals
        super().__init__(**kwargs)

    def to_representation(self, value: Decimal) -> str:
        return format_amount(value, self.decimals)


@extend_schema_field({"type": "string", "format": "decimal", "example": "0.92"})
class RateField(serializers.Field):  # type: ignore[type-arg]
    """An exchange rate without trailing zeros (``"0.92"``, ``"1"``)."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs["read_only"] = True
        super().__init__(**kwargs)

    def to_representation(self, value: Decimal) -> str:
        return f"{value.normalize():f}"
