"""shop.catalog.services.goods: what staff write of goods; never their price columns."""

from decimal import Decimal

import pytest

from shop.catalog.api import goods_version
from shop.catalog.models import Goods, Price
from shop.catalog.selectors import goods_list
from shop.catalog.services.goods import (
    goods_create,
    goods_create_many,
    goods_delete,
    goods_update,
    goods_update_many,
)
from shop.tests.factories import GoodsFactory

pytestmark = pytest.mark.django_db


def test_goods_create() -> None:
    goods = goods_create(name="Kettle", description="Boils.")
    assert Goods.objects.filter(pk=goods.pk, name="Kettle", is_active=True, price=None).exists()


def test_goods_create_many_keeps_the_order_given() -> None:
    created = goods_create_many(goods=[{"name": "B"}, {"name": "A", "is_active": False}])
    assert [g.name for g in created] == ["B", "A"]
    assert created[0].id < created[1].id
    assert Goods.objects.get(pk=created[1].id).is_active is False


def test_goods_update_writes_the_allowed_fields() -> None:
    goods = GoodsFactory(name="Kettle", description="Boils.")
    goods_update(goods=goods, data={"name": "Teapot", "is_active": False})
    goods.refresh_from_db()
    assert (goods.name, goods.description, goods.is_active) == ("Teapot", "Boils.", False)


def test_goods_update_leaves_the_price_to_prices_record() -> None:
    # given: a goods with a price and its history
    goods = GoodsFactory(price="10.00")
    # when: an update names the price columns
    goods_update(goods=goods, data={"price": Decimal("1.00"), "current_price_id": None, "name": "Renamed"})
    # then: the name changed, the price and its history did not
    goods.refresh_from_db()
    assert goods.name == "Renamed"
    assert goods.price == Decimal("10.00")
    assert goods.current_price_id == Price.objects.get(goods=goods).id


def test_a_changed_goods_changes_its_cache_version() -> None:
    goods = GoodsFactory(name="Kettle")
    before = goods_version(goods_list().get(pk=goods.pk))
    goods_update(goods=goods, data={"description": "Boils faster."})
    assert goods_version(goods_list().get(pk=goods.pk)) != before


def test_goods_update_many_writes_names_not_prices() -> None:
    a, b = GoodsFactory(name="A", price="5.00"), GoodsFactory(name="B")
    a.name, a.price, b.is_active = "A2", Decimal("1.00"), False
    goods_update_many(goods=[a, b])
    a.refresh_from_db()
    b.refresh_from_db()
    assert (a.name, a.price, b.is_active) == ("A2", Decimal("5.00"), False)


def test_goods_delete_takes_the_history() -> None:
    goods = GoodsFactory(price="3.00")
    goods_delete(goods=goods)
    assert not Goods.objects.filter(pk=goods.pk).exists()
    assert not Price.objects.filter(goods_id=goods.pk).exists()
