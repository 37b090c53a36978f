from typing import Any

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest

from shop.webhooks.models import WebhookAttempt, WebhookDelivery, WebhookEndpoint, WebhookEvent
from shop.webhooks.services.endpoints import ENDPOINT_FIELDS, delivery_redeliver, endpoint_update


@admin.register(WebhookEndpoint)
class WebhookEndpointAdmin(admin.ModelAdmin):
    """Endpoints are registered through the API, whose answer shows the secret once."""

    list_display = ("id", "url", "events", "is_active", "disabled_reason", "description", "created_at")
    list_filter = ("is_active",)
    fields = (
        "url", "events", "is_active", "description", "created_at",
        "failing_since", "retry_at", "disabled_at", "disabled_reason",
    )  # fmt: skip
    readonly_fields = (
        "url", "events", "created_at", "failing_since", "retry_at", "disabled_at", "disabled_reason",
    )  # fmt: skip

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def save_model(self, request: HttpRequest, obj: WebhookEndpoint, form: Any, change: bool) -> None:
        """Through the service (switching an endpoint on clears why it was switched off); the form
        has changed ``obj`` already, so the service gets the row as stored."""
        data = {name: form.cleaned_data[name] for name in ENDPOINT_FIELDS if name in form.cleaned_data}
        endpoint_update(endpoint=WebhookEndpoint.objects.get(pk=obj.pk), data=data)
        obj.refresh_from_db()


class WebhookAttemptInline(admin.TabularInline):
    model = WebhookAttempt
    fields = ("at", "status_code", "error", "duration_ms")
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(admin.ModelAdmin):
    list_display = (
        "id",
        "endpoint",
        "event_type",
        "seq",
        "status",
        "attempts",
        "last_status_code",
        "next_attempt_at",
        "created_at",
    )
    list_filter = ("status", "event_type")
    list_select_related = ("endpoint",)
    readonly_fields = (
        "endpoint",
        "event",
        "event_type",
        "seq",
        "status",
        "attempts",
        "created_at",
        "next_attempt_at",
        "last_attempt_at",
        "last_status_code",
        "last_error",
        "delivered_at",
    )
    inlines = (WebhookAttemptInline,)
    actions = ("redeliver",)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    @admin.action(description="Redeliver the selected events")
    def redeliver(self, request: HttpRequest, queryset: QuerySet[WebhookDelivery]) -> None:
        for delivery in queryset:
            delivery_redeliver(delivery=delivery)
        self.message_user(request, f"{queryset.count()} event(s) queued again.", messages.SUCCESS)


@admin.register(WebhookEvent)
class WebhookEventAdmin(admin.ModelAdmin):
    list_display = ("id", "type", "created_at")
    list_filter = ("type",)
    readonly_fields = ("id", "type", "created_at", "body")

    def get_queryset(self, request: HttpRequest) -> QuerySet[WebhookEvent]:
        # The list never shows the body: a prices.batch one is up to 5,000 goods' prices.
        return super().get_queryset(request).defer("body")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
