"""The sale and goods admins write through the API's services (shop.core.admin.ServiceModelAdmin):
the services' rules hold there, a refusal is an error on the page, and nothing is half-written."""

from collections.abc import Iterator
from contextlib import ExitStack
from decimal import Decimal
from typing import Any
from unittest import mock

import pytest
from django.contrib.admin.models import LogEntry
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils.html import escape

from shop.catalog.models import Goods, Sale
from shop.catalog.services import goods as goods_services
from shop.catalog.services import sales as sale_services
from shop.core.errors import Conflict, ValidationError
from shop.tests.factories import GoodsFactory, SaleFactory

pytestmark = pytest.mark.django_db

SALES = "/admin/catalog/sale/"
GOODS = "/admin/catalog/goods/"


@pytest.fixture
def spy() -> Iterator[Any]:
    """``spy(module, "name")``: that service, called through as before, its calls recorded."""
    with ExitStack() as patches:
        yield lambda module, name: patches.enter_context(
            mock.patch.object(module, name, wraps=getattr(module, name))
        )


def sale_form(goods: list[Goods], **fields: Any) -> dict[str, Any]:
    """The sale admin's form as a browser posts it (a running sale: active, no window)."""
    data: dict[str, Any] = {
        "name": "Spring",
        "min_price": "10.00",
        "max_price": "20.00",
        "is_active": "on",
        "starts_at_0": "",
        "starts_at_1": "",
        "ends_at_0": "",
        "ends_at_1": "",
        "goods": [g.pk for g in goods],
        "strategy": "uniform",
        "step_percent": "2.00",
        "window_seconds": "300",
        "target_units": "1",
    }
    data.update(fields)
    return {name: value for name, value in data.items() if value is not None}


def sale_values(sale: Sale) -> dict[str, Any]:
    """What the sale's change form shows, posted back unchanged."""
    return sale_form(
        list(sale.goods.all()),
        name=sale.name,
        min_price=str(sale.min_price),
        max_price=str(sale.max_price),
        is_active="on" if sale.is_active else None,
    )


def form_errors(response: Any) -> dict[str, list[str]]:
    assert response.status_code == 200, (response.status_code, response.get("Location"))
    form = response.context["adminform"].form
    return {field or "__all__": list(messages) for field, messages in form.errors.items()}


def updates_of(queries: CaptureQueriesContext, table: str) -> list[str]:
    return [q["sql"] for q in queries.captured_queries if q["sql"].startswith(f'UPDATE "{table}"')]


def messages_of(response: Any) -> list[str]:
    return [str(m) for m in response.context["messages"]]


# --- sales: the service's rules -----------------------------------------------


def test_adding_a_running_sale_with_goods_of_another_running_sale_is_refused_on_the_page(
    superuser: Client,
) -> None:
    # given: Lamp runs in a sale
    lamp, chair = GoodsFactory(name="Lamp"), GoodsFactory(name="Chair")
    running = SaleFactory(name="Winter", goods=[lamp])
    # when: staff add another running sale with Lamp and Chair
    response = superuser.post(f"{SALES}add/", sale_form([lamp, chair], name="Spring"))
    # then: the form says which goods, on the goods field; nothing is written
    message = f"{sale_services.GOODS_IN_OTHER_SALE.rstrip('.')}: Lamp (#{lamp.pk})."
    assert form_errors(response) == {"goods": [message]}
    assert escape(message) in response.content.decode()
    assert list(Sale.objects.all()) == [running]
    assert list(lamp.sales.all()) == [running] and not chair.sales.exists()
    assert not LogEntry.objects.exists()


def test_changing_a_sale_to_take_goods_of_another_running_sale_is_refused_and_nothing_changes(
    superuser: Client,
) -> None:
    lamp, chair = GoodsFactory(name="Lamp"), GoodsFactory(name="Chair")
    SaleFactory(name="Winter", goods=[lamp])
    spring = SaleFactory(name="Spring", goods=[chair])
    response = superuser.post(
        f"{SALES}{spring.pk}/change/", sale_form([lamp, chair], name="Spring, renamed", max_price="30.00")
    )
    assert list(form_errors(response)) == ["goods"]
    spring.refresh_from_db()
    assert (spring.name, spring.max_price, spring.version) == ("Spring", Decimal("20.00"), 1)
    assert list(spring.goods.all()) == [chair]


def test_goods_of_a_sale_that_is_not_running_may_join_another(superuser: Client) -> None:
    lamp = GoodsFactory(name="Lamp")
    SaleFactory(name="Winter", goods=[lamp], is_active=False)
    response = superuser.post(f"{SALES}add/", sale_form([lamp], name="Spring"))
    assert response.status_code == 302, form_errors(response)
    assert Sale.objects.get(name="Spring").goods.get() == lamp


