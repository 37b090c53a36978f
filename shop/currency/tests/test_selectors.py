"""shop.currency.selectors: currencies with their active rate, and the quote of a request."""

from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.utils import timezone

from shop.core.errors import NotFound, ValidationError
from shop.currency import selectors
from shop.currency.errors import CurrencyErrorCode
from shop.currency.models import ExchangeRate
from shop.tests.factories import CurrencyFactory

pytestmark = pytest.mark.django_db

D = Decimal


def test_currency_list_annotates_the_active_rate(usd: Any) -> None:
    eur = CurrencyFactory(code="EUR", rate="0.90")
    ExchangeRate.objects.create(currency=eur, rate=D("0.95"), valid_from=timezone.now() + timedelta(hours=1))
    CurrencyFactory(code="GBP", is_active=False)
    rates = {c.code: c.rate for c in selectors.currency_list()}
    assert rates == {"EUR": D("0.90"), "GBP": None, "USD": D(1)}
    assert [c.code for c in selectors.currency_list(active_only=True)] == ["EUR", "USD"]


def test_currency_get(usd: Any) -> None:
    assert selectors.currency_get(code="USD").rate == D(1)
    with pytest.raises(NotFound):
        selectors.currency_get(code="XXX")


def test_rate_active_is_the_newest_valid_at_the_time(usd: Any) -> None:
    eur = CurrencyFactory(code="EUR")
    now = timezone.now()
    old = ExchangeRate.objects.create(currency=eur, rate=D("0.90"), valid_from=now - timedelta(hours=2))
    new = ExchangeRate.objects.create(currency=eur, rate=D("0.91"), valid_from=now - timedelta(hours=1))
    assert selectors.rate_active(currency_code="EUR") == new
    assert selectors.rate_active(currency_code="EUR", at=now - timedelta(minutes=90)) == old
    with pytest.raises(ValidationError) as caught:
        selectors.rate_active(currency_code="EUR", at=now - timedelta(hours=3))
    assert caught.value.code == CurrencyErrorCode.CURRENCY_HAS_NO_RATE
    assert list(selectors.rate_history(currency_code="EUR")) == [new, old]


def test_currency_code_clean() -> None:
    assert selectors.currency_code_clean("eur") == "EUR"
    for bad in ("EU", "EURO", "E\x00R", "€€€"):
        with pytest.raises(ValidationError) as caught:
            selectors.currency_code_clean(bad)
        assert caught.value.code == CurrencyErrorCode.UNKNOWN_CURRENCY
        assert caught.value.extra == {"currency": bad}


def test_currency_active_get_refuses_inactive_currencies(usd: Any) -> None:
    CurrencyFactory(code="GBP", is_active=False)
    assert selectors.currency_active_get(code="usd").code == "USD"
    with pytest.raises(ValidationError):
        selectors.currency_active_get(code="GBP")


def test_quote_get(usd: Any) -> None:
    CurrencyFactory(code="EUR", rate="0.92", decimals=2)
    CurrencyFactory(code="JPY", decimals=0)
    base = selectors.quote_get(code=None)
    assert (base.currency, base.rate, base.is_base) == ("USD", D(1), True)
    eur = selectors.quote_get(code="EUR")
    assert (eur.currency, eur.rate, eur.decimals, eur.is_base) == ("EUR", D("0.92"), 2, False)
    with pytest.raises(ValidationError) as caught:
        selectors.quote_get(code="JPY")  # active but no rate yet
    assert caught.value.code == CurrencyErrorCode.CURRENCY_HAS_NO_RATE
