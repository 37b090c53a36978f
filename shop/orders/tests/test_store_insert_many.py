"""shop.orders.store's insert_many: the saved orders it returns are the rows the database holds,
on both implementations (the portable one runs on PostgreSQL too)."""

from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from django.db.models import Model
from pytest_django import DjangoAssertNumQueries

from shop.accounts.models import User
from shop.catalog.models import Goods
from shop.currency.models import Currency, ExchangeRate
from shop.orders.models import Order, OrderLine
from shop.orders.store import OrderStore, _OrmOrderStore, _PostgresOrderStore
from shop.tests.factories import CurrencyFactory, GoodsFactory, UserFactory

pytestmark = pytest.mark.django_db

D = Decimal
POSTGRESQL = [
    pytest.mark.postgres,
    pytest.mark.skipif(connection.vendor != "postgresql", reason="the PostgreSQL store"),
]
STORES = [
    pytest.param(_OrmOrderStore, id="portable"),
    pytest.param(_PostgresOrderStore, id="postgresql", marks=POSTGRESQL),
]


def row(instance: Model) -> dict[str, Any]:
    """Every concrete field of ``instance``, as its attribute holds it; instants in UTC (Python
    never finds an ambiguous local time equal to a time in another zone)."""
    values = {f.attname: getattr(instance, f.attname) for f in instance._meta.concrete_fields}
    return {k: v.astimezone(UTC) if isinstance(v, datetime) else v for k, v in values.items()}


def an_order(
    *, user: User, currency: Currency, at: datetime, sums: list[str], reference: str, **fields: Any
) -> Order:
    exchange_rate, subtotal, markup, fee, total, order_sum = map(D, sums)
    rate = ExchangeRate.objects.filter(currency=currency).latest("valid_from")
    return Order(
        user=user,
        created_at=at,
        currency=currency,
        rate_id=rate.id,
        exchange_rate=exchange_rate,
        subtotal=subtotal,
        markup=markup,
        fee=fee,
        total=total,
        order_sum=order_sum,
        payment_reference=reference,
        **fields,
    )


def a_line(
    goods: Goods, *, quantity: int, unit_price: str, line_total: str, stock_taken: int = 0
) -> OrderLine:
    return OrderLine(
        goods_id=goods.id,
        goods_name=goods.name,
        quantity=quantity,
        price_id=10_000 + goods.id,
        unit_price=D(unit_price),
        line_total=D(line_total),
        stock_taken=stock_taken,
    )


@pytest.fixture
def orders(usd: Currency) -> list[Order]:
    """Orders of two users in a 2- and a 0-decimal currency, at instants with microseconds (and
    without) in several offsets, with odd amounts; their lines not in goods order."""
    yen = CurrencyFactory(code="JPY", decimals=0, rate="151.37")
    first, second = UserFactory(), UserFactory()
    g1, g2, g3 = (GoodsFactory(name=name) for name in ("Plain", 'Quote " and \\ back', "Ünïcode ✓"))
    new_york, kolkata = ZoneInfo("America/New_York"), timezone(timedelta(hours=5, minutes=30))
    three = an_order(
        user=first,
        currency=yen,
        at=datetime(2024, 2, 29, 23, 59, 59, 999_999, tzinfo=UTC),
        sums=["151.37000000", "0.003", "0.00045", "1234.12345678", "1234.12690678", "1235"],
        reference="three lines",
    )
    three.lines = [
        a_line(g3, quantity=3, unit_price="0.01", line_total="0.03", stock_taken=3),
        a_line(g1, quantity=1, unit_price="99999.99", line_total="99999.99"),
        a_line(g2, quantity=999, unit_price="10.75", line_total="10739.25", stock_taken=2),
    ]
    two = an_order(
        user=second,
        currency=usd,
        at=datetime(2024, 3, 10, 2, 30, 0, 1, tzinfo=kolkata),
        sums=["1", "10.75", "3.225", "0.1", "14.075", "14.0800"],
        reference='two lines, "quoted" ü',
        status=Order.Status.PAID,
        payment_method="card",
    )
    two.lines = [
        a_line(g2, quantity=1, unit_price="10.75", line_total="10.75"),
        a_line(g1, quantity=2, unit_price="0.50", line_total="1.00"),
    ]
    one = an_order(
        user=first,
        currency=yen,
        at=datetime(2024, 11, 3, 1, 30, 0, 0, tzinfo=new_york),
        sums=["151.37000000", "0.01", "0", "0", "0.01", "2"],
        reference="one line",
    )
    one.lines = [a_line(g3, quantity=1, unit_price="0.01", line_total="0.01")]
    none = an_order(
        user=second,
        currency=usd,
        at=datetime(2024, 11, 3, 1, 30, 0, 123_456, tzinfo=new_york).replace(fold=1),
        sums=["1", "0", "0", "0", "0", "0.0000"],
        reference="no line",
    )
    none.lines = []
    return [three, two, one, none]


