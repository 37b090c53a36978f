from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models
from django.utils import timezone

CODE_VALIDATOR = RegexValidator(r"^[A-Z]{3}$", "A currency code is three upper-case letters.")


class Currency(models.Model):
    code = models.CharField(primary_key=True, max_length=3, validators=[CODE_VALIDATOR])
    name = models.CharField(max_length=100)
    symbol = models.CharField(max_length=8, blank=True)
    decimals = models.PositiveSmallIntegerField(
        default=2, validators=[MinValueValidator(0), MaxValueValidator(4)]
    )
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ("code",)
        verbose_name_plural = "currencies"
        constraints = (
            models.CheckConstraint(condition=models.Q(decimals__lte=4), name="currency_decimals_0_4"),
        )

    def __str__(self) -> str:
        return self.code


class ExchangeRate(models.Model):
    """Units of ``currency`` per 1 unit of the base currency. Append-only."""

    class Source(models.TextChoices):
        MANUAL = "manual"
        ECB = "ecb"
        SYSTEM = "system"

    currency = models.ForeignKey(Currency, on_delete=models.PROTECT, related_name="rates")
    rate = models.DecimalField(max_digits=24, decimal_places=8)
    valid_from = models.DateTimeField(default=timezone.now)
    source = models.CharField(max_length=32, default=Source.MANUAL)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ("-valid_from", "-id")
        indexes = (models.Index(fields=("currency", "-valid_from", "-id"), name="rate_newest"),)
        constraints = (models.CheckConstraint(condition=models.Q(rate__gt=0), name="rate_positive"),)

    def __str__(self) -> str:
        return f"{self.currency_id} {self.rate} from {self.valid_from:%Y-%m-%d %H:%M}"
