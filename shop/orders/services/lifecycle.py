"""The order's life after placement (SPEC §13): paid, completed, cancelled, expired.

Each transition locks the order's row, checks the move against shop.domain.order_status, writes
the new status and its event (from, to, at, by) in one transaction, and announces it: webhooks
(order.paid, order.completed, order.cancelled) in that transaction, the shopper's e-mail after
it commits. Two transitions of one order take turns on its lock, so a cancellation returns the
units it took exactly once: the second finds the order cancelled (409 invalid_transition).
"""

import logging
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import transaction

from shop.accounts.models import User
from shop.catalog.services.stock import goods_lock, stock_move
from shop.core.db_store import db_now
from shop.core.errors import Conflict, NotFound
from shop.core.events import EventType, event_emit
from shop.domain.order_status import transition_allowed
from shop.orders.emails import OrderEmail, order_email_schedule
from shop.orders.errors import OrderErrorCode
from shop.orders.models import Order, OrderEvent
from shop.orders.payments import payment_provider

logger = logging.getLogger(__name__)

INVALID_TRANSITION = "The order cannot move from its current status to that one."
CANCEL_WINDOW_PASSED = "This order can no longer be cancelled by its shopper; ask the shop."
ORDER_NOT_FOUND = "No such order."
EXPIRE_BATCH = 200  # unpaid orders one sweep cancels at most

_ANNOUNCED = {
    Order.Status.PAID: EventType.ORDER_PAID,
    Order.Status.COMPLETED: EventType.ORDER_COMPLETED,
    Order.Status.CANCELLED: EventType.ORDER_CANCELLED,
}


@dataclass(frozen=True)
class Actor:
    """Who moves an order: its shopper, a staff member or the shop itself (expiry)."""

    by: OrderEvent.By
    staff: User | None = None

    @classmethod
    def of(cls, user: User) -> "Actor":
        return cls(OrderEvent.By.STAFF, user) if user.is_staff else cls(OrderEvent.By.SHOPPER)


SYSTEM = Actor(OrderEvent.By.SYSTEM)


def _locked(order_id: int, *, user: User | None) -> Order:
    """The order, its row locked for this transaction; 404 when it is unknown or (``user``
    given) another user's."""
    orders = Order.objects.select_for_update(of=("self",)).select_related("currency")
    if user is not None:
        orders = orders.filter(user=user)
    order = orders.filter(pk=order_id).first()
    if order is None:
        raise NotFound(ORDER_NOT_FOUND)
    return order


def _move(order: Order, to: Order.Status, actor: Actor, *, reason: str = "", **fields: Any) -> Order:
    if not transition_allowed(order.status, to):
        raise Conflict(INVALID_TRANSITION, code=OrderErrorCode.INVALID_TRANSITION, status=order.status)
    Order.objects.filter(pk=order.pk).update(status=to, **fields)
    OrderEvent.objects.create(
        order=order,
        from_status=order.status,
        to_status=to,
        at=db_now(),
        by=actor.by,
        staff=actor.staff,
        reason=reason,
    )
    order.status = to
    for name, value in fields.items():
        setattr(order, name, value)
    order.__dict__.pop("history", None)  # read again, with the new event
    event_emit(kind=_ANNOUNCED[to], subject=order)
    return order


def _target(order_id: int, actor: Actor, user: User | None) -> Order:
    """Staff and the shop reach any order; a shopper their own only."""
    return _locked(order_id, user=user if actor.by == OrderEvent.By.SHOPPER else None)


@transaction.atomic
def order_cancel(*, order_id: int, actor: Actor, user: User | None = None) -> Order:
    """Cancel the order and return the units it took. Its shopper (``user``) may while it is
    placed and within ORDER_CANCEL_SECONDS of its creation; staff while placed or paid; the shop
    (expiry) while placed."""
    order = _target(order_id, actor, user)
    if actor.by != OrderEvent.By.STAFF and order.status != Order.Status.PLACED:
        raise Conflict(INVALID_TRANSITION, code=OrderErrorCode.INVALID_TRANSITION, status=order.status)
    if actor.by == OrderEvent.By.SHOPPER and db_now() - order.created_at > timedelta(
        seconds=settings.ORDER_CANCEL_SECONDS
    ):
        raise Conflict(CANCEL_WINDOW_PASSED, code=OrderErrorCode.CANCEL_WINDOW_PASSED, status=order.status)
    reason = {
        OrderEvent.By.SHOPPER: OrderEvent.Reason.SHOPPER,
        OrderEvent.By.STAFF: OrderEvent.Reason.STAFF,
        OrderEvent.By.SYSTEM: OrderEvent.Reason.EXPIRED,
    }[actor.by]
    order = _move(order, Order.Status.CANCELLED, actor, reason=reason)
    taken = {line.goods_id: line.stock_taken for line in order.lines if line.stock_taken}
    if taken:
        goods_lock(goods_ids=taken)
        stock_move(deltas=taken)
    order_email_schedule(kind=OrderEmail.CANCELLED, order_id=order.pk)
    return order


@transaction.atomic
def order_pay(*, order_id: int, actor: Actor, method: str, reference: str = "") -> Order:
    """Record the order's payment (staff), through its method's provider (shop.orders.payments)."""
    provider = payment_provider(method)
    order = _target(order_id, actor, None)
    record = provider.record(order=order, reference=reference)
    return _move(
        order, Order.Status.PAID, actor, payment_method=record.method, payment_reference=record.reference
    )


@transaction.atomic
def order_complete(*, order_id: int, actor: Actor) -> Order:
    """Mark a paid order completed (staff): delivered, or collected."""
    return _move(_target(order_id, actor, None), Order.Status.COMPLETED, actor)


def orders_expire() -> int:
    """Cancel the orders left unpaid for ORDER_PAY_SECONDS (0: never), oldest first, each in a
    transaction of its own (reason ``expired``): how many. An order a staff member is paying at
    that moment is skipped (its row is locked) and, if still unpaid, taken at the next sweep."""
    if settings.ORDER_PAY_SECONDS <= 0:
        return 0
    cutoff = db_now() - timedelta(seconds=settings.ORDER_PAY_SECONDS)
    due = Order.objects.filter(status=Order.Status.PLACED, created_at__lt=cutoff).order_by("created_at")
    expired = 0
    for order_id in list(due.values_list("id", flat=True)[:EXPIRE_BATCH]):
        with transaction.atomic():
            free = Order.objects.select_for_update(skip_locked=True).filter(
                pk=order_id, status=Order.Status.PLACED
            )
            if free.exists():
                order_cancel(order_id=order_id, actor=SYSTEM)
                expired += 1
    if expired:
        logger.info("cancelled %d unpaid orders (ORDER_PAY_SECONDS=%d)", expired, settings.ORDER_PAY_SECONDS)
    return expired
