from datetime import datetime
from decimal import Decimal

from django.db import models
from django.utils import timezone

from shop.domain.price_strategies import MAX_STEP_PERCENT, MAX_WINDOW_SECONDS, Strategy
from shop.domain.stock import stock_available

STRATEGY_CHOICES = [(s.value, s.value) for s in Strategy]


class Goods(models.Model):
    name = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(default=timezone.now)
    # The current price, kept beside the goods so that reading it costs one
    # indexed row, never a scan of the history (SPEC §10). Written only by
    # shop.catalog.services.prices, in the same transaction as the Price row.
    price = models.DecimalField(max_digits=12, decimal_places=2, null=True, blank=True)
    price_updated_at = models.DateTimeField(null=True, blank=True)
    current_price_id = models.BigIntegerField(null=True, blank=True)
    # The row's version: the database moves it on at every UPDATE of the row, whoever writes it
    # (a trigger, migration 0008), so what is rendered from the row is keyed by it (api.py).
    # ``default`` beside ``db_default``: bulk_create sends plain values, which keeps Django's
    # one-array-per-column INSERT (a DatabaseDefault per row cost 2× on 10,000 goods, bench/catalog.py);
    # ``db_default`` serves rows inserted by SQL.
    version = models.BigIntegerField(default=1, db_default=1, editable=False)
    # Units in stock (SPEC §13); None: not tracked, the goods sells any quantity. Taken by
    # orders in the transaction that places them, returned by cancellation, set or moved by
    # staff (shop.catalog.services.stock); the database refuses a negative count.
    stock = models.IntegerField(null=True, blank=True)
    # Units held by live cart reservations (CART_RESERVATION_SECONDS): the sum of the cart
    # lines' live holds, recomputed under the goods' lock whenever a hold changes
    # (shop.orders.services.holds), so it is derived, never counted up and down.
    reserved = models.IntegerField(default=0, db_default=0, editable=False)

    class Meta:
        ordering = ("id",)
        verbose_name_plural = "goods"
        constraints = (
            models.CheckConstraint(condition=models.Q(stock__gte=0), name="goods_stock_not_negative"),
            models.CheckConstraint(condition=models.Q(reserved__gte=0), name="goods_reserved_not_negative"),
        )

    def __str__(self) -> str:
        return self.name

    @property
    def available(self) -> int | None:
        """What can be ordered now: the stock less the units others hold; None when untracked."""
        return stock_available(self.stock, self.reserved)


class Sale(models.Model):
    name = models.CharField(max_length=200)
    min_price = models.DecimalField(max_digits=12, decimal_places=2)
    max_price = models.DecimalField(max_digits=12, decimal_places=2)
    goods = models.ManyToManyField(Goods, related_name="sales", blank=True)
    is_active = models.BooleanField(default=True)
    starts_at = models.DateTimeField(null=True, blank=True)
    ends_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    version = models.BigIntegerField(default=1, db_default=1, editable=False)  # as Goods.version
    # How its ticks move prices (SPEC §14, shop.domain.price_strategies): a uniform draw, a bounded
    # random walk of at most step_percent a tick, or demand (units ordered in the last
    # window_seconds against target_units) moving the price by step_percent at full pressure.
    strategy = models.CharField(max_length=16, choices=STRATEGY_CHOICES, default=Strategy.UNIFORM.value)
    step_percent = models.DecimalField(max_digits=5, decimal_places=2, default=Decimal(2))
    window_seconds = models.PositiveIntegerField(default=300)
    target_units = models.PositiveIntegerField(default=1)

    class Meta:
        ordering = ("id",)
        constraints = (
            models.CheckConstraint(
                condition=models.Q(step_percent__gt=0, step_percent__lte=MAX_STEP_PERCENT),
                name="sale_step_percent",
            ),
            models.CheckConstraint(
                condition=models.Q(window_seconds__gte=1, window_seconds__lte=MAX_WINDOW_SECONDS),
                name="sale_window_seconds",
            ),
            models.CheckConstraint(
                condition=models.Q(min_price__gt=0, max_price__gte=models.F("min_price")),
                name="sale_bounds",
            ),
            models.CheckConstraint(
                condition=models.Q(starts_at__isnull=True)
                | models.Q(ends_at__isnull=True)
                | models.Q(ends_at__gt=models.F("starts_at")),
                name="sale_window",
            ),
        )

    def __str__(self) -> str:
        return self.name

    def is_running_at(self, at: datetime) -> bool:
        """The running-sale rule for one sale in hand; shop.catalog.goods_store says it in SQL
        and as an ORM condition."""
        return (
            self.is_active
            and (self.starts_at is None or self.starts_at <= at)
            and (self.ends_at is None or at < self.ends_at)
        )

    @property
    def is_running(self) -> bool:
        return self.is_running_at(timezone.now())


class Price(models.Model):
    """One price of one goods at one moment, in the base currency. Append-only: the database
    refuses an UPDATE (migration 0008), so a price's id names its whole row."""

    class Source(models.TextChoices):
        TICK = "tick"
        ON_DEMAND = "on_demand"
        MANUAL = "manual"

    # No database constraint in PostgreSQL (see migration 0004); deleting goods
    # still deletes their history through Django.
    goods = models.ForeignKey(Goods, on_delete=models.CASCADE, related_name="prices", db_constraint=False)
    amount = models.DecimalField(max_digits=12, decimal_places=2)
    created_at = models.DateTimeField(default=timezone.now)
    source = models.CharField(max_length=16, choices=Source.choices)
    # History outlives sales: a deleted sale leaves its id on the prices it made.
    sale = models.ForeignKey(
        Sale,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        null=True,
        blank=True,
        related_name="+",
    )

    class Meta:
        ordering = ("-created_at", "-id")
        indexes = (
            models.Index(fields=("goods", "-created_at", "-id"), name="price_goods_newest"),
            models.Index(fields=("-created_at", "-id"), name="price_newest"),
        )
        constraints = (models.CheckConstraint(condition=models.Q(amount__gt=0), name="price_positive"),)

    def __str__(self) -> str:
        return f"{self.goods_id}: {self.amount} at {self.created_at:%H:%M:%S}"


class Tick(models.Model):
    """One executed tick. The primary key is the tick's slot (seconds since the
    epoch // PRICE_TICK_SECONDS), so the database itself refuses a second tick
    in a slot, however many beat processes or duplicated tasks ask for one."""

    slot = models.BigIntegerField(primary_key=True)
    started_at = models.DateTimeField()
    goods_count = models.PositiveIntegerField(default=0)
    duration_ms = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ("-slot",)

    def __str__(self) -> str:
        return f"tick {self.slot}: {self.goods_count} goods in {self.duration_ms} ms"


class PriceCandle(models.Model):
    """One minute of a goods' price history, rolled up from raw prices by the
    retention policy (SPEC §10) once their partition is dropped."""

    goods = models.ForeignKey(Goods, on_delete=models.CASCADE, related_name="+")
    minute = models.DateTimeField()
    open = models.DecimalField(max_digits=12, decimal_places=2)
    high = models.DecimalField(max_digits=12, decimal_places=2)
    low = models.DecimalField(max_digits=12, decimal_places=2)
    close = models.DecimalField(max_digits=12, decimal_places=2)

    class Meta:
        ordering = ("goods", "minute")
        constraints = (models.UniqueConstraint(fields=("goods", "minute"), name="candle_goods_minute"),)

    def __str__(self) -> str:
        return f"{self.goods_id} {self.minute:%Y-%m-%d %H:%M}"
