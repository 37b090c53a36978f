"""Rendering and sending the order e-mails (shop.orders.emails schedules them)."""

import logging

from django.conf import settings
from django.core.mail import send_mail
from django.template.loader import render_to_string

from shop.currency.selectors import base_currency_code
from shop.domain.money import format_amount
from shop.orders.emails import OrderEmail
from shop.orders.models import Order

logger = logging.getLogger(__name__)

SUBJECTS = {
    OrderEmail.PLACED: "Your tickshop order #{id}",
    OrderEmail.CANCELLED: "Your tickshop order #{id} was cancelled",
}


def order_email_send(*, kind: OrderEmail | str, order_id: int) -> bool:
    """Render the order e-mail ``kind`` from the order as it is now and send it to its shopper;
    False when the order or its shopper is gone."""
    kind = OrderEmail(kind)
    order = Order.objects.select_related("user", "currency").filter(pk=order_id).first()
    if order is None or not order.user.email:
        logger.info("order e-mail %s about order %s: nothing to send", kind, order_id)
        return False
    last = order.history[-1] if order.history else None
    context = {
        "order": order,
        "base": base_currency_code(),
        "order_sum": format_amount(order.order_sum, order.currency.decimals),
        "site_url": settings.SITE_URL.rstrip("/"),
        "cancel_minutes": settings.ORDER_CANCEL_SECONDS // 60,
        "reason": last.reason if last else "",
    }
    body = render_to_string(f"orders/email/{kind}.txt", context)
    send_mail(SUBJECTS[kind].format(id=order.pk), body, None, [order.user.email])
    logger.info("order e-mail %s sent for order %s", kind, order_id)
    return True
