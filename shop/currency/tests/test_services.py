"""shop.currency.services: currencies, the base currency's fixed rate, appended rates."""

from decimal import Decimal
from typing import Any

import pytest

from shop.core.errors import ValidationError
from shop.currency.errors import CurrencyErrorCode
from shop.currency.models import Currency, ExchangeRate
from shop.currency.selectors import rate_active
from shop.currency.services import currency_create, currency_update, rate_create, rates_refresh
from shop.tests.factories import CurrencyFactory

pytestmark = pytest.mark.django_db

D = Decimal


class FixedProvider:
    """A rate source that answers what it is given (the service's input, not our database)."""

    name = "fixed"

    def __init__(self, rates: dict[str, Decimal]) -> None:
        self.rates = rates

    def fetch(self) -> dict[str, Decimal]:
        return self.rates


def test_the_base_currency_is_created_with_its_rate_of_one() -> None:
    usd = currency_create(code="USD", name="US Dollar", symbol="$")
    rate = ExchangeRate.objects.get(currency=usd)
    assert (rate.rate, rate.source) == (D(1), ExchangeRate.Source.SYSTEM)


def test_another_currency_starts_without_a_rate(usd: Any) -> None:
    eur = currency_create(code="EUR", name="Euro", decimals=2)
    assert not ExchangeRate.objects.filter(currency=eur).exists()


def test_currency_update_writes_the_allowed_fields(usd: Any) -> None:
    eur = CurrencyFactory(code="EUR")
    currency_update(currency=eur, data={"name": "Euro", "symbol": "€", "decimals": 3, "code": "XXX"})
    eur = Currency.objects.get(code="EUR")
    assert (eur.name, eur.symbol, eur.decimals) == ("Euro", "€", 3)
    assert not Currency.objects.filter(code="XXX").exists()


def test_the_base_currency_stays_active(usd: Any) -> None:
    with pytest.raises(ValidationError) as caught:
        currency_update(currency=usd, data={"is_active": False})
    assert caught.value.code == CurrencyErrorCode.BASE_CURRENCY
    assert Currency.objects.get(code="USD").is_active
    currency_update(currency=usd, data={"is_active": True, "name": "Dollar"})  # the rest may change
    assert Currency.objects.get(code="USD").name == "Dollar"


def test_other_currencies_may_be_deactivated(usd: Any) -> None:
    eur = CurrencyFactory(code="EUR")
    currency_update(currency=eur, data={"is_active": False})
    assert not Currency.objects.get(code="EUR").is_active


def test_rate_create_appends_a_rate_valid_from_now(usd: Any) -> None:
    CurrencyFactory(code="EUR", rate="0.90")
    created = rate_create(currency_code="EUR", rate=D("0.92"), source=ExchangeRate.Source.MANUAL)
    assert rate_active(currency_code="EUR") == created
    assert ExchangeRate.objects.filter(currency="EUR").count() == 2


@pytest.mark.parametrize(
    ("code", "rate", "error"),
    [("USD", D("2"), CurrencyErrorCode.BASE_CURRENCY), ("EUR", D("0"), CurrencyErrorCode.RATE_NOT_POSITIVE)],
)
def test_rate_create_refuses(usd: Any, code: str, rate: Decimal, error: str) -> None:
    CurrencyFactory(code="EUR")
    with pytest.raises(ValidationError) as caught:
        rate_create(currency_code=code, rate=rate, source=ExchangeRate.Source.MANUAL)
    assert caught.value.code == error


def test_rates_refresh_appends_changed_rates_only(usd: Any) -> None:
    CurrencyFactory(code="EUR", rate="0.92")
    CurrencyFactory(code="GBP")
    CurrencyFactory(code="JPY", is_active=False)
    provider = FixedProvider({"EUR": D("0.92"), "GBP": D("0.791234567"), "JPY": D("150")})
    result = rates_refresh(provider=provider)
    assert (result.provider, result.ok, result.updated) == ("fixed", True, ["GBP"])
    assert rate_active(currency_code="GBP").rate == D("0.79123457")  # 8 decimals, half up
    assert not ExchangeRate.objects.filter(currency="JPY").exists()