@pytest.mark.parametrize(("min_price", "max_price"), [("20.00", "10.00"), ("0.00", "10.00")])
def test_a_sale_whose_bounds_are_wrong_is_refused_on_the_page(
    superuser: Client, min_price: str, max_price: str
) -> None:
    lamp = GoodsFactory(name="Lamp")
    response = superuser.post(f"{SALES}add/", sale_form([lamp], min_price=min_price, max_price=max_price))
    # the model's constraint (the service's rule, in the database's words) refuses it in the form
    assert form_errors(response)["__all__"] == ["Constraint “sale_bounds” is violated."]
    assert not Sale.objects.exists() and not LogEntry.objects.exists()


def test_a_changed_sale_whose_bounds_are_wrong_is_refused_on_the_page(superuser: Client) -> None:
    sale = SaleFactory(name="Spring", goods=[GoodsFactory()])
    response = superuser.post(f"{SALES}{sale.pk}/change/", {**sale_values(sale), "min_price": "25.00"})
    assert "__all__" in form_errors(response)
    sale.refresh_from_db()
    assert (sale.min_price, sale.version) == (Decimal("10.00"), 1)


def test_a_refusal_after_the_service_wrote_leaves_nothing_written(superuser: Client, spy: Any) -> None:
    """A refusal raised once the service has written rows (here: after sale_create returned)
    rolls the whole POST back: the sale, its goods and the admin's log entry."""
    lamp = GoodsFactory(name="Lamp")
    real = sale_services.sale_create

    def create_then_refuse(**kwargs: Any) -> Sale:
        real(**kwargs)
        raise ValidationError("Refused after writing.", code="refused")

    with mock.patch.object(sale_services, "sale_create", side_effect=create_then_refuse):
        response = superuser.post(f"{SALES}add/", sale_form([lamp]))
    assert form_errors(response) == {"__all__": ["Refused after writing."]}
    assert not Sale.objects.exists() and not lamp.sales.exists() and not LogEntry.objects.exists()


# --- sales: add, change, delete through the services --------------------------


def test_a_sale_added_in_the_admin_is_created_by_the_service_with_its_goods(
    superuser: Client, spy: Any
) -> None:
    lamp, chair = GoodsFactory(name="Lamp"), GoodsFactory(name="Chair")
    create = spy(sale_services, "sale_create")
    response = superuser.post(f"{SALES}add/", sale_form([lamp, chair], name="Spring", _continue="1"))
    assert response.status_code == 302, form_errors(response)
    sale = Sale.objects.get()
    assert response["Location"] == f"{SALES}{sale.pk}/change/"
    create.assert_called_once()
    assert set(create.call_args.kwargs["goods"]) == {lamp, chair}
    assert (sale.name, sale.min_price, sale.max_price, sale.is_active) == (
        "Spring", Decimal("10.00"), Decimal("20.00"), True,
    )  # fmt: skip
    assert set(sale.goods.all()) == {lamp, chair}
    assert LogEntry.objects.get().object_id == str(sale.pk)


def test_a_sale_changed_in_the_admin_is_written_by_the_service_its_changed_columns_only(
    superuser: Client, spy: Any
) -> None:
    lamp, chair = GoodsFactory(name="Lamp"), GoodsFactory(name="Chair")
    sale = SaleFactory(name="Spring", goods=[lamp])
    update = spy(sale_services, "sale_update")
    # when: posted back unchanged
    response = superuser.post(f"{SALES}{sale.pk}/change/", sale_values(sale))
    # then: the service writes nothing, so the row keeps its version (a save would move it on)
    assert response.status_code == 302, form_errors(response)
    sale.refresh_from_db()
    assert sale.version == 1
    # when: renamed, and given Chair instead of Lamp
    with CaptureQueriesContext(connection) as queries:
        response = superuser.post(
            f"{SALES}{sale.pk}/change/", {**sale_values(sale), "name": "Spring sale", "goods": [chair.pk]}
        )
    # then: the service wrote the name alone, and the goods (once: the form does not save them again)
    assert response.status_code == 302, form_errors(response)
    assert update.call_count == 2
    sale.refresh_from_db()
    assert (sale.name, sale.version, list(sale.goods.all())) == ("Spring sale", 2, [chair])
    [update_sql] = updates_of(queries, "catalog_sale")
    assert '"name"' in update_sql and '"min_price"' not in update_sql
    goods_writes = [q["sql"] for q in queries.captured_queries if q["sql"].startswith(("INSERT", "DELETE"))]
    assert sum('"catalog_sale_goods"' in sql for sql in goods_writes) == 2  # one delete, one insert


def test_a_sale_deleted_in_the_admin_is_deleted_by_the_service(superuser: Client, spy: Any) -> None:
    sale = SaleFactory(goods=[GoodsFactory()])
    delete = spy(sale_services, "sale_delete")
    response = superuser.post(f"{SALES}{sale.pk}/delete/", {"post": "yes"})
    assert response.status_code == 302
    delete.assert_called_once()  # with the sale, which the delete left without a pk
    assert delete.call_args.kwargs["sale"].name == sale.name
    assert not Sale.objects.exists()