@pytest.mark.parametrize("store_class", STORES)
def test_insert_many_returns_the_rows_the_database_holds(
    store_class: type[OrderStore], orders: list[Order], django_assert_num_queries: DjangoAssertNumQueries
) -> None:
    # given: orders and their lines as they were built, and what the unsaved orders had cached
    given = [(row(order), [row(line) for line in order.lines]) for order in orders]
    cached = [(order.user, order.currency) for order in orders]
    # when
    saved = store_class().insert_many(orders)
    # then: the orders in input order, their ids ascending, their lines in the order given
    assert [order.payment_reference for order in saved] == [
        "three lines",
        'two lines, "quoted" ü',
        "one line",
        "no line",
    ]
    ids = [order.pk for order in saved]
    assert None not in ids and ids == sorted(ids) and len(set(ids)) == len(ids)
    for order, (order_row, line_rows) in zip(saved, given, strict=True):
        assert row(order) == {**order_row, "id": order.pk}
        assert [row(line) for line in order.lines] == [
            {**line_row, "id": line.pk, "order_id": order.pk}
            for line, line_row in zip(order.lines, line_rows, strict=True)
        ]
    # ... saved, with what they had cached and each line's order, at no query
    with django_assert_num_queries(0):
        for order, (user, currency) in zip(saved, cached, strict=True):
            assert not order._state.adding and order._state.db == "default"
            assert order.user is user and order.currency is currency
            for line in order.lines:
                assert not line._state.adding and line._state.db == "default"
                assert line.order is order
    # ... and each field as the database holds it: amounts exact, instants to the microsecond
    assert Order.objects.count() == len(orders)
    assert OrderLine.objects.count() == sum(len(lines) for _, lines in given)
    for order in saved:
        assert row(order) == row(Order.objects.get(pk=order.pk))
        held = {line.pk: row(line) for line in OrderLine.objects.filter(order_id=order.pk)}
        assert {line.pk: row(line) for line in order.lines} == held
    held_at = dict(Order.objects.filter(pk__in=ids).values_list("pk", "created_at"))
    assert [held_at[pk] for pk in ids] == [
        datetime(2024, 2, 29, 23, 59, 59, 999_999, tzinfo=UTC),
        datetime(2024, 3, 9, 21, 0, 0, 1, tzinfo=UTC),
        datetime(2024, 11, 3, 5, 30, tzinfo=UTC),  # the first 01:30 of that night, EDT
        datetime(2024, 11, 3, 6, 30, 0, 123_456, tzinfo=UTC),  # the second, EST
    ]
    assert Order.objects.get(pk=ids[0]).subtotal == D("0.003")


@pytest.mark.parametrize("store_class", STORES)
def test_insert_many_of_nothing_writes_nothing(
    store_class: type[OrderStore], django_assert_num_queries: DjangoAssertNumQueries
) -> None:
    with django_assert_num_queries(0):
        assert store_class().insert_many([]) == []


@pytest.mark.parametrize("store_class", STORES[1:])
def test_postgresql_writes_lines_in_goods_order_in_one_statement(
    store_class: type[OrderStore], orders: list[Order], django_assert_num_queries: DjangoAssertNumQueries
) -> None:
    # when
    with django_assert_num_queries(1):
        saved = store_class().insert_many(orders)
    # then: line ids ascend order by order and, within an order, in goods order (as insert's do)
    line_ids = [line.pk for order in saved for line in sorted(order.lines, key=lambda line: line.goods_id)]
    assert line_ids == sorted(line_ids) and len(set(line_ids)) == len(line_ids)
    assert [line.goods_id for line in saved[0].lines] != sorted(line.goods_id for line in saved[0].lines)
