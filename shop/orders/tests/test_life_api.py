"""Stock and the order's life through the API (SPEC §13), on PostgreSQL and SQLite."""

import json
from datetime import timedelta
from typing import Any

import pytest
from django.db import IntegrityError, transaction
from rest_framework.test import APIClient

from conftest import bearer
from shop.catalog.models import Goods
from shop.orders.models import CartItem, Order, OrderEvent, OrderLine
from shop.orders.services.holds import holds_expire
from shop.orders.services.lifecycle import orders_expire
from shop.tests.factories import GoodsFactory, UserFactory
from shop.webhooks.models import WebhookEvent
from shop.webhooks.services.endpoints import endpoint_create

pytestmark = pytest.mark.django_db


@pytest.fixture
def lamp(usd: Any) -> Goods:
    goods: Goods = GoodsFactory(name="Lamp", price="10.00")
    Goods.objects.filter(pk=goods.pk).update(stock=3)
    goods.refresh_from_db()
    return goods


def order(client: APIClient, *lines: tuple[Goods, int]) -> Any:
    body = {"items": [{"goods": goods.pk, "quantity": quantity} for goods, quantity in lines]}
    return client.post("/api/orders/", body, format="json")


def stock_of(goods: Goods) -> int | None:
    return Goods.objects.values_list("stock", flat=True).get(pk=goods.pk)


# --- stock ---------------------------------------------------------------------


def test_an_order_takes_its_units_and_a_short_one_is_refused_whole(shopper: APIClient, lamp: Goods) -> None:
    untracked = GoodsFactory(name="Air", price="1.00")
    # when: 2 of 3 are ordered
    placed = order(shopper, (lamp, 2), (untracked, 500))
    # then: taken, recorded on the line; the untracked goods sells any quantity
    assert placed.status_code == 201, placed.json()
    assert stock_of(lamp) == 1 and stock_of(untracked) is None
    assert dict(OrderLine.objects.values_list("goods_id", "stock_taken")) == {lamp.pk: 2, untracked.pk: 0}
    # when: 2 more are wanted, beside goods that are there
    refused = order(shopper, (untracked, 1), (lamp, 2))
    # then: refused whole, naming the short goods and what is available; nothing taken or written
    assert refused.status_code == 409
    assert refused.json() == {
        "detail": "Not enough of these goods in stock; nothing was ordered.",
        "code": "insufficient_stock",
        "goods": [{"goods": lamp.pk, "available": 1}],
    }
    assert stock_of(lamp) == 1 and Order.objects.count() == 1
    # the last unit can still be had
    assert order(shopper, (lamp, 1)).status_code == 201 and stock_of(lamp) == 0
    assert order(shopper, (lamp, 1)).json()["goods"] == [{"goods": lamp.pk, "available": 0}]


def test_the_database_refuses_negative_stock(lamp: Goods) -> None:
    with pytest.raises(IntegrityError), transaction.atomic():
        Goods.objects.filter(pk=lamp.pk).update(stock=-1)
    with pytest.raises(IntegrityError), transaction.atomic():
        Goods.objects.filter(pk=lamp.pk).update(reserved=-1)


def test_stock_and_available_in_every_goods_representation(anon: APIClient, lamp: Goods) -> None:
    detail = anon.get(f"/api/goods/{lamp.pk}/").json()
    listed = anon.get("/api/goods/").json()["results"][0]
    assert (detail["stock"], detail["available"]) == (3, 3)
    assert (listed["stock"], listed["available"]) == (3, 3)


