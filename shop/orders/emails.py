"""Order e-mails to the shopper (SPEC §13): on placement and on cancellation.

Scheduled after the transaction commits and sent outside the request, as account e-mails are
(``EMAIL_DELIVERY``: the worker in stack mode, a background thread in embedded mode), rendered
there from the order's id as the database has it then.
"""

from enum import StrEnum

from django.conf import settings

from shop.core.enqueue import enqueue_after_commit

# shop.orders.tasks.order_email_send_task and order_emails_send_task, named as the broker names them.
ORDER_EMAIL_SEND_TASK = "orders.order_email_send"
ORDER_EMAILS_SEND_TASK = "orders.order_emails_send"


class OrderEmail(StrEnum):
    PLACED = "placed"
    CANCELLED = "cancelled"


def order_email_schedule(*, kind: OrderEmail, order_id: int) -> None:
    """Send the shopper the e-mail ``kind`` about this order once the current transaction commits."""
    enqueue_after_commit(ORDER_EMAIL_SEND_TASK, str(kind), order_id, via=settings.EMAIL_DELIVERY)


def order_emails_schedule(*, kind: OrderEmail, order_ids: list[int]) -> None:
    """The same e-mail about each of many orders placed together (standing orders' fills): one
    task for all of them, not one each."""
    if order_ids:
        enqueue_after_commit(ORDER_EMAILS_SEND_TASK, str(kind), order_ids, via=settings.EMAIL_DELIVERY)
