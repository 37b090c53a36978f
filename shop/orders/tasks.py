from celery import shared_task

from shop.core.enqueue import MAIL_TASK_OPTIONS
from shop.orders.emails import ORDER_EMAIL_SEND_TASK
from shop.orders.services.holds import holds_expire
from shop.orders.services.lifecycle import orders_expire
from shop.orders.services.notices import order_email_send


@shared_task(name=ORDER_EMAIL_SEND_TASK, **MAIL_TASK_OPTIONS)
def order_email_send_task(kind: str, order_id: int) -> bool:
    """An order e-mail (placed, cancelled), rendered here from the order's id."""
    return order_email_send(kind=kind, order_id=order_id)


@shared_task(name="orders.expire", ignore_result=True, time_limit=120, soft_time_limit=100)
def orders_expire_task() -> int:
    """Beat's entry point: cancel the orders left unpaid for ORDER_PAY_SECONDS."""
    return orders_expire()


@shared_task(name="orders.holds_expire", ignore_result=True, time_limit=60, soft_time_limit=50)
def holds_expire_task() -> int:
    """Beat's entry point: clear the cart holds past their time."""
    return holds_expire()
