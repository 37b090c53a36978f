"""The currency admin writes through the API's services (shop.core.admin.ServiceModelAdmin): the
base currency's rules hold there, a refusal is an error on the page, and nothing is half-written."""

from collections.abc import Iterator
from decimal import Decimal
from typing import Any
from unittest import mock

import pytest
from django.conf import settings
from django.contrib.admin.models import LogEntry
from django.test import Client

from shop.currency import services
from shop.currency.models import Currency, ExchangeRate
from shop.tests.factories import CurrencyFactory

pytestmark = pytest.mark.django_db

CURRENCIES = "/admin/currency/currency/"


@pytest.fixture
def create() -> Iterator[mock.MagicMock]:
    with mock.patch.object(services, "currency_create", wraps=services.currency_create) as spy:
        yield spy


@pytest.fixture
def update() -> Iterator[mock.MagicMock]:
    with mock.patch.object(services, "currency_update", wraps=services.currency_update) as spy:
        yield spy


def currency_form(**fields: Any) -> dict[str, Any]:
    data = {"code": "EUR", "name": "Euro", "symbol": "€", "decimals": "2", "is_active": "on", **fields}
    return {name: value for name, value in data.items() if value is not None}


def form_errors(response: Any) -> dict[str, list[str]]:
    assert response.status_code == 200, (response.status_code, response.get("Location"))
    form = response.context["adminform"].form
    return {field or "__all__": list(messages) for field, messages in form.errors.items()}


def test_the_base_currency_added_in_the_admin_gets_its_rate_of_one(
    superuser: Client, create: mock.MagicMock
) -> None:
    base = settings.BASE_CURRENCY
    response = superuser.post(f"{CURRENCIES}add/", currency_form(code=base, name="Base", symbol="$"))
    assert response.status_code == 302, form_errors(response)
    create.assert_called_once_with(code=base, name="Base", symbol="$", decimals=2, is_active=True)
    rate = ExchangeRate.objects.get(currency_id=base)  # the service writes it, a model save would not
    assert (rate.rate, rate.source) == (Decimal(1), ExchangeRate.Source.SYSTEM)


def test_another_currency_added_in_the_admin_is_created_by_the_service_without_a_rate(
    superuser: Client, usd: Currency, create: mock.MagicMock
) -> None:
    response = superuser.post(f"{CURRENCIES}add/", currency_form(decimals="3", is_active=None))
    assert response.status_code == 302, form_errors(response)
    create.assert_called_once_with(code="EUR", name="Euro", symbol="€", decimals=3, is_active=False)
    eur = Currency.objects.get(code="EUR")
    assert (eur.name, eur.decimals, eur.is_active) == ("Euro", 3, False)
    assert not ExchangeRate.objects.filter(currency=eur).exists()


THREE_LETTERS = "A currency code is three upper-case letters."


@pytest.mark.parametrize(
    ("code", "message"),
    [
        ("eur", THREE_LETTERS),
        ("EU", THREE_LETTERS),
        ("E1R", THREE_LETTERS),
        ("EURO", "Ensure this value has at most 3 characters (it has 4)."),
    ],
)
def test_a_code_that_is_not_three_upper_case_letters_is_refused_on_the_page(
    superuser: Client, usd: Currency, create: mock.MagicMock, code: str, message: str
) -> None:
    response = superuser.post(f"{CURRENCIES}add/", currency_form(code=code))
    assert form_errors(response) == {"code": [message]}
    assert message in response.content.decode()
    create.assert_not_called()
    assert list(Currency.objects.values_list("code", flat=True)) == ["USD"]


def test_a_code_taken_already_is_refused_on_the_page(superuser: Client, usd: Currency) -> None:
    CurrencyFactory(code="EUR", name="Euro")
    response = superuser.post(f"{CURRENCIES}add/", currency_form(name="Another euro"))
    assert list(form_errors(response)) == ["code"]
    assert Currency.objects.get(code="EUR").name == "Euro"


def test_a_currency_changed_in_the_admin_is_written_by_the_service_its_code_kept(
    superuser: Client, usd: Currency, update: mock.MagicMock
) -> None:
    CurrencyFactory(code="EUR", name="Euro")
    # a code posted with the change is not read: the code is the key, shown read-only
    response = superuser.post(f"{CURRENCIES}EUR/change/", currency_form(code="GBP", name="Euro (EU)"))
    assert response.status_code == 302, form_errors(response)
    update.assert_called_once()
    assert update.call_args.kwargs["data"] == {
        "name": "Euro (EU)", "symbol": "€", "decimals": 2, "is_active": True,
    }  # fmt: skip
    assert list(Currency.objects.values_list("code", "name")) == [("EUR", "Euro (EU)"), ("USD", "US Dollar")]


def test_deactivating_the_base_currency_is_refused_on_the_page_and_nothing_changes(
    superuser: Client, usd: Currency, update: mock.MagicMock
) -> None:
    response = superuser.post(
        f"{CURRENCIES}USD/change/", currency_form(code="USD", name="Dollar", symbol="$", is_active=None)
    )
    # the service's refusal, on the field it is about
    assert form_errors(response) == {"is_active": [services.BASE_CURRENCY_STAYS_ACTIVE]}
    update.assert_called_once()
    usd.refresh_from_db()
    assert (usd.name, usd.is_active) == ("US Dollar", True)  # the new name is not written either
    assert not LogEntry.objects.exists()


def test_the_base_currency_may_be_renamed(superuser: Client, usd: Currency) -> None:
    response = superuser.post(
        f"{CURRENCIES}USD/change/", currency_form(code="USD", name="Dollar", symbol="$")
    )
    assert response.status_code == 302, form_errors(response)
    usd.refresh_from_db()
    assert (usd.name, usd.is_active) == ("Dollar", True)


def test_currencies_are_not_deleted_in_the_admin_as_not_through_the_api(
    superuser: Client, usd: Currency
) -> None:
    eur = CurrencyFactory(code="EUR", name="Euro")
    assert superuser.post(f"{CURRENCIES}{eur.pk}/delete/", {"post": "yes"}).status_code == 403
    page = superuser.get(CURRENCIES)
    assert "delete_selected" not in page.content.decode()
    response = superuser.post(
        CURRENCIES, {"action": "delete_selected", "_selected_action": [eur.pk], "post": "yes"}
    )
    assert response.status_code == 200  # "no action selected": the action does not exist
    assert Currency.objects.filter(code="EUR").exists()
