"""Money arithmetic: Decimal only, one place that rounds (SPEC §3)."""

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

CENT = Decimal("0.01")
_EXPONENTS = {decimals: Decimal(1).scaleb(-decimals) for decimals in range(5)}  # a currency has 0-4


def quantize(amount: Decimal, decimals: int) -> Decimal:
    """Round ``amount`` to ``decimals`` fractional digits, half up.

    The only rounding function of tickshop: every amount shown in a currency
    passes through here (SPEC §3).
    """
    if not isinstance(amount, Decimal):
        raise TypeError(f"amount must be a Decimal, not {type(amount).__name__}")
    exponent = _EXPONENTS.get(decimals) or Decimal(1).scaleb(-decimals)
    return amount.quantize(exponent, rounding=ROUND_HALF_UP)


def convert(amount: Decimal, *, rate: Decimal, decimals: int) -> Decimal:
    """Convert a base-currency ``amount`` at ``rate`` (units per 1 base unit)."""
    return quantize(amount * rate, decimals)


def format_amount(amount: Decimal, decimals: int) -> str:
    """The JSON form of an amount: at least ``decimals`` fractional digits.

    Amounts the spec rounds (prices, converted prices, order sums) come out with
    exactly ``decimals`` digits. Unrounded parts of an order (30 % markup on
    0.01 is 0.003) keep their extra digits, since rounding them for display
    would be a rounding the spec does not allow; padding adds zeros only.
    """
    exponent = amount.normalize().as_tuple().exponent
    if not isinstance(exponent, int):
        raise ValueError(f"not a finite amount: {amount}")
    return f"{quantize(amount, max(decimals, -exponent)):f}"


@dataclass(frozen=True)
class Quote:
    """How to show base-currency amounts: in ``currency`` at ``rate``."""

    currency: str
    rate: Decimal
    decimals: int
    is_base: bool

    def show(self, amount: Decimal | None) -> str | None:
        if amount is None:
            return None
        # Converted, it has exactly ``decimals`` digits already: format_amount would pad nothing.
        return f"{convert(amount, rate=self.rate, decimals=self.decimals):f}"
