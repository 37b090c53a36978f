"""The order admin (SPEC §13): read-only orders with their lines and events, moved by actions that
call the lifecycle services as the staff member, one order at a time."""

import re
from typing import Any

import pytest
from django.test import Client

from shop.accounts.models import User
from shop.catalog.models import Goods
from shop.orders.models import Order, OrderEvent
from shop.orders.services.lifecycle import INVALID_TRANSITION, SYSTEM, order_cancel, order_complete, order_pay
from shop.orders.services.orders import order_create
from shop.tests.factories import GoodsFactory, UserFactory

pytestmark = pytest.mark.django_db

ORDERS = "/admin/orders/order/"


@pytest.fixture
def admin_user(db: None) -> User:
    return UserFactory(is_staff=True, is_superuser=True)


@pytest.fixture
def superuser(admin_user: User) -> Client:
    client = Client()
    client.force_login(admin_user)
    return client


@pytest.fixture
def lamp(usd: Any) -> Goods:
    goods: Goods = GoodsFactory(name="Lamp", price="10.00")
    Goods.objects.filter(pk=goods.pk).update(stock=10)
    return goods


def place(goods: Goods, quantity: int = 2) -> Order:
    return order_create(user=UserFactory(), currency_code="USD", items=[(goods.pk, quantity)]).order


def stock_of(goods: Goods) -> int | None:
    return Goods.objects.values_list("stock", flat=True).get(pk=goods.pk)


def status_of(order: Order) -> str:
    return Order.objects.values_list("status", flat=True).get(pk=order.pk)


def act(client: Client, action: str, orders: list[Order], **fields: Any) -> Any:
    """The action chosen in the list with these orders ticked, as the browser posts it."""
    data = {"action": action, "index": "0", "_selected_action": [o.pk for o in orders], **fields}
    return client.post(ORDERS, data, follow=True)


def messages_of(response: Any) -> list[str]:
    return [str(m) for m in response.context["messages"]]


def staff_events(order: Order) -> list[tuple[str, str, str, int | None, str]]:
    return list(
        OrderEvent.objects.filter(order=order, by=OrderEvent.By.STAFF).values_list(
            "from_status", "to_status", "by", "staff_id", "reason"
        )
    )


def test_cancel_returns_the_units_records_the_staff_member_and_names_the_order_it_cannot_move(
    superuser: Client, admin_user: User, lamp: Goods
) -> None:
    # given: two placed orders of 2 and 3 units, and one completed
    first, second, done = place(lamp, 2), place(lamp, 3), place(lamp, 1)
    order_pay(order_id=done.pk, actor=SYSTEM, method="cash_on_delivery")
    order_complete(order_id=done.pk, actor=SYSTEM)
    assert stock_of(lamp) == 4
    # when: staff cancel all three
    response = act(superuser, "cancel", [first, second, done])
    # then: the two placed ones are cancelled and their units back; the completed one is named
    assert (status_of(first), status_of(second), status_of(done)) == ("cancelled", "cancelled", "completed")
    assert stock_of(lamp) == 9
    assert messages_of(response) == [
        f"Order {done.pk} was not cancelled: {INVALID_TRANSITION} It is completed.",
        f"2 order(s) cancelled: {first.pk}, {second.pk}.",
    ]
    for order in (first, second):
        assert staff_events(order) == [("placed", "cancelled", "staff", admin_user.pk, "staff")]
    assert staff_events(done) == []
    # a second cancellation returns nothing again
    response = act(superuser, "cancel", [first])
    assert stock_of(lamp) == 9
    assert messages_of(response) == [
        f"Order {first.pk} was not cancelled: {INVALID_TRANSITION} It is cancelled."
    ]


def test_mark_paid_asks_how_then_records_each_payment_through_the_service(
    superuser: Client, admin_user: User, lamp: Goods
) -> None:
    # given: two placed orders, one cancelled
    first, second, cancelled = place(lamp), place(lamp), place(lamp)
    order_cancel(order_id=cancelled.pk, actor=SYSTEM)
    orders = [first, second, cancelled]
    # when: staff choose "Mark paid"
    page = act(superuser, "mark_paid", orders)
    # then: a page asks for the method and each order's reference, and nothing is paid yet
    assert page.status_code == 200 and page.templates[0].name == "admin/orders/order/mark_paid.html"
    body = page.content.decode()
    assert 'name="method"' in body and all(f'name="reference_{o.pk}"' in body for o in orders)
    assert {status_of(o) for o in orders} == {"placed", "cancelled"}
    # when: they post it: a bank transfer, a reference for the first order only
    response = act(
        superuser,
        "mark_paid",
        orders,
        apply="yes",
        method="bank_transfer",
        **{f"reference_{first.pk}": " TX-1 ", f"reference_{cancelled.pk}": "TX-3"},
    )
    # then: the first is paid with its reference; the second's refusal (no reference) and the
    # cancelled one's are named, and stopped nothing else
    assert Order.objects.values_list("status", "payment_method", "payment_reference").get(pk=first.pk) == (
        "paid", "bank_transfer", "TX-1",
    )  # fmt: skip
    assert (status_of(second), status_of(cancelled)) == ("placed", "cancelled")
    assert messages_of(response) == [
        f"Order {second.pk} was not marked paid: A bank transfer is recorded with its reference.",
        f"Order {cancelled.pk} was not marked paid: {INVALID_TRANSITION} It is cancelled.",
        f"1 order(s) marked paid: {first.pk}.",
    ]
    assert staff_events(first) == [("placed", "paid", "staff", admin_user.pk, "")]
    assert staff_events(second) == []