def test_staff_set_and_move_stock(staff: APIClient, shopper: APIClient, anon: APIClient, lamp: Goods) -> None:
    url = f"/api/goods/{lamp.pk}/"
    # set (PATCH) and move (POST .../stock/): the answer is the goods as it now is
    assert staff.patch(url, {"stock": 10}, format="json").json()["available"] == 10
    moved = staff.post(f"{url}stock/", {"add": 5}, format="json")
    assert moved.status_code == 200 and (moved.json()["stock"], moved.json()["available"]) == (15, 15)
    assert staff.post(f"{url}stock/", {"add": -15}, format="json").json()["stock"] == 0
    # never below zero: 409, nothing changed
    below = staff.post(f"{url}stock/", {"add": -1}, format="json")
    assert below.status_code == 409 and below.json()["code"] == "stock_below_zero"
    assert below.json()["stock"] == 0 and stock_of(lamp) == 0
    # bad input: 400 with a JSON body
    for body in ({"add": "many"}, {}, {"add": 10**10}):
        bad = staff.post(f"{url}stock/", body, format="json")
        assert bad.status_code == 400 and "add" in bad.json(), body
    bad = staff.patch(url, {"stock": -3}, format="json")
    assert bad.status_code == 400 and "stock" in bad.json()
    # untracked: null stops tracking; moving it then is a 409
    assert staff.patch(url, {"stock": None}, format="json").json()["available"] is None
    untracked = staff.post(f"{url}stock/", {"add": 1}, format="json")
    assert untracked.status_code == 409 and untracked.json()["code"] == "stock_not_tracked"
    # who may
    assert shopper.post(f"{url}stock/", {"add": 1}, format="json").status_code == 403
    assert anon.post(f"{url}stock/", {"add": 1}, format="json").status_code == 401
    assert staff.post("/api/goods/999999/stock/", {"add": 1}, format="json").status_code == 404


