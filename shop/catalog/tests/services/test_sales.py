"""shop.catalog.services.sales: bounds, windows, one running sale per goods, generation."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from shop.catalog.errors import CatalogErrorCode
from shop.catalog.models import Goods, Price, Sale
from shop.catalog.services.sales import (
    sale_create,
    sale_delete,
    sale_generate_prices,
    sale_reprice,
    sale_update,
)
from shop.core.errors import Conflict, RateLimited, ValidationError
from shop.tests.factories import GoodsFactory, SaleFactory

pytestmark = pytest.mark.django_db

D = Decimal


def test_sale_create_with_goods() -> None:
    goods = GoodsFactory()
    sale = sale_create(name="Spring", min_price=D("1.00"), max_price=D("2.00"), goods=[goods])
    assert list(sale.goods.all()) == [goods]
    assert sale.is_running


@pytest.mark.parametrize(
    ("fields", "code"),
    [
        ({"min_price": D("0.00"), "max_price": D("2.00")}, CatalogErrorCode.SALE_BOUNDS),
        ({"min_price": D("3.00"), "max_price": D("2.00")}, CatalogErrorCode.SALE_BOUNDS),
        (
            {"starts_at": timezone.now(), "ends_at": timezone.now() - timedelta(hours=1)},
            CatalogErrorCode.SALE_WINDOW,
        ),
    ],
)
def test_sale_create_refuses_bad_bounds_and_windows(fields: dict, code: str) -> None:
    values = {"name": "Bad", "min_price": D("1.00"), "max_price": D("2.00"), **fields}
    with pytest.raises(ValidationError) as caught:
        sale_create(**values)
    assert caught.value.code == code
    assert not Sale.objects.exists()


def test_a_goods_runs_in_one_sale_at_most() -> None:
    goods = GoodsFactory()
    SaleFactory(goods=[goods])
    with pytest.raises(ValidationError) as caught:
        sale_create(name="Second", min_price=D("1.00"), max_price=D("2.00"), goods=[goods])
    assert caught.value.code == CatalogErrorCode.GOODS_IN_OTHER_SALE
    assert caught.value.extra == {"goods": [goods.id]}


def test_sales_whose_windows_do_not_overlap_may_share_goods() -> None:
    goods, now = GoodsFactory(), timezone.now()
    SaleFactory(goods=[goods], ends_at=now)
    sale = sale_create(name="Later", min_price=D("1.00"), max_price=D("2.00"), goods=[goods], starts_at=now)
    assert list(sale.goods.all()) == [goods]


def test_sale_update_changes_the_given_fields() -> None:
    sale = SaleFactory(name="Spring", min_price=D("10.00"))
    sale_update(sale=sale, data={"name": "Summer", "max_price": D("30.00")})
    sale.refresh_from_db()
    assert (sale.name, sale.min_price, sale.max_price) == ("Summer", D("10.00"), D("30.00"))


def test_sale_update_checks_the_sale_as_it_will_be() -> None:
    # given: max_price 20
    sale = SaleFactory(min_price=D("10.00"), max_price=D("20.00"))
    # when: min_price alone moves above it
    with pytest.raises(ValidationError) as caught:
        sale_update(sale=sale, data={"min_price": D("25.00")})
    # then: refused, nothing written
    assert caught.value.code == CatalogErrorCode.SALE_BOUNDS
    assert Sale.objects.get(pk=sale.pk).min_price == D("10.00")


def test_sale_update_replaces_the_goods_only_when_given() -> None:
    a, b = GoodsFactory(), GoodsFactory()
    sale = SaleFactory(goods=[a])
    sale_update(sale=sale, data={"name": "Renamed"})
    assert list(sale.goods.all()) == [a]
    sale_update(sale=sale, data={"goods": [b]})
    assert list(sale.goods.all()) == [b]


def test_sale_update_refuses_goods_of_another_running_sale() -> None:
    taken = GoodsFactory()
    SaleFactory(goods=[taken])
    sale = SaleFactory(goods=[])
    with pytest.raises(ValidationError) as caught:
        sale_update(sale=sale, data={"goods": [taken]})
    assert caught.value.code == CatalogErrorCode.GOODS_IN_OTHER_SALE
    assert not sale.goods.exists()


def test_reactivating_a_sale_checks_its_goods_again() -> None:
    goods = GoodsFactory()
    idle = SaleFactory(goods=[goods], is_active=False)
    SaleFactory(goods=[goods])
    with pytest.raises(ValidationError):
        sale_update(sale=idle, data={"is_active": True})
    assert Sale.objects.get(pk=idle.pk).is_active is False


def test_sale_delete_keeps_the_goods() -> None:
    goods = GoodsFactory()
    sale = SaleFactory(goods=[goods])
    sale_delete(sale=sale)
    assert not Sale.objects.filter(pk=sale.pk).exists()
    assert Goods.objects.filter(pk=goods.pk).exists()


def test_sale_reprice_draws_within_bounds_for_active_goods() -> None:
    active, inactive = GoodsFactory(), GoodsFactory(is_active=False)
    sale = SaleFactory(goods=[active, inactive], min_price=D("2.00"), max_price=D("3.00"))
    batch = sale_reprice(sale=sale, source=Price.Source.ON_DEMAND)
    assert len(batch) == 1
    price = Price.objects.get(goods=active)
    assert D("2.00") <= price.amount <= D("3.00")
    assert (price.sale_id, price.source) == (sale.id, Price.Source.ON_DEMAND)
    assert not Price.objects.filter(goods=inactive).exists()


def test_sale_generate_prices_refuses_a_sale_that_is_not_running() -> None:
    sale = SaleFactory(goods=[GoodsFactory()], is_active=False)
    with pytest.raises(Conflict) as caught:
        sale_generate_prices(sale=sale)
    assert caught.value.code == CatalogErrorCode.SALE_NOT_RUNNING


def test_sale_generate_prices_once_per_interval() -> None:
    sale = SaleFactory(goods=[GoodsFactory()])
    assert len(sale_generate_prices(sale=sale)) == 1
    with pytest.raises(RateLimited) as caught:
        sale_generate_prices(sale=sale)
    assert caught.value.retry_after >= 1
    assert Price.objects.count() == 1