def test_selected_sales_are_deleted_by_the_service_one_by_one(superuser: Client, spy: Any) -> None:
    sales = [SaleFactory(), SaleFactory(), SaleFactory()]
    delete = spy(sale_services, "sale_delete")
    response = superuser.post(
        SALES, {"action": "delete_selected", "_selected_action": [s.pk for s in sales[:2]], "post": "yes"}
    )
    assert response.status_code == 302
    assert sorted(call.kwargs["sale"].name for call in delete.call_args_list) == [s.name for s in sales[:2]]
    assert list(Sale.objects.all()) == sales[2:]


def test_a_refused_bulk_delete_deletes_none_and_says_why(superuser: Client) -> None:
    sales = [SaleFactory(), SaleFactory()]
    real = sale_services.sale_delete
    calls: list[Sale] = []

    def delete_first_refuse_second(*, sale: Sale) -> None:
        calls.append(sale)
        if len(calls) > 1:
            raise Conflict("This sale may not go.")
        real(sale=sale)

    with mock.patch.object(sale_services, "sale_delete", side_effect=delete_first_refuse_second):
        response = superuser.post(
            SALES,
            {"action": "delete_selected", "_selected_action": [s.pk for s in sales], "post": "yes"},
            follow=True,
        )
    assert len(calls) == 2
    assert messages_of(response) == ["This sale may not go."]
    assert list(Sale.objects.all()) == sales  # the first delete is rolled back with the second
    assert not LogEntry.objects.exists()  # and so are the admin's log entries


def test_a_refused_delete_is_a_message_and_keeps_the_sale(superuser: Client) -> None:
    sale = SaleFactory()
    with mock.patch.object(sale_services, "sale_delete", side_effect=Conflict("This sale may not go.")):
        response = superuser.post(f"{SALES}{sale.pk}/delete/", {"post": "yes"}, follow=True)
    assert messages_of(response) == ["This sale may not go."]
    assert list(Sale.objects.all()) == [sale] and not LogEntry.objects.exists()


# --- goods: add, change, delete through the services --------------------------


def goods_form(**fields: Any) -> dict[str, Any]:
    data = {"name": "Lamp", "description": "Bright", "is_active": "on", **fields}
    return {name: value for name, value in data.items() if value is not None}


def test_goods_added_in_the_admin_are_created_by_the_service(superuser: Client, spy: Any) -> None:
    create = spy(goods_services, "goods_create")
    response = superuser.post(f"{GOODS}add/", goods_form(is_active=None))
    assert response.status_code == 302, form_errors(response)
    create.assert_called_once_with(name="Lamp", description="Bright", is_active=False)
    goods = Goods.objects.get()
    assert (goods.name, goods.description, goods.is_active, goods.price) == ("Lamp", "Bright", False, None)


def test_goods_changed_in_the_admin_are_written_by_the_service_never_their_price(
    superuser: Client, spy: Any
) -> None:
    goods = GoodsFactory(name="Lamp", description="Bright", price="10.00")
    version = goods.version
    update = spy(goods_services, "goods_update")
    # posted back unchanged: nothing written (a save would move the version on)
    response = superuser.post(f"{GOODS}{goods.pk}/change/", goods_form())
    assert response.status_code == 302, form_errors(response)
    goods.refresh_from_db()
    assert goods.version == version
    # renamed: the name alone is written, never the price columns a tick writes
    with CaptureQueriesContext(connection) as queries:
        response = superuser.post(f"{GOODS}{goods.pk}/change/", goods_form(name="Desk lamp"))
    assert response.status_code == 302, form_errors(response)
    assert update.call_count == 2
    [update_sql] = updates_of(queries, "catalog_goods")
    assert '"name"' in update_sql and '"price"' not in update_sql and '"current_price_id"' not in update_sql
    goods.refresh_from_db()
    assert (goods.name, goods.version, goods.price) == ("Desk lamp", version + 1, Decimal("10.00"))


def test_goods_deleted_in_the_admin_are_deleted_by_the_service(superuser: Client, spy: Any) -> None:
    # (goods with prices cannot be deleted in the admin: PriceAdmin lets no one delete a price)
    goods = GoodsFactory()
    delete = spy(goods_services, "goods_delete")
    response = superuser.post(f"{GOODS}{goods.pk}/delete/", {"post": "yes"})
    assert response.status_code == 302
    delete.assert_called_once()  # with the goods, which the delete left without a pk
    assert delete.call_args.kwargs["goods"].name == goods.name
    assert not Goods.objects.exists()


def test_selected_goods_are_deleted_by_the_service_one_by_one(superuser: Client, spy: Any) -> None:
    goods = [GoodsFactory(), GoodsFactory(), GoodsFactory()]
    delete = spy(goods_services, "goods_delete")
    response = superuser.post(
        GOODS, {"action": "delete_selected", "_selected_action": [g.pk for g in goods[1:]], "post": "yes"}
    )
    assert response.status_code == 302
    assert sorted(call.kwargs["goods"].name for call in delete.call_args_list) == [g.name for g in goods[1:]]
    assert list(Goods.objects.all()) == goods[:1]
