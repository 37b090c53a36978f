"""Exchange-rate arithmetic (SPEC §4)."""

from collections.abc import Mapping
from decimal import Decimal


def cross_rates(quoted: Mapping[str, Decimal], *, quote_currency: str, base: str) -> dict[str, Decimal]:
    """Rates quoted per 1 ``quote_currency`` -> rates per 1 ``base``, unrounded.

    The ECB quotes units per 1 EUR; with a USD base, X per USD = (X per EUR) /
    (USD per EUR), and EUR per USD = 1 / (USD per EUR).

    >>> cross_rates({"USD": Decimal("1.1225"), "JPY": Decimal("176.99")}, quote_currency="EUR", base="USD")["JPY"]
    Decimal('157.6748329621380846325167038')
    """
    rates = {**quoted, quote_currency: Decimal(1)}
    if base not in rates:
        raise ValueError(f"{base} is not among the quoted currencies")
    per_base = rates[base]
    if per_base <= 0:
        raise ValueError(f"rate of {base} must be positive")
    return {code: rate / per_base for code, rate in rates.items() if code != base}