def test_stock_changes_are_announced_after_commit(
    staff: APIClient, lamp: Goods, django_capture_on_commit_callbacks: Any, announced: list[Any]
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        staff.post(f"/api/goods/{lamp.pk}/stock/", {"add": 2}, format="json")
    version = Goods.objects.values_list("version", flat=True).get(pk=lamp.pk)
    assert [(row.id, row.stock, row.reserved, row.version) for row in announced] == [(lamp.pk, 5, 0, version)]


def test_created_goods_may_track_stock(staff: APIClient, usd: Any) -> None:
    one = staff.post("/api/goods/", {"name": "Chair", "stock": 4}, format="json")
    many = staff.post("/api/goods/", [{"name": "Desk", "stock": 0}, {"name": "Rug"}], format="json")
    assert one.status_code == 201 and one.json()["available"] == 4
    assert [g["stock"] for g in many.json()] == [0, None]


# --- the order's life ------------------------------------------------------------


def test_the_shopper_cancels_once_and_the_units_come_back_once(shopper: APIClient, lamp: Goods) -> None:
    placed = order(shopper, (lamp, 2)).json()
    url = f"/api/orders/{placed['id']}/cancel/"
    cancelled = shopper.post(url)
    assert cancelled.status_code == 200, cancelled.json()
    body = cancelled.json()
    assert body["status"] == "cancelled"
    assert [(e["from"], e["to"], e["by"], e["staff"], e["reason"]) for e in body["events"]] == [
        ("placed", "cancelled", "shopper", None, "shopper")
    ]
    assert stock_of(lamp) == 3
    again = shopper.post(url)
    assert again.status_code == 409
    assert again.json() == {
        "detail": "The order cannot move from its current status to that one.",
        "code": "invalid_transition",
        "status": "cancelled",
    }
    assert stock_of(lamp) == 3
    assert shopper.get(f"/api/orders/{placed['id']}/").json()["events"] == body["events"]


def test_the_shopper_may_cancel_only_within_the_window_and_only_their_own(
    shopper: APIClient, lamp: Goods, settings: Any
) -> None:
    placed = order(shopper, (lamp, 1)).json()
    other = bearer(UserFactory())
    assert other.post(f"/api/orders/{placed['id']}/cancel/").status_code == 404
    assert other.post("/api/orders/999999/cancel/").status_code == 404
    settings.ORDER_CANCEL_SECONDS = 60
    Order.objects.filter(pk=placed["id"]).update(
        created_at=Order.objects.get().created_at - timedelta(seconds=61)
    )
    late = shopper.post(f"/api/orders/{placed['id']}/cancel/")
    assert late.status_code == 409
    assert (late.json()["code"], late.json()["status"]) == ("cancel_window_passed", "placed")
    assert stock_of(lamp) == 2 and not OrderEvent.objects.exists()


def test_staff_record_payment_complete_and_cancel(
    staff: APIClient, staff_user: Any, shopper: APIClient, lamp: Goods
) -> None:
    first, second = order(shopper, (lamp, 1)).json(), order(shopper, (lamp, 1)).json()
    pay = f"/api/orders/{first['id']}/pay/"
    # shoppers may not; a bank transfer needs its reference; an unknown method is refused
    assert shopper.post(pay, {"method": "cash_on_delivery"}, format="json").status_code == 403
    no_reference = staff.post(pay, {"method": "bank_transfer"}, format="json")
    assert (no_reference.status_code, no_reference.json()["code"]) == (400, "payment_reference")
    unknown = staff.post(pay, {"method": "bitcoin"}, format="json")
    assert unknown.status_code == 400 and "method" in unknown.json()
    assert Order.objects.get(pk=first["id"]).status == "placed"
    # paid, then completed
    paid = staff.post(pay, {"method": "bank_transfer", "reference": "SEPA 42"}, format="json").json()
    assert (paid["status"], paid["payment_method"], paid["payment_reference"]) == (
        "paid",
        "bank_transfer",
        "SEPA 42",
    )
    paid_twice = staff.post(pay, {"method": "cash_on_delivery"}, format="json")
    assert paid_twice.status_code == 409
    assert (paid_twice.json()["code"], paid_twice.json()["status"]) == ("invalid_transition", "paid")
    completed = staff.post(f"/api/orders/{first['id']}/complete/")
    assert completed.json()["status"] == "completed"
    assert [(e["from"], e["to"], e["by"], e["staff"]) for e in completed.json()["events"]] == [
        ("placed", "paid", "staff", staff_user.pk),
        ("paid", "completed", "staff", staff_user.pk),
    ]
    refused = staff.post(f"/api/orders/{first['id']}/cancel/")
    assert (refused.status_code, refused.json()["status"]) == (409, "completed")
    # staff cancel a paid order: the units come back
    staff.post(f"/api/orders/{second['id']}/pay/", {"method": "cash_on_delivery"}, format="json")
    assert stock_of(lamp) == 1
    cancelled = staff.post(f"/api/orders/{second['id']}/cancel/").json()
    assert cancelled["events"][-1] | {"at": None} == {
        "from": "paid", "to": "cancelled", "at": None, "by": "staff", "staff": staff_user.pk, "reason": "staff"
    }  # fmt: skip
    assert stock_of(lamp) == 2
    # a shopper's own paid order: no longer theirs to cancel
    third = order(shopper, (lamp, 1)).json()
    staff.post(f"/api/orders/{third['id']}/pay/", {"method": "cash_on_delivery"}, format="json")
    assert shopper.post(f"/api/orders/{third['id']}/cancel/").json()["code"] == "invalid_transition"
    assert staff.post(f"/api/orders/{third['id']}/complete/", format="json").status_code == 200
    assert staff.post("/api/orders/999999/complete/").status_code == 404


def test_unpaid_orders_expire(shopper: APIClient, lamp: Goods, settings: Any) -> None:
    stale, paid, fresh = (order(shopper, (lamp, 1)).json() for _ in range(3))
    Order.objects.filter(pk=paid["id"]).update(status="paid")
    Order.objects.filter(pk__in=[stale["id"], paid["id"]]).update(
        created_at=Order.objects.get(pk=fresh["id"]).created_at - timedelta(hours=2)
    )
    assert orders_expire() == 0  # ORDER_PAY_SECONDS = 0: never
    settings.ORDER_PAY_SECONDS = 3600
    assert orders_expire() == 1
    assert dict(Order.objects.values_list("id", "status")) == {
        stale["id"]: "cancelled", paid["id"]: "paid", fresh["id"]: "placed"
    }  # fmt: skip
    event = OrderEvent.objects.get()
    assert (event.order_id, event.by, event.staff_id, event.reason) == (
        stale["id"],
        "system",
        None,
        "expired",
    )
    assert stock_of(lamp) == 1
    assert orders_expire() == 0


def test_transitions_reach_webhooks_with_the_reason(
    staff: APIClient, shopper: APIClient, lamp: Goods
) -> None:
    endpoint_create(url="https://93.184.215.14/hooks", events=["order.paid", "order.cancelled"])
    placed = order(shopper, (lamp, 1)).json()
    staff.post(f"/api/orders/{placed['id']}/pay/", {"method": "cash_on_delivery"}, format="json")
    staff.post(f"/api/orders/{placed['id']}/cancel/")
    bodies = [json.loads(e.body) for e in WebhookEvent.objects.order_by("created_at")]
    assert [(b["type"], b["data"]["status"], b["data"].get("reason")) for b in bodies] == [
        ("order.paid", "paid", None),
        ("order.cancelled", "cancelled", "staff"),
    ]


def test_the_shopper_is_mailed_on_placement_and_cancellation(
    shopper: APIClient, shopper_user: Any, lamp: Goods, mailed: Any
) -> None:
    placed: dict[str, Any] = {}
    outbox = mailed(lambda: placed.update(order(shopper, (lamp, 2)).json()))
    assert [m.to for m in outbox] == [[shopper_user.email]]
    body = outbox[0].body
    assert f"#{placed['id']}" in outbox[0].subject
    for text in ("2 × Lamp at 10.00 USD = 20.00 USD", "Subtotal: 20.00", "Markup:   6.00", "Fee:      10.10"):
        assert text in body, body
    assert f"Order sum: {placed['order_sum']} USD" in body
    mailed(lambda: shopper.post(f"/api/orders/{placed['id']}/cancel/"))
    assert len(outbox) == 2 and "was cancelled as you asked" in outbox[1].body


# --- cart reservations -------------------------------------------------------------


def test_without_reservations_the_cart_holds_nothing(shopper: APIClient, lamp: Goods) -> None:
    added = shopper.post("/api/cart/items/", {"goods": lamp.pk, "quantity": 3}, format="json")
    assert added.status_code == 201
    assert (added.json()["items"][0]["held"], added.json()["items"][0]["held_until"]) == (0, None)
    assert CartItem.objects.get().held == 0
    assert order(bearer(UserFactory()), (lamp, 3)).status_code == 201  # the cart's units were not kept
    checkout = shopper.post("/api/cart/checkout/", {}, format="json")
    assert checkout.status_code == 409 and checkout.json()["goods"] == [{"goods": lamp.pk, "available": 0}]


def test_reservations_hold_units_until_checkout_or_expiry(
    shopper: APIClient, anon: APIClient, lamp: Goods, settings: Any
) -> None:
    settings.CART_RESERVATION_SECONDS = 600
    other = bearer(UserFactory())
    # the shopper's cart holds 2: others see 1 available and cannot take more
    added = shopper.post("/api/cart/items/", {"goods": lamp.pk, "quantity": 2}, format="json")
    assert added.status_code == 201
    line = added.json()["items"][0]
    assert line["held"] == 2 and line["held_until"] is not None  # the cart shows how long it holds
    assert anon.get(f"/api/goods/{lamp.pk}/").json()["available"] == 1
    held = other.post("/api/cart/items/", {"goods": lamp.pk, "quantity": 2}, format="json")
    assert held.status_code == 409 and held.json()["goods"] == [{"goods": lamp.pk, "available": 1}]
    assert order(other, (lamp, 2)).status_code == 409
    # raising one's own hold counts only the others' holds
    assert shopper.patch(f"/api/cart/items/{lamp.pk}/", {"quantity": 3}, format="json").status_code == 200
    assert Goods.objects.get(pk=lamp.pk).reserved == 3
    # the checkout converts the hold: the units are taken, nothing is held any more
    assert shopper.post("/api/cart/checkout/", {}, format="json").status_code == 201
    lamp.refresh_from_db()
    assert (lamp.stock, lamp.reserved, lamp.available) == (0, 0, 0)


def test_an_expired_hold_counts_no_more_and_is_cleared(
    shopper: APIClient, lamp: Goods, settings: Any
) -> None:
    settings.CART_RESERVATION_SECONDS = 600
    shopper.post("/api/cart/items/", {"goods": lamp.pk, "quantity": 3}, format="json")
    other = bearer(UserFactory())
    assert order(other, (lamp, 1)).status_code == 409
    CartItem.objects.update(held_until=CartItem.objects.get().held_until - timedelta(seconds=601))
    # a placement counts the live holds afresh: the lapsed one is not among them
    assert order(other, (lamp, 1)).status_code == 201
    assert holds_expire() == 1
    item = CartItem.objects.get()
    assert (item.held, item.held_until, Goods.objects.get(pk=lamp.pk).reserved) == (0, None, 0)
    assert holds_expire() == 0


def test_removing_a_line_gives_its_hold_back(shopper: APIClient, lamp: Goods, settings: Any) -> None:
    settings.CART_RESERVATION_SECONDS = 600
    shopper.post("/api/cart/items/", {"goods": lamp.pk, "quantity": 2}, format="json")
    assert Goods.objects.get(pk=lamp.pk).reserved == 2
    assert shopper.delete(f"/api/cart/items/{lamp.pk}/").status_code == 200
    assert Goods.objects.get(pk=lamp.pk).reserved == 0
    shopper.post("/api/cart/items/", {"goods": lamp.pk, "quantity": 1}, format="json")
    assert shopper.delete("/api/cart/").status_code == 200
    assert Goods.objects.get(pk=lamp.pk).reserved == 0
