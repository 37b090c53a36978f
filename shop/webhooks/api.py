"""/api/webhooks/: staff register endpoints and read their delivery log (SPEC §12)."""

from typing import Any

from django.db.models import QuerySet
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.permissions import IsAdminUser
from rest_framework.request import Request
from rest_framework.response import Response

from shop.core.errors import ErrorSerializer, NotFound
from shop.core.permissions import StaffWriteOrReadOnly
from shop.webhooks import selectors
from shop.webhooks.models import EVENT_CHOICES, WebhookAttempt, WebhookDelivery, WebhookEndpoint
from shop.webhooks.services import endpoints as services

DELIVERY_NOT_FOUND = "No such delivery for this endpoint."


class WebhookEndpointSerializer(serializers.ModelSerializer[WebhookEndpoint]):
    url = serializers.URLField(max_length=2000)
    events = serializers.ListField(child=serializers.ChoiceField(choices=EVENT_CHOICES), min_length=1)

    disabled_reason = serializers.CharField(
        read_only=True,
        help_text="Why the shop switched the endpoint off (every attempt failed for "
        "WEBHOOK_DISABLE_AFTER_SECONDS); empty otherwise. Switching it on clears it.",
    )

    class Meta:
        model = WebhookEndpoint
        fields = (
            "id", "url", "events", "is_active", "description", "created_at",
            "failing_since", "retry_at", "disabled_at", "disabled_reason",
        )  # fmt: skip
        read_only_fields = ("id", "created_at", "failing_since", "retry_at", "disabled_at", "disabled_reason")


class WebhookEndpointCreatedSerializer(WebhookEndpointSerializer):
    secret = serializers.CharField(
        read_only=True,
        help_text="The signing secret. Shown in this answer only: store it now.",
    )

    class Meta(WebhookEndpointSerializer.Meta):
        fields = (*WebhookEndpointSerializer.Meta.fields, "secret")


class WebhookAttemptSerializer(serializers.ModelSerializer[WebhookAttempt]):
    class Meta:
        model = WebhookAttempt
        fields = ("at", "status_code", "error", "duration_ms")
        read_only_fields = fields


class WebhookDeliverySerializer(serializers.ModelSerializer[WebhookDelivery]):
    event_id = serializers.UUIDField(read_only=True)
    attempt_log = WebhookAttemptSerializer(many=True, read_only=True)

    class Meta:
        model = WebhookDelivery
        fields = (
            "id", "event_id", "event_type", "status", "attempts", "created_at", "next_attempt_at",
            "last_attempt_at", "last_status_code", "last_error", "delivered_at", "attempt_log",
        )  # fmt: skip
        read_only_fields = fields


@extend_schema_view(
    create=extend_schema(
        request=WebhookEndpointSerializer,
        responses={201: WebhookEndpointCreatedSerializer},
        description=(
            "Register an endpoint. The URL must be https and resolve to public addresses "
            "(unless the shop allows otherwise). The answer carries the signing `secret`, "
            "the only time it is shown."
        ),
    ),
)
class WebhookEndpointViewSet(viewsets.ModelViewSet[WebhookEndpoint]):
    """Webhook endpoints (staff only). Every delivery is a POST of `{id, type, created_at, data}`
    signed in `Tickshop-Signature: t=<unix>,v1=<hex HMAC-SHA256 of "<t>.<body>">`."""

    serializer_class = WebhookEndpointSerializer
    # Staff only, reads included; writes as the admin's model permissions allow (redelivering
    # counts as changing the endpoint).
    permission_classes = (IsAdminUser, StaffWriteOrReadOnly)
    write_permissions = {"redeliver": ("webhooks.change_webhookendpoint",)}
    filter_backends = ()

    def get_queryset(self) -> QuerySet[WebhookEndpoint]:
        return selectors.endpoint_list()

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        data = WebhookEndpointSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        endpoint = services.endpoint_create(**data.validated_data)
        return Response(WebhookEndpointCreatedSerializer(endpoint).data, status=status.HTTP_201_CREATED)

    def perform_update(self, serializer: WebhookEndpointSerializer) -> None:
        serializer.instance = services.endpoint_update(
            endpoint=serializer.instance, data=serializer.validated_data
        )

    def perform_destroy(self, instance: WebhookEndpoint) -> None:
        services.endpoint_delete(endpoint=instance)

    @extend_schema(responses={200: WebhookDeliverySerializer(many=True)})
    @action(detail=True, methods=["get"], serializer_class=WebhookDeliverySerializer)
    def deliveries(self, request: Request, pk: str) -> Response:
        """The endpoint's delivery log, newest first: attempts, status codes, next try."""
        endpoint = self.get_object()
        page = self.paginate_queryset(selectors.delivery_list(endpoint_id=endpoint.id))
        return self.get_paginated_response(WebhookDeliverySerializer(page, many=True).data)

    @extend_schema(
        request=None,
        responses={
            202: WebhookDeliverySerializer,
            404: OpenApiResponse(ErrorSerializer, description="No such endpoint or delivery."),
        },
    )
    @action(
        detail=True,
        methods=["post"],
        url_path=r"deliveries/(?P<delivery_id>[0-9]{1,18})/redeliver",
        serializer_class=WebhookDeliverySerializer,
    )
    def redeliver(self, request: Request, pk: str, delivery_id: str) -> Response:
        """Send that delivery's event again, as a new delivery."""
        endpoint = self.get_object()
        delivery = selectors.delivery_list(endpoint_id=endpoint.id).filter(id=int(delivery_id)).first()
        if delivery is None:
            raise NotFound(DELIVERY_NOT_FOUND)
        again = services.delivery_redeliver(delivery=delivery)
        return Response(WebhookDeliverySerializer(again).data, status=status.HTTP_202_ACCEPTED)
