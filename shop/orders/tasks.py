import logging

from celery import shared_task

from shop.core.enqueue import MAIL_TASK_OPTIONS
from shop.orders.emails import ORDER_EMAIL_SEND_TASK, ORDER_EMAILS_SEND_TASK, OrderEmail, order_email_schedule
from shop.orders.services.holds import holds_expire
from shop.orders.services.lifecycle import orders_expire
from shop.orders.services.notices import order_email_send, order_emails_send

logger = logging.getLogger(__name__)


@shared_task(name=ORDER_EMAIL_SEND_TASK, **MAIL_TASK_OPTIONS)
def order_email_send_task(kind: str, order_id: int) -> bool:
    """An order e-mail (placed, cancelled), rendered here from the order's id."""
    return order_email_send(kind=kind, order_id=order_id)


@shared_task(name=ORDER_EMAILS_SEND_TASK, ignore_result=True, time_limit=600, soft_time_limit=590)
def order_emails_send_task(kind: str, order_ids: list[int]) -> int:
    """The order e-mail ``kind`` about each of ``order_ids``, over one mail connection; one that
    fails is handed to the one-order task, which retries it (the others are not sent twice). How
    many were sent."""
    sent, failed = order_emails_send(kind=kind, order_ids=order_ids)
    for order_id in failed:
        logger.warning("order e-mail %s about order %s failed; retried on its own", kind, order_id)
        order_email_schedule(kind=OrderEmail(kind), order_id=order_id)
    return sent


@shared_task(name="orders.expire", ignore_result=True, time_limit=120, soft_time_limit=100)
def orders_expire_task() -> int:
    """Beat's entry point: cancel the orders left unpaid for ORDER_PAY_SECONDS."""
    return orders_expire()


@shared_task(name="orders.holds_expire", ignore_result=True, time_limit=60, soft_time_limit=50)
def holds_expire_task() -> int:
    """Beat's entry point: clear the cart holds past their time."""
    return holds_expire()
