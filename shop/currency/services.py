import logging
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db import transaction

from shop.core.db_store import db_now
from shop.core.errors import ValidationError
from shop.core.events import EventType, event_emit
from shop.core.services import model_update
from shop.currency.errors import CurrencyErrorCode
from shop.currency.models import Currency, ExchangeRate
from shop.currency.providers import ProviderError, RateProvider, provider_get
from shop.domain.money import quantize

logger = logging.getLogger(__name__)
RATE_DECIMALS = 8  # rates are stored with up to 8 fractional digits (SPEC §4)

BASE_RATE_IS_FIXED = "The base currency's rate is always exactly 1."
BASE_CURRENCY_STAYS_ACTIVE = "The base currency cannot be deactivated."
RATE_MUST_BE_POSITIVE = "A rate must be greater than zero."
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


@transaction.atomic
def currency_create(
    *, code: str, name: str, symbol: str = "", decimals: int = 2, is_active: bool = True
) -> Currency:
    currency = Currency.objects.create(
        code=code, name=name, symbol=symbol, decimals=decimals, is_active=is_active
    )
    if code == settings.BASE_CURRENCY:
        # The base currency's rate row exists from the start, so every order
        # (in any currency) freezes a real ExchangeRate row.
        ExchangeRate.objects.create(
            currency=currency, rate=Decimal(1), valid_from=EPOCH, source=ExchangeRate.Source.SYSTEM
        )
    return currency


CURRENCY_FIELDS = ["name", "symbol", "decimals", "is_active"]  # the code is the key: it never changes


@transaction.atomic
def currency_update(*, currency: Currency, data: Mapping[str, Any]) -> Currency:
    if currency.code == settings.BASE_CURRENCY and data.get("is_active") is False:
        raise ValidationError(BASE_CURRENCY_STAYS_ACTIVE, code=CurrencyErrorCode.BASE_CURRENCY)
    currency, _ = model_update(instance=currency, fields=CURRENCY_FIELDS, data=data)
    return currency


@transaction.atomic
def rate_create(*, currency_code: str, rate: Decimal, source: str) -> ExchangeRate:
    """Append a rate valid from now.

    The currency row is locked first and the timestamp taken after the lock:
    an order locks the same row FOR SHARE before it takes its own timestamp,
    so a rate is either visible to an order or newer than it (SPEC §4).
    """
    if currency_code == settings.BASE_CURRENCY:
        raise ValidationError(BASE_RATE_IS_FIXED, code=CurrencyErrorCode.BASE_CURRENCY)
    if rate <= 0:
        raise ValidationError(RATE_MUST_BE_POSITIVE, code=CurrencyErrorCode.RATE_NOT_POSITIVE)
    currency = Currency.objects.select_for_update().get(code=currency_code)
    created = ExchangeRate.objects.create(currency=currency, rate=rate, valid_from=db_now(), source=source)
    event_emit(kind=EventType.RATE_CHANGED, subject=created)
    return created


@dataclass(frozen=True)
class RefreshResult:
    provider: str
    ok: bool
    updated: list[str]
    error: str = ""


def rates_refresh(*, provider: RateProvider | None = None) -> RefreshResult:
    """Fetch rates and append the ones that changed; a failure keeps the last rates.

    Never raises for a provider failure: it is logged, and ticks and orders go
    on with the rates they have (``rate_updated_at`` shows how old they are).
    """
    provider = provider or provider_get()
    if provider is None:
        return RefreshResult(provider="manual", ok=True, updated=[])
    try:
        fetched = provider.fetch()
    except ProviderError as exc:
        logger.warning("rates: %s failed, keeping the last rates: %s", provider.name, exc)
        return RefreshResult(provider=provider.name, ok=False, updated=[], error=str(exc))
    updated = []
    for currency in Currency.objects.filter(is_active=True).exclude(code=settings.BASE_CURRENCY):
        if currency.code not in fetched:
            continue
        rate = quantize(fetched[currency.code], RATE_DECIMALS)
        current = ExchangeRate.objects.filter(currency=currency).order_by("-valid_from", "-id").first()
        if current is None or current.rate != rate:
            rate_create(currency_code=currency.code, rate=rate, source=provider.name)
            updated.append(currency.code)
    logger.info("rates: %s refreshed %s", provider.name, ", ".join(updated) or "nothing (unchanged)")
    return RefreshResult(provider=provider.name, ok=True, updated=updated)
