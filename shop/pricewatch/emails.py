"""The e-mail a shopper gets when alerts fire: one per shopper for the alerts a tick fired, however
many batches of that tick fired them. Each batch's match schedules the mail of its shoppers a
tick later (PRICE_TICK_SECONDS); whichever task comes first mails every alert of that shopper
fired and not yet mailed, and the others find nothing left. A task mails USERS_A_TASK shoppers
and hands the rest on, so that each is short at EMAIL_PER_SECOND. A filled standing order is
mailed as the order it placed is (shop.orders.emails)."""

from django.conf import settings

from shop.core.enqueue import enqueue_after_commit

# shop.pricewatch.tasks.alerts_email_send_task, named as the broker names it.
ALERTS_EMAIL_SEND_TASK = "pricewatch.alerts_email_send"


# Shoppers one task mails (their alerts locked meanwhile): at EMAIL_PER_SECOND, two seconds.
USERS_A_TASK = 100


def alerts_email_schedule(*, user_ids: list[int], countdown: float | None = None) -> None:
    """Mail these shoppers their fired alerts, one tick from now (or ``countdown`` seconds): one
    task, which mails USERS_A_TASK of them and hands the others on to the next."""
    enqueue_after_commit(
        ALERTS_EMAIL_SEND_TASK,
        user_ids,
        via=settings.EMAIL_DELIVERY,
        countdown=settings.PRICE_TICK_SECONDS if countdown is None else countdown,
    )
