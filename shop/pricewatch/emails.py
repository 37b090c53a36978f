"""The e-mail a shopper gets when alerts fire: one per shopper for the alerts a tick fired, however
many batches of that tick fired them. Each batch's match schedules the mail of its shoppers a
tick later (PRICE_TICK_SECONDS); whichever task comes first mails every alert of that shopper
fired and not yet mailed, and the others find nothing left. A filled standing order is mailed
as the order it placed is (shop.orders.emails)."""

from django.conf import settings

from shop.core.enqueue import enqueue_after_commit

# shop.pricewatch.tasks.alerts_email_send_task, named as the broker names it.
ALERTS_EMAIL_SEND_TASK = "pricewatch.alerts_email_send"


def alerts_email_schedule(*, user_ids: list[int]) -> None:
    """Mail these shoppers their fired alerts, one tick from now: one task for all of them."""
    enqueue_after_commit(
        ALERTS_EMAIL_SEND_TASK, user_ids, via=settings.EMAIL_DELIVERY, countdown=settings.PRICE_TICK_SECONDS
    )
