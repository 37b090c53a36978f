from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from shop.domain.price_draw import PriceDraw
from shop.domain.price_strategies import (
    Strategy,
    StrategyRule,
    demand_next,
    demand_pressure_units,
    starts_afresh,
    walk_next,
)

D = Decimal
LOW, HIGH = D("10.00"), D("90.00")


def test_walk_rounds_half_up_once_and_stays_in_bounds() -> None:
    assert walk_next(D("50.00"), D("0.0001"), LOW, HIGH) == D("50.01")  # 50.005 -> up
    assert walk_next(D("50.00"), D("-0.0001"), LOW, HIGH) == D("50.00")  # 49.995 -> half up: 50.00
    assert walk_next(D("50.00"), D("-0.00011"), LOW, HIGH) == D("49.99")  # 49.9945
    assert walk_next(D("89.00"), D("0.02"), LOW, HIGH) == HIGH
    assert walk_next(D("10.10"), D("-0.02"), LOW, HIGH) == LOW


def test_demand_pressure_is_an_exact_fraction_within_one() -> None:
    assert demand_pressure_units(5, 1) == (1, 1)
    assert demand_pressure_units(0, 1) == (-1, 1)
    assert demand_pressure_units(4, 3) == (1, 3)
    assert demand_pressure_units(0, 0) == (0, 1)
    assert demand_pressure_units(9, 0) == (1, 1)


def test_demand_rounds_the_exact_price_half_up() -> None:
    # 1.50 x (1 + 0.03 x 1/3) = 1.515 exactly: half up to 1.52 (a rounded 1/3 would give 1.51)
    assert demand_next(D("1.50"), 4, target_units=3, step=D("0.03"), low=D("1.00"), high=D("2.00")) == D(
        "1.52"
    )
    assert demand_next(D("50.00"), 1, target_units=1, step=D("0.02"), low=LOW, high=HIGH) == D("50.00")
    assert demand_next(D("89.00"), 7, target_units=1, step=D("0.02"), low=LOW, high=HIGH) == HIGH


@given(
    st.decimals(D("10.00"), D("90.00"), places=2),
    st.integers(0, 50),
    st.integers(0, 10),
    st.decimals(D("0.01"), D("50.00"), places=2),
)
def test_demand_moves_by_at_most_its_step_toward_demand(
    current: D, units: int, target: int, percent: D
) -> None:
    step = percent / 100
    after = demand_next(current, units, target_units=target, step=step, low=LOW, high=HIGH)
    assert LOW <= after <= HIGH
    assert abs(after - current) <= current * step + D("0.005")
    if units > target:
        assert after >= current
    if units < target:
        assert after <= current


def test_a_path_needs_a_current_price_within_the_bounds() -> None:
    assert starts_afresh(None, LOW, HIGH) and starts_afresh(D("9.99"), LOW, HIGH)
    assert not starts_afresh(LOW, LOW, HIGH) and not starts_afresh(HIGH, LOW, HIGH)


def test_a_draw_follows_each_sale_s_strategy() -> None:
    draw = PriceDraw(
        goods_ids=[1, 2, 3, 4],
        sale_of={1: 10, 2: 20, 3: 20, 4: 30},
        bounds={10: (LOW, HIGH), 20: (LOW, HIGH), 30: (LOW, HIGH)},
        randint=lambda low, high: low,  # uniform draws: the lowest cent
        strategies={20: StrategyRule(Strategy.WALK, D(2)), 30: StrategyRule(Strategy.DEMAND, D(2), 300, 1)},
        current={2: D("50.00"), 3: None, 4: D("50.00")},
        demand={4: 3},
        uniform=lambda low, high: high,  # u = +step
    )
    assert draw.follows_paths
    assert draw.drawn() == [(1, LOW, 10), (2, D("51.00"), 20), (3, LOW, 20), (4, D("51.00"), 30)]
