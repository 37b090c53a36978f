import functools
from decimal import Decimal

import factory
from django.conf import settings
from django.contrib.auth.hashers import make_password
from django.contrib.auth.models import Permission
from django.db.models import Q
from factory.django import DjangoModelFactory

from shop.accounts.models import User
from shop.catalog.models import Goods, Sale
from shop.catalog.services.prices import prices_record
from shop.catalog.services.sales import sale_create
from shop.currency.models import Currency
from shop.currency.services import currency_create, rate_create

# The apps whose models shop staff manage (catalog, currencies, orders, webhooks): not the accounts.
STAFF_APPS = ("catalog", "currency", "orders", "webhooks")


def staff_permissions() -> list[str]:
    """Every model permission ("app_label.codename") of the apps shop staff manage."""
    rows = Permission.objects.filter(content_type__app_label__in=STAFF_APPS)
    return sorted(
        f"{app}.{codename}" for app, codename in rows.values_list("content_type__app_label", "codename")
    )


@functools.cache
def _password_hash() -> str:
    return make_password("correct horse battery staple")


class UserFactory(DjangoModelFactory[User]):
    class Meta:
        model = User
        skip_postgeneration_save = True

    email = factory.Sequence(lambda n: f"user{n}@example.com")
    is_active = True
    # Hashed once for every user: a real PBKDF2 hash (live servers check it as they would any), not
    # one per user, which cost the suite a third of a second each.
    password = factory.LazyFunction(lambda: _password_hash())

    @factory.post_generation
    def permissions(self, create: bool, extracted: list[str] | None, **kwargs: object) -> None:
        """Staff are given the admin's permissions over the shop's models, as a shop's staff group
        gives them (the API checks them: shop.core.permissions). ``permissions=[...]`` names
        others ("app_label.codename"); ``permissions=[]`` gives none."""
        if not create or not self.is_staff:
            return
        names = staff_permissions() if extracted is None else extracted
        query = Q(pk__in=[])
        for name in names:
            app_label, codename = name.split(".")
            query |= Q(content_type__app_label=app_label, codename=codename)
        granted = list(Permission.objects.filter(query))
        assert len(granted) == len(set(names)), f"unknown permissions among {names}"
        self.user_permissions.set(granted)


class CurrencyFactory(DjangoModelFactory[Currency]):
    """Creates through the service, so the base currency gets its rate of 1."""

    class Meta:
        model = Currency

    code = "EUR"
    name = factory.LazyAttribute(lambda o: o.code)
    symbol = ""
    decimals = 2
    is_active = True

    @classmethod
    def _create(cls, model_class: type[Currency], *args: object, **kwargs: object) -> Currency:
        rate = kwargs.pop("rate", None)
        existing = Currency.objects.filter(code=kwargs["code"]).first()
        currency = existing or currency_create(**kwargs)  # type: ignore[arg-type]
        if rate is not None and currency.code != settings.BASE_CURRENCY:
            rate_create(currency_code=currency.code, rate=Decimal(str(rate)), source="manual")
        return currency


class GoodsFactory(DjangoModelFactory[Goods]):
    class Meta:
        model = Goods
        skip_postgeneration_save = True

    name = factory.Sequence(lambda n: f"Goods {n}")
    description = "A fine thing."
    is_active = True

    @factory.post_generation
    def price(self, create: bool, extracted: object, **kwargs: object) -> None:
        if create and extracted is not None:
            prices_record(amounts={self.id: Decimal(str(extracted))}, source="manual")
            self.refresh_from_db()


class SaleFactory(DjangoModelFactory[Sale]):
    class Meta:
        model = Sale

    name = factory.Sequence(lambda n: f"Sale {n}")
    min_price = Decimal("10.00")
    max_price = Decimal("20.00")
    is_active = True

    @classmethod
    def _create(cls, model_class: type[Sale], *args: object, **kwargs: object) -> Sale:
        return sale_create(**kwargs)  # type: ignore[arg-type]
