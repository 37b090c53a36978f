"""Rendering and sending the order e-mails (shop.orders.emails schedules them)."""

import logging
from collections.abc import Iterable
from smtplib import SMTPException

from django.conf import settings
from django.core.mail import EmailMessage, get_connection
from django.db.models import QuerySet
from django.template.loader import render_to_string

from shop.core.pace import email_pace
from shop.currency.selectors import base_currency_code
from shop.domain.money import format_amount
from shop.orders.emails import OrderEmail
from shop.orders.models import Order

logger = logging.getLogger(__name__)

SUBJECTS = {
    OrderEmail.PLACED: "Your tickshop order #{id}",
    OrderEmail.CANCELLED: "Your tickshop order #{id} was cancelled",
}


def _orders(order_ids: Iterable[int]) -> "QuerySet[Order]":
    """The orders with all an e-mail shows of them, in three queries however many they are."""
    return (
        Order.objects.select_related("user", "currency")
        .prefetch_related("items", "events")
        .filter(pk__in=list(order_ids))
        .order_by("pk")
    )


def _message(kind: OrderEmail, order: Order, *, base: str) -> EmailMessage | None:
    """The e-mail ``kind`` about the order as it is now; None when its shopper has no address."""
    if not order.user.email:
        return None
    last = order.history[-1] if order.history else None
    context = {
        "order": order,
        "base": base,
        "order_sum": format_amount(order.order_sum, order.currency.decimals),
        "site_url": settings.SITE_URL.rstrip("/"),
        "cancel_minutes": settings.ORDER_CANCEL_SECONDS // 60,
        "reason": last.reason if last else "",
    }
    body = render_to_string(f"orders/email/{kind}.txt", context)
    return EmailMessage(SUBJECTS[kind].format(id=order.pk), body, None, [order.user.email])


def order_email_send(*, kind: OrderEmail | str, order_id: int) -> bool:
    """Render the order e-mail ``kind`` from the order as it is now and send it to its shopper;
    False when the order or its shopper is gone."""
    kind = OrderEmail(kind)
    order = _orders([order_id]).first()
    message = _message(kind, order, base=base_currency_code()) if order is not None else None
    if message is None:
        logger.info("order e-mail %s about order %s: nothing to send", kind, order_id)
        return False
    message.send()
    logger.info("order e-mail %s sent for order %s", kind, order_id)
    return True


def order_emails_send(*, kind: OrderEmail | str, order_ids: list[int]) -> tuple[int, list[int]]:
    """The e-mail ``kind`` about each of many orders (a standing orders' fill), read together and
    sent over one connection to the mail server, at most EMAIL_PER_SECOND: (how many went, the
    ids of the orders whose e-mail failed, for the caller to try again one by one). Gone orders
    and shoppers with no address are skipped."""
    kind = OrderEmail(kind)
    base = base_currency_code()
    sent, failed = 0, []
    orders = list(_orders(order_ids))
    if not orders:
        return 0, []
    connection = get_connection()
    try:
        connection.open()
    except (SMTPException, OSError):
        logger.warning("order e-mails %s: the mail server cannot be reached", kind)
        return 0, [order.pk for order in orders]
    pace = email_pace()
    try:
        for order in orders:
            message = _message(kind, order, base=base)
            if message is None:
                continue
            try:
                pace.wait()
                connection.send_messages([message])
            except (SMTPException, OSError):
                failed.append(order.pk)
                continue
            sent += 1
    finally:
        connection.close()
    return sent, failed
