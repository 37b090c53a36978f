"""Price alerts and standing orders (SPEC §15): what a shopper asks of prices still to come.

Both are matched by every committed batch of prices (shop.pricewatch.services.matching). Their
open rows are indexed by goods and threshold, so a batch finds the ones it crosses in one join.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q

from shop.catalog.models import Goods
from shop.currency.models import Currency
from shop.domain.orders import MAX_QUANTITY, MIN_QUANTITY
from shop.orders.models import Order


class Alert(models.Model):
    class Direction(models.TextChoices):
        BELOW = "below"
        ABOVE = "above"

    # No index of their own for the user, the goods and the currency: a firing or a fill rewrites
    # the row and every index with it (a tick that crosses 50,000 alerts rewrites 50,000), while
    # ("user", "-created_at") below serves the user's look-ups, the open rows' index the matching,
    # and a goods or currency is deleted rarely (never once ordered: its lines protect it).
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+", db_index=False
    )
    goods = models.ForeignKey(Goods, on_delete=models.CASCADE, related_name="+", db_index=False)
    currency = models.ForeignKey(Currency, on_delete=models.PROTECT, related_name="+", db_index=False)
    direction = models.CharField(max_length=8, choices=Direction.choices)
    price = models.DecimalField(max_digits=24, decimal_places=4)  # in the alert's currency
    created_at = models.DateTimeField()
    # Set once, by the first committed price that crosses ``price``: that price's id and its
    # value in the alert's currency (rate active at its created_at, rounded to the currency).
    triggered_at = models.DateTimeField(null=True, blank=True)
    price_id = models.BigIntegerField(null=True, blank=True)
    value = models.DecimalField(max_digits=24, decimal_places=4, null=True, blank=True)
    # When its shopper was mailed about it: the alerts fired in one tick go in one e-mail.
    emailed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ("-created_at", "-id")
        indexes = (
            models.Index(
                fields=("goods", "currency", "price"),
                name="alert_open",
                condition=Q(triggered_at__isnull=True),
            ),
            models.Index(fields=("user", "-created_at"), name="alert_user"),
        )
        constraints = (
            models.CheckConstraint(condition=Q(price__gt=0), name="alert_price_positive"),
            models.CheckConstraint(condition=Q(direction__in=("below", "above")), name="alert_direction"),
        )

    def __str__(self) -> str:
        return f"alert {self.pk} ({self.direction} {self.price} {self.currency_id})"

    @property
    def status(self) -> str:
        return "open" if self.triggered_at is None else "triggered"


class StandingOrder(models.Model):
    class Status(models.TextChoices):
        OPEN = "open"
        FILLED = "filled"
        EXPIRED = "expired"
        CANCELLED = "cancelled"

    user = models.ForeignKey(  # not indexed alone: as Alert's
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+", db_index=False
    )
    goods = models.ForeignKey(Goods, on_delete=models.CASCADE, related_name="+", db_index=False)
    quantity = models.PositiveIntegerField()
    currency = models.ForeignKey(Currency, on_delete=models.PROTECT, related_name="+", db_index=False)
    limit_price = models.DecimalField(max_digits=24, decimal_places=4)  # unit price, order currency
    expires_at = models.DateTimeField()
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.OPEN)
    created_at = models.DateTimeField()
    closed_at = models.DateTimeField(null=True, blank=True)  # filled, expired or cancelled at
    # Not indexed either: an order is deleted only with its shopper, whose standing orders go too.
    order = models.ForeignKey(
        Order, on_delete=models.SET_NULL, null=True, blank=True, related_name="+", db_index=False
    )

    class Meta:
        ordering = ("-created_at", "-id")
        indexes = (
            models.Index(
                fields=("goods", "currency", "limit_price"), name="standing_open", condition=Q(status="open")
            ),
            models.Index(fields=("expires_at",), name="standing_expiry", condition=Q(status="open")),
            models.Index(fields=("user", "-created_at"), name="standing_user"),
        )
        constraints = (
            models.CheckConstraint(condition=Q(limit_price__gt=0), name="standing_limit_positive"),
            models.CheckConstraint(
                condition=Q(quantity__gte=MIN_QUANTITY, quantity__lte=MAX_QUANTITY), name="standing_quantity"
            ),
            models.CheckConstraint(
                condition=Q(status__in=("open", "filled", "expired", "cancelled")), name="standing_status"
            ),
        )

    def __str__(self) -> str:
        return f"standing order {self.pk} ({self.quantity} at or below {self.limit_price} {self.currency_id})"
