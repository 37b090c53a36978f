from decimal import Decimal
from typing import Any

import pytest
from rest_framework.test import APIClient

from shop.currency.models import Currency, ExchangeRate
from shop.currency.services import BASE_RATE_IS_FIXED
from shop.tests.factories import CurrencyFactory

pytestmark = pytest.mark.django_db


def test_currency_list_shows_active_rate(anon: APIClient, usd: Any) -> None:
    CurrencyFactory(code="EUR", rate="0.92")
    body = anon.get("/api/currency/").json()
    assert body["count"] == 2
    eur = next(c for c in body["results"] if c["code"] == "EUR")
    assert eur == {
        **eur,
        "name": "EUR",
        "decimals": 2,
        "is_active": True,
        "rate": "0.92",
        "is_base": False,
    }
    assert eur["rate_updated_at"] is not None
    usd_row = next(c for c in body["results"] if c["code"] == "USD")
    assert (usd_row["rate"], usd_row["is_base"]) == ("1", True)


def test_create_currency_then_rates(staff: APIClient, usd: Any) -> None:
    created = staff.post("/api/currency/", {"code": "GBP", "name": "Pound", "symbol": "£"}, format="json")
    assert created.status_code == 201
    assert created.json()["rate"] is None and created.json()["decimals"] == 2
    assert staff.post("/api/currency/GBP/rates/", {"rate": "0.79"}, format="json").status_code == 201
    latest = staff.post("/api/currency/GBP/rates/", {"rate": "0.12345678"}, format="json").json()
    assert latest["rate"] == "0.12345678" and latest["source"] == "manual" and latest["currency"] == "GBP"
    history = staff.get("/api/currency/GBP/rates/").json()
    assert [r["rate"] for r in history["results"]] == ["0.12345678", "0.79"]
    assert staff.get("/api/currency/GBP/").json()["rate"] == "0.12345678"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        pytest.param({"code": "eur", "name": "x"}, "code", id="lower-case-code"),
        pytest.param({"code": "EURO", "name": "x"}, "code", id="four-letter-code"),
        pytest.param({"code": "E1R", "name": "x"}, "code", id="digit-in-code"),
        pytest.param({"code": "USD", "name": "again"}, "code", id="taken-code"),
        pytest.param({"code": "GBP", "name": "x", "decimals": 5}, "decimals", id="too-many-decimals"),
        pytest.param({"code": "GBP", "name": "x", "decimals": -1}, "decimals", id="negative-decimals"),
        pytest.param({"code": "GBP", "name": "x", "decimals": "two"}, "decimals", id="decimals-not-a-number"),
        pytest.param({"code": "GBP"}, "name", id="no-name"),
    ],
)
def test_currency_bad_input(staff: APIClient, usd: Any, body: dict[str, Any], field: str) -> None:
    response = staff.post("/api/currency/", body, format="json")
    assert response.status_code == 400
    assert field in response.json()
    assert Currency.objects.count() == 1


@pytest.mark.parametrize("rate", ["0", "-0.5", "abc", "0.123456789", "", None])
def test_rate_bad_input(staff: APIClient, usd: Any, rate: Any) -> None:
    CurrencyFactory(code="EUR")
    response = staff.post("/api/currency/EUR/rates/", {"rate": rate}, format="json")
    assert response.status_code == 400
    assert "rate" in response.json()
    assert not ExchangeRate.objects.filter(currency="EUR").exists()


def test_base_currency_rate_is_fixed(staff: APIClient, usd: Any) -> None:
    response = staff.post("/api/currency/USD/rates/", {"rate": "2"}, format="json")
    assert response.status_code == 400
    assert response.json()["detail"] == BASE_RATE_IS_FIXED
    assert ExchangeRate.objects.get(currency="USD").rate == Decimal(1)


def test_base_currency_cannot_be_deactivated(staff: APIClient, usd: Any) -> None:
    response = staff.patch("/api/currency/USD/", {"is_active": False}, format="json")
    assert response.status_code == 400
    assert Currency.objects.get(code="USD").is_active


def test_code_is_the_identifier_and_cannot_change(staff: APIClient, usd: Any) -> None:
    CurrencyFactory(code="EUR")
    response = staff.put("/api/currency/EUR/", {"code": "EUX", "name": "Euro"}, format="json")
    assert response.status_code == 400
    assert staff.get("/api/currency/XYZ/").status_code == 404
    assert staff.get("/api/currency/eur/").status_code == 404