def test_mark_paid_without_a_method_shows_the_page_again_and_pays_nothing(
    superuser: Client, lamp: Goods
) -> None:
    order = place(lamp)
    response = act(superuser, "mark_paid", [order], apply="yes", method="card")
    assert response.status_code == 200 and "method" in response.context["form"].errors
    assert status_of(order) == "placed"


def test_mark_completed_completes_paid_orders_only(superuser: Client, admin_user: User, lamp: Goods) -> None:
    paid, placed = place(lamp), place(lamp)
    order_pay(order_id=paid.pk, actor=SYSTEM, method="cash_on_delivery")
    response = act(superuser, "mark_completed", [paid, placed])
    assert (status_of(paid), status_of(placed)) == ("completed", "placed")
    assert messages_of(response) == [
        f"Order {placed.pk} was not marked completed: {INVALID_TRANSITION} It is placed.",
        f"1 order(s) marked completed: {paid.pk}.",
    ]
    assert staff_events(paid) == [("paid", "completed", "staff", admin_user.pk, "")]


def test_an_order_s_page_shows_its_lines_and_events_and_changes_nothing(
    superuser: Client, admin_user: User, lamp: Goods
) -> None:
    # given: an order paid by staff
    order = place(lamp, 2)
    act(superuser, "mark_paid", [order], apply="yes", method="cash_on_delivery")
    # when
    response = superuser.get(f"{ORDERS}{order.pk}/change/")
    # then: every field read-only, its lines and its events shown
    assert response.status_code == 200
    assert response.context["adminform"].form.fields == {}
    inlines = {formset.opts.model.__name__: formset for formset in response.context["inline_admin_formsets"]}
    assert [form.original.goods_name for form in inlines["OrderLine"]] == ["Lamp"]
    assert [(f.original.from_status, f.original.to_status) for f in inlines["OrderEvent"]] == [
        ("placed", "paid")
    ]
    page = response.content.decode()
    assert "cash_on_delivery" in page and admin_user.email in page
    # and a POST to it writes nothing
    forged = superuser.post(f"{ORDERS}{order.pk}/change/", {"status": "completed", "order_sum": "0"})
    assert forged.status_code == 403
    assert status_of(order) == "paid"
    assert Order.objects.get(pk=order.pk).order_sum == order.order_sum


def test_the_list_shows_the_status_and_the_actions(superuser: Client, lamp: Goods) -> None:
    order = place(lamp)
    response = superuser.get(ORDERS)
    assert response.status_code == 200
    assert [o.status for o in response.context["cl"].result_list] == ["placed"]
    choices = dict(response.context["action_form"].fields["action"].choices)
    assert {"mark_paid", "mark_completed", "cancel"} <= set(choices)
    assert f"{ORDERS}{order.pk}/change/" in response.content.decode()


def test_the_mark_paid_page_needs_no_inline_script(superuser: Client, lamp: Goods) -> None:
    response = act(superuser, "mark_paid", [place(lamp)])
    assert "script-src 'self'" in response["Content-Security-Policy"]
    page = response.content.decode()
    scripts = re.findall(r"<script\b([^>]*)>(.*?)</script>", page, re.S)
    assert scripts and all("src=" in attrs and not body.strip() for attrs, body in scripts)
    assert not re.search(r"\son[a-z]+\s*=", page)


def test_staff_who_may_only_view_orders_get_no_actions(lamp: Goods) -> None:
    viewer = UserFactory(is_staff=True, permissions=["orders.view_order"])
    client = Client()
    client.force_login(viewer)
    order = place(lamp)
    response = client.get(ORDERS)
    assert response.status_code == 200 and response.context["action_form"] is None
    act(client, "cancel", [order])
    assert status_of(order) == "placed"
