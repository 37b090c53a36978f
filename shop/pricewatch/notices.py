"""Rendering and sending the alerts e-mails (shop.pricewatch.emails schedules them)."""

import logging
from itertools import groupby
from smtplib import SMTPException

from django.conf import settings
from django.core.mail import EmailMessage, get_connection
from django.db import transaction
from django.template.loader import render_to_string

from shop.core.db_store import db_now
from shop.domain.money import format_amount
from shop.pricewatch.models import Alert

logger = logging.getLogger(__name__)

SUBJECT = "tickshop: {count} price alert(s) fired"


def alerts_email_send(*, user_ids: list[int]) -> int:
    """Mail each of these shoppers, in one e-mail, their alerts fired and not mailed yet; how many
    e-mails went. The alerts are locked while they are mailed and then marked (a concurrent task
    skips them: never mailed twice). A shopper whose mail failed keeps them unmarked, and the
    task fails after marking the others, so its retry mails only those."""
    with transaction.atomic():
        alerts = list(
            Alert.objects.select_for_update(skip_locked=True, of=("self",))
            .filter(user_id__in=user_ids, triggered_at__isnull=False, emailed_at__isnull=True)
            .select_related("user", "goods", "currency")
            .order_by("user_id", "id")
        )
        mailed, failed = [], 0
        with get_connection() as connection:  # one connection to the mail server for them all
            for _, group in groupby(alerts, key=lambda alert: alert.user_id):
                fired = list(group)
                try:
                    if fired[0].user.email:
                        connection.send_messages([_message(fired)])
                except (SMTPException, OSError):
                    logger.warning("alerts e-mail to user %s failed; it is tried again", fired[0].user_id)
                    failed += 1
                    continue
                mailed += fired
        Alert.objects.filter(id__in=[alert.id for alert in mailed]).update(emailed_at=db_now())
    if failed:
        raise SMTPException(f"{failed} alerts e-mails failed")
    return len({alert.user_id for alert in mailed})


def _message(fired: list[Alert]) -> EmailMessage:
    rows = [
        {
            "alert": alert,
            "price": format_amount(alert.price, alert.currency.decimals),
            "value": format_amount(alert.value, alert.currency.decimals),  # type: ignore[arg-type]  # fired
        }
        for alert in fired
    ]
    body = render_to_string(
        "pricewatch/email/alerts.txt", {"rows": rows, "site_url": settings.SITE_URL.rstrip("/")}
    )
    return EmailMessage(SUBJECT.format(count=len(fired)), body, None, [fired[0].user.email])
