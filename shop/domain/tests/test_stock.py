from hypothesis import given
from hypothesis import strategies as st

from shop.domain.order_status import CANCELLED, COMPLETED, NEXT, PAID, PLACED, transition_allowed
from shop.domain.stock import stock_available, stock_shortfalls


def test_available_is_stock_less_holds_never_below_zero() -> None:
    assert stock_available(None, 0) is None
    assert stock_available(5, 2) == 3
    assert stock_available(2, 5) == 0


@given(st.dictionaries(st.integers(1, 20), st.integers(1, 1000), min_size=1), st.data())
def test_shortfalls_name_exactly_the_goods_short(wanted: dict[int, int], data: st.DataObject) -> None:
    available = {g: data.draw(st.one_of(st.none(), st.integers(0, 1000))) for g in wanted}
    short = stock_shortfalls(wanted, available)
    for goods, quantity in wanted.items():
        units = available[goods]
        assert (goods in short) == (units is not None and units < quantity)
        if goods in short:
            assert short[goods] == units


def test_the_order_s_life() -> None:
    assert transition_allowed(PLACED, PAID) and transition_allowed(PLACED, CANCELLED)
    assert transition_allowed(PAID, COMPLETED) and transition_allowed(PAID, CANCELLED)
    for final in (COMPLETED, CANCELLED):
        assert NEXT[final] == frozenset()
        assert not any(transition_allowed(final, to) for to in NEXT)
    assert not transition_allowed(PLACED, COMPLETED)
    assert not transition_allowed("unknown", PAID)
