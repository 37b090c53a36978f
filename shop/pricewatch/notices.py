"""Rendering and sending the alerts e-mails (shop.pricewatch.emails schedules them)."""

import logging
from datetime import datetime
from decimal import Decimal
from itertools import groupby
from smtplib import SMTPException
from typing import NamedTuple

from django.conf import settings
from django.core.mail import EmailMessage, get_connection
from django.db import transaction
from django.template.loader import render_to_string
from django.utils import timezone

from shop.core.db_store import db_now
from shop.core.pace import email_pace
from shop.domain.money import format_amount
from shop.pricewatch.models import Alert

logger = logging.getLogger(__name__)

SUBJECT = "tickshop: {count} price alert(s) fired"


class _Fired(NamedTuple):
    """A fired alert as its e-mail shows it: the columns, not the models (a tick's burst mails
    tens of thousands of alerts)."""

    id: int
    user_id: int
    email: str
    goods_id: int
    goods_name: str
    currency_id: str
    decimals: int
    direction: str
    price: Decimal
    value: Decimal
    triggered_at: datetime


def alerts_email_send(*, user_ids: list[int]) -> int:
    """Mail each of these shoppers, in one e-mail, their alerts fired and not mailed yet; how many
    e-mails went, at most EMAIL_PER_SECOND. The alerts are locked while they are mailed and then
    marked (a concurrent task skips them: never mailed twice). A shopper whose mail failed keeps
    them unmarked, and the task fails after marking the others, so its retry mails only those."""
    pace, sent, failed = email_pace(), 0, 0
    with transaction.atomic():
        alerts = _unmailed(user_ids)
        if not alerts:  # an earlier task of the tick mailed them: no connection to the mail server
            return 0
        mailed = []
        with get_connection() as connection:  # one connection to the mail server for them all
            for _, group in groupby(alerts, key=lambda alert: alert.user_id):
                fired = list(group)
                try:
                    if fired[0].email:
                        pace.wait()
                        connection.send_messages([_message(fired)])
                except (SMTPException, OSError):
                    logger.warning("alerts e-mail to user %s failed; it is tried again", fired[0].user_id)
                    failed += 1
                    continue
                mailed += fired
                sent += 1
        Alert.objects.filter(id__in=[alert.id for alert in mailed]).update(emailed_at=db_now())
    if failed:
        raise SMTPException(f"{failed} alerts e-mails failed")
    return sent


def _unmailed(user_ids: list[int]) -> list["_Fired"]:
    """These shoppers' alerts fired and not mailed yet, locked (those another task holds skipped)."""
    rows = (
        Alert.objects.select_for_update(skip_locked=True, of=("self",))
        .filter(user_id__in=user_ids, triggered_at__isnull=False, emailed_at__isnull=True)
        .order_by("user_id", "id")
        .values_list(*_COLUMNS)
    )
    return [_Fired(*row) for row in rows]


_COLUMNS = ("id", "user_id", "user__email", "goods_id", "goods__name", "currency_id", "currency__decimals",
            "direction", "price", "value", "triggered_at")  # fmt: skip


def _line(alert: _Fired, site_url: str) -> str:
    """One alert's line: rendered here, not by the template's filters, which cost a shopper with
    many alerts several milliseconds an e-mail."""
    at = timezone.localtime(alert.triggered_at)
    price, value = format_amount(alert.price, alert.decimals), format_amount(alert.value, alert.decimals)
    return (
        f"{alert.goods_name}: {value} {alert.currency_id} at {at:%Y-%m-%d %H:%M:%S} {at.tzname()} "
        f"({alert.direction} {price} {alert.currency_id}) — {site_url}/goods/{alert.goods_id}/"
    )


def _message(fired: list[_Fired]) -> EmailMessage:
    site_url = settings.SITE_URL.rstrip("/")
    body = render_to_string(
        "pricewatch/email/alerts.txt",
        {"lines": [_line(alert, site_url) for alert in fired], "site_url": site_url},
    )
    return EmailMessage(SUBJECT.format(count=len(fired)), body, None, [fired[0].email])
