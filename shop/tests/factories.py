from decimal import Decimal

import factory
from django.conf import settings
from factory.django import DjangoModelFactory

from shop.accounts.models import User
from shop.catalog.models import Goods, Sale
from shop.catalog.services.prices import prices_record
from shop.catalog.services.sales import sale_create
from shop.currency.models import Currency
from shop.currency.services import currency_create, rate_create


class UserFactory(DjangoModelFactory[User]):
    class Meta:
        model = User
        skip_postgeneration_save = True

    email = factory.Sequence(lambda n: f"user{n}@example.com")
    is_active = True
    password = factory.django.Password("correct horse battery staple")


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
