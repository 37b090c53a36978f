"""Webhook endpoints, the events recorded for them, and the log of every delivery attempt."""

import uuid

from django.db import models

from shop.core.events import EventType

EVENT_CHOICES = [(kind.value, kind.value) for kind in EventType]


class WebhookEndpoint(models.Model):
    url = models.URLField(max_length=2000)
    # The event types this endpoint wants, e.g. ["order.created", "prices.batch"].
    events = models.JSONField(default=list)
    is_active = models.BooleanField(default=True)
    description = models.CharField(max_length=200, blank=True)
    # Needed in clear to sign; shown once, in the answer to the POST that made it.
    secret = models.CharField(max_length=100, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    # The first failed attempt since the last delivered one (None while it delivers): failing
    # for WEBHOOK_DISABLE_AFTER_SECONDS switches the endpoint off.
    failing_since = models.DateTimeField(null=True, blank=True, editable=False)
    # After an attempt that got no answer (its deadline, a refused connection): nothing is sent to
    # it before then, the failed delivery's next try, so a dead or trickling receiver costs the
    # senders one attempt per retry, not one per event.
    retry_at = models.DateTimeField(null=True, blank=True, editable=False)
    # Why and when the shop switched it off; switching it on again clears both.
    disabled_at = models.DateTimeField(null=True, blank=True, editable=False)
    disabled_reason = models.CharField(max_length=500, blank=True, editable=False)

    class Meta:
        ordering = ("id",)

    def __str__(self) -> str:
        return self.url


class WebhookEvent(models.Model):
    """One event as it is sent: the same body (so the same signature input) on every attempt."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    type = models.CharField(max_length=40, choices=EVENT_CHOICES)
    created_at = models.DateTimeField(db_index=True)  # the log's retention deletes by age
    body = models.TextField()

    class Meta:
        ordering = ("created_at",)

    def __str__(self) -> str:
        return f"{self.type} {self.id}"


class WebhookDelivery(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending"
        SUCCEEDED = "succeeded"
        FAILED = "failed"
        # prices.batch only: never sent, more than WEBHOOK_MAX_PENDING_BATCHES newer ones waited.
        DROPPED = "dropped"

    endpoint = models.ForeignKey(WebhookEndpoint, on_delete=models.CASCADE, related_name="deliveries")
    event = models.ForeignKey(WebhookEvent, on_delete=models.CASCADE, related_name="deliveries")
    # Copied from the event: the sender keeps prices.batch deliveries of one endpoint in order.
    event_type = models.CharField(max_length=40, choices=EVENT_CHOICES)
    # prices.batch only: the feed's seq, the order batches go out in.
    seq = models.BigIntegerField(null=True, blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    last_attempt_at = models.DateTimeField(null=True, blank=True)
    last_status_code = models.PositiveIntegerField(null=True, blank=True)
    last_error = models.CharField(max_length=500, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ("-id",)
        verbose_name_plural = "webhook deliveries"
        indexes = [
            # The sender's question: what is due for this endpoint, oldest first.
            models.Index(
                fields=("endpoint", "id"),
                name="webhooks_delivery_pending",
                condition=models.Q(status="pending"),
            ),
            models.Index(
                fields=("next_attempt_at",),
                name="webhooks_delivery_due",
                condition=models.Q(status="pending"),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.event_type} to {self.endpoint_id} ({self.status})"


class WebhookAttempt(models.Model):
    """One POST of a delivery: when, what came back, how long it took."""

    delivery = models.ForeignKey(WebhookDelivery, on_delete=models.CASCADE, related_name="attempt_log")
    at = models.DateTimeField()
    status_code = models.PositiveIntegerField(null=True, blank=True)
    error = models.CharField(max_length=500, blank=True)
    duration_ms = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ("id",)

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M:%S} {self.status_code or self.error}"


class WebhookSaleState(models.Model):
    """Whether a sale was running when last looked at: the clock starts and ends sales, so
    sale.started / sale.ended are found by comparing with what is running now."""

    sale_id = models.BigIntegerField(primary_key=True)
    running = models.BooleanField()
    changed_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"sale {self.sale_id}: {'running' if self.running else 'not running'}"
