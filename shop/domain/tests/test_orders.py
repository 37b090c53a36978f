from decimal import Decimal

import pytest

from shop.domain.orders import MAX_QUANTITY, MIN_QUANTITY, Line, compute_order_sum, quantity_allowed

D = Decimal
DEFAULTS = {"markup_percent": D(30), "fixed_fee": D("10.10")}


def test_worked_example_of_the_spec() -> None:
    # one goods at 100.00 USD, quantity 1, in EUR at 0.92: 140.10 × 0.92 = 128.892 → 128.89
    result = compute_order_sum([Line(D("100.00"), 1)], exchange_rate=D("0.92"), decimals=2, **DEFAULTS)
    assert (result.subtotal, result.markup, result.fee, result.total) == (
        D("100.00"),
        D("30"),
        D("10.10"),
        D("140.10"),
    )
    assert str(result.order_sum) == "128.89"


def test_half_up_where_bankers_rounding_would_round_down() -> None:
    # total 10.75 (no markup, no fee) × 1.1 = 11.825 → 11.83 (banker's: 11.82)
    result = compute_order_sum(
        [Line(D("10.75"), 1)], markup_percent=D(0), fixed_fee=D(0), exchange_rate=D("1.1"), decimals=2
    )
    assert str(result.order_sum) == "11.83"


@pytest.mark.parametrize(
    ("decimals", "rate", "expected"),
    [(0, D("157.67483296"), "22090"), (2, D("1"), "140.10"), (3, D("0.3075"), "43.081")],
)
def test_currency_decimals(decimals: int, rate: Decimal, expected: str) -> None:
    # total 140.10: × 157.67483296 = 22090.24 → 22090; × 0.3075 = 43.080750 → 43.081
    result = compute_order_sum([Line(D("100.00"), 1)], exchange_rate=rate, decimals=decimals, **DEFAULTS)
    assert str(result.order_sum) == expected


def test_large_quantities_stay_exact() -> None:
    lines = [Line(D("99999.99"), 1000), Line(D("0.01"), 1000), Line(D("12.34"), 999)]
    result = compute_order_sum(lines, exchange_rate=D("41.50"), decimals=2, **DEFAULTS)
    subtotal = D("99999990") + D("10") + D("12327.66")
    assert result.subtotal == subtotal
    assert result.total == subtotal * D("1.3") + D("10.10")
    assert result.order_sum == (result.total * D("41.50")).quantize(D("0.01"))


def test_markup_keeps_its_fraction_until_the_final_rounding() -> None:
    # 0.01 × 30 % = 0.003: not rounded on its own; 10.113 × 1 → 10.11
    result = compute_order_sum([Line(D("0.01"), 1)], exchange_rate=D(1), decimals=2, **DEFAULTS)
    assert result.markup == D("0.003")
    assert str(result.order_sum) == "10.11"


def test_empty_order_is_just_the_fee() -> None:
    result = compute_order_sum([], exchange_rate=D(2), decimals=2, **DEFAULTS)
    assert str(result.order_sum) == "20.20"


@pytest.mark.parametrize(
    ("quantity", "allowed"), [(0, False), (1, True), (1000, True), (1001, False), (-1, False)]
)
def test_quantity_rule(quantity: int, allowed: bool) -> None:
    assert quantity_allowed(quantity) is allowed
    assert (MIN_QUANTITY, MAX_QUANTITY) == (1, 1000)  # SPEC §4: quantity 1–1000
