"""The codes of the currency app's errors: the ``code`` of an error answer, stable for clients."""

from enum import StrEnum


class CurrencyErrorCode(StrEnum):
    BASE_CURRENCY = "base_currency"
    RATE_NOT_POSITIVE = "rate_not_positive"
    CURRENCY_HAS_NO_RATE = "currency_has_no_rate"
    UNKNOWN_CURRENCY = "unknown_currency"
