from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils import timezone
from django.utils.functional import cached_property

from shop.catalog.models import Goods
from shop.currency.models import Currency, ExchangeRate
from shop.domain.orders import MAX_QUANTITY, MIN_QUANTITY

# shop.domain.orders.quantity_allowed, for the admin's forms and the database.
QUANTITY_VALIDATORS = [MinValueValidator(MIN_QUANTITY), MaxValueValidator(MAX_QUANTITY)]


class Cart(models.Model):
    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="cart")
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"cart of {self.user}"


class CartItem(models.Model):
    cart = models.ForeignKey(Cart, on_delete=models.CASCADE, related_name="items")
    goods = models.ForeignKey(Goods, on_delete=models.CASCADE, related_name="+")
    quantity = models.PositiveIntegerField(validators=QUANTITY_VALIDATORS)
    # The unit price when the line was added, so the quote shows how it moved since.
    added_price = models.DecimalField(max_digits=12, decimal_places=2)
    added_at = models.DateTimeField(default=timezone.now)
    # A cart reservation (CART_RESERVATION_SECONDS > 0; SPEC §13): ``held`` units of a tracked
    # goods kept for this cart until ``held_until``; a checkout before then converts them.
    held = models.PositiveIntegerField(default=0)
    held_until = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ("added_at", "id")
        constraints = (
            models.UniqueConstraint(fields=("cart", "goods"), name="cart_goods_once"),
            models.CheckConstraint(
                condition=models.Q(quantity__gte=MIN_QUANTITY, quantity__lte=MAX_QUANTITY),
                name="cart_quantity_range",
            ),
        )

    def __str__(self) -> str:
        return f"{self.quantity} × {self.goods_id}"


class Order(models.Model):
    class Status(models.TextChoices):
        PLACED = "placed"
        PAID = "paid"
        COMPLETED = "completed"
        CANCELLED = "cancelled"

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="orders")
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PLACED)
    created_at = models.DateTimeField()
    currency = models.ForeignKey(Currency, on_delete=models.PROTECT, related_name="+")
    # The frozen snapshot (SPEC §4): the rate row active at created_at and its value.
    rate = models.ForeignKey(ExchangeRate, on_delete=models.PROTECT, related_name="+")
    exchange_rate = models.DecimalField(max_digits=24, decimal_places=8)
    # Parts of the order sum in the base currency, unrounded (SPEC §4).
    subtotal = models.DecimalField(max_digits=24, decimal_places=8)
    markup = models.DecimalField(max_digits=24, decimal_places=8)
    fee = models.DecimalField(max_digits=24, decimal_places=8)
    total = models.DecimalField(max_digits=24, decimal_places=8)
    order_sum = models.DecimalField(max_digits=24, decimal_places=4)
    # How it was paid, as staff recorded it (shop.orders.payments): a provider name and its reference.
    payment_method = models.CharField(max_length=32, blank=True, default="")
    payment_reference = models.CharField(max_length=200, blank=True, default="")

    class Meta:
        ordering = ("-created_at", "-id")
        indexes = (
            models.Index(fields=("user", "-created_at"), name="order_user_newest"),
            # The demand strategy's window (shop.orders.selectors.units_ordered_since) and the
            # expiry sweep's oldest unpaid orders (ORDER_PAY_SECONDS).
            models.Index(fields=("created_at",), name="order_created"),
        )

    def __str__(self) -> str:
        return f"order {self.pk} ({self.order_sum} {self.currency_id})"

    @cached_property
    def history(self) -> list["OrderEvent"]:
        """The transitions in the order they happened: the prefetched ``events`` when they are
        (one query otherwise)."""
        return list(self.events.all())

    @cached_property
    def lines(self) -> list["OrderLine"]:
        """The lines in id order: the prefetched ``items`` when they are (one query otherwise). A
        placed order comes with them set by its placement, so showing it reads no row."""
        return list(self.items.all())


class OrderLine(models.Model):
    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="items")
    goods = models.ForeignKey(Goods, on_delete=models.PROTECT, related_name="+")
    goods_name = models.CharField(max_length=200)
    quantity = models.PositiveIntegerField(validators=QUANTITY_VALIDATORS)
    # The Price row current at the order's creation. Kept as a plain id: price
    # history is partitioned and rolled up by the retention policy, and the
    # line must outlive the raw row; unit_price keeps its value.
    price_id = models.BigIntegerField()
    unit_price = models.DecimalField(max_digits=12, decimal_places=2)
    line_total = models.DecimalField(max_digits=20, decimal_places=2)
    # Units taken from the goods' stock at placement (0 when its stock was not tracked): what a
    # cancellation returns, whatever the goods' tracking is by then.
    stock_taken = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ("id",)

    def __str__(self) -> str:
        return f"{self.quantity} × {self.goods_name}"


class OrderEvent(models.Model):
    """One transition of an order's status (SPEC §13): from, to, when and by whom."""

    class By(models.TextChoices):
        SHOPPER = "shopper"
        STAFF = "staff"
        SYSTEM = "system"

    class Reason(models.TextChoices):
        """Why an order was cancelled (empty for the other transitions)."""

        SHOPPER = "shopper"
        STAFF = "staff"
        EXPIRED = "expired"

    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="events")
    from_status = models.CharField(max_length=16, choices=Order.Status.choices)
    to_status = models.CharField(max_length=16, choices=Order.Status.choices)
    at = models.DateTimeField()
    by = models.CharField(max_length=16, choices=By.choices)
    # The staff member, when ``by`` is staff (kept as the id should the account go).
    staff = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    reason = models.CharField(max_length=16, choices=Reason.choices, blank=True, default="")

    class Meta:
        ordering = ("at", "id")

    def __str__(self) -> str:
        return f"order {self.order_id}: {self.from_status} → {self.to_status}"


class IdempotencyKey(models.Model):
    """One order per (user, key) for 24 hours (SPEC §4, ``Idempotency-Key``)."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    key = models.CharField(max_length=255)
    fingerprint = models.CharField(max_length=64)
    order = models.ForeignKey(Order, on_delete=models.CASCADE, null=True, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = (models.UniqueConstraint(fields=("user", "key"), name="idempotency_user_key"),)

    def __str__(self) -> str:
        return f"{self.user_id}:{self.key}"
