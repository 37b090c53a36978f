import re
from datetime import datetime
from decimal import Decimal

from django.conf import settings
from django.db.models import OuterRef, QuerySet, Subquery
from django.utils import timezone

from shop.core.errors import NotFound, ValidationError
from shop.currency.errors import CurrencyErrorCode
from shop.currency.models import Currency, ExchangeRate
from shop.currency.store import RATE_ORDER, quote_row, rates_active_first
from shop.domain.money import Quote

CURRENCY_NOT_FOUND = "Unknown currency."
UNKNOWN_CURRENCY = "Unknown or inactive currency."
CURRENCY_HAS_NO_RATE = "This currency has no exchange rate yet."
_CODE = re.compile(r"[A-Za-z]{3}")


def currency_list(*, active_only: bool = False) -> QuerySet[Currency]:
    """Currencies with their active rate (``rate``, ``rate_updated_at``) annotated."""
    newest = rates_active_first(at=timezone.now()).filter(currency=OuterRef("pk"))
    qs = Currency.objects.annotate(
        rate=Subquery(newest.values("rate")[:1]),
        rate_updated_at=Subquery(newest.values("valid_from")[:1]),
    )
    return qs.filter(is_active=True) if active_only else qs


def currency_get(*, code: str) -> Currency:
    """One currency with its active rate annotated (404 when unknown)."""
    currency = currency_list().filter(code=code).first()
    if currency is None:
        raise NotFound(CURRENCY_NOT_FOUND)
    return currency


def rate_active(*, currency_code: str, at: datetime | None = None) -> ExchangeRate:
    """The rate with the greatest ``valid_from`` <= ``at`` (SPEC §4)."""
    rate = rates_active_first(at=at or timezone.now()).filter(currency_id=currency_code).first()
    if rate is None:
        raise rate_missing()
    return rate


def rate_history(*, currency_code: str) -> QuerySet[ExchangeRate]:
    return ExchangeRate.objects.filter(currency_id=currency_code).order_by(*RATE_ORDER)


def base_currency_code() -> str:
    return str(settings.BASE_CURRENCY)


def currency_unknown(code: str) -> ValidationError:
    """The 400 of a currency code that names no active currency."""
    return ValidationError(UNKNOWN_CURRENCY, code=CurrencyErrorCode.UNKNOWN_CURRENCY, currency=code)


def rate_missing() -> ValidationError:
    """The 400 of a currency that has no exchange rate yet."""
    return ValidationError(CURRENCY_HAS_NO_RATE, code=CurrencyErrorCode.CURRENCY_HAS_NO_RATE)


def currency_code_clean(code: str) -> str:
    """A currency code from a request as it is stored (upper case); 400 unless three letters.

    Checked before any query: a NUL byte in a code was a database error.
    """
    if not _CODE.fullmatch(code):
        raise currency_unknown(code)
    return code.upper()


def currency_active_get(*, code: str) -> Currency:
    """An active currency named in a request (400 when unknown or inactive)."""
    currency = Currency.objects.filter(code=currency_code_clean(code), is_active=True).first()
    if currency is None:
        raise currency_unknown(code)
    return currency


def quote_get(*, code: str | None) -> Quote:
    """How to show base amounts in currency ``code`` now (the base when None): 400 when the
    currency is unknown or inactive, or has no rate yet."""
    base = base_currency_code()
    row = quote_row(code=currency_code_clean(code or base), at=timezone.now())
    if row is None:
        raise currency_unknown(code or base)
    code, decimals, rate = row
    if code == base:
        return Quote(currency=code, rate=Decimal(1), decimals=decimals, is_base=True)
    if rate is None:
        raise rate_missing()
    return Quote(currency=code, rate=Decimal(rate), decimals=decimals, is_base=False)
