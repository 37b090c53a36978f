"""The e-mail a shopper gets when alerts fire: one per shopper and batch, listing them all (a
tick that crosses twenty of one shopper's alerts sends one e-mail, not twenty). A filled standing
order is mailed as the order it placed is (shop.orders.emails)."""

from django.conf import settings

from shop.core.enqueue import enqueue_after_commit

# shop.pricewatch.tasks.alerts_email_send_task, named as the broker names it.
ALERTS_EMAIL_SEND_TASK = "pricewatch.alerts_email_send"


def alerts_email_schedule(*, user_id: int, alert_ids: list[int]) -> None:
    enqueue_after_commit(ALERTS_EMAIL_SEND_TASK, user_id, alert_ids, via=settings.EMAIL_DELIVERY)
