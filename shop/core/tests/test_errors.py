"""Error codes: one enum per app, found by core without importing the apps, sent as plain strings."""

from enum import StrEnum

import pytest
from rest_framework.test import APIClient

from shop.accounts.errors import AccountErrorCode
from shop.catalog.errors import CatalogErrorCode
from shop.core.errors import CoreErrorCode, ValidationError, error_code_enums
from shop.core.schema import error_codes_description
from shop.currency.errors import CurrencyErrorCode
from shop.orders.errors import OrderErrorCode
from shop.realtime.errors import FeedErrorCode
from shop.webhooks.errors import WebhookErrorCode


def test_every_app_enum_is_found() -> None:
    found = error_code_enums()
    for enum in (
        CoreErrorCode,
        CatalogErrorCode,
        CurrencyErrorCode,
        AccountErrorCode,
        WebhookErrorCode,
        FeedErrorCode,
        OrderErrorCode,
    ):
        assert found[enum.__name__] is enum


def test_codes_are_lower_snake_case_and_unique_within_an_enum() -> None:
    for enum in error_code_enums().values():
        values = [code.value for code in enum]
        # a repeated value makes an alias: iterating skips it, __members__ keeps it
        assert len(enum.__members__) == len(set(values)), enum
        assert all(value.isidentifier() and value == value.lower() for value in values), enum


def test_a_code_is_its_plain_string() -> None:
    error = ValidationError("Bad.", code=CatalogErrorCode.SALE_BOUNDS)
    assert error.body() == {"detail": "Bad.", "code": "sale_bounds"}
    assert isinstance(CatalogErrorCode.SALE_BOUNDS, StrEnum)
    assert f"{CatalogErrorCode.SALE_BOUNDS}" == "sale_bounds"


def test_the_schema_lists_every_code() -> None:
    description = error_codes_description()
    for name, enum in error_code_enums().items():
        line = next(line for line in description.splitlines() if line.startswith(f"- {name}"))
        assert all(f"`{code.value}`" in line for code in enum)


@pytest.mark.django_db
def test_a_code_goes_out_as_a_json_string(staff: APIClient) -> None:
    # given / when: a sale whose bounds are the wrong way round
    response = staff.post(
        "/api/sales/", {"name": "Spring", "min_price": "20.00", "max_price": "10.00"}, format="json"
    )
    # then
    assert response.status_code == 400
    assert b'"code":"sale_bounds"' in response.content
