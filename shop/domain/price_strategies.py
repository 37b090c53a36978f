"""Pricing strategies (SPEC §14): how a tick moves each goods' price within its sale's bounds.

- ``uniform``: whole cents drawn uniformly from the bounds (shop.domain.price_draw).
- ``walk``: a bounded random walk, ``current × (1 + u)``, ``u`` uniform in ``[−step, +step]``.
- ``demand``: ``current × (1 + step × pressure)``, the pressure the units ordered in the sale's
  window against its target, in ``[−1, 1]``.

Both moves round half up to the cent, exactly (no intermediate rounding), then stay within the
bounds; a goods with no current price, or one outside the bounds, starts from a uniform draw.
These functions are the reference: embedded mode (SQLite) runs them, and the PostgreSQL tick
computes the same in its statement (shop.catalog.price_store), which
``catalog/tests/test_price_strategies.py`` holds to these results on the same inputs.
"""

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, localcontext
from enum import StrEnum
from fractions import Fraction

from shop.domain.money import CENT

# Enough digits that a price times a factor is exact: 12 digits of price, 17 of a drawn ``u``.
EXACT_DIGITS = 60
MAX_STEP_PERCENT = Decimal(50)
MAX_WINDOW_SECONDS = 7 * 24 * 3600  # a demand window of a week at most
MAX_TARGET_UNITS = 1_000_000


class Strategy(StrEnum):
    UNIFORM = "uniform"
    WALK = "walk"
    DEMAND = "demand"


@dataclass(frozen=True)
class StrategyRule:
    """A sale's strategy and its parameters (Sale.strategy, step_percent, window_seconds,
    target_units)."""

    strategy: Strategy = Strategy.UNIFORM
    step_percent: Decimal = Decimal(2)
    window_seconds: int = 300
    target_units: int = 1

    @property
    def step(self) -> Decimal:
        return self.step_percent / 100


def clamp(value: Decimal, low: Decimal, high: Decimal) -> Decimal:
    return min(max(value, low), high)


def starts_afresh(current: Decimal | None, low: Decimal, high: Decimal) -> bool:
    """A walk or demand price follows the current one; none yet, or one outside the bounds (they
    changed), starts from a uniform draw."""
    return current is None or not low <= current <= high


def walk_next(current: Decimal, u: Decimal, low: Decimal, high: Decimal) -> Decimal:
    """``clamp(round_half_up(current × (1 + u), 2), low, high)``: ``u`` drawn from ``[−step, +step]``."""
    with localcontext(prec=EXACT_DIGITS):
        moved = (current * (1 + u)).quantize(CENT, rounding=ROUND_HALF_UP)
    return clamp(moved, low, high)


def demand_pressure_units(units: int, target_units: int) -> tuple[int, int]:
    """The pressure ``clamp((units − target) / max(target, 1), −1, 1)`` as an exact fraction:
    (numerator, denominator), the numerator a whole number of units within ±denominator."""
    per = max(target_units, 1)
    return min(max(units - target_units, -per), per), per


def demand_next(
    current: Decimal, units: int, *, target_units: int, step: Decimal, low: Decimal, high: Decimal
) -> Decimal:
    """``clamp(round_half_up(current × (1 + step × pressure), 2), low, high)``, rounded once and
    exactly: with pressure = n / m, the price is current × (m + step × n) / m."""
    n, m = demand_pressure_units(units, target_units)
    with localcontext(prec=EXACT_DIGITS):
        scaled = current * (m + step * n)  # exact: m times the unrounded price
    cents = (Fraction(scaled) * 100 / m + Fraction(1, 2)).__floor__()  # half up, of the exact value
    return clamp(Decimal(cents).scaleb(-2), low, high)
