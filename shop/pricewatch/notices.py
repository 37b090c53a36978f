"""Rendering and sending the alerts e-mail (shop.pricewatch.emails schedules it)."""

import logging

from django.conf import settings
from django.core.mail import send_mail
from django.template.loader import render_to_string

from shop.accounts.models import User
from shop.domain.money import format_amount
from shop.pricewatch.models import Alert

logger = logging.getLogger(__name__)

SUBJECT = "tickshop: {count} price alert(s) fired"


def alerts_email_send(*, user_id: int, alert_ids: list[int]) -> bool:
    """Mail the shopper the alerts of ``alert_ids`` that fired and still exist; False when none
    does or the shopper has no address."""
    user = User.objects.filter(pk=user_id).first()
    alerts = list(
        Alert.objects.filter(user_id=user_id, id__in=alert_ids, triggered_at__isnull=False)
        .select_related("goods", "currency")
        .order_by("id")
    )
    if user is None or not user.email or not alerts:
        logger.info("alerts e-mail to user %s: nothing to send", user_id)
        return False
    rows = [
        {
            "alert": alert,
            "price": format_amount(alert.price, alert.currency.decimals),
            "value": format_amount(alert.value, alert.currency.decimals),  # type: ignore[arg-type]  # fired
        }
        for alert in alerts
    ]
    body = render_to_string(
        "pricewatch/email/alerts.txt", {"rows": rows, "site_url": settings.SITE_URL.rstrip("/")}
    )
    send_mail(SUBJECT.format(count=len(alerts)), body, None, [user.email])
    return True
